import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  exchange,
  getWithToken,
  registerPlatform,
  runFlow,
  signIn,
  verifyJwt,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Single sign-on across platforms: a second platform gets its code from the session without the
 * password, `prompt=none` answers at once, `prompt=login` and `max_age=0` ask for the password again;
 * each platform sees its own pairwise `sub`; the ID number goes only under scope `idcard` and only to a
 * platform registered for it.
 */

let runtime: TestRuntime;
/** Not first-party (consent page), registered for `idcard`. */
let platformA: RelyingParty;
/** First-party (no consent page), not registered for `idcard`, registered for `licences`. */
let platformB: RelyingParty;

const citizen = () => runtime.credentials.citizen;
const password = () => ({ username: citizen().idNumber, password: citizen().password });

beforeAll(async () => {
  runtime = await startTestRuntime();
  const token = await adminToken(runtime);
  platformA = await registerPlatform(runtime, token, {
    name: '平台甲 Platform A',
    redirectUris: ['https://platform-a.example/cb'],
    scopes: ['openid', 'profile', 'idcard'],
  });
  platformB = await registerPlatform(runtime, token, {
    name: '平台乙 Platform B',
    redirectUris: ['https://platform-b.example/cb'],
    scopes: ['openid', 'profile', 'licences'],
    firstParty: true,
  });
});
afterAll(() => runtime?.close());

describe('single sign-on', () => {
  const ua = () => browser;
  let browser: UserAgent;
  let subOnA: string;

  beforeAll(() => {
    browser = new UserAgent(runtime.baseUrl);
  });

  it('signs in on platform A with the password and a consent page', async () => {
    const { steps, claims, tokens } = await signIn(platformA, ua(), password());
    expect(steps).toEqual(['login', 'consent']);
    expect(claims).toMatchObject({ acr: 'urn:elicence:loa:3' });
    await verifyJwt(runtime.baseUrl, tokens.id_token!, { audience: platformA.clientId });
    subOnA = claims.sub;
    // The name at userinfo only: an ID token travels in URLs (`id_token_hint`) and logs (privacy review L3).
    expect(decodeJwt(tokens.id_token!)).not.toHaveProperty('name');
    const userinfo = await client.fetchUserInfo(platformA.config, tokens.access_token, claims.sub);
    expect(userinfo).toEqual({ sub: claims.sub, name: citizen().name });
  });

  it('gives first-party platform B its code from the session: no password, no consent page', async () => {
    const { steps, claims, callback, tokens } = await signIn(platformB, ua(), {});
    expect(steps).toEqual([]);
    expect(callback.origin).toBe('https://platform-b.example');
    expect(claims).not.toHaveProperty('name');
    expect(await client.fetchUserInfo(platformB.config, tokens.access_token, claims.sub)).toMatchObject({
      name: citizen().name,
    });
    await verifyJwt(runtime.baseUrl, tokens.id_token!, { audience: platformB.clientId });
    // Pairwise: B cannot correlate its users with A's.
    expect(claims.sub).not.toBe(subOnA);
  });

  it('shows first-party platform B no consent page when it later asks for more (licences)', async () => {
    const { steps, tokens } = await signIn(platformB, ua(), {}, { scope: 'openid profile licences' });
    expect(steps).toEqual([]);
    expect((await getWithToken(runtime, '/me/licences', tokens.access_token)).status).toBe(200);

    // Nor when it asks for an API scope at the first sign-in.
    const fresh = await signIn(platformB, new UserAgent(runtime.baseUrl), password(), {
      scope: 'openid profile licences',
    });
    expect(fresh.steps).toEqual(['login']);
    expect((await getWithToken(runtime, '/me/licences', fresh.tokens.access_token)).status).toBe(200);
    // An access token for our API is refused at userinfo: the provider puts the name in the ID token then
    // (a first-party app: `licences` scopes are the service's own apps').
    expect(fresh.claims.name).toBe(citizen().name);
  });

  it('answers prompt=none on platform A at once with a code, the consent given before still holding', async () => {
    const { steps, claims } = await signIn(platformA, ua(), {}, { prompt: 'none' });
    expect(steps).toEqual([]);
    expect(claims.sub).toBe(subOnA);
  });

  it('answers prompt=none with login_required in a browser without a session', async () => {
    const request = await authorizationRequest(platformA, { prompt: 'none' });
    const { callback } = await callbackOf(new UserAgent(runtime.baseUrl), request.url);
    expect(callback.searchParams.get('error')).toBe('login_required');
    expect(callback.searchParams.get('state')).toBe(request.state);
    expect(callback.searchParams.get('iss')).toBe(runtime.baseUrl);
    expect(callback.searchParams.has('code')).toBe(false);
  });

  it('gives platform A the same sub at every sign-in, in another browser too', async () => {
    const again = await signIn(platformA, new UserAgent(runtime.baseUrl), password());
    expect(again.steps).toEqual(['login', 'consent']);
    expect(again.claims.sub).toBe(subOnA);
    const sso = await signIn(platformA, ua(), {});
    expect(sso.claims.sub).toBe(subOnA);
  });

  it('asks for the password again with prompt=login despite the session', async () => {
    const request = await authorizationRequest(platformA, { prompt: 'login' });
    const stopped = await runFlow(ua(), request.url);
    expect(stopped.stoppedAt).toBe('login');
    expect(stopped.page?.status).toBe(200);

    const { callback, steps } = await callbackOf(ua(), request.url, password());
    expect(steps).toEqual(['login']);
    const tokens = await exchange(platformA, request, callback);
    expect(tokens.claims()?.sub).toBe(subOnA);
  });

  it('asks for the password again with max_age=0, and reports auth_time', async () => {
    const request = await authorizationRequest(platformA, { max_age: '0' });
    const stopped = await runFlow(ua(), request.url);
    expect(stopped.stoppedAt).toBe('login');

    const before = Math.floor(Date.now() / 1000);
    const { callback, steps } = await callbackOf(ua(), request.url, password());
    expect(steps).toEqual(['login']);
    const claims = (await exchange(platformA, request, callback)).claims()!;
    expect(claims.sub).toBe(subOnA);
    expect(claims.auth_time).toBeGreaterThanOrEqual(before - 1);
    expect(claims.amr).toEqual(['pwd']);
  });
});

