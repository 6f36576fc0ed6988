import { ConflictError } from '../errors.js';
import { logger } from '../logger.js';
import { inPersonProofAuditPrefix, phoneProofAuditPrefix } from '../pending-work/pending-work.js';
import { cleanUpAfterProof, type ProofCleanupDependencies } from './proof-cleanup.js';

/** What finishing an owed clean-up needs: the account, its passkeys, sign-ins and consents. */
export type OwedCleanupDependencies = ProofCleanupDependencies;

/**
 * The account whose clean-up the pointer `pointerId` may owe: a phone proof's
 * (`phone-proof#<account id>#<version>`, shared/identity/phone-proof.ts) or a counter's
 * (`in-person-proof#<account id>#<version>`, shared/identity/counter-proof.ts), whose own save put it and
 * which keeps it until the clean-up is done; undefined for any other pointer.
 *
 * @example
 * ```ts
 * accountOwingCleanup('phone-proof#acc_1#4'); // 'acc_1'
 * ```
 */
export function accountOwingCleanup(pointerId: string): string | undefined {
  const prefix = [phoneProofAuditPrefix, inPersonProofAuditPrefix].find((group) =>
    pointerId.startsWith(group),
  );
  if (!prefix) return undefined;
  const accountId = pointerId.slice(prefix.length).split('#')[0] ?? '';
  return /^acc_[A-Za-z0-9_-]{1,64}$/.test(accountId) ? accountId : undefined;
}

/** What {@link finishOwedCleanup} found and did. */
export type OwedCleanupOutcome = 'finished' | 'nothing_owed' | 'owed_by_a_newer_proof';

/**
 * Finishes the clean-up a takeover or a reset left owed (`PersonAccount.proofCleanup`: it failed after the
 * account's save, or its process was gone), for the reconciler, with no other proof of the account, by the
 * proof's own clean-up ({@link cleanUpAfterProof}, shared/identity/proof-cleanup.ts) bounded as follows: the
 * platforms' consents given before the reset withdrawn (each platform told), the passkeys enrolled until
 * it removed (`passkeysBefore`), the sign-ins made before it ended (sessions, grants, codes, tokens), then
 * the mark taken off. Bounded by the account's mark as read now (`signInsEnded.at`; an older account
 * without one by `passkeysBefore`, else `since`, the proof's time), its second included: what the owner
 * signed in to, or consented to, in a later second is spared; a session of the mark's second is ended,
 * though the mark itself counts it as after (review R44), as the reset's own clean-up would have ended it
 * (review R54-1: an intruder's sign-in just before the reset, in its second, outlived the reconciler). A
 * grant (a consent, a sign-in's grant) by the millisecond it was made against the mark's, as the provider
 * continues it (`grantEndedBy`, review R58 L1): one made after the mark is spared, in its second too.
 * Idempotent: what is gone is gone; asked again, nothing is owed. A newer takeover or reset saved meanwhile
 * (its own mark) is not undone: the sign-ins ended here were all made before it, and the mark is taken off
 * only while it is the one this run worked by (a versioned write, read again once on a conflict); else the
 * newer proof's own pointer owes the rest (`owed_by_a_newer_proof`). An account gone or closing owes
 * nothing here (its closure ends everything). Anything that fails is thrown: the mark stays, and so does
 * the pointer, for the next run.
 *
 * @example
 * ```ts
 * const accountId = accountOwingCleanup(pointer.id);
 * if (accountId) await finishOwedCleanup(accountId, pointer.since, deps);
 * ```
 */
export async function finishOwedCleanup(
  accountId: string,
  since: string,
  deps: OwedCleanupDependencies,
): Promise<OwedCleanupOutcome> {
  const account = await deps.accounts.findById(accountId);
  if (!account?.proofCleanup) return 'nothing_owed';
  const endedAt = account.signInsEnded?.at ?? account.proofCleanup.passkeysBefore ?? since;
  // The mark's second included (review R54-1): it counts a sign-in of that second as after the mark only
  // because the reset's own clean-up ends every sign-in, whatever its time. That clean-up having failed, a
  // sign-in of the mark's second may be one made just before it (whoever knew the old password); the
  // owner's since are of a later second (the reset's own sign-in is never made over an owed clean-up:
  // phone-interactions.ts).
  const bound = Math.floor(Date.parse(endedAt) / 1000) + 1;
  if (!Number.isFinite(bound)) throw new Error(`owed clean-up of ${accountId}: no time to end sign-ins by`);
  // Grants by the provider's own rule (`grantEndedBy`, review R58 L1): by the millisecond each was made
  // against the mark's, not by the bound's second. The provider continues a grant made after the mark, in
  // its second too (the owner's sign-in right after the reset: a fresh grant is made after the mark, so
  // the provider could not refuse the grants of that second without going round); ending it here
  // withdrew what the provider had just continued. One made before the mark, in its second too (an
  // intruder's, just before the reset: R54-1), the provider continues no more than this ends it. Sessions
  // stay bounded by the second (they have no millisecond), the platforms' notice too, and so do the codes
  // and tokens under a grant spared, by the sign-in behind each (review R63 F1: a session of the mark's
  // second got a grant after the mark, and a refresh token of it, which outlived the session).
  const done = await cleanUpAfterProof(
    account,
    {
      allPasskeys: false,
      passkeysBefore: account.proofCleanup.passkeysBefore,
      signIns: true,
      grantedBefore: bound,
      signedInBefore: bound,
      grantsEndedBy: { at: endedAt },
      // The mark's write read again once on a conflict only: any other failure leaves it, and the pointer.
      retryMarkAfter: (error) => error instanceof ConflictError,
    },
    deps,
  );
  if (done.mark === 'newer_proof') return 'owed_by_a_newer_proof';
  if (done.mark === 'not_written') throw done.error;
  logger.info('owed clean-up of a reset finished', { accountId });
  return 'finished';
}
