import {
  accountOwingCleanup,
  finishOwedCleanup,
  type OwedCleanupDependencies,
} from '../identity/owed-cleanup.js';
import { logger } from '../logger.js';
import { leftPending, type PendingWorkDependencies } from '../licence/pending-work.js';
import { finishUnfinishedReissue } from '../licence/reissue-licence.js';
import {
  carriedActions,
  carriedEntryKey,
  carriedGroups,
  completeCarriedAudit,
  pendingWorkLogLines,
  type CarryingKind,
  type PendingAuditEntry,
  type PendingPointer,
  type PendingWorkIndex,
  type SecurityNoticeOutbox,
} from '../pending-work/pending-work.js';

/**
 * The indexes of pointers that carry their own entries, by their kind ({@link carriedGroups}): withdrawals'
 * (`pendingAudit`), operators' changes' (`operatorAudit`), the accounts function's changes'
 * (`accountAudit`), the OpenID provider's (`providerAudit`).
 */
export interface CarriedIndexes {
  pendingAudit: PendingWorkIndex;
  operatorAudit: PendingWorkIndex;
  accountAudit: PendingWorkIndex;
  providerAudit: PendingWorkIndex;
}

/** Which of {@link CarriedIndexes} holds each kind. */
const indexOf: Record<CarryingKind, keyof CarriedIndexes> = {
  withdrawals: 'pendingAudit',
  operators: 'operatorAudit',
  accounts: 'accountAudit',
  provider: 'providerAudit',
};

/**
 * Finishes what changes left undone (a Lambda timeout, a `status_list_contended` 503, an audit write that
 * failed, a process gone between a change's write that saved its entry and its audit write): every pointer
 * older than `minAgeSeconds` (the requests' own completion had its chance), of every index, is claimed and
 * completed (a licence's work; the entries a withdrawal's, an operator's change's, an account's change's or
 * a phone proof's pointer carries), or removed when its licence was never written or has nothing left. A pointer another
 * completer holds is skipped (the next run sees it again). A pointer in an index of carried ones that is
 * none of that index's kinds ({@link carriedEntries}: a withdrawal's in `pendingAudit`; an issuer's, a
 * client's or a peer's change in `operatorAudit`; an agent's, a registration, a proof in person or a
 * closure in `accountAudit`; a phone proof's in `providerAudit`) is logged and left: its entries are not trusted to be the work of any change.
 * A pointer that owes its account's holder a security notice (a passkey's change, a phone's proof, a
 * counter's: `securityNoticeOwed`) has it recorded in `securityNotices` before it goes, so that a change
 * whose request died after its write still sends its notice, once. Answers what it did.
 *
 * @example
 * ```ts
 * const { completed, failed } = await reconcilePendingWork(deps, { minAgeSeconds: 60, limit: 500 });
 * ```
 */
export async function reconcilePendingWork(
  deps: PendingWorkDependencies &
    CarriedIndexes & {
      securityNotices?: SecurityNoticeOutbox;
      /**
       * What finishing a reset's owed clean-up needs (shared/identity/owed-cleanup.ts): without it, a
       * proof's pointer is completed for its entries alone.
       */
      owedCleanups?: OwedCleanupDependencies;
    },
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
  //    A re-issue the licence's pointer was marked for, left unfinished, is finished first (review R38 M1).
  //    A failure there (a revocation recorded with a re-issue's give-up refused, review R48) releases the
  //    pointer, so that the next run tries again rather than waiting out the claim's lease.
  //    When `finishUnfinishedReissue` ends B's own unfinished re-issue (to C) on R58's
  //    `ReplacementRevocationPendingError` and B's pointer is then removed, that is right only because A's
  //    pointer stays while B's revocation is owed (recorded on A, `replacementRevocation`), and that
  //    revocation, B's re-issue being unfinished, passes on to C (review R59 L2): removing B's pointer
  //    loses nothing only while both hold.
  await sweep(deps.pendingWork, async ({ id }, claim) => {
    try {
      await finishUnfinishedReissue(id, deps);
    } catch (error) {
      await deps.pendingWork.release(id, claim).catch(() => undefined);
      throw error;
    }
    return !(await leftPending(id, claim, deps, { reissueSettled: true }));
  });
  // 2. Pointers that carry their entries (put once, never rewritten: as listed), each index its own kinds:
  //    withdrawals', operators' changes', the accounts function's changes', the provider's.
  for (const kind of Object.keys(indexOf) as CarryingKind[]) {
    const index = deps[indexOf[kind]];
    await sweep(index, async ({ id, since, audit: listed, noticePhones }, claim) => {
      const audit = carriedEntries(id, listed ?? [], carriedGroups[kind], carriedActions[kind]);
      if (!audit) {
        logger.error(pendingWorkLogLines.incomplete, { pendingWorkId: id, reason: `not of ${kind}` });
        await index.release(id, claim).catch(() => undefined);
        return false;
      }
      // A takeover's or a reset's pointer stays until the clean-up it owes is done (`saveWithTrace`'s
      // `owed`): finished here once its entries are written, with no other proof of the account.
      const owing =
        deps.owedCleanups && (kind === 'provider' || kind === 'accounts')
          ? accountOwingCleanup(id)
          : undefined;
      // The phones a change of phone replaced and wrote (sealed): its notice goes to the replaced one too.
      await completeCarriedAudit(
        { id, audit, ...(noticePhones && { noticePhones }) },
        claim,
        { ...deps, pendingAudit: index },
        { keep: owing !== undefined },
      );
      if (owing === undefined || !deps.owedCleanups) return true;
      try {
        await finishOwedCleanup(owing, since, deps.owedCleanups);
      } catch (error) {
        logger.error(pendingWorkLogLines.incomplete, {
          pendingWorkId: id,
          reason: 'owed clean-up not finished',
          error: String(error),
        });
        await index.release(id, claim).catch(() => undefined);
        throw error;
      }
      await index.remove(id, claim);
      return true;
    });
  }
  return result;
}

/**
 * The entries of a carried pointer, if it is of a kind its index holds: its id under one of `groups`
 * ({@link carriedGroups}), its entries keyed as the change's write saved them (the first by that id,
 * each further one after it: {@link carriedEntryKey}) and, where the index names them
 * ({@link carriedActions}), each of one of `actions`; else undefined.
 */
function carriedEntries(
  id: string,
  audit: PendingAuditEntry[],
  groups: readonly string[],
  actions: readonly string[] | undefined,
): PendingAuditEntry[] | undefined {
  const own =
    groups.some((group) => id.startsWith(group)) &&
    audit.length > 0 &&
    audit.every(
      (item, index) =>
        item.key === carriedEntryKey(id, index) && (!actions || actions.includes(item.entry?.action)),
    );
  return own ? audit : undefined;
}
