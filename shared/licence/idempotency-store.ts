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
 * - `release` records the licence id (if given) and frees the lock.
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
