import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  citizenAnswers,
  adminToken,
  authorizationRequest,
  callbackOf,
  registerPlatform,
  signIn,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * The provider's session cookie (single sign-on) cannot be planted from a sibling host. oidc-provider's
 * default name, `_session` (+ `_session.sig`, whose signature covers only name=value, not the browser), is
 * a cookie any host under the parent domain can set with `Domain=<parent>; Path=/authorize`: the longer
 * path is sent first and wins, so a victim's every later sign-in would return the attacker's account.
 * The provider names it `__Host-session` on https (host-only, Path=/: no other host can set it; see
 * test/integration/sso/session-cookie-https.test.ts) and `session` on the local runtime's http: a cookie
 * under the old name is nobody's session any more.
 */

let runtime: TestRuntime;
let platform: RelyingParty;

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '会话 Session cookie',
    redirectUris: ['https://session-cookie.example/cb'],
    scopes: ['openid', 'profile'],
    firstParty: true,
  });
});
afterAll(async () => {
  await runtime?.close();
});

/** The session cookie pair `ua` holds (the provider's, host-wide), as `[name, value]`. */
function sessionPair(ua: UserAgent): [string, string][] {
  return ua
    .cookieHeader(new URL('/', runtime.baseUrl))
    .split('; ')
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as [string, string])
    .filter(([name]) => /session(\.sig)?$/.test(name));
}

/** `prompt=none` from a browser sending exactly `cookie`: the callback's code, or its error. */
async function silentSignIn(cookie: string) {
  const request = await authorizationRequest(platform, { prompt: 'none' });
  const { callback } = await callbackOf(
    new UserAgent(runtime.baseUrl, [], (url, init) =>
      fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie } }),
    ),
    request.url,
  );
  return { code: callback.searchParams.get('code'), error: callback.searchParams.get('error') };
}

describe("the provider's session cookie", () => {
  it("is not `_session`: a copy of the attacker's session under the old name signs nobody in", async () => {
    const attacker = new UserAgent(runtime.baseUrl);
    await signIn(platform, attacker, citizenAnswers(runtime));
    const pair = sessionPair(attacker);
    expect(pair).toHaveLength(2);
    const value = (suffix: string) => pair.find(([name]) => name.endsWith(`session${suffix}`))![1];

    // Control: under its own name the copy is the live session (a code at once), which is why on https
    // that name is `__Host-` and no other host can set it.
    const asIs = await silentSignIn(pair.map(([name, v]) => `${name}=${v}`).join('; '));
    expect(asIs.code).toBeTruthy();

    // Under the old name, as a sibling host would plant it: no session, so login_required and no code.
    const planted = await silentSignIn(`_session=${value('')}; _session.sig=${value('.sig')}`);
    expect(planted).toEqual({ code: null, error: 'login_required' });
    expect(pair.map(([name]) => name).sort()).toEqual(['session', 'session.sig']);
  });
});

describe('cookies sent twice or under a look-alike name, at the provider', () => {
  it("signs nobody in when the session cookie comes twice (the attacker's first, as a longer path sends it)", async () => {
    const attacker = new UserAgent(runtime.baseUrl);
    await signIn(platform, attacker, citizenAnswers(runtime));
    const victim = new UserAgent(runtime.baseUrl);
    await signIn(platform, victim, citizenAnswers(runtime));
    const header = (pairs: [string, string][]) => pairs.map(([name, v]) => `${name}=${v}`).join('; ');
    const planted = sessionPair(attacker);
    const own = sessionPair(victim);
    expect(planted).toHaveLength(2);

    expect((await silentSignIn(header(own))).code).toBeTruthy();
    expect(await silentSignIn(`${header(planted)}; ${header(own)}`)).toEqual({
      code: null,
      error: 'login_required',
    });
    // A look-alike name (a Unicode space before it: U+00A0, which a header can carry as one byte) is
    // another cookie, not the session, at the gateway as at the provider.
    const lookAlike = planted.map(([name, v]) => [`\u00a0${name}`, v] as [string, string]);
    expect((await silentSignIn(`${header(lookAlike)}; ${header(own)}`)).code).toBeTruthy();
    expect(await silentSignIn(header(lookAlike))).toEqual({ code: null, error: 'login_required' });
  });

  // Review finding: with "a name sent twice is absent" for every name, a sibling host planting the
  // provider's interaction pointers for a shorter path erased the real ones at every later sign-in of
  // the browser, for good. They point at an interaction that opens only with the browser's binding, so
  // the first copy (the longer path's, the real one) is read.
  it('lets a browser with planted interaction pointers for shorter paths still sign in', async () => {
    const victim = new UserAgent(runtime.baseUrl);
    for (const name of ['_interaction', '_interaction.sig']) victim.plant(name, 'planted', '/interaction');
    for (const name of ['_interaction_resume', '_interaction_resume.sig'])
      victim.plant(name, 'planted', '/authorize');
    const result = await signIn(platform, victim, citizenAnswers(runtime));
    expect(result.claims.sub).toBeTypeOf('string');
  });
});
