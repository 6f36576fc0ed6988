import { moveBatchJobs } from '../shared/adapters/dynamo/move-batch-jobs.js';
import { runMove } from './move-cli.js';

/**
 * `npx tsx scripts/move-batch-jobs.ts --table <service table> --batch-table <batch table> [--delete]`:
 * moves a deployed stack's bulk issuance jobs (written before the batch table existed) from the service
 * table into the batch table, their chunks of items first, item for item (docs/batch-issuance.md "Moving
 * the jobs"). Tables default to `TABLE_NAME` and `BATCH_TABLE_NAME`; AWS credentials as the AWS CLI's,
 * the region from `AWS_REGION` (`runMove`). Run it right after the deployment that created the batch table, then
 * again with `--delete` to remove the originals. Exits 0 when every item is in the batch table, 1 when
 * some differ there or changed while compared (listed, left in both tables), 2 on a usage or connection
 * error.
 */
process.exitCode = await runMove(process.argv.slice(2), {
  name: 'move-batch-jobs',
  targetOption: 'batch-table',
  targetWords: 'the batch table',
  defaultTarget: (config) => config.batchTableName,
  move: moveBatchJobs,
});
