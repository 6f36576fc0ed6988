import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, issuerBody, postJson } from '../../support/http-api.js';
import { getWithToken } from '../../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import {
  demoTokens,
  issueDrivingLicence,
  syncedOfflineVerifier,
  verified,
  type IssuedLicence,
} from '../verify/helpers.js';

let runtime: TestRuntime;
let admin: string;
let issuer: { id: string; kid: string; clientId: string; clientSecret: string };
let issuerToken: string;
let first: IssuedLicence;

interface IssuerAnswer {
  id: string;
  kid: string;
  status: string;
  keys?: Array<{ kid: string; createdAt: string; retiredAt?: string; withdrawnAt?: string; keyId?: string }>;
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  admin = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const response = await postJson(
    runtime,
    '/admin/issuers',
    admin,
    issuerBody({ licenceTypes: ['driving-licence'] }),
  );
  expect(response.status).toBe(201);
  issuer = (await response.json()) as typeof issuer;
  issuerToken = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  first = await issueDrivingLicence(runtime, issuerToken);
});
afterAll(() => runtime?.close());

const rotate = (body: unknown = {}, token = admin, id = issuer.id) =>
  postJson(runtime, `/admin/issuers/${encodeURIComponent(id)}/keys`, token, body);
const withdraw = (body: unknown = { reason: '机构撤并' }, token = admin, id = issuer.id) =>
  postJson(runtime, `/admin/issuers/${encodeURIComponent(id)}/withdraw`, token, body);

const withdrawKey = (kid: string, body: unknown = { reason: '密钥泄露' }, id = issuer.id) =>
  postJson(
    runtime,
    `/admin/issuers/${encodeURIComponent(id)}/keys/${encodeURIComponent(kid)}/withdraw`,
    admin,
    body,
  );

async function trustListKids(id = issuer.id): Promise<{ status: string; kids: string[] }> {
  const { store } = await syncedOfflineVerifier(runtime.baseUrl);
  const entry = store.issuerById(id);
  return { status: entry?.status ?? 'absent', kids: entry?.keys.map((key) => key.kid ?? '') ?? [] };
}

describe('keys over time', () => {
  let second: IssuedLicence;
  let secondKid: string;

  it('POST /admin/issuers/{id}/keys: a new key signs from now on, and licences of both keys verify', async () => {
    const response = await rotate();
    const rotated = (await response.json()) as IssuerAnswer;
    expect(response.status, JSON.stringify(rotated)).toBe(201);
    expect(rotated.kid).not.toBe(issuer.kid);
    expect(rotated.keys).toEqual([
      expect.objectContaining({ kid: issuer.kid, retiredAt: expect.any(String) }),
      expect.objectContaining({ kid: rotated.kid }),
    ]);
    expect(JSON.stringify(rotated)).not.toContain('keyId');
    secondKid = rotated.kid;

    second = await issueDrivingLicence(runtime, issuerToken);
    expect(decodeProtectedHeader(first.credential).kid).toBe(issuer.kid);
    expect(decodeProtectedHeader(second.credential).kid).toBe(secondKid);
    expect((await verified(runtime, first.credential)).verdict).toBe('valid');
    expect((await verified(runtime, second.credential)).verdict).toBe('valid');

    expect(await trustListKids()).toEqual({ status: 'active', kids: [issuer.kid, secondKid] });
    const { verifier: offline } = await syncedOfflineVerifier(runtime.baseUrl);
    expect((await offline.verify(first.credential)).verdict).toBe('valid');
    expect((await offline.verify(second.credential)).verdict).toBe('valid');
  });

  it('a key withdrawn at rotation (compromise) leaves the trust list: its licences are unknown_issuer', async () => {
    const response = await rotate({ previousKey: 'withdraw' });
    const rotated = (await response.json()) as IssuerAnswer;
    expect(response.status).toBe(201);
    expect(rotated.keys?.find((key) => key.kid === secondKid)?.withdrawnAt).toEqual(expect.any(String));

    expect(await verified(runtime, second.credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
    expect((await verified(runtime, first.credential)).verdict).toBe('valid');
    expect(await trustListKids()).toEqual({ status: 'active', kids: [issuer.kid, rotated.kid] });

    const { verifier: offline } = await syncedOfflineVerifier(runtime.baseUrl);
    expect((await offline.verify(second.credential)).verdict).toBe('unknown_issuer');
  });

  it('POST /admin/issuers/{id}/withdraw: it stays listed as withdrawn; its licences are unknown_issuer; it may not issue', async () => {
    const response = await withdraw();
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: issuer.id,
      status: 'withdrawn',
      withdrawalReason: '机构撤并',
    });

    expect(await verified(runtime, first.credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_withdrawn',
      issuer: { id: issuer.id },
    });
    expect((await trustListKids()).status).toBe('withdrawn');
    const refused = await postJson(
      runtime,
      '/licences',
      issuerToken,
      {
        type: 'driving-licence',
        holder: { idNumber: '110105199003071239' },
        holderName: '李测试',
        fields: {},
      },
      { 'idempotency-key': randomUUID() },
    );
    // Its client ended with it: the token it held is refused as such (test/security/07-…).
    await expectProblem(refused, 401, 'invalid_token');
  });

  it('refuses what makes no sense: unknown issuer 404, withdrawn issuer 409, bad body 400, no admin scope 403', async () => {
    await expectProblem(await rotate({}, admin, 'iss_doesNotExist'), 404, 'issuer_not_found');
    await expectProblem(await rotate(), 409, 'issuer_not_active');
    await expectProblem(await withdraw(), 409, 'issuer_withdrawn');
    await expectProblem(
      await rotate({ previousKey: 'burn' }, admin, runtime.credentials.issuer.id),
      400,
      'invalid_request',
    );
    await expectProblem(await withdraw({}, admin, runtime.credentials.issuer.id), 400, 'invalid_request');
    const { verifier } = await demoTokens(runtime);
    await expectProblem(await rotate({}, verifier, runtime.credentials.issuer.id), 403, 'insufficient_scope');
  });
});

