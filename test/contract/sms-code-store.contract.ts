import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SmsCodeStore } from '../../shared/identity/sms-code-store.js';
import type { Make } from './subject.js';

const now = 1_772_352_000;

/**
 * The {@link SmsCodeStore} contract: a new code replaces the old one and its tries (each stored code has
 * tries of its own, whatever its request time); tries are counted
 * atomically up to the maximum, never on an expired code; a code is consumed once, only as counted (its
 * hash and request time); a code requested earlier never replaces one requested later, stored or used.
 */
export function smsCodeStoreContract(name: string, make: Make<{ store: SmsCodeStore }>): void {
  describe(`SmsCodeStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: SmsCodeStore;
    let key: string;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
      key = randomUUID();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    /** Counts the 5 tries of the live code `codeMac`, each returned as counted, then none. */
    async function spendsTries(codeMac: string, expiresAt: number, requestedAt: number) {
      for (let tries = 1; tries <= 5; tries++) {
        expect(await store.countTry(key, 5, now)).toEqual({ codeMac, tries, expiresAt, requestedAt });
      }
      expect(await store.countTry(key, 5, now)).toBeUndefined();
    }

    it('counts tries up to the maximum, then the code is dead', async () => {
      expect(await store.countTry(key, 5, now)).toBeUndefined();
      await store.put(key, { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now });
      await spendsTries('mac-1', now + 300, now);
    });

    it('gives concurrent tries no more than the maximum between them', async () => {
      await store.put(key, { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now });
      const tries = await Promise.all(Array.from({ length: 12 }, () => store.countTry(key, 5, now)));
      expect(tries.filter(Boolean)).toHaveLength(5);
    });

    it('replaces an earlier code and starts its tries over', async () => {
      await store.put(key, { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now });
      await store.countTry(key, 5, now);
      await store.put(key, { codeMac: 'mac-2', expiresAt: now + 400, requestedAt: now + 60 });
      expect(await store.countTry(key, 5, now)).toEqual({
        codeMac: 'mac-2',
        tries: 1,
        expiresAt: now + 400,
        requestedAt: now + 60,
      });
      expect(
        await store.consume(key, { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now }, now),
      ).toBe(false);
    });

    it('gives a newer code tries of its own once an older one’s are spent, even a code of the same second', async () => {
      await store.put(key, { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now });
      for (let i = 0; i < 5; i++) await store.countTry(key, 5, now);
      expect(await store.countTry(key, 5, now)).toBeUndefined();
      await store.put(key, { codeMac: 'mac-2', expiresAt: now + 360, requestedAt: now + 60 });
      await spendsTries('mac-2', now + 360, now + 60);
      // A job run again after a lapsed claim stores a new code under the same request time.
      await store.put(key, { codeMac: 'mac-3', expiresAt: now + 360, requestedAt: now + 60 });
      const third = await store.countTry(key, 5, now);
      expect(third).toEqual({ codeMac: 'mac-3', tries: 1, expiresAt: now + 360, requestedAt: now + 60 });
      expect(await store.consume(key, third!, now)).toBe(true);
    });

    it('never replaces the code of a later request with an earlier one, also under concurrency', async () => {
      expect(await store.put(key, { codeMac: 'later', expiresAt: now + 360, requestedAt: now + 60 })).toBe(
        true,
      );
      expect(await store.put(key, { codeMac: 'earlier', expiresAt: now + 400, requestedAt: now })).toBe(
        false,
      );
      expect(await store.countTry(key, 5, now)).toMatchObject({ codeMac: 'later', tries: 1 });
      const other = randomUUID();
      const puts = await Promise.all(
        [now + 60, now].map((at) =>
          store.put(other, { codeMac: `at-${at}`, expiresAt: now + 400, requestedAt: at }),
        ),
      );
      expect(puts[0]).toBe(true);
      expect(await store.countTry(other, 5, now)).toMatchObject({ codeMac: `at-${now + 60}` });
    });

    it('treats a code past its expiry as absent', async () => {
      await store.put(key, { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now });
      expect(await store.countTry(key, 5, now + 300)).toBeUndefined();
      const code = { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now };
      expect(await store.consume(key, code, now + 300)).toBe(false);
    });

    it('consumes a code once, only as counted (its hash and request time), also under concurrency', async () => {
      const code = { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now };
      await store.put(key, code);
      expect(await store.consume(key, { ...code, codeMac: 'other' }, now)).toBe(false);
      expect(await store.consume(key, { ...code, requestedAt: now - 60 }, now)).toBe(false);
      const outcomes = await Promise.all([1, 2, 3, 4].map(() => store.consume(key, code, now)));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await store.countTry(key, 5, now)).toBeUndefined();
    });

    it('never stores, once a code is used, a code requested before it (a job run late)', async () => {
      // Review R17 L1: using a code deleted it and its request time with it, so a job of an earlier
      // request, delivered late, stored a working code after the proof was done.
      const used = { codeMac: 'used', expiresAt: now + 400, requestedAt: now + 100 };
      expect(await store.put(key, used)).toBe(true);
      expect(await store.consume(key, used, now)).toBe(true);
      expect(await store.put(key, { codeMac: 'late', expiresAt: now + 460, requestedAt: now + 50 })).toBe(
        false,
      );
      expect(await store.countTry(key, 5, now)).toBeUndefined();
      // A later request's code is stored and works as ever.
      const later = { codeMac: 'later', expiresAt: now + 460, requestedAt: now + 160 };
      expect(await store.put(key, later)).toBe(true);
      expect(await store.countTry(key, 5, now)).toMatchObject({ codeMac: 'later', tries: 1 });
      expect(await store.consume(key, later, now)).toBe(true);
      expect(await store.put(key, { ...used, codeMac: 'late-again' })).toBe(false);
    });

    it('never stores again, once a code is used, a code of the same request (review R19 L3)', async () => {
      const code = { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now };
      expect(await store.put(key, code)).toBe(true);
      expect(await store.consume(key, code, now)).toBe(true);
      expect(await store.put(key, { ...code, codeMac: 'again' })).toBe(false);
      expect(await store.countTry(key, 5, now)).toBeUndefined();
    });

    it('ignores a used code’s request time that no real use leaves (review R19 L1)', async () => {
      // Requested after its own expiry: a used code never is; the next request's code is stored.
      const future = { codeMac: 'future', expiresAt: now + 300, requestedAt: 9_000_000_000 };
      expect(await store.put(key, future)).toBe(true);
      expect(await store.consume(key, future, now)).toBe(true);
      const next = { codeMac: 'next', expiresAt: now + 310, requestedAt: now + 10 };
      expect(await store.put(key, next)).toBe(true);
      expect(await store.consume(key, next, now)).toBe(true);
      // Expiring long after any code stored since could: ignored too.
      const lasting = { codeMac: 'lasting', expiresAt: now + 100_000, requestedAt: now + 20 };
      expect(await store.put(key, lasting)).toBe(true);
      expect(await store.consume(key, lasting, now)).toBe(true);
      expect(await store.put(key, { codeMac: 'mine', expiresAt: now + 320, requestedAt: now + 20 })).toBe(
        true,
      );
      expect(await store.countTry(key, 5, now)).toMatchObject({ codeMac: 'mine' });
    });

    // Review R18 H1: a check with no code does the work of one with a code (on a placeholder counter),
    // and tells nothing more: it returns nothing, and a code stored later has all its tries.
    it('counts a try with no code to count on apart (`whenNone`), touching no code', async () => {
      const whenNone = { expiresAt: now + 300 };
      const code = { codeMac: 'mac-1', expiresAt: now + 300, requestedAt: now };
      for (let i = 0; i < 7; i++) expect(await store.countTry(key, 5, now, whenNone)).toBeUndefined();
      await store.put(key, code);
      await spendsTries('mac-1', now + 300, now);
      expect(await store.countTry(key, 5, now, whenNone)).toBeUndefined();
      expect(await store.countTry(key, 5, now + 300, whenNone)).toBeUndefined();
      expect(await store.consume(key, code, now)).toBe(true);
    });
  });
}
