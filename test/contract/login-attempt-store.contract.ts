import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoginAttemptStore } from '../../shared/identity/login-throttle.js';
import type { Make } from './subject.js';

const now = 1_772_352_000;

/**
 * The {@link LoginAttemptStore} contract: compare-and-set of a counter (absent and expired alike count
 * as absent), of several at once all or none, expiry on read, an atomic forgiveness that never goes
 * below zero (of several at once too, whatever the caller believed they hold), and clearing.
 */
export function loginAttemptStoreContract(name: string, make: Make<{ store: LoginAttemptStore }>): void {
  describe(`LoginAttemptStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: LoginAttemptStore;
    let key: string;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
      key = `pair#${randomUUID()}`;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('writes a first counter only where none is, then only over the counter expected', async () => {
      expect(await store.read(key, now)).toBeUndefined();
      const one = { failures: 1, lastFailureAt: now };
      expect(await store.replace(key, undefined, one, now + 600, now)).toBe(true);
      expect(await store.replace(key, undefined, one, now + 600, now)).toBe(false);
      expect(await store.read(key, now)).toEqual(one);

      const two = { failures: 2, lastFailureAt: now + 1 };
      expect(await store.replace(key, { failures: 2, lastFailureAt: now }, two, now + 600, now)).toBe(false);
      expect(await store.replace(key, { failures: 1, lastFailureAt: now - 1 }, two, now + 600, now)).toBe(
        false,
      );
      expect(await store.replace(key, one, two, now + 600, now + 1)).toBe(true);
      expect(await store.read(key, now + 1)).toEqual(two);
    });

    it('adds failures atomically: twenty at once count twenty, and an expired counter starts over', async () => {
      await Promise.all(Array.from({ length: 20 }, () => store.countFailure(key, now, now + 600)));
      expect(await store.read(key, now)).toEqual({ failures: 20, lastFailureAt: now });
      await store.countFailure(key, now + 1, now + 601);
      expect(await store.read(key, now + 1)).toEqual({ failures: 21, lastFailureAt: now + 1 });
      await store.countFailure(key, now + 601, now + 1200);
      expect(await store.read(key, now + 601)).toEqual({ failures: 1, lastFailureAt: now + 601 });
    });

    it('adds any amount in one write, zero included: an absent counter starts at the amount', async () => {
      await store.addFailures(key, 0, now, now + 600);
      expect(await store.read(key, now)).toEqual({ failures: 0, lastFailureAt: now });
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.addFailures(key, i % 2, now + 1, now + 900)),
      );
      // Its start and expiry are those of its creation.
      expect(await store.read(key, now + 1)).toEqual({ failures: 5, lastFailureAt: now });
      expect(await store.read(key, now + 600)).toBeUndefined();
    });

    it('lets exactly one of concurrent writers of the same expected counter win', async () => {
      const outcomes = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          store.replace(key, undefined, { failures: 1, lastFailureAt: now + i }, now + 600, now),
        ),
      );
      expect(outcomes.filter(Boolean)).toHaveLength(1);
    });

    it('treats a counter past its expiry as absent, for reads and for writes', async () => {
      await store.replace(key, undefined, { failures: 3, lastFailureAt: now }, now + 60, now);
      expect(await store.read(key, now + 59)).toEqual({ failures: 3, lastFailureAt: now });
      expect(await store.read(key, now + 60)).toBeUndefined();
      const stale = { failures: 3, lastFailureAt: now };
      expect(
        await store.replace(key, stale, { failures: 4, lastFailureAt: now + 60 }, now + 600, now + 60),
      ).toBe(false);
      const fresh = { failures: 1, lastFailureAt: now + 60 };
      expect(await store.replace(key, undefined, fresh, now + 600, now + 60)).toBe(true);
      expect(await store.read(key, now + 60)).toEqual(fresh);
    });

    it('forgives one failure of a live counter, removes one left with none, and not of an expired one', async () => {
      await store.replace(key, undefined, { failures: 3, lastFailureAt: now }, now + 60, now);
      await store.forgiveOne(key, now);
      expect(await store.read(key, now)).toEqual({ failures: 2, lastFailureAt: now });
      await store.forgiveOne(key, now);
      await store.forgiveOne(key, now);
      // Left with no failure, the counter is gone: the next attempt claims it as new.
      expect(await store.read(key, now)).toBeUndefined();
      expect(await store.replace(key, undefined, { failures: 1, lastFailureAt: now }, now + 60, now)).toBe(
        true,
      );
      await store.forgiveOne(key, now);
      await store.forgiveOne(key, now);
      expect(await store.read(key, now)).toBeUndefined();
      await store.forgiveOne(`pair#${randomUUID()}`, now);

      const other = `pair#${randomUUID()}`;
      await store.replace(other, undefined, { failures: 2, lastFailureAt: now }, now + 60, now);
      await store.forgiveOne(other, now + 60);
      expect(await store.read(other, now + 59)).toEqual({ failures: 2, lastFailureAt: now });
    });

    it('claims several counters all or none, and says what each refusing one holds', async () => {
      const [a, b, c] = [key, `account#${randomUUID()}`, `source#${randomUUID()}`];
      const one = { failures: 1, lastFailureAt: now };
      const fresh = (k: string) => ({ key: k, expected: undefined, next: one, expiresAt: now + 600 });
      expect(await store.claimAll([fresh(a), fresh(b), fresh(c)], now)).toEqual({ claimed: true });
      for (const k of [a, b, c]) expect(await store.read(k, now)).toEqual(one);

      const two = { failures: 2, lastFailureAt: now + 1 };
      // b is claimed right; a and c are not as expected: nothing is written, b included.
      const refused = await store.claimAll(
        [
          fresh(a),
          { key: b, expected: one, next: two, expiresAt: now + 600 },
          { key: c, expected: two, next: two, expiresAt: now + 600 },
        ],
        now + 1,
      );
      expect(refused).toEqual({
        claimed: false,
        current: new Map([
          [0, one],
          [2, one],
        ]),
      });
      for (const k of [a, b, c]) expect(await store.read(k, now + 1)).toEqual(one);

      const claims = [a, b, c].map((k) => ({ key: k, expected: one, next: two, expiresAt: now + 600 }));
      expect(await store.claimAll(claims, now + 1)).toEqual({ claimed: true });
      for (const k of [a, b, c]) expect(await store.read(k, now + 1)).toEqual(two);
    });

    it('claims an expired counter as absent, and reports one expected but expired as absent', async () => {
      const other = `account#${randomUUID()}`;
      await store.replace(key, undefined, { failures: 3, lastFailureAt: now }, now + 60, now);
      await store.replace(other, undefined, { failures: 3, lastFailureAt: now }, now + 60, now);
      const next = { failures: 1, lastFailureAt: now + 60 };
      const stale = { failures: 3, lastFailureAt: now };
      expect(
        await store.claimAll(
          [
            { key, expected: undefined, next, expiresAt: now + 600 },
            { key: other, expected: stale, next, expiresAt: now + 600 },
          ],
          now + 60,
        ),
      ).toEqual({ claimed: false, current: new Map([[1, undefined]]) });
      expect(
        await store.claimAll(
          [
            { key, expected: undefined, next, expiresAt: now + 600 },
            { key: other, expected: undefined, next, expiresAt: now + 600 },
          ],
          now + 60,
        ),
      ).toEqual({ claimed: true });
      expect(await store.read(other, now + 60)).toEqual(next);
    });

    it('lets exactly one of concurrent claims of the same counters win, and none half-way', async () => {
      const other = `source#${randomUUID()}`;
      const outcomes = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((i) =>
          store.claimAll(
            // Alternate orders: a transaction must not wait on another in a cycle.
            (i % 2 ? [key, other] : [other, key]).map((k) => ({
              key: k,
              expected: undefined,
              next: { failures: 1, lastFailureAt: now + i },
              expiresAt: now + 600,
            })),
            now,
          ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.claimed)).toHaveLength(1);
      expect(await store.read(key, now)).toEqual(await store.read(other, now));
    });

    it('forgives several counters at once whatever the hints say, and clears those to clear', async () => {
      const [one, three, cleared, absent, expired] = [1, 2, 3, 4, 5].map((i) => `${i}#${randomUUID()}`);
      await store.replace(one!, undefined, { failures: 1, lastFailureAt: now }, now + 60, now);
      await store.replace(three!, undefined, { failures: 3, lastFailureAt: now }, now + 60, now);
      await store.replace(cleared!, undefined, { failures: 5, lastFailureAt: now }, now + 60, now);
      await store.replace(expired!, undefined, { failures: 3, lastFailureAt: now }, now + 10, now);
      await store.forgiveAll(
        [
          { key: one!, clear: false, failures: 2 },
          { key: three!, clear: false, failures: 1 },
          { key: cleared!, clear: true },
          { key: absent!, clear: false },
          { key: expired!, clear: false, failures: 3 },
        ],
        now + 10,
      );
      expect(await store.read(one!, now)).toBeUndefined();
      expect(await store.read(three!, now)).toEqual({ failures: 2, lastFailureAt: now });
      expect(await store.read(cleared!, now)).toBeUndefined();
      expect(await store.read(absent!, now)).toBeUndefined();
      // Expired, it is not forgiven (as forgiveOne): read before its expiry, it still holds three.
      expect(await store.read(expired!, now)).toEqual({ failures: 3, lastFailureAt: now });
      // Right hints: one round; the counter of one failure goes.
      await store.forgiveAll([{ key: three!, clear: false, failures: 2 }], now);
      await store.forgiveAll([{ key: three!, clear: false, failures: 1 }], now);
      expect(await store.read(three!, now)).toBeUndefined();
    });

    it('forgets a counter on clear', async () => {
      await store.replace(key, undefined, { failures: 5, lastFailureAt: now }, now + 600, now);
      await store.clear(key);
      expect(await store.read(key, now)).toBeUndefined();
      await store.clear(key);
      expect(await store.replace(key, undefined, { failures: 1, lastFailureAt: now }, now + 600, now)).toBe(
        true,
      );
    });
  });
}
