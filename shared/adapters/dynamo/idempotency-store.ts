import { randomUUID } from 'node:crypto';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, type Clock } from '../../clock.js';
import { isConditionalCheckFailed } from './conditional.js';
import {
  IdempotencyLockLostError,
  idempotencyRetentionSeconds,
  type IdempotencyRecord,
  type IdempotencyStore,
} from '../../licence/idempotency-store.js';
import { keys } from './keys.js';

/** Longer than any request may run (the Lambda timeout), so a crashed request's lock frees itself. */
const lockSeconds = 30;

const key = keys.idempotency;

/**
 * {@link IdempotencyStore} on the single table, one item per issuer and key, expiring after 10 days (its
 * `expiresAt`, the table's TTL, also checked on read: TTL deletes late), or at `retainUntil` when later.
 */
export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  async acquire(input: {
    issuerId: string;
    key: string;
    requestHash: string;
    retainUntil?: number;
  }): Promise<IdempotencyRecord | undefined> {
    const now = epochSeconds(this.clock);
    const expires = Math.max(now + idempotencyRetentionSeconds, input.retainUntil ?? 0);
    // Two conditional writes, each race-proof alone (review R61 F1). The first starts the key over: it
    // creates the record, or takes over one that has expired and whose lock has lapsed, writing the new
    // request's hash, expiry and lock and removing what the old one recorded, all in the one write. Its
    // condition (absent, or expired and unlocked) is false once any takeover has written its fresh expiry
    // and lock, so of two requests racing for an expired record exactly one wins; the other goes on to
    // the second write, which fails on the winner's lock. (It once kept the old expiry here and reset the
    // record in a later unconditional write: a second request in between took the still-expired record
    // too, and both held the key.) An expired record still locked is left to its holder until the lock
    // lapses: a 409 to retry, rather than wiping what the holder is recording.
    const fresh = await this.#write({
      input,
      update:
        'SET lockedUntil = :lock, lockToken = :token, issuerId = :issuer, idempotencyKey = :key, requestHash = :hash, ' +
        'expiresAt = :expires REMOVE allocation, credential, licenceId',
      condition: 'attribute_not_exists(pk) OR (expiresAt <= :now AND lockedUntil < :now)',
      values: {
        ':issuer': input.issuerId,
        ':key': input.key,
        ':hash': input.requestHash,
        ':expires': expires,
      },
      now,
    });
    if (fresh) return fresh;
    // The second takes the lock of a live record nobody holds, keeping what it recorded.
    return this.#write({
      input,
      update: 'SET lockedUntil = :lock, lockToken = :token',
      condition: 'attribute_exists(pk) AND lockedUntil < :now AND expiresAt > :now',
      values: {},
      now,
    });
  }

  /** One conditional update taking the key's lock; the record it leaves, or `undefined` when refused. */
  async #write({
    input,
    update,
    condition,
    values,
    now,
  }: {
    input: { issuerId: string; key: string };
    update: string;
    condition: string;
    values: Record<string, unknown>;
    now: number;
  }): Promise<IdempotencyRecord | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(input.issuerId, input.key),
          UpdateExpression: update,
          ConditionExpression: condition,
          // A new holder's token at every acquisition: the fence of its later writes.
          ExpressionAttributeValues: {
            ':lock': now + lockSeconds,
            ':token': randomUUID(),
            ':now': now,
            ...values,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = Attributes as Record<string, unknown>;
      return {
        issuerId: input.issuerId,
        key: input.key,
        requestHash: String(item.requestHash),
        lockedUntil: Number(item.lockedUntil),
        lockToken: String(item.lockToken),
        ...(item.allocation ? { allocation: item.allocation as IdempotencyRecord['allocation'] } : {}),
        ...(typeof item.credential === 'string' ? { credential: item.credential } : {}),
        ...(typeof item.licenceId === 'string' ? { licenceId: item.licenceId } : {}),
      };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async recordAllocation(
    record: IdempotencyRecord,
    allocation: NonNullable<IdempotencyRecord['allocation']>,
  ): Promise<NonNullable<IdempotencyRecord['allocation']>> {
    const item = await this.#fenced(record, 'SET allocation = if_not_exists(allocation, :allocation)', {
      ':allocation': allocation,
    });
    return item.allocation as NonNullable<IdempotencyRecord['allocation']>;
  }

  async recordCredential(record: IdempotencyRecord, credential: string): Promise<string> {
    const item = await this.#fenced(record, 'SET credential = if_not_exists(credential, :credential)', {
      ':credential': credential,
    });
    return String(item.credential);
  }

  async release(record: IdempotencyRecord, licenceId?: string): Promise<void> {
    await this.#fenced(
      record,
      licenceId ? 'SET lockedUntil = :zero, licenceId = :licence' : 'SET lockedUntil = :zero',
      { ':zero': 0, ...(licenceId ? { ':licence': licenceId } : {}) },
    );
  }

  /**
   * One update of the holder's record, on condition that it still carries the holder's `lockToken`: a
   * holder that outlived its lock and whose key another request acquired since (a new token) writes
   * nothing and gets {@link IdempotencyLockLostError}. Once unconditional, such a late write landed in
   * the other request's record: its allocation, credential or licence id under that request's hash.
   */
  async #fenced(
    record: IdempotencyRecord,
    update: string,
    values: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(record.issuerId, record.key),
          UpdateExpression: update,
          ConditionExpression: 'lockToken = :token',
          ExpressionAttributeValues: { ':token': record.lockToken, ...values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as Record<string, unknown>;
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new IdempotencyLockLostError();
      throw error;
    }
  }
}
