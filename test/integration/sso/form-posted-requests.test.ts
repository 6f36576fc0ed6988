import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationRequest,
  callbackOf,
  citizenAnswers,
  demoPlatform,
  exchange,
  runFlow,
  signIn,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/**
 * OpenID Connect Core §3.1.2.1 and RP-Initiated Logout 1.0 §2: the authorization and end-session
 * endpoints MUST take a form POST. Each is a 303 to the same endpoint's GET (shared/sso/form-posted-request.ts).
 */
let runtime: TestRuntime;
let platform: RelyingParty;
beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

/** A browser whose flows end at the demo platform's callback (on the service's own origin). */
const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
const form = 'application/x-www-form-urlencoded';
const post = (path: string, body: string, contentType = form) =>
  fetch(`${runtime.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': contentType, accept: 'text/html' },
    body,
  });

describe('POST /authorize', () => {
  it('is answered 303 to the same GET, which reaches the sign-in; the flow ends with a code', async () => {
    const request = await authorizationRequest(platform);
    const ua = browser();
    const posted = await ua.request('/authorize', { form: Object.fromEntries(request.url.searchParams) });
    expect(posted.status).toBe(303);
    // Nothing set or read: the 303 names the very request a cross-site link could.
    expect(posted.headers.getSetCookie()).toEqual([]);
    const location = new URL(posted.headers.get('location')!, runtime.baseUrl);
    expect(location.pathname).toBe('/authorize');
    expect(Object.fromEntries(location.searchParams)).toEqual(Object.fromEntries(request.url.searchParams));

    // The GET it names is served as a GET: the provider's 303 to the sign-in interaction.
    const get = await ua.request(location);
    expect(get.status).toBe(303);
    expect(get.headers.get('location')).toMatch(/^\/interaction\/[\w-]+$/);

    const { callback, steps } = await callbackOf(ua, new URL(get.headers.get('location')!, runtime.baseUrl), {
      ...citizenAnswers(runtime),
    });
    expect(steps).toEqual(['login', 'consent']);
    expect(callback.searchParams.get('state')).toBe(request.state);
    const tokens = await exchange(platform, request, callback);
    expect(tokens.claims()?.aud).toBe(platform.clientId);
  });

  it('keeps the single sign-on of the session: a signed-in browser reaches the platform without the password', async () => {
    const ua = browser();
    await signIn(platform, ua, citizenAnswers(runtime));
    const request = await authorizationRequest(platform);
    const posted = await ua.request('/authorize', { form: Object.fromEntries(request.url.searchParams) });
    const outcome = await runFlow(ua, new URL(posted.headers.get('location')!, runtime.baseUrl));
    expect(outcome.callback?.searchParams.get('code')).toBeTruthy();
    expect(outcome.steps).toEqual([]);
  });

  it('refuses a form longer than a GET query may be (413), another media type (415), broken encoding (400)', async () => {
    const long = await post('/authorize', `client_id=x&state=${'a'.repeat(8_200)}`);
    expect(long.status).toBe(413);
    expect(await long.json()).toMatchObject({
      code: 'payload_too_large',
      detail: expect.stringContaining('8192'),
    });
    // One that fits as a body but whose re-encoding would not fit the GET's query.
    const expands = await post('/authorize', `state=${'~'.repeat(4_000)}`);
    expect(expands.status).toBe(413);

    const json = await post('/authorize', '{"client_id":"x"}', 'application/json');
    expect(json.status).toBe(415);
    expect(await json.json()).toMatchObject({ code: 'unsupported_media_type' });
    const none = await fetch(`${runtime.baseUrl}/authorize`, {
      method: 'POST',
      redirect: 'manual',
      body: 'a=b',
    });
    // fetch labels a string body text/plain.
    expect(none.status).toBe(415);

    for (const body of ['client_id=%zz', 'scope=%']) {
      const broken = await post('/authorize', body);
      expect(broken.status, body).toBe(400);
      expect(await broken.json()).toMatchObject({ code: 'invalid_request', errors: [{ path: '(body)' }] });
    }
    // A field that is not UTF-8 is named (session 27); a charset other than UTF-8 is refused by name.
    const notUtf8 = await post('/authorize', 'client_id=x&state=%E4%B8');
    expect(notUtf8.status).toBe(400);
    expect(await notUtf8.json()).toMatchObject({
      code: 'invalid_request',
      errors: [{ path: 'state', code: 'invalid_characters' }],
    });
    const gbk = await post('/authorize', 'client_id=x', 'application/x-www-form-urlencoded; charset=GBK');
    expect(gbk.status).toBe(415);
    expect(await gbk.json()).toMatchObject({ code: 'unsupported_charset' });
  });

  it('refuses a POST with both a query string and a body, rather than merge them (400)', async () => {
    const request = await authorizationRequest(platform);
    const both = await post(`/authorize?state=other`, request.url.searchParams.toString());
    expect(both.status).toBe(400);
    expect(await both.json()).toMatchObject({ code: 'invalid_request', errors: [{ path: '(query)' }] });
  });

  it('refuses to carry a login_hint (an ID number), an ID token or a request object into a URL (400: push it)', async () => {
    const request = await authorizationRequest(platform);
    for (const [name, value] of [
      ['login_hint', '110105199003071239'],
      ['id_token_hint', 'eyJhbGciOiJSUzI1NiJ9.e30.sig'],
      ['request', 'eyJhbGciOiJub25lIn0.e30.'],
      ['login_hint_token', 'eyJhbGciOiJub25lIn0.e30.'],
    ]) {
      const params = new URLSearchParams(request.url.searchParams);
      params.set(name!, value!);
      const refused = await post('/authorize', params.toString());
      expect(refused.status, name).toBe(400);
      expect(refused.headers.get('location'), name).toBeNull();
      const problem = (await refused.json()) as { code: string; detail: string; errors: { path: string }[] };
      expect(problem).toMatchObject({ code: 'invalid_request', errors: [{ path: name }] });
      expect(problem.detail).toContain('POST /request');
      expect(JSON.stringify(problem)).not.toContain(value);
    }
  });
});

describe('POST /session/end', () => {
  it('logs out as GET does, with the ID token kept out of every URL', async () => {
    const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo`]);
    const { tokens } = await signIn(platform, ua, citizenAnswers(runtime));
    const idToken = tokens.id_token!;

    const posted = await ua.request('/session/end', {
      form: { id_token_hint: idToken, post_logout_redirect_uri: `${runtime.baseUrl}/demo`, state: 'st-1' },
    });
    expect(posted.status).toBe(303);
    const location = new URL(posted.headers.get('location')!, runtime.baseUrl);
    expect(location.pathname).toBe('/session/end');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      client_id: platform.clientId,
      post_logout_redirect_uri: `${runtime.baseUrl}/demo`,
      state: 'st-1',
    });
    expect(posted.headers.get('location')).not.toContain(idToken.split('.')[1]!);

    const confirm = await ua.navigate(location);
    const logoutForm = parseForm(confirm.page!.html, 'op.logoutForm');
    expect(logoutForm).toBeDefined();
    const done = await ua.navigate(new URL(logoutForm!.action, runtime.baseUrl), {
      form: { ...logoutForm!.fields, logout: 'yes' },
    });
    expect(done.leftTo?.href).toBe(`${runtime.baseUrl}/demo?state=st-1`);

    // The provider's session ended: signing in again asks for the password.
    const again = await runFlow(ua, (await authorizationRequest(platform)).url);
    expect(again.stoppedAt).toBe('login');
  });

  it('refuses an id_token_hint for another client than client_id, or no ID token at all (400)', async () => {
    const { tokens } = await signIn(platform, browser(), citizenAnswers(runtime));
    const other = await post(
      '/session/end',
      new URLSearchParams({ id_token_hint: tokens.id_token!, client_id: 'cl_someone_else' }).toString(),
    );
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({
      code: 'invalid_request',
      errors: [{ path: 'id_token_hint' }],
    });
    const garbage = await post('/session/end', 'id_token_hint=not-a-token');
    expect(garbage.status).toBe(400);
  });

  it('leaves the logout confirmation (POST /session/end/confirm) to the provider', async () => {
    // Without the logout's xsrf the provider refuses it as before: not a 303 of ours.
    const confirm = await post('/session/end/confirm', 'xsrf=x&logout=yes');
    expect(confirm.status).toBe(400);
    expect(confirm.headers.get('location')).toBeNull();
  });
});
