import { beforeEach, describe, expect, it } from 'vitest';
import {
  accountThrottle,
  delayAfter,
  liveFailures,
  LoginThrottle,
  loginThrottleKeys,
  pairThrottle,
  sourceDigest,
  sourceKey,
  sourceThrottle,
  type ThrottleKey,
} from '../../../shared/identity/login-throttle.js';
import type { Mac } from '../../../shared/crypto/mac.js';
import { createHmac } from 'node:crypto';
import { InMemoryLoginAttemptStore, TestClock } from '../../support/in-memory-identity.js';

const pair: ThrottleKey = { kind: 'pair', key: 'lookup-key-1.source-1' };
const account: ThrottleKey = { kind: 'account', key: 'lookup-key-1' };
const source: ThrottleKey = { kind: 'source', key: 'source-1' };

describe('throttle policy', () => {
  it('lets five failures of a pair pass, then doubles the wait from one second, up to its cap', () => {
    expect([0, 1, 4].map((n) => delayAfter(n, pairThrottle))).toEqual([0, 0, 0]);
    expect([5, 6, 7, 8, 14].map((n) => delayAfter(n, pairThrottle))).toEqual([1, 2, 4, 8, 512]);
    expect(delayAfter(15, pairThrottle)).toBe(900);
    expect(delayAfter(500, pairThrottle)).toBe(900);
  });

  it('is looser per source address, which many people may share, and never waits more than a minute', () => {
    expect(delayAfter(99, sourceThrottle)).toBe(0);
    expect(delayAfter(100, sourceThrottle)).toBe(1);
    expect(delayAfter(1000, sourceThrottle)).toBe(60);
  });

  it('has an account ceiling that drains faster than one address can fill it', () => {
    expect(delayAfter(49, accountThrottle)).toBe(0);
    expect(delayAfter(50, accountThrottle)).toBe(1);
    // Past its first burst a pair keeps up one failure per 15 minutes; the ceiling drains three.
    expect(3600 / pairThrottle.maxDelaySeconds).toBeLessThan(3600 / accountThrottle.leakSeconds!);
    expect(liveFailures({ failures: 10, lastFailureAt: 0 }, accountThrottle, 900)).toBe(7);
    expect(liveFailures({ failures: 10, lastFailureAt: 0 }, accountThrottle, 86_400)).toBe(0);
    expect(liveFailures({ failures: 10, lastFailureAt: 0 }, pairThrottle, 900)).toBe(10);
  });

  it('counts an IPv6 address by its /64 and an IPv4-mapped one as IPv4', () => {
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey(' 203.0.113.7 ')).toBe('203.0.113.7');
    expect(sourceKey('')).toBe('unknown');
  });

  it('keys an address by a keyed digest, never in clear, with one MAC per container', async () => {
    let macs = 0;
    const mac: Mac = {
      mac: async (data) => {
        macs += 1;
        return createHmac('sha256', 'test-key').update(data).digest();
      },
    };
    const a = await sourceDigest(mac, '203.0.113.7');
    expect(a).not.toContain('203');
    expect(await sourceDigest(mac, '::ffff:203.0.113.7')).toBe(a);
    expect(await sourceDigest(mac, '203.0.113.8')).not.toBe(a);
    const keys = await loginThrottleKeys(mac, 'lookup', '2001:db8:1:2::1');
    expect(keys).toEqual([
      { kind: 'pair', key: `lookup.${await sourceDigest(mac, '2001:db8:1:2::ffff')}` },
      { kind: 'account', key: 'lookup' },
      { kind: 'source', key: await sourceDigest(mac, '2001:db8:1:2::ffff') },
    ]);
    expect(JSON.stringify(keys)).not.toContain('2001');
    expect(macs).toBe(1);
  });
});

