import { beforeEach, describe, expect, it } from 'vitest';
import {
  accountThrottle,
  delayAfter,
  LoginThrottle,
  sourceKey,
  sourceThrottle,
  type ThrottleKey,
} from '../../../shared/identity/login-throttle.js';
import { InMemoryLoginAttemptStore, TestClock } from './fakes.js';

const account: ThrottleKey = { kind: 'account', key: 'lookup-key-1' };
const source: ThrottleKey = { kind: 'source', key: '203.0.113.7' };

describe('throttle policy', () => {
  it('lets five failures pass, then doubles the wait from one second, up to its cap', () => {
    expect([0, 1, 4].map((n) => delayAfter(n, accountThrottle))).toEqual([0, 0, 0]);
    expect([5, 6, 7, 8, 14].map((n) => delayAfter(n, accountThrottle))).toEqual([1, 2, 4, 8, 512]);
    expect(delayAfter(15, accountThrottle)).toBe(900);
    expect(delayAfter(500, accountThrottle)).toBe(900);
  });

  it('is looser per source address, which many people may share', () => {
    expect(delayAfter(49, sourceThrottle)).toBe(0);
    expect(delayAfter(50, sourceThrottle)).toBe(1);
    expect(delayAfter(100, sourceThrottle)).toBe(300);
  });

  it('counts an IPv6 address by its /64 and an IPv4-mapped one as IPv4', () => {
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey(' 203.0.113.7 ')).toBe('203.0.113.7');
    expect(sourceKey('')).toBe('unknown');
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
  const fail = () => throttle.admit([account, source]);

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
    expect(await throttle.retryAfter(account)).toBe(900);
  });

  it('starts over after a success: the account counter is cleared', async () => {
    for (let i = 0; i < 5; i++) await fail();
    clock.advanceSeconds(1);
    const admission = await throttle.admit([account, source]);
    expect(admission.admitted).toBe(true);
    if (admission.admitted) await throttle.succeeded(admission.keys);
    expect(await throttle.retryAfter(account)).toBe(0);
    for (let i = 0; i < 5; i++) expect(await fail()).toMatchObject({ admitted: true });
    expect(await fail()).toMatchObject({ admitted: false });
  });

  it('only takes the successful attempt back from the source, whose other failures still count', async () => {
    for (let i = 0; i < 3; i++) await throttle.admit([source]);
    const admission = await throttle.admit([source]);
    if (admission.admitted) await throttle.succeeded(admission.keys);
    expect(store.counters.get('source#203.0.113.7')?.failures).toBe(3);
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

  it('throttles per account whatever the source, and per source whatever the account', async () => {
    for (let i = 0; i < 5; i++) await throttle.admit([account, { kind: 'source', key: `198.51.100.${i}` }]);
    expect(await throttle.admit([account, { kind: 'source', key: '198.51.100.99' }])).toMatchObject({
      admitted: false,
    });
    for (let i = 0; i < 50; i++) await throttle.admit([{ kind: 'account', key: `k${i}` }, source]);
    expect(await throttle.admit([{ kind: 'account', key: 'fresh' }, source])).toMatchObject({
      admitted: false,
      retryAfterSeconds: 1,
    });
  });

  it('serialises a burst of parallel guesses: at most the free five get through', async () => {
    const outcomes = await Promise.all(Array.from({ length: 40 }, () => throttle.admit([account])));
    expect(outcomes.filter((outcome) => outcome.admitted)).toHaveLength(5);
  });

  it('writes once per counter for a failed attempt', async () => {
    await fail();
    expect(store.writes).toBe(2);
  });
});
