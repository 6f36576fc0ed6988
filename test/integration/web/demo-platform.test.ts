import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  callbackOf,
  registerPlatform,
  runFlow,
  signIn,
  citizenAnswers,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/** The text of the element with `attribute` in `html` (a `<code>` the page marks for tests and people). */
function textOf(html: string, attribute: string): string | undefined {
  const match = new RegExp(`<code ${attribute}>([^<]*)</code>`).exec(html);
  return match?.[1]?.replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

/** The markup of the claim group of `scope`. */
function group(html: string, scope: string): string {
  const start = html.indexOf(`id="demo-scope-${scope}"`);
  if (start < 0) return '';
  const end = html.indexOf('</section>', start);
  return html.slice(start, end);
}

describe('the demo platform over HTTP', () => {
  let runtime: TestRuntime;

  beforeAll(async () => {
    runtime = await startTestRuntime();
  });
  afterAll(async () => {
    await runtime?.close();
  });

  /** Signs in on the demo platform with `scopes`, through login and consent; the page it lands on. */
  async function demoSignIn(ua: UserAgent, scopes: string[], answers: { entity?: string } = {}) {
    const query = scopes.map((s) => `scope=${s}`).join('&');
    // The ID number is a consent of its own (a box unticked by default): ticked when asked for here.
    const { callback, steps } = await callbackOf(ua, `/demo/login?${query}`, {
      ...citizenAnswers(runtime),
      idNumber: scopes.includes('idcard'),
      ...answers,
    });
    expect(callback.pathname).toBe('/demo/callback');
    const back = await ua.request(callback);
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/demo');
    const page = await ua.request('/demo');
    expect(page.status).toBe(200);
    return { html: await page.text(), steps };
  }

  it('signs in through consent and shows its pairwise sub and the claims of each scope', async () => {
    const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
    const signedOut = await (await ua.request('/demo')).text();
    expect(signedOut).toContain('使用统一身份认证登录');
    expect(signedOut).toContain('action="/demo/login"');

    const { html, steps } = await demoSignIn(ua, ['profile', 'idcard']);
    // Not first-party: the person is asked before anything is shared.
    expect(steps).toEqual(['login', 'consent']);
    const sub = textOf(html, 'id="demo-sub"');
    expect(sub).toMatch(/^[\w-]{16,}$/);
    expect(html).toContain('<code id="demo-acr">');
    // Beside the platform's raw `acr`, the level's name people read (shared/web/pages/assurance-words.ts).
    const acr = textOf(html, 'id="demo-acr"') ?? '';
    const names = { 1: '一级（本人声明）', 2: '二级（实名）', 3: '三级（实名并核验本人）' } as const;
    const level = Number(/^urn:elicence:loa:([123])$/.exec(acr)?.[1]) as keyof typeof names;
    expect(/<span id="demo-acr-name">([^<]*)<\/span>/.exec(html)?.[1]).toBe(names[level]);
    // The claims table too: the acr row says the level's name after its value.
    expect(group(html, 'openid')).toMatch(new RegExp(`data-claim="acr">${acr}</code>\\s*${names[level]}`));
    expect(group(html, 'openid')).toContain('data-claim="sub"');
    expect(group(html, 'profile')).toContain(`>${runtime.credentials.citizen.name}</code>`);
    // The ID number came from userinfo: the ID token does not carry it.
    expect(textOf(group(html, 'idcard'), 'data-claim="id_number"')).toBe(
      runtime.credentials.citizen.idNumber,
    );
    expect(group(html, 'idcard')).toContain('<td>用户信息端点</td>');
    expect(group(html, 'idcard')).not.toContain('ID 令牌');
    expect(html).toContain('只在用户信息端点提供，从不写入 ID 令牌');
    expect(group(html, 'entity')).toBe('');
    expect(group(html, 'token')).toContain('data-claim="iss"');
    expect(html).toContain('openid profile idcard');

    // Another platform, same person, same SSO session: another subject.
    const other = await registerPlatform(runtime, await adminToken(runtime), {
      name: 'Another platform',
      redirectUris: ['https://other-platform.example/callback'],
      scopes: ['openid', 'profile'],
    });
    const { claims } = await signIn(other, ua, { consent: true });
    expect(claims.sub).toBeTruthy();
    expect(claims.sub).not.toBe(sub);

    // The same platform again: the same subject.
    const second = await demoSignIn(ua, []);
    expect(textOf(second.html, 'id="demo-sub"')).toBe(sub);
    expect(group(second.html, 'idcard')).toBe('');
  });

  it('shows the entity, its credit code and the acting person when signing in for an entity', async () => {
    const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
    const { html, steps } = await demoSignIn(ua, ['profile', 'entity'], {
      entity: runtime.credentials.entity.creditCode,
    });
    expect(steps).toContain('entity');
    const entity = group(html, 'entity');
    expect(textOf(entity, 'data-claim="credit_code"')).toBe(runtime.credentials.entity.creditCode);
    expect(textOf(entity, 'data-claim="subject_type"')).toBe('legal_person');
    expect(entity).toContain('data-claim="act"');
  });

  it('signs out of the platform and of the unified identity (RP-initiated logout)', async () => {
    const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
    await demoSignIn(ua, ['profile', 'idcard']);

    const out = await ua.request('/demo/logout', { form: {} });
    expect(out.status).toBe(303);
    const endSession = new URL(out.headers.get('location')!);
    expect(endSession.pathname).toBe('/session/end');
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${runtime.baseUrl}/demo`);
    // The platform is named by its client id: an ID token in this URL would stay in the browser's
    // history and in every proxy's log.
    expect(endSession.searchParams.get('client_id')).toBe(runtime.credentials.platform.clientId);
    expect(endSession.searchParams.has('id_token_hint')).toBe(false);
    expect(out.headers.get('location')).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(ua.cookieHeader(new URL(runtime.baseUrl))).not.toMatch(/(^|; )demo=/);

    const confirm = await ua.navigate(endSession);
    expect(confirm.page!.html).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(confirm.page!.html).not.toContain(runtime.credentials.citizen.idNumber);
    const form = parseForm(confirm.page!.html, 'op.logoutForm');
    expect(form).toBeDefined();
    const done = await ua.navigate(new URL(form!.action, runtime.baseUrl), {
      form: { ...form!.fields, logout: 'yes' },
    });
    expect(done.page?.url.pathname).toBe('/demo');
    expect(done.page?.html).toContain('使用统一身份认证登录');
    expect(done.page?.html).not.toContain('id="demo-sub"');

    // The provider's session ended too: signing in again asks for the password.
    const again = await runFlow(ua, '/demo/login?scope=profile');
    expect(again.stoppedAt).toBe('login');
  });

  it('refuses a callback that no sign-in in this browser started, and a cross-site logout', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const stray = await ua.request('/demo/callback?code=abc&state=xyz');
    expect(stray.status).toBe(400);
    expect(await stray.text()).toContain('登录已过期');

    // An error answer is no different: with no sign-in under way, it answers nothing.
    const denied = await ua.request('/demo/callback?error=access_denied&state=xyz');
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain('登录已过期');

    const crossSite = await fetch(`${runtime.baseUrl}/demo/logout`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
      redirect: 'manual',
    });
    expect(crossSite.status).toBe(403);
  });

  // Security review: the error was handled before the state was compared, so any site could send a
  // visitor to /demo/callback?error=x and cancel the sign-in they had under way.
  it('takes an error answer only for the sign-in under way in this browser (its state)', async () => {
    const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
    const begin = async () => {
      const started = await ua.request('/demo/login?scope=profile');
      expect(started.status).toBe(303);
      const authorize = new URL(started.headers.get('location')!);
      expect(ua.cookieHeader(new URL(runtime.baseUrl))).toMatch(/(^|; )demo-login=/);
      return { authorize, state: authorize.searchParams.get('state')! };
    };

    const { authorize, state } = await begin();
    for (const forged of ['?error=access_denied', `?error=access_denied&state=${state}x`]) {
      const answer = await ua.request(`/demo/callback${forged}`);
      expect(answer.status, forged).toBe(400);
      expect(await answer.text()).toContain('登录已过期');
      // The sign-in under way is still there…
      expect(ua.cookieHeader(new URL(runtime.baseUrl))).toMatch(/(^|; )demo-login=/);
    }
    // …and completes.
    const { callback } = await callbackOf(ua, authorize, citizenAnswers(runtime));
    const back = await ua.request(callback);
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe('/demo');

    // The provider's error for this browser's own sign-in ends it, as before.
    const again = await begin();
    const refused = await ua.request(`/demo/callback?error=access_denied&state=${again.state}`);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('登录未完成');
    expect(ua.cookieHeader(new URL(runtime.baseUrl))).not.toMatch(/(^|; )demo-login=/);
  });
});
