import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  getWithToken,
  refusal,
  registerPlatform,
  sessionOf,
  signIn,
  verifyJwt,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/**
 * What a platform does with its tokens after sign-in: refresh with rotation (a reused refresh token
 * revokes the grant), introspection and revocation; and how a session ends: RP-initiated logout through
 * the provider's confirmation page, and back-channel logout tokens to platforms registered for them.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
let token: string;

const citizen = () => runtime.credentials.citizen;
const password = () => ({ username: citizen().idNumber, password: citizen().password });
const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await demoPlatform(runtime);
  token = await adminToken(runtime);
});
afterAll(() => runtime?.close());

describe('refresh tokens', () => {
  it('rotate at every use; reusing a rotated one revokes the grant, so the newest fails too', async () => {
    const { tokens, claims } = await signIn(platform, browser(), password(), {
      scope: 'openid profile offline_access',
      prompt: 'consent',
    });
    expect(tokens.refresh_token).toMatch(/\S{20,}/);
    const first = tokens.refresh_token!;

    const refreshed = await client.refreshTokenGrant(platform.config, first);
    const second = refreshed.refresh_token!;
    expect(second).toMatch(/\S{20,}/);
    expect(second).not.toBe(first);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.claims()?.sub).toBe(claims.sub);
    await verifyJwt(runtime.baseUrl, refreshed.id_token!, { audience: platform.clientId });
    expect(await client.fetchUserInfo(platform.config, refreshed.access_token, claims.sub)).toMatchObject({
      sub: claims.sub,
    });

    // The old one again: refused, and the whole grant with it.
    expect(await refusal(client.refreshTokenGrant(platform.config, first))).toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });
    expect(await refusal(client.refreshTokenGrant(platform.config, second))).toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });
    expect(await client.tokenIntrospection(platform.config, refreshed.access_token)).toEqual({
      active: false,
    });
  });

  it('are not issued without offline_access, nor with offline_access unless consent is prompted', async () => {
    const ua = browser();
    const plain = await signIn(platform, ua, password());
    expect(plain.tokens.refresh_token).toBeUndefined();
    // prompt=login without consent: the provider drops offline_access (OpenID Connect Core §11).
    const withoutConsent = await signIn(platform, ua, password(), {
      scope: 'openid profile offline_access',
      prompt: 'login',
    });
    expect(withoutConsent.tokens.refresh_token).toBeUndefined();
  });
});

describe("introspection and revocation of a person's access token", () => {
  it('tells the client its token is active, tells another client nothing, and inactive once revoked', async () => {
    const { tokens, claims } = await signIn(platform, browser(), password());
    const accessToken = tokens.access_token;

    expect(await client.tokenIntrospection(platform.config, accessToken)).toMatchObject({
      active: true,
      sub: claims.sub,
      client_id: platform.clientId,
      scope: 'openid profile',
      token_type: 'Bearer',
      iss: runtime.baseUrl,
    });

    const other = await registerPlatform(runtime, token, {
      name: '其他平台 Other platform',
      redirectUris: ['https://other.example/cb'],
      scopes: ['openid'],
    });
    expect(await client.tokenIntrospection(other.config, accessToken)).toEqual({ active: false });

    await client.tokenRevocation(platform.config, accessToken);
    expect(await client.tokenIntrospection(platform.config, accessToken)).toEqual({ active: false });
    const userinfo = await fetch(`${runtime.baseUrl}/userinfo`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(userinfo.status).toBe(401);
  });
});

/** Starts RP-initiated logout and confirms on the provider's page: where the browser is sent then. */
async function logOut(ua: UserAgent, rp: RelyingParty, idToken: string, postLogoutRedirectUri: string) {
  const state = client.randomState();
  const endSession = client.buildEndSessionUrl(rp.config, {
    id_token_hint: idToken,
    post_logout_redirect_uri: postLogoutRedirectUri,
    state,
  });
  const shown = await ua.navigate(endSession);
  expect(shown.page?.status).toBe(200);
  const html = shown.page!.html;
  expect(html).toMatch(/<button\b[^>]*\bname="logout"[^>]*\bvalue="yes"/);
  const form = parseForm(html, 'op.logoutForm');
  expect(form?.fields.xsrf).toMatch(/\S{10,}/);

  const confirmed = await ua.navigate(new URL(form!.action, shown.page!.url), {
    form: { ...form!.fields, logout: 'yes' },
  });
  return { state, leftTo: confirmed.leftTo };
}

