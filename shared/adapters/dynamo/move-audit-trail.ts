import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fixedPartitions, prefixes } from './keys.js';
import { moveItems, type ItemsMove } from './move-items.js';

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

/** What a move of the audit trail did (found, copied, already present, conflicting, deleted). */
export type AuditTrailMove = ItemsMove;

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
  return moveItems(doc, { ...options, scanPrefix: 'audit', belongs: isAuditTrailPartition });
}
