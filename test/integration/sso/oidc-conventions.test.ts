import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  getWithToken,
  registerPlatform,
  signIn,
  verifyJwt,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * The OpenID Connect conventions other libraries expect (issue 15, item 3), as openid-client sees them:
 * userinfo answers an access token that carries `openid` whatever API scopes came with it (with or
 * without a resource indicator), the token response's `scope` names `openid`, ID tokens carry `sid`,
 * and RFC 8414 metadata is served beside the OpenID discovery document.
 */

let runtime: TestRuntime;
let platform: RelyingParty;

const citizen = () => runtime.credentials.citizen;
const password = () => ({ username: citizen().idNumber, password: citizen().password });

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '用证平台 Licence platform',
    redirectUris: ['https://licence-platform.example/cb'],
    scopes: ['openid', 'profile', 'licences', 'offline_access'],
    // The holder API (`licences`) is the service's own apps' (privacy review R9 H1).
    firstParty: true,
  });
});
afterAll(() => runtime?.close());

describe('an access token asked with openid and an API scope', () => {
  it.each([
    ['without a resource indicator', {}],
    ['with our API as the resource indicator', { resource: 'ISSUER' }],
  ])('%s answers userinfo, names openid in its scope and still reads licences', async (_, extra) => {
    const params: Record<string, string> = { scope: 'openid profile licences' };
    if ('resource' in extra) params.resource = runtime.baseUrl;
    const { tokens, claims } = await signIn(platform, new UserAgent(runtime.baseUrl), password(), params);

    expect(tokens.scope?.split(' ').sort()).toEqual(['licences', 'openid', 'profile']);
    const userinfo = await client.fetchUserInfo(platform.config, tokens.access_token, claims.sub);
    expect(userinfo).toMatchObject({ sub: claims.sub, name: citizen().name });
    expect((await getWithToken(runtime, '/me/licences', tokens.access_token)).status).toBe(200);
  });

  it('answers userinfo after a refresh too', async () => {
    const { tokens, claims } = await signIn(platform, new UserAgent(runtime.baseUrl), password(), {
      scope: 'openid profile licences offline_access',
      prompt: 'consent',
    });
    const refreshed = await client.refreshTokenGrant(platform.config, tokens.refresh_token!);
    expect(refreshed.scope?.split(' ')).toContain('openid');
    expect(await client.fetchUserInfo(platform.config, refreshed.access_token, claims.sub)).toMatchObject({
      sub: claims.sub,
    });
    expect((await getWithToken(runtime, '/me/licences', refreshed.access_token)).status).toBe(200);
  });

  it('answers userinfo for openid alone, and the token response names openid', async () => {
    const { tokens, claims } = await signIn(platform, new UserAgent(runtime.baseUrl), password(), {
      scope: 'openid profile',
    });
    expect(tokens.scope?.split(' ').sort()).toEqual(['openid', 'profile']);
    expect(await client.fetchUserInfo(platform.config, tokens.access_token, claims.sub)).toMatchObject({
      sub: claims.sub,
    });
    // A token for userinfo only is not one for our API.
    expect((await getWithToken(runtime, '/me/licences', tokens.access_token)).status).toBe(401);
  });

  it('does not answer userinfo for a machine token (client credentials, no openid)', async () => {
    const machine = await fetch(`${runtime.baseUrl}/userinfo`, {
      headers: { authorization: `Bearer ${await adminToken(runtime)}` },
    });
    expect(machine.status).toBe(401);
  });
});

describe('sid', () => {
  it('is in every ID token, including platforms without back-channel logout', async () => {
    const { tokens, claims } = await signIn(platform, new UserAgent(runtime.baseUrl), password());
    expect(claims.sid).toMatch(/\S{10,}/);
    const { payload } = await verifyJwt(runtime.baseUrl, tokens.id_token!, { audience: platform.clientId });
    expect(payload.sid).toBe(claims.sid);
  });

  it('is announced in discovery', () => {
    expect(platform.config.serverMetadata()).toMatchObject({
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    });
  });
});

describe('RFC 8414 authorization server metadata', () => {
  it('is served at /.well-known/oauth-authorization-server with the discovery document’s issuer and endpoints', async () => {
    const response = await fetch(`${runtime.baseUrl}/.well-known/oauth-authorization-server`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const metadata = (await response.json()) as Record<string, unknown>;
    const discovery = (await (
      await fetch(`${runtime.baseUrl}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(metadata).toEqual(discovery);
    expect(metadata).toMatchObject({
      issuer: runtime.baseUrl,
      authorization_endpoint: `${runtime.baseUrl}/authorize`,
      token_endpoint: `${runtime.baseUrl}/token`,
      jwks_uri: `${runtime.baseUrl}/.well-known/jwks.json`,
      code_challenge_methods_supported: ['S256'],
    });
  });

  it('is found by an RFC 8414 client (openid-client, algorithm oauth2)', async () => {
    const config = await client.discovery(
      new URL(runtime.baseUrl),
      platform.clientId,
      platform.clientSecret,
      undefined,
      { algorithm: 'oauth2', execute: [client.allowInsecureRequests] },
    );
    expect(config.serverMetadata().token_endpoint).toBe(`${runtime.baseUrl}/token`);
  });
});
