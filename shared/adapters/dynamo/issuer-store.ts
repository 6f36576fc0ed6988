import { DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getItem, isConditionalCheckFailed, putNew, putVersioned, versionCondition } from './conditional.js';
import { ConflictError } from '../../errors.js';
import type { Issuer, IssuerListing } from '../../issuers/issuer.js';
import { announceIssuerChange } from '../../issuers/issuer-cache.js';
import type { IssuerStore } from '../../issuers/issuer-store.js';
import type { Trace } from '../../pending-work/pending-work.js';
import { writeWithTrace } from './pending-work.js';
import { queryAll } from './query-all.js';
import { fixedPartitions, indexKeys, keys, sortKeys } from './keys.js';
import { projectionOf } from './projections.js';

const key = keys.issuer;

function toItem(issuer: Issuer) {
  return {
    ...key(issuer.creditCode),
    gsi1pk: indexKeys.issuerId(issuer.id),
    gsi1sk: sortKeys.issuer,
    gsi2pk: fixedPartitions.issuers,
    gsi2sk: issuer.creditCode,
    ...issuer,
  };
}

function fromItem(item: Record<string, unknown>): Issuer {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g1s, gsi2pk: _g2, gsi2sk: _g2s, ...issuer } = item;
  return issuer as unknown as Issuer;
}

const changed = () => new ConflictError('The issuer changed since it was read', 'issuer_changed');

/**
 * {@link IssuerStore} on the single table: one item per issuer, keyed by its credit code. A change saved
 * with its audit entry (`saveWithAudit`) is one transaction of the issuer's versioned put and the put of
 * the pointer that carries the entry (`pending-issuer-audit#<shard>` / `issuer-changed#<issuer id>#<version>`:
 * `writeWithTrace`, pending-work.ts).
 */
export class DynamoIssuerStore implements IssuerStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(issuer: Issuer): Promise<Issuer> {
    const claimed = { ...issuer, version: 1 };
    await putNew(this.doc, this.tableName, toItem(claimed), {
      conflict: { code: 'issuer_exists', message: 'An issuer with this credit code already exists' },
    });
    return claimed;
  }

  async save(issuer: Issuer): Promise<Issuer> {
    const written = await putVersioned(this.doc, this.tableName, toItem(issuer), issuer.version, {
      conflict: { code: 'issuer_changed', message: 'The issuer changed since it was read' },
    });
    // Verification caches of this process read it again at once (others within their lifetime).
    announceIssuerChange(issuer.creditCode);
    return fromItem(written);
  }

  async saveWithAudit(issuer: Issuer, trace: Trace): Promise<Issuer> {
    const written = { ...toItem(issuer), version: issuer.version + 1 };
    const change = {
      Put: {
        TableName: this.tableName,
        Item: written,
        ...versionCondition(issuer.version),
      },
    };
    // Another write of the issuer under way at that moment: as a stale version, for the caller to read again.
    if ((await writeWithTrace(this.doc, this.tableName, change, trace, 'operators')) !== 'written') {
      throw changed();
    }
    announceIssuerChange(issuer.creditCode);
    return fromItem(written);
  }

  async release(issuer: Issuer): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key(issuer.creditCode),
          ConditionExpression: '#status = :provisioning AND id = :id',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':provisioning': 'provisioning', ':id': issuer.id },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async findByCreditCode(creditCode: string): Promise<Issuer | undefined> {
    // Strongly consistent (getItem's default): issuance's check after its write depends on it (R61 F2).
    const item = await getItem(this.doc, this.tableName, key(creditCode), 0, { consistentRead: true });
    return item && fromItem(item);
  }

  async findById(id: string): Promise<Issuer | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk = :sk',
        ExpressionAttributeValues: { ':pk': indexKeys.issuerId(id), ':sk': sortKeys.issuer },
        // The credit code alone: public functions may ask the index for no more (functions/grants.ts).
        ...projectionOf('issuerById'),
      }),
    );
    const found = Items?.[0];
    // The index is eventually consistent: read the item itself for the current version.
    return found ? this.findByCreditCode(String(found.creditCode)) : undefined;
  }

  async listAll(): Promise<IssuerListing[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: 'gsi2',
      KeyConditionExpression: 'gsi2pk = :pk',
      ExpressionAttributeValues: { ':pk': fixedPartitions.issuers },
      // What the trust list and the peers' checks read, and no more (functions/grants.ts).
      ...projectionOf('issuerListing'),
    });
    return items.map(fromItem);
  }
}