describe('a key found compromised after it was rotated out (R20)', () => {
  it('POST /admin/issuers/{id}/keys/{kid}/withdraw: that key alone leaves the trust list; the current one signs on', async () => {
    const created = await postJson(
      runtime,
      '/admin/issuers',
      admin,
      issuerBody({ licenceTypes: ['driving-licence'] }),
    );
    expect(created.status).toBe(201);
    const other = (await created.json()) as typeof issuer;
    const otherToken = await clientCredentialsToken(runtime, other, 'licences:issue');
    const old = await issueDrivingLicence(runtime, otherToken);
    // A scheduled rotation: the first key is kept, and then found compromised.
    const rotated = (await (await rotate({ previousKey: 'keep' }, admin, other.id)).json()) as IssuerAnswer;
    const recent = await issueDrivingLicence(runtime, otherToken);

    const response = await withdrawKey(other.kid, { reason: '密钥泄露（事件 42）' }, other.id);
    const answer = (await response.json()) as IssuerAnswer;
    expect(response.status, JSON.stringify(answer)).toBe(200);
    expect(answer.kid).toBe(rotated.kid);
    expect(answer.keys).toEqual([
      expect.objectContaining({
        kid: other.kid,
        retiredAt: expect.any(String),
        withdrawnAt: expect.any(String),
      }),
      expect.not.objectContaining({ withdrawnAt: expect.anything() }),
    ]);
    expect(JSON.stringify(answer)).not.toContain('keyId');

    // What the compromised key signed (a forgery under it alike) verifies unknown_issuer, online and
    // offline; what the current key signed stays valid, and the issuer goes on issuing with it.
    expect(await verified(runtime, old.credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
    expect((await verified(runtime, recent.credential)).verdict).toBe('valid');
    expect(await trustListKids(other.id)).toEqual({ status: 'active', kids: [rotated.kid] });
    const { verifier: offline } = await syncedOfflineVerifier(runtime.baseUrl);
    expect((await offline.verify(old.credential)).verdict).toBe('unknown_issuer');
    expect((await offline.verify(recent.credential)).verdict).toBe('valid');
    const next = await issueDrivingLicence(runtime, otherToken);
    expect(decodeProtectedHeader(next.credential).kid).toBe(rotated.kid);
    // The issuer finds what to re-issue.
    const listed = await getWithToken(runtime, '/licences?keyWithdrawn=true', otherToken);
    expect(((await listed.json()) as { items: Array<{ id: string }> }).items.map((item) => item.id)).toEqual([
      old.id,
    ]);

    // Again (a retry): 200, as it is.
    const again = await withdrawKey(other.kid, { reason: '重试' }, other.id);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(answer);
  });

  it('refuses the current key (409 issuer_key_current), an unknown key (404) and a body without a reason (400)', async () => {
    const demo = runtime.credentials.issuer.id;
    const [demoKid] = (await trustListKids(demo)).kids;
    const current = await expectProblem(
      await withdrawKey(demoKid!, undefined, demo),
      409,
      'issuer_key_current',
    );
    expect(current.detail).toContain('"previousKey":"withdraw"');
    await expectProblem(await withdrawKey('nokid', undefined, demo), 404, 'issuer_key_not_found');
    await expectProblem(await withdrawKey('k'.repeat(65), undefined, demo), 404, 'issuer_key_not_found');
    await expectProblem(await withdrawKey(demoKid!, undefined, 'iss_doesNotExist'), 404, 'issuer_not_found');
    await expectProblem(await withdrawKey(demoKid!, {}, demo), 400, 'invalid_request');
    const { verifier } = await demoTokens(runtime);
    const asVerifier = await postJson(runtime, `/admin/issuers/${demo}/keys/${demoKid}/withdraw`, verifier, {
      reason: 'x',
    });
    await expectProblem(asVerifier, 403, 'insufficient_scope');
    expect((await trustListKids(demo)).kids).toEqual([demoKid]);
  });
});
