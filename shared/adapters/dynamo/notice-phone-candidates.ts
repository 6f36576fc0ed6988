import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { prefixes, sortKeys } from './keys.js';

/**
 * The items of a person account that keep a confirmed phone and no notice phone, in either layout
 * (`DynamoAccountStore`, account-store.ts): the account under its id (`account#<id>` / `account`), or an
 * account still stored in the first layout, before 2026-12-05, the whole account under its ID-number
 * claim (`account#<lookupKey>` / `person`, with its `version`; a moved account's claim holds the id alone,
 * no version). Registry people (`registry-person#…` / `person`) are neither.
 */
const candidateFilter =
  'attribute_exists(#phone) AND attribute_not_exists(noticePhone) AND (' +
  '(sk = :account AND begins_with(pk, :byId)) OR ' +
  '(sk = :person AND begins_with(pk, :pk) AND attribute_exists(#version)))';

/**
 * The ids of the person accounts that keep a confirmed phone and no notice phone (`phone` set,
 * `noticePhone` not), whichever layout stores them: the candidates of `backfillNoticePhones`
 * (shared/identity/notice-phone-backfill.ts), which reads each by id (an account of the first layout
 * through gsi1, as the store does) and saves it, which moves it to the current layout (review R37 F1:
 * the first-layout accounts, which move only on a save and which a sign-in never saves, were never
 * found). One Scan of the service table, page by page, reading the id alone (never the phone, which the
 * backfill reads again with the account), each id once (an account whose move was interrupted has both
 * items): an operator's one-off command, never a request's path.
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
  const yielded = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: candidateFilter,
        ProjectionExpression: 'id',
        ExpressionAttributeNames: { '#phone': 'phone', '#version': 'version' },
        ExpressionAttributeValues: {
          ':byId': `${prefixes.account}acc_`,
          ':pk': prefixes.account,
          ':account': sortKeys.account,
          ':person': sortKeys.person,
        },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      if (typeof item.id !== 'string' || yielded.has(item.id)) continue;
      yielded.add(item.id);
      yield item.id;
    }
    start = page.LastEvaluatedKey;
  } while (start);
}
