import type { IssueLicenceInput } from './issue-licence.js';

/** One item refused, by its index in the request (API.md "Bulk issuance"). */
export interface BatchItemError {
  index: number;
  code: string;
  detail: string;
  /**
   * The licence the item wrote all the same (`issuer_key_withdrawn`: its key was withdrawn as it was
   * issued): to be re-issued (`POST /licences/{id}/reissue`), never submitted again (a second licence).
   */
  licenceId?: string;
}

/** A bulk issuance job (存量证照电子化): who asked, how far it got, what was refused. */
export interface BatchJob {
  id: string;
  issuerId: string;
  /** The issuer's client that submitted it: the actor of every issuance it makes. */
  clientId: string;
  /** Keyed fingerprint of the request body: the same `Idempotency-Key` with another body is a 409. */
  requestHash: string;
  status: 'running' | 'done';
  total: number;
  issued: number;
  failed: number;
  errors: BatchItemError[];
  /** How many chunks of items it has, and the first one not yet processed. */
  chunks: number;
  nextChunk: number;
  createdAt: string;
  requestId?: string;
  /**
   * The set its chunks are stored under: new for every submission attempt, so that an attempt that fails
   * deletes only chunks no job names (two concurrent submissions of one key write a set each; the job
   * written names its own). Absent on jobs written before it: their chunks are under `requestHash`.
   */
  chunkSet?: string;
  version: number;
}

/**
 * Where a job's (or a chunk's) chunks are keyed: its `chunkSet`, or for one written before sets its
 * `requestHash`.
 *
 * @example
 * ```ts
 * const chunk = await batches.chunk(job.id, chunkSetOf(job), job.nextChunk);
 * ```
 */
export const chunkSetOf = (of: { chunkSet?: string; requestHash: string }): string =>
  of.chunkSet ?? of.requestHash;

/** What a chunk holds until it is processed: the request's items, each parsed or refused at submission. */
export type BatchItems = Array<IssueLicenceInput | { invalid: BatchItemError }>;

/**
 * Up to {@link BATCH_CHUNK_SIZE} items of a job. `sealedItems` holds the request's items (ID numbers
 * included) sealed ({@link batchItemsContext}) only until the chunk is processed; then they are dropped
 * and `licenceIds` (by position in the chunk, `null` for an item refused) is what remains: the job's
 * licences, paged.
 */
export interface BatchChunk {
  batchId: string;
  requestHash: string;
  /** The job's {@link BatchJob.chunkSet}: part of the chunk's key (absent: `requestHash` is). */
  chunkSet?: string;
  n: number;
  /** The index in the request of this chunk's first item. */
  first: number;
  /** {@link BatchItems}, envelope-sealed under {@link batchItemsContext}. */
  sealedItems?: string;
  /**
   * {@link BatchItems} in clear, as chunks were written before items were sealed: still read (a job
   * running at the change, or redriven from the dead-letter queue, issues them) and dropped when
   * processed like sealed ones; never written.
   */
  items?: BatchItems;
  licenceIds?: Array<string | null>;
  /** Items refused while processing (those refused at submission are in the job from the start). */
  errors?: BatchItemError[];
  /**
   * While the items wait (epoch seconds, the table's TTL attribute): {@link batchItemsRetentionSeconds}
   * after submission, so that the sealed ID numbers and names of a job that fails every delivery are
   * deleted rather than kept for ever. A processed chunk holds licence ids only and drops it.
   */
  expiresAt?: number;
  /**
   * How many times the chunk was saved since it was written (absent: never). {@link BatchStore.saveChunk}
   * writes only over the version it was read at, so a run never overwrites what another delivery of the
   * same job saved meanwhile (its outcome, or more progress).
   */
  version?: number;
}

/** A chunk processed: its outcome (`licenceIds`, `errors`) is all it holds, its items are gone. */
export const chunkFinished = (chunk: BatchChunk): boolean =>
  chunk.sealedItems === undefined && chunk.items === undefined;

/**
 * How long a chunk's items may wait: 30 days, twice the 14 days a failed job's message stays in the
 * dead-letter queue for an operator to replay (docs/batch-issuance.md); a job replayed later finds its
 * chunks gone and fails (it never skips them).
 */
export const batchItemsRetentionSeconds = 30 * 86_400;

/**
 * The context a chunk's items are sealed under: its purpose (which the PII key's policy allows only the
 * submitting and the processing functions), the batch, the body's fingerprint and the chunk's number, so
 * sealed items moved to another chunk or batch do not open there.
 */
export function batchItemsContext(
  chunk: Pick<BatchChunk, 'batchId' | 'requestHash' | 'n'>,
): Record<string, string> {
  return { purpose: 'batch-items', batch: chunk.batchId, request: chunk.requestHash, chunk: String(chunk.n) };
}

/** Items per chunk at most: one page of `GET …/licences`. */
export const BATCH_CHUNK_SIZE = 100;

/**
 * The JSON bytes of a chunk's items at most (fewer items when they are long): sealed, base64 makes
 * them 4/3 as long, so a chunk stays under {@link BATCH_CHUNK_MAX_SEALED_BYTES}.
 */
export const BATCH_CHUNK_MAX_ITEM_BYTES = 200_000;

/** A chunk's sealed items at most: well within a DynamoDB item's 400 KB with its keys and the rest. */
export const BATCH_CHUNK_MAX_SEALED_BYTES = 300_000;

/**
 * Where batch jobs are kept. Contract: `create` writes the chunks, then the job with a condition that
 * it does not exist, and answers `created: false` with the stored job when it does (a retry, or another
 * body under the same key: the caller compares `requestHash`); the chunks of another body never overwrite
 * the first's (they are keyed by the request hash, or by the attempt's `chunkSet`). When the job cannot
 * be written, the chunks this call wrote are deleted unless the stored job names their set: chunks of a
 * set are never deleted from under a job that reads them. `saveJob` replaces under optimistic
 * concurrency (`ConflictError` when `version` moved on). `find` is strongly consistent. `chunk` takes the
 * job's {@link chunkSetOf}. `saveChunk` replaces an existing chunk only if its stored `version` is still
 * the one it carries (absent: 0), writing `version + 1`; it answers `false` and writes nothing when the
 * chunk changed since it was read (another delivery of the job saved it) or does not exist.
 */
export interface BatchStore {
  create(job: BatchJob, chunks: BatchChunk[]): Promise<{ job: BatchJob; created: boolean }>;
  find(batchId: string): Promise<BatchJob | undefined>;
  saveJob(job: BatchJob): Promise<BatchJob>;
  chunk(batchId: string, chunkSet: string, n: number): Promise<BatchChunk | undefined>;
  saveChunk(chunk: BatchChunk): Promise<boolean>;
}
