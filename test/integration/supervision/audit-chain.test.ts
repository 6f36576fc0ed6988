import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/audit.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { audit, platformSigner } from '../../../functions/composition/factories.js';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import { checkTrail, type ChainHead } from '../../../shared/supervision/audit-chain.js';
import { verifyAuditTrail } from '../../../shared/supervision/audit-chain-verify.js';
import { headsDigest } from '../../../shared/supervision/checkpoints.js';
import { postJson, scanItems } from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { demoTokens, issueDrivingLicence, postVerify, type IssuedLicence } from '../verify/helpers.js';

/**
 * Issue 18, build 1: the tamper-evident audit trail through the real HTTP runtime. Concurrent writers
 * (issuances and verifications) each append to their own hash chain; a checkpoint signed with the audit key pins
 * the heads; `verifyAuditTrail` (and `npm run audit:verify`) recompute everything from the public API and
 * name the first bad entry when the table is edited behind the service's back.
 */
let runtime: TestRuntime;
let supervisor: { clientId: string; clientSecret: string };
let token: string;
let licences: IssuedLicence[];
const today = new Date().toISOString().slice(0, 10);

const run = promisify(execFile);

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(`${runtime.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as T;
}

const verify = (more: { platformCheckpointsUntil?: string } = {}) =>
  verifyAuditTrail({
    base: runtime.baseUrl,
    ...supervisor,
    from: today,
    to: today,
    checkpointFirst: false,
    ...more,
  });

/** Every chained entry item of today in the table, by chain, in seq order. */
async function chainedItems(): Promise<Map<string, Array<Record<string, unknown>>>> {
  const items = (await scanItems(`audit#${today}#`)).filter((item) => item.chain !== undefined);
  const chains = new Map<string, Array<Record<string, unknown>>>();
  for (const item of items.sort((a, b) => Number(a.seq) - Number(b.seq))) {
    const list = chains.get(String(item.chain)) ?? [];
    list.push(item);
    chains.set(String(item.chain), list);
  }
  return chains;
}

beforeAll(async () => {
  // Several checkpoints in a row, on demand: the interval between them (checkpoint-limit.test.ts) lifted.
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
  licences = await Promise.all(Array.from({ length: 5 }, () => issueDrivingLicence(runtime, tokens.issuer)));
  // 50 at once: 25 issuances (the licences function's trail) and 25 verifications (/verify's group commit).
  const verifications = Array.from({ length: 25 }, (_, i) =>
    postVerify(runtime, licences[i % licences.length]!.credential, i % 2 ? tokens.verifier : undefined).then(
      (response) => expect(response.status).toBe(200),
    ),
  );
  const issuances = Array.from({ length: 25 }, () => issueDrivingLicence(runtime, tokens.issuer));
  await Promise.all([...verifications, ...issuances]);
}, 120_000);
afterAll(() => runtime?.close());

