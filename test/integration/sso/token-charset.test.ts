import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  citizenAnswers,
  registerPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R70 F1: the token endpoint read its form with the pages' reader, which refuses every charset
 * but UTF-8 (415 `unsupported_charset`, a problem body), so that Apache HttpClient 4.x, whose
 * `UrlEncodedFormEntity(list)` declares `charset=ISO-8859-1`, could no longer exchange a code. The
 * throttle now reads the form as oidc-provider does (its bytes as UTF-8, whatever the charset: review
 * R73-1) and refuses only in OAuth's error format.
 */

let runtime: TestRuntime;
let platform: RelyingParty;

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '字符集平台 Charset platform',
    redirectUris: ['https://charset.example/cb'],
    scopes: ['openid', 'profile'],
    firstParty: true,
  });
});
afterAll(async () => {
  await runtime?.close();
});

/** A fresh code of the platform for the seeded citizen, and its PKCE verifier. */
async function freshCode() {
  const request = await authorizationRequest(platform, { scope: 'openid profile' });
  const { callback } = await callbackOf(new UserAgent(runtime.baseUrl), request.url, citizenAnswers(runtime));
  return { code: callback.searchParams.get('code')!, verifier: request.codeVerifier };
}

/** The token endpoint as a Java back office calls it: HTTP Basic, the form declared as `contentType`. */
function postToken(contentType: string, body: string) {
  const basic = Buffer.from(
    `${encodeURIComponent(platform.clientId)}:${encodeURIComponent(platform.clientSecret)}`,
  ).toString('base64');
  return fetch(new URL('/token', runtime.baseUrl), {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': contentType },
    body,
  });
}

const exchangeForm = (code: string, verifier: string) =>
  new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: platform.redirectUri,
    code_verifier: verifier,
  }).toString();

describe('the token endpoint takes the charsets OAuth clients declare (review R70 F1)', () => {
  for (const contentType of [
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded;charset=UTF-8',
    // Apache HttpClient 4.x: UrlEncodedFormEntity(list) declares ISO-8859-1 by default.
    'application/x-www-form-urlencoded; charset=ISO-8859-1',
    'application/x-www-form-urlencoded; charset=US-ASCII',
  ]) {
    it(`exchanges a code sent as ${contentType}`, async () => {
      const { code, verifier } = await freshCode();
      const response = await postToken(contentType, exchangeForm(code, verifier));
      const body = (await response.json()) as Record<string, unknown>;
      expect(response.status, JSON.stringify(body)).toBe(200);
      expect(body.access_token).toBeTypeOf('string');
      expect(body.id_token).toBeTypeOf('string');
    });
  }

  it('refuses a body it cannot read in OAuth’s error format: 400 invalid_request, never a problem', async () => {
    for (const [contentType, body] of [
      // A client_id that is not UTF-8: read lossily it would be U+FFFD, like any other stray byte.
      ['application/x-www-form-urlencoded', 'grant_type=client_credentials&client_id=demo%FF'],
      [
        'application/x-www-form-urlencoded',
        new Uint8Array(Buffer.from('grant_type=client_credentials&client_id=demo\xff', 'latin1')),
      ],
    ] as const) {
      const response = await fetch(new URL('/token', runtime.baseUrl), {
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
      });
      const answer = (await response.json()) as Record<string, unknown>;
      expect(response.status, contentType).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer).toMatchObject({ error: 'invalid_request' });
      expect(answer.error_description).toBeTypeOf('string');
    }
  });
});

describe('a declared charset hides no client_secret guess from the throttle (review R73-1)', () => {
  /** A client_secret_post guess at the token endpoint, its form declared as `contentType`. */
  const guess = (contentType: string, secret: string) =>
    fetch(new URL('/token', runtime.baseUrl), {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: platform.clientId,
        client_secret: secret,
      }).toString(),
    });

  it('the provider reads an ASCII form declared UTF-16LE as UTF-8: a Basic code exchange still succeeds', async () => {
    // Pins what the throttle relies on: should a later Koa or oidc-provider decode in the declared
    // charset, this form no longer reads and the throttle must follow (client-auth-throttle.ts).
    const { code, verifier } = await freshCode();
    const response = await postToken(
      'application/x-www-form-urlencoded; charset=utf-16le',
      exchangeForm(code, verifier),
    );
    expect(response.status, await response.clone().text()).toBe(200);
  });

  it('counts wrong secrets sent under charset=utf-16le: the sixth is 429, and so is the right one then', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) {
      statuses.push(
        (await guess('application/x-www-form-urlencoded; charset=utf-16le', `wrong-${attempt}`)).status,
      );
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses[5]).toBe(429);
    const right = await guess('application/x-www-form-urlencoded; charset=UTF-16LE', platform.clientSecret);
    expect(right.status).toBe(429);
  });
});
