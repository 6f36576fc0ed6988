import type { DynamoDBStreamEvent } from 'aws-lambda';
import { composition } from './composition/dependencies.js';
import { alertPublisher, alerts, auditStream, doc, licences, statistics } from './composition/factories.js';
import { logger } from '../shared/logger.js';
import { newAlertMemory } from '../shared/supervision/alert-rules.js';
import { processAuditEntries } from '../shared/supervision/process-events.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({ doc, statistics, alerts, alertPublisher, auditStream, licences });
/** Per container: alerts known to exist and issuers' baselines (they only save calls). */
const memory = newAlertMemory();

/**
 * The consumer of the audit table's stream (电子监察, off the request path): each batch of audit entries
 * inserted (the event source mapping passes only `audit#` inserts; the local runtime's stream tap the
 * same) is counted into the statistics and run through the alert rules. Any failure throws: the mapping
 * retries the batch (bisecting it), and sends what still fails to the dead-letter queue, whose alarm
 * notifies the alarm topic.
 */
export const handler = async (event: DynamoDBStreamEvent): Promise<void> => {
  const deps = dependencies();
  const entries = deps.auditStream.entriesOf(event.Records);
  const { counted, raised } = await processAuditEntries(entries, {
    statistics: deps.statistics,
    alerts: deps.alerts,
    publisher: deps.alertPublisher,
    licences: deps.licences,
    thresholds: deps.config.alertThresholds,
    memory,
  });
  if (raised.length > 0 || counted > 0) {
    logger.info('supervision batch', { records: event.Records.length, counted, alerts: raised.length });
  }
};
