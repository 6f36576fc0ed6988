import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { logger } from '../../logger.js';
import type { BatchChunk, BatchJob, BatchStore } from '../../licence/batch-store.js';
import { ConflictError } from '../../errors.js';
import { getItem, putNew, putVersioned } from './conditional.js';
import { keys } from './keys.js';

/**
 * {@link BatchStore} on the batch table (`BATCH_TABLE_NAME`, which holds nothing else): the job under
 * `batch#<id>` (its insert is what the table's stream hands to the batch pipe, and so to the processor),
 * each chunk of items under `batch-items#<id>`, sorted by the request hash and its number. Chunks are
 * written before the job, so a job that exists always has its items; when a write fails before the job
 * is, the chunks this call wrote are deleted, so no sealed items stay behind without a job.
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
    const written: BatchChunk[] = [];
    try {
      for (const chunk of chunks) {
        const added = await putNew(this.doc, this.tableName, {
          ...keys.batchChunk(chunk.batchId, chunk.requestHash, chunk.n),
          ...chunk,
        }).then(
          () => true,
          (error: unknown) => {
            if (!(error instanceof ConflictError)) throw error;
            return false;
          },
        );
        if (added) written.push(chunk);
      }
      const stored = await putVersioned(this.doc, this.tableName, { ...keys.batch(job.id), ...job }, 0);
      return { job: strip(stored), created: true };
    } catch (error) {
      // A concurrent submission of the same body may have written the job over these chunks: then they
      // are its items, and stay.
      const stored = await this.find(job.id).catch(() => undefined);
      if (stored) {
        if (error instanceof ConflictError) return { job: stored, created: false };
        throw error;
      }
      // No job will ever read the chunks this call wrote: delete them rather than leave holders' ID
      // numbers (sealed) in the table with nothing to process or expire them. Chunks written by an
      // earlier attempt of the same body stay: its retry (or this one's) still needs them.
      await this.deleteChunks(written);
      throw error;
    }
  }

  private async deleteChunks(chunks: readonly BatchChunk[]): Promise<void> {
    await Promise.all(
      chunks.map((chunk) =>
        this.doc
          .send(
            new DeleteCommand({
              TableName: this.tableName,
              Key: keys.batchChunk(chunk.batchId, chunk.requestHash, chunk.n),
            }),
          )
          .catch((error: unknown) =>
            logger.error('batch chunk not deleted after a failed submission', {
              batchId: chunk.batchId,
              chunk: chunk.n,
              error: String(error),
            }),
          ),
      ),
    );
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
