import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  authorizationRequest,
  discover,
  registerPlatform,
  runFlow,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * The service's own clients (the demo platform, the wallet) are named in the page's language on the
 * sign-in page; a registered platform keeps the name it registered, in whatever language that is.
 */
describe('client names on the sign-in page', () => {
  let runtime: TestRuntime;
  let demo: RelyingParty;
  let registered: RelyingParty;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    const { clientId, clientSecret } = runtime.credentials.platform;
    demo = {
      clientId,
      clientSecret,
      redirectUri: `${runtime.baseUrl}/demo/callback`,
      config: await discover(runtime.baseUrl, { clientId, clientSecret }),
    };
    registered = await registerPlatform(runtime, await adminToken(runtime), {
      name: 'Harbour Services Online',
      redirectUris: ['https://harbour.example/cb'],
      scopes: ['openid', 'profile'],
    });
  });
  afterAll(() => runtime?.close());

  async function signInPage(rp: RelyingParty, lang: 'zh' | 'en'): Promise<string> {
    const ua = new UserAgent(runtime.baseUrl);
    const { url } = await authorizationRequest(rp);
    const outcome = await runFlow(ua, url);
    expect(outcome.stoppedAt).toBe('login');
    const page = new URL(outcome.page!.url);
    page.searchParams.set('lang', lang);
    const response = await ua.request(page);
    expect(response.status).toBe(200);
    return response.text();
  }

  it('names the demo platform in Chinese on a Chinese page and in English on an English one', async () => {
    const chinese = await signInPage(demo, 'zh');
    expect(chinese).toContain('继续前往 示范政务服务平台');
    expect(chinese).not.toContain('Demo government platform');
    const english = await signInPage(demo, 'en');
    expect(english).toContain('to continue to Demo government platform');
    expect(english).not.toContain('示范政务服务平台');
  });

  it('keeps a registered platform’s own name in both languages', async () => {
    expect(await signInPage(registered, 'zh')).toContain('继续前往 Harbour Services Online');
    expect(await signInPage(registered, 'en')).toContain('to continue to Harbour Services Online');
  });
});
