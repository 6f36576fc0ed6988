import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { auditShards } from '../../shared/adapters/dynamo/audit-trail.js';
import { indexKeys, keys } from '../../shared/adapters/dynamo/keys.js';
import type { AuditEntry, LicenceAuditPages } from '../../shared/audit/audit-trail.js';

/**
 * The audit entries an actor wrote today or yesterday, read straight from the table (every shard of both
 * days): for entries no API answers, such as an account's or a consent's, which name no licence.
 *
 * @example
 * ```ts
 * const entries = await auditEntriesOf(deps.doc, runtime.config.auditTableName, account.id);
 * ```
 */
export async function auditEntriesOf(
  doc: DynamoDBDocumentClient,
  tableName: string,
  actor: string,
): Promise<Array<Record<string, unknown> & { action: string; actor: string }>> {
  const days = [new Date(), new Date(Date.now() - 86_400_000)].map((d) => d.toISOString());
  const pages = await Promise.all(
    days.flatMap((day) =>
      Array.from({ length: auditShards }, (_, shard) =>
        doc.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk',
            FilterExpression: 'actor = :actor',
            ExpressionAttributeValues: { ':pk': keys.audit(day, shard, 'x').pk, ':actor': actor },
          }),
        ),
      ),
    ),
  );
  return pages.flatMap(
    (page) => (page.Items ?? []) as Array<Record<string, unknown> & { action: string; actor: string }>,
  );
}

/**
 * A licence's audit items as stored (keys, index keys and all), read straight from its index (gsi1): for
 * tests that tamper with one. One query: a licence of at most a few thousand entries.
 *
 * @example
 * ```ts
 * const items = await licenceAuditItems(deps.doc, runtime.config.auditTableName, licence.id);
 * ```
 */
export async function licenceAuditItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  licenceId: string,
): Promise<Array<Record<string, unknown>>> {
  const { Items = [] } = await doc.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': indexKeys.auditLicence(licenceId) },
    }),
  );
  return Items;
}

/**
 * Every audit entry of a licence, oldest first, read a page at a time through the bounded listing (the
 * audit port reads no whole trail back): for tests of a licence with a few entries.
 *
 * @example
 * ```ts
 * const entries = await licenceAuditEntries(dependencies().auditPages, licence.id);
 * ```
 */
export async function licenceAuditEntries(
  pages: LicenceAuditPages,
  licenceId: string,
): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await pages.licencePage(licenceId, { limit: 100, ...(cursor ? { cursor } : {}) });
    entries.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return entries;
}
