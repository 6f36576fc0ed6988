import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { postJson } from '../../support/http-api.js';
import {
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  runFlow,
  verifyJwt,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/**
 * A platform delegating its login, driven by openid-client as the real relying party and a
 * cookie-keeping browser over real HTTP: discovery, code + PKCE S256 + nonce + state, the ID token
 * verified against our JWKS, userinfo; and the sign-in page itself: one message for every bad
 * credential, throttling that does not tell existing accounts from missing ones, labels and language.
 */

let runtime: TestRuntime;
let platform: RelyingParty;

const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
const citizen = () => runtime.credentials.citizen;

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

/** The login page of a new authorization request, in a new browser. */
async function loginPage() {
  const ua = browser();
  const { url } = await authorizationRequest(platform);
  const outcome = await runFlow(ua, url);
  expect(outcome.stoppedAt).toBe('login');
  return { ua, page: outcome.page! };
}

/** Posts the login form of `page` with the given credentials; returns the page shown back. */
async function postLogin(
  ua: UserAgent,
  page: { url: URL; html: string },
  username: string,
  password: string,
) {
  const form = parseForm(page.html)!;
  const response = await ua.request(new URL(form.action, page.url), { form: { username, password } });
  return { status: response.status, headers: response.headers, html: await response.text() };
}

/** The text of the page's `role="alert"` element(s), tags stripped, spaces collapsed. */
function alerts(html: string): string[] {
  return [...html.matchAll(/<(\w+)[^>]*role="alert"[^>]*>([\s\S]*?)<\/\1>/g)].map((m) =>
    m[2]!
      .replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

/** The value of the `username` input. */
function typedUsername(html: string): string | undefined {
  const input = /<input\b[^>]*\bname="username"[^>]*>/.exec(html)?.[0];
  return input ? /value="([^"]*)"/.exec(input)?.[1] : undefined;
}

describe('discovery', () => {
  it('describes a code-only provider with PKCE S256, ES256 (or RS256) ID tokens, pairwise subjects and RFC 9207 iss', () => {
    const metadata = platform.config.serverMetadata();
    expect(metadata).toMatchObject({
      issuer: runtime.baseUrl,
      authorization_endpoint: `${runtime.baseUrl}/authorize`,
      token_endpoint: `${runtime.baseUrl}/token`,
      userinfo_endpoint: `${runtime.baseUrl}/userinfo`,
      jwks_uri: `${runtime.baseUrl}/.well-known/jwks.json`,
      end_session_endpoint: `${runtime.baseUrl}/session/end`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
      subject_types_supported: ['pairwise'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(metadata.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'profile', 'idcard', 'entity', 'licences', 'offline_access']),
    );
  });
});

describe('authorization code flow with PKCE, nonce and state', () => {
  let subject: string;
  let accessToken: string;

  it('signs the citizen in and returns the code with state and iss (RFC 9207) to the redirect URI', async () => {
    const ua = browser();
    const request = await authorizationRequest(platform);
    expect(request.url.searchParams.get('code_challenge_method')).toBe('S256');

    const { callback, steps } = await callbackOf(ua, request.url, {
      username: citizen().idNumber,
      password: citizen().password,
    });
    expect(steps).toEqual(['login', 'consent']);
    expect(`${callback.origin}${callback.pathname}`).toBe(platform.redirectUri);
    expect(callback.searchParams.get('code')).toMatch(/\S{20,}/);
    expect(callback.searchParams.get('state')).toBe(request.state);
    expect(callback.searchParams.get('iss')).toBe(runtime.baseUrl);

    const tokens = await exchange(platform, request, callback);
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toBeUndefined();
    accessToken = tokens.access_token;

    // openid-client checked iss, aud, nonce and the times but not the signature: jose checks it all.
    const { payload, protectedHeader } = await verifyJwt(runtime.baseUrl, tokens.id_token!, {
      audience: platform.clientId,
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({
      iss: runtime.baseUrl,
      aud: platform.clientId,
      nonce: request.nonce,
      acr: 'urn:elicence:loa:3',
    });
    expect(payload.sub).toMatch(/\S{16,}/);
    // The name at userinfo (below), not in the ID token, which travels in URLs (privacy review L3).
    expect(payload).not.toHaveProperty('name');
    expect(payload).not.toHaveProperty('id_number');
    expect(payload).not.toHaveProperty('credit_code');
    subject = payload.sub!;
  });

  it('refuses an ID token whose signature was tampered with', async () => {
    const ua = browser();
    const request = await authorizationRequest(platform);
    const { callback } = await callbackOf(ua, request.url, {
      username: citizen().idNumber,
      password: citizen().password,
    });
    const idToken = (await exchange(platform, request, callback)).id_token!;
    const [header, body, signature] = idToken.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await expect(
      verifyJwt(runtime.baseUrl, `${header}.${body}.${flipped}`, { audience: platform.clientId }),
    ).rejects.toThrow();
    await expect(verifyJwt(runtime.baseUrl, idToken, { audience: 'another-client' })).rejects.toThrow(/aud/);
  });

  it('answers userinfo for the access token with the same sub and name', async () => {
    const userinfo = await client.fetchUserInfo(platform.config, accessToken, subject);
    expect(userinfo).toMatchObject({ sub: subject, name: citizen().name });
    expect(userinfo).not.toHaveProperty('id_number');
  });
});

describe('the sign-in page', () => {
  it('is in Simplified Chinese (English a click away), and labels both inputs', async () => {
    const { page } = await loginPage();
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<html lang="zh-CN">/);
    expect(page.html).toMatch(/<a\b[^>]*\bhref="[^"]*\?lang=en"[^>]*>English<\/a\s*>/);
    expect(page.html).toMatch(/<label for="username">[^<]*身份证号/);
    expect(page.html).toMatch(/<label for="password">[^<]*密码/);
    expect(page.html).toMatch(/<input\b[^>]*\bid="username"[^>]*\bname="username"/);
    expect(page.html).toMatch(/<input\b[^>]*\btype="password"[^>]*\bid="password"[^>]*\bname="password"/);
    expect(page.html).toMatch(/<button type="submit">/);
    expect(parseForm(page.html)).toMatchObject({ fields: { username: '', password: '' } });
  });

  it('shows one message for a wrong password, an unknown ID number and a malformed one, keeping what was typed', async () => {
    const unregistered = registryPeople[19]!.idNumber;
    const cases = [
      { username: citizen().idNumber, password: 'not-the-password' },
      { username: unregistered, password: citizen().password },
      { username: '12345X', password: citizen().password },
    ];
    const answers = [];
    for (const { username, password } of cases) {
      const { ua, page } = await loginPage();
      const answer = await postLogin(ua, page, username, password);
      expect(answer.status).toBe(401);
      expect(typedUsername(answer.html)).toBe(username);
      expect(answer.html).not.toContain(password);
      answers.push(alerts(answer.html));
    }
    expect(answers[0]).toEqual(['身份证号或密码不正确。']);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('asks to wait (429, Retry-After) after repeated failures, alike for an existing and a missing account', async () => {
    const existing = registryPeople[3]!;
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      ...existing,
      password: 'Correct-Horse-2026',
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const missing = registryPeople[4]!;

    for (const person of [existing, missing]) {
      const { ua, page } = await loginPage();
      const statuses: number[] = [];
      let throttled: Awaited<ReturnType<typeof postLogin>> | undefined;
      // Five failures are free; from then on each makes the next attempt wait 1, 2, 4… seconds.
      for (let attempt = 0; attempt < 10 && !throttled; attempt++) {
        const answer = await postLogin(ua, page, person.idNumber, `wrong-${attempt}`);
        statuses.push(answer.status);
        if (answer.status === 429) throttled = answer;
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(throttled, `statuses ${statuses.join(',')}`).toBeDefined();
      const retryAfter = Number(throttled!.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(alerts(throttled!.html)).toEqual([`尝试次数过多，请在 ${retryAfter} 秒后重试。`]);
      expect(typedUsername(throttled!.html)).toBe(person.idNumber);
    }
  });
});
