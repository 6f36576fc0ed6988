import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isDeepStrictEqual } from 'node:util';
import { isConditionalCheckFailed } from './conditional.js';
import { fixedPartitions, prefixes } from './keys.js';

/** Whether an item's partition is the audit trail's: entries, the chains' registry, checkpoints. */
export function isAuditTrailPartition(pk: string): boolean {
  return (
    pk.startsWith(prefixes.audit) ||
    pk.startsWith(prefixes.auditChain) ||
    pk.startsWith(prefixes.auditCheckpointHeads) ||
    pk === fixedPartitions.auditCheckpoints ||
    pk === fixedPartitions.auditCheckpointLimit
  );
}

export interface AuditTrailMove {
  /** Audit items found in the service table. */
  found: number;
  /** Copied into the audit table now. */
  copied: number;
  /** Already in the audit table, identical (an earlier run). */
  present: number;
  /** In the audit table with other content: left alone in both tables, for a person to look at. */
  conflicts: Array<{ pk: string; sk: string }>;
  /** Deleted from the service table (with `deleteCopied`, once each is in the audit table, identical). */
  deleted: number;
}

/**
 * Moves a deployed stack's audit trail from the service table into the audit table (security review L6,
 * docs/supervision.md "Moving the audit trail"): every item of the trail's partitions, copied byte for
 * byte (the chains' hashes cover the entries' content, so nothing may change), by conditional puts, so
 * that a second run copies only what the first did not. With `deleteCopied`, each item found identical
 * in the audit table is then deleted from the service table. Idempotent; an operator's tool (it scans the
 * whole service table), never a function's.
 *
 * The copies reach the audit table's stream; supervision-events skips them as copies of history (their
 * `at` is more than an hour before their insert, shared/adapters/dynamo/stream-records.ts), so run this
 * at least an hour after the deployment that created the audit table.
 *
 * @example
 * ```ts
 * const moved = await moveAuditTrail(doc, { from: 'elicence', to: 'elicence-audit', deleteCopied: false });
 * ```
 */
export async function moveAuditTrail(
  doc: DynamoDBDocumentClient,
  options: { from: string; to: string; deleteCopied: boolean },
): Promise<AuditTrailMove> {
  const move: AuditTrailMove = { found: 0, copied: 0, present: 0, conflicts: [], deleted: 0 };
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: options.from,
        FilterExpression: 'begins_with(pk, :audit)',
        ExpressionAttributeValues: { ':audit': 'audit' },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const key = { pk: String(item.pk), sk: String(item.sk) };
      if (!isAuditTrailPartition(key.pk)) continue;
      move.found += 1;
      let same: boolean;
      try {
        await doc.send(
          new PutCommand({
            TableName: options.to,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        move.copied += 1;
        same = true;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        const { Item } = await doc.send(
          new GetCommand({ TableName: options.to, Key: key, ConsistentRead: true }),
        );
        same = isDeepStrictEqual(Item, item);
        if (same) move.present += 1;
        else move.conflicts.push(key);
      }
      if (same && options.deleteCopied) {
        await doc.send(new DeleteCommand({ TableName: options.from, Key: key }));
        move.deleted += 1;
      }
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return move;
}
