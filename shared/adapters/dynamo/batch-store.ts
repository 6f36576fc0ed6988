import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { logger } from '../../logger.js';
import { chunkSetOf, type BatchChunk, type BatchJob, type BatchStore } from '../../licence/batch-store.js';
import { ConflictError } from '../../errors.js';
import { getItem, putNew, putVersioned, writeIf } from './conditional.js';
import { keys } from './keys.js';

/**
 * {@link BatchStore} on the batch table (`BATCH_TABLE_NAME`, which holds nothing else): the job under
 * `batch#<id>` (its insert is what the table's stream hands to the batch pipe, and so to the processor),
 * each chunk of items under `batch-items#<id>`, sorted by its set (the submission attempt's `chunkSet`;
 * the request hash for jobs written before sets) and its number. Chunks are written before the job, so a
 * job that exists always has its items; when the job cannot be written, the chunks this call wrote are
 * deleted unless the stored job names their set, so no sealed items stay behind without a job and none
 * are deleted from under one.
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
    // Only if absent: under the same key an existing chunk holds these very items, or what was left of
    // them once processed (a retry of the same submission must not put them back). A submission's own
    // `chunkSet` makes its keys new: then nothing is there.
    const written: BatchChunk[] = [];
    try {
      for (const chunk of chunks) {
        const added = await putNew(this.doc, this.tableName, {
          ...keys.batchChunk(chunk.batchId, chunkSetOf(chunk), chunk.n),
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
      let stored: BatchJob | undefined;
      try {
        stored = await this.find(job.id);
      } catch {
        // Whether a job names these chunks is unknown (this call's own job may have been written): keep
        // them rather than delete a job's items.
        logger.error('batch chunks kept after a failed submission: its job could not be read', {
          batchId: job.id,
        });
        throw error;
      }
      // Delete what this call wrote unless the stored job reads it: chunks of this call's set when it
      // is its own job (written, its answer lost), or, for a job without a set, chunks under the same
      // request hash a concurrent submission may have skipped (putNew) and relies on. A concurrent
      // submission with its own set never relies on this call's chunks, so deleting them is safe.
      if (!stored || chunkSetOf(stored) !== chunkSetOf(job)) {
        // No job will ever read them: rather than leave holders' ID numbers (sealed) in the table with
        // nothing to process or expire them.
        await this.deleteChunks(written);
      }
      if (stored && error instanceof ConflictError) return { job: stored, created: false };
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
              Key: keys.batchChunk(chunk.batchId, chunkSetOf(chunk), chunk.n),
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

  async chunk(batchId: string, chunkSet: string, n: number): Promise<BatchChunk | undefined> {
    const item = await getItem<ReturnType<typeof keys.batchChunk> & BatchChunk & Record<string, unknown>>(
      this.doc,
      this.tableName,
      keys.batchChunk(batchId, chunkSet, n),
      0,
    );
    return item && (strip(item) as unknown as BatchChunk);
  }

  async saveChunk(chunk: BatchChunk): Promise<boolean> {
    // Only over the chunk as it was read: two deliveries of one job may run at once, and an unconditional
    // put let the slower one's partial progress replace the other's outcome (putting the sealed items and
    // their expiry back, and half the licences out of the job's list: review R23 M1).
    const expected = chunk.version ?? 0;
    return writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.batchChunk(chunk.batchId, chunkSetOf(chunk), chunk.n),
          ...chunk,
          version: expected + 1,
        },
        ...(expected === 0
          ? {
              ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#version)',
              ExpressionAttributeNames: { '#version': 'version' },
            }
          : {
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': expected },
            }),
      }),
    );
  }
}

function strip<T extends { pk: string; sk: string }>(item: T): Omit<T, 'pk' | 'sk'> {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
}
