import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { supervisedEntryOf, type SupervisedEntry } from '../../supervision/events.js';
import { logger } from '../../logger.js';
import { chainIdPattern } from '../../supervision/audit-chain.js';
import { prefixes } from './keys.js';

type Value = AttributeValue | undefined;

/** An attribute value of a stream image (DynamoDB JSON) as plain JSON: the types audit items use. */
function plain(value: Value): unknown {
  if (!value) return undefined;
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL) return null;
  if (value.L) return value.L.map((item) => plain(item as Value));
  if (value.M) return plainItem(value.M as Record<string, AttributeValue>);
  if (value.SS) return [...value.SS];
  if (value.NS) return value.NS.map(Number);
  return undefined;
}

function plainItem(image: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, plain(value)]));
}

/**
 * Whether an entry is a copy of history while the operator moves the audit trail (docs/supervision.md,
 * "Moving the audit trail"): with `historyBefore` (`SUPERVISION_HISTORY_BEFORE`, the instant of the
 * deployment that created the audit table), an entry whose `at` and whose chain's day (an entry of before
 * chains has none) are both before it was counted when first written, in the service table, and is
 * skipped rather than counted twice or raising alerts for windows long past. Without it nothing is
 * skipped: a rule keyed on how late an entry arrives would let whoever can write the trail hide entries
 * from the statistics and the alerts by back-dating them (security review L1).
 */
function copiedHistory(
  item: Record<string, unknown>,
  at: string,
  historyBefore: number | undefined,
): boolean {
  if (historyBefore === undefined) return false;
  const atMs = Date.parse(at);
  if (!(atMs < historyBefore)) return false;
  const chain = typeof item.chain === 'string' ? item.chain : undefined;
  if (chain === undefined) return true;
  const day = chainIdPattern.exec(chain)?.[1];
  // A chain id that names no day places the entry nowhere: counted, never hidden.
  return day !== undefined && Date.parse(`${day}T00:00:00.000Z`) < historyBefore;
}

/**
 * How long after its instant `SUPERVISION_HISTORY_BEFORE` still applies: a move of the audit trail takes
 * hours, and a forgotten variable must not leave a permanent blind spot in which whoever can write the
 * trail hides entries dated before it from the statistics and the alerts (security review L6).
 */
export const historyBeforeWindowMs = 7 * 86_400_000;

/**
 * The cut-over in epoch milliseconds while it applies: from its instant to {@link historyBeforeWindowMs}
 * after. Outside that window (older, or not yet reached: a cut-over in the future would hide every entry
 * written until then) it is ignored, with a warning on each batch so that the operator removes it.
 */
function activeHistoryBefore(historyBefore: string | undefined, now: number): number | undefined {
  if (historyBefore === undefined) return undefined;
  const instant = Date.parse(historyBefore);
  const age = now - instant;
  if (age >= 0 && age <= historyBeforeWindowMs) return instant;
  logger.warn('supervision: SUPERVISION_HISTORY_BEFORE ignored: remove it from the deployment', {
    historyBefore,
    reason: age > historyBeforeWindowMs ? 'older than 7 days' : 'in the future',
  });
  return undefined;
}

/**
 * The audit entries a DynamoDB Streams batch inserted, in stream order: records of other items, and
 * changes other than inserts, are skipped (the event source mapping filters them already in AWS; the
 * check here keeps the consumer correct without the filter). Only what supervision reads of the entry is
 * kept (`supervisedEntryOf`: never the item's keys or the holder's lookup key), so nothing downstream
 * depends on the sort key's shape or can store personal data. While `historyBefore` is set (an ISO instant, only during a
 * move of the audit trail) and at most 7 days old at `now`, copies of history are skipped and their
 * number logged per batch; after that it is ignored, with a warning per batch.
 *
 * @example
 * ```ts
 * export const handler = async (event: DynamoDBStreamEvent) => process(auditEntriesOf(event.Records));
 * ```
 */
export function auditEntriesOf(
  records: readonly DynamoDBRecord[],
  options: { historyBefore?: string | undefined; now?: number } = {},
): SupervisedEntry[] {
  const historyBefore = activeHistoryBefore(options.historyBefore, options.now ?? Date.now());
  const entries: SupervisedEntry[] = [];
  let skipped = 0;
  for (const record of records) {
    if (record.eventName !== 'INSERT') continue;
    const image = record.dynamodb?.NewImage;
    const pk = image?.pk?.S;
    if (!image || !pk?.startsWith(prefixes.audit)) continue;
    const item = plainItem(image);
    const entry = supervisedEntryOf(item);
    if (!entry) continue;
    if (copiedHistory(item, entry.at, historyBefore)) {
      skipped += 1;
      continue;
    }
    entries.push(entry);
  }
  // A count and the cut-over only (no entry, no personal data): the operator sees the move at work, and
  // that nothing is skipped once the variable is removed.
  if (skipped > 0) {
    logger.warn('supervision: audit entries skipped as copies of history', {
      skipped,
      historyBefore: options.historyBefore ?? '-',
    });
  }
  return entries;
}
