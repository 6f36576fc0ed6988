/** What the issuance of one `Idempotency-Key` has reached so far. */
export interface IdempotencyRecord {
  issuerId: string;
  key: string;
  /** SHA-256 of the normalised request: the same key with another body is refused. */
  requestHash: string;
  /** The status-list slot (and serial) reserved for this issuance, once reserved. */
  allocation?: { serial: number; listId: string; idx: number };
  /** The licence, once written. */
  licenceId?: string;
  /** While a request holds the key, others with the same key wait (409) instead of racing it. */
  lockedUntil: number;
}

/**
 * Where issuance idempotency is kept (24 hours). Contract:
 * - `acquire` creates the record or takes the lock of an existing one in one conditional write; it
 *   returns the record, or `undefined` when another request holds the lock;
 * - `recordAllocation` sets the allocation only if none is set, and returns the one that stands;
 * - `release` records the licence id (if given) and frees the lock.
 */
export interface IdempotencyStore {
  acquire(input: {
    issuerId: string;
    key: string;
    requestHash: string;
  }): Promise<IdempotencyRecord | undefined>;
  recordAllocation(
    record: IdempotencyRecord,
    allocation: NonNullable<IdempotencyRecord['allocation']>,
  ): Promise<NonNullable<IdempotencyRecord['allocation']>>;
  release(record: IdempotencyRecord, licenceId?: string): Promise<void>;
}
