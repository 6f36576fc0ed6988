import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BatchChunk, BatchJob, BatchStore } from '../../licence/batch-store.js';
import { ConflictError } from '../../errors.js';
import { getItem, putNew, putVersioned } from './conditional.js';
import { keys } from './keys.js';

/**
 * {@link BatchStore} on the batch table (`BATCH_TABLE_NAME`, which holds nothing else): the job under
 * `batch#<id>` (its insert is what the table's stream hands to the batch pipe, and so to the processor),
 * each chunk of items under `batch-items#<id>`, sorted by the request hash and its number. Chunks are
 * written before the job, so a job that exists always has its items.
 *
 * @example
 * ```ts
 * const batches = new DynamoBatchStore(doc, config.batchTableName);
 * ```
 */
export class DynamoBatchStore implements BatchStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(job: BatchJob, chunks: BatchChunk[]): Promise<{ job: BatchJob; created: boolean }> {
    // Only if absent: under the same request hash an existing chunk holds these very items, or what was
    // left of them once processed (a concurrent retry of the same submission must not put them back).
    for (const chunk of chunks) {
      await putNew(this.doc, this.tableName, {
        ...keys.batchChunk(chunk.batchId, chunk.requestHash, chunk.n),
        ...chunk,
      }).catch((error: unknown) => {
        if (!(error instanceof ConflictError)) throw error;
      });
    }
    try {
      const written = await putVersioned(this.doc, this.tableName, { ...keys.batch(job.id), ...job }, 0);
      return { job: strip(written), created: true };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const stored = await this.find(job.id);
      if (!stored) throw error;
      return { job: stored, created: false };
    }
  }

  async find(batchId: string): Promise<BatchJob | undefined> {
    const item = await getItem<ReturnType<typeof keys.batch> & BatchJob & Record<string, unknown>>(
      this.doc,
      this.tableName,
      keys.batch(batchId),
      0,
    );
    return item && (strip(item) as unknown as BatchJob);
  }

  async saveJob(job: BatchJob): Promise<BatchJob> {
    const written = await putVersioned(
      this.doc,
      this.tableName,
      { ...keys.batch(job.id), ...job },
      job.version,
      { conflict: { code: 'batch_changed', message: 'The batch changed since it was read' } },
    );
    return strip(written);
  }

  async chunk(batchId: string, requestHash: string, n: number): Promise<BatchChunk | undefined> {
    const item = await getItem<ReturnType<typeof keys.batchChunk> & BatchChunk & Record<string, unknown>>(
      this.doc,
      this.tableName,
      keys.batchChunk(batchId, requestHash, n),
      0,
    );
    return item && (strip(item) as unknown as BatchChunk);
  }

  async saveChunk(chunk: BatchChunk): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.batchChunk(chunk.batchId, chunk.requestHash, chunk.n), ...chunk },
      }),
    );
  }
}

function strip<T extends { pk: string; sk: string }>(item: T): Omit<T, 'pk' | 'sk'> {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
}