describe('the audit chains under concurrent writers', () => {
  it('has, for every chain, seq 1..n with no fork and no gap, each linked to the one before', async () => {
    const chains = await chainedItems();
    expect(chains.size).toBeGreaterThanOrEqual(2);
    let total = 0;
    for (const [chain, items] of chains) {
      expect(
        items.map((item) => item.seq),
        chain,
      ).toEqual(items.map((_, i) => i + 1));
      total += items.length;
    }
    // 5 + 25 issuances, 25 verifications, at least.
    expect(total).toBeGreaterThanOrEqual(55);
    const { items } = await getJson<{ items: Array<Record<string, unknown>> }>(
      `/supervision/audit?from=${today}&to=${today}`,
    );
    const check = checkTrail(items);
    expect(check.faults).toEqual([]);
    expect(check.chains.map((head) => head.chain).sort()).toEqual([...chains.keys()].sort());
    expect(JSON.stringify(items)).not.toContain('holderKey');
  });

  it('registers every chain, and lists a licence’s chained story with masked holders only', async () => {
    const registered = (await scanItems(`audit-chain#${today}`)).map((item) => item.chain).sort();
    expect(registered).toEqual([...(await chainedItems()).keys()].sort());
    const { items } = await getJson<{ items: Array<Record<string, unknown>> }>(
      `/supervision/audit?licence=${encodeURIComponent(licences[0]!.id)}`,
    );
    expect(items[0]).toMatchObject({ action: 'licence.issued', seq: expect.any(Number) });
    expect(items.map((item) => item.at)).toEqual(items.map((item) => item.at).sort());
    expect(JSON.stringify(items)).not.toContain('holderKey');
  });

  it('pages a licence’s story with limit and cursor, each entry once, as one page would list it', async () => {
    const licence = encodeURIComponent(licences[0]!.id);
    const whole = await getJson<{ items: unknown[]; cursor?: string }>(
      `/supervision/audit?licence=${licence}`,
    );
    expect(whole.cursor).toBeUndefined();
    expect(whole.items.length).toBeGreaterThan(2);
    const pages: unknown[][] = [];
    let cursor: string | undefined;
    do {
      const page = await getJson<{ items: unknown[]; cursor?: string }>(
        `/supervision/audit?licence=${licence}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      pages.push(page.items);
      cursor = page.cursor;
    } while (cursor);
    expect(pages.length).toBe(Math.ceil(whole.items.length / 2));
    expect(pages.flat()).toEqual(whole.items);
  });

  it('answers entries not about a licence redacted to time, action and link, and they still verify', async () => {
    // An account event, written through the trail as the accounts function writes it.
    const trail = audit(dependencies());
    await trail.record({
      at: new Date().toISOString(),
      actor: 'acc_profiled00',
      action: 'authorization.granted',
      purpose: 'a loan application',
    });
    const { items } = await getJson<{ items: Array<Record<string, unknown>> }>(
      `/supervision/audit?from=${today}&to=${today}&limit=1000`,
    );
    const redacted = items.filter((item) => !String(item.action).startsWith('licence.'));
    expect(redacted.length).toBeGreaterThan(0);
    for (const item of redacted) {
      expect(Object.keys(item).sort()).toEqual([
        'action',
        'at',
        'chain',
        'contentDigest',
        'hash',
        'prevHash',
        'redacted',
        'seq',
      ]);
    }
    expect(JSON.stringify(items)).not.toMatch(/acc_profiled00|a loan application/);
    expect(
      items.filter((item) => String(item.action).startsWith('licence.')).every((item) => !item.redacted),
    ).toBe(true);
    expect(checkTrail(items).faults).toEqual([]);
  });

  it('pages through a day range with a cursor, each entry once', async () => {
    const all: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await getJson<{ items: Array<Record<string, unknown>>; cursor?: string }>(
        `/supervision/audit?from=${today}&to=${today}&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      all.push(...page.items);
      cursor = page.cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBeGreaterThan(5);
    const whole = await getJson<{ items: unknown[] }>(`/supervision/audit?from=${today}&to=${today}`);
    expect(all).toEqual(whole.items);
  });

  it('takes back only the cursors it answered, for the same listing and query: any other is 400 invalid_cursor naming cursor (R14 L2)', async () => {
    const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const [a, b] = [encodeURIComponent(licences[0]!.id), encodeURIComponent(licences[1]!.id)];
    const yesterday = new Date(Date.parse(today) - 86_400_000).toISOString().slice(0, 10);
    const cursorOf = async (path: string, bearer = token) => {
      const response = await fetch(`${runtime.baseUrl}${path}`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(response.status, path).toBe(200);
      return ((await response.json()) as { cursor?: string }).cursor!;
    };
    const refusedAt = async (path: string, cursor: string, bearer = token) => {
      const response = await fetch(`${runtime.baseUrl}${path}&cursor=${encodeURIComponent(cursor)}`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(response.status, `${path} ${cursor}`).toBe(400);
      expect(await response.json()).toMatchObject({
        code: 'invalid_cursor',
        errors: [{ path: 'cursor', message: expect.any(String) }],
      });
    };
    const ofA = await cursorOf(`/supervision/audit?licence=${a}&limit=1`);
    const ofDay = await cursorOf(`/supervision/audit?from=${today}&to=${today}&limit=1`);
    const ofAdmin = await cursorOf(`/admin/audit?licence=${a}&limit=1`, admin);
    // Each is taken back where it was answered.
    await cursorOf(`/supervision/audit?licence=${a}&limit=1&cursor=${encodeURIComponent(ofA)}`);
    await cursorOf(
      `/supervision/audit?from=${today}&to=${today}&limit=1&cursor=${encodeURIComponent(ofDay)}`,
    );
    await cursorOf(`/admin/audit?licence=${a}&limit=1&cursor=${encodeURIComponent(ofAdmin)}`, admin);
    expect(Math.max(ofA.length, ofDay.length, ofAdmin.length)).toBeLessThanOrEqual(400);

    // As the API used to take any: a well-formed place of the licence's list (here a real page's end).
    await refusedAt(`/supervision/audit?licence=${a}&limit=1`, ofA.split('.')[0]!);
    await refusedAt(`/admin/audit?licence=${a}&limit=1`, ofAdmin.split('.')[0]!, admin);
    // Altered: one character of its MAC, or its place with the MAC kept.
    const flip = (text: string, at: number) =>
      `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
    await refusedAt(`/supervision/audit?licence=${a}&limit=1`, flip(ofA, ofA.length - 1));
    await refusedAt(`/supervision/audit?licence=${a}&limit=1`, flip(ofA, 3));
    await refusedAt(`/supervision/audit?from=${today}&to=${today}&limit=1`, flip(ofDay, ofDay.length - 2));
    // Foreign: another licence's list, another range, another issuer filter, another listing.
    await refusedAt(`/supervision/audit?licence=${b}&limit=1`, ofA);
    await refusedAt(`/supervision/audit?from=${yesterday}&to=${today}&limit=1`, ofDay);
    await refusedAt(`/supervision/audit?from=${today}&to=${today}&issuer=iss_other&limit=1`, ofDay);
    await refusedAt(`/supervision/audit?from=${today}&to=${today}&limit=1`, ofA);
    await refusedAt(`/supervision/audit?licence=${a}&limit=1`, ofDay);
    await refusedAt(`/supervision/audit?licence=${a}&limit=1`, ofAdmin);
    await refusedAt(`/admin/audit?licence=${a}&limit=1`, ofA, admin);
  });

  it('refuses bad queries naming the field, and callers without the scope', async () => {
    const bad = await fetch(`${runtime.baseUrl}/supervision/audit?from=${today}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('"to"');
    const cursor = await fetch(`${runtime.baseUrl}/supervision/audit?from=${today}&to=${today}&cursor=abc`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(cursor.status).toBe(400);
    // A real cursor, of today, used for other days: refused, not read.
    const page = await getJson<{ cursor?: string }>(`/supervision/audit?from=${today}&to=${today}&limit=1`);
    const elsewhere = await fetch(
      `${runtime.baseUrl}/supervision/audit?from=2020-01-01&to=2020-01-02&cursor=${page.cursor!}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(elsewhere.status).toBe(400);
    expect(((await elsewhere.json()) as { code?: string }).code).toBe('invalid_cursor');
    const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const refused = await fetch(`${runtime.baseUrl}/supervision/audit/checkpoints`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(refused.status).toBe(403);
  });
});

describe('checkpoints', () => {
  it('are required: a day with entries and no verified checkpoint fails, unless unsigned days are allowed', async () => {
    const listed = await getJson<{ items: unknown[] }>('/supervision/audit/checkpoints');
    expect(listed.items).toEqual([]);
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.faults).toEqual([
      { chain: '-', seq: 0, problem: expect.stringContaining(`no verified checkpoint covers ${today}`) },
    ]);
    const allowed = await verifyAuditTrail({
      base: runtime.baseUrl,
      ...supervisor,
      from: today,
      to: today,
      allowUnsigned: true,
    });
    expect(allowed.ok).toBe(true);
  });

  it('signs the heads of today’s chains with the audit key (typ audit-checkpoint+jwt), verified against the published audit keys', async () => {
    const response = await postJson(runtime, '/supervision/audit/checkpoints', token, {});
    expect(response.status).toBe(201);
    const { jws } = (await response.json()) as { jws: string };
    expect(decodeProtectedHeader(jws)).toMatchObject({ typ: 'audit-checkpoint+jwt', alg: 'ES256' });
    const jwks = createRemoteJWKSet(new URL(`${runtime.baseUrl}/supervision/audit/keys`));
    const { payload } = await jwtVerify(jws, jwks, { typ: 'audit-checkpoint+jwt' });
    const heads = new Map([...(await chainedItems())].map(([chain, items]) => [chain, items.at(-1)!]));
    const expected = [...heads]
      .map(([chain, head]): ChainHead => ({ chain, seq: Number(head.seq), hash: String(head.hash) }))
      .sort((a, b) => (a.chain < b.chain ? -1 : 1));
    // It signs their count and digest; the heads are listed apart, under its jti.
    expect(payload).toMatchObject({ headCount: expected.length, headsDigest: headsDigest(expected) });
    const listedHeads = await getJson<{ items: ChainHead[]; cursor?: string }>(
      `/supervision/audit/checkpoints/heads?checkpoint=${String(payload.jti)}`,
    );
    expect(listedHeads).toEqual({ items: expected });
    const listed = await getJson<{ items: Array<{ at: string; jws: string }> }>(
      '/supervision/audit/checkpoints',
    );
    expect(listed.items[0]?.jws).toBe(jws);
  });

  it('signs one on the daily schedule too (the EventBridge event), within the function’s grants', async () => {
    const before = await getJson<{ items: unknown[] }>('/supervision/audit/checkpoints');
    const answer = await handler({ 'detail-type': 'Scheduled Event' });
    expect(answer).toMatchObject({ at: expect.stringMatching(/^\d{4}-/) });
    const after = await getJson<{ items: Array<{ at: string }> }>('/supervision/audit/checkpoints');
    expect(after.items).toHaveLength(before.items.length + 1);
  });

  it('verifies the whole trail from the public API (module and command)', async () => {
    const report = await verify();
    expect(report.faults).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checkpoints.length).toBeGreaterThan(0);
    const { stdout } = await run(
      'npx',
      ['tsx', 'scripts/audit-verify.ts', '--base', runtime.baseUrl, '--from', today, '--to', today],
      {
        env: {
          ...process.env,
          SUPERVISION_CLIENT_ID: supervisor.clientId,
          SUPERVISION_CLIENT_SECRET: supervisor.clientSecret,
        },
      },
    );
    expect(stdout).toContain('OK: every chain');
  }, 60_000);

  it('goes on when the checkpoint asked for is refused as a closed day changed (409 audit_day_closed), and fails naming it', async () => {
    // The service's answer when a day asked for was closed and its chains changed since (R24 H1).
    const refusing: typeof fetch = async (input, init) =>
      init?.method === 'POST' && String(input).endsWith('/supervision/audit/checkpoints')
        ? new Response(JSON.stringify({ status: 409, code: 'audit_day_closed', detail: 'changed' }), {
            status: 409,
            headers: { 'content-type': 'application/problem+json' },
          })
        : fetch(input, init);
    const report = await verifyAuditTrail({
      base: runtime.baseUrl,
      ...supervisor,
      from: today,
      to: today,
      checkpointFirst: true,
      fetch: refusing,
    });
    expect(report.ok).toBe(false);
    expect(report.faults).toEqual([
      { chain: '-', seq: 0, problem: expect.stringContaining('refused to sign a checkpoint') },
    ]);
    expect(report.faults[0]!.problem).toContain('audit_day_closed');
  });
});

describe('checkpoints of the first format (heads inside the JWS)', () => {
  it('still verify, and still bind: a head they sign that is not reached is named', async () => {
    const heads = [...(await chainedItems())].map(([chain, items]): ChainHead => ({
      chain,
      seq: Number(items.at(-1)!.seq),
      hash: String(items.at(-1)!.hash),
    }));
    const deps = dependencies();
    // Signed as they were, with the platform key, hence dated before the audit key took over, which the
    // supervisor pins (security review M1, 22b H1: a platform-signed checkpoint is accepted only as that
    // history, dated by the supervisor's own record).
    const at = `${today}T00:00:00.000Z`;
    const pin = { platformCheckpointsUntil: `${today}T00:00:01Z` };
    const sign = (chains: ChainHead[]) =>
      signCompactJws(
        { typ: 'audit-checkpoint+jwt' },
        { iss: deps.config.issuerUrl, iat: Date.parse(at) / 1000, days: [today], chains },
        platformSigner(deps),
      );
    const item = { pk: 'audit-checkpoint', sk: `${at}#cp_firstformat00000`, at, jws: await sign(heads) };
    await doc().send(new PutCommand({ TableName: deps.config.auditTableName, Item: item }));
    try {
      expect((await verify()).badCheckpoints).toEqual([expect.stringContaining('deploy record')]);
      const report = await verify(pin);
      expect(report.badCheckpoints).toEqual([]);
      expect(report.ok).toBe(true);
      const beyond = heads.map((head, i) => (i === 0 ? { ...head, seq: head.seq + 1 } : head));
      await doc().send(
        new PutCommand({ TableName: deps.config.auditTableName, Item: { ...item, jws: await sign(beyond) } }),
      );
      const held = await verify(pin);
      expect(held.ok).toBe(false);
      expect(held.faults[0]).toMatchObject({
        chain: heads[0]!.chain,
        problem: expect.stringContaining('missing'),
      });
    } finally {
      await doc().send(
        new DeleteCommand({ TableName: deps.config.auditTableName, Key: { pk: item.pk, sk: item.sk } }),
      );
    }
  });
});

describe('an archive of checkpoints (--archive)', () => {
  it('fails when a checkpoint kept earlier is no longer listed, and passes while all are', async () => {
    const options = { base: runtime.baseUrl, ...supervisor, from: today, to: today };
    const { archive } = await verifyAuditTrail(options);
    expect(archive.length).toBeGreaterThan(0);
    expect((await verifyAuditTrail({ ...options, archive })).ok).toBe(true);
    const [item] = (await scanItems('audit-checkpoint')).filter((one) => one.pk === 'audit-checkpoint');
    const table = dependencies().config.auditTableName;
    await doc().send(new DeleteCommand({ TableName: table, Key: { pk: item!.pk, sk: item!.sk } }));
    try {
      const report = await verifyAuditTrail({ ...options, archive });
      expect(report.ok).toBe(false);
      expect(report.faults).toContainEqual({
        chain: '-',
        seq: 0,
        problem: expect.stringContaining('is no longer listed'),
      });
      // What to keep still holds the removed one.
      expect(report.archive.map((one) => one.jws)).toContain(item!.jws);
    } finally {
      await doc().send(new PutCommand({ TableName: table, Item: item }));
    }
  });
});

describe('an archive of checkpoints: heads going backwards', () => {
  it('accepts a chain that grew between two archived checkpoints; names a newer checkpoint signing it lower than an older one did', async () => {
    const options = { base: runtime.baseUrl, ...supervisor, from: today, to: today };
    const sign = async () => {
      // A checkpoint's `iat` is in seconds: each one here a second after the last, so they are ordered.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await postJson(runtime, '/supervision/audit/checkpoints', token, {})).status).toBe(201);
    };
    await sign();
    const before = await chainedItems();
    // An issuance appends to the licences function's chain, already signed by the checkpoint above.
    await issueDrivingLicence(runtime, (await demoTokens(runtime)).issuer);
    const after = await chainedItems();
    const [chain, items] = [...after].find(
      ([id, list]) => (before.get(id)?.length ?? 0) > 0 && list.length > before.get(id)!.length,
    )!;
    await sign();
    const { archive } = await verifyAuditTrail(options);
    // Both kept: the older one signs the chain lower than the newer, as a chain still written does.
    const again = await verifyAuditTrail({ ...options, archive });
    expect(again.faults).toEqual([]);
    expect(again.ok).toBe(true);

    // The chain's last entry removed, and a newer checkpoint signed over what is left: its head went back.
    const last = items.at(-1)!;
    const table = dependencies().config.auditTableName;
    const key = (item: Record<string, unknown>) => `${String(item.pk)}\u0000${String(item.sk)}`;
    const kept = new Set((await scanItems('audit-checkpoint')).map(key));
    await doc().send(new DeleteCommand({ TableName: table, Key: { pk: last.pk, sk: last.sk } }));
    try {
      await sign();
      const report = await verifyAuditTrail({ ...options, archive });
      expect(report.ok).toBe(false);
      expect(report.faults).toContainEqual({
        chain,
        seq: Number(last.seq),
        problem: `a checkpoint signs this chain up to seq ${Number(last.seq) - 1}, an archived one signed before it up to seq ${Number(last.seq)}`,
      });
    } finally {
      // Put back as it was: the entry, and no checkpoint signed over the cut chain (the tests after this
      // one keep archives of their own).
      await doc().send(new PutCommand({ TableName: table, Item: last }));
      for (const item of await scanItems('audit-checkpoint')) {
        if (kept.has(key(item))) continue;
        await doc().send(new DeleteCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } }));
      }
    }
  });
});

describe('an archive that proves its checkpoints’ heads alone', () => {
  it('keeps the heads it read with each checkpoint, uses them instead of the service’s, and refuses altered ones', async () => {
    const options = { base: runtime.baseUrl, ...supervisor, from: today, to: today };
    const first = await verifyAuditTrail(options);
    const withHeads = first.archive.filter((one) => one.heads);
    expect(withHeads.length).toBeGreaterThan(0);
    for (const one of withHeads) {
      const payload = decodeJwt(one.jws);
      expect(headsDigest(one.heads!)).toBe(payload.headsDigest);
      expect(one.heads).toHaveLength(payload.headCount as number);
    }

    // Heads read from the service for listed checkpoints only: the archived ones come from the archive.
    const headReads = async (archive: typeof first.archive) => {
      let reads = 0;
      const counting: typeof fetch = (input, init) => {
        if (String(input).includes('/checkpoints/heads')) reads += 1;
        return fetch(input, init);
      };
      const report = await verifyAuditTrail({ ...options, archive, fetch: counting });
      return { report, reads };
    };
    const bare = await headReads(first.archive.map(({ at, jws }) => ({ at, jws })));
    const kept = await headReads(first.archive);
    expect(bare.report.ok).toBe(true);
    expect(kept.report.ok).toBe(true);
    expect(kept.reads).toBeLessThan(bare.reads);

    const [victim] = withHeads;
    const altered = first.archive.map((one) =>
      one.jws === victim!.jws
        ? { ...one, heads: one.heads!.map((head, i) => (i === 0 ? { ...head, seq: head.seq + 1 } : head)) }
        : one,
    );
    const refused = await verifyAuditTrail({ ...options, archive: altered });
    expect(refused.ok).toBe(false);
    expect(refused.badCheckpoints.join('\n')).toMatch(/heads kept with it do not match its headsDigest/);
  });
});

describe('tampering in the table', () => {
  const config = () => dependencies().config;
  /** A chain of at least 4 entries, and its items. */
  async function longChain() {
    for (const [chain, items] of await chainedItems()) if (items.length >= 4) return { chain, items };
    throw new Error('no chain of 4 entries');
  }
  const put = (item: Record<string, unknown>) =>
    doc().send(new PutCommand({ TableName: config().auditTableName, Item: item }));

  it('an edited field: the entry is named (its hash)', async () => {
    const { chain, items } = await longChain();
    const original = items[1]!;
    await put({ ...original, actor: 'someone-else' });
    try {
      const report = await verify();
      expect(report.ok).toBe(false);
      expect(report.faults[0]).toMatchObject({
        chain,
        seq: 2,
        problem: expect.stringContaining('hash does not match'),
      });
      const failed = await run(
        'npx',
        ['tsx', 'scripts/audit-verify.ts', '--base', runtime.baseUrl, '--from', today, '--to', today],
        {
          env: {
            ...process.env,
            SUPERVISION_CLIENT_ID: supervisor.clientId,
            SUPERVISION_CLIENT_SECRET: supervisor.clientSecret,
          },
        },
      ).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stderr).toContain(`FIRST BAD ENTRY: chain ${chain} seq 2:`);
    } finally {
      await put(original);
    }
    expect((await verify()).ok).toBe(true);
  }, 60_000);

  it('a deleted entry: the missing seq is named', async () => {
    const { chain, items } = await longChain();
    const original = items[1]!;
    await doc().send(
      new DeleteCommand({ TableName: config().auditTableName, Key: { pk: original.pk, sk: original.sk } }),
    );
    try {
      const report = await verify();
      expect(report.faults[0]).toMatchObject({ chain, seq: 2, problem: expect.stringContaining('missing') });
    } finally {
      await put(original);
    }
  });

  it('two entries swapped: the first moved entry is named (its link)', async () => {
    const { chain, items } = await longChain();
    const [second, third] = [items[1]!, items[2]!];
    const place = (item: Record<string, unknown>, at: Record<string, unknown>) => ({
      ...item,
      pk: at.pk,
      sk: at.sk,
      seq: at.seq,
    });
    await put(place(third, second));
    await put(place(second, third));
    try {
      const report = await verify();
      expect(report.faults[0]).toMatchObject({ chain, seq: 2, problem: expect.stringContaining('prevHash') });
    } finally {
      await put(second);
      await put(third);
    }
  });

  it('the tail removed: the checkpoint names the missing entries', async () => {
    await postJson(runtime, '/supervision/audit/checkpoints', token, {});
    const { chain, items } = await longChain();
    const last = items.at(-1)!;
    await doc().send(
      new DeleteCommand({ TableName: config().auditTableName, Key: { pk: last.pk, sk: last.sk } }),
    );
    try {
      const report = await verify();
      expect(report.faults[0]).toMatchObject({
        chain,
        seq: Number(last.seq),
        problem: expect.stringContaining('missing'),
      });
    } finally {
      await put(last);
    }
    expect((await verify()).ok).toBe(true);
  });
});

describe('entries older than the chains', () => {
  it('stay listed (GET /admin/audit, GET /supervision/audit) and outside every chain', async () => {
    const licenceId = licences[0]!.id;
    const at = `${today}T00:00:00.001Z`;
    const old = {
      pk: `audit#${today}#3`,
      sk: `${at}#audit_old0000000000`,
      gsi1pk: `audit-licence#${licenceId}`,
      gsi1sk: `${at}#audit_old0000000000`,
      at,
      actor: 'cl_before',
      action: 'licence.verified',
      licenceId,
      verdict: 'valid',
    };
    await doc().send(new PutCommand({ TableName: dependencies().config.auditTableName, Item: old }));
    const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const response = await fetch(`${runtime.baseUrl}/admin/audit?licence=${encodeURIComponent(licenceId)}`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const { items } = (await response.json()) as { items: Array<Record<string, unknown>> };
    expect(items[0]).toEqual({
      at,
      actor: 'cl_before',
      action: 'licence.verified',
      licenceId,
      verdict: 'valid',
    });
    expect(items.slice(1).every((item) => typeof item.seq === 'number')).toBe(true);
    // Its place in the licence's list, as the licence's list and the day's listing each answer it: the same,
    // and before the chained entries after it (a reader compares places, never reads them).
    type Listing = { items: Array<Record<string, unknown>>; positions: Array<string | null> };
    const list = await getJson<Listing>(`/supervision/audit?licence=${encodeURIComponent(licenceId)}`);
    const day: Listing = { items: [], positions: [] };
    let cursor: string | undefined;
    do {
      const page = await getJson<Listing & { cursor?: string }>(
        `/supervision/audit?from=${today}&to=${today}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      day.items.push(...page.items);
      day.positions.push(...page.positions);
      cursor = page.cursor;
    } while (cursor);
    const placeOf = (
      { items: listed, positions }: Listing,
      match: (item: Record<string, unknown>) => boolean,
    ) => positions[listed.findIndex(match)];
    expect(placeOf(day, (item) => item.actor === 'cl_before')).toBe(list.positions[0]);
    const chained = list.items[1]!;
    expect(placeOf(day, (item) => item.chain === chained.chain && item.seq === chained.seq)).toBe(
      list.positions[1],
    );
    expect(list.positions[0]! < list.positions[1]!).toBe(true);
    // Dated today, after chains began: an entry stripped of its chain fields looks just like this.
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.faults).toEqual([
      {
        chain: '-',
        seq: 0,
        problem: expect.stringContaining(`an entry of ${at} (licence.verified) has no chain fields`),
      },
    ]);
    // With the day chains were introduced configured, it is older than the chains: listed, not provable.
    const before = await verifyAuditTrail({
      base: runtime.baseUrl,
      ...supervisor,
      from: today,
      to: today,
      chainsSince: new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10),
    });
    expect(before.unchained).toBe(1);
    expect(before.ok).toBe(true);
    const stored = await doc().send(
      new GetCommand({ TableName: dependencies().config.auditTableName, Key: { pk: old.pk, sk: old.sk } }),
    );
    expect(stored.Item).toBeDefined();
  });
});

function doc() {
  return dependencies().doc;
}
