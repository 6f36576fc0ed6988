import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { oidcItemKey } from '../../../shared/adapters/dynamo/oidc-adapter.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  discover,
  exchange,
  getWithToken,
  refusal,
  registerPlatform,
  runFlow,
  type AuthorizationRequest,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';
import { uidOf } from '../../support/sharing-flows.js';

/**
 * The negative checks of RFC 9700 (OAuth 2.0 Security BCP) and the OpenID Connect Basic OP test plan:
 * redirect URIs match exactly or get an error page; codes are single-use, short-lived and bound to
 * their PKCE verifier and client; PKCE is required and S256 only; only the code flow is served.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
/** One signed-in browser: every code below comes from its session without the password. */
let ua: UserAgent;

const redirectUri = 'https://negative-rp.example/cb';
const citizen = () => runtime.credentials.citizen;

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '负面测试平台 Negative checks platform',
    redirectUris: [redirectUri],
    scopes: ['openid', 'profile', 'licences'],
    firstParty: true,
  });
  ua = new UserAgent(runtime.baseUrl);
  const request = await authorizationRequest(platform);
  const { steps } = await callbackOf(ua, request.url, {
    username: citizen().idNumber,
    password: citizen().password,
  });
  expect(steps).toEqual(['login']);
});
afterAll(() => runtime?.close());

/** A code from the signed-in session, with the request it answers. */
async function freshCode(params: Record<string, string> = {}) {
  const request = await authorizationRequest(platform, params);
  const { callback, steps } = await callbackOf(ua, request.url);
  expect(steps).toEqual([]);
  const code = callback.searchParams.get('code');
  expect(code, callback.href).toBeTruthy();
  return { request, callback, code: code! };
}

/** The authorization response's parameters, from the query (or the fragment, for implicit types). */
function responseParameters(callback: URL): URLSearchParams {
  return callback.searchParams.size > 0 ? callback.searchParams : new URLSearchParams(callback.hash.slice(1));
}

describe('redirect URIs', () => {
  it.each([
    ['an extra path segment', `${redirectUri}/extra`],
    ['an extra query parameter', `${redirectUri}?next=/admin`],
    ['a different port', 'https://negative-rp.example:8443/cb'],
    ['another scheme', 'http://negative-rp.example/cb'],
    ['a trailing slash', `${redirectUri}/`],
    ['another host', 'https://attacker.example/cb'],
  ])('with %s gets an error page (400, HTML), not a redirect', async (_label, uri) => {
    const request = await authorizationRequest(platform, { redirect_uri: uri });
    const response = await ua.request(request.url);
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toMatch(/role="alert"[\s\S]*redirect_uri/);
    expect(html).toContain('lang="zh-CN"');
  });
});

describe('authorization codes', () => {
  it('are single-use: a reused code gets invalid_grant and revokes the tokens the first use issued', async () => {
    const { request, callback } = await freshCode({ scope: 'openid profile licences' });
    const tokens = await exchange(platform, request, callback);
    expect((await getWithToken(runtime, '/me/licences', tokens.access_token)).status).toBe(200);

    expect(await refusal(exchange(platform, request, callback))).toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });
    expect((await getWithToken(runtime, '/me/licences', tokens.access_token)).status).toBe(401);
    expect(await client.tokenIntrospection(platform.config, tokens.access_token)).toEqual({
      active: false,
    });
  });

  it('expire: a code past its lifetime gets invalid_grant', async () => {
    const { request, callback, code } = await freshCode();
    const { doc, config } = dependencies();
    const past = Math.floor(Date.now() / 1000) - 5;
    await doc.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: oidcItemKey('AuthorizationCode', code),
        UpdateExpression: 'SET expiresAt = :past, #payload.#exp = :past',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#payload': 'payload', '#exp': 'exp' },
        ExpressionAttributeValues: { ':past': past },
      }),
    );
    expect(await refusal(exchange(platform, request, callback))).toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });
  });

  it('are bound to the PKCE verifier: another verifier gets invalid_grant', async () => {
    const { request, callback } = await freshCode();
    const wrong: AuthorizationRequest = { ...request, codeVerifier: client.randomPKCECodeVerifier() };
    expect(await refusal(exchange(platform, wrong, callback))).toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });
  });

  it('are bound to the client: a wrong client secret gets invalid_client (401)', async () => {
    const { request, callback } = await freshCode();
    const impostor: RelyingParty = {
      ...platform,
      config: await discover(runtime.baseUrl, {
        clientId: platform.clientId,
        clientSecret: `${platform.clientSecret.slice(0, -3)}xyz`,
      }),
    };
    expect(await refusal(exchange(impostor, request, callback))).toMatchObject({
      error: 'invalid_client',
      status: 401,
    });
  });
});

