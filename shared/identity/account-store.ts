import type { PersonAccount } from './person-account.js';

/**
 * Where people's accounts are kept. Contract: `create` is the one conditional write that makes an ID
 * number (its lookup key) unique — a second account fails with `ConflictError` code `account_exists`,
 * also under concurrency; `save` replaces under optimistic concurrency on `version`; `findById` sees an
 * account as soon as `create` returned.
 */
export interface AccountStore {
  create(account: PersonAccount): Promise<PersonAccount>;
  save(account: PersonAccount): Promise<PersonAccount>;
  findByLookupKey(lookupKey: string): Promise<PersonAccount | undefined>;
  findById(id: string): Promise<PersonAccount | undefined>;
}
