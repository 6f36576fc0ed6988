import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, callbackOf, getWithToken, registerPlatform } from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * oauth4webapi as a second relying party, independent of openid-client: discovery (OpenID and RFC 8414),
 * a code flow with PKCE for a platform registered for RS256 ID tokens (the signature checked against
 * our JWKS by oauth4webapi itself), userinfo with `openid profile licences`, our API with the same token,
 * and refresh. Then a consumer as Spring Security's default ID token decoder is: the JWKS and RS256
 * alone. The ES256 default is driven through oauth4webapi as well.
 */

let runtime: TestRuntime;
let as: oauth.AuthorizationServer;
/** The local runtime serves plain http; never in production. */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

const citizen = () => runtime.credentials.citizen;
const password = () => ({ username: citizen().idNumber, password: citizen().password });

interface Platform {
  client: oauth.Client;
  auth: oauth.ClientAuth;
  redirectUri: string;
}

async function register(alg: 'ES256' | 'RS256' | undefined, host: string): Promise<Platform> {
  const redirectUri = `https://${host}/login/oauth2/code/elicence`;
  const rp = await registerPlatform(runtime, await adminToken(runtime), {
    name: `Platform ${alg ?? 'default'}`,
    redirectUris: [redirectUri],
    scopes: ['openid', 'profile', 'licences', 'offline_access'],
    // The holder API (`licences`) is the service's own apps' (privacy review R9 H1).
    firstParty: true,
    ...(alg ? { idTokenSignedResponseAlg: alg } : {}),
  });
  return {
    // oauth4webapi expects RS256 unless the client says otherwise, as OpenID Connect's default.
    client: { client_id: rp.clientId, ...(alg === 'RS256' ? {} : { id_token_signed_response_alg: 'ES256' }) },
    auth: oauth.ClientSecretBasic(rp.clientSecret),
    redirectUri,
  };
}

/** A full code flow with PKCE, nonce and state, as oauth4webapi runs it; the ID token signature checked. */
async function codeFlow(platform: Platform, scope: string) {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: platform.client.client_id,
    redirect_uri: platform.redirectUri,
    response_type: 'code',
    scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    prompt: 'consent',
  }).toString();
  const { callback } = await callbackOf(new UserAgent(runtime.baseUrl), url, password());
  const params = oauth.validateAuthResponse(as, platform.client, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    platform.client,
    platform.auth,
    params,
    platform.redirectUri,
    codeVerifier,
    insecure,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, platform.client, response, {
    expectedNonce: nonce,
    requireIdToken: true,
  });
  // Not mandatory over TLS per oauth4webapi, done here: the signature against the published JWKS.
  await oauth.validateApplicationLevelSignature(as, response, insecure);
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  return { tokens, claims };
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  const issuer = new URL(runtime.baseUrl);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
});
afterAll(() => runtime?.close());

describe('discovery through oauth4webapi', () => {
  it('reads the OpenID document and the RFC 8414 one alike', async () => {
    const issuer = new URL(runtime.baseUrl);
    const rfc8414 = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
    expect(rfc8414).toEqual(as);
    expect(as.id_token_signing_alg_values_supported).toEqual(['ES256', 'RS256']);
    expect(as.backchannel_logout_session_supported).toBe(true);
  });
});

describe('a platform registered for RS256 ID tokens, through oauth4webapi', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await register('RS256', 'rs256-platform.example');
  });

  it('signs in with PKCE, gets an RS256 ID token with sid, userinfo and licences with one token, and refreshes', async () => {
    const { tokens, claims } = await codeFlow(platform, 'openid profile licences offline_access');
    const header = decodeProtectedHeader(tokens.id_token!);
    expect(header.alg).toBe('RS256');
    const jwks = (await (await fetch(as.jwks_uri!)).json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys.find((key) => key.kid === header.kid)).toMatchObject({
      kty: 'RSA',
      alg: 'RS256',
      use: 'sig',
    });
    expect(claims).toMatchObject({
      iss: runtime.baseUrl,
      aud: platform.client.client_id,
      name: citizen().name,
    });
    expect(claims.sid).toMatch(/\S{10,}/);
    expect(tokens.scope?.split(' ').sort()).toEqual(['licences', 'offline_access', 'openid', 'profile']);

    const userinfo = await oauth.processUserInfoResponse(
      as,
      platform.client,
      claims.sub,
      await oauth.userInfoRequest(as, platform.client, tokens.access_token, insecure),
    );
    expect(userinfo).toMatchObject({ sub: claims.sub, name: citizen().name });
    expect((await getWithToken(runtime, '/me/licences', tokens.access_token)).status).toBe(200);

    const refreshResponse = await oauth.refreshTokenGrantRequest(
      as,
      platform.client,
      platform.auth,
      tokens.refresh_token!,
      insecure,
    );
    const refreshed = await oauth.processRefreshTokenResponse(as, platform.client, refreshResponse);
    await oauth.validateApplicationLevelSignature(as, refreshResponse, insecure);
    const again = oauth.getValidatedIdTokenClaims(refreshed)!;
    expect(decodeProtectedHeader(refreshed.id_token!).alg).toBe('RS256');
    expect(again).toMatchObject({ sub: claims.sub, sid: claims.sid });
    expect(refreshed.scope?.split(' ')).toContain('openid');
    const userinfoAgain = await oauth.processUserInfoResponse(
      as,
      platform.client,
      claims.sub,
      await oauth.userInfoRequest(as, platform.client, refreshed.access_token, insecure),
    );
    expect(userinfoAgain.sub).toBe(claims.sub);
  });

  it('costs exactly one KMS signature per sign-in, made in KMS with the RSA key', async () => {
    const emulator = runtime.kms!;
    emulator.resetStats();
    await codeFlow(platform, 'openid profile');
    expect(emulator.stats().Sign).toBe(1);
  });

  it('signs in a Spring-style consumer: the ID token verified with the JWKS and RS256 alone', async () => {
    const { tokens } = await codeFlow(platform, 'openid profile');
    // As Spring Security's NimbusJwtDecoder.withJwkSetUri(jwksUri) builds it: RS256 only, keys by kid.
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, {
      algorithms: ['RS256'],
      issuer: runtime.baseUrl,
      audience: platform.client.client_id,
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.sid).toEqual(expect.any(String));
    // The same consumer refuses a token signed otherwise: the restriction to RS256 is real.
    const es256 = await register(undefined, 'es256-for-spring.example');
    const { tokens: other } = await codeFlow(es256, 'openid');
    await expect(
      jwtVerify(other.id_token!, jwks, { algorithms: ['RS256'], issuer: runtime.baseUrl }),
    ).rejects.toThrow(/alg/);
  });
});

describe('the ES256 default, through oauth4webapi', () => {
  it('signs in with an ES256 ID token carrying sid, and answers userinfo with API scopes', async () => {
    const platform = await register('ES256', 'es256-platform.example');
    const { tokens, claims } = await codeFlow(platform, 'openid profile licences');
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');
    expect(claims.sid).toMatch(/\S{10,}/);
    const userinfo = await oauth.processUserInfoResponse(
      as,
      platform.client,
      claims.sub,
      await oauth.userInfoRequest(as, platform.client, tokens.access_token, insecure),
    );
    expect(userinfo.name).toBe(citizen().name);
  });
});