describe('RP-initiated logout', () => {
  let rp: RelyingParty;

  beforeAll(async () => {
    rp = await registerPlatform(runtime, token, {
      name: '注销平台 Logout platform',
      redirectUris: ['https://logout-rp.example/cb'],
      postLogoutRedirectUris: ['https://logout-rp.example/signed-out'],
      scopes: ['openid', 'profile'],
      firstParty: true,
    });
  });

  it('ends the session after confirmation and returns to the registered post-logout URI with state', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { tokens } = await signIn(rp, ua, password());
    expect((await signIn(rp, ua, {}, { prompt: 'none' })).steps).toEqual([]);

    const { state, leftTo } = await logOut(ua, rp, tokens.id_token!, 'https://logout-rp.example/signed-out');
    expect(`${leftTo?.origin}${leftTo?.pathname}`).toBe('https://logout-rp.example/signed-out');
    expect(leftTo?.searchParams.get('state')).toBe(state);

    // The session is gone: prompt=none cannot sign in silently any more.
    const request = await authorizationRequest(rp, { prompt: 'none' });
    const { callback } = await callbackOf(ua, request.url);
    expect(callback.searchParams.get('error')).toBe('login_required');
    expect(callback.searchParams.has('code')).toBe(false);
  });

  it('a code issued before the logout redeems nothing', async () => {
    // The code exchange reads the code's session and grant ahead, in one call (oidc-adapter.ts,
    // readAheadForCode): what it reads is the table after the logout, never an earlier request's read.
    const ua = new UserAgent(runtime.baseUrl);
    const { tokens } = await signIn(rp, ua, password());
    const request = await authorizationRequest(rp, { scope: 'openid profile' });
    const { callback } = await callbackOf(ua, request.url);
    expect(callback.searchParams.has('code')).toBe(true);
    await logOut(ua, rp, tokens.id_token!, 'https://logout-rp.example/signed-out');
    expect(await refusal(exchange(rp, request, callback))).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a post-logout URI that is not registered', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { tokens } = await signIn(rp, ua, password());
    const endSession = client.buildEndSessionUrl(rp.config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://attacker.example/signed-out',
    });
    const shown = await ua.navigate(endSession);
    expect(shown.leftTo).toBeUndefined();
    expect(shown.page?.status).toBe(400);
    expect(shown.page?.html).toContain('role="alert"');
    expect(shown.page?.html).not.toContain('op.logoutForm');
  });
});

