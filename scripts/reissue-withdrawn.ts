import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

/**
 * `npx tsx scripts/reissue-withdrawn.ts --base <url>`: re-issues every licence of one issuer whose
 * credential was signed by a key since withdrawn (docs/operating.md, "Backup and key rotation"), through
 * the issuer API alone: `GET /licences?keyWithdrawn=true&status=valid` page by page, and
 * `POST /licences/{id}/reissue` for each. The issuer's client comes from `--client-id`/`--client-secret`,
 * else `ISSUER_CLIENT_ID`/`ISSUER_CLIENT_SECRET`, else the local runtime's `.data/credentials.json`
 * (`issuer`). Safe to run again at any point (each re-issue is, and the list then holds only what is left).
 * Suspended licences of a withdrawn key are not re-issued (their replacement would be valid): they are
 * counted, to reinstate or revoke by hand. Prints one line per licence (`old -> new`) and a summary; exits
 * 0 when every listed licence was re-issued, 1 when some failed (named), 2 on a usage or connection error.
 */
const usage = `npx tsx scripts/reissue-withdrawn.ts [options]
  --base <url>            the service (default ISSUER_BASE_URL or http://localhost:3000)
  --client-id, --client-secret  the issuer's client (else ISSUER_CLIENT_ID/SECRET,
                          else --credentials <file>, default .data/credentials.json)
  --dry-run               list what would be re-issued, change nothing
  --max <n>               re-issue at most n licences in this run
  --json                  print the report as JSON
Exits 0 when every listed licence was re-issued, 1 when some failed, 2 on a usage or connection error.`;

interface Report {
  reissued: Array<{ old: string; new: string }>;
  /** Re-issued by an earlier run (or another clerk) meanwhile: nothing to do. */
  already: string[];
  failed: Array<{ id: string; status: number; code?: string }>;
  /** Valid licences of a withdrawn key this run left (a dry run, or past --max). */
  pending: string[];
  /** Suspended licences of a withdrawn key: not re-issued. */
  suspended: number;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        base: { type: 'string', default: process.env.ISSUER_BASE_URL ?? 'http://localhost:3000' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        credentials: { type: 'string', default: '.data/credentials.json' },
        'dry-run': { type: 'boolean', default: false },
        max: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    console.error(`reissue-withdrawn: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const max = values.max === undefined ? Infinity : Number(values.max);
  if (!(max >= 0) || (values.max !== undefined && !Number.isInteger(max))) {
    console.error(`reissue-withdrawn: --max must be a whole number\n${usage}`);
    return 2;
  }
  const client = await issuerClient(values);
  if (!client) {
    console.error(
      'reissue-withdrawn: no issuer client (--client-id/--client-secret or ISSUER_CLIENT_ID/SECRET)',
    );
    return 2;
  }
  const base = values.base.replace(/\/$/, '');
  let report: Report;
  try {
    const token = await issuerToken(base, client);
    report = await reissueAll(base, token, { dryRun: values['dry-run'], max });
  } catch (error) {
    console.error(`reissue-withdrawn: ${(error as Error).message}`);
    return 2;
  }
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else for (const done of report.reissued) console.log(`${done.old} -> ${done.new}`);
  for (const failure of report.failed) {
    console.error(`FAILED ${failure.id}: ${failure.status} ${failure.code ?? ''}`.trimEnd());
  }
  console.log(
    `${report.reissued.length} re-issued, ${report.already.length} already re-issued, ` +
      `${report.failed.length} failed, ${report.pending.length} left` +
      (report.suspended > 0
        ? `, ${report.suspended} suspended (not re-issued: reinstate or revoke them)`
        : ''),
  );
  return report.failed.length > 0 ? 1 : 0;
}

/** The loop over `GET /licences?keyWithdrawn=true&status=valid` and `POST /licences/{id}/reissue`. */
async function reissueAll(
  base: string,
  token: string,
  options: { dryRun: boolean; max: number },
): Promise<Report> {
  const auth = { authorization: `Bearer ${token}` };
  const report: Report = { reissued: [], already: [], failed: [], pending: [], suspended: 0 };
  // Each re-issue revokes what was listed and signs the new licence with a published key, so neither
  // shows on later pages; the cursor goes on past them.
  let cursor: string | undefined;
  do {
    const page = await list(base, auth, 'valid', cursor);
    for (const { id } of page.items) {
      if (options.dryRun || report.reissued.length >= options.max) {
        report.pending.push(id);
        continue;
      }
      const response = await fetch(`${base}/licences/${encodeURIComponent(id)}/reissue`, {
        method: 'POST',
        headers: auth,
      });
      const body = (await response.json().catch(() => ({}))) as { id?: string; code?: string };
      if ((response.status === 201 || response.status === 200) && body.id) {
        report.reissued.push({ old: id, new: body.id });
      } else if (response.status === 409 && body.code === 'licence_reissued') {
        report.already.push(id);
      } else {
        report.failed.push({ id, status: response.status, ...(body.code ? { code: body.code } : {}) });
      }
    }
    cursor = page.cursor;
  } while (cursor);
  let suspendedCursor: string | undefined;
  do {
    const page = await list(base, auth, 'suspended', suspendedCursor);
    report.suspended += page.items.length;
    suspendedCursor = page.cursor;
  } while (suspendedCursor);
  return report;
}

async function list(
  base: string,
  auth: Record<string, string>,
  status: 'valid' | 'suspended',
  cursor: string | undefined,
): Promise<{ items: Array<{ id: string }>; cursor?: string }> {
  const query = new URLSearchParams({ keyWithdrawn: 'true', status, limit: '100' });
  if (cursor) query.set('cursor', cursor);
  const response = await fetch(`${base}/licences?${query}`, { headers: auth });
  if (!response.ok) throw new Error(`GET /licences answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { items: Array<{ id: string }>; cursor?: string };
}

/** An issuer token (scope `licences:issue`) by the client-credentials grant, at the discovered endpoint. */
async function issuerToken(
  base: string,
  client: { clientId: string; clientSecret: string },
): Promise<string> {
  const discovery = await fetch(`${base}/.well-known/openid-configuration`);
  if (!discovery.ok) throw new Error(`no OpenID discovery at ${base} (${discovery.status})`);
  const { token_endpoint: tokenEndpoint } = (await discovery.json()) as { token_endpoint: string };
  const basic = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  ).toString('base64');
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'licences:issue' }),
  });
  const token = ((await response.json()) as { access_token?: string }).access_token;
  if (!response.ok || !token) throw new Error(`the token endpoint refused the client (${response.status})`);
  return token;
}

async function issuerClient(values: {
  'client-id'?: string;
  'client-secret'?: string;
  credentials: string;
}): Promise<{ clientId: string; clientSecret: string } | undefined> {
  const clientId = values['client-id'] ?? process.env.ISSUER_CLIENT_ID;
  const clientSecret = values['client-secret'] ?? process.env.ISSUER_CLIENT_SECRET;
  if (clientId && clientSecret) return { clientId, clientSecret };
  try {
    const saved = JSON.parse(await readFile(values.credentials, 'utf8')) as {
      issuer?: { clientId: string; clientSecret: string };
    };
    return saved.issuer;
  } catch {
    return undefined;
  }
}

process.exitCode = await main(process.argv.slice(2));
