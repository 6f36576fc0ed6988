import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { logger } from '../logger.js';
import type { LicenceRecord, PendingAuditEntry, StoredStatus } from './licence.js';

export type { PendingAuditEntry, PendingWork } from './licence.js';
import type { LicenceStore } from './licence-store.js';
import type { StatusListStore } from './status-list-store.js';

/**
 * The pointers the reconciler follows to work a change left to do after it (one small item each: DynamoDB
 * has no index of "items with an attribute" but a query of a key), and who is completing each (its claim,
 * a lease). An index holds pointers of one of two kinds, by what holds their work, each kind apart (its
 * own partition on DynamoDB, so that a function granted one kind cannot touch the other's: review M1):
 *
 * - a licence's (its id is the licence's): the work is in the licence record (`pending`: audit entries,
 *   the status list), and the pointer is written before the licence's own write by `mark`;
 * - one that carries its own audit entries ({@link CarriedAudit}: a change with no record of its own to
 *   hold them, as a person's withdrawal of an authorization): put by the change's own transaction
 *   (the adapter's item, e.g. `carriedAuditItem` on DynamoDB) already claimed for the change's request,
 *   as `claim` would have taken it then (its lease from `since`), its id the key of its entry, made of a
 *   group and a part unique to the change (`<group><change>`, the group ending in `#`).
 *
 * Both are claimed, completed and removed alike, and both are swept by {@link reconcilePendingWork}. A
 * claim that lasts longer than one taken now would (forged, or a broken clock) counts as lapsed.
 *
 * - `mark` writes or rewrites a licence's pointer before the write that records the work (a process that
 *   dies after that write has left a pointer to it), and answers a claim on it for the caller, unless
 *   another completer holds a live claim: that one is never taken over (`undefined`).
 * - `claim` takes a pointer nobody holds (released, or its lease lapsed) for `claimSeconds` from `now`:
 *   one completer at a time (the audit writes are idempotent whoever makes them; the claim spares the
 *   work twice over).
 * - `release` gives a claim up (the completion failed), so that a retry need not wait for the lease.
 * - `remove` deletes the pointer if the claim is still the caller's and no change marked it since the
 *   claim was taken; marked since, it releases the claim instead and the pointer stays for that change.
 * - `carried` lists the pointers of a group that carry their own entries (none in a licences' index).
 * - `olderThan` lists pointers marked (or put) before `before`, oldest shards first, at most `limit`,
 *   with the entries of those that carry them (never a licence's).
 */
export interface PendingWorkIndex {
  mark(id: string, now: Date): Promise<string | undefined>;
  claim(id: string, now: Date): Promise<string | undefined>;
  release(id: string, claim: string): Promise<void>;
  remove(id: string, claim: string): Promise<void>;
  carried(group: string): Promise<CarriedAudit[]>;
  olderThan(before: Date, limit: number): Promise<PendingPointer[]>;
}

/** A pointer as {@link PendingWorkIndex.olderThan} lists it; `audit` when it carries its own entries. */
export interface PendingPointer {
  id: string;
  since: string;
  audit?: PendingAuditEntry[];
}

/**
 * Audit entries a change saved with itself, in a pointer of their own, until each is written once under
 * its key: `id` names the pointer (the key of its entry), `owner` who may finish it by asking again (a
 * withdrawal's person), `since` when the change was saved (RFC 3339).
 */
export interface CarriedAudit {
  id: string;
  owner: string;
  since: string;
  audit: PendingAuditEntry[];
}

/**
 * The ids of the pointers that carry a withdrawal's audit entry start with this (`shared/sharing/authorizations.ts`
 * `withdrawalAuditGroup`): the reconciler completes no other pointer from the entries it carries.
 */
export const carriedAuditPrefix = 'authorization-withdrawn#';

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

/** The lines the stack's metric filter counts (infra/constructs/service-function.ts): each raises an alarm. */
export const pendingWorkLogLines = {
  audit: 'audit entry not written',
  statusList: 'status list not updated',
  /** Anything else that stopped a completion (the marker's or the pointer's write): the work stays. */
  incomplete: 'pending work not completed',
} as const;

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

