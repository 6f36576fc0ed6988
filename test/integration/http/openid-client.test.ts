import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { createPublicKey } from 'node:crypto';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorKms, expectProblem, issuerBody, postJson, tokenRequest } from '../../support/http-api.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

let runtime: TestRuntime;
let admin: client.Configuration;

/**
 * openid-client configured from our discovery document, as a machine client of ours would be: by
 * default it sends the secret in the body (client_secret_post).
 */
function discover(
  credentials: { clientId: string; clientSecret: string },
  authentication?: client.ClientAuth,
): Promise<client.Configuration> {
  return client.discovery(
    new URL(runtime.baseUrl),
    credentials.clientId,
    credentials.clientSecret,
    authentication,
    // The local runtime serves plain http; never in production.
    { execute: [client.allowInsecureRequests] },
  );
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  admin = await discover(runtime.credentials.admin);
});
afterAll(() => runtime?.close());

describe('discovery', () => {
  it('names this service as the issuer and publishes its endpoints under it', () => {
    const metadata = admin.serverMetadata();
    expect(metadata.issuer).toBe(runtime.baseUrl);
    expect(metadata.jwks_uri).toBe(`${runtime.baseUrl}/.well-known/jwks.json`);
    expect(metadata).toMatchObject({
      authorization_endpoint: `${runtime.baseUrl}/authorize`,
      token_endpoint: `${runtime.baseUrl}/token`,
      userinfo_endpoint: `${runtime.baseUrl}/userinfo`,
      introspection_endpoint: `${runtime.baseUrl}/token/introspection`,
      revocation_endpoint: `${runtime.baseUrl}/token/revocation`,
      end_session_endpoint: `${runtime.baseUrl}/session/end`,
    });
  });

  it('requires PKCE with S256 only, and signs ID tokens with ES256, or RS256 for clients registered for it', () => {
    const metadata = admin.serverMetadata();
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.id_token_signing_alg_values_supported).toEqual(['ES256', 'RS256']);
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']),
    );
    expect(metadata.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'profile', 'admin', 'licences:issue', 'licences:verify']),
    );
  });

  it("publishes the platform's P-256 and RSA KMS keys in the JWKS, each named by its thumbprint", async () => {
    const response = await fetch(admin.serverMetadata().jwks_uri!);
    expect(response.status).toBe(200);
    // The ID-token keys alone: no presentation key, and no key twice under another kid (credentials.md).
    const keys = ((await response.json()) as { keys: JWK[] }).keys;
    expect(keys).toHaveLength(2);
    const key = keys.find((k) => k.kty === 'EC')!;
    const rsa = keys.find((k) => k.kty === 'RSA')!;
    expect(rsa).toMatchObject({ kty: 'RSA', e: 'AQAB', alg: 'RS256', use: 'sig' });
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(rsa).not.toHaveProperty(member);
    expect(rsa.kid).toBe(await calculateJwkThumbprint(rsa, 'sha256'));
    expect(Buffer.from(rsa.n!, 'base64url')).toHaveLength(256);
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(key).not.toHaveProperty('d');
    expect(key.kid).toBe(await calculateJwkThumbprint(key, 'sha256'));

    const kms = emulatorKms(runtime);
    try {
      const platform = await kms.send(new GetPublicKeyCommand({ KeyId: 'alias/elicence-platform' }));
      const fromKms = createPublicKey({
        key: Buffer.from(platform.PublicKey!),
        format: 'der',
        type: 'spki',
      }).export({ format: 'jwk' });
      expect({ x: key.x, y: key.y }).toEqual({ x: fromKms.x, y: fromKms.y });
      const platformRsa = await kms.send(new GetPublicKeyCommand({ KeyId: 'alias/elicence-platform-rsa' }));
      expect(platformRsa.KeySpec).toBe('RSA_2048');
      const rsaFromKms = createPublicKey({
        key: Buffer.from(platformRsa.PublicKey!),
        format: 'der',
        type: 'spki',
      }).export({ format: 'jwk' });
      expect({ n: rsa.n, e: rsa.e }).toEqual({ n: rsaFromKms.n, e: rsaFromKms.e });
    } finally {
      kms.destroy();
    }
  });
});

