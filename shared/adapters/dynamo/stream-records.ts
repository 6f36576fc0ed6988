import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import type { SupervisedEntry } from '../../supervision/events.js';
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
 * How long after its `at` an entry may reach the table and still be an event: an entry is stamped just
 * before it is written (group commit and retries take seconds), so one written later than this is a copy
 * of history (the move of the audit trail into the audit table, docs/supervision.md; a restore), counted
 * when it was first written. Counting it again would double the day's statistics and could raise alerts
 * for windows long past.
 */
export const copiedAfterMs = 60 * 60_000;

/**
 * The audit entries a DynamoDB Streams batch inserted, in stream order: records of other items, and
 * changes other than inserts, are skipped (the event source mapping filters them already in AWS; the
 * check here keeps the consumer correct without the filter). Only the entry's fields are kept, never the
 * item's keys, its chain fields or the holder's lookup key, so nothing downstream depends on the sort
 * key's shape or can store personal data. Copies of history (inserted more than {@link copiedAfterMs}
 * after their `at`, by the record's `ApproximateCreationDateTime`) are skipped.
 *
 * @example
 * ```ts
 * export const handler = async (event: DynamoDBStreamEvent) => process(auditEntriesOf(event.Records));
 * ```
 */
export function auditEntriesOf(records: readonly DynamoDBRecord[]): SupervisedEntry[] {
  const entries: SupervisedEntry[] = [];
  for (const record of records) {
    if (record.eventName !== 'INSERT') continue;
    const image = record.dynamodb?.NewImage;
    const pk = image?.pk?.S;
    if (!image || !pk?.startsWith(prefixes.audit)) continue;
    const item = plainItem(image);
    const text = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
    const at = text('at');
    const action = text('action');
    if (!at || !action) continue;
    const written = record.dynamodb?.ApproximateCreationDateTime;
    if (written !== undefined && written * 1000 - Date.parse(at) > copiedAfterMs) continue;
    entries.push({
      at,
      action,
      actor: text('actor') ?? 'anonymous',
      ...(text('licenceId') ? { licenceId: text('licenceId') } : {}),
      ...(text('issuerId') ? { issuerId: text('issuerId') } : {}),
      ...(text('licenceType') ? { licenceType: text('licenceType') } : {}),
      ...(text('verdict') ? { verdict: text('verdict') } : {}),
      ...(text('claimedLicenceId') ? { claimedLicenceId: text('claimedLicenceId') } : {}),
    });
  }
  return entries;
}
