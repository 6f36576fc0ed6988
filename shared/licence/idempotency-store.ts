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
 * Where issuance idempotency is kept (24 hours, or longer when asked). Contract:
 * - `acquire` creates the record or takes the lock of an existing one in one conditional write; it
 *   returns the record, or `undefined` when another request holds the lock. A record it creates is kept
 *   24 hours, or until `retainUntil` (epoch seconds) when that is later: a batch item's key must outlive
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
