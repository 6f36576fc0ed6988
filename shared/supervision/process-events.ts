import type { DynamoDBRecord } from 'aws-lambda';
import type { AlertThresholds } from '../config.js';
import {
  evaluateAlerts,
  type Alert,
  type AlertMemory,
  type AlertPublisher,
  type AlertStore,
  type LicencesOnRecord,
} from './alert-rules.js';
import { toSupervisionEvent, type SupervisedEntry } from './events.js';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import type { StatisticsStore } from './statistics.js';

/**
 * Reads the audit entries out of a batch of the table's stream records (an adapter: it knows the
 * table's keys and its attribute encoding).
 */
export interface AuditStream {
  entriesOf(records: readonly DynamoDBRecord[]): SupervisedEntry[];
}

/**
 * The supervision consumer's use case (电子监察, off the request path): a batch of audit entries, in the
 * order they were written, counted into the statistics once each (`addOnce`: each entry's id marked with
 * its counts in one atomic write, so a retried or replayed batch counts nothing twice) and run through the
 * alert rules. Entries about anything else (accounts, sign-ins) are skipped. A failure rejects, so the
 * caller retries the batch (docs/supervision-statistics-and-alerts.md).
 *
 * @example
 * ```ts
 * await processAuditEntries(entries, { statistics, alerts, publisher, licences, thresholds, memory });
 * ```
 */
export async function processAuditEntries(
  entries: readonly SupervisedEntry[],
  deps: {
    statistics: StatisticsStore;
    alerts: AlertStore;
    publisher: AlertPublisher;
    licences: LicencesOnRecord;
    thresholds: AlertThresholds;
    memory: AlertMemory;
  },
): Promise<{ counted: number; raised: Alert[] }> {
  const counted = entries.flatMap((entry) => {
    const event = toSupervisionEvent(entry);
    return event ? [{ id: auditEntryId(entry), event }] : [];
  });
  if (counted.length === 0) return { counted: 0, raised: [] };
  // Counters first: the issuance rule's baseline reads them (past days only, so this batch does not skew it).
  const added = await deps.statistics.addOnce(counted);
  const raised = await evaluateAlerts(
    counted.map(({ event }) => event),
    deps,
  );
  return { counted: added, raised };
}

/**
 * An audit entry's own id: its chain and position (`<chain>#<seq>`, unique), or for an entry older than
 * the chains a digest of what supervision reads of it. The same entry, read from the stream or again from
 * the table by a replay (both through `supervisedEntryOf`), always has the same id.
 *
 * @example
 * ```ts
 * auditEntryId({ chain: '2026-12-05.abcdefghijkl', seq: 7, … }); // '2026-12-05.abcdefghijkl#7'
 * ```
 */
export function auditEntryId(entry: SupervisedEntry): string {
  if (typeof entry.chain === 'string' && typeof entry.seq === 'number') return `${entry.chain}#${entry.seq}`;
  return `sha256:${createHash('sha256').update(canonicalJson(entry)).digest('base64url')}`;
}
