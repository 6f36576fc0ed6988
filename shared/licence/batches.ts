/**
 * Bulk issuance (存量证照电子化, API.md "Bulk issuance", docs/batch-issuance.md): an issuer submits up to
 * 1,000 licences at once; a job issues them off the request path, each through the single-issuance use
 * case ({@link issueLicence}: the same checks, status-list slots, audit entries and idempotency), signed by
 * a certified batch key ({@link BatchSigners}) so that a batch costs one KMS signature, not one per licence.
 *
 * @packageDocumentation
 */
import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod';
import { canonicalJson } from '../canonical-json.js';
import { epochSeconds, type Clock } from '../clock.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  ServiceError,
  TooLargeError,
  type FieldError,
} from '../errors.js';
import type { EnvelopeSealer } from '../crypto/envelope-sealer.js';
import type { Issuer } from '../issuers/issuer.js';
import { logger } from '../logger.js';
import type { BatchSigners } from './batch-signer.js';
import { claimBatchSlot, releaseBatchSlot, type BatchLimits, type BatchSlotStore } from './batch-slots.js';
import {
  BATCH_CHUNK_MAX_ITEM_BYTES,
  BATCH_CHUNK_MAX_SEALED_BYTES,
  BATCH_CHUNK_SIZE,
  batchItemsContext,
  batchItemsRetentionSeconds,
  chunkFinished,
  chunkSetOf,
  type BatchChunk,
  type BatchItemError,
  type BatchItems,
  type BatchJob,
  type BatchStore,
} from './batch-store.js';
import { zodErrors } from '../http/request.js';
import { findLicenceType, validateFields } from './catalogue.js';
import {
  assertHolderKind,
  issueLicence,
  issueLicenceInput,
  type IssueLicenceDependencies,
  type IssueLicenceInput,
} from './issue-licence.js';
import type { LicenceRecord } from './licence.js';
import type { LicenceStore } from './licence-store.js';

/** The most items one request may carry (API.md). */
export const MAX_BATCH_ITEMS = 1000;

/**
 * The largest `POST /licences/batches` body: 1,000 licences of up to 4 KiB each (a `POST /licences` body
 * is bounded at 64 KiB, but a licence's fields are far smaller), within Lambda's 6 MB request payload.
 */
export const MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024;

/** `POST /licences/batches`: each item is checked on its own below, so a bad one refuses only itself. */
export const submitBatchInput = z.strictObject({
  items: z.array(z.unknown()).min(1).max(MAX_BATCH_ITEMS),
});
export type SubmitBatchInput = z.output<typeof submitBatchInput>;

const itemErrorSchema = z.object({
  index: z.int(),
  code: z.string(),
  detail: z.string(),
  licenceId: z.string().optional().meta({
    description:
      'The licence the item wrote all the same (`issuer_key_withdrawn`): re-issue it, do not submit the item again',
  }),
});

/** What `POST /licences/batches` and `GET /licences/batches/{id}` answer. */
export const batchViewSchema = z
  .object({
    id: z.string(),
    status: z.enum(['running', 'done']),
    total: z.int(),
    issued: z.int(),
    failed: z.int(),
    errors: z.array(itemErrorSchema),
  })
  .meta({
    title: 'LicenceBatch',
    description: 'A bulk issuance job: progress, and each refused item by its index in the request',
  });
export type BatchView = z.output<typeof batchViewSchema>;

/** The job as the API answers it. */
export function batchView(job: BatchJob): BatchView {
  return {
    id: job.id,
    status: job.status,
    total: job.total,
    issued: job.issued,
    failed: job.failed,
    errors: job.errors,
  };
}

/**
 * The longest item error `detail`, in UTF-8 bytes (DynamoDB counts bytes, not characters): 200. A job
 * holds the errors of its at most {@link MAX_BATCH_ITEMS} items, each then at most about 250 bytes stored
 * (its detail, a code, an index and their names), so 1,000 stay about 250 KB (248 KB measured), one item of at most 400 KB
 * with room to spare. Cut at 200 characters (review R36), a detail of `…`s (3 bytes each: the odd path
 * segments of a made-up key) was up to 466 bytes, and 1,000 of them a 444 KB job that DynamoDB refuses.
 */
const DETAIL_MAX_BYTES = 200;

