import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackOf, citizenAnswers } from '../../support/oidc-flows.js';
import { startHttpsTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * On https (ISSUER_URL) the provider's session cookie is `__Host-session` with its `__Host-session.sig`:
 * Secure, Path=/ and no Domain, as the prefix requires, so a browser accepts it only from this host and no
 * sibling host can plant or shadow it (the plantable `_session` of oidc-provider's default is gone; see
 * test/integration/sso/session-cookie.test.ts for the attack). The runtime listens on plain http with an
 * https ISSUER_URL, as behind API Gateway; the browser here sends to the listener what it addresses to the
 * public origin.
 */

let runtime: TestRuntime & { listener: string };

beforeAll(async () => {
  runtime = await startHttpsTestRuntime();
});
afterAll(async () => {
  await runtime?.close();
});

/** A browser of the public origin whose requests reach the listener. */
const browser = (cookie?: string) =>
  new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`], (url, init) => {
    const headers = { ...(init?.headers as Record<string, string>), ...(cookie ? { cookie } : {}) };
    return fetch(String(url).replace(runtime.baseUrl, runtime.listener), { ...init, headers });
  });

/** An authorization request of the demo platform (PKCE S256), built by hand: openid-client needs https. */
function authorizeUrl(params: Record<string, string> = {}): URL {
  const { platform } = runtime.credentials;
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL('/authorize', runtime.baseUrl);
  for (const [key, value] of Object.entries({
    client_id: platform.clientId,
    redirect_uri: platform.redirectUri,
    response_type: 'code',
    scope: 'openid profile',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    ...params,
  }))
    url.searchParams.set(key, value);
  return url;
}

describe("the provider's session cookie on https", () => {
  it('is __Host-session (+ .sig): Secure, Path=/, no Domain; the old name signs nobody in', async () => {
    const ua = browser();
    const seen: string[] = [];
    const watched = new UserAgent(ua.baseUrl, ua.callbacks, async (url, init) => {
      const response = await ua.fetcher(url, init);
      seen.push(...response.headers.getSetCookie());
      return response;
    });
    const signedIn = await callbackOf(watched, authorizeUrl(), citizenAnswers(runtime));
    expect(signedIn.callback.searchParams.get('code')).toBeTruthy();

    const session = seen.filter((line) => /^[^=]*session(\.sig)?=/.test(line.split(';')[0]!));
    expect(session.length).toBeGreaterThanOrEqual(2);
    for (const line of session) {
      expect(line).toMatch(/^__Host-session(\.sig)?=/);
      expect(line).toMatch(/; path=\/(;|$)/i);
      expect(line).toMatch(/; secure/i);
      expect(line).toMatch(/; httponly/i);
      expect(line).not.toMatch(/; domain=/i);
    }

    const held = watched
      .cookieHeader(new URL('/authorize', runtime.baseUrl))
      .split('; ')
      .filter((pair) => pair.startsWith('__Host-session'));
    expect(held).toHaveLength(2);
    const value = (name: string) => held.find((pair) => pair.startsWith(`${name}=`))!.slice(name.length + 1);

    // The pair as this host set it is the session (only this host can set it in a browser) ...
    const again = await callbackOf(browser(held.join('; ')), authorizeUrl({ prompt: 'none' }));
    expect(again.callback.searchParams.get('code')).toBeTruthy();
    // ... and under the old, plantable name it is nobody's.
    const planted = await callbackOf(
      browser(`_session=${value('__Host-session')}; _session.sig=${value('__Host-session.sig')}`),
      authorizeUrl({ prompt: 'none' }),
    );
    expect(planted.callback.searchParams.get('error')).toBe('login_required');
    expect(planted.callback.searchParams.has('code')).toBe(false);
  });
});
