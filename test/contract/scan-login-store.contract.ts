import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../shared/errors.js';
import {
  ScanLogins,
  scanLoginProblemOf,
  type ScanLoginRecord,
  type ScanLoginStore,
  type SignInRecency,
} from '../../shared/identity/scan-login.js';
import { TestClock } from '../support/in-memory-identity.js';
import { rejection, type Make } from './subject.js';

const now = 1_700_000_000;
/** When the confirming wallet signed in: an hour before the code was shown. */
const signedInAt = now - 3600;

function record(overrides: Partial<ScanLoginRecord> = {}): ScanLoginRecord {
  return {
    slotHash: randomBytes(32).toString('base64url'),
    codeHash: randomBytes(32).toString('base64url'),
    bindingHash: randomBytes(32).toString('base64url'),
    interactionUid: 'uid-1',
    clientId: 'demo',
    clientName: '示例平台',
    browser: { userAgent: 'Chrome 131 · Windows', address: '203.0.113.x' },
    shownAt: now,
    codeExpiresAt: now + 120,
    state: 'pending',
    ...overrides,
  };
}

/**
 * The {@link ScanLoginStore} contract: one record per sign-in (by the hash of its codes' slot), kept a
 * while past the code's expiry, replaced by another code of the sign-in unless used; each change of state
 * is conditional on the code, its state and expiry, so of two racing confirmations (or completions) one
 * wins; and the use cases over it (single use, binding, expiry, one record per sign-in).
 */
