import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignedTrustList, TrustListStore } from '../../shared/licence/trust-list-store.js';
import type { Make } from './subject.js';

const signed = (iat: number): SignedTrustList => ({
  jws: `jws-${iat}`,
  contentHash: `hash-${iat}`,
  iat,
  exp: iat + 86_400,
});

/** The {@link TrustListStore} contract: one token, replaced only by a saver that read the current version. */
export function trustListStoreContract(name: string, make: Make<{ store: TrustListStore }>): void {
  describe(`TrustListStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: TrustListStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('holds nothing at first, then the token saved over version 0, at version 1', async () => {
      expect(await store.find()).toBeUndefined();
      expect(await store.save(signed(100), 0)).toBe(true);
      expect(await store.find()).toEqual({ ...signed(100), version: 1 });
    });

    it('answers false, keeping the stored token, when the version moved on', async () => {
      await store.save(signed(100), 0);
      expect(await store.save(signed(200), 0)).toBe(false);
      expect(await store.save(signed(200), 2)).toBe(false);
      expect(await store.save(signed(200), 1)).toBe(true);
      expect(await store.find()).toEqual({ ...signed(200), version: 2 });
    });

    it('lets exactly one of concurrent savers of one version win', async () => {
      const outcomes = await Promise.all([1, 2, 3, 4].map((i) => store.save(signed(i), 0)));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect((await store.find())?.version).toBe(1);
    });
  });
}