/**
 * Writes pending audit entries, each once under its key: one written before, by whatever completer and
 * even if its write seemed to fail, is not written again (nothing is looked up first). Stops at the first
 * that cannot be written, logged with `context` (the alarm's line); answers whether all were written.
 */
async function recordPendingAudit(
  entries: readonly PendingAuditEntry[],
  deps: Pick<PendingWorkDependencies, 'audit' | 'clock'>,
  context: Record<string, string>,
): Promise<boolean> {
  for (const { key, entry } of entries) {
    try {
      await deps.audit.record(entry, { key, writtenAt: new Date(deps.clock.now()).toISOString() });
    } catch (error) {
      logger.error(pendingWorkLogLines.audit, { ...context, error: String(error) });
      return false;
    }
  }
  return true;
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
): Promise<LicenceRecord> {
  let current = licence;
  try {
    for (;;) {
      const pending = current.pending;
      if (!pending) break;
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
  await deps.pendingWork.remove(current.id, claim);
  return current;
}

/**
 * {@link completePendingWork} for a licence found with work outstanding (a retry, the reconciler): claims
 * it first, and leaves it to whoever holds it if someone does (the record as read is answered).
 */
export async function finishPendingWork(
  licence: LicenceRecord,
  deps: PendingWorkDependencies,
): Promise<LicenceRecord> {
  if (!licence.pending) return licence;
  const claim = await deps.pendingWork.claim(licence.id, new Date(deps.clock.now()));
  if (!claim) return withoutPending(licence);
  return completePendingWork(licence, claim, deps);
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
): Promise<LicenceRecord> {
  const held = claim ?? (await deps.pendingWork.claim(saved.id, new Date(deps.clock.now())));
  if (held) return completePendingWork(saved, held, deps);
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
 * What completing a pointer that carries its own entries needs: no licence, no status list; the index of
 * such pointers (`pendingAudit`), never licences'.
 */
export type CarriedAuditDependencies = Pick<PendingWorkDependencies, 'audit' | 'clock'> & {
  pendingAudit: PendingWorkIndex;
};

/**
 * Completes a pointer that carries its own audit entries ({@link CarriedAudit}) under `claim`: each entry
 * written once under its key, then the pointer removed. An entry that cannot be written is logged (the
 * alarm's line), the claim released so that a retry or the reconciler need not wait for its lease, and
 * the error thrown: the change stands, its entries stay saved.
 *
 * @example
 * ```ts
 * const { claim } = await sharingGrants.withdraw(ids, notice, carried); // put claimed by its transaction
 * if (claim) await completeCarriedAudit(carried, claim, deps);
 * ```
 */
export async function completeCarriedAudit(
  carried: Pick<CarriedAudit, 'id' | 'audit'>,
  claim: string,
  deps: CarriedAuditDependencies,
): Promise<void> {
  if (!(await recordPendingAudit(carried.audit, deps, { pendingWorkId: carried.id }))) {
    await deps.pendingAudit.release(carried.id, claim).catch(() => undefined);
    throw new Error(`${pendingWorkLogLines.audit}: ${carried.id}`);
  }
  await deps.pendingAudit.remove(carried.id, claim);
}

/**
 * {@link completeCarriedAudit} for a retry of the change that saved `carried` (the change itself holds the
 * claim its transaction put): claims the pointer first. Held by another completer (the change's request,
 * alive or gone; a concurrent retry; the reconciler), or gone (written meanwhile), it is theirs: answers
 * false, and the entries are written by them or, past the lease, the reconciler.
 *
 * @example
 * ```ts
 * for (const carried of await deps.pendingAudit.carried(withdrawalAuditGroup(grantId))) {
 *   await finishCarriedAudit(carried, deps);
 * }
 * ```
 */
export async function finishCarriedAudit(
  carried: Pick<CarriedAudit, 'id' | 'audit'>,
  deps: CarriedAuditDependencies,
): Promise<boolean> {
  const claim = await deps.pendingAudit.claim(carried.id, new Date(deps.clock.now()));
  if (!claim) return false;
  await completeCarriedAudit(carried, claim, deps);
  return true;
}

/**
 * Finishes what changes left undone (a Lambda timeout, a `status_list_contended` 503, an audit write that
 * failed, a process gone between a withdrawal's transaction and its audit write): every pointer older than
 * `minAgeSeconds` (the requests' own completion had its chance), of both indexes, is claimed and completed
 * (a licence's work; the entries a withdrawal's pointer carries), or removed when its licence was never
 * written or has nothing left. A pointer another completer holds is skipped (the next run sees it again).
 * A pointer in `pendingAudit` that is no withdrawal's ({@link carriedEntries}) is logged and left: its
 * entries are not trusted to be the work of any change. Answers what it did.
 *
 * @example
 * ```ts
 * const { completed, failed } = await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 500 });
 * ```
 */
export async function reconcilePendingWork(
  deps: PendingWorkDependencies & { pendingAudit: PendingWorkIndex },
  options: { minAgeSeconds: number; limit: number },
): Promise<{ completed: number; failed: number; skipped: number }> {
  const before = new Date(deps.clock.now() - options.minAgeSeconds * 1000);
  const result = { completed: 0, failed: 0, skipped: 0 };
  const sweep = async (
    index: PendingWorkIndex,
    complete: (pointer: PendingPointer, claim: string) => Promise<boolean>,
  ) => {
    for (const pointer of await index.olderThan(before, options.limit)) {
      const { id } = pointer;
      // The lease runs from this claim, not from the run's start (security review R11): late in a long
      // run a claim dated from the start would lapse at once, and another completer take the same work.
      const claim = await index.claim(id, new Date(deps.clock.now()));
      if (!claim) {
        result.skipped += 1;
        continue;
      }
      try {
        result[(await complete(pointer, claim)) ? 'completed' : 'failed'] += 1;
      } catch {
        // Logged where it failed (the alarm's lines); the pointer stays for the next run.
        result.failed += 1;
      }
    }
  };
  // 1. Licences' pointers: their work is in the licence, whatever else a pointer holds.
  await sweep(deps.pendingWork, async ({ id }, claim) => !(await leftPending(id, claim, deps)));
  // 2. Withdrawals' pointers, each carrying its entries (put once, never rewritten: as listed).
  await sweep(deps.pendingAudit, async ({ id, audit: listed }, claim) => {
    const audit = carriedEntries(id, listed ?? []);
    if (!audit) {
      logger.error(pendingWorkLogLines.incomplete, { pendingWorkId: id, reason: 'not a withdrawal’s' });
      await deps.pendingAudit.release(id, claim).catch(() => undefined);
      return false;
    }
    await completeCarriedAudit({ id, audit }, claim, deps);
    return true;
  });
  return result;
}

/**
 * The entries of a carried pointer, if it is a withdrawal's: its id under {@link carriedAuditPrefix}, and
 * each entry keyed by that id (the one entry the withdrawal saved); else undefined.
 */
function carriedEntries(id: string, audit: PendingAuditEntry[]): PendingAuditEntry[] | undefined {
  const own = id.startsWith(carriedAuditPrefix) && audit.length > 0 && audit.every((item) => item.key === id);
  return own ? audit : undefined;
}

/**
 * Completes a licence's pending work for the reconciler (under `claim`), or removes its pointer if the
 * licence is absent: the write the pointer announced never happened (its request failed before it, and has
 * since timed out), so there is nothing to complete. Answers whether work is still left.
 */
async function leftPending(
  licenceId: string,
  claim: string,
  deps: PendingWorkDependencies,
): Promise<boolean> {
  const licence = await deps.licences.get(licenceId);
  if (!licence) {
    await deps.pendingWork.remove(licenceId, claim);
    return false;
  }
  await completePendingWork(licence, claim, deps);
  return (await deps.licences.get(licenceId))?.pending !== undefined;
}
