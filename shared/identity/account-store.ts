import type { PersonAccount } from './person-account.js';

/**
 * Where people's accounts are kept. Contract: `create` is the one conditional write that makes an ID
 * number (its lookup key) unique — a second account fails with `ConflictError` code `account_exists`,
 * also under concurrency; `save` replaces under optimistic concurrency on `version`; `findById` sees an
 * account as soon as `create` returned; `remove` deletes the account and its ID-number claim together (one
 * transaction: never one without the other), after which the number may register again.
 */
export interface AccountStore {
  create(account: PersonAccount): Promise<PersonAccount>;
  save(account: PersonAccount): Promise<PersonAccount>;
  findByLookupKey(lookupKey: string): Promise<PersonAccount | undefined>;
  findById(id: string): Promise<PersonAccount | undefined>;
  /**
   * Deletes the account and the claim of its ID number at once (closing an account, 注销). Only the claim
   * that names this account goes; one already gone (or taken by a later account) is `account_not_found`.
   */
  remove(account: Pick<PersonAccount, 'id' | 'lookupKey'>): Promise<void>;
}
