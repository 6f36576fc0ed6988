import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_INTERACTION_STATE_BYTES,
  type SpilledInteractionStore,
} from '../../shared/sso/interaction-cookies.js';
import type { Make } from './subject.js';

const now = 1_700_000_000;
const uid = 'Vx3kq9ZyT1aB2cD3eF4gH';
/** A seal as the jar makes it (base64url), of a state too large for a cookie. */
const sealed = () => randomBytes(6000).toString('base64url');

/**
 * The {@link SpilledInteractionStore} contract: one seal per interaction, found by its uid until its
 * expiry (not after, whatever the TTL has not removed yet), replaced by the next save, gone once deleted;
 * as large as the jar's hard bound allows.
 */
export function spilledInteractionStoreContract(
  name: string,
  make: Make<{ store: SpilledInteractionStore }>,
): void {
  describe(`SpilledInteractionStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: SpilledInteractionStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('finds a seal by its uid until its expiry, and nothing for another uid', async () => {
      const kept = sealed();
      await store.put(uid, kept, now + 3600);
      expect(await store.get(uid, now)).toBe(kept);
      expect(await store.get(uid, now + 3599)).toBe(kept);
      expect(await store.get(uid, now + 3600)).toBeUndefined();
      expect(await store.get('AnotherUid', now)).toBeUndefined();
    });

    it('replaces a seal with the next save of the same uid, its expiry with it', async () => {
      await store.put(uid, sealed(), now + 3600);
      const next = sealed();
      await store.put(uid, next, now + 60);
      expect(await store.get(uid, now)).toBe(next);
      expect(await store.get(uid, now + 60)).toBeUndefined();
    });

    it('forgets a deleted seal, and deleting nothing is no error', async () => {
      await store.put(uid, sealed(), now + 3600);
      await store.put('OtherTab', sealed(), now + 3600);
      await store.delete(uid);
      expect(await store.get(uid, now)).toBeUndefined();
      expect(await store.get('OtherTab', now)).toBeTypeOf('string');
      await store.delete(uid);
      await store.delete('NeverKept');
    });

    it('keeps a seal as large as the hard bound, byte for byte', async () => {
      const largest = randomBytes((MAX_INTERACTION_STATE_BYTES / 4) * 3).toString('base64url');
      expect(largest.length).toBe(MAX_INTERACTION_STATE_BYTES);
      await store.put(uid, largest, now + 3600);
      expect(await store.get(uid, now)).toBe(largest);
    });
  });
}
