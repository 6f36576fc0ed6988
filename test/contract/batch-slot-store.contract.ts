import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../shared/errors.js';
import type { BatchSlotStore } from '../../shared/licence/batch-slots.js';
import { rejection, type Make } from './subject.js';

/**
 * The {@link BatchSlotStore} contract: an issuer never seen has no open jobs at version 0; a save replaces
 * the issuer's set only at the version read (so two submissions cannot both take the last slot), and
 * issuers are kept apart.
 */
export function batchSlotStoreContract(name: string, make: Make<{ store: BatchSlotStore }>): void {
  describe(`BatchSlotStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: BatchSlotStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('answers no open jobs at version 0 for an issuer never seen, then what was saved', async () => {
      expect(await store.read('iss_1')).toEqual({ open: {}, version: 0 });
      await store.save('iss_1', { bat_a: 1000, bat_b: 2000 }, 0);
      expect(await store.read('iss_1')).toEqual({ open: { bat_a: 1000, bat_b: 2000 }, version: 1 });
      await store.save('iss_1', { bat_b: 2000 }, 1);
      expect(await store.read('iss_1')).toEqual({ open: { bat_b: 2000 }, version: 2 });
      expect(await store.read('iss_2')).toEqual({ open: {}, version: 0 });
    });

    it('refuses a save at a version that moved on, changing nothing', async () => {
      await store.save('iss_1', { bat_a: 1000 }, 0);
      expect(await rejection(store.save('iss_1', { bat_b: 2000 }, 0))).toBeInstanceOf(ConflictError);
      await store.save('iss_1', { bat_a: 1000, bat_c: 3000 }, 1);
      expect(await rejection(store.save('iss_1', {}, 1))).toBeInstanceOf(ConflictError);
      expect(await store.read('iss_1')).toEqual({ open: { bat_a: 1000, bat_c: 3000 }, version: 2 });
    });

    it('lets exactly one of two concurrent saves at the same version win', async () => {
      const outcomes = await Promise.allSettled([
        store.save('iss_1', { bat_a: 1 }, 0),
        store.save('iss_1', { bat_b: 2 }, 0),
      ]);
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      expect(Object.keys((await store.read('iss_1')).open)).toHaveLength(1);
    });
  });
}
