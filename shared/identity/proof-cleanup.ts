import { logger } from '../logger.js';
import type { AccountStore } from './account-store.js';
import type { PasskeyStore } from './passkeys.js';
import type { PersonAccount } from './person-account.js';
import type { PlatformConsents, SignInRevocation } from './sign-in-revocation.js';

/** What a clean-up needs: the account (read again by its id), its passkeys, sign-ins and consents. */
export interface ProofCleanupDependencies {
  accounts: Pick<AccountStore, 'findById' | 'save'>;
  /** Listed by their id and enrolment time only, all a removal needs (and all the reconciler may read). */
  passkeys: Pick<PasskeyStore, 'enrolmentsOf' | 'remove'>;
  signIns: SignInRevocation;
  platformConsents: PlatformConsents;
}

/** What a takeover or a reset owes once its account is saved with its `proofCleanup` mark. */
export interface ProofCleanup {
  /** Every passkey removed (a takeover's: none of them was the owner's). */
  allPasskeys: boolean;
  /** Else, when set (RFC 3339), those enrolled until then (a reset's, or one owed from before). */
  passkeysBefore: string | undefined;
  /** The consents withdrawn and the sign-ins ended, then the mark taken off; without it, passkeys alone. */
  signIns: boolean;
  /** The provider session to spare: the sign-in under way that proved the owner. */
  keepSession?: string;
  /** Epoch seconds: only the consents given before that second (`PlatformConsents.withdrawAll`). */
  grantedBefore?: number;
  /** Epoch seconds: only the sign-ins made before that second (`SignInRevocation.endAll`). */
  signedInBefore?: number;
  /**
   * With the bounds: the mark (`signInsEnded.at`) whose time ends grants by the millisecond each was made
   * (`grantEndedBy`, review R58 L1), the provider's own rule, rather than by the bound's second.
   */
  grantsEndedBy?: { at: string };
  /**
   * Which failures of the write taking the mark off are tried once more over the account read again
   * (default: every one); any other is answered as `not_written`.
   */
  retryMarkAfter?: (error: unknown) => boolean;
}

/**
 * What became of the mark: taken off (by this clean-up, or found off when read again; the account as
 * saved when `signIns` owed none), or left on: a newer takeover's or reset's (`newer_proof`), the account
 * no more to be read (`account_gone`: closing or closed), or its write failed (`not_written`). `error` is
 * the write's failure that left it.
 */
export type ProofCleanupOutcome =
  | { mark: 'off'; account: PersonAccount }
  | { mark: 'newer_proof' | 'account_gone' | 'not_written'; error: unknown };

/**
 * The one clean-up of a takeover or a reset, after its account's save, whoever runs it: the proof itself
 * (phone-proof.ts, counter-proof.ts, through {@link finishProofCleanup}) or, when that failed or its
 * process was gone, the reconciler with no other proof (owed-cleanup.ts, which passes its bounds). With
 * `signIns`, the platforms' consents withdrawn first (`PlatformConsents.withdrawAll`, each platform told),
 * then the passkeys removed (every one, or with `passkeysBefore` those enrolled until then), then, with
 * `signIns`, every sign-in ended (but `keepSession`) and the mark taken off. Passkeys before sign-ins: a
 * passkey sign-in in between would otherwise outlive the ending. All of it after the account's save, which
 * may still be refused (a concurrent change): a refused save leaves nothing half done (review R30 L3). A
 * step that fails is thrown and leaves the mark: the account's next proof, or the reconciler, does the
 * clean-up again (each step is idempotent).
 *
 * The mark is taken off by one versioned write; one that fails (`retryMarkAfter`) is tried once more over
 * the account read again, only while it holds this same mark ({@link markOf}): a newer takeover or reset
 * saved meanwhile keeps its own (the sign-ins ended here were all made before it), and its own clean-up
 * owes the rest. A mark left behind makes the next proof, maybe weeks later, end the owner's sign-ins and
 * shares again (review R29 M1).
 *
 * @example
 * ```ts
 * const outcome = await cleanUpAfterProof(saved, { allPasskeys: false, passkeysBefore, signIns: true }, deps);
 * ```
 */
