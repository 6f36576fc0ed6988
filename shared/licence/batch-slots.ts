/**
 * The per-issuer cap on bulk issuance jobs (docs/batch-issuance.md "Fair use"): the batch queue is one
 * for every agency and runs a handful of jobs at once, first in first out, so without a cap one issuer
 * (or a stolen client secret) queueing hundreds of 1,000-item jobs would hold every other agency's imports
 * for hours. Each issuer may have at most `maxOpenJobs` jobs pending or running; one more is refused
 * (`429 too_many_batches`, with `Retry-After`) until one of them finishes.
 *
 * The open jobs are counted in one item per issuer ({@link BatchSlotStore}): the ids of its unfinished
 * jobs, each with when it claimed its slot, replaced under optimistic concurrency, so two concurrent
 * submissions cannot both take the last slot. A slot is claimed before the job is written and released
 * when the job is done; what a crash leaves behind is found and released when the issuer is at the cap
 * ({@link claimBatchSlot}): a job that is done (its release lost), a claim whose job was never written,
 * and a job that holds its slot longer than `holdSeconds` (it died: the dead-letter queue).
 *
 * @packageDocumentation
 */
import type { Clock } from '../clock.js';
import { ConflictError, TooManyRequestsError } from '../errors.js';
import { logger } from '../logger.js';
import type { BatchStore } from './batch-store.js';

/** An issuer's unfinished jobs: batch id → when it claimed its slot (epoch ms); version 0 when none yet. */
export interface OpenBatches {
  open: Record<string, number>;
  version: number;
}

/**
 * Where each issuer's open jobs are kept. Contract: `read` is strongly consistent and answers
 * `{ open: {}, version: 0 }` for an issuer never seen; `save` replaces the issuer's set only if its
 * version is still `expectedVersion` (0: not yet written), else throws `ConflictError` and changes nothing.
 */
export interface BatchSlotStore {
  read(issuerId: string): Promise<OpenBatches>;
  save(issuerId: string, open: Record<string, number>, expectedVersion: number): Promise<void>;
}

/** The cap: jobs pending or running per issuer, and how long an unfinished job may hold its slot. */
export interface BatchLimits {
  maxOpenJobs: number;
  holdSeconds: number;
}

export interface BatchSlotDependencies {
  batchSlots: BatchSlotStore;
  batches: Pick<BatchStore, 'find'>;
  clock: Clock;
  batchLimits: BatchLimits;
}

/** The slot store and limits may be absent (no cap); the job store and clock never are. */
type Optional<D extends BatchSlotDependencies> = Omit<D, 'batchSlots' | 'batchLimits'> &
  Partial<Pick<D, 'batchSlots' | 'batchLimits'>>;

const isCapped = (deps: Optional<BatchSlotDependencies>): deps is BatchSlotDependencies =>
  deps.batchSlots !== undefined && deps.batchLimits !== undefined;

/** What a client is told to wait before trying again: jobs take seconds to minutes. */
export const BATCH_RETRY_AFTER_SECONDS = 60;

/**
 * A claim younger than this whose job does not exist is a submission still writing its chunks, not a
 * crash: it keeps its slot.
 */
const writeGraceMs = 5 * 60 * 1000;

/** Optimistic rounds before giving up on a contended issuer item (each loser re-reads). */
const rounds = 5;

/**
 * Takes one of the issuer's slots for `batchId` (already holding one: nothing to do), or refuses with
 * `429 too_many_batches` when the issuer has `maxOpenJobs` unfinished jobs. At the cap, the jobs held are
 * read (at most `maxOpenJobs` reads, only then) and the slots of those done, never written or past
 * `holdSeconds` are released first.
 *
 * @example
 * ```ts
 * await claimBatchSlot(issuerId, batchId, deps); // before the job is written
 * ```
 */
export async function claimBatchSlot(
  issuerId: string,
  batchId: string,
  deps: Optional<BatchSlotDependencies>,
): Promise<void> {
  // Without a store, no cap (unit tests of other parts); the functions' compositions always pass one.
  if (!isCapped(deps)) return;
  const { maxOpenJobs } = deps.batchLimits;
  for (let round = 0; round < rounds; round += 1) {
    const current = await deps.batchSlots.read(issuerId);
    if (Object.hasOwn(current.open, batchId)) return;
    let open = current.open;
    if (Object.keys(open).length >= maxOpenJobs) open = await stillOpen(open, deps);
    if (Object.keys(open).length >= maxOpenJobs) {
      throw new TooManyRequestsError(
        `This issuer already has ${maxOpenJobs} bulk issuance jobs pending or running, the most allowed at once (BATCH_MAX_OPEN_JOBS_PER_ISSUER=${maxOpenJobs}); submit this one when one of them is done`,
        BATCH_RETRY_AFTER_SECONDS,
        'too_many_batches',
      );
    }
    try {
      await deps.batchSlots.save(issuerId, { ...open, [batchId]: deps.clock.now() }, current.version);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  throw new TooManyRequestsError(
    'Too many bulk issuance jobs submitted at once by this issuer; try again shortly',
    1,
    'too_many_batches',
  );
}

/** The entries of `open` whose job still holds its slot (crash leftovers dropped, and logged). */
async function stillOpen(
  open: Record<string, number>,
  deps: BatchSlotDependencies,
): Promise<Record<string, number>> {
  const now = deps.clock.now();
  const kept = await Promise.all(
    Object.entries(open).map(async ([batchId, claimedAt]): Promise<[string, number] | undefined> => {
      if (now - claimedAt > deps.batchLimits.holdSeconds * 1000) {
        logger.warn('batch slot released: the job held it too long', { batchId });
        return undefined;
      }
      const job = await deps.batches.find(batchId);
      if (job?.status === 'done') return undefined;
      if (!job && now - claimedAt > writeGraceMs) return undefined;
      return [batchId, claimedAt];
    }),
  );
  return Object.fromEntries(kept.filter((entry): entry is [string, number] => entry !== undefined));
}

/**
 * Gives back the slot of a finished job (done, or given up after its last delivery); nothing when it
 * holds none. A lost release is mended by the next {@link claimBatchSlot} at the cap.
 *
 * @example
 * ```ts
 * await releaseBatchSlot(job.issuerId, job.id, deps);
 * ```
 */
export async function releaseBatchSlot(
  issuerId: string,
  batchId: string,
  deps: { batchSlots?: BatchSlotStore },
): Promise<void> {
  if (!deps.batchSlots) return;
  for (let round = 0; round < rounds; round += 1) {
    const current = await deps.batchSlots.read(issuerId);
    if (!Object.hasOwn(current.open, batchId)) return;
    const { [batchId]: _released, ...rest } = current.open;
    try {
      await deps.batchSlots.save(issuerId, rest, current.version);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  // Contended every round: the next claim at the cap finds the job done and releases it then.
  logger.warn('batch slot not released (contended); left for the next claim to mend', { batchId });
}