/** Details are for people and logs: bounded in bytes, so a thousand errors stay one stored item. */
function detailOf(message: string): string {
  if (Buffer.byteLength(message, 'utf8') <= DETAIL_MAX_BYTES) return message;
  // Whole characters only, and room for the closing `…` (3 bytes).
  let kept = '';
  let bytes = 0;
  for (const character of message) {
    const size = Buffer.byteLength(character, 'utf8');
    if (bytes + size > DETAIL_MAX_BYTES - 3) break;
    kept += character;
    bytes += size;
  }
  return `${kept}…`;
}

/**
 * The batch id of an issuer's `Idempotency-Key`: the same key names the same batch, so a retried submission
 * finds it with one read and no separate idempotency record.
 */
export function batchIdFor(issuerId: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(`elicence/batch\n${issuerId}\n${idempotencyKey}`).digest();
  return `bat_${digest.subarray(0, 16).toString('base64url')}`;
}

/**
 * The idempotency key of item `index` of a batch: a re-run of the job (after a crash, or a redelivered
 * message) issues each item at most once. Never a UUID, so no `POST /licences` key can name it.
 */
export const batchItemKey = (batchId: string, index: number) => `batch:${batchId}:${index}`;

/**
 * How long the idempotency record of a batch item is kept from its first attempt: as long as its chunk's
 * items can still be issued ({@link batchItemsRetentionSeconds} from submission, which no chunk is issued
 * past, `runBatch`) and a week more, so that a job redriven from the dead-letter queue (kept 14 days, and
 * redriven again) finds every item it issued before, never issuing it a second time (SRE review M5). A
 * request's own key is kept a day.
 */
export const batchItemKeyRetentionSeconds = batchItemsRetentionSeconds + 7 * 86_400;

export interface SubmitBatchDependencies {
  batches: BatchStore;
  /** Seals each chunk's items (holders' ID numbers among them) while they wait to be issued. */
  batchItemsSealer: Pick<EnvelopeSealer, 'seal'>;
  /** Keyed fingerprint of the body (it holds ID numbers): `keyedFingerprint` in `shared/crypto`. */
  fingerprint(text: string): Promise<string>;
  clock: Clock;
  /** The per-issuer cap on open jobs (shared/licence/batch-slots.ts); the functions always pass both. */
  batchSlots?: BatchSlotStore;
  batchLimits?: BatchLimits;
}

/**
 * Accepts a batch: each item's shape is checked now (a bad one is reported by its index and not issued),
 * the items are stored in chunks and the job written; its insert starts the processing (the table's
 * stream in the cloud, the local runtime's queue locally). The same `Idempotency-Key` answers the same
 * job; with another body, `409 idempotency_key_reused`.
 *
 * @example
 * ```ts
 * const { job } = await submitBatch(input, { issuerId, clientId, idempotencyKey }, deps); // 202 batchView(job)
 * ```
 */
