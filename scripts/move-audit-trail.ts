import { parseArgs } from 'node:util';
import { createDocumentClient } from '../shared/adapters/dynamo/client.js';
import { moveAuditTrail } from '../shared/adapters/dynamo/move-audit-trail.js';
import { loadConfig } from '../shared/config.js';

/**
 * `npx tsx scripts/move-audit-trail.ts --table <service table> --audit-table <audit table> [--delete]`:
 * moves a deployed stack's audit trail (written before the audit table existed) from the service table
 * into the audit table, item for item (docs/supervision.md "Moving the audit trail"). Tables default to
 * `TABLE_NAME` and `AUDIT_TABLE_NAME`; AWS credentials and region from the environment, as the AWS CLI's.
 * Run it after the deployment that created the audit table, while supervision-events is given that
 * deployment's instant (`-c supervisionHistoryBefore=…`, so the copies are not counted twice), then
 * `npm run audit:verify` over the days moved, then again with `--delete` to remove the originals. Exits 0
 * when every item is in the audit table, 1 when some differ there or changed while compared (listed, left
 * in both tables), 2 on a usage or connection error.
 */
async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      table: { type: 'string' },
      'audit-table': { type: 'string' },
      delete: { type: 'boolean', default: false },
    },
  });
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    // A configuration the service would refuse (e.g. AUDIT_TABLE_NAME equal to TABLE_NAME): exit 2, said.
    console.error(`move-audit-trail: ${(error as Error).message}`);
    return 2;
  }
  const from = values.table ?? config.tableName;
  const to = values['audit-table'] ?? config.auditTableName;
  if (from === to) {
    console.error('move-audit-trail: the service table and the audit table must differ');
    return 2;
  }
  const doc = createDocumentClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  try {
    const move = await moveAuditTrail(doc, { from, to, deleteCopied: values.delete });
    console.log(JSON.stringify({ from, to, ...move }, null, 2));
    return move.conflicts.length > 0 ? 1 : 0;
  } catch (error) {
    console.error(`move-audit-trail: ${(error as Error).message}`);
    return 2;
  } finally {
    doc.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2));
