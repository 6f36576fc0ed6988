import { moveAuditTrail } from '../shared/adapters/dynamo/move-audit-trail.js';
import { runMove } from './move-cli.js';

/**
 * `npx tsx scripts/move-audit-trail.ts --table <service table> --audit-table <audit table> [--delete]`:
 * moves a deployed stack's audit trail (written before the audit table existed) from the service table
 * into the audit table, item for item (docs/supervision.md "Moving the audit trail"). Tables default to
 * `TABLE_NAME` and `AUDIT_TABLE_NAME`; AWS credentials as the AWS CLI's, the region from `AWS_REGION` (`runMove`).
 * Run it after the deployment that created the audit table, while supervision-events is given that
 * deployment's instant (`-c supervisionHistoryBefore=…`, so the copies are not counted twice), then
 * `npm run audit:verify` over the days moved, then again with `--delete` to remove the originals. Exits 0
 * when every item is in the audit table, 1 when some differ there or changed while compared (listed, left
 * in both tables), 2 on a usage or connection error.
 */
process.exitCode = await runMove(process.argv.slice(2), {
  name: 'move-audit-trail',
  targetOption: 'audit-table',
  targetWords: 'the audit table',
  defaultTarget: (config) => config.auditTableName,
  move: moveAuditTrail,
});
