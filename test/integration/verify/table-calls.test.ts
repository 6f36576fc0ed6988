import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { createPresentation } from '../../../shared/licence/presentation.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { postJson } from '../../support/http-api.js';
import { discover } from '../../support/oidc-flows.js';
import {
  demoTokens,
  issueDrivingLicence,
  verified,
  type IssuedLicence,
  type VerifyAnswer,
} from './helpers.js';

/**
 * Issue 16: the DynamoDB calls one `POST /verify` makes, as the embedded DynamoDB counts them (counts, not
 * timings). Each is a round trip a verifier waits for in AWS. Measured on a warm container (the first
 * verification reads the issuer, which is then kept for ISSUER_CACHE_SECONDS).
 */
let runtime: TestRuntime;
let tokens: Awaited<ReturnType<typeof demoTokens>>;
let licence: IssuedLicence;

beforeAll(async () => {
  runtime = await startTestRuntime();
  tokens = await demoTokens(runtime);
  licence = await issueDrivingLicence(runtime, tokens.issuer);
});
afterAll(() => runtime?.close());

/** The table calls of one verification, by operation, and the verdict. */
async function counted(qr: string, token?: string) {
  const dynamo = runtime.dynamo;
  if (!dynamo) throw new Error('the runtime has no embedded DynamoDB');
  dynamo.resetStats();
  const answer = await verified(runtime, qr, token);
  const stats = dynamo.stats();
  return { answer, stats, total: Object.values(stats).reduce((sum, n) => sum + n, 0) };
}

