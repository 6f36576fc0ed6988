import { ConflictError } from '../errors.js';

/** What the issuance of one `Idempotency-Key` has reached so far. */
export interface IdempotencyRecord {
  issuerId: string;
  key: string;
  /** SHA-256 of the normalised request: the same key with another body is refused. */
  requestHash: string;
  /**
   * The status-list slot (and serial) reserved for this issuance, once reserved, and the issuance time
   * pinned with it (absent from records written before it was), so that every attempt signs the same
   * claims and writes the licence under the same index keys.
   */
  allocation?: { serial: number; listId: string; idx: number; issuedAt?: string };
  /**
   * The credential signed for that slot, recorded before the licence is written: a retry writes this one
   * rather than signing another, so one licence id never has two credentials.
   */
  credential?: string;
  /** The licence, once written. */
  licenceId?: string;
  /** While a request holds the key, others with the same key wait (409) instead of racing it. */
  lockedUntil: number;
  /**
   * The holder's fence: a random token written by the `acquire` that returned this record, new at every
   * acquisition. `recordAllocation`, `recordCredential` and `release` write only while the stored record
   * still carries it (review of session 28): a holder that outlived its lock (a KMS call stalled past
   * 30 s) and whose key another request took over meanwhile is refused ({@link IdempotencyLockLostError})
   * instead of writing into the other request's record.
   */
  lockToken: string;
}

/**
 * A write refused because the record is no longer this holder's: its lock lapsed and another request
 * acquired the key (a new `lockToken`), or took an expired record over. Nothing was written. The use case
 * fails closed on it: this request records nothing more under the key (409 `idempotency_key_taken_over`).
 */
export class IdempotencyLockLostError extends ConflictError {
  constructor() {
    super(
      'This request held its Idempotency-Key past its lock and another request with the key took it over; ' +
        'nothing more was recorded by this one: retry to get the outcome under the key',
      'idempotency_key_taken_over',
    );
    this.name = 'IdempotencyLockLostError';
  }
}

/**
 * How long an `Idempotency-Key` of issuance is remembered: **10 days** from its first use (review R51 F2;
 * it was 24 hours). An agency's back office retries what it did not see answered when it is up again,
 * which after a weekend outage is days later, and after China's longest public holidays (the Spring
 * Festival and National Day weeks, 7 to 8 days off in a row with their adjusted weekends) more than a
 * week later: within the window such a retry answers the licence issued the first time instead of
 * issuing a second one to the same holder. The cost is one small item per issuance kept 9 more days
 * (its request fingerprint and the credential, about 1–2 KB; TTL deletion is free): at 200,000
 * issuances a day about 4 GB, cents a day. Longer would buy little: a retry weeks later is a new
 * request (`docs/api.md`), and a batch item, which may be redelivered for weeks, keeps its own 37 days.
 */
export const idempotencyRetentionSeconds = 10 * 86_400;

/**
 * Where issuance idempotency is kept ({@link idempotencyRetentionSeconds}, or longer when asked). Contract:
 * - `acquire` creates the record or takes the lock of an existing one in one conditional write; it
 *   returns the record, or `undefined` when another request holds the lock. A record it creates is kept
 *   {@link idempotencyRetentionSeconds}, or until `retainUntil` (epoch seconds) when that is later: a batch item's key must outlive
 *   every redelivery of its job (shared/licence/batches.ts `batchItemKeyRetentionSeconds`);
 * - `recordAllocation` sets the allocation only if none is set, and returns the one that stands;
 * - `recordCredential` sets the credential only if none is set, and returns the one that stands;
 * - `release` records the licence id (if given) and frees the lock;
 * - each of those three is fenced by the record's `lockToken`: it writes only if the stored record still
 *   carries the token of the `acquire` that returned `record`, else writes nothing and throws
 *   {@link IdempotencyLockLostError}. Only the token is compared, not the lock's time: a holder slower
 *   than its lock whose key nobody took over still owns it.
 */
export interface IdempotencyStore {
  acquire(input: {
    issuerId: string;
    key: string;
    requestHash: string;
    retainUntil?: number;
  }): Promise<IdempotencyRecord | undefined>;
  recordAllocation(
    record: IdempotencyRecord,
    allocation: NonNullable<IdempotencyRecord['allocation']>,
  ): Promise<NonNullable<IdempotencyRecord['allocation']>>;
  recordCredential(record: IdempotencyRecord, credential: string): Promise<string>;
  release(record: IdempotencyRecord, licenceId?: string): Promise<void>;
}