export async function submitBatch(
  input: SubmitBatchInput,
  context: { issuerId: string; clientId: string; idempotencyKey: string; requestId?: string },
  deps: SubmitBatchDependencies,
): Promise<{ job: BatchJob; created: boolean }> {
  const id = batchIdFor(context.issuerId, context.idempotencyKey);
  const requestHash = await deps.fingerprint(canonicalJson({ batch: input.items }));
  const existing = await deps.batches.find(id);
  if (existing) return { job: sameRequest(existing, requestHash), created: false };
  // Each item checked as `POST /licences` would; a refused one is reported by its index, not issued.
  const errors: BatchItemError[] = [];
  // Which item first asked for each licence (its type, holder and fields: {@link checkItem}): a later
  // item asking for the same one is reported by its index, `duplicate_item`, and not issued, as API.md
  // reports any bad item; the first is issued (review R23 L3: a row typed twice made two licences).
  const firstAsking = new Map<string, number>();
  const items: BatchItems = input.items.map((item, index): BatchItems[number] => {
    const checked = checkItem(item);
    if ('licence' in checked) {
      const earlier = firstAsking.get(checked.licence);
      if (earlier === undefined) {
        firstAsking.set(checked.licence, index);
        return item as IssueLicenceInput;
      }
      const invalid = {
        index,
        code: 'duplicate_item',
        detail: `repeats item ${earlier}: the same type, holder and fields`,
      };
      errors.push(invalid);
      return { invalid };
    }
    const invalid = { index, code: checked.code, detail: itemErrorDetail(checked.errors) };
    errors.push(invalid);
    return { invalid };
  });
  // A new job takes one of the issuer's slots first (429 too_many_batches at the cap): see batch-slots.ts.
  await claimBatchSlot(context.issuerId, id, deps);
  try {
    // Sealed before they are stored: the items hold the holders' ID numbers, and wait in the table until
    // the job issues them (a job that fails every delivery keeps them). One data key per chunk.
    // This attempt's own set of chunks (batch-store.ts `chunkSet`): a concurrent submission of the same
    // key writes its own, so neither's clean-up can delete the items of the job the other wrote.
    const chunkSet = `set_${randomBytes(12).toString('base64url')}`;
    const chunks: BatchChunk[] = await Promise.all(
      chunkBounds(items).map(async ({ first, end }, n) => {
        const chunk = { batchId: id, requestHash, chunkSet, n, first };
        const sealedItems = await deps.batchItemsSealer.seal(
          batchItemsContext(chunk),
          items.slice(first, end),
        );
        // Unreachable while items are bounded by their types' schemas; a 500 from the table is not.
        if (sealedItems.length > BATCH_CHUNK_MAX_SEALED_BYTES) {
          throw new TooLargeError(`Chunk ${n} of this batch is too large to store`, 'batch_too_large');
        }
        return {
          ...chunk,
          sealedItems,
          expiresAt: epochSeconds(deps.clock) + batchItemsRetentionSeconds,
        };
      }),
    );
    const job: BatchJob = {
      id,
      issuerId: context.issuerId,
      clientId: context.clientId,
      requestHash,
      status: 'running',
      total: items.length,
      issued: 0,
      failed: errors.length,
      errors,
      chunks: chunks.length,
      nextChunk: 0,
      createdAt: new Date(deps.clock.now()).toISOString(),
      ...(context.requestId !== undefined && { requestId: context.requestId }),
      chunkSet,
      version: 0,
    };
    const stored = await deps.batches.create(job, chunks);
    return stored.created ? stored : { job: sameRequest(stored.job, requestHash), created: false };
  } catch (error) {
    // Nothing else gives the slot back when no job was written (sealing, a chunk or the job write failed):
    // a few failing submissions would hold the issuer at the cap until the write grace passes.
    await releaseUnwrittenSlot(context.issuerId, id, deps);
    throw error;
  }
}

/**
 * Releases the slot of a submission that failed, unless its job exists after all (written before the
 * failure was seen, or by a concurrent submission of the same key): that job gives it back when done.
 * Its own failures are logged, never thrown: the submission's error is what the caller is answered.
 */
async function releaseUnwrittenSlot(
  issuerId: string,
  batchId: string,
  deps: Pick<SubmitBatchDependencies, 'batches' | 'batchSlots'>,
): Promise<void> {
  try {
    if (await deps.batches.find(batchId)) return;
    await releaseBatchSlot(issuerId, batchId, deps);
  } catch (error) {
    logger.warn('batch slot of a failed submission not released; left for the next claim to mend', {
      batchId,
      error: String(error),
    });
  }
}

/**
 * An item as `POST /licences` would check it before anything is reserved: its shape, its type in the
 * catalogue, its holder's kind and its fields against the type's schema (so every value is bounded, and
 * a chunk of items is too). The holder's number, the issuer's rights and the credential's size are
 * checked when the job issues it. When it passes, `licence` says which licence it asks for: its type, its
 * holder's number and its fields as they will be issued (the numbers trimmed and in capitals, as their
 * parsers read them; the fields as the type's schema normalises them), in canonical JSON. It holds an ID
 * number: compared in memory, never stored, logged or answered.
 */
function checkItem(item: unknown): { licence: string } | { code: string; errors: readonly FieldError[] } {
  const parsed = issueLicenceInput.safeParse(item);
  if (!parsed.success) {
    // As `POST /licences` says it (zodErrors: the holder's union in its branches' terms, each unknown
    // member at its own path); the item as a whole has no path here: its detail names it `(item)`.
    return { code: 'invalid_item', errors: zodErrors(parsed.error, item, '') };
  }
  try {
    const type = findLicenceType(parsed.data.type);
    if (!type) {
      return {
        code: 'unknown_licence_type',
        errors: [{ path: 'type', message: '', code: 'unknown_licence_type' }],
      };
    }
    // The holder's kind before the fields, as `POST /licences` checks it: a business licence for a person
    // is `holder_kind_mismatch`, not six `fields.…: required`.
    assertHolderKind(parsed.data.holder, type);
    const fields = validateFields(type, parsed.data.fields);
    const holder = parsed.data.holder;
    const number = 'idNumber' in holder ? holder.idNumber : holder.creditCode;
    return { licence: canonicalJson({ type: type.code, holder: number.trim().toUpperCase(), fields }) };
  } catch (error) {
    if (error instanceof InvalidInputError) return { code: error.code, errors: error.errors };
    throw error;
  }
}

