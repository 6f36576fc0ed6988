import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  alertPosition,
  type Alert,
  type AlertListQuery,
  type AlertPage,
  type AlertStore,
  type StoredAlert,
} from '../../supervision/alert-rules.js';
import { writeIf } from './conditional.js';
import { indexKeys, keys } from './keys.js';
import { projectionOf } from './projections.js';

/** The UTC months (`YYYY-MM`) that instants `from`..`to` touch. */
function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  const cursor = new Date(`${from.slice(0, 7)}-01T00:00:00.000Z`);
  while (cursor.toISOString().slice(0, 7) <= to.slice(0, 7)) {
    months.push(cursor.toISOString().slice(0, 7));
    cursor.setUTCMonth(cursor.getUTCMonth() + 1);
  }
  return months;
}

/**
 * {@link AlertStore} on the single table. A rule's counter is one item per rule, subject and window
 * (`alert-window#…`), moved by `UpdateItem ADD` returning the new total (`UPDATED_NEW`), so concurrent
 * batches never lose a count, and expiring (TTL) a day after its window. An alert is one item
 * (`alert#<rule>#<subject>#<window>`) created with `attribute_not_exists`, so it exists once however many
 * batches reach the threshold; gsi1 lists a month's alerts in time order (`alerts#<YYYY-MM>`).
 *
 * @example
 * ```ts
 * const alerts = new DynamoAlertStore(doc, 'elicence');
 * const total = await alerts.count('bulk-status-change#iss_1#2026-03-01T09:00:00.000Z', 3, expiresAt);
 * ```
 */
export class DynamoAlertStore implements AlertStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async count(key: string, n: number, expiresAt: number): Promise<number> {
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.alertWindow(key),
        UpdateExpression: 'ADD #n :n SET expiresAt = if_not_exists(expiresAt, :expires)',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':n': n, ':expires': expiresAt },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.n ?? n);
  }

  async create(alert: StoredAlert): Promise<boolean> {
    return writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keys.alert(alert.id),
          gsi1pk: indexKeys.alertsMonth(alert.at.slice(0, 7)),
          gsi1sk: indexKeys.alertOf(alert.at, alert.id),
          ...alert,
          published: false,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async pending(id: string): Promise<boolean> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.alert(id), ConsistentRead: true }),
    );
    return Item !== undefined && Item.published === false && Item.suppressed !== true;
  }

  async settle(id: string, outcome: 'published' | 'suppressed'): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.alert(id),
        UpdateExpression: outcome === 'published' ? 'SET published = :yes' : 'SET suppressed = :yes',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':yes': true },
      }),
    );
  }

  async list(query: AlertListQuery): Promise<AlertPage> {
    const items: AlertPage['items'] = [];
    const newest = query.newestFirst === true;
    // The part of the range still to read: after `after` in the listing's order.
    const low = !newest && query.after ? query.after : query.from;
    const high = newest && query.after ? query.after : query.to;
    const months = monthsBetween(low, high);
    // Month by month in order, each page asking only for what is still missing: never more than
    // `limit` + 1 items read, however many alerts the range holds (a rule's filter reads past the others).
    for (const month of newest ? months.toReversed() : months) {
      let exclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'gsi1',
            // The sort key is the alert's position (`at#id`), so a page resumes right where the last ended.
            KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :low AND :high',
            ...(query.rule ? { FilterExpression: '#rule = :rule' } : {}),
            ExpressionAttributeValues: {
              ':pk': indexKeys.alertsMonth(month),
              ':low': low,
              ':high': high,
              ...(query.rule ? { ':rule': query.rule } : {}),
            },
            // The listing's attributes alone (the supervisor's API may ask the index for no more, R31 L3).
            ...projectionOf('alerts', query.rule ? { '#rule': 'rule' } : {}),
            ScanIndexForward: !newest,
            Limit: query.limit + 1 - items.length,
            ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          const at = String(item.at);
          const position = alertPosition({ at, id: String(item.id) });
          if (at < query.from || at >= query.to) continue;
          if (query.after && (newest ? position >= query.after : position <= query.after)) continue;
          items.push({
            at,
            rule: item.rule as Alert['rule'],
            severity: item.severity as Alert['severity'],
            subject: String(item.subject),
            detail: String(item.detail),
            position,
          });
        }
        exclusiveStartKey = page.LastEvaluatedKey;
      } while (exclusiveStartKey && items.length <= query.limit);
      if (items.length > query.limit) break;
    }
    const more = items.length > query.limit;
    return { items: items.slice(0, query.limit), more };
  }
}