describe('client credentials through openid-client', () => {
  it('gets an admin token that our API accepts', async () => {
    const tokens = await client.clientCredentialsGrant(admin, { scope: 'admin' });
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'admin' });
    expect(tokens.expiresIn()).toBeGreaterThanOrEqual(59);

    const response = await postJson(runtime, '/admin/issuers', tokens.access_token, issuerBody());
    expect(response.status, await response.clone().text()).toBe(201);
  });

  it('without scope gets the API scopes the client is registered with, which our API accepts (review R25, M2)', async () => {
    // RFC 6749 §3.3: a documented default. Was a token with no scope and no audience, refused at every route.
    const tokens = await client.clientCredentialsGrant(admin);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'admin' });
    const response = await postJson(runtime, '/admin/issuers', tokens.access_token, issuerBody());
    expect(response.status, await response.clone().text()).toBe(201);

    // The same with a bare form post, as curl sends it: an issuing agency's client gets `licences:issue`.
    const answer = await tokenRequest(runtime, runtime.credentials.issuer, {
      grant_type: 'client_credentials',
    });
    const issued = (await answer.json()) as { access_token: string; scope?: string };
    expect(answer.status).toBe(200);
    expect(issued.scope).toBe('licences:issue');
    const issuer = await fetch(`${runtime.baseUrl}/issuer`, {
      headers: { authorization: `Bearer ${issued.access_token}` },
    });
    expect(issuer.status, await issuer.clone().text()).toBe(200);
  });

  it('with an explicit resource and no scope gets a token our API refuses 403, naming the scope to ask for', async () => {
    const answer = await tokenRequest(runtime, runtime.credentials.admin, {
      grant_type: 'client_credentials',
      resource: runtime.baseUrl,
    });
    const issued = (await answer.json()) as { access_token: string; scope?: string };
    expect(answer.status).toBe(200);
    expect(issued.scope).toBeUndefined();
    const refused = await postJson(runtime, '/admin/issuers', issued.access_token, issuerBody());
    const problem = await expectProblem(refused, 403, 'insufficient_scope');
    expect(problem.detail).toBe('The access token carries no scope: ask the token endpoint for scope=admin');
  });

  it('is refused invalid_scope for a scope the client does not hold', async () => {
    const verifier = await discover(runtime.credentials.verifier);
    const refusal = await client
      .clientCredentialsGrant(verifier, { scope: 'admin' })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(client.ResponseBodyError);
    expect(refusal).toMatchObject({ error: 'invalid_scope', status: 400 });
  });

  it('accepts the secret in the Authorization header (client_secret_basic) as well', async () => {
    const { clientSecret } = runtime.credentials.admin;
    const withBasic = await discover(runtime.credentials.admin, client.ClientSecretBasic(clientSecret));
    const tokens = await client.clientCredentialsGrant(withBasic, { scope: 'admin' });
    expect(tokens.scope).toBe('admin');
  });

  it('is refused invalid_client with a wrong secret', async () => {
    const { clientId, clientSecret } = runtime.credentials.admin;
    const wrong = await discover({ clientId, clientSecret: `${clientSecret.slice(0, -2)}xx` });
    const refusal = await client
      .clientCredentialsGrant(wrong, { scope: 'admin' })
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ error: 'invalid_client', status: 401 });
  });
});

describe('introspection and revocation through openid-client', () => {
  it('reports a token active with its scope, and inactive once revoked, after which our API refuses it', async () => {
    const { access_token: token } = await client.clientCredentialsGrant(admin, { scope: 'admin' });

    const active = await client.tokenIntrospection(admin, token);
    expect(active).toMatchObject({
      active: true,
      scope: 'admin',
      client_id: runtime.credentials.admin.clientId,
      token_type: 'Bearer',
      aud: runtime.baseUrl,
      iss: runtime.baseUrl,
    });
    expect(active.exp).toBeGreaterThan(Date.now() / 1000);

    await client.tokenRevocation(admin, token);

    expect(await client.tokenIntrospection(admin, token)).toEqual({ active: false });
    const refused = await postJson(runtime, '/admin/issuers', token, issuerBody());
    await expectProblem(refused, 401, 'invalid_token');
  });

  it('reports an unknown token inactive', async () => {
    expect(await client.tokenIntrospection(admin, 'not-a-token-we-issued-0123456789')).toEqual({
      active: false,
    });
  });

  it("does not tell one client about another client's token", async () => {
    const { access_token: token } = await client.clientCredentialsGrant(admin, { scope: 'admin' });
    const verifier = await discover(runtime.credentials.verifier);
    expect(await client.tokenIntrospection(verifier, token)).toEqual({ active: false });
    expect(await client.tokenIntrospection(admin, token)).toMatchObject({ active: true });
  });

  it("does not let one client revoke another client's token", async () => {
    const { access_token: token } = await client.clientCredentialsGrant(admin, { scope: 'admin' });
    const verifier = await discover(runtime.credentials.verifier);
    const refusal = await client.tokenRevocation(verifier, token).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ error: 'invalid_request', status: 400 });

    const stillValid = await postJson(runtime, '/admin/issuers', token, issuerBody());
    expect(stillValid.status).toBe(201);
  });
});