/**
 * A refused item's `detail`, kept in the job for as long as the job: each failing path and its code,
 * never a value and never a key the issuer made up (an unknown key may be an ID number: `fields.…`).
 * A path segment is echoed only when it is a plain word (every catalogue field is) or a small index.
 *
 * @example
 * ```ts
 * itemErrorDetail([{ path: 'fields.110105199003071239', message: '', code: 'unknown_field' }]); // 'fields.…: unknown_field'
 * itemErrorDetail([{ path: 'holder', message: '', code: 'exactly_one_of', params: { keys: 'idNumber, creditCode' } }]);
 * // 'holder: exactly_one_of(idNumber, creditCode)'
 * ```
 */
export function itemErrorDetail(errors: readonly FieldError[]): string {
  if (errors.length === 0) return 'invalid';
  const safeSegment = (segment: string) => (/^([A-Za-z]{1,64}|\d{1,4})$/.test(segment) ? segment : '…');
  // The keys of `exactly_one_of` are the schema's (`idNumber, creditCode`), never the issuer's.
  const keysOf = (error: FieldError) =>
    error.code === 'exactly_one_of' && typeof error.params?.keys === 'string'
      ? `(${error.params.keys.split(', ').map(safeSegment).join(', ')})`
      : '';
  return detailOf(
    errors
      .map(
        (error) =>
          `${error.path.split('.').map(safeSegment).join('.') || '(item)'}: ${error.code ?? 'invalid'}${keysOf(error)}`,
      )
      .join('; '),
  );
}

/**
 * A refusal's `detail` while the job runs: its field errors as {@link itemErrorDetail} writes them, else
 * its message with anything shaped like an ID number or a credit code (a run of 15 or more digits or
 * capitals) left out.
 */
function refusalDetail(error: ServiceError): string {
  if (error.errors.length > 0) return itemErrorDetail(error.errors);
  if (error.code === 'issuer_key_withdrawn') {
    return 'The licence was written (licenceId) but its signing key was withdrawn as it was issued, so it does not verify: re-issue it, do not submit the item again';
  }
  return detailOf(error.message.replace(/[0-9A-Z]{15,}[0-9A-Za-z]*/g, '…'));
}

/**
 * The chunks of a batch's items, as `[first, end)` index ranges: at most {@link BATCH_CHUNK_SIZE} items
 * and {@link BATCH_CHUNK_MAX_ITEM_BYTES} of their JSON each, so a sealed chunk (base64, 4/3 of that, and
 * its wrapped key) stays well within a DynamoDB item's 400 KB.
 */
export function chunkBounds(items: readonly unknown[]): Array<{ first: number; end: number }> {
  const bounds: Array<{ first: number; end: number }> = [];
  let first = 0;
  let bytes = 0;
  items.forEach((item, index) => {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (index > first && (index - first >= BATCH_CHUNK_SIZE || bytes + size > BATCH_CHUNK_MAX_ITEM_BYTES)) {
      bounds.push({ first, end: index });
      first = index;
      bytes = 0;
    }
    bytes += size;
  });
  if (items.length > first) bounds.push({ first, end: items.length });
  return bounds;
}

function sameRequest(job: BatchJob, requestHash: string): BatchJob {
  if (job.requestHash !== requestHash) {
    throw new ConflictError(
      'This Idempotency-Key was used with a different request body',
      'idempotency_key_reused',
    );
  }
  return job;
}

/** The caller's own job; another issuer's job does not exist for it (404). */
export async function readBatch(
  id: string,
  issuerId: string,
  deps: { batches: Pick<BatchStore, 'find'> },
): Promise<BatchJob> {
  const job = await deps.batches.find(id);
  if (!job || job.issuerId !== issuerId)
    throw new NotFoundError(`No batch ${id} of this issuer`, 'batch_not_found');
  return job;
}

