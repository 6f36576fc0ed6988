import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { logger } from '../logger.js';
import {
  pendingWorkLogLines,
  recordPendingAudit,
  type PendingAuditEntry,
  type PendingWorkIndex,
} from '../pending-work/pending-work.js';
import type { LicenceRecord, StoredStatus } from './licence.js';
import type { LicenceStore } from './licence-store.js';
import type { StatusListStore } from './status-list-store.js';

export type { PendingWork } from './licence.js';

/**
 * A licence's pending work: its audit entries and its status-list entry, held in the licence record
 * (`pending`), its pointer in a {@link PendingWorkIndex} of licences' (the generic port,
 * shared/pending-work/pending-work.ts), completed by the change's request, a retry, or the reconciler
 * (shared/reconciler/reconcile-pending-work.ts).
 */
export interface PendingWorkDependencies {
  licences: LicenceStore;
  statusLists: StatusListStore;
  audit: AuditTrail;
  pendingWork: PendingWorkIndex;
  clock: Clock;
}

/** Token Status List values: 0 valid, 1 invalid (our revoked), 2 suspended. */
export const statusListValue = { valid: 0, revoked: 1, suspended: 2 } as const satisfies Record<
  StoredStatus,
  number
>;

/**
 * The key a change's audit entry is written once under: the licence, the version the change saved (each
 * version is saved once), and the entry's index among that change's entries.
 *
 * @example
 * ```ts
 * pendingAudit(licence.id, current.version + 1, [entry]); // [{ key: '<id>#4#0', entry }]
 * ```
 */
export function pendingAudit(
  licenceId: string,
  version: number,
  entries: readonly AuditEntry[],
): PendingAuditEntry[] {
  return entries.map((entry, index) => ({ key: `${licenceId}#${version}#${index}`, entry }));
}

/**
 * The pending audit entries of a record. One written before entries had keys is a bare entry: its key is
 * made of its action and time, unique within its licence's trail.
 */
function pendingAuditOf(licence: LicenceRecord): PendingAuditEntry[] {
  return (licence.pending?.audit ?? []).map((item) =>
    'key' in item && 'entry' in item
      ? item
      : {
          key: `${licence.id}#${(item as AuditEntry).action}#${(item as AuditEntry).at}`,
          entry: item as AuditEntry,
        },
  );
}

/** How far {@link completePendingWork} goes. */
export interface CompleteOptions {
  /** The reconciler has just settled the licence's unfinished re-issue: its pointer need not stay. */
  reissueSettled?: boolean;
  /**
   * The last version whose work this completer may finish: a record found (or read again) at a later
   * version, a later change's work carried with it, is left whole and its claim released, the pointer
   * kept for the reconciler. The issuance (version 1) passes 1: the `batches` function may put the marks
   * of issuance entries alone (`audit-once#<licence id>#1#0`), never a later change's (review R57 F1).
   */
  throughVersion?: number;
}

/**
 * Completes a licence's pending work under `claim` (from `mark` or `claim`), in this order:
 *
 * 1. the status list takes the record's status (read again until no newer version was saved meanwhile);
 * 2. each audit entry is recorded under its key ({@link pendingAudit}): one written before, by whatever
 *    completer and even if its write seemed to fail, is not written again (nothing is looked up first);
 * 3. the marker is removed from the record (only if it is still the version completed: work a concurrent
 *    change added is completed in another round), then the pointer.
 *
 * A status list that cannot be written is logged and thrown; an audit entry that cannot be written is
 * logged and left pending (the change itself stands). Either way the claim is released, so that a retry
 * or the reconciler finishes it. Answers the record as it stands.
 *
 * @example
 * ```ts
 * const claim = await deps.pendingWork.claim(licence.id, now);
 * if (claim) await completePendingWork(licence, claim, deps);
 * ```
 */
