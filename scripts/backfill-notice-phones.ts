import { parseArgs } from 'node:util';
import { buildDependencies } from '../functions/composition/dependencies.js';
import { accountsWithoutNoticePhone } from '../shared/adapters/dynamo/notice-phone-candidates.js';
import { backfillNoticePhones } from '../shared/identity/notice-phone-backfill.js';
import { ranAsScript, readCommandLine, sayer } from './cli.js';

/**
 * `npx tsx scripts/backfill-notice-phones.ts [--dry-run]`: gives the accounts registered before security
 * notices existed their notice phone, where the data model keeps the number by design (the phone
 * confirmed at registration, encrypted), as `backfillNoticePhones` says
 * (shared/identity/notice-phone-backfill.ts; docs/operating.md, "Backfilling notice phones"). The table,
 * the keys and the region (`AWS_REGION`, required) come from the environment, as the service's (`TABLE_NAME`, `PII_KEY_ID`,
 * `LOOKUP_MAC_KEY_ID`, …), credentials as the AWS CLI's. Run it once after the deployment that added
 * security notices; again after an interruption or with accounts `changed`: it finds only what is left.
 * Prints counts as JSON (never a number, nor an account id). Exits 0 when every candidate was sealed or
 * left by design, 1 when some changed meanwhile (run again), 2 on a usage, configuration or connection
 * error.
 */
export async function runNoticePhoneBackfill(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const say = sayer('backfill-notice-phones');
  const start = readCommandLine(
    say,
    env,
    () => parseArgs({ args: argv, options: { 'dry-run': { type: 'boolean', default: false } } }).values,
  );
  if (!start) return 2;
  const { args, config } = start;
  const deps = buildDependencies(config);
  try {
    const run = await backfillNoticePhones(
      { ...deps, candidates: () => accountsWithoutNoticePhone(deps.doc, config.tableName) },
      { dryRun: args['dry-run'] === true },
    );
    console.log(
      JSON.stringify({ table: config.tableName, dryRun: args['dry-run'] === true, ...run }, null, 2),
    );
    return run.skipped.changed > 0 ? 1 : 0;
  } catch (error) {
    say((error as Error).message);
    return 2;
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
}

if (ranAsScript(import.meta.url)) {
  process.exitCode = await runNoticePhoneBackfill(process.argv.slice(2), process.env);
}
