import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { supervisedEntryOf, type SupervisedEntry } from '../../supervision/events.js';
import { withoutCopiedHistory } from '../../supervision/copied-history.js';
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
 * The audit entries a DynamoDB Streams batch inserted, in stream order: records of other items, and
 * changes other than inserts, are skipped (the event source mapping filters them already in AWS; the
 * check here keeps the consumer correct without the filter). Only what supervision reads of the entry is
 * kept (`supervisedEntryOf`: never the item's keys or the holder's lookup key), so nothing downstream
 * depends on the sort key's shape or can store personal data. While `historyBefore` is set (an ISO
 * instant, only during a move of the audit trail) and at most 7 days old at `now`, copies of history are
 * skipped (`withoutCopiedHistory`, the replay's rule too) and their number logged per batch; after that
 * it is ignored, with a warning per batch.
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
  const read: Array<{ entry: SupervisedEntry; chain: unknown }> = [];
  for (const record of records) {
    if (record.eventName !== 'INSERT') continue;
    const image = record.dynamodb?.NewImage;
    const pk = image?.pk?.S;
    if (!image || !pk?.startsWith(prefixes.audit)) continue;
    const item = plainItem(image);
    const entry = supervisedEntryOf(item);
    if (entry) read.push({ entry, chain: item.chain });
  }
  return withoutCopiedHistory(read, ({ entry, chain }) => ({ at: entry.at, chain }), {
    historyBefore: options.historyBefore,
    now: options.now ?? Date.now(),
  }).map(({ entry }) => entry);
}
