import { randomBytes } from 'node:crypto';
import { canonicalJson } from '../../shared/canonical-json.js';
import { AesGcmSealer } from '../../shared/crypto/aes-gcm-sealer.js';
import type { EnvelopeSealer } from '../../shared/crypto/envelope-sealer.js';
import { ConflictError } from '../../shared/errors.js';
import {
  chunkSetOf,
  type BatchChunk,
  type BatchJob,
  type BatchStore,
} from '../../shared/licence/batch-store.js';

/** {@link BatchStore} in memory: the jobs and chunks, copied in and out as a table would. */
export class InMemoryBatchStore implements BatchStore {
  readonly jobs = new Map<string, BatchJob>();
  readonly chunks = new Map<string, BatchChunk>();

  private static chunkKey(batchId: string, chunkSet: string, n: number) {
    return `${batchId}#${chunkSet}#${n}`;
  }

  async create(job: BatchJob, chunks: BatchChunk[]): Promise<{ job: BatchJob; created: boolean }> {
    for (const chunk of chunks) {
      const key = InMemoryBatchStore.chunkKey(chunk.batchId, chunkSetOf(chunk), chunk.n);
      if (!this.chunks.has(key)) this.chunks.set(key, structuredClone(chunk));
    }
    const stored = this.jobs.get(job.id);
    if (stored) return { job: structuredClone(stored), created: false };
    const written = { ...structuredClone(job), version: 1 };
    this.jobs.set(job.id, written);
    return { job: structuredClone(written), created: true };
  }

  async find(batchId: string): Promise<BatchJob | undefined> {
    const job = this.jobs.get(batchId);
    return job && structuredClone(job);
  }

  async saveJob(job: BatchJob): Promise<BatchJob> {
    const stored = this.jobs.get(job.id);
    if ((stored?.version ?? 0) !== job.version) {
      throw new ConflictError('The batch changed since it was read', 'batch_changed');
    }
    const written = { ...structuredClone(job), version: job.version + 1 };
    this.jobs.set(job.id, written);
    return structuredClone(written);
  }

  async chunk(batchId: string, chunkSet: string, n: number): Promise<BatchChunk | undefined> {
    const chunk = this.chunks.get(InMemoryBatchStore.chunkKey(batchId, chunkSet, n));
    return chunk && structuredClone(chunk);
  }

  async saveChunk(chunk: BatchChunk): Promise<boolean> {
    const key = InMemoryBatchStore.chunkKey(chunk.batchId, chunkSetOf(chunk), chunk.n);
    const stored = this.chunks.get(key);
    if (!stored || (stored.version ?? 0) !== (chunk.version ?? 0)) return false;
    this.chunks.set(key, { ...structuredClone(chunk), version: (chunk.version ?? 0) + 1 });
    return true;
  }
}

/**
 * {@link EnvelopeSealer} with real AES-256-GCM and a random key of its own standing in for KMS's data
 * keys: what is sealed opens only under the same context, with the same instance; `opened` counts openings.
 */
export class InMemoryEnvelopeSealer implements EnvelopeSealer {
  readonly #sealer = new AesGcmSealer(async () => randomBytes(32));
  opened = 0;

  seal(context: Record<string, string>, value: unknown): Promise<string> {
    return this.#sealer.seal(canonicalJson(context), value);
  }

  open(context: Record<string, string>, sealed: string): Promise<unknown> {
    this.opened += 1;
    return this.#sealer.open(canonicalJson(context), sealed);
  }
}
