import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { composition } from './composition/dependencies.js';
import {
  kms,
  doc,
  issuers,
  licences,
  pendingWork,
  idempotency,
  statusLists,
  auditOf,
  lookupMac,
  signerFor,
  fingerprint,
  batches,
  batchSlots,
  batchSigners,
  batchItemsSealer,
} from './composition/factories.js';
import { runBatch } from '../shared/licence/batches.js';
import { logger } from '../shared/logger.js';

/** What this function's handler uses, built once per container (the batch keys with it). */
const dependencies = composition({
  kms,
  doc,
  issuers,
  licences,
  pendingWork,
  idempotency,
  statusLists,
  audit: auditOf('batches'),
  lookupMac,
  signerFor,
  fingerprint,
  batches,
  batchSlots,
  batchSigners,
  batchItemsSealer,
});

/** A message of the batch queue: the job to run (the pipe from the batch table's stream writes exactly this). */
const batchMessage = z.strictObject({ batchId: z.string().regex(/^bat_[A-Za-z0-9_-]{22}$/) });

/**
 * Runs bulk issuance jobs (存量证照电子化, docs/batch-issuance.md): each message of the batch queue names a
 * job, which is run to its end (`runBatch`: every item through the single-issuance use case, signed by a
 * certified batch key). A job that fails is reported back (`batchItemFailures`) and delivered again after
 * the queue's visibility timeout; the re-run issues nothing twice. After 3 deliveries it goes to the
 * dead-letter queue, whose alarm says so. A malformed message is logged and dropped: no retry mends it.
 */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const deps = dependencies();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    let batchId: string;
    try {
      batchId = batchMessage.parse(JSON.parse(record.body)).batchId;
    } catch {
      logger.error('batch message malformed, dropped', { messageId: record.messageId });
      continue;
    }
    try {
      await runBatch(batchId, {
        ...deps,
        issuerUrl: deps.config.issuerUrl,
      });
    } catch (error) {
      logger.error('batch job failed, to be retried', { batchId, error: String(error) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
