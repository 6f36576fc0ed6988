import { epochSeconds, type Clock } from '../../clock.js';
import { sessionStillHolds, type AccessTokenLookup } from '../../http/authenticate.js';
import { parseAccountId } from '../../identifiers/account-id.js';
import { walletClientId } from '../../identifiers/client-ids.js';
import type { AccountStore } from '../../identity/account-store.js';
import { signedInLevel, type AssuranceLevel } from '../../identity/assurance.js';
import { endedByOwedCleanup, signInEndedBy } from '../../identity/person-account.js';
import type { WalletSession } from './session.js';

/** What finding the approver reads: the token store (as the API does), the accounts and the clock. */
export interface ApproverDependencies {
  accessTokens: AccessTokenLookup;
  accounts: AccountStore;
  clock: Clock;
}

/** The person behind a wallet session, and the level they are signed in at. */
export interface Approver {
  personId: string;
  name: string;
  level: AssuranceLevel;
  /**
   * When the wallet sign-in behind the token was made (its `auth_time`, epoch seconds): a scan-to-login
   * it approves is that sign-in, not a new one (review R39 M1).
   */
  authTime: number;
  /** The version of the account as read here: the approval records it (review R47 F2). */
  accountVersion: number;
}

/**
 * The person a wallet session stands for, as the API would see its access token: the token must still be
 * stored, unexpired and, bound to its sign-in session, held by it (a revoked or signed-out session
 * approves nothing), and say when its sign-in was made (`auth_time`; a token without it approves nothing,
 * as the sign-in it would pass on could not be dated), and the level is the lower of
 * the account's and the sign-in's (`signedInLevel`, the same rule that gates licences). While acting for
 * an entity, the approver is the acting person: scan-to-login signs in a person, who may then choose an
 * entity on the platform as after any sign-in.
 *
 * @example
 * ```ts
 * const approver = await approverOf(session, deps); // undefined when the token no longer works
 * if (approver?.level === 3)
 *   await scan.confirm(code, approver.personId, approver.authTime, approver.accountVersion);
 * ```
 */
export async function approverOf(
  session: WalletSession,
  deps: ApproverDependencies,
): Promise<Approver | undefined> {
  const record = await deps.accessTokens(session.accessToken);
  const authTime = record?.extra?.auth_time;
  if (
    !record?.accountId ||
    typeof authTime !== 'number' ||
    record.clientId !== walletClientId ||
    record.exp === undefined ||
    record.exp <= epochSeconds(deps.clock)
  )
    return undefined;
  const subject = parseAccountId(record.accountId);
  const account = await deps.accounts.findById(subject.personId);
  if (!account) return undefined;
  // A wallet sign-in made before a takeover or a reset ended the account's sign-ins approves nothing
  // (review R47 F2), though its token outlived the clean-up (one that failed after the account's save).
  // Nor, while that clean-up is owed, one of the mark's own second, which it is going to end (review
  // R67-1): the approval would become a session in the other browser, of that second, maybe only after
  // the reconciler ran, and then nothing would end it.
  if (signInEndedBy({ ts: authTime }, account.signInsEnded) || endedByOwedCleanup(authTime, account))
    return undefined;
  // The session the token is bound to, read after the account: the reconciler ends it before it takes
  // the owed clean-up off, so an account read without it is never taken with a session it has ended.
  if (!(await sessionStillHolds(record))) return undefined;
  return {
    personId: account.id,
    name: account.name,
    level: signedInLevel(account, record.extra?.acr),
    authTime,
    accountVersion: account.version,
  };
}