describe('POST /verify: table calls (issue 16)', () => {
  it('anonymous: at most 2 — the licence read, the audit entry', async () => {
    await verified(runtime, licence.credential);
    const { answer, stats, total } = await counted(licence.credential);
    expect(answer.verdict).toBe('valid');
    expect(stats, JSON.stringify(stats)).toEqual({ GetItem: 1, PutItem: 1 });
    expect(total).toBeLessThanOrEqual(2);
  });

  it('leaves supervision (statistics, alerts) to the stream consumer, off the request path', async () => {
    await runtime.drainStreams();
    const { answer, total } = await counted(licence.credential);
    await runtime.drainStreams();
    expect(answer.verdict).toBe('valid');
    expect(total).toBeLessThanOrEqual(2);
    // The consumer counted it afterwards, with calls of its own that no verifier waited for.
    expect(runtime.dynamo!.streamStats()).toMatchObject({ UpdateItem: expect.any(Number) });
  });

  it('with a token: at most 2 — the token and the licence in one BatchGetItem, the audit entry', async () => {
    await verified(runtime, licence.credential, tokens.verifier);
    const { answer, stats, total } = await counted(licence.credential, tokens.verifier);
    expect(answer.licence?.fields).toBeDefined();
    // The bearer check reads the token with one key, its client kept per container (CLIENT_CACHE_SECONDS):
    // that read and the licence's go out together.
    expect(stats, JSON.stringify(stats)).toEqual({ BatchGetItem: 1, PutItem: 1 });
    expect(total).toBeLessThanOrEqual(2);
  });

  it('with a DPoP-bound token: one write more, the proof’s mark (a Bearer token’s calls are as above)', async () => {
    const keys = await client.randomDPoPKeyPair('ES256');
    const config = await discover(runtime.baseUrl, runtime.credentials.verifier);
    const dpop = client.getDPoPHandle(config, keys);
    const { access_token } = await client.clientCredentialsGrant(
      config,
      { scope: 'licences:verify' },
      { DPoP: dpop },
    );
    const post = () =>
      client.fetchProtectedResource(
        config,
        access_token,
        new URL(`${runtime.baseUrl}/verify`),
        'POST',
        JSON.stringify({ qr: licence.credential }),
        new Headers({ 'content-type': 'application/json' }),
        { DPoP: dpop },
      );
    expect((await post()).status).toBe(200);
    runtime.dynamo!.resetStats();
    const response = await post();
    const stats = runtime.dynamo!.stats();
    expect(((await response.json()) as VerifyAnswer).licence?.fields).toBeDefined();
    // The token and the licence in one BatchGetItem; the proof's mark and the audit entry.
    expect(stats, JSON.stringify(stats)).toEqual({ BatchGetItem: 1, PutItem: 2 });
  });

  it('a presentation, anonymous: the same 2', async () => {
    const deps = dependencies();
    const record = await deps.licences.get(licence.id);
    if (!record) throw new Error('the licence was not stored');
    const { token } = await createPresentation(
      licence.id,
      { disclose: ['vehicleClass'], ttlSeconds: 120 },
      { holderLookupKeys: [record.holder.lookupKey], level: 3, actor: 'test-holder' },
      deps,
    );
    await verified(runtime, token);
    const { answer, stats } = await counted(token);
    expect(answer).toMatchObject({ verdict: 'valid', format: 'presentation' });
    expect(stats, JSON.stringify(stats)).toEqual({ GetItem: 1, PutItem: 1 });
  });

  it('a revocation still counts at once: the status is read, never kept', async () => {
    const response = await fetch(`${runtime.baseUrl}/licences/${encodeURIComponent(licence.id)}/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.issuer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'revoked', reason: 'test' }),
    });
    expect(response.status).toBe(200);
    expect((await counted(licence.credential)).answer.verdict).toBe('revoked');
  });
});

/** The table calls of one `POST /verify/pdf`, by operation, and its answer. */
async function countedPdf(file: { pdf: string; jws: string }, token?: string) {
  const dynamo = runtime.dynamo!;
  dynamo.resetStats();
  const response = await postJson(runtime, '/verify/pdf', token, file);
  const answer = (await response.json()) as { valid: boolean; licenceStatus?: string; reason?: string };
  const stats = dynamo.stats();
  return { answer, stats, total: Object.values(stats).reduce((sum, n) => sum + n, 0) };
}

describe('POST /verify/pdf: table calls', () => {
  let file: { pdf: string; jws: string };
  beforeAll(async () => {
    const printed = await issueDrivingLicence(runtime, tokens.issuer);
    const path = `/licences/${encodeURIComponent(printed.id)}`;
    const get = (suffix: string) =>
      fetch(`${runtime.baseUrl}${path}/${suffix}`, { headers: { authorization: `Bearer ${tokens.issuer}` } });
    file = {
      pdf: Buffer.from(await (await get('pdf')).arrayBuffer()).toString('base64'),
      jws: await (await get('pdf.jws')).text(),
    };
  });

  it('anonymous: 2 — the licence read, and now its audit entry (it was the read alone)', async () => {
    await countedPdf(file);
    const { answer, stats } = await countedPdf(file);
    expect(answer).toMatchObject({ valid: true, licenceStatus: 'valid' });
    expect(stats, JSON.stringify(stats)).toEqual({ GetItem: 1, PutItem: 1 });
  });

  it('with a verifier token: 2 — the token and the licence in one BatchGetItem, the audit entry', async () => {
    await countedPdf(file, tokens.verifier);
    const { answer, stats } = await countedPdf(file, tokens.verifier);
    expect(answer).toMatchObject({ valid: true });
    // The token is read with the licence, once the file is found signed: one round trip for both.
    expect(stats, JSON.stringify(stats)).toEqual({ BatchGetItem: 1, PutItem: 1 });
  });

  it('a file that is not the one signed: the audit entry alone (no licence read)', async () => {
    const altered = Buffer.from(file.pdf, 'base64');
    altered[altered.length - 20]! ^= 1;
    const { answer, stats } = await countedPdf({ ...file, pdf: altered.toString('base64') });
    expect(answer).toEqual({ valid: false, reason: 'not_this_file' });
    expect(stats, JSON.stringify(stats)).toEqual({ PutItem: 1 });
  });
});
