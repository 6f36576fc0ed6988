import { parseArgs } from 'node:util';
import { createDocumentClient } from '../shared/adapters/dynamo/client.js';
import { backfillUsageIndex } from '../shared/adapters/dynamo/usage-index-backfill.js';
import { ranAsScript, readCommandLine, sayer } from './cli.js';

/**
 * `npx tsx scripts/backfill-usage-index.ts [--audit-table <audit table>]`: gives the usage entries written
 * before the audit table's gsi3 existed their key there, then leaves the mark from which a page of the
 * usage record filtered by kind is one query of gsi3 (docs/usage-record.md "Filtered by kind",
 * docs/operating.md: a deployment step). The table defaults to `AUDIT_TABLE_NAME` (else
 * `<TABLE_NAME>-audit`); AWS credentials from the environment, as the AWS CLI's, the region from
 * `AWS_REGION` only (required against AWS; or `AWS_ENDPOINT_URL_DYNAMODB` for a local table). Run it once the deployment that added gsi3 has finished
 * (and the index is ACTIVE); run it again after an interruption: it picks up what is left. Prints counts
 * as JSON (never a lookup key: an entry left alone is named by its table key only). Exits 0 when every
 * usage entry is indexed and the mark is written, 1 when some entries were left alone (listed; no mark:
 * filtered pages keep reading gsi2), 2 on a usage, configuration or connection error.
 */
export async function runBackfill(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const say = sayer('backfill-usage-index');
  const start = readCommandLine(
    say,
    env,
    () => parseArgs({ args: argv, options: { 'audit-table': { type: 'string' } } }).values,
  );
  if (!start) return 2;
  const { args: values, config } = start;
  const table = values['audit-table'] ?? config.auditTableName;
  const doc = createDocumentClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  try {
    const run = await backfillUsageIndex(doc, table);
    console.log(JSON.stringify({ table, ...run }, null, 2));
    return run.complete ? 0 : 1;
  } catch (error) {
    say((error as Error).message);
    return 2;
  } finally {
    doc.destroy();
  }
}

if (ranAsScript(import.meta.url)) {
  process.exitCode = await runBackfill(process.argv.slice(2), process.env);
}
