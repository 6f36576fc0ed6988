import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { prefixes } from './keys.js';
import { emptyMove, moveItems, type ItemsMove } from './move-items.js';

/**
 * Moves a deployed stack's bulk issuance jobs from the service table into the batch table
 * (docs/batch-issuance.md "Moving the jobs"): every chunk of items (`batch-items#`) first, then every job
 * (`batch#`), each copied byte for byte by a conditional put, so that a job inserted into the batch table
 * always finds its chunks there (as the batch store writes them) and a second run copies only what the
 * first did not. With `deleteCopied`, each item found identical in the batch table is then deleted from
 * the service table. Idempotent; an operator's tool (it scans the whole service table), never a function's.
 *
 * Why move them at all: jobs are kept (a job answers `GET /licences/batches/{id}` and, through its id,
 * derived from the issuer and the `Idempotency-Key`, a retried submission); left behind, a retry of an
 * old submission would find no job and issue its items again once their idempotency records (24 hours)
 * have expired. A copied job's insert reaches the batch table's stream, so the pipe hands it to
 * `batches`: a job still `running` is resumed (nothing is issued twice, as on any redelivery), a `done`
 * one is read and left as it is.
 *
 * @example
 * ```ts
 * const moved = await moveBatchJobs(doc, { from: 'elicence', to: 'elicence-batches', deleteCopied: false });
 * ```
 */
export async function moveBatchJobs(
  doc: DynamoDBDocumentClient,
  options: { from: string; to: string; deleteCopied: boolean },
): Promise<ItemsMove> {
  const move = emptyMove();
  await moveItems(doc, { ...options, scanPrefix: prefixes.batchItems }, move);
  await moveItems(doc, { ...options, scanPrefix: prefixes.batch }, move);
  return move;
}
