import { parseArgs } from 'node:util';
import { createDocumentClient } from '../shared/adapters/dynamo/client.js';
import { moveBatchJobs } from '../shared/adapters/dynamo/move-batch-jobs.js';
import { loadConfig } from '../shared/config.js';

/**
 * `npx tsx scripts/move-batch-jobs.ts --table <service table> --batch-table <batch table> [--delete]`:
 * moves a deployed stack's bulk issuance jobs (written before the batch table existed) from the service
 * table into the batch table, their chunks of items first, item for item (docs/batch-issuance.md "Moving
 * the jobs"). Tables default to `TABLE_NAME` and `BATCH_TABLE_NAME`; AWS credentials and region from the
 * environment, as the AWS CLI's. Run it right after the deployment that created the batch table, then
 * again with `--delete` to remove the originals. Exits 0 when every item is in the batch table, 1 when
 * some differ there or changed while compared (listed, left in both tables), 2 on a usage or connection
 * error.
 */
async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      table: { type: 'string' },
      'batch-table': { type: 'string' },
      delete: { type: 'boolean', default: false },
    },
  });
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    // A configuration the service would refuse (e.g. BATCH_TABLE_NAME equal to TABLE_NAME): exit 2, said.
    console.error(`move-batch-jobs: ${(error as Error).message}`);
    return 2;
  }
  const from = values.table ?? config.tableName;
  const to = values['batch-table'] ?? config.batchTableName;
  if (from === to) {
    console.error('move-batch-jobs: the service table and the batch table must differ');
    return 2;
  }
  const doc = createDocumentClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  try {
    const move = await moveBatchJobs(doc, { from, to, deleteCopied: values.delete });
    console.log(JSON.stringify({ from, to, ...move }, null, 2));
    return move.conflicts.length > 0 ? 1 : 0;
  } catch (error) {
    console.error(`move-batch-jobs: ${(error as Error).message}`);
    return 2;
  } finally {
    doc.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2));
