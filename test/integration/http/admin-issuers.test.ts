import { GetPublicKeyCommand, ListAliasesCommand, type KMSClient } from '@aws-sdk/client-kms';
import { calculateJwkThumbprint } from 'jose';
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientItems,
  emulatorKms,
  expectProblem,
  issuerBody,
  issuerItems,
  newCreditCode,
  postJson,
  scanItems,
  tokenRequest,
} from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

interface CreatedIssuer {
  id: string;
  name: string;
  creditCode: string;
  region: string;
  licenceTypes: string[];
  status: string;
  kid: string;
  clientId: string;
  clientSecret: string;
  createdAt: string;
  publicJwk?: Record<string, unknown>;
}

let runtime: TestRuntime;
let kms: KMSClient;
let adminToken: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  kms = emulatorKms(runtime);
  adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
});
afterAll(async () => {
  runtime?.kms?.setFaults({});
  kms?.destroy();
  await runtime?.close();
});

const createIssuer = (body: unknown) => postJson(runtime, '/admin/issuers', adminToken, body);

async function issuerAliases(): Promise<string[]> {
  const names: string[] = [];
  let Marker: string | undefined;
  do {
    const page = await kms.send(new ListAliasesCommand({ Marker }));
    for (const alias of page.Aliases ?? []) {
      if (alias.AliasName?.startsWith('alias/elicence/issuer/')) names.push(alias.AliasName);
    }
    Marker = page.Truncated ? page.NextMarker : undefined;
  } while (Marker);
  return names;
}

