import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { audit } from '../../../functions/composition/factories.js';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import { verifyAuditTrail, type AuditVerifyOptions } from '../../../shared/supervision/audit-chain-verify.js';
import { postJson, scanItems } from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { demoTokens, issueDrivingLicence, postVerify, type IssuedLicence } from '../verify/helpers.js';

/**
 * What `npm run audit:verify` (`verifyAuditTrail`) covers beyond one chain at a time: every page of the
 * day range (an entry past the first page is checked as the first page's are), and a withdrawal saved in
 * several writes (`authorization.withdrawn` entries, part n of m) with a part missing.
 */
let runtime: TestRuntime;
let supervisor: { clientId: string; clientSecret: string };
let token: string;
let licences: IssuedLicence[];
const today = new Date().toISOString().slice(0, 10);
const doc = () => dependencies().doc;
const run = promisify(execFile);

/**
 * `fetch` with every `GET /supervision/audit` asked `limit` entries a page: the verifier's own paging
 * (cursor after cursor) is what reads past the first page, with pages small enough to take few entries.
 */
const pagesOf =
  (limit: number, asked: string[] = []): typeof fetch =>
  (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.pathname === '/supervision/audit') {
      url.searchParams.set('limit', String(limit));
      asked.push(url.search);
    }
    return fetch(url, init);
  };

/**
 * `fetch` as `pagesOf`, with the day range answered without `listed` (an API of the release before it,
 * during a deploy): only reading each licence's list can then show an entry taken off it.
 */
const withoutFindings =
  (limit: number): typeof fetch =>
  async (input, init) => {
    const response = await pagesOf(limit)(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.pathname !== '/supervision/audit' || url.searchParams.has('licence')) return response;
    const { listed: _listed, ...rest } = (await response.json()) as Record<string, unknown>;
    return new Response(JSON.stringify(rest), { status: response.status, headers: response.headers });
  };

const verify = (more: Partial<AuditVerifyOptions> = {}) =>
  verifyAuditTrail({ base: runtime.baseUrl, ...supervisor, from: today, to: today, ...more });

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0' });
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const registered = await postJson(runtime, '/admin/clients', admin, {
    name: '电子监察 supervising office',
    scopes: ['supervision'],
  });
  expect(registered.status).toBe(201);
  supervisor = (await registered.json()) as typeof supervisor;
  token = await clientCredentialsToken(runtime, supervisor, 'supervision');
  const tokens = await demoTokens(runtime);
  licences = [];
  for (let i = 0; i < 3; i++) licences.push(await issueDrivingLicence(runtime, tokens.issuer));
  for (let i = 0; i < 6; i++) {
    expect((await postVerify(runtime, licences[i % 3]!.credential, tokens.verifier)).status).toBe(200);
  }
}, 120_000);
afterAll(() => runtime?.close());

/** Signs a checkpoint of today now (the interval lifted). */
async function checkpoint() {
  const signed = await postJson(runtime, '/supervision/audit/checkpoints', token, {});
  expect(signed.status).toBe(201);
}

describe('the day range, page after page', () => {
  it('reads every page: an entry edited on the last page of many is named, and every entry is counted', async () => {
    await checkpoint();
    const asked: string[] = [];
    const intact = await verify({ fetch: pagesOf(3, asked) });
    expect(intact.faults).toEqual([]);
    expect(intact.ok).toBe(true);
    // The same entries as one page of 1000 holds, read 3 at a time.
    const whole = await verify();
    expect(intact.entries).toBe(whole.entries);
    expect(asked.length).toBeGreaterThanOrEqual(Math.ceil(whole.entries / 3));
    // The last licence entry read, far past the first page: edited behind the service's back.
    const last = [...intact.items].reverse().find((item) => item.licenceId !== undefined && item.chain)!;
    expect(intact.items.indexOf(last)).toBeGreaterThan(2);
    const [stored] = (await scanItems(`audit#${today}#`)).filter(
      (item) => item.chain === last.chain && item.seq === last.seq,
    );
    const table = dependencies().config.auditTableName;
    await doc().send(new PutCommand({ TableName: table, Item: { ...stored, actor: 'someone-else' } }));
    try {
      const report = await verify({ fetch: pagesOf(3) });
      expect(report.ok).toBe(false);
      expect(report.faults).toContainEqual({
        chain: last.chain,
        seq: last.seq,
        problem: expect.stringContaining('hash does not match'),
      });
    } finally {
      await doc().send(new PutCommand({ TableName: table, Item: stored }));
    }
  }, 60_000);
});