export async function cleanUpAfterProof(
  saved: PersonAccount,
  how: ProofCleanup,
  deps: ProofCleanupDependencies,
): Promise<ProofCleanupOutcome> {
  if (how.signIns)
    await (how.grantedBefore === undefined
      ? deps.platformConsents.withdrawAll(saved.id)
      : deps.platformConsents.withdrawAll(saved.id, undefined, {
          grantedBefore: how.grantedBefore,
          ...(how.grantsEndedBy !== undefined && { grantsEndedBy: how.grantsEndedBy }),
        }));
  if (how.allPasskeys) await removePasskeys(saved.id, deps.passkeys);
  else if (how.passkeysBefore !== undefined)
    await removePasskeys(saved.id, deps.passkeys, how.passkeysBefore);
  if (!how.signIns) return { mark: 'off', account: saved };
  await deps.signIns.endAll(saved.id, {
    ...(how.keepSession !== undefined && { keepSession: how.keepSession }),
    ...(how.signedInBefore !== undefined && { signedInBefore: how.signedInBefore }),
    ...(how.grantsEndedBy !== undefined && { grantsEndedBy: how.grantsEndedBy }),
  });
  return takeOffMark(saved, how.retryMarkAfter ?? (() => true), deps);
}

/**
 * {@link cleanUpAfterProof} for a proof, which is answered all the same once its clean-up ran: the account
 * with its mark taken off, or, the mark not taken off, as saved (still marked: the account's next proof, or
 * the reconciler, does the clean-up once more: the passkeys enrolled until the takeover, none of the
 * owner's since; the sign-ins but that proof's own, the platforms told).
 */
export async function finishProofCleanup(
  saved: PersonAccount,
  how: Omit<ProofCleanup, 'grantedBefore' | 'signedInBefore' | 'grantsEndedBy' | 'retryMarkAfter'>,
  deps: ProofCleanupDependencies,
): Promise<PersonAccount> {
  const outcome = await cleanUpAfterProof(saved, how, deps);
  if (outcome.mark === 'off') return outcome.account;
  logger.warn('phone proof clean-up done, its mark not cleared', {
    accountId: saved.id,
    error: String(outcome.error),
  });
  return saved;
}

async function takeOffMark(
  account: PersonAccount,
  retryAfter: (error: unknown) => boolean,
  deps: Pick<ProofCleanupDependencies, 'accounts'>,
): Promise<ProofCleanupOutcome> {
  const unmarked = ({ proofCleanup: _done, ...rest }: PersonAccount): PersonAccount => rest;
  try {
    return { mark: 'off', account: await deps.accounts.save(unmarked(account)) };
  } catch (first) {
    if (!retryAfter(first)) return { mark: 'not_written', error: first };
    try {
      const now = await deps.accounts.findById(account.id);
      if (!now) return { mark: 'account_gone', error: first };
      if (!now.proofCleanup) return { mark: 'off', account: now };
      if (markOf(now) !== markOf(account)) return { mark: 'newer_proof', error: first };
      return { mark: 'off', account: await deps.accounts.save(unmarked(now)) };
    } catch (error) {
      return { mark: 'not_written', error };
    }
  }
}

/** The mark a clean-up is owed by: its passkeys' bound and the takeover's or reset's `signInsEnded`. */
function markOf(account: PersonAccount): string {
  return JSON.stringify([
    account.proofCleanup?.passkeysBefore ?? null,
    account.signInsEnded?.at ?? null,
    account.signInsEnded?.version ?? null,
  ]);
}

/**
 * Removes every passkey of an account taken over (none of them was enrolled by the real owner) or whose
 * password was reset (any may be an intruder's). With `enrolledUntil` (RFC 3339, a reset's, or a
 * takeover's clean-up finished later), only those enrolled until then.
 */
async function removePasskeys(
  accountId: string,
  passkeys: ProofCleanupDependencies['passkeys'],
  enrolledUntil?: string,
): Promise<void> {
  const held = (await passkeys.enrolmentsOf(accountId)).filter(
    (passkey) => enrolledUntil === undefined || passkey.createdAt <= enrolledUntil,
  );
  await Promise.all(held.map((passkey) => passkeys.remove(accountId, passkey.id)));
  if (held.length > 0)
    logger.info('passkeys of a taken-over account removed', { accountId, count: held.length });
}
