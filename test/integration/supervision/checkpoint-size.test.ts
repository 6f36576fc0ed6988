import { BatchWriteCommand, DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { newWriterId, shardOfWriter } from '../../../shared/adapters/dynamo/audit-trail.js';
import { keys } from '../../../shared/adapters/dynamo/keys.js';
import { link } from '../../../shared/supervision/audit-chain.js';
import { verifyAuditTrail } from '../../../shared/supervision/audit-chain-verify.js';
import { postJson, scanItems } from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * Security review finding M4: one checkpoint JWS used to carry every chain head (~163 bytes each), so at
 * about 1,250 chains a day the stored checkpoint passed DynamoDB's 400 KB item limit (dynalite enforces
 * it) and no checkpoint could be written any more. A checkpoint now signs a digest of the heads, which are
 * stored apart in pages; the verifier recomputes the digest from the pages and fails closed when a page
 * is altered or missing.
 */
const day = '2026-01-15';
const CHAINS = 3_000;
let runtime: TestRuntime;
let supervisor: { clientId: string; clientSecret: string };
let token: string;

const table = () => dependencies().config.auditTableName;
const doc = () => dependencies().doc;
const verify = () => verifyAuditTrail({ base: runtime.baseUrl, ...supervisor, from: day, to: day });

/** Writes `CHAINS` chains of one entry each, with their registrations, as the trail's writers would. */
async function writeChains(): Promise<void> {
  const items: Array<Record<string, unknown>> = [];
  for (let i = 0; i < CHAINS; i += 1) {
    const writer = newWriterId();
    const shard = shardOfWriter(writer);
    const chain = `${day}.${writer}`;
    const entry = link(
      { at: `${day}T08:00:00.000Z`, actor: 'anonymous', action: 'licence.verified', verdict: 'valid' },
      chain,
    );
    items.push({ ...keys.auditChainRegistry(day, chain), chain, shard, startedAt: entry.at });
    items.push({ ...keys.auditChained(day, shard, writer, 1), ...entry });
  }
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const { UnprocessedItems } = await doc().send(
        new BatchWriteCommand({ RequestItems: { [table()]: requests } }),
      );
      requests = (UnprocessedItems?.[table()] ?? []) as typeof requests;
    }
  }
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  const admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const registered = await postJson(runtime, '/admin/clients', admin, {
    name: '电子监察 checkpoint size',
    scopes: ['supervision'],
  });
  expect(registered.status).toBe(201);
  supervisor = (await registered.json()) as typeof supervisor;
  token = await clientCredentialsToken(runtime, supervisor, 'supervision');
  await writeChains();
}, 180_000);
afterAll(() => runtime?.close());

/** Runs `check` with a page of heads overwritten through the table (as someone with write access could), then puts it back. */
async function withPage(
  replaced: Record<string, unknown>,
  original: Record<string, unknown>,
  check: () => Promise<void>,
): Promise<void> {
  await doc().send(new PutCommand({ TableName: table(), Item: replaced }));
  try {
    await check();
  } finally {
    await doc().send(new PutCommand({ TableName: table(), Item: original }));
  }
}

describe('a checkpoint over 3,000 chains', () => {
  it('is written (small and signed), and the trail verifies against its heads', async () => {
    const response = await postJson(runtime, '/supervision/audit/checkpoints', token, { from: day, to: day });
    expect(response.status, await response.clone().text()).toBe(201);
    const { jws } = (await response.json()) as { jws: string };
    // Constant in the number of chains: a digest is signed, not the heads.
    expect(jws.length).toBeLessThan(1_000);
    const report = await verify();
    expect(report.badCheckpoints).toEqual([]);
    expect(report.faults).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checkpoints).toHaveLength(1);
    expect(report.checkpoints[0]!.chains).toHaveLength(CHAINS);
    // Held to every head: all 3,000 chains recomputed and reached.
    expect(report.chains).toHaveLength(CHAINS);
  }, 180_000);

  it('fails closed when a page of its heads is altered', async () => {
    const pages = await scanItems('audit-checkpoint-heads#');
    expect(pages.length).toBeGreaterThan(1);
    const page = pages[pages.length - 1]!;
    const heads = JSON.parse(String(page.heads)) as Array<{ chain: string; seq: number; hash: string }>;
    // A head moved back a link: what cutting a chain's tail and re-pointing the head would need.
    const altered = heads.map((head, i) => (i === 0 ? { ...head, seq: head.seq + 1 } : head));
    await withPage({ ...page, heads: JSON.stringify(altered) }, page, async () => {
      const report = await verify();
      expect(report.ok).toBe(false);
      expect(report.badCheckpoints).toEqual([expect.stringContaining('heads do not match')]);
    });
    expect((await verify()).ok).toBe(true);
  }, 120_000);

  it('answers a coded 422 for a page of its heads that is not JSON, or not heads, and fails closed', async () => {
    const pages = await scanItems('audit-checkpoint-heads#');
    const page = pages[pages.length - 1]!;
    const checkpoint = String(page.pk).slice('audit-checkpoint-heads#'.length);
    const position = Number(page.sk);
    const query = new URLSearchParams({ checkpoint, ...(position > 0 ? { cursor: String(position) } : {}) });
    for (const heads of ['[{"chain":"2026-01-15.x","seq":1,', '{"heads":[]}', '[{"chain":1,"seq":"1"}]']) {
      await withPage({ ...page, heads }, page, async () => {
        const response = await fetch(`${runtime.baseUrl}/supervision/audit/checkpoints/heads?${query}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.status, heads).toBe(422);
        expect(((await response.json()) as { code: string }).code).toBe('checkpoint_heads_corrupt');
        const report = await verify();
        expect(report.ok).toBe(false);
        expect(report.badCheckpoints).toEqual([expect.stringContaining('checkpoint_heads_corrupt')]);
      });
    }
    expect((await verify()).ok).toBe(true);
  }, 120_000);

  it('fails closed when a page of its heads is missing', async () => {
    const pages = await scanItems('audit-checkpoint-heads#');
    for (const page of [pages[0]!, pages[pages.length - 1]!]) {
      await doc().send(new DeleteCommand({ TableName: table(), Key: { pk: page.pk, sk: page.sk } }));
      try {
        const report = await verify();
        expect(report.ok).toBe(false);
        expect(report.badCheckpoints).toEqual([expect.stringContaining('heads do not match')]);
      } finally {
        await doc().send(new PutCommand({ TableName: table(), Item: page }));
      }
    }
    expect((await verify()).ok).toBe(true);
  }, 120_000);
});