describe('each licence entry of the range on its licence’s list, every page of it', () => {
  /** A licence's entries as its list answers them, 2 a page, and the table item of each. */
  async function listOf(licenceId: string) {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({ licence: licenceId, limit: '2', ...(cursor ? { cursor } : {}) });
      const response = await fetch(`${runtime.baseUrl}/supervision/audit?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const page = (await response.json()) as { items: Array<Record<string, unknown>>; cursor?: string };
      items.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    return items;
  }

  it('reads each list past its first page: an intact trail whose lists span pages verifies', async () => {
    // Issued and verified twice: three entries, two pages of two.
    expect((await listOf(licences[0]!.id)).length).toBeGreaterThanOrEqual(3);
    const report = await verify({ fetch: pagesOf(2), allowUnsigned: true });
    expect(report.faults).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('names an entry taken off its licence’s list (its index keys removed), found past the list’s first page', async () => {
    const list = await listOf(licences[0]!.id);
    const hidden = list.at(-1)!;
    expect(list.indexOf(hidden)).toBeGreaterThanOrEqual(2);
    const [stored] = (await scanItems(`audit#${today}#`)).filter(
      (item) => item.chain === hidden.chain && item.seq === hidden.seq,
    );
    const { gsi1pk: _pk, gsi1sk: _sk, ...offTheList } = stored!;
    const table = dependencies().config.auditTableName;
    await doc().send(new PutCommand({ TableName: table, Item: offTheList }));
    try {
      expect((await listOf(licences[0]!.id)).length).toBe(list.length - 1);
      // The chain is intact (no hashed member changed): the service finds it from the item's own index
      // keys (`listed: false`), and the list, read page after page, does not hold it either.
      const named = (how: string) => ({
        chain: hidden.chain,
        seq: hidden.seq,
        problem: expect.stringContaining(
          `an entry of licence ${licences[0]!.id} (${String(hidden.action)}, ${String(hidden.at)}) is on the chain but missing from the licence's list (${how}`,
        ),
      });
      const report = await verify({ fetch: pagesOf(2), allowUnsigned: true });
      expect(report.ok).toBe(false);
      expect(report.faults).toEqual([named('the service found')]);
      // An API that answers no finding (the release before it): reading the list still shows it.
      const unaided = await verify({ fetch: withoutFindings(2), allowUnsigned: true });
      expect(unaided.faults).toEqual([named('its list, read page after page, shows')]);
      // The command says so too, with the lists skipped as well (the service's finding).
      const command = (...more: string[]) =>
        run(
          'npx',
          [
            'tsx',
            'scripts/audit-verify.ts',
            '--base',
            runtime.baseUrl,
            '--from',
            today,
            '--allow-unsigned',
            ...more,
          ],
          {
            env: {
              ...process.env,
              SUPERVISION_CLIENT_ID: supervisor.clientId,
              SUPERVISION_CLIENT_SECRET: supervisor.clientSecret,
            },
          },
        ).then(
          () => ({ code: 0, stderr: '' }),
          (error: { code: number; stderr: string }) => error,
        );
      for (const more of [[], ['--skip-licence-lists']]) {
        const failed = await command(...more);
        expect(failed.code).toBe(1);
        expect(failed.stderr).toContain(
          `FIRST BAD ENTRY: chain ${String(hidden.chain)} seq ${String(hidden.seq)}:`,
        );
        expect(failed.stderr).toContain("missing from the licence's list");
      }
      // The lists not read and no finding answered: nothing shows it.
      expect((await verify({ fetch: withoutFindings(2), allowUnsigned: true, licenceLists: false })).ok).toBe(
        true,
      );
    } finally {
      await doc().send(new PutCommand({ TableName: table, Item: stored }));
    }
    expect((await verify({ fetch: pagesOf(2), allowUnsigned: true })).ok).toBe(true);
  }, 60_000);
});

describe('a withdrawal saved in several writes (part n of m)', () => {
  /**
   * The entries of a withdrawal of three parts as the withdrawal writes them (`authorization.withdrawn`,
   * `withdrawal`, `part`, `parts`), `parts` of them written: a part left out is one whose saved entry was
   * taken out of the pending work before it was written, so that no chain has a gap where it would be.
   */
  async function withdrawal(written: number[]) {
    const id = randomUUID();
    const trail = audit(dependencies());
    for (const part of written) {
      const entry: AuditEntry = {
        // Early today, so that every part is due on today's chains (the check waits for late writes).
        at: `${today}T00:00:01.000Z`,
        actor: 'acc_withdrawing',
        action: 'authorization.withdrawn',
        reason: `client cl_platform, grant g${part}, scopes openid`,
        withdrawal: id,
        part,
        parts: 3,
      };
      await trail.record(entry);
    }
    return id;
  }
  /** Late today, every withdrawal of early today settled; unsigned today allowed (not what this checks). */
  const lateToday = { now: Date.parse(`${today}T23:59:00Z`), allowUnsigned: true };

  it('answers supervisors the parts with the redacted entries, and a withdrawal whose parts are all there verifies', async () => {
    const whole = await withdrawal([1, 2, 3]);
    const report = await verify(lateToday);
    expect(report.faults).toEqual([]);
    const parts = report.items.filter((item) => item.withdrawal === whole);
    expect(parts.map((item) => [item.redacted, item.part, item.parts])).toEqual([
      [true, 1, 3],
      [true, 2, 3],
      [true, 3, 3],
    ]);
  });

  it('names a withdrawal with a part missing: the middle one, or the last', async () => {
    const middle = await withdrawal([1, 3]);
    const end = await withdrawal([1, 2]);
    const report = await verify(lateToday);
    expect(report.ok).toBe(false);
    expect(report.faults.map((fault) => fault.problem).sort()).toEqual(
      [
        `withdrawal ${middle}: part 2 of 3 is not on the trail (parts 1, 3 are)`,
        `withdrawal ${end}: part 3 of 3 is not on the trail (parts 1, 2 are)`,
      ]
        .sort()
        .map((start) => expect.stringContaining(start)),
    );
    // Each named at the withdrawal's first entry read, which is on the chains.
    const first = report.items.find((item) => item.withdrawal === middle)!;
    expect(report.faults.find((fault) => fault.problem.includes(middle))).toMatchObject({
      chain: first.chain,
      seq: first.seq,
    });
    // Not yet: within minutes of the withdrawal its last parts may still be on their way.
    const early = await verify({ now: Date.parse(`${today}T00:05:00Z`), allowUnsigned: true });
    expect(early.faults.filter((fault) => fault.problem.startsWith('withdrawal'))).toEqual([]);
  });
});