describe('login throttling with a fake clock', () => {
  let clock: TestClock;
  let store: InMemoryLoginAttemptStore;
  let throttle: LoginThrottle;

  beforeEach(() => {
    clock = new TestClock();
    store = new InMemoryLoginAttemptStore();
    throttle = new LoginThrottle(store, clock);
  });

  /** One failed attempt: admitted (counted), password wrong, nothing taken back. */
  const fail = () => throttle.admit([pair, account, source]);

  it('admits five failures in a row without delay, then asks to wait 1, 2, 4, 8 s', async () => {
    for (let i = 0; i < 5; i++) expect(await fail()).toMatchObject({ admitted: true });
    const waits: number[] = [];
    for (const wait of [1, 2, 4, 8]) {
      const refused = await fail();
      expect(refused).toEqual({ admitted: false, retryAfterSeconds: wait });
      waits.push(wait);
      clock.advanceSeconds(wait - 1);
      expect(await fail()).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
      clock.advanceSeconds(1);
      expect(await fail()).toMatchObject({ admitted: true });
    }
    expect(waits).toEqual([1, 2, 4, 8]);
  });

  it('does not count attempts refused while waiting, so an early retry does not lengthen the wait', async () => {
    for (let i = 0; i < 5; i++) await fail();
    clock.advanceSeconds(1);
    expect(await fail()).toMatchObject({ admitted: true });
    for (let i = 0; i < 10; i++)
      expect(await fail()).toMatchObject({ admitted: false, retryAfterSeconds: 2 });
    clock.advanceSeconds(2);
    expect(await fail()).toMatchObject({ admitted: true });
  });

  it('caps the wait at 15 minutes however long the attack', async () => {
    for (let i = 0; i < 30; i++) {
      await fail();
      clock.advanceSeconds(900);
    }
    await fail();
    expect(await throttle.retryAfter(pair)).toBe(900);
    expect(await throttle.retryAfter(account)).toBe(0);
  });

  it('starts over after a success: the pair’s counter is cleared, the shared ones only get it back', async () => {
    for (let i = 0; i < 5; i++) await fail();
    clock.advanceSeconds(1);
    const admission = await fail();
    expect(admission.admitted).toBe(true);
    if (admission.admitted) await throttle.succeeded(admission.keys);
    expect(await throttle.retryAfter(pair)).toBe(0);
    expect(store.counters.has('pair#lookup-key-1.source-1')).toBe(false);
    expect(store.counters.get('account#lookup-key-1')?.failures).toBeCloseTo(5, 1);
    expect(store.counters.get('source#source-1')?.failures).toBeCloseTo(5, 1);
    for (let i = 0; i < 5; i++) expect(await fail()).toMatchObject({ admitted: true });
    expect(await fail()).toMatchObject({ admitted: false });
  });

  it('forgets failures after an hour without any', async () => {
    for (let i = 0; i < 7; i++) {
      await fail();
      clock.advanceSeconds(10);
    }
    clock.advanceSeconds(3600);
    for (let i = 0; i < 5; i++) expect(await fail()).toMatchObject({ admitted: true });
    expect(await fail()).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
  });

  it('blocks a pair only: the same account from another address, and another account from it, go on', async () => {
    for (let i = 0; i < 5; i++) await fail();
    expect(await fail()).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
    const elsewhere = [
      { kind: 'pair', key: 'lookup-key-1.source-2' },
      account,
      { kind: 'source', key: 'source-2' },
    ] as const;
    expect(await throttle.admit(elsewhere)).toMatchObject({ admitted: true });
    const other = [
      { kind: 'pair', key: 'lookup-key-2.source-1' },
      { kind: 'account', key: 'lookup-key-2' },
      source,
    ] as const;
    expect(await throttle.admit(other)).toMatchObject({ admitted: true });
  });

  it('counts a refused attempt nowhere, so a blocked pair cannot fill the account’s ceiling', async () => {
    for (let i = 0; i < 5; i++) await fail();
    for (let i = 0; i < 100; i++) expect(await fail()).toMatchObject({ admitted: false });
    expect(store.counters.get('account#lookup-key-1')?.failures).toBe(5);
    expect(store.counters.get('source#source-1')?.failures).toBe(5);
  });

  it('never lets one address, guessing as fast as allowed for a week, lock the account for others', async () => {
    for (let elapsed = 0; elapsed < 7 * 86_400;) {
      const outcome = await fail();
      const wait = outcome.admitted ? 0 : outcome.retryAfterSeconds;
      clock.advanceSeconds(Math.max(wait, 1));
      elapsed += Math.max(wait, 1);
    }
    expect(await throttle.retryAfter(account)).toBe(0);
    expect(
      liveFailures(store.counters.get('account#lookup-key-1'), accountThrottle, clock.now() / 1000),
    ).toBeLessThan(accountThrottle.freeFailures / 2);
  });

  it('stops a guess spread over many addresses at the account’s ceiling', async () => {
    for (let i = 0; i < 50; i++) {
      const from = [
        { kind: 'pair', key: `lookup-key-1.s${i}` },
        account,
        { kind: 'source', key: `s${i}` },
      ] as const;
      expect(await throttle.admit(from)).toMatchObject({ admitted: true });
    }
    const fresh = [
      { kind: 'pair', key: 'lookup-key-1.new' },
      account,
      { kind: 'source', key: 'new' },
    ] as const;
    expect(await throttle.admit(fresh)).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
  });

  it('slows a spray from one address over many accounts, but only for a minute at most', async () => {
    for (let i = 0; i < 100; i++) {
      const keys = [
        { kind: 'pair', key: `k${i}.source-1` },
        { kind: 'account', key: `k${i}` },
        source,
      ] as const;
      expect(await throttle.admit(keys)).toMatchObject({ admitted: true });
    }
    const next = [
      { kind: 'pair', key: 'fresh.source-1' },
      { kind: 'account', key: 'fresh' },
      source,
    ] as const;
    expect(await throttle.admit(next)).toMatchObject({ admitted: false, retryAfterSeconds: 1 });
    let admitted = 0;
    for (let i = 0; i < 200; i++) {
      const spray = [
        { kind: 'pair', key: `more${i}.source-1` },
        { kind: 'account', key: `more${i}` },
        source,
      ] as const;
      const outcome = await throttle.admit(spray);
      if (outcome.admitted) {
        admitted += 1;
        clock.advanceSeconds(1);
      } else {
        expect(outcome.retryAfterSeconds).toBeLessThanOrEqual(60);
        clock.advanceSeconds(outcome.retryAfterSeconds);
      }
    }
    // Held at the rate the counter drains: about one guess a minute.
    const minutes = (clock.now() / 1000 - Date.parse('2026-03-01T08:00:00Z') / 1000) / 60;
    expect(admitted).toBeLessThanOrEqual(minutes + 10);
  });

  it('serialises a burst of parallel guesses: at most the free five get through', async () => {
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => throttle.admit([pair])));
    expect(outcomes.filter((outcome) => outcome.admitted)).toHaveLength(5);
  });

  it('claims an attempt that meets no counter with one write (a transaction) and no read', async () => {
    await fail();
    expect([store.reads, store.writes]).toEqual([0, 1]);
  });

  it('claims an attempt after a failure in two writes and no read: the refusal brings the counters', async () => {
    await fail();
    store.reads = 0;
    store.writes = 0;
    await fail();
    expect([store.reads, store.writes]).toEqual([0, 2]);
    expect(store.counters.get('pair#lookup-key-1.source-1')?.failures).toBe(2);
  });

  it('hands the success each counter as the attempt wrote it, and nothing it does not read', async () => {
    await fail();
    const admission = await fail();
    if (!admission.admitted) throw new Error('expected to be admitted');
    // Strict: a field left over (the counter as it was before, which nothing reads) fails this.
    expect(admission.counted).toStrictEqual(
      [pair, account, source].map((key) => ({
        key,
        after: { failures: 2, lastFailureAt: expect.any(Number) as number },
      })),
    );
  });

  it('costs a success that met no counter two writes in all, and leaves no counter behind', async () => {
    const admission = await fail();
    if (!admission.admitted) throw new Error('expected to be admitted');
    await throttle.succeeded(admission.keys, admission.counted);
    expect([store.reads, store.writes]).toEqual([0, 2]);
    expect(store.counters.size).toBe(0);
  });

  it('a blocked counter refuses the attempt, and the others are not counted, not even for a moment', async () => {
    for (let i = 0; i < 5; i++) await throttle.admit([pair]);
    const fresh: ThrottleKey = { kind: 'source', key: 'source-fresh' };
    const refused = await throttle.admit([pair, fresh]);
    expect(refused).toEqual({ admitted: false, retryAfterSeconds: 1 });
    expect(store.counters.has('source#source-fresh')).toBe(false);
  });

  it('gives up a claim contended past five rounds with a one-second wait, counting nothing', async () => {
    // Another attempt changes the pair's counter between every read and claim of this one.
    const claimAll = store.claimAll.bind(store);
    let bumps = 0;
    store.claimAll = async (claims, now) => {
      const id = 'pair#lookup-key-1.source-1';
      const counter = store.counters.get(id);
      store.counters.set(id, {
        failures: (counter?.failures ?? 0) + 0.001,
        lastFailureAt: now,
        expiresAt: now + 3600,
      });
      bumps += 1;
      return claimAll(claims, now);
    };
    expect(await fail()).toEqual({ admitted: false, retryAfterSeconds: 1 });
    expect(bumps).toBe(5);
    expect(store.counters.has('account#lookup-key-1')).toBe(false);
  });
});

