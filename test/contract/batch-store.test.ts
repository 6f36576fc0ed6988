import { describe, expect, it } from 'vitest';
import type { BatchJob } from '../../shared/licence/batch-store.js';
import { DynamoBatchStore } from '../../shared/adapters/dynamo/batch-store.js';
import { InMemoryBatchStore } from '../support/in-memory-batches.js';
import { batchStoreContract } from './batch-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

batchStoreContract('InMemoryBatchStore', async () => ({
  store: new InMemoryBatchStore(),
  cleanup: nothingToClean,
}));

batchStoreContract('DynamoBatchStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoBatchStore(doc, tableName), cleanup: nothingToClean };
});

describe('DynamoBatchStore: a submission that cannot be stored', () => {
  it('leaves no chunk holding sealed items behind when a later chunk fails (dynalite enforces 400 KB an item)', async () => {
    const { doc, tableName } = await dynamo.newTable();
    const store = new DynamoBatchStore(doc, tableName);
    const job: BatchJob = {
      id: 'bat_big',
      issuerId: 'iss_1',
      clientId: 'iss_1',
      requestHash: 'h1',
      status: 'running',
      total: 2,
      issued: 0,
      failed: 0,
      errors: [],
      chunks: 2,
      nextChunk: 0,
      createdAt: '2026-12-05T08:00:00.000Z',
      version: 0,
    };
    const chunk = (n: number, size: number) => ({
      batchId: job.id,
      requestHash: 'h1',
      n,
      first: n,
      sealedItems: 's'.repeat(size),
    });
    await expect(store.create(job, [chunk(0, 1000), chunk(1, 420_000)])).rejects.toThrow(/size/i);
    expect(await store.chunk(job.id, 'h1', 0)).toBeUndefined();
    expect(await store.find(job.id)).toBeUndefined();
    // The same submission, once it fits, is stored whole.
    const stored = await store.create(job, [chunk(0, 1000), chunk(1, 1000)]);
    expect(stored.created).toBe(true);
    expect((await store.chunk(job.id, 'h1', 1))?.sealedItems).toHaveLength(1000);
  });
});