describe('onboarding an issuer (README flow)', () => {
  const body = {
    name: '上海市市场监督管理局',
    creditCode: '11310000000024686D',
    region: '310000',
    licenceTypes: ['business-licence', 'production-operation-permit', 'business-licence'],
  };
  let created: CreatedIssuer;

  beforeAll(async () => {
    const response = await createIssuer(body);
    expect(response.status, await response.clone().text()).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    created = (await response.json()) as CreatedIssuer;
  });

  it('answers 201 with the active issuer, its kid and its client credentials, shown once', () => {
    expect(created).toMatchObject({
      id: expect.stringMatching(/\S/),
      name: body.name,
      creditCode: body.creditCode,
      region: body.region,
      licenceTypes: ['business-licence', 'production-operation-permit'],
      status: 'active',
      kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      clientId: expect.stringMatching(/\S/),
      clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    });
    // Internals stay inside.
    expect(created).not.toHaveProperty('keyId');
    expect(created).not.toHaveProperty('version');
  });

  it('stores the issuer without its client secret', async () => {
    const [item, ...others] = await scanItems(`issuer#${body.creditCode}`);
    expect(others).toEqual([]);
    expect(item).toMatchObject({ id: created.id, status: 'active', clientId: created.clientId });
    expect(JSON.stringify(await scanItems(''))).not.toContain(created.clientSecret);
  });

  it("gives the issuer's own client a token with scope licences:issue", async () => {
    const client = { clientId: created.clientId, clientSecret: created.clientSecret };
    const response = await tokenRequest(runtime, client, {
      grant_type: 'client_credentials',
      scope: 'licences:issue',
    });
    const token = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(token)).toBe(200);
    expect(token).toMatchObject({
      access_token: expect.any(String),
      token_type: 'Bearer',
      scope: 'licences:issue',
    });

    // The token is ours and valid, but it is not an operator's.
    const asIssuer = await postJson(runtime, '/admin/issuers', String(token.access_token), issuerBody());
    await expectProblem(asIssuer, 403, 'insufficient_scope');
  });

  it("refuses the issuer's client the admin scope (invalid_scope)", async () => {
    const client = { clientId: created.clientId, clientSecret: created.clientSecret };
    const response = await tokenRequest(runtime, client, {
      grant_type: 'client_credentials',
      scope: 'admin',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('refuses a wrong client secret (invalid_client)', async () => {
    const client = { clientId: created.clientId, clientSecret: `${created.clientSecret.slice(0, -2)}xx` };
    const response = await tokenRequest(runtime, client, {
      grant_type: 'client_credentials',
      scope: 'licences:issue',
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('names by kid the RFC 7638 thumbprint of its own P-256 key in KMS', async () => {
    const key = await kms.send(new GetPublicKeyCommand({ KeyId: `alias/elicence/issuer/${created.id}` }));
    expect(key).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const jwk = createPublicKey({ key: Buffer.from(key.PublicKey!), format: 'der', type: 'spki' }).export({
      format: 'jwk',
    });
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(await calculateJwkThumbprint(jwk as never, 'sha256')).toBe(created.kid);
    if (created.publicJwk !== undefined) {
      // The public half, when the answer carries it, is that same key.
      expect(created.publicJwk).toMatchObject({
        kty: 'EC',
        crv: 'P-256',
        x: jwk.x,
        y: jwk.y,
        kid: created.kid,
      });
      expect(created.publicJwk).not.toHaveProperty('d');
    }

    // And it is not the platform's key, nor the demo issuer's.
    const platform = await kms.send(new GetPublicKeyCommand({ KeyId: 'alias/elicence-platform' }));
    expect(Buffer.from(platform.PublicKey!).equals(Buffer.from(key.PublicKey!))).toBe(false);
    const demo = await kms.send(
      new GetPublicKeyCommand({ KeyId: `alias/elicence/issuer/${runtime.credentials.issuer.id}` }),
    );
    expect(Buffer.from(demo.PublicKey!).equals(Buffer.from(key.PublicKey!))).toBe(false);
  });

  it('refuses a second issuer with the same credit code, also in lower case (409 issuer_exists)', async () => {
    for (const creditCode of [body.creditCode, body.creditCode.toLowerCase(), ` ${body.creditCode} `]) {
      const response = await createIssuer({ ...body, name: 'Another agency', creditCode });
      await expectProblem(response, 409, 'issuer_exists');
    }
    const items = await scanItems(`issuer#${body.creditCode}`);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: created.id, name: body.name });
  });
});

describe('concurrent onboarding of one credit code', () => {
  it('creates exactly one issuer: one 201 and nine 409 issuer_exists', async () => {
    const creditCode = newCreditCode();
    const aliasesBefore = (await issuerAliases()).length;
    const clientsBefore = (await clientItems()).length;

    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => createIssuer(issuerBody({ creditCode, name: `Agency ${i}` }))),
    );

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    for (const response of responses.filter((r) => r.status === 409)) {
      await expectProblem(response, 409, 'issuer_exists');
    }
    const winner = (await responses.find((r) => r.status === 201)!.json()) as CreatedIssuer;

    const items = (await issuerItems()).filter((item) => item.creditCode === creditCode);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: winner.id, status: 'active', kid: winner.kid });
    // The losers created no key and no OAuth client.
    expect(await issuerAliases()).toHaveLength(aliasesBefore + 1);
    expect(await clientItems()).toHaveLength(clientsBefore + 1);
  });
});

describe('a failure halfway through onboarding', () => {
  const expectGenericServerError = async (response: Response) => {
    expect(response.status).toBeGreaterThanOrEqual(500);
    const problem = await expectProblem(response, response.status);
    expect(['server_error', 'temporarily_unavailable']).toContain(problem.code);
    expect(problem.requestId).toMatch(/\S/);
    expect(problem.errors).toBeUndefined();
    const text = JSON.stringify(problem);
    for (const internal of [/throttl/i, /rate exceeded/i, /kms/i, /aws/i, /\bat\s+\S+\s*\(/, /\.ts\b/]) {
      expect(text).not.toMatch(internal);
    }
  };

  it('when KMS refuses every call: a generic 5xx, nothing left behind, and a retry succeeds', async () => {
    const body = issuerBody();
    const clientsBefore = (await clientItems()).length;
    const aliasesBefore = await issuerAliases();

    runtime.kms!.setFaults({ throttleRate: 1 });
    try {
      await expectGenericServerError(await createIssuer(body));
    } finally {
      runtime.kms!.setFaults({ throttleRate: 0 });
    }

    expect(await scanItems(`issuer#${body.creditCode}`)).toEqual([]);
    expect(await clientItems()).toHaveLength(clientsBefore);
    expect(await issuerAliases()).toEqual(aliasesBefore);

    const retried = await createIssuer(body);
    expect(retried.status, await retried.clone().text()).toBe(201);
    expect(await retried.json()).toMatchObject({ creditCode: body.creditCode, status: 'active' });
  }, 60_000);

  it('when KMS creates the key but then fails: a generic 5xx, the claim released, and a retry succeeds', async () => {
    const body = issuerBody();
    const aliasesBefore = await issuerAliases();

    // The emulator throttles a fixed pattern: at 0.9 the first call (CreateKey) passes and the next
    // nine fail, more than the SDK's five attempts at the calls that follow.
    runtime.kms!.setFaults({ throttleRate: 0.9 });
    try {
      await expectGenericServerError(await createIssuer(body));
    } finally {
      runtime.kms!.setFaults({ throttleRate: 0 });
    }

    expect(await scanItems(`issuer#${body.creditCode}`)).toEqual([]);
    expect(await issuerAliases()).toEqual(aliasesBefore);

    const retried = await createIssuer(body);
    expect(retried.status, await retried.clone().text()).toBe(201);
    const created = (await retried.json()) as CreatedIssuer;
    const items = await scanItems(`issuer#${body.creditCode}`);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: created.id, status: 'active' });
  }, 60_000);
});