describe('client authentication throttling (checked before, failures counted after)', () => {
  const client: ThrottleKey = { kind: 'client', key: 'cl_1.source-1' };
  let clock: TestClock;
  let store: InMemoryLoginAttemptStore;
  let throttle: LoginThrottle;
  beforeEach(() => {
    clock = new TestClock();
    store = new InMemoryLoginAttemptStore();
    throttle = new LoginThrottle(store, clock);
  });

  it('counts every one of a burst of parallel failures (none lost to contention)', async () => {
    await Promise.all(Array.from({ length: 30 }, () => throttle.failed(client)));
    expect(store.counters.get(`client#${client.key}`)?.failures).toBe(30);
  });

  it('costs a client that authenticates one read and no write', async () => {
    const check = await throttle.check(client);
    expect(check).toEqual({ retryAfterSeconds: 0, hadFailures: false });
    expect([store.reads, store.writes]).toEqual([1, 0]);
  });

  it('blocks after five failures counted after the fact, with the same waits as a pair', async () => {
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const check = await throttle.check(client);
      waits.push(check.retryAfterSeconds);
      if (check.retryAfterSeconds === 0) await throttle.failed(client);
      clock.advanceSeconds(check.retryAfterSeconds);
    }
    expect(waits).toEqual([0, 0, 0, 0, 0, 1, 0]);
    expect((await throttle.check(client)).retryAfterSeconds).toBe(2);
    // A success after failures starts the count over.
    clock.advanceSeconds(2);
    expect((await throttle.check(client)).hadFailures).toBe(true);
    await throttle.succeeded([client]);
    expect(await throttle.check(client)).toEqual({ retryAfterSeconds: 0, hadFailures: false });
  });
});
