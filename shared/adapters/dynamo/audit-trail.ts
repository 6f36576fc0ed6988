import { randomInt } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomId } from '../../random-id.js';
import { putNew } from './conditional.js';
import type { AuditEntry, AuditTrail } from '../../audit/audit-trail.js';
import { queryAll } from './query-all.js';
import { indexKeys, keys } from './keys.js';

/**
 * Partitions per day. Every verification writes an entry, so one partition a day would cap the service
 * near DynamoDB's 1,000 writes/s per partition; entries spread over this many, chosen at random.
 */
export const auditShards = 16;

/**
 * {@link AuditTrail} on the single table: entries partitioned by day and shard
 * (`audit#YYYY-MM-DD#<shard>`, read in time order by merging the shards), indexed by licence (gsi1)
 * for one licence's story, and by holder (gsi2, entries carrying `holderKey`) for their usage record.
 */
export class DynamoAuditTrail implements AuditTrail {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const key = keys.audit(entry.at, randomInt(auditShards), randomId('audit'));
    await putNew(this.doc, this.tableName, {
      ...key,
      ...(entry.licenceId ? { gsi1pk: indexKeys.auditLicence(entry.licenceId), gsi1sk: key.sk } : {}),
      // The usage record (用证记录) of the licence's holder: `DynamoUsageRecord` reads it, newest first.
      ...(entry.holderKey ? { gsi2pk: indexKeys.auditHolder(entry.holderKey), gsi2sk: key.sk } : {}),
      ...entry,
    });
  }

  async forLicence(licenceId: string): Promise<AuditEntry[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': indexKeys.auditLicence(licenceId) },
    });
    const entries = items.map(
      ({ pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, ...entry }) =>
        entry as unknown as AuditEntry,
    );
    return entries;
  }
}
