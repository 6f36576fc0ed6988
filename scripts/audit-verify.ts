import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  verifyAuditTrail,
  type ArchivedCheckpoint,
  type ArchivedKey,
  type AuditVerifyReport,
} from '../shared/supervision/audit-chain-verify.js';

/**
 * `npm run audit:verify -- --base <url> --from <YYYY-MM-DD> --to <YYYY-MM-DD>`: proves the audit trail of
 * those UTC days intact from the public API alone (docs/supervision.md). The supervision client comes from
 * `--client-id`/`--client-secret`, else `SUPERVISION_CLIENT_ID`/`SUPERVISION_CLIENT_SECRET`, else the
 * local runtime's `.data/credentials.json` (`supervisor`). A day with entries that no verified checkpoint
 * covers fails unless `--allow-unsigned`; an entry without chain fields dated on or after the day chains
 * began (`--chains-since`, else the earliest chain day listed) fails. `--archive <file>` keeps the
 * checkpoints fetched and the public key of each kid that signed one (`keys`), and fails if a checkpoint kept
 * earlier disappears, a chain's signed head goes back, or the service answers another key for a kept kid (or
 * drops a kept audit key); a kept key verifies its checkpoints after the service stopped listing it. While
 * an audit key exists, a checkpoint signed with a platform key is bad unless signed before
 * `--platform-checkpoints-until <RFC 3339 time with Z or an offset>` (the instant the audit key took over,
 * from the operator's deploy record; never inferred from what the service lists) or kept in the archive,
 * with its key, by an earlier run that accepted it so.
 * Each licence entry of those days must be on its licence's list: as the service finds it (`listed`), and
 * as the list reads (`GET /supervision/audit?licence=`, page after page up to the days' last place on it)
 * unless `--skip-licence-lists`; a withdrawal saved in several writes must have each part (n of m) on the
 * trail.
 * Exits 0 when every chain verifies, 1 naming the
 * first bad entry (chain, seq) and what is wrong, 2 on a usage or connection error.
 */
const usage = `npm run audit:verify -- [options]
  --base <url>            the service (default AUDIT_BASE_URL or http://localhost:3000)
  --from, --to <YYYY-MM-DD>  the UTC days to check (default today)
  --client-id, --client-secret  a client with the scope supervision (else SUPERVISION_CLIENT_ID/SECRET,
                          else --credentials <file>, default .data/credentials.json)
  --checkpoint            sign a checkpoint of the days first
  --allow-unsigned        accept days no verified checkpoint covers (their chains are still checked)
  --chains-since <YYYY-MM-DD>  the day chains were introduced
  --archive <file>        keep the checkpoints and keys between runs (read, checked, rewritten)
  --platform-checkpoints-until <RFC 3339 time with Z or an offset>
                          the instant the audit key took over, from the operator's deploy record: a
                          checkpoint signed with a platform key is accepted only before it (or as archived
                          by a run that accepted it so); nothing the service lists dates it
  --attribution-since <YYYY-MM-DD>  the day writers' own audit shards were deployed (default: its release)
  --skip-licence-lists    do not read each licence's list (from its first page; a licence with a long trail
                          before the days costs a request per 1000 of its entries); the service's own
                          finding that an entry is off its list is still reported
  --json                  print the whole report
Exits 0 when every chain verifies, 1 naming the first bad entry, 2 on a usage or connection error.`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      base: { type: 'string', default: process.env.AUDIT_BASE_URL ?? 'http://localhost:3000' },
      from: { type: 'string' },
      to: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      credentials: { type: 'string', default: '.data/credentials.json' },
      checkpoint: { type: 'boolean', default: false },
      'allow-unsigned': { type: 'boolean', default: false },
      'chains-since': { type: 'string' },
      archive: { type: 'string' },
      'platform-checkpoints-until': { type: 'string' },
      'attribution-since': { type: 'string' },
      'skip-licence-lists': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const today = new Date().toISOString().slice(0, 10);
  const from = values.from ?? today;
  const to = values.to ?? from;
  const client = await supervisionClient(values);
  if (!client) {
    console.error(
      'audit:verify: no supervision client (--client-id/--client-secret or SUPERVISION_CLIENT_ID/SECRET)',
    );
    return 2;
  }
  let archive: ArchivedCheckpoint[] = [];
  let archiveKeys: ArchivedKey[] = [];
  if (values.archive) {
    try {
      const kept = JSON.parse(await readFile(values.archive, 'utf8')) as {
        checkpoints: typeof archive;
        keys?: typeof archiveKeys;
      };
      archive = kept.checkpoints;
      // An archive written before keys were kept has none: each is recorded when first used now.
      archiveKeys = kept.keys ?? [];
    } catch (error) {
      // A first run starts the archive; anything else unreadable is a usage error, not an empty archive.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        console.error(`audit:verify: --archive ${values.archive}: ${(error as Error).message}`);
        return 2;
      }
    }
  }
  let report: AuditVerifyReport;
  try {
    report = await verifyAuditTrail({
      base: values.base,
      from,
      to,
      ...client,
      checkpointFirst: values.checkpoint,
      allowUnsigned: values['allow-unsigned'],
      ...(values['chains-since'] ? { chainsSince: values['chains-since'] } : {}),
      ...(values.archive ? { archive, archiveKeys } : {}),
      ...(values['skip-licence-lists'] ? { licenceLists: false } : {}),
      ...(values['platform-checkpoints-until']
        ? { platformCheckpointsUntil: values['platform-checkpoints-until'] }
        : {}),
      ...(values['attribution-since'] ? { attributionSince: values['attribution-since'] } : {}),
    });
  } catch (error) {
    console.error(`audit:verify: ${(error as Error).message}`);
    return 2;
  }
  if (values.archive) {
    await writeFile(
      values.archive,
      `${JSON.stringify({ checkpoints: report.archive, keys: report.archiveKeys }, null, 2)}\n`,
    );
  }
  if (values.json) console.log(JSON.stringify(report, null, 2));
  const latest = report.checkpoints[0];
  console.log(
    `${report.entries} entries (${report.unchained} before chains), ${report.chains.length + report.faults.length} chains, ` +
      `${report.checkpoints.length} checkpoint(s) verified` +
      (latest ? `, the latest signed ${new Date(latest.iat * 1000).toISOString()} by key ${latest.kid}` : ''),
  );
  for (const bad of report.badCheckpoints) console.error(`BAD CHECKPOINT ${bad}`);
  const first = report.faults[0];
  if (first) {
    console.error(`FIRST BAD ENTRY: chain ${first.chain} seq ${first.seq}: ${first.problem}`);
    for (const fault of report.faults.slice(1)) {
      console.error(`  also: chain ${fault.chain} seq ${fault.seq}: ${fault.problem}`);
    }
  }
  if (report.ok) console.log(`OK: every chain of ${from}..${to} verifies`);
  return report.ok ? 0 : 1;
}

async function supervisionClient(values: {
  'client-id'?: string;
  'client-secret'?: string;
  credentials: string;
}): Promise<{ clientId: string; clientSecret: string } | undefined> {
  const clientId = values['client-id'] ?? process.env.SUPERVISION_CLIENT_ID;
  const clientSecret = values['client-secret'] ?? process.env.SUPERVISION_CLIENT_SECRET;
  if (clientId && clientSecret) return { clientId, clientSecret };
  try {
    const saved = JSON.parse(await readFile(values.credentials, 'utf8')) as {
      supervisor?: { clientId: string; clientSecret: string };
    };
    return saved.supervisor;
  } catch {
    return undefined;
  }
}

process.exitCode = await main(process.argv.slice(2));
