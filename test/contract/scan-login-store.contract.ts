import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../shared/errors.js';
import {
  ScanLogins,
  scanLoginProblemOf,
  type ScanLoginRecord,
  type ScanLoginStore,
} from '../../shared/identity/scan-login.js';
import { TestClock } from '../support/in-memory-identity.js';
import { rejection, type Make } from './subject.js';

const now = 1_700_000_000;

function record(overrides: Partial<ScanLoginRecord> = {}): ScanLoginRecord {
  return {
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
 * The {@link ScanLoginStore} contract: records by the hash of their code, kept a while past the code's
 * expiry; each change of state is conditional on the state and on the code's expiry, so of two racing
 * confirmations (or completions) one wins; and the use cases over it (single use, binding, expiry).
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

    it('finds a record by its hash, also after its code expired, and nothing for another hash', async () => {
      const created = record();
      await store.create(created);
      expect(await store.find(created.codeHash, now)).toEqual(created);
      expect(await store.find(created.codeHash, now + 600)).toEqual(created);
      expect(await store.find(randomBytes(32).toString('base64url'), now)).toBeUndefined();
    });

    it('refuses a second record under the same hash', async () => {
      const created = record();
      await store.create(created);
      expect(await rejection(store.create({ ...created, interactionUid: 'uid-2' }))).toBeInstanceOf(
        ConflictError,
      );
      expect((await store.find(created.codeHash, now))?.interactionUid).toBe('uid-1');
    });

    it('advances once from the expected state, recording the person, and never after expiry', async () => {
      const created = record();
      await store.create(created);
      const confirmed = await store.advance(created.codeHash, 'pending', 'confirmed', now + 5, 'person-1');
      expect(confirmed).toMatchObject({ state: 'confirmed', personId: 'person-1' });
      expect(
        await store.advance(created.codeHash, 'pending', 'confirmed', now + 6, 'person-2'),
      ).toBeUndefined();
      expect((await store.find(created.codeHash, now + 6))?.personId).toBe('person-1');
      expect(await store.advance(created.codeHash, 'confirmed', 'completed', now + 120)).toBeUndefined();
      expect(await store.advance(created.codeHash, 'confirmed', 'completed', now + 119)).toMatchObject({
        state: 'completed',
        personId: 'person-1',
      });
      expect(await store.advance(created.codeHash, 'confirmed', 'completed', now + 119)).toBeUndefined();
      expect(
        await store.advance(randomBytes(32).toString('base64url'), 'pending', 'confirmed', now),
      ).toBeUndefined();
    });

    it('lets exactly one of two racing confirmations win', async () => {
      const created = record();
      await store.create(created);
      const outcomes = await Promise.all([
        store.advance(created.codeHash, 'pending', 'confirmed', now, 'person-a'),
        store.advance(created.codeHash, 'pending', 'confirmed', now, 'person-b'),
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
        await scan.confirm(shown.code, 'person-1');
        // Looking does not use it up.
        expect(await scan.peek(own)).toMatchObject({ state: 'confirmed' });
        expect(await problem(scan.peek({ ...own, interactionUid: 'uid-2' }))).toBe('other_browser');
        expect(await problem(scan.confirm(shown.code, 'person-2'))).toBe('used');
        const stranger = { ...own, binding: randomBytes(32).toString('base64url') };
        expect(await problem(scan.redeem(stranger))).toBe('other_browser');
        expect(await problem(scan.redeem({ ...own, interactionUid: 'uid-2' }))).toBe('other_browser');
        expect(await scan.redeem(own)).toEqual({ state: 'confirmed', personId: 'person-1' });
        expect(await problem(scan.redeem(own))).toBe('used');
        expect(await problem(scan.pending(shown.code))).toBe('used');
      });

      it('expires after its lifetime: neither confirmed nor completed', async () => {
        const clock = new TestClock(now * 1000);
        const scan = new ScanLogins(store, clock, 120);
        const shown = await begin(scan);
        const confirmedLate = await begin(scan);
        await scan.confirm(confirmedLate.code, 'person-1');
        clock.advanceSeconds(120);
        expect(await problem(scan.confirm(shown.code, 'person-1'))).toBe('expired');
        expect(
          await problem(
            scan.redeem({
              code: confirmedLate.code,
              binding: confirmedLate.binding,
              interactionUid: 'uid-1',
            }),
          ),
        ).toBe('expired');
      });

      it('is dead once refused in the wallet, and unknown codes are unknown', async () => {
        const scan = new ScanLogins(store, new TestClock(now * 1000));
        const shown = await begin(scan);
        await scan.cancel(shown.code);
        expect(await problem(scan.confirm(shown.code, 'person-1'))).toBe('cancelled');
        expect(await problem(scan.redeem({ ...shown, interactionUid: 'uid-1' }))).toBe('cancelled');
        expect(await problem(scan.pending(randomBytes(32).toString('base64url')))).toBe('unknown');
        expect(await problem(scan.pending('short'))).toBe('unknown');
      });
    });
  });
}
