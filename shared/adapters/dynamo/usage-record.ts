import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '../../audit/audit-trail.js';
import { positionOf, usageCursor, type UsagePage, type UsageRecord } from '../../licence/usage-record.js';
import { entryOf } from './audit-trail.js';
import { indexKeys } from './keys.js';

/**
 * {@link UsageRecord} on the audit table: the audit entries that carry a `holderKey` are indexed in gsi2
 * under `audit-holder#<holderKey>`, sorted by their own sort key (`<at>#<id>`, see `DynamoAuditTrail`).
 * A page queries each holder's partition backwards from the cursor for `limit + 1` entries and merges
 * them: a person reads their own record and, acting for an entity, the entity's, so two partitions at
 * most.
 */
export class DynamoUsageRecord implements UsageRecord {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async forHolders(
    holderKeys: readonly string[],
    page: { limit: number; cursor?: string },
  ): Promise<UsagePage> {
    const before = page.cursor === undefined ? undefined : positionOf(page.cursor);
    const found = await Promise.all(
      [...new Set(holderKeys)].map(async (holderKey) => {
        const answer = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'gsi2',
            KeyConditionExpression: before ? 'gsi2pk = :pk AND gsi2sk < :before' : 'gsi2pk = :pk',
            ExpressionAttributeValues: {
              ':pk': indexKeys.auditHolder(holderKey),
              ...(before ? { ':before': before } : {}),
            },
            ScanIndexForward: false,
            Limit: page.limit + 1,
          }),
        );
        return answer.Items ?? [];
      }),
    );
    const merged = found.flat().sort((a, b) => (String(a.gsi2sk) < String(b.gsi2sk) ? 1 : -1));
    const items = merged.slice(0, page.limit);
    const last = items.at(-1);
    return {
      // As the trail reads them back: an entry whose index and stored holder disagree is not genuine.
      items: items.map((item) => entryOf(item) as AuditEntry),
      ...(merged.length > page.limit && last ? { cursor: usageCursor(String(last.gsi2sk)) } : {}),
    };
  }
}