export async function completePendingWork(
  licence: LicenceRecord,
  claim: string,
  deps: PendingWorkDependencies,
  options: CompleteOptions = {},
): Promise<LicenceRecord> {
  let current = licence;
  try {
    for (;;) {
      const pending = current.pending;
      if (!pending) break;
      // A later change than the completer may finish (`throughVersion`): left, pointer and all, to its own
      // function or the reconciler, which are granted its entries' marks (review R57 F1).
      if (options.throughVersion !== undefined && current.version > options.throughVersion) {
        await deps.pendingWork.release(current.id, claim).catch(() => undefined);
        return withoutPending(current);
      }
      // Both parts are tried whatever the other's outcome: each one done is one fewer left behind.
      let listFailure: { error: unknown } | undefined;
      if (pending.statusList) {
        try {
          const latest = await applyStatus(current, deps);
          // A newer version (another change, or a completer that cleared it): complete what it holds.
          if (latest.version !== current.version) {
            current = latest;
            continue;
          }
        } catch (error) {
          listFailure = { error };
        }
      }
      const auditFailed = !(await recordPendingAudit(pendingAuditOf(current), deps, {
        licenceId: current.id,
      }));
      if (listFailure) throw listFailure.error;
      if (auditFailed) {
        await deps.pendingWork.release(current.id, claim).catch(() => undefined);
        return withoutPending(current);
      }
      const cleared = await deps.licences.clearPending(current.id, current.version);
      if (cleared) {
        current = cleared;
        break;
      }
      // A change saved meanwhile, with its own work (and ours, unless it read after we cleared): again.
      const latest = await deps.licences.get(current.id);
      if (!latest) break;
      current = latest;
    }
  } catch (error) {
    await deps.pendingWork.release(current.id, claim).catch(() => undefined);
    throw error;
  }
  // A re-issue of this licence not finished (its claim `replacedBy`, the licence not revoked): the pointer
  // the re-issue marked stays, free, for the reconciler to finish it (review R38 M1), unless the reconciler
  // has just settled it (`finishUnfinishedReissue` in reissue-licence.ts). A re-issue given up (its
  // replacement revoked, review R40 F1) is nothing to finish, once the replacement's revocation asked with
  // the mark is made: until then the pointer stays too, for the reconciler to make it
  // (`revokeGivenUpReplacement` in change-status.ts), whatever the licence's status.
  const givenUp = current.replacedBy !== undefined && current.reissueGivenUp === current.replacedBy;
  const owed =
    givenUp && !options.reissueSettled && current.replacementRevocation !== undefined
      ? await replacementRevocationOwed(current, deps)
      : false;
  if (owed || (current.replacedBy && current.status !== 'revoked' && !givenUp && !options.reissueSettled)) {
    await deps.pendingWork.release(current.id, claim);
    return current;
  }
  await deps.pendingWork.remove(current.id, claim);
  return current;
}

/**
 * Whether the given-up re-issue of `licence` still owes the revocation of its replacement asked with the
 * mark (`replacementRevocation`): the replacement is there and not revoked. Read only for a licence
 * carrying such a mark, so that its pointer stays until the revocation is made.
 */
export async function replacementRevocationOwed(
  licence: LicenceRecord,
  deps: Pick<PendingWorkDependencies, 'licences'>,
): Promise<boolean> {
  if (!licence.replacementRevocation || !licence.reissueGivenUp) return false;
  if (licence.replacedBy !== licence.reissueGivenUp) return false;
  const replacement = await deps.licences.get(licence.reissueGivenUp);
  return replacement !== undefined && replacement.status !== 'revoked';
}

/**
 * {@link completePendingWork} for a licence found with work outstanding (a retry, the reconciler): claims
 * it first, and leaves it to whoever holds it if someone does (the record as read is answered).
 */
export async function finishPendingWork(
  licence: LicenceRecord,
  deps: PendingWorkDependencies,
  options: Pick<CompleteOptions, 'throughVersion'> = {},
): Promise<LicenceRecord> {
  if (!licence.pending) return licence;
  if (options.throughVersion !== undefined && licence.version > options.throughVersion) {
    return withoutPending(licence);
  }
  const claim = await deps.pendingWork.claim(licence.id, new Date(deps.clock.now()));
  if (!claim) return withoutPending(licence);
  return completePendingWork(licence, claim, deps, options);
}

