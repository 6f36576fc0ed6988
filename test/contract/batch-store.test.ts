import { describe, expect, it } from 'vitest';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { chunkSetOf, type BatchJob } from '../../shared/licence/batch-store.js';
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

describe('DynamoBatchStore: two submissions of one key at once (review of session 24, finding 3)', () => {
  it('never deletes the chunks of the job the other wrote when its own job write fails', async () => {
    const { doc, tableName } = await dynamo.newTable();
    const job = (chunkSet: string): BatchJob => ({
      id: 'bat_race',
      issuerId: 'iss_1',
      clientId: 'iss_1',
      requestHash: 'h1',
      status: 'running',
      total: 1,
      issued: 0,
      failed: 0,
      errors: [],
      chunks: 1,
      nextChunk: 0,
      createdAt: '2026-12-05T08:00:00.000Z',
      chunkSet,
      version: 0,
    });
    const chunk = (chunkSet: string) => ({
      batchId: 'bat_race',
      requestHash: 'h1',
      chunkSet,
      n: 0,
      first: 0,
      sealedItems: `items-of-${chunkSet}`,
    });
    // A's job write fails (throttled) while B has written its chunks; B's job write waits until A has
    // cleaned up after itself: the interleaving that used to leave B's job without items.
    let releaseB!: () => void;
    const aCleanedUp = new Promise<void>((resolve) => (releaseB = resolve));
    let bReachedJob!: () => void;
    const bAtJob = new Promise<void>((resolve) => (bReachedJob = resolve));
    let b: Promise<{ job: BatchJob; created: boolean }> | undefined;
    const jobWriteOf = (command: unknown) =>
      command instanceof PutCommand && String(command.input.Item?.pk).startsWith('batch#')
        ? String(command.input.Item?.chunkSet)
        : undefined;
    const racing = {
      send: async (command: unknown) => {
        const writer = jobWriteOf(command);
        if (writer === 'set_a') {
          b = storeB.create(job('set_b'), [chunk('set_b')]);
          await bAtJob;
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
            name: 'ProvisionedThroughputExceededException',
          });
        }
        if (writer === 'set_b') {
          bReachedJob();
          await aCleanedUp;
        }
        return doc.send(command as PutCommand);
      },
    } as unknown as DynamoDBDocumentClient;
    const storeA = new DynamoBatchStore(racing, tableName);
    const storeB = new DynamoBatchStore(racing, tableName);

    await expect(storeA.create(job('set_a'), [chunk('set_a')])).rejects.toThrow(/throughput/);
    releaseB();
    const written = await b!;
    expect(written).toMatchObject({ created: true, job: { chunkSet: 'set_b' } });
    // The job B wrote finds its items; A's, which no job names, are gone.
    expect((await storeB.chunk('bat_race', chunkSetOf(written.job), 0))?.sealedItems).toBe('items-of-set_b');
    expect(await storeB.chunk('bat_race', 'set_a', 0)).toBeUndefined();
  });
});
