import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, type Clock } from '../../clock.js';
import { isConditionalCheckFailed } from './conditional.js';
import {
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
    try {
      // Creates the record, replaces an expired one, or takes the lock of an unlocked one: one write.
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(input.issuerId, input.key),
          UpdateExpression:
            'SET lockedUntil = :lock, issuerId = :issuer, idempotencyKey = :key, ' +
            'requestHash = if_not_exists(requestHash, :hash), expiresAt = if_not_exists(expiresAt, :expires)',
          ConditionExpression: 'attribute_not_exists(pk) OR lockedUntil < :now OR expiresAt <= :now',
          ExpressionAttributeValues: {
            ':lock': now + lockSeconds,
            ':issuer': input.issuerId,
            ':key': input.key,
            ':hash': input.requestHash,
            ':expires': expires,
            ':now': now,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = Attributes as Record<string, unknown>;
      if (typeof item.expiresAt === 'number' && item.expiresAt <= now) {
        // An expired record whose lock we just took: it stands for nothing any more.
        return this.#reset(input, now, expires);
      }
      return {
        issuerId: input.issuerId,
        key: input.key,
        requestHash: String(item.requestHash),
        lockedUntil: Number(item.lockedUntil),
        ...(item.allocation ? { allocation: item.allocation as IdempotencyRecord['allocation'] } : {}),
        ...(typeof item.credential === 'string' ? { credential: item.credential } : {}),
        ...(typeof item.licenceId === 'string' ? { licenceId: item.licenceId } : {}),
      };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async #reset(
    {
      retainUntil: _retainUntil,
      ...input
    }: { issuerId: string; key: string; requestHash: string; retainUntil?: number },
    now: number,
    expires: number,
  ) {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(input.issuerId, input.key),
        UpdateExpression:
          'SET requestHash = :hash, expiresAt = :expires REMOVE allocation, credential, licenceId',
        ExpressionAttributeValues: { ':hash': input.requestHash, ':expires': expires },
      }),
    );
    return { ...input, lockedUntil: now + lockSeconds };
  }

  async recordAllocation(
    record: IdempotencyRecord,
    allocation: NonNullable<IdempotencyRecord['allocation']>,
  ): Promise<NonNullable<IdempotencyRecord['allocation']>> {
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(record.issuerId, record.key),
        UpdateExpression: 'SET allocation = if_not_exists(allocation, :allocation)',
        ExpressionAttributeValues: { ':allocation': allocation },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return (Attributes as { allocation: NonNullable<IdempotencyRecord['allocation']> }).allocation;
  }

  async recordCredential(record: IdempotencyRecord, credential: string): Promise<string> {
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(record.issuerId, record.key),
        UpdateExpression: 'SET credential = if_not_exists(credential, :credential)',
        ExpressionAttributeValues: { ':credential': credential },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return String((Attributes as { credential: string }).credential);
  }

  async release(record: IdempotencyRecord, licenceId?: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(record.issuerId, record.key),
        UpdateExpression: licenceId
          ? 'SET lockedUntil = :zero, licenceId = :licence'
          : 'SET lockedUntil = :zero',
        ExpressionAttributeValues: { ':zero': 0, ...(licenceId ? { ':licence': licenceId } : {}) },
      }),
    );
  }
}