describe('PKCE', () => {
  it('is required: a request without code_challenge is refused with invalid_request', async () => {
    const request = await authorizationRequest(platform);
    request.url.searchParams.delete('code_challenge');
    request.url.searchParams.delete('code_challenge_method');
    const { callback } = await callbackOf(ua, request.url);
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/PKCE/);
    expect(callback.searchParams.get('state')).toBe(request.state);
    expect(callback.searchParams.has('code')).toBe(false);
  });

  it('is S256 only: code_challenge_method=plain is refused with invalid_request', async () => {
    const request = await authorizationRequest(platform, {
      code_challenge: client.randomPKCECodeVerifier(),
      code_challenge_method: 'plain',
    });
    const { callback } = await callbackOf(ua, request.url);
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/code_challenge_method/);
    expect(callback.searchParams.has('code')).toBe(false);
  });
});

describe('authorization parameters', () => {
  it('ignores unknown parameters: the flow succeeds', async () => {
    const { request, callback } = await freshCode({ foo: 'bar', display_mode: 'kiosk', x_trace: '1' });
    const tokens = await exchange(platform, request, callback);
    const sub = tokens.claims()!.sub;
    expect(await client.fetchUserInfo(platform.config, tokens.access_token, sub)).toMatchObject({
      name: citizen().name,
    });
  });

  it('refuses response_type=token with unsupported_response_type, issuing no token', async () => {
    const request = await authorizationRequest(platform, { response_type: 'token' });
    const outcome = await runFlow(ua, request.url);
    expect(outcome.callback, outcome.page?.html).toBeDefined();
    const response = responseParameters(outcome.callback!);
    expect(response.get('error')).toBe('unsupported_response_type');
    expect(response.has('access_token')).toBe(false);
  });
});

describe('a sign-in form that is not UTF-8 (session 27)', () => {
  it('names the garbled password on the sign-in page, the ID number kept, and checks no password', async () => {
    const browser = new UserAgent(runtime.baseUrl);
    const request = await authorizationRequest(platform);
    const uid = uidOf((await runFlow(browser, request.url, {})).page!.html);
    const form = 'application/x-www-form-urlencoded';
    // 李测试密码 in GBK, as a browser switched to GBK escapes it: read lossily, five U+FFFD, the same
    // password as any other five GBK characters.
    const body = `username=${citizen().idNumber}&password=%C0%EE%B2%E2%CA%D4%C3%DC%C2%EB`;
    const garbled = await browser.request(`/interaction/${uid}/login`, {
      headers: { 'content-type': form },
      body,
    });
    expect(garbled.status).toBe(400);
    const html = await garbled.text();
    expect(html).toContain('乱码');
    expect(html).toMatch(new RegExp(`id="username"[^>]*value="${citizen().idNumber}"`, 's'));

    const declared = await browser.request(`/interaction/${uid}/login`, {
      headers: { 'content-type': `${form}; charset=GBK` },
      body,
    });
    expect(declared.status).toBe(415);
    expect(await declared.text()).toContain('unsupported_charset');
  });
});