describe('the ID number (scope idcard)', () => {
  it('asks a first-party app’s person too, on the consent page’s own box (privacy review L4b)', async () => {
    const own = await registerPlatform(runtime, await adminToken(runtime), {
      name: '本平台 Our own app',
      redirectUris: ['https://own-app.example/cb'],
      scopes: ['openid', 'profile', 'idcard'],
      firstParty: true,
    });
    // Without the ID number: no consent page, as for any first-party sign-in.
    const plain = await signIn(own, new UserAgent(runtime.baseUrl), password(), { scope: 'openid profile' });
    expect(plain.steps).toEqual(['login']);
    // With it: the consent page, and the number only if its box is ticked.
    const refused = await signIn(own, new UserAgent(runtime.baseUrl), password(), {
      scope: 'openid profile idcard',
    });
    expect(refused.steps).toEqual(['login', 'consent']);
    const without = await client.fetchUserInfo(own.config, refused.tokens.access_token, refused.claims.sub);
    expect(without).not.toHaveProperty('id_number');
    const allowed = await signIn(
      own,
      new UserAgent(runtime.baseUrl),
      { ...password(), idNumber: true },
      { scope: 'openid profile idcard' },
    );
    expect(allowed.steps).toEqual(['login', 'consent']);
    const withIt = await client.fetchUserInfo(own.config, allowed.tokens.access_token, allowed.claims.sub);
    expect(withIt).toMatchObject({ id_number: citizen().idNumber });
  });

  it('goes to a platform registered for idcard that asks for it, after consent to it, at userinfo only', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    // The consent page's own box for the ID number, ticked (unticked by default: consent-privacy.test.ts).
    const { steps, claims, tokens } = await signIn(
      platformA,
      ua,
      { ...password(), idNumber: true },
      {
        scope: 'openid profile idcard',
      },
    );
    expect(steps).toEqual(['login', 'consent']);
    // Never in the ID token: platforms put it in URLs (`id_token_hint` at logout), where it is logged.
    expect(decodeJwt(tokens.id_token!)).not.toHaveProperty('id_number');
    expect(claims).not.toHaveProperty('id_number');
    expect(claims).not.toHaveProperty('name');
    const userinfo = await client.fetchUserInfo(platformA.config, tokens.access_token, claims.sub);
    expect(userinfo).toMatchObject({ sub: claims.sub, name: citizen().name, id_number: citizen().idNumber });

    // Without asking for idcard, the same platform gets no ID number, at userinfo neither.
    const without = await signIn(platformA, ua, {});
    expect(without.claims).not.toHaveProperty('id_number');
    const withoutInfo = await client.fetchUserInfo(
      platformA.config,
      without.tokens.access_token,
      without.claims.sub,
    );
    expect(withoutInfo).not.toHaveProperty('id_number');
  });

  it('stays out of the ID token of an API token (audience the issuer) and of a refreshed one', async () => {
    // With an API scope the access token has an audience, and the provider would put every scope's
    // claims into the ID token even with `conformIdTokenClaims`: the account's own claims leave it out.
    const platform = await registerPlatform(runtime, await adminToken(runtime), {
      name: '平台丙 Platform C',
      redirectUris: ['https://platform-c.example/cb'],
      scopes: ['openid', 'idcard', 'offline_access'],
    });
    const scope = 'openid idcard offline_access';
    // Our API as the resource (as `licences`, first-party only since privacy review R9, made it).
    const { claims, tokens } = await signIn(
      platform,
      new UserAgent(runtime.baseUrl),
      { ...password(), idNumber: true },
      { scope, prompt: 'consent', resource: runtime.baseUrl },
    );
    expect(tokens.scope?.split(' ').sort()).toEqual(scope.split(' ').sort());
    expect(decodeJwt(tokens.id_token!)).not.toHaveProperty('id_number');
    const userinfo = await client.fetchUserInfo(platform.config, tokens.access_token, claims.sub);
    expect(userinfo.id_number).toBe(citizen().idNumber);

    const refreshed = await client.refreshTokenGrant(platform.config, tokens.refresh_token!);
    expect(refreshed.id_token).toBeTruthy();
    expect(decodeJwt(refreshed.id_token!)).not.toHaveProperty('id_number');
    const again = await client.fetchUserInfo(platform.config, refreshed.access_token, claims.sub);
    expect(again.id_number).toBe(citizen().idNumber);
  });

  it('is refused with invalid_scope to a platform not registered for idcard', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const request = await authorizationRequest(platformB, { scope: 'openid profile idcard' });
    const outcome = await runFlow(ua, request.url, password());
    expect(outcome.steps).toEqual([]);
    expect(outcome.callback?.origin).toBe('https://platform-b.example');
    expect(outcome.callback?.searchParams.get('error')).toBe('invalid_scope');
    expect(outcome.callback?.searchParams.has('code')).toBe(false);
  });
});