export const batchLicencesQuery = z.strictObject({
  cursor: z
    .string()
    .regex(/^\d{1,4}$/, 'an opaque cursor from the previous page')
    .optional(),
});

/**
 * The licences a job issued, one chunk (up to 100, in request order) a page; `cursor` names the next.
 * Items refused, and those not yet processed, are not listed.
 *
 * @example
 * ```ts
 * const page = await batchLicences('bat_…', issuerId, { cursor: '1' }, deps);
 * ```
 */
export async function batchLicences(
  id: string,
  issuerId: string,
  query: z.output<typeof batchLicencesQuery>,
  deps: { batches: BatchStore; licences: Pick<LicenceStore, 'get'> },
): Promise<{ items: LicenceRecord[]; cursor?: string }> {
  const job = await readBatch(id, issuerId, deps);
  const n = query.cursor === undefined ? 0 : Number(query.cursor);
  if (n >= job.chunks) {
    if (n === 0) return { items: [] };
    throw new InvalidInputError('This cursor is not one this batch gave', 'invalid_cursor', {
      errors: [{ path: 'cursor', message: 'not a cursor of this batch' }],
    });
  }
  const chunk = await deps.batches.chunk(job.id, chunkSetOf(job), n);
  const ids = (chunk?.licenceIds ?? []).filter((licenceId): licenceId is string => licenceId !== null);
  const found = await Promise.all(ids.map((licenceId) => deps.licences.get(licenceId)));
  const items = found.filter((licence): licence is LicenceRecord => licence?.issuerId === issuerId);
  return n + 1 < job.chunks ? { items, cursor: String(n + 1) } : { items };
}

export interface RunBatchDependencies extends IssueLicenceDependencies {
  batches: BatchStore;
  /** Opens what {@link submitBatch} sealed. */
  batchItemsSealer: Pick<EnvelopeSealer, 'open'>;
  batchSigners: BatchSigners;
  /** Items issued at once within a chunk. */
  concurrency?: number;
  /** Where a finished job gives its issuer's slot back (shared/licence/batch-slots.ts). */
  batchSlots?: BatchSlotStore;
}

/**
 * Processes a job to its end: chunk after chunk, each item through {@link issueLicence} with its own
 * idempotency key ({@link batchItemKey}) and the batch signer; a refused item (a domain error: unknown
 * type, bad number, outside the jurisdiction…) is recorded by its index, and the others go on. A chunk's
 * outcome is stored in the chunk first (the sealed items, ID numbers included, dropped from it), then
 * counted into the job, so a re-run after a crash at any point issues nothing twice and counts nothing
 * twice. A fault (the table, KMS) throws: the queue delivers the job again, and the re-run picks up there.
 * Two runs of one job at once (a message delivered twice) never write over each other's chunk
 * ({@link saveChunkOver}) nor count one twice (the job's `version`), and the slower one goes on from
 * where the other left the job rather than failing ({@link saveJobOver}).
 *
 * However late the re-run (a message redriven from the dead-letter queue weeks on), an item issued before
 * is not issued again: the chunk under way keeps the ids of its items issued so far when a fault stops it
 * (skipped on the re-run), and each item's idempotency record is kept
 * {@link batchItemKeyRetentionSeconds}, longer than its chunk's items may be issued (a crash that saves
 * nothing). A chunk whose items have expired is a fault: never issued, never skipped.
 *
 * @example
 * ```ts
 * await runBatch(batchId, { ...issueDeps, batches, batchSigners });
 * ```
 */
