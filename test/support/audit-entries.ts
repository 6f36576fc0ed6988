import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { auditShards } from '../../shared/adapters/dynamo/audit-trail.js';
import { keys } from '../../shared/adapters/dynamo/keys.js';

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
