import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postJson } from '../../support/http-api.js';
import { drivingLicenceBody, getWithToken, newIdNumber } from '../../support/licences.js';
import { spawnRuntime, type SpawnedRuntime } from '../../support/peer-runtime.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { verified } from '../verify/helpers.js';

/*
 * Review R36 M1: a peer platform running this same service, one of whose issuers has certified more than
 * 20 batch keys (BATCH_KEY_CREDENTIALS=1 here stands in for weeks of imports), was refused whole by us
 * (a peer's issuer could list at most 20): the refresh recorded `too_large`, our copy of its list froze,
 * and its new batch-issued licences verified `unknown_issuer` (`key_not_trusted`) here. Batch keys are
 * bounded by the bytes of the peer's list alone now.
 */
let a: TestRuntime;
let b: SpawnedRuntime;

beforeAll(async () => {
  [a, b] = await Promise.all([
    startTestRuntime(),
    spawnRuntime({ PLATFORM_REGION: '310000', BATCH_KEY_CREDENTIALS: '1' }),
  ]);
}, 240_000);
afterAll(async () => {
  await Promise.all([a?.close(), b?.stop()]);
});

it('takes a peer whose issuer has 21 batch keys, and verifies its newest batch-issued licence', async () => {
  const adminA = await clientCredentialsToken(a, a.credentials.admin, 'admin');
  const jwks = (await (await fetch(`${b.baseUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  const keys = jwks.keys.filter((key) => key.kty === 'EC');
  const registered = await postJson(a, '/admin/peers', adminA, {
    name: 'Platform 310000',
    region: '310000',
    baseUrl: b.baseUrl,
    jwks: { keys },
  });
  expect(registered.status, await registered.clone().text()).toBe(201);
  const peerId = ((await registered.json()) as { id: string }).id;

  // 21 licences bulk-issued at B: one batch key each.
  const issuerB = await clientCredentialsToken(b, b.credentials.issuer, 'licences:issue');
  const items = Array.from({ length: 21 }, () => drivingLicenceBody(newIdNumber()));
  const submitted = await postJson(
    b,
    '/licences/batches',
    issuerB,
    { items },
    { 'idempotency-key': randomUUID() },
  );
  expect(submitted.status).toBe(202);
  const { id } = (await submitted.json()) as { id: string };
  let job: { status: string; issued: number } = { status: 'running', issued: 0 };
  // B runs its own batch queue: wait for the job (bounded), whatever the machine's speed.
  for (let i = 0; i < 600 && job.status !== 'done'; i += 1) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    job = (await (await getWithToken(b, `/licences/batches/${id}`, issuerB)).json()) as typeof job;
  }
  expect(job).toMatchObject({ status: 'done', issued: 21 });
  const listB = decodeJwt(await (await fetch(`${b.baseUrl}/trust-list`)).text()) as {
    issuers: Array<{ batchKeys?: unknown[] }>;
  };
  expect(Math.max(...listB.issuers.map((issuer) => issuer.batchKeys?.length ?? 0))).toBe(21);

  // A takes B's list: no too_large, its issuers with all 21 keys.
  const refreshed = await postJson(a, `/admin/peers/${peerId}/refresh`, adminA, {});
  const view = (await refreshed.json()) as { status: string; lastError?: unknown };
  expect(refreshed.status).toBe(200);
  expect(view.lastError).toBeUndefined();
  expect(view.status).toBe('ok');

  // The newest batch-issued licence of B, signed by its 21st key, verifies at A.
  const page = (await (await getWithToken(b, `/licences/batches/${id}/licences`, issuerB)).json()) as {
    items: Array<{ credential: string }>;
  };
  const last = page.items.at(-1)!;
  const kids = new Set(page.items.map((licence) => decodeProtectedHeader(licence.credential).kid));
  expect(kids.size).toBe(page.items.length);
  const answer = await verified(a, last.credential);
  expect(answer).toMatchObject({ verdict: 'valid' });
  // And the issuer's 21 keys are in our own trust list for offline verifiers.
  const ours = decodeJwt(await (await fetch(`${a.baseUrl}/trust-list`)).text()) as {
    issuers: Array<{ peer?: string; batchKeys?: unknown[] }>;
  };
  expect(ours.issuers.find((issuer) => issuer.peer === peerId)?.batchKeys).toHaveLength(21);
}, 600_000);