/**
 * The change's own write (`write`, after its `mark`): if it fails, the claim the mark answered is given up
 * at once, so that a retry (a redelivered batch item, the same request again) need not wait for its lease.
 *
 * @example
 * ```ts
 * const claim = await deps.pendingWork.mark(id, now);
 * const saved = await writeMarked(id, claim, deps, () => deps.licences.save({ ...licence, pending }));
 * ```
 */
export async function writeMarked<T>(
  licenceId: string,
  claim: string | undefined,
  deps: Pick<PendingWorkDependencies, 'pendingWork'>,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (claim) await deps.pendingWork.release(licenceId, claim).catch(() => undefined);
    throw error;
  }
}

/**
 * Completes the work a change just saved under the claim its `mark` answered. Without one (another
 * completer held the pointer when the change marked it), the pointer is claimed again, as the holder may
 * be done by now; still held, the status list alone is written here (it must not wait for the holder:
 * an offline verifier reads it), and the rest is left to the holder, which reads the newer version, or to
 * the reconciler, which finds the pointer marked again. Answers the record as it stands, without its
 * pending work.
 *
 * @example
 * ```ts
 * const claim = await deps.pendingWork.mark(id, now);
 * const saved = await deps.licences.save({ ...licence, pending });
 * await completeChange(saved, claim, deps);
 * ```
 */
export async function completeChange(
  saved: LicenceRecord,
  claim: string | undefined,
  deps: PendingWorkDependencies,
  options: Pick<CompleteOptions, 'throughVersion'> = {},
): Promise<LicenceRecord> {
  const held = claim ?? (await deps.pendingWork.claim(saved.id, new Date(deps.clock.now())));
  if (held) return completePendingWork(saved, held, deps, options);
  return withoutPending(saved.pending?.statusList ? await applyStatus(saved, deps) : saved);
}

/** The record as answered: the pending work is bookkeeping, never part of a licence's view. */
export function withoutPending(licence: LicenceRecord): LicenceRecord {
  const { pending: _pending, ...rest } = licence;
  return rest;
}

/**
 * Writes the record's status into its status list, then reads the record again: a concurrent change may
 * have saved a newer status while this write waited (the store retries under contention), and written the
 * list before it. The last writer then always leaves the latest status; a late write over a revocation is
 * not even momentary (the store never overwrites a revoked entry). Logs a list it could not write.
 */
export async function applyStatus(
  licence: LicenceRecord,
  deps: Pick<PendingWorkDependencies, 'licences' | 'statusLists'>,
): Promise<LicenceRecord> {
  for (let applied = licence; ;) {
    try {
      await deps.statusLists.setStatus(
        applied.statusList.listId,
        applied.statusList.idx,
        statusListValue[applied.status],
      );
    } catch (error) {
      logger.error(pendingWorkLogLines.statusList, {
        licenceId: applied.id,
        listId: applied.statusList.listId,
        error: String(error),
      });
      throw error;
    }
    const latest = await deps.licences.get(applied.id);
    if (!latest || latest.version === applied.version) return latest ?? applied;
    applied = latest;
  }
}

/**
 * Completes a licence's pending work for the reconciler (under `claim`), or removes its pointer if the
 * licence is absent: the write the pointer announced never happened (its request failed before it, and has
 * since timed out), so there is nothing to complete. Answers whether work is still left. `reissueSettled`:
 * the reconciler has just finished (or found nothing to finish of) a re-issue of the licence, so its
 * pointer goes even if the licence still names a replacement.
 */
export async function leftPending(
  licenceId: string,
  claim: string,
  deps: PendingWorkDependencies,
  options: { reissueSettled?: boolean } = {},
): Promise<boolean> {
  const licence = await deps.licences.get(licenceId);
  if (!licence) {
    await deps.pendingWork.remove(licenceId, claim);
    return false;
  }
  await completePendingWork(licence, claim, deps, options);
  return (await deps.licences.get(licenceId))?.pending !== undefined;
}
