import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ScanLoginRecord, ScanLoginState, ScanLoginStore } from '../../identity/scan-login.js';
import { getItem, isConditionalCheckFailed, putNew } from './conditional.js';
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
 * {@link ScanLoginStore} in the service's table: one item per code under the SHA-256 of the code
 * (`scan-login#<sha256>`), carrying the TTL attribute an hour past the code's own expiry. Each change of
 * state is one conditional update on the state and the code's expiry.
 *
 * @example
 * ```ts
 * const store = new DynamoScanLoginStore(doc, 'elicence');
 * await store.advance(codeHash, 'pending', 'confirmed', now, personId);
 * ```
 */
export class DynamoScanLoginStore implements ScanLoginStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(record: ScanLoginRecord): Promise<void> {
    const item: Item = {
      ...keys.scanLogin(record.codeHash),
      ...record,
      expiresAt: record.codeExpiresAt + scanLoginRetentionSeconds,
    };
    await putNew(this.doc, this.tableName, item, {
      conflict: { code: 'scan_login_exists', message: 'A scan-to-login code with this hash exists' },
    });
  }

  async find(codeHash: string, nowSeconds: number): Promise<ScanLoginRecord | undefined> {
    const item = await getItem<Item>(this.doc, this.tableName, keys.scanLogin(codeHash), nowSeconds);
    return item ? recordOf(item) : undefined;
  }

  async advance(
    codeHash: string,
    from: ScanLoginState,
    to: ScanLoginState,
    nowSeconds: number,
    personId?: string,
  ): Promise<ScanLoginRecord | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.scanLogin(codeHash),
          UpdateExpression: personId ? 'SET #state = :to, #person = :person' : 'SET #state = :to',
          ConditionExpression: 'attribute_exists(pk) AND #state = :from AND #codeExpiresAt > :now',
          ExpressionAttributeNames: {
            '#state': 'state',
            '#codeExpiresAt': 'codeExpiresAt',
            ...(personId ? { '#person': 'personId' } : {}),
          },
          ExpressionAttributeValues: {
            ':to': to,
            ':from': from,
            ':now': nowSeconds,
            ...(personId ? { ':person': personId } : {}),
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