export async function runBatch(batchId: string, deps: RunBatchDependencies): Promise<BatchJob | undefined> {
  let job = await deps.batches.find(batchId);
  if (!job) {
    logger.warn('batch job not found', { batchId });
    return undefined;
  }
  const issueDeps: IssueLicenceDependencies = {
    ...deps,
    credentialSigner: (issuer: Issuer & { keyId: string }, issuedAt: Date) =>
      deps.batchSigners.signerFor(issuer, issuedAt),
  };
  while (job.status === 'running') {
    if (job.nextChunk >= job.chunks) {
      const finished = await saveJobOver(job, (current) => ({ ...current, status: 'done' }), deps);
      if (finished.saved)
        logger.info('batch done', { batchId, issued: finished.job.issued, failed: finished.job.failed });
      job = finished.job;
      break;
    }
    const chunk = await deps.batches.chunk(job.id, chunkSetOf(job), job.nextChunk);
    if (!chunk) throw new Error(`batch ${job.id}: chunk ${job.nextChunk} is missing`);
    const items = chunk.sealedItems ? await openItems(chunk, deps) : chunk.items;
    // Past its expiry (the table's TTL deletes late): its items' idempotency records may be gone too.
    if (items && chunk.expiresAt !== undefined && chunk.expiresAt <= epochSeconds(deps.clock)) {
      throw new Error(`batch ${job.id}: chunk ${chunk.n}'s items expired before they were issued`);
    }
    const done = items
      ? await saveChunkOver(chunk, await processChunk(job, chunk, items, issueDeps, deps), deps)
      : chunk;
    const ids = done.licenceIds ?? [];
    const chunkErrors = done.errors ?? [];
    ({ job } = await saveJobOver(
      job,
      (current) => ({
        ...current,
        issued: current.issued + ids.filter((licenceId) => licenceId !== null).length,
        failed: current.failed + chunkErrors.length,
        // In index order: those refused at submission come first otherwise (review R23 L2).
        errors: [...current.errors, ...chunkErrors].sort((a, b) => a.index - b.index),
        nextChunk: current.nextChunk + 1,
      }),
      deps,
    ));
  }
  // Also on a re-run of a job already done: its release may have been lost in a crash.
  await releaseBatchSlot(job.issuerId, job.id, deps);
  return job;
}

/** How many times {@link saveJobOver} reads the job again after another run saved it, before giving up. */
const JOB_SAVE_ATTEMPTS = 5;

/**
 * Saves `change(job)`, the job's next step (a chunk counted, or the job done), over the job as read. When
 * another run of the job saved it meanwhile (`batch_changed`: two deliveries of one message, or a redrive
 * overlapping a run, processed the same chunk), the job is read again: if the other run took that step
 * already (moved past the chunk, or finished the job), its job stands and is answered (`saved: false`),
 * this run going on from there; else the step is taken over the job as stored. The chunk's outcome both
 * runs count is the one stored ({@link saveChunkOver}), so it is counted once either way. The slower run's
 * delivery used to fail on the conflict, counting towards the dead-letter queue though nothing was wrong.
 * A job that keeps changing without moving on is a fault (the queue delivers again).
 */
async function saveJobOver(
  read: BatchJob,
  change: (job: BatchJob) => BatchJob,
  deps: Pick<RunBatchDependencies, 'batches'>,
): Promise<{ job: BatchJob; saved: boolean }> {
  const step = read.nextChunk;
  let job = read;
  for (let tries = 0; tries < JOB_SAVE_ATTEMPTS; tries += 1) {
    try {
      return { job: await deps.batches.saveJob(change(job)), saved: true };
    } catch (error) {
      if (!(error instanceof ConflictError) || error.code !== 'batch_changed') throw error;
    }
    const stored = await deps.batches.find(read.id);
    if (!stored) throw new Error(`batch ${read.id} is missing`);
    if (stored.status !== 'running' || stored.nextChunk > step) return { job: stored, saved: false };
    job = stored;
  }
  throw new Error(`batch ${read.id} kept changing under another run`);
}

/** A chunk's items; a chunk that does not open (altered, moved, another key) is a fault, never skipped. */
async function openItems(chunk: BatchChunk, deps: Pick<RunBatchDependencies, 'batchItemsSealer'>) {
  return (await deps.batchItemsSealer.open(batchItemsContext(chunk), chunk.sealedItems!)) as BatchItems;
}

/** How many times {@link saveChunkOver} reads a chunk again after another run saved it, before giving up. */
const CHUNK_SAVE_ATTEMPTS = 5;

/**
 * Saves `next` (a chunk's outcome, or its progress with its items kept) over the chunk as `read`, never
 * over what another run saved meanwhile: SQS delivers a message at least once, and a redrive may overlap
 * a run still going, so two runs of a job may process one chunk at once (review R23 M1: the slower
 * run's progress used to replace the other's outcome, putting the sealed items back and half the licences
 * out of the job's list). When the chunk changed since it was read, it is read again:
 *
 * 1. finished by the other run: its outcome stands and is answered (a chunk is never put back);
 * 2. still under way (the other run saved progress): the licence ids of both runs are merged (the same
 *    item's id is the same in both, through its idempotency key) and the write tried again over it.
 *
 * Answers the chunk as stored. A chunk that keeps changing is a fault (the queue delivers again).
 */
