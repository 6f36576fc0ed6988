import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  adminToken,
  authorizationRequest,
  citizenAnswers,
  demoPlatform,
  registerPlatform,
  runFlow,
  signIn,
  type AuthorizationRequest,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/**
 * A platform's `max_age` holds at the resume too (review R69 F1): the time a person spends on a page after
 * signing in (the consent page, the enterprise chooser) counts, so a code is never issued for a sign-in
 * older than the platform asked for plus the provider's tolerance, which openid-client (30 s of clock
 * skew) then accepts. The provider's own `max_age` check passes any login result of the interaction
 * whatever its time; ours asks for the password again, once: that new sign-in is fresh, and the code
 * follows. The clock (Date, the provider's and openid-client's) moves; timers stay real.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
let other: RelyingParty;
let app: RelyingParty;
const callbackUri = () => `${runtime.baseUrl}/demo/callback`;
const browser = () => new UserAgent(runtime.baseUrl, [callbackUri()]);

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await demoPlatform(runtime);
  const token = await adminToken(runtime);
  other = await registerPlatform(runtime, token, {
    name: '其他平台 Other platform',
    redirectUris: [callbackUri()],
    scopes: ['openid', 'profile'],
  });
  app = await registerPlatform(runtime, token, {
    name: '自有应用 First-party app',
    redirectUris: [callbackUri()],
    scopes: ['openid', 'profile', 'entity'],
    firstParty: true,
  });
});
afterAll(() => runtime?.close());
afterEach(() => {
  vi.useRealTimers();
});

/** The person stays `seconds` on the page shown: the clock moves on meanwhile. */
function linger(seconds: number): void {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(Date.now() + seconds * 1000);
}

/** The code exchange with openid-client's `max_age` check (its default 30 s tolerance). */
function exchangeWithMaxAge(rp: RelyingParty, request: AuthorizationRequest, callback: URL, maxAge: number) {
  return client.authorizationCodeGrant(rp.config, callback, {
    pkceCodeVerifier: request.codeVerifier,
    expectedNonce: request.nonce,
    expectedState: request.state,
    maxAge,
  });
}

/** Submits the form of the page a flow stopped at, as it is (the consent page's 同意). */
async function submit(ua: UserAgent, page: { url: URL; html: string }) {
  const form = parseForm(page.html)!;
  return ua.navigate(new URL(form.action, page.url), { form: form.fields });
}

describe('max_age at the resume (time spent on a page after the sign-in)', () => {
  it('max_age=0: 40 s on the consent page after the password asks for the password again, once', async () => {
    const ua = browser();
    const request = await authorizationRequest(platform, { max_age: '0' });
    const atConsent = await runFlow(ua, request.url, { ...citizenAnswers(runtime), consent: false });
    expect(atConsent.steps).toEqual(['login']);
    expect(atConsent.stoppedAt).toBe('consent');

    linger(40);
    const afterConsent = await submit(ua, atConsent.page!);
    // Not a code for a sign-in 40 s old, which the platform's library would refuse: the sign-in page.
    expect(afterConsent.leftTo).toBeUndefined();
    const again = await runFlow(ua, afterConsent.page!.url, citizenAnswers(runtime));
    // The password once more, and the consent already given stands: no endless round.
    expect(again.steps).toEqual(['login']);
    expect(again.callback).toBeDefined();
    const tokens = await exchangeWithMaxAge(platform, request, again.callback!, 0);
    const claims = tokens.claims()!;
    expect(Math.floor(Date.now() / 1000) - (claims.auth_time as number)).toBeLessThanOrEqual(30);
  });

  it('max_age=0: a consent answered at once issues the code, the password asked once', async () => {
    const ua = browser();
    const request = await authorizationRequest(other, { max_age: '0' });
    const { callback, steps } = await runFlow(ua, request.url, citizenAnswers(runtime));
    expect(steps).toEqual(['login', 'consent']);
    expect((await exchangeWithMaxAge(other, request, callback!, 0)).claims()!.auth_time).toBeDefined();
  });

  it('a live session, max_age=5, consent held 40 s: the password page, not a code', async () => {
    const ua = browser();
    await signIn(platform, ua, citizenAnswers(runtime), { max_age: '600' });
    const request = await authorizationRequest(other, { max_age: '5' });
    const atConsent = await runFlow(ua, request.url, { consent: false });
    expect(atConsent.steps).toEqual([]);
    expect(atConsent.stoppedAt).toBe('consent');

    linger(40);
    const afterConsent = await submit(ua, atConsent.page!);
    expect(afterConsent.leftTo).toBeUndefined();
    const again = await runFlow(ua, afterConsent.page!.url, citizenAnswers(runtime));
    expect(again.steps).toEqual(['login']);
    await expect(exchangeWithMaxAge(other, request, again.callback!, 5)).resolves.toBeDefined();
  });

  it('a live session, max_age=5, the enterprise chooser held 40 s: the password again, not a code', async () => {
    const ua = browser();
    await signIn(app, ua, citizenAnswers(runtime), { max_age: '86400' });
    const request = await authorizationRequest(app, { scope: 'openid entity', max_age: '5' });
    const atChooser = await runFlow(ua, request.url, {});
    expect(atChooser.stoppedAt).toBe('entity');

    linger(40);
    const entity = { entity: runtime.credentials.entity.creditCode };
    const chosen = await runFlow(ua, atChooser.page!.url, entity);
    // The choice is no authentication: with a sign-in 40 s old, the sign-in page.
    expect(chosen.callback).toBeUndefined();
    expect(chosen.stoppedAt).toBe('login');
    const again = await runFlow(ua, chosen.page!.url, { ...citizenAnswers(runtime), ...entity });
    expect(again.callback).toBeDefined();
    const claims = (await exchangeWithMaxAge(app, request, again.callback!, 5)).claims()!;
    expect(Math.floor(Date.now() / 1000) - (claims.auth_time as number)).toBeLessThanOrEqual(35);
  });

  it('within the tolerance the code is issued: 8 s on the consent page under max_age=0', async () => {
    const ua = browser();
    const request = await authorizationRequest(platform, { max_age: '0' });
    const atConsent = await runFlow(ua, request.url, { ...citizenAnswers(runtime), consent: false });
    expect(atConsent.stoppedAt).toBe('consent');
    linger(8);
    const afterConsent = await submit(ua, atConsent.page!);
    expect(afterConsent.leftTo).toBeDefined();
    await expect(exchangeWithMaxAge(platform, request, afterConsent.leftTo!, 0)).resolves.toBeDefined();
  });
});
