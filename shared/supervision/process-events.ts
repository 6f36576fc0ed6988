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
import { aggregate, type StatisticsStore } from './statistics.js';

/**
 * Reads the audit entries out of a batch of the table's stream records (an adapter: it knows the
 * table's keys and its attribute encoding).
 */
export interface AuditStream {
  entriesOf(records: readonly DynamoDBRecord[]): SupervisedEntry[];
}

/**
 * The supervision consumer's use case (电子监察, off the request path): a batch of audit entries, in the
 * order they were written, counted into the statistics (one atomic add per day, issuer and type) and run
 * through the alert rules. Entries about anything else (accounts, sign-ins) are skipped. A failure
 * rejects, so the caller retries the batch: counts are at-least-once (docs/supervision-statistics-and-alerts.md).
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
  const events = entries.flatMap((entry) => toSupervisionEvent(entry) ?? []);
  if (events.length === 0) return { counted: 0, raised: [] };
  // Counters first: the issuance rule's baseline reads them (past days only, so this batch does not skew it).
  await deps.statistics.add(aggregate(events));
  const raised = await evaluateAlerts(events, deps);
  return { counted: events.length, raised };
}
