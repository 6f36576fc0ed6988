import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientItems, expectProblem, postJson, scanItems, tokenRequest } from '../../support/http-api.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
}

let runtime: TestRuntime;
let adminToken: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
});
afterAll(() => runtime?.close());

const registerClient = (body: unknown) => postJson(runtime, '/admin/clients', adminToken, body);

async function registered(body: unknown): Promise<RegisteredClient> {
  const response = await registerClient(body);
  expect(response.status, await response.clone().text()).toBe(201);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return (await response.json()) as RegisteredClient;
}

const storedClient = async (clientId: string) => {
  const items = await scanItems(`oidc#Client#${clientId}`);
  expect(items).toHaveLength(1);
  return items[0]!.payload as Record<string, unknown>;
};

describe('registering a relying platform', () => {
  let client: RegisteredClient;

  beforeAll(async () => {
    client = await registered({
      name: '浙江政务服务网',
      redirectUris: ['https://zjzwfw.example.gov.cn/oidc/callback'],
      scopes: ['openid', 'profile'],
    });
  });

  it('answers 201 with a client id and a secret', () => {
    expect(client).toEqual({
      clientId: expect.stringMatching(/\S/),
      clientSecret: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/),
    });
  });

  it('stores an authorization-code client without its secret', async () => {
    const stored = await storedClient(client.clientId);
    expect(stored).toMatchObject({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['https://zjzwfw.example.gov.cn/oidc/callback'],
      scope: 'openid profile',
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(stored).not.toHaveProperty('client_secret');
    expect(JSON.stringify(await scanItems(''))).not.toContain(client.clientSecret);
  });

  it('authenticates with its secret but may not use client credentials', async () => {
    const secret = client.clientSecret!;
    const response = await tokenRequest(
      runtime,
      { clientId: client.clientId, clientSecret: secret },
      { grant_type: 'client_credentials' },
    );
    expect(response.status).toBe(400);
    // RFC 6749 §5.2 names this unauthorized_client; oidc-provider 9 answers invalid_request.
    const refusal = (await response.json()) as { error: string; error_description: string };
    expect(['unauthorized_client', 'invalid_request']).toContain(refusal.error);
    expect(refusal.error_description).toMatch(/grant type is not allowed/);

    const wrongSecret = await tokenRequest(
      runtime,
      { clientId: client.clientId, clientSecret: `${secret.slice(0, -2)}xx` },
      { grant_type: 'client_credentials' },
    );
    expect(wrongSecret.status).toBe(401);
    expect(await wrongSecret.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('gets a different client id and secret each time', async () => {
    const again = await registered({
      name: '浙江政务服务网',
      redirectUris: ['https://zjzwfw.example.gov.cn/oidc/callback'],
      scopes: ['openid', 'profile'],
    });
    expect(again.clientId).not.toBe(client.clientId);
    expect(again.clientSecret).not.toBe(client.clientSecret);
  });
});

describe('registering a verifier app', () => {
  it('gives it client credentials whose token carries licences:verify and nothing more', async () => {
    const app = await registered({ name: 'Hotel front desk scanner', scopes: ['licences:verify'] });
    expect(app.clientSecret).toEqual(expect.any(String));
    const credentials = { clientId: app.clientId, clientSecret: app.clientSecret! };
    expect(await storedClient(app.clientId)).toMatchObject({
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    });

    const token = await clientCredentialsToken(runtime, credentials, 'licences:verify');
    // Our API knows the token (a 403 for scope, not a 401 for an unknown token).
    const asVerifier = await postJson(runtime, '/admin/clients', token, { name: 'x', scopes: ['openid'] });
    const problem = await expectProblem(asVerifier, 403, 'insufficient_scope');
    expect(problem.detail).toContain('admin');

    const admin = await tokenRequest(runtime, credentials, {
      grant_type: 'client_credentials',
      scope: 'admin',
    });
    expect(admin.status).toBe(400);
    expect(await admin.json()).toMatchObject({ error: 'invalid_scope' });
  });
});

describe('registering a public client', () => {
  it('gets no secret', async () => {
    const spa = await registered({
      name: 'Citizen wallet (single-page app)',
      redirectUris: ['http://localhost:5173/callback', 'https://wallet.example.gov.cn/callback'],
      scopes: ['openid', 'licences'],
      firstParty: true,
      tokenEndpointAuthMethod: 'none',
    });
    expect(spa).toEqual({ clientId: expect.stringMatching(/\S/) });
    expect(await storedClient(spa.clientId)).toMatchObject({ token_endpoint_auth_method: 'none' });
  });
});

describe('an invalid registration', () => {
  const valid = {
    name: 'A platform',
    redirectUris: ['https://platform.example.gov.cn/callback'],
    scopes: ['openid', 'profile'],
  };

  it.each([
    { why: 'asks for the admin scope', body: { ...valid, scopes: ['openid', 'admin'] }, path: 'scopes.1' },
    { why: 'asks for admin alone', body: { ...valid, scopes: ['admin'] }, path: 'scopes.0' },
    { why: 'asks for licences:issue', body: { ...valid, scopes: ['licences:issue'] }, path: 'scopes.0' },
    { why: 'asks for no scope', body: { ...valid, scopes: [] }, path: 'scopes' },
    {
      why: 'signs people in (openid) without redirect URIs',
      body: { name: 'A platform', scopes: ['openid'] },
      path: 'redirectUris',
    },
    {
      why: 'has a plain-http redirect URI off localhost',
      body: { ...valid, redirectUris: ['http://example.com/callback'] },
      path: 'redirectUris.0',
    },
    {
      why: 'has a redirect URI with a fragment',
      body: { ...valid, redirectUris: ['https://platform.example.gov.cn/callback#x'] },
      path: 'redirectUris.0',
    },
    {
      why: 'has a redirect URI that is not a URL',
      body: { ...valid, redirectUris: ['javascript:alert(1)'] },
      path: 'redirectUris.0',
    },
    { why: 'has no name', body: { ...valid, name: undefined }, path: 'name' },
    {
      why: 'is a public client asking for client credentials',
      body: { name: 'A public verifier', scopes: ['licences:verify'], tokenEndpointAuthMethod: 'none' },
      path: 'tokenEndpointAuthMethod',
    },
    {
      why: 'asks for an ID token algorithm other than ES256 or RS256',
      body: { ...valid, idTokenSignedResponseAlg: 'HS256' },
      path: 'idTokenSignedResponseAlg',
    },
    {
      why: 'has a back-channel logout URI on loopback',
      body: { ...valid, backchannelLogoutUri: 'http://127.0.0.1:8080/backchannel-logout' },
      path: 'backchannelLogoutUri',
    },
    {
      why: 'has a back-channel logout URI on localhost',
      body: { ...valid, backchannelLogoutUri: 'https://localhost/backchannel-logout' },
      path: 'backchannelLogoutUri',
    },
    {
      why: 'has a back-channel logout URI on a private address',
      body: { ...valid, backchannelLogoutUri: 'https://10.1.2.3/backchannel-logout' },
      path: 'backchannelLogoutUri',
    },
    {
      why: 'has a back-channel logout URI on a link-local address',
      body: { ...valid, backchannelLogoutUri: 'https://169.254.169.254/latest' },
      path: 'backchannelLogoutUri',
    },
    {
      why: 'has a back-channel logout URI on an IPv6 unique local address',
      body: { ...valid, backchannelLogoutUri: 'https://[fd00::1]/backchannel-logout' },
      path: 'backchannelLogoutUri',
    },
    {
      why: 'has a back-channel logout URI on an IPv4-mapped loopback',
      body: { ...valid, backchannelLogoutUri: 'https://[::ffff:127.0.0.1]/backchannel-logout' },
      path: 'backchannelLogoutUri',
    },
    {
      why: 'uses private_key_jwt without a jwksUri',
      body: { ...valid, tokenEndpointAuthMethod: 'private_key_jwt' },
      path: 'jwksUri',
    },
  ])('is refused with 400 naming $path when it $why', async ({ body, path }) => {
    const before = (await clientItems()).length;
    const problem = await expectProblem(await registerClient(body), 400, 'invalid_request');
    expect(problem.errors?.map((e) => e.path)).toContain(path);
    expect(problem.detail).toContain(path);
    expect(await clientItems()).toHaveLength(before);
  });

  it('is refused with 400 naming an unknown field', async () => {
    const before = (await clientItems()).length;
    const body = { ...valid, client_secret: 'chosen-by-me' };
    const problem = await expectProblem(await registerClient(body), 400, 'invalid_request');
    // Named at its own path, as any member (docs/api.md).
    expect(problem.errors).toContainEqual({
      path: 'client_secret',
      message: 'unknown field',
      code: 'unknown_field',
    });
    expect(problem.detail).toContain('client_secret');
    expect(await clientItems()).toHaveLength(before);
  });
});
