import {
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './conditional.js';
import { indexKeys, keys, prefixes } from './keys.js';

/** What a backfill of the usage record's index (gsi3) did. Counts only: never a holder's lookup key. */
export interface UsageIndexBackfill {
  /** Usage entries found without their gsi3 key (entries of a holder, `gsi2pk` set, `gsi3pk` not). */
  found: number;
  /** Given their gsi3 key now. */
  indexed: number;
  /** Indexed meanwhile by someone else (another run), as this run would have. */
  present: number;
  /**
   * Left alone: changed between the scan and the write, indexed otherwise than their holder index says,
   * or filed under no holder key this service writes. By their table key only (day, shard and chain
   * position: no lookup key), for a person to look at.
   */
  conflicts: Array<{ pk: string; sk: string }>;
  /** Whether the mark (`audit-usage-index`) was written: every usage entry is in gsi3. */
  complete: boolean;
}

/**
 * Gives every usage entry written before gsi3 existed its gsi3 key (`audit-holder-action#<key>#<action>`,
 * sort key its gsi2 sort key), then, when no entry was left alone, writes the mark `audit-usage-index`,
 * from which `DynamoUsageRecord` reads a page of one kind from gsi3 (before it, from gsi2, filtered and
 * bounded: docs/usage-record.md). The holder comes from the entry's gsi2 key, so that both indexes file it
 * alike (an entry whose gsi2 key and stored holder disagree stays a mismatch through either).
 *
 * Each entry is written by an UpdateItem that sets the two index attributes only, on the condition that
 * its gsi2 key, sort key and action are still as scanned and it has no gsi3 key yet: the entry itself
 * (what its chain's hash covers, shared/supervision/audit-chain.ts) is never touched, and a second run
 * (or one after an interrupted run) finds only what is left, so it is idempotent and resumes by running
 * again. Run it after the deployment that created gsi3 finished (from then on every writer sets the key):
 * an entry written by an older function afterwards would be missed. The updates are MODIFY records on the
 * audit table's stream, which supervision-events skips (it takes inserts only). An operator's tool (it
 * scans the whole audit table), never a function's.
 *
 * @example
 * ```ts
 * const run = await backfillUsageIndex(doc, 'elicence-audit'); // { found, indexed, present, conflicts, complete }
 * ```
 */
export async function backfillUsageIndex(
  doc: DynamoDBDocumentClient,
  tableName: string,
  now: () => Date = () => new Date(),
): Promise<UsageIndexBackfill> {
  const run: UsageIndexBackfill = { found: 0, indexed: 0, present: 0, conflicts: [], complete: false };
  const startedAt = now().toISOString();
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression:
          'begins_with(pk, :audit) AND attribute_exists(gsi2pk) AND attribute_not_exists(gsi3pk)',
        ProjectionExpression: 'pk, sk, gsi2pk, gsi2sk, #action',
        ExpressionAttributeNames: { '#action': 'action' },
        ExpressionAttributeValues: { ':audit': prefixes.audit },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      run.found += 1;
      const key = { pk: String(item.pk), sk: String(item.sk) };
      const { gsi2pk, gsi2sk, action } = item;
      const holderKey =
        typeof gsi2pk === 'string' && gsi2pk.startsWith(prefixes.auditHolder)
          ? gsi2pk.slice(prefixes.auditHolder.length)
          : '';
      if (!holderKey || typeof gsi2sk !== 'string' || typeof action !== 'string' || action.includes('#')) {
        run.conflicts.push(key);
        continue;
      }
      const gsi3pk = indexKeys.auditHolderAction(holderKey, action);
      try {
        await doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'SET gsi3pk = :gsi3pk, gsi3sk = :gsi2sk',
            ConditionExpression:
              'gsi2pk = :gsi2pk AND gsi2sk = :gsi2sk AND #action = :action AND attribute_not_exists(gsi3pk)',
            ExpressionAttributeNames: { '#action': 'action' },
            ExpressionAttributeValues: {
              ':gsi3pk': gsi3pk,
              ':gsi2pk': gsi2pk,
              ':gsi2sk': gsi2sk,
              ':action': action,
            },
          }),
        );
        run.indexed += 1;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        const { Item } = await doc.send(
          new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
        );
        if (Item?.gsi3pk === gsi3pk && Item.gsi3sk === gsi2sk) run.present += 1;
        else run.conflicts.push(key);
      }
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  if (run.conflicts.length === 0) {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...keys.auditUsageIndex(), startedAt, completedAt: now().toISOString() },
      }),
    );
    run.complete = true;
  }
  return run;
}