async function saveChunkOver(
  read: BatchChunk,
  next: BatchChunk,
  deps: Pick<RunBatchDependencies, 'batches'>,
): Promise<BatchChunk> {
  let base = read;
  let attempt = next;
  for (let tries = 0; tries < CHUNK_SAVE_ATTEMPTS; tries += 1) {
    const write = { ...attempt, version: base.version ?? 0 };
    if (await deps.batches.saveChunk(write)) return { ...write, version: write.version + 1 };
    const stored = await deps.batches.chunk(read.batchId, chunkSetOf(read), read.n);
    if (!stored) throw new Error(`batch ${read.batchId}: chunk ${read.n} is missing`);
    if (chunkFinished(stored)) return stored;
    const licenceIds = (attempt.licenceIds ?? []).map(
      (licenceId, position) => licenceId ?? stored.licenceIds?.[position] ?? null,
    );
    // An item the other run issued is no longer one this run refused.
    const errors = attempt.errors?.filter((error) => licenceIds[error.index - read.first] === null);
    base = stored;
    attempt = chunkFinished(attempt)
      ? { ...attempt, licenceIds, ...(errors && { errors }) }
      : { ...stored, licenceIds };
  }
  throw new Error(`batch ${read.batchId}: chunk ${read.n} kept changing under another run`);
}

async function processChunk(
  job: BatchJob,
  chunk: BatchChunk,
  items: BatchItems,
  deps: IssueLicenceDependencies,
  run: Pick<RunBatchDependencies, 'batches' | 'concurrency'>,
): Promise<BatchChunk & { errors: BatchItemError[] }> {
  const concurrency = run.concurrency ?? 8;
  // What an earlier run stopped by a fault issued of this chunk: kept, never issued again.
  const licenceIds: Array<string | null> = items.map((_, position) => chunk.licenceIds?.[position] ?? null);
  const retainIdempotencyUntil = epochSeconds(deps.clock) + batchItemKeyRetentionSeconds;
  const errors: BatchItemError[] = [];
  let next = 0;
  // After a fault no worker takes another item, and the chunk fails only once every item under way has
  // settled (released its idempotency record): the re-run then finds none of them held.
  let fault: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !fault) {
      const position = next;
      next += 1;
      const item = items[position]!;
      // Refused at submission, and already counted there; or issued by an earlier run.
      if ('invalid' in item || licenceIds[position] !== null) continue;
      const index = chunk.first + position;
      try {
        const { licence } = await issueLicence(
          item,
          {
            issuerId: job.issuerId,
            clientId: job.clientId,
            idempotencyKey: batchItemKey(job.id, index),
            retainIdempotencyUntil,
            ...(job.requestId !== undefined && { requestId: job.requestId }),
          },
          deps,
        );
        licenceIds[position] = licence.id;
      } catch (error) {
        // Retryable conflicts (another run holds the item, or took it over from this one, stalled past its
        // lock) and faults are the queue's to retry.
        if (
          !(error instanceof ServiceError) ||
          !error.expose ||
          error.code === 'idempotency_key_in_use' ||
          error.code === 'idempotency_key_taken_over'
        ) {
          fault ??= { error };
          return;
        }
        errors.push({
          index,
          code: error.code,
          detail: refusalDetail(error),
          // Written, but its key was withdrawn meanwhile: the licence to re-issue, not an item to resend.
          ...(error.licenceId !== undefined && { licenceId: error.licenceId }),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (fault) {
    // The items issued so far, in the chunk (its items kept): a re-run skips them, however late it comes.
    // Over the chunk as read only: another delivery running at once may have finished it meanwhile.
    await saveChunkOver(chunk, { ...chunk, licenceIds }, run).catch((error: unknown) =>
      logger.warn('batch chunk progress not saved; the items’ idempotency records stand in', {
        batchId: job.id,
        chunk: chunk.n,
        error: String(error),
      }),
    );
    throw fault.error;
  }
  errors.sort((a, b) => a.index - b.index);
  // What is left is the outcome, no holder's data: it stays as long as the job (its licences' list).
  const { sealedItems: _sealed, items: _clear, expiresAt: _expiry, ...rest } = chunk;
  return { ...rest, licenceIds, errors };
}