describe('a session-bound access token at our API', () => {
  let app: RelyingParty;

  beforeAll(async () => {
    app = await registerPlatform(runtime, token, {
      name: '自有应用 First-party app',
      redirectUris: ['https://session-bound.example/cb'],
      postLogoutRedirectUris: ['https://session-bound.example/signed-out'],
      scopes: ['openid', 'licences', 'offline_access'],
      firstParty: true,
    });
  });

  /** `GET /me/licences` and `/userinfo` with `accessToken`: their statuses. */
  const statuses = async (accessToken: string) => ({
    me: (await getWithToken(runtime, '/me/licences', accessToken)).status,
    userinfo: (
      await fetch(`${runtime.baseUrl}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })
    ).status,
  });

  it('is refused once the person signs out, also where the session once gave the platform offline_access (R21)', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    // A sign-in with offline_access marks the platform's grant in this session to outlive a logout…
    const lasting = await signIn(
      app,
      ua,
      { ...password(), consent: true },
      { scope: 'openid licences offline_access', prompt: 'consent' },
    );
    expect(lasting.tokens.refresh_token).toBeTruthy();
    // …and a later sign-in in the same session, without it, gets a token bound to the session.
    const plain = await signIn(app, ua, {}, { scope: 'openid licences' });
    expect(plain.steps).toEqual([]);
    expect(plain.tokens.refresh_token).toBeUndefined();
    expect(await statuses(plain.tokens.access_token)).toEqual({ me: 200, userinfo: 200 });

    await logOut(ua, app, plain.tokens.id_token!, 'https://session-bound.example/signed-out');
    // docs/openid-connect.md: when that session ends, the platform's access token is refused (401).
    expect(await statuses(plain.tokens.access_token)).toEqual({ me: 401, userinfo: 401 });
    // The token of the offline_access sign-in is not bound to the session: it outlives the logout.
    expect((await statuses(lasting.tokens.access_token)).me).toBe(200);
  });

  it('is refused once its grant is gone, even where the revocation missed the token itself', async () => {
    // Revoking a grant deletes its tokens as an eventually consistent index (gsi2) lists them, and the
    // grant by its key: a token the index did not list yet is still stored, and must still be refused.
    const ua = new UserAgent(runtime.baseUrl);
    const { tokens } = await signIn(app, ua, password(), { scope: 'openid licences' });
    expect((await statuses(tokens.access_token)).me).toBe(200);
    const authorizations = (await sessionOf(runtime, ua)).payload.authorizations as Record<
      string,
      { grantId: string }
    >;
    await new (dependencies().adapter)('Grant').destroy(authorizations[app.clientId]!.grantId);
    expect(await statuses(tokens.access_token)).toEqual({ me: 401, userinfo: 401 });
  });
});

/**
 * oidc-provider sends its outgoing requests through an undici dispatcher that refuses special-use
 * addresses (127.0.0.0/8 among them) against SSRF, and registration refuses such a back-channel URI
 * outright. A test receiver can only listen on loopback, so the platform registers a public URL
 * (`registeredUrl`) and this sends the provider's requests to it to the receiver instead, as if the
 * name resolved there: `guarded` keeps the provider's dispatcher (whose guard then refuses the address),
 * otherwise it is dropped (the provider's default `fetch` option calls `globalThis.fetch`). Returns the
 * function that puts `fetch` back.
 */
function deliverToLoopback(
  registeredUrl: string,
  receiverUrl: string,
  { guarded = false }: { guarded?: boolean } = {},
): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!init || !url.startsWith(registeredUrl)) return original(input, init);
    const sent: RequestInit & { dispatcher?: unknown } = { ...init };
    if (!guarded) delete sent.dispatcher;
    return original(receiverUrl + url.slice(registeredUrl.length), sent);
  };
  return () => {
    globalThis.fetch = original;
  };
}

/** The back-channel logout URI the test platforms register (a public name: loopback is refused). */
const registeredUrl = 'https://backchannel-rp.example/backchannel-logout';

describe('back-channel logout', () => {
  let receiver: Server;
  let receiverUrl: string;
  const received: Array<{ method: string; contentType: string; body: URLSearchParams }> = [];
  let rp: RelyingParty;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({
          method: req.method ?? '',
          contentType: req.headers['content-type'] ?? '',
          body: new URLSearchParams(body),
        });
        res.writeHead(200, { 'cache-control': 'no-store' }).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    receiverUrl = `http://127.0.0.1:${port}/backchannel-logout`;
    rp = await registerPlatform(runtime, token, {
      name: '后端注销平台 Back-channel platform',
      redirectUris: ['https://backchannel-rp.example/cb'],
      postLogoutRedirectUris: ['https://backchannel-rp.example/signed-out'],
      scopes: ['openid', 'profile'],
      backchannelLogoutUri: registeredUrl,
    });
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('posts a signed logout token naming the pairwise sub and the session to the platform', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { tokens, claims } = await signIn(rp, ua, password());
    expect(claims.sid).toMatch(/\S{10,}/);
    received.length = 0;

    const restore = deliverToLoopback(registeredUrl, receiverUrl);
    let leftTo: URL | undefined;
    try {
      ({ leftTo } = await logOut(ua, rp, tokens.id_token!, 'https://backchannel-rp.example/signed-out'));
    } finally {
      restore();
    }
    expect(leftTo?.origin).toBe('https://backchannel-rp.example');

    // The provider waits for the platform's answer before it redirects the browser.
    expect(received).toHaveLength(1);
    const [notice] = received as [(typeof received)[number]];
    expect(notice.method).toBe('POST');
    expect(notice.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    const logoutToken = notice.body.get('logout_token');
    expect(logoutToken).toBeTruthy();

    const { payload, protectedHeader } = await verifyJwt(runtime.baseUrl, logoutToken!, {
      audience: rp.clientId,
      typ: 'logout+jwt',
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({
      iss: runtime.baseUrl,
      aud: rp.clientId,
      sub: claims.sub,
      sid: claims.sid,
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    });
    expect(payload.jti).toMatch(/\S{10,}/);
    // A logout token never carries a nonce (OpenID Back-Channel Logout 1.0 §2.4).
    expect(payload).not.toHaveProperty('nonce');
  });

  it('signs the logout token with RS256 for a platform registered for RS256, with the sid of its ID token', async () => {
    const rs256 = await registerPlatform(runtime, token, {
      name: 'RS256 back-channel platform',
      redirectUris: ['https://backchannel-rp.example/cb'],
      postLogoutRedirectUris: ['https://backchannel-rp.example/signed-out'],
      scopes: ['openid', 'profile'],
      backchannelLogoutUri: registeredUrl,
      idTokenSignedResponseAlg: 'RS256',
    });
    const ua = new UserAgent(runtime.baseUrl);
    const { tokens, claims } = await signIn(rs256, ua, password());
    const idToken = await verifyJwt(runtime.baseUrl, tokens.id_token!, {
      audience: rs256.clientId,
      alg: 'RS256',
    });
    expect(idToken.payload.sid).toBe(claims.sid);
    received.length = 0;
    const restore = deliverToLoopback(registeredUrl, receiverUrl);
    try {
      await logOut(ua, rs256, tokens.id_token!, 'https://backchannel-rp.example/signed-out');
    } finally {
      restore();
    }
    expect(received).toHaveLength(1);
    const { payload, protectedHeader } = await verifyJwt(
      runtime.baseUrl,
      received[0]!.body.get('logout_token')!,
      {
        audience: rs256.clientId,
        typ: 'logout+jwt',
        alg: 'RS256',
      },
    );
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: claims.sub, sid: claims.sid });
  });

  it("is not sent to a name that leads to a loopback address: the provider's SSRF guard refuses it, and logout goes on", async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { tokens } = await signIn(rp, ua, password());
    received.length = 0;
    const restore = deliverToLoopback(registeredUrl, receiverUrl, { guarded: true });
    let leftTo: URL | undefined;
    try {
      ({ leftTo } = await logOut(ua, rp, tokens.id_token!, 'https://backchannel-rp.example/signed-out'));
    } finally {
      restore();
    }
    expect(leftTo?.origin).toBe('https://backchannel-rp.example');
    expect(received).toEqual([]);
  });
});