export function scanLoginStoreContract(name: string, make: Make<{ store: ScanLoginStore }>): void {
  describe(`ScanLoginStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: ScanLoginStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('finds a record by its slot, also after its code expired, and nothing for another slot', async () => {
      const created = record();
      await store.place(created, now);
      expect(await store.find(created.slotHash, now)).toEqual(created);
      expect(await store.find(created.slotHash, now + 600)).toEqual(created);
      expect(await store.find(randomBytes(32).toString('base64url'), now)).toBeUndefined();
    });

    it('keeps one record per slot: another code replaces it, the same code or a used one does not', async () => {
      const first = record();
      await store.place(first, now);
      expect(await rejection(store.place({ ...first, interactionUid: 'uid-2' }, now))).toBeInstanceOf(
        ConflictError,
      );
      expect((await store.find(first.slotHash, now))?.interactionUid).toBe('uid-1');
      // A newer code of the same sign-in takes the slot; the earlier one no longer moves.
      const second = record({ slotHash: first.slotHash, shownAt: now + 10, codeExpiresAt: now + 130 });
      await store.place(second, now + 10);
      expect(await store.find(first.slotHash, now + 10)).toEqual(second);
      expect(
        await store.advance(first.slotHash, first.codeHash, 'pending', 'confirmed', now + 11, 'person-1'),
      ).toBeUndefined();
      // Confirmed, it can still be replaced (only its own browser could complete it, and it lost it).
      await store.advance(second.slotHash, second.codeHash, 'pending', 'confirmed', now + 12, 'person-1');
      const third = record({ slotHash: first.slotHash, shownAt: now + 20, codeExpiresAt: now + 140 });
      await store.place(third, now + 20);
      // Used, it stays: a used code is reported used, not replaced.
      await store.advance(third.slotHash, third.codeHash, 'pending', 'confirmed', now + 21, 'person-1');
      await store.advance(third.slotHash, third.codeHash, 'confirmed', 'completed', now + 22);
      const fourth = record({ slotHash: first.slotHash, shownAt: now + 30, codeExpiresAt: now + 150 });
      expect(await rejection(store.place(fourth, now + 30))).toBeInstanceOf(ConflictError);
      expect((await store.find(first.slotHash, now + 30))?.state).toBe('completed');
    });

    it('advances once from the expected state, recording the person, and never after expiry', async () => {
      const created = record();
      const { slotHash, codeHash } = created;
      await store.place(created, now);
      const confirmed = await store.advance(
        slotHash,
        codeHash,
        'pending',
        'confirmed',
        now + 5,
        'person-1',
        signedInAt,
      );
      expect(confirmed).toMatchObject({ state: 'confirmed', personId: 'person-1', authTime: signedInAt });
      expect(
        await store.advance(slotHash, codeHash, 'pending', 'confirmed', now + 6, 'person-2'),
      ).toBeUndefined();
      expect((await store.find(slotHash, now + 6))?.personId).toBe('person-1');
      expect(await store.advance(slotHash, codeHash, 'confirmed', 'completed', now + 120)).toBeUndefined();
      expect(await store.advance(slotHash, codeHash, 'confirmed', 'completed', now + 119)).toMatchObject({
        state: 'completed',
        personId: 'person-1',
        authTime: signedInAt,
      });
      expect(await store.advance(slotHash, codeHash, 'confirmed', 'completed', now + 119)).toBeUndefined();
      expect(
        await store.advance(randomBytes(32).toString('base64url'), codeHash, 'pending', 'confirmed', now),
      ).toBeUndefined();
    });

    it('lets exactly one of two racing confirmations win', async () => {
      const created = record();
      await store.place(created, now);
      const outcomes = await Promise.all([
        store.advance(created.slotHash, created.codeHash, 'pending', 'confirmed', now, 'person-a'),
        store.advance(created.slotHash, created.codeHash, 'pending', 'confirmed', now, 'person-b'),
      ]);
      expect(outcomes.filter(Boolean)).toHaveLength(1);
    });

    describe('the use cases over it', () => {
      const problem = async (promise: Promise<unknown>) => scanLoginProblemOf(await rejection(promise));
      const begin = (scan: ScanLogins, interactionUid = 'uid-1') =>
        scan.begin({
          interactionUid,
          clientId: 'demo',
          clientName: '示例平台',
          browser: { userAgent: 'Firefox 128 · Linux' },
        });

      it('stores neither the code nor the binding, only their hashes', async () => {
        const scan = new ScanLogins(store, new TestClock(now * 1000));
        const shown = await begin(scan);
        const kept = await scan.pending(shown.code);
        expect(JSON.stringify(kept)).not.toContain(shown.code);
        expect(JSON.stringify(kept)).not.toContain(shown.binding);
        expect(shown.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
      });

      it('completes once, for the browser that showed the code and its sign-in only', async () => {
        const scan = new ScanLogins(store, new TestClock(now * 1000));
        const shown = await begin(scan);
        const own = { code: shown.code, binding: shown.binding, interactionUid: 'uid-1' };
        expect(await scan.redeem(own)).toMatchObject({ state: 'pending' });
        await scan.confirm(shown.code, 'person-1', signedInAt);
        // Looking does not use it up.
        expect(await scan.peek(own)).toMatchObject({ state: 'confirmed' });
        expect(await problem(scan.peek({ ...own, interactionUid: 'uid-2' }))).toBe('other_browser');
        // Another person's wallet, second, is told another wallet took it; the same one, that it was used.
        expect(await problem(scan.confirm(shown.code, 'person-2', signedInAt))).toBe('taken');
        expect(await problem(scan.pending(shown.code, 'person-2'))).toBe('taken');
        expect(await problem(scan.confirm(shown.code, 'person-1', signedInAt))).toBe('used');
        const stranger = { ...own, binding: randomBytes(32).toString('base64url') };
        expect(await problem(scan.redeem(stranger))).toBe('other_browser');
        expect(await problem(scan.redeem({ ...own, interactionUid: 'uid-2' }))).toBe('other_browser');
        // The sign-in it completes is the confirming wallet's, made at its own time (review R39 M1).
        expect(await scan.redeem(own)).toEqual({
          state: 'confirmed',
          personId: 'person-1',
          authTime: signedInAt,
        });
        expect(await problem(scan.redeem(own))).toBe('used');
        expect(await problem(scan.pending(shown.code))).toBe('used');
      });

      it('the sign-in it completes names the account version the confirmation read (review R47 F2)', async () => {
        const scan = new ScanLogins(store, new TestClock(now * 1000));
        const shown = await begin(scan, 'uid-7');
        const own = { code: shown.code, binding: shown.binding, interactionUid: 'uid-7' };
        await scan.confirm(shown.code, 'person-1', signedInAt, 12);
        expect(await scan.redeem(own)).toEqual({
          state: 'confirmed',
          personId: 'person-1',
          authTime: signedInAt,
          accountVersion: 12,
        });
      });

      it('expires after its lifetime: neither confirmed nor completed', async () => {
        const clock = new TestClock(now * 1000);
        const scan = new ScanLogins(store, clock, 120);
        const shown = await begin(scan);
        const confirmedLate = await begin(scan, 'uid-2');
        await scan.confirm(confirmedLate.code, 'person-1', signedInAt);
        clock.advanceSeconds(120);
        expect(await problem(scan.confirm(shown.code, 'person-1', signedInAt))).toBe('expired');
        expect(
          await problem(
            scan.redeem({
              code: confirmedLate.code,
              binding: confirmedLate.binding,
              interactionUid: 'uid-2',
            }),
          ),
        ).toBe('expired');
      });

      it('keeps one record per sign-in: a newer code of it replaces the earlier, which is then over', async () => {
        const scan = new ScanLogins(store, new TestClock(now * 1000));
        const first = await begin(scan);
        const second = await begin(scan);
        expect(second.code).not.toBe(first.code);
        // Both name the sign-in in their first 128 bits; the rest is random.
        expect(Buffer.from(second.code, 'base64url').subarray(0, 16)).toEqual(
          Buffer.from(first.code, 'base64url').subarray(0, 16),
        );
        expect(await problem(scan.pending(first.code))).toBe('unknown');
        expect(await problem(scan.confirm(first.code, 'person-1', signedInAt))).toBe('unknown');
        expect(await problem(scan.redeem({ ...first, interactionUid: 'uid-1' }))).toBe('unknown');
        await scan.confirm(second.code, 'person-1', signedInAt);
        expect(await scan.redeem({ ...second, interactionUid: 'uid-1' })).toEqual({
          state: 'confirmed',
          personId: 'person-1',
          authTime: signedInAt,
        });
        // Another sign-in's code is refused for this one.
        const other = scan.fresh('uid-2');
        const stored = scan.store({
          ...other,
          interactionUid: 'uid-1',
          clientId: 'demo',
          clientName: '示例平台',
          browser: { userAgent: 'Firefox 128 · Linux' },
        });
        expect(await problem(stored)).toBe('other_browser');
      });

      it('refuses a wallet sign-in older than the platform asked for (max_age, prompt=login); the code still waits', async () => {
        const clock = new TestClock(now * 1000);
        const scan = new ScanLogins(store, clock);
        const stored = async (uid: string, recency: SignInRecency) => {
          const { code, binding } = scan.fresh(uid);
          await scan.store({
            code,
            binding,
            interactionUid: uid,
            clientId: 'demo',
            clientName: '示例平台',
            browser: { userAgent: 'Firefox 128 · Linux' },
            recency,
          });
          return code;
        };
        const withMaxAge = await stored('uid-1', { maxAge: 600 });
        expect((await scan.pending(withMaxAge)).recency).toEqual({ maxAge: 600 });
        expect(await problem(scan.confirm(withMaxAge, 'person-1', now - 601))).toBe('stale');
        expect(await scan.pending(withMaxAge)).toMatchObject({ state: 'pending' });
        await scan.confirm(withMaxAge, 'person-1', now - 600);

        const withPrompt = await stored('uid-2', { loginPrompted: true });
        expect(await problem(scan.confirm(withPrompt, 'person-1', now - 1))).toBe('stale');
        await scan.confirm(withPrompt, 'person-1', now);

        // prompt=login counts from when the sign-in request began, not from when this code was shown: a
        // wallet signed in again after the request, before a later code of it (review R41 L2). The same
        // second counts as after; a second before does not.
        const requestedAt = now - 300;
        const later = await stored('uid-3', { loginPrompted: true, requestedAt });
        expect((await scan.pending(later)).recency).toEqual({ loginPrompted: true, requestedAt });
        expect(await problem(scan.confirm(later, 'person-1', requestedAt - 1))).toBe('stale');
        await scan.confirm(later, 'person-1', requestedAt);
        const between = await stored('uid-4', { loginPrompted: true, requestedAt });
        await scan.confirm(between, 'person-1', now - 60);
      });

      it('is dead once disowned by the showing browser ("not me"): it completes nothing', async () => {
        const scan = new ScanLogins(store, new TestClock(now * 1000));
        const shown = await begin(scan);
        const own = { code: shown.code, binding: shown.binding, interactionUid: 'uid-1' };
        await scan.confirm(shown.code, 'person-2', signedInAt);
        expect(await scan.peek(own)).toMatchObject({ state: 'confirmed', personId: 'person-2' });
        await scan.disown(own);
        expect(await problem(scan.redeem(own))).toBe('cancelled');
        // The sign-in can show a new code in its place.
        const next = await begin(scan);
        expect(await scan.pending(next.code)).toMatchObject({ state: 'pending' });
      });

      it('is dead once refused in the wallet, and unknown codes are unknown', async () => {
        const scan = new ScanLogins(store, new TestClock(now * 1000));
        const shown = await begin(scan);
        await scan.cancel(shown.code);
        expect(await problem(scan.confirm(shown.code, 'person-1', signedInAt))).toBe('cancelled');
        expect(await problem(scan.redeem({ ...shown, interactionUid: 'uid-1' }))).toBe('cancelled');
        expect(await problem(scan.pending(randomBytes(32).toString('base64url')))).toBe('unknown');
        expect(await problem(scan.pending('short'))).toBe('unknown');
      });
    });
  });
}
