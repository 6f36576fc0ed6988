import type { AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { NotFoundError } from '../errors.js';
import {
  inPersonProofAuditPrefix,
  saveWithTrace,
  type PendingWorkIndex,
} from '../pending-work/pending-work.js';
import type { AccountStore } from './account-store.js';
import type { PersonAccount } from './person-account.js';

export interface ProveInPersonDependencies {
  accounts: AccountStore;
  audit: AuditTrail;
  /**
   * The pending work of the accounts function's changes: the account's raise is saved with its audit
   * entry there, so that no account reaches level 3 untraced.
   */
  accountAudit: PendingWorkIndex;
  clock: Clock;
}

/**
 * Records that the person behind an account was checked in person (level 3, `identity/assurance.ts`):
 * at a service counter, the clerk compared the person with their resident ID card. The local seed uses
 * it for the demo citizen, so the demo wallet has licences to show before the assurance issue brings
 * the online ways to level 3 (SMS, passkeys, scan-to-login). A clerk at a service counter proves a person
 * through the issuer console (`counter-proof.ts`, which also sets or clears the proven phone). One conditional
 * write (the account's `version`), with its audit entry `account.proven` saved in it
 * ({@link saveWithTrace}, `in-person-proof#<account id>#<version written>`): written at once, or by the
 * reconciler a minute later, never lost.
 *
 * @example
 * ```ts
 * await proveInPerson(account.lookupKey, { actor: 'seed' }, deps);
 * ```
 */
export async function proveInPerson(
  lookupKey: string,
  context: { actor: string; requestId?: string },
  deps: ProveInPersonDependencies,
): Promise<PersonAccount> {
  const account = await deps.accounts.findByLookupKey(lookupKey);
  if (!account) throw new NotFoundError('No account has this ID number', 'account_not_found');
  if (account.assurance === 'in-person-verified') return account;
  return saveWithTrace(
    `${inPersonProofAuditPrefix}${account.id}#${account.version + 1}`,
    {
      at: new Date(deps.clock.now()).toISOString(),
      actor: context.actor,
      action: 'account.proven',
      holderMasked: account.masked,
      reason: 'in-person',
      ...(context.requestId ? { requestId: context.requestId } : {}),
    },
    (trace) => deps.accounts.save({ ...account, assurance: 'in-person-verified' }, trace),
    { ...deps, pendingAudit: deps.accountAudit },
  );
}
