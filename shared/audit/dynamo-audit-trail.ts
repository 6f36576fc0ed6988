import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomId } from '../random-id.js';
import { putNew } from '../storage/conditional.js';
import type { AuditEntry, AuditTrail } from './audit-trail.js';
import { queryAll } from '../storage/query-all.js';

/**
 * {@link AuditTrail} on the single table: entries partitioned by day (`audit#YYYY-MM-DD`) for the
 * operator's chronological reading, and indexed by licence (gsi1) for one licence's story.
 */
export class DynamoAuditTrail implements AuditTrail {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const sk = `${entry.at}#${randomId('audit')}`;
    await putNew(this.doc, this.tableName, {
      pk: `audit#${entry.at.slice(0, 10)}`,
      sk,
      ...(entry.licenceId ? { gsi1pk: `audit-licence#${entry.licenceId}`, gsi1sk: sk } : {}),
      ...entry,
    });
  }

  async forLicence(licenceId: string): Promise<AuditEntry[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': `audit-licence#${licenceId}` },
    });
    const entries = items.map(
      ({ pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, ...entry }) => entry as unknown as AuditEntry,
    );
    return entries;
  }
}
