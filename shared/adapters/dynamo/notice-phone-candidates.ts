import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { prefixes, sortKeys } from './keys.js';

/**
 * The ids of the person accounts that keep a confirmed phone and no notice phone (`account#<id>` /
 * `account`, `phone` set, `noticePhone` not): the candidates of `backfillNoticePhones`
 * (shared/identity/notice-phone-backfill.ts). One Scan of the service table, page by page, reading the id
 * alone (never the phone, which the backfill reads again with the account): an operator's one-off
 * command, never a request's path.
 *
 * @example
 * ```ts
 * for await (const id of accountsWithoutNoticePhone(doc, tableName)) console.log(id);
 * ```
 */
export async function* accountsWithoutNoticePhone(
  doc: DynamoDBDocumentClient,
  tableName: string,
): AsyncGenerator<string> {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression:
          'sk = :sk AND begins_with(pk, :pk) AND attribute_exists(#phone) AND attribute_not_exists(noticePhone)',
        ProjectionExpression: 'id',
        ExpressionAttributeNames: { '#phone': 'phone' },
        ExpressionAttributeValues: { ':sk': sortKeys.account, ':pk': `${prefixes.account}acc_` },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) if (typeof item.id === 'string') yield item.id;
    start = page.LastEvaluatedKey;
  } while (start);
}
