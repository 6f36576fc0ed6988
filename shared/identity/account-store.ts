import type { Trace } from '../pending-work/pending-work.js';
import type { PersonAccount } from './person-account.js';

/**
 * Where people's accounts are kept. Contract: `create` is the one conditional write that makes an ID
 * number (its lookup key) unique — a second account fails with `ConflictError` code `account_exists`,
 * also under concurrency; `save` replaces under optimistic concurrency on `version`; `findById` sees an
 * account as soon as `create` returned; `remove` deletes the account and its ID-number claim together (one
 * transaction: never one without the other), after which the number may register again.
 *
 * An account being closed (`closingSince` set, shared/identity/close-account.ts) is found by neither
 * `findById` nor `findByLookupKey` unless the caller asks with `includeClosing`: every sign-in, token
 * refresh, share and route reads the account through them, so from the moment the mark is written the
 * account opens nothing, whatever step of its closure failed after it. Only the closure itself (resuming)
 * and registration (finishing a closure left half-way before the number registers again) ask for it.
 */
export interface AccountStore {
  /**
   * Given a `trace`, the account's claim is written with the pointer that carries its audit entry
   * (shared/pending-work/pending-work.ts `Trace`), all or nothing: no account is found by its number
   * untraced. A registration of the same number under way at the same moment may be refused with
   * `UnavailableError` (ask again).
   */
  create(account: PersonAccount, trace?: Trace): Promise<PersonAccount>;
  /**
   * Given a `trace`, the account is saved with the pointer that carries the change's audit entries, all or
   * nothing (in the index of the function whose change it is: the accounts function's, or the OpenID
   * provider's for a phone proof, by the trace's group). A write of the account under way at that moment
   * is refused as a stale version is (`account_changed`).
   */
  save(account: PersonAccount, trace?: Trace): Promise<PersonAccount>;
  findByLookupKey(lookupKey: string, options?: FindOptions): Promise<PersonAccount | undefined>;
  findById(id: string, options?: FindOptions): Promise<PersonAccount | undefined>;
  /**
   * Deletes the account and the claim of its ID number at once (closing an account, 注销). Only the claim
   * that names this account goes; one already gone (or taken by a later account) is `account_not_found`.
   * Given a `trace`, the pointer that carries the closure's audit entry is written with them, all or
   * nothing: no account is deleted untraced, and one deletion saves one entry.
   */
  remove(account: Pick<PersonAccount, 'id' | 'lookupKey'>, trace?: Trace): Promise<void>;
}

/** How an account is looked for. */
export interface FindOptions {
  /** Also an account being closed (`closingSince`): for the closure and registration only. */
  includeClosing?: boolean;
}

/** Whether an account may be answered to a lookup with these options (see {@link AccountStore}). */
export function visible(account: PersonAccount | undefined, options: FindOptions = {}): boolean {
  return account !== undefined && (options.includeClosing === true || account.closingSince === undefined);
}
