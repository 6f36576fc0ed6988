import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../errors.js';
import type { ScanLoginRecord, ScanLoginState, ScanLoginStore } from '../../identity/scan-login.js';
import { getItem, isConditionalCheckFailed } from './conditional.js';
import { keys } from './keys.js';

/** How long a record outlives its code: a late visitor is told the code expired, not that it never was. */
export const scanLoginRetentionSeconds = 3600;

type Item = ReturnType<typeof keys.scanLogin> &
  ScanLoginRecord & { expiresAt: number } & Record<string, unknown>;

function recordOf(item: Item): ScanLoginRecord {
  const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...record } = item;
  return record as ScanLoginRecord;
}

/**
 * {@link ScanLoginStore} in the service's table: one item per sign-in under the SHA-256 of its codes' slot
 * (`scan-login#<sha256>`), carrying the TTL attribute an hour past the code's own expiry. A newer code of
 * the sign-in replaces the item (a put conditional on the item being absent, gone by TTL, or of another
 * code and not used). Each change of state is one conditional update on the code, its state and expiry.
 *
 * @example
 * ```ts
 * const store = new DynamoScanLoginStore(doc, 'elicence');
 * await store.advance(slotHash, codeHash, 'pending', 'confirmed', now, personId, authTime, accountVersion);
 * ```
 */
export class DynamoScanLoginStore implements ScanLoginStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async place(record: ScanLoginRecord, nowSeconds: number): Promise<void> {
    const item: Item = {
      ...keys.scanLogin(record.slotHash),
      ...record,
      expiresAt: record.codeExpiresAt + scanLoginRetentionSeconds,
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression:
            'attribute_not_exists(pk) OR #expiresAt <= :now OR (#codeHash <> :codeHash AND #state <> :completed)',
          ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#codeHash': 'codeHash', '#state': 'state' },
          ExpressionAttributeValues: {
            ':now': nowSeconds,
            ':codeHash': record.codeHash,
            ':completed': 'completed',
          },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      throw new ConflictError(
        'The sign-in holds this scan-to-login code, or a used one',
        'scan_login_exists',
      );
    }
  }

  async find(slotHash: string, nowSeconds: number): Promise<ScanLoginRecord | undefined> {
    const item = await getItem<Item>(this.doc, this.tableName, keys.scanLogin(slotHash), nowSeconds);
    return item ? recordOf(item) : undefined;
  }

  async advance(
    slotHash: string,
    codeHash: string,
    from: ScanLoginState,
    to: ScanLoginState,
    nowSeconds: number,
    personId?: string,
    authTime?: number,
    accountVersion?: number,
  ): Promise<ScanLoginRecord | undefined> {
    const withTime = personId !== undefined && authTime !== undefined;
    const withVersion = withTime && accountVersion !== undefined;
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.scanLogin(slotHash),
          UpdateExpression: personId
            ? `SET #state = :to, #person = :person${withTime ? ', #authTime = :authTime' : ''}${
                withVersion ? ', #accountVersion = :accountVersion' : ''
              }`
            : 'SET #state = :to',
          ConditionExpression:
            'attribute_exists(pk) AND #codeHash = :codeHash AND #state = :from AND #codeExpiresAt > :now',
          ExpressionAttributeNames: {
            '#codeHash': 'codeHash',
            '#state': 'state',
            '#codeExpiresAt': 'codeExpiresAt',
            ...(personId ? { '#person': 'personId' } : {}),
            ...(withTime ? { '#authTime': 'authTime' } : {}),
            ...(withVersion ? { '#accountVersion': 'accountVersion' } : {}),
          },
          ExpressionAttributeValues: {
            ':codeHash': codeHash,
            ':to': to,
            ':from': from,
            ':now': nowSeconds,
            ...(personId ? { ':person': personId } : {}),
            ...(withTime ? { ':authTime': authTime } : {}),
            ...(withVersion ? { ':accountVersion': accountVersion } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? recordOf(Attributes as Item) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }
}
