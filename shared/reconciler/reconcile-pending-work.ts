import { logger } from '../logger.js';
import { leftPending, type PendingWorkDependencies } from '../licence/pending-work.js';
import {
  carriedAuditPrefix,
  completeCarriedAudit,
  issuerAuditPrefix,
  pendingWorkLogLines,
  type PendingAuditEntry,
  type PendingPointer,
  type PendingWorkIndex,
} from '../pending-work/pending-work.js';

/**
 * Finishes what changes left undone (a Lambda timeout, a `status_list_contended` 503, an audit write that
 * failed, a process gone between a withdrawal's or an issuer change's write and its audit write): every
 * pointer older than `minAgeSeconds` (the requests' own completion had its chance), of the three indexes,
 * is claimed and completed (a licence's work; the entries a withdrawal's or an issuer change's pointer
 * carries), or removed when its licence was never written or has nothing left. A pointer another completer
 * holds is skipped (the next run sees it again). A pointer in `pendingAudit` that is no withdrawal's, or in
 * `issuerAudit` no issuer change's ({@link carriedEntries}), is logged and left: its entries are not
 * trusted to be the work of any change. Answers what it did.
 *
 * @example
 * ```ts
 * const { completed, failed } = await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 500 });
 * ```
 */
export async function reconcilePendingWork(
  deps: PendingWorkDependencies & { pendingAudit: PendingWorkIndex; issuerAudit: PendingWorkIndex },
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
  // 2. Pointers that carry their entries (put once, never rewritten: as listed), each index its own kind:
  //    withdrawals', then operators' changes of issuers'.
  const carrying =
    (index: PendingWorkIndex, prefix: string, kind: string) =>
    async ({ id, audit: listed }: PendingPointer, claim: string) => {
      const audit = carriedEntries(id, listed ?? [], prefix);
      if (!audit) {
        logger.error(pendingWorkLogLines.incomplete, { pendingWorkId: id, reason: `not ${kind}` });
        await index.release(id, claim).catch(() => undefined);
        return false;
      }
      await completeCarriedAudit({ id, audit }, claim, { ...deps, pendingAudit: index });
      return true;
    };
  await sweep(deps.pendingAudit, carrying(deps.pendingAudit, carriedAuditPrefix, 'a withdrawal’s'));
  await sweep(deps.issuerAudit, carrying(deps.issuerAudit, issuerAuditPrefix, 'an issuer change’s'));
  return result;
}

/**
 * The entries of a carried pointer, if it is of the kind its index holds: its id under `prefix`
 * ({@link carriedAuditPrefix} for a withdrawal's, {@link issuerAuditPrefix} for an issuer change's), and
 * each entry keyed by that id (the one entry the change's write saved); else undefined.
 */
function carriedEntries(
  id: string,
  audit: PendingAuditEntry[],
  prefix: string,
): PendingAuditEntry[] | undefined {
  const own = id.startsWith(prefix) && audit.length > 0 && audit.every((item) => item.key === id);
  return own ? audit : undefined;
}
