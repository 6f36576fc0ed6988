import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../shared/errors.js';
import type { BatchChunk, BatchJob, BatchStore } from '../../shared/licence/batch-store.js';
import type { Make } from './subject.js';

const job = (id: string, requestHash = 'h1'): BatchJob => ({
  id,
  issuerId: 'iss_1',
  clientId: 'iss_1',
  requestHash,
  status: 'running',
  total: 2,
  issued: 0,
  failed: 0,
  errors: [],
  chunks: 1,
  nextChunk: 0,
  createdAt: '2026-12-05T08:00:00.000Z',
  version: 0,
});
const chunk = (batchId: string, requestHash = 'h1'): BatchChunk => ({
  batchId,
  requestHash,
  n: 0,
  first: 0,
  // The store keeps the sealed items as they are (shared/licence/batches.ts seals and opens them).
  sealedItems: `sealed-items-of-${batchId}-${requestHash}`,
});

/**
 * The {@link BatchStore} contract: a job is created once (its chunks first, never overwritten by a second
 * creation), saved under optimistic concurrency, and its chunks replaced when processed.
 */
export function batchStoreContract(name: string, make: Make<{ store: BatchStore }>): void {
  describe(`BatchStore contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>>;
    let store: BatchStore;
    beforeEach(async () => {
      subject = await make();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('creates a job with its chunks once; a second creation answers the stored job', async () => {
      const first = await store.create(job('bat_1'), [chunk('bat_1')]);
      expect(first).toEqual({ job: { ...job('bat_1'), version: 1 }, created: true });
      expect(await store.find('bat_1')).toEqual({ ...job('bat_1'), version: 1 });
      expect(await store.chunk('bat_1', 'h1', 0)).toEqual(chunk('bat_1'));
      const second = await store.create({ ...job('bat_1'), total: 9 }, [chunk('bat_1')]);
      expect(second).toEqual({ job: { ...job('bat_1'), version: 1 }, created: false });
      expect(await store.find('bat_2')).toBeUndefined();
      expect(await store.chunk('bat_1', 'h1', 1)).toBeUndefined();
    });

    it('never puts a processed chunk’s items back, nor lets another body’s chunks replace them', async () => {
      await store.create(job('bat_1'), [chunk('bat_1')]);
      const { sealedItems: _items, ...processed } = chunk('bat_1');
      await store.saveChunk({ ...processed, licenceIds: ['lic_1', null], errors: [] });
      await store.create(job('bat_1'), [chunk('bat_1')]);
      expect(await store.chunk('bat_1', 'h1', 0)).toEqual({
        ...processed,
        licenceIds: ['lic_1', null],
        errors: [],
        version: 1,
      });
      await store.create(job('bat_1', 'h2'), [chunk('bat_1', 'h2')]);
      expect((await store.chunk('bat_1', 'h1', 0))?.licenceIds).toEqual(['lic_1', null]);
    });

    it('saves a chunk only over the version it read: another run’s outcome is never replaced (review R23 M1)', async () => {
      await store.create(job('bat_1'), [chunk('bat_1')]);
      const read = (await store.chunk('bat_1', 'h1', 0))!;
      expect(read.version).toBeUndefined();
      // Run A finishes the chunk: its items dropped, its outcome kept.
      const { sealedItems: _items, ...rest } = read;
      expect(await store.saveChunk({ ...rest, licenceIds: ['lic_1', 'lic_2'], errors: [] })).toBe(true);
      const finished = { ...rest, licenceIds: ['lic_1', 'lic_2'], errors: [], version: 1 };
      expect(await store.chunk('bat_1', 'h1', 0)).toEqual(finished);
      // Run B, from the chunk as it read it before, saves its progress (items kept): refused, nothing written.
      expect(await store.saveChunk({ ...read, licenceIds: ['lic_1', null] })).toBe(false);
      expect(await store.chunk('bat_1', 'h1', 0)).toEqual(finished);
      // Over the version it now reads, a save is made (and moves the version on).
      expect(await store.saveChunk({ ...finished, errors: [{ index: 9, code: 'x', detail: 'x' }] })).toBe(
        true,
      );
      expect(await store.chunk('bat_1', 'h1', 0)).toMatchObject({ version: 2, errors: [{ index: 9 }] });
      expect(await store.saveChunk(finished)).toBe(false);
      // A chunk that does not exist is not created by a save.
      expect(await store.saveChunk({ ...read, n: 5 })).toBe(false);
      expect(await store.chunk('bat_1', 'h1', 5)).toBeUndefined();
    });

    it('saves a job only over the version it read', async () => {
      const { job: created } = await store.create(job('bat_1'), [chunk('bat_1')]);
      const saved = await store.saveJob({ ...created, issued: 1, nextChunk: 1 });
      expect(saved).toMatchObject({ issued: 1, nextChunk: 1, version: 2 });
      await expect(store.saveJob({ ...created, status: 'done' })).rejects.toBeInstanceOf(ConflictError);
      expect(await store.find('bat_1')).toMatchObject({ status: 'running', version: 2 });
    });
  });
}
