import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  authorizationRequest,
  registerPlatform,
  runFlow,
  signIn,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/**
 * The unified identity's pages in the site's layout: Simplified Chinese unless the visitor chose English
 * (`?lang=en`, remembered in the `lang` cookie), the language switch leading to the same step, the site's
 * stylesheet under a CSP without inline styles or scripts, whose `form-action` lets the forms end at the
 * platform's redirect URI.
 */

let runtime: TestRuntime;
let platform: RelyingParty;

const citizen = () => runtime.credentials.citizen;
const platformOrigin = 'https://platform-lang.example';

beforeAll(async () => {
  runtime = await startTestRuntime();
  platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '语言平台 Language platform',
    redirectUris: [`${platformOrigin}/cb`],
    postLogoutRedirectUris: [`${platformOrigin}/signed-out`],
    scopes: ['openid', 'profile'],
  });
});
afterAll(() => runtime?.close());

/** A page as the browser got it, headers included. */
async function get(ua: UserAgent, url: URL | string) {
  const response = await ua.request(url);
  return { status: response.status, headers: response.headers, html: await response.text() };
}

/** The sign-in page of a new authorization request, in a new browser. */
async function loginPage() {
  const ua = new UserAgent(runtime.baseUrl);
  const { url } = await authorizationRequest(platform);
  const outcome = await runFlow(ua, url);
  expect(outcome.stoppedAt).toBe('login');
  return { ua, page: outcome.page! };
}

/** The href of the language switch (`<a class="lang">`). */
function langSwitch(html: string): string | undefined {
  return /<a\b[^>]*class="lang"[^>]*\bhref="([^"]*)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
}

describe('the sign-in page', () => {
  it('is in Simplified Chinese by default, in the site layout without navigation, inline style or script (only the passkey and scan-code timer files)', async () => {
    const { ua, page } = await loginPage();
    const { headers, html } = await get(ua, page.url);
    expect(html).toMatch(/<html lang="zh-CN">/);
    expect(html).toMatch(/<label for="username">身份证号<\/label>/);
    expect(html).toMatch(/<label for="password">密码<\/label>/);
    expect(html).toMatch(/<button type="submit">登录<\/button>/);
    expect(html).not.toContain('Resident ID number');
    expect(html).toContain('<link rel="stylesheet" href="/assets/app.css" />');
    expect(html).not.toMatch(/<style|\sstyle=|<nav/);
    expect(html.match(/<script[^>]*>/g)).toEqual([
      '<script type="module" src="/assets/passkey-sign-in.js">',
      '<script type="module" src="/assets/scan-login-timer.js">',
    ]);
    expect(langSwitch(html)).toBe(`${page.url.pathname}?lang=en`);
    expect(headers.get('content-security-policy')).toBe(
      `default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' ${platformOrigin}; frame-ancestors 'none'; base-uri 'none'; script-src 'self'; connect-src 'self'`,
    );
  });

  it('is in English with ?lang=en on the interaction URL, the same step, and remembers the choice', async () => {
    const { ua, page } = await loginPage();
    const english = new URL(page.url);
    english.searchParams.set('lang', 'en');
    const response = await ua.request(english);
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie().some((c) => /^lang=en;/.test(c))).toBe(true);
    const html = await response.text();
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toMatch(/<label for="username">Resident ID number<\/label>/);
    expect(html).toMatch(/<label for="password">Password<\/label>/);
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
    expect(html).not.toMatch(/身份证号|密码/);
    // The same step: the same form, posting to the same action.
    expect(parseForm(html)).toEqual(parseForm(page.html));
    expect(langSwitch(html)).toBe(`${page.url.pathname}?lang=zh`);

    // The form post carries no query; the cookie keeps the answer in English, the English twin of
    // "身份证号或密码不正确".
    const form = parseForm(html)!;
    const wrong = await ua.request(new URL(form.action, page.url), {
      form: { username: citizen().idNumber, password: 'not-the-password' },
    });
    expect(wrong.status).toBe(401);
    const answer = await wrong.text();
    expect(answer).toMatch(/<html lang="en">/);
    expect(answer).toMatch(/role="alert"[^>]*>\s*The ID number or password is not correct\.\s*</);
    // From a page answering a post, the switch leads to the step's own page.
    expect(langSwitch(answer)).toBe(`${page.url.pathname}?lang=zh`);

    // And back to Chinese.
    const chinese = await get(ua, langSwitch(answer)!);
    expect(chinese.status).toBe(200);
    expect(chinese.html).toMatch(/<label for="username">身份证号<\/label>/);
    expect(parseForm(chinese.html)?.action).toBe(form.action);
  });
});

describe('the other pages of the unified identity', () => {
  it('shows the consent page in the chosen language', async () => {
    const { ua, page } = await loginPage();
    await ua.request(`${page.url.pathname}?lang=en`);
    const outcome = await runFlow(ua, page.url, {
      username: citizen().idNumber,
      password: citizen().password,
      consent: false,
    });
    expect(outcome.stoppedAt).toBe('consent');
    expect(outcome.page!.html).toMatch(/<button type="submit">Allow<\/button>/);
    expect(outcome.page!.html).not.toContain('同意');
  });

  it('shows an error page in the language asked for, its switch repeating the same request', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const url = `/authorize?client_id=no-such-client&response_type=code&scope=openid&lang=en`;
    const { status, headers, html } = await get(ua, url);
    expect(status).toBe(400);
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toContain('Something went wrong');
    expect(langSwitch(html)).toBe(url.replace('lang=en', 'lang=zh'));
    expect(headers.get('content-security-policy')).toContain("form-action 'self';");
    expect((await get(ua, langSwitch(html)!)).html).toContain('出错了');
  });

  it('asks to sign out in the chosen language, the switch keeping the logout request', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { tokens } = await signIn(
      platform,
      ua,
      { username: citizen().idNumber, password: citizen().password },
      {},
    );
    const query = new URLSearchParams({
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: `${platformOrigin}/signed-out`,
      state: 'logout-state',
    });
    const chinese = await get(ua, `/session/end?${query}`);
    expect(chinese.status).toBe(200);
    expect(chinese.html).toMatch(
      /<button type="submit" form="op.logoutForm" name="logout" value="yes">退出</,
    );
    expect(chinese.headers.get('content-security-policy')).toContain(`form-action 'self' ${platformOrigin};`);
    // The switch repeats the request naming the platform by `client_id`, not by its ID token: the page
    // carries no ID token, and following the switch puts none in one more URL.
    const switchTo = new URL(langSwitch(chinese.html)!, runtime.baseUrl);
    const { id_token_hint: _hint, ...rest } = Object.fromEntries(query);
    expect(Object.fromEntries(switchTo.searchParams)).toEqual({
      ...rest,
      client_id: platform.clientId,
      lang: 'en',
    });
    expect(chinese.html).not.toContain(tokens.id_token!);
    expect(chinese.html).not.toMatch(/eyJ[\w-]+\.eyJ/);

    const english = await get(ua, switchTo);
    expect(english.status).toBe(200);
    expect(english.html).toMatch(/<html lang="en">/);
    expect(english.html).toMatch(/name="logout" value="yes">Sign out</);

    // The confirmation still ends at the platform.
    const form = parseForm(english.html, 'op.logoutForm')!;
    const confirmed = await ua.request(new URL(form.action, runtime.baseUrl), {
      form: { ...form.fields, logout: 'yes' },
    });
    expect(confirmed.headers.get('location')).toMatch(new RegExp(`^${platformOrigin}/signed-out\\?state=`));
  });

  it('repeats a logout request with a logout hint in its switch without the hint or the ID token', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { tokens } = await signIn(
      platform,
      ua,
      { username: citizen().idNumber, password: citizen().password },
      {},
    );
    const query = new URLSearchParams({
      id_token_hint: tokens.id_token!,
      logout_hint: citizen().idNumber,
      post_logout_redirect_uri: `${platformOrigin}/signed-out`,
    });
    const { status, html } = await get(ua, `/session/end?${query}`);
    expect(status).toBe(200);
    expect(html).not.toContain(tokens.id_token!);
    expect(html).not.toContain(citizen().idNumber);
    const switchTo = new URL(langSwitch(html)!, runtime.baseUrl);
    expect(Object.fromEntries(switchTo.searchParams)).toEqual({
      client_id: platform.clientId,
      post_logout_redirect_uri: `${platformOrigin}/signed-out`,
      lang: 'en',
    });
    // The switched page still returns to the platform: `client_id` keeps its post-logout URI valid.
    const english = await get(ua, switchTo);
    expect(english.status).toBe(200);
    expect(english.headers.get('content-security-policy')).toContain(`form-action 'self' ${platformOrigin};`);
  });

  it('shows a logout error without the ID token or the logout hint, in the page or its switch', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { tokens } = await signIn(
      platform,
      ua,
      { username: citizen().idNumber, password: citizen().password },
      {},
    );
    // An unregistered post-logout URI: the provider's error page, not the logout page.
    const query = new URLSearchParams({
      id_token_hint: tokens.id_token!,
      logout_hint: citizen().idNumber,
      post_logout_redirect_uri: 'https://evil.example/x',
    });
    const { status, html } = await get(ua, `/session/end?${query}`);
    expect(status).toBe(400);
    expect(html).not.toContain(tokens.id_token!);
    expect(html).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(html).not.toContain(citizen().idNumber);
    // The switch repeats the request naming the platform by `client_id`: the same error in English.
    const switchTo = new URL(langSwitch(html)!, runtime.baseUrl);
    expect(Object.fromEntries(switchTo.searchParams)).toEqual({
      post_logout_redirect_uri: 'https://evil.example/x',
      client_id: platform.clientId,
      lang: 'en',
    });
    const english = await get(ua, switchTo);
    expect(english.status).toBe(400);
    expect(english.html).toContain('Something went wrong');
  });

  it('shows an authorization error without the login hint, in the page or its switch', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const query = new URLSearchParams({
      client_id: platform.clientId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'https://evil.example/cb',
      login_hint: citizen().idNumber,
    });
    const { status, html } = await get(ua, `/authorize?${query}`);
    expect(status).toBe(400);
    expect(html).not.toContain(citizen().idNumber);
    const switchTo = new URL(langSwitch(html)!, runtime.baseUrl);
    const { login_hint: _hint, ...rest } = Object.fromEntries(query);
    expect(Object.fromEntries(switchTo.searchParams)).toEqual({ ...rest, lang: 'en' });
  });

  it('shows an authorization error without a request object or a login hint token, in the page or its switch', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    // An unsigned request object (request objects are not supported here) carrying the person's ID
    // number as its login hint, and a login hint token: neither is a hint by name, both carry one. The
    // unregistered redirect URI makes the provider show its error rather than send it to the platform.
    const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const requestObject = `${encode({ alg: 'none' })}.${encode({ login_hint: citizen().idNumber })}.`;
    const hintToken = `hint-token-${citizen().idNumber}`;
    const query = new URLSearchParams({
      client_id: platform.clientId,
      response_type: 'code',
      scope: 'openid',
      state: 'auth-state',
      redirect_uri: 'https://evil.example/cb',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      request: requestObject,
      login_hint_token: hintToken,
    });
    const { status, html } = await get(ua, `/authorize?${query}`);
    expect(status).toBe(400);
    expect(html).not.toContain(requestObject);
    expect(html).not.toContain(encode({ login_hint: citizen().idNumber }));
    expect(html).not.toContain(hintToken);
    expect(html).not.toContain(citizen().idNumber);
    // The switch keeps the client and the request's shape, nothing else.
    const switchTo = new URL(langSwitch(html)!, runtime.baseUrl);
    expect(Object.fromEntries(switchTo.searchParams)).toEqual({
      client_id: platform.clientId,
      response_type: 'code',
      scope: 'openid',
      state: 'auth-state',
      redirect_uri: 'https://evil.example/cb',
      lang: 'en',
    });
    // Followed, it is an error page again (in English), never a sign-in.
    const english = await get(ua, switchTo);
    expect(english.status).toBe(400);
    expect(english.html).toMatch(/<html lang="en">/);
    expect(english.html).toContain('Something went wrong');
  });

  it('shows an authorization error for an unknown client without a request object, in its switch', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const query = new URLSearchParams({
      client_id: 'no-such-client',
      response_type: 'code',
      scope: 'openid',
      request: `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ id_token_hint: 'x' })).toString('base64url')}.`,
      login_hint_token: `hint-token-${citizen().idNumber}`,
    });
    const { status, html } = await get(ua, `/authorize?${query}`);
    expect(status).toBe(400);
    expect(html).not.toContain(citizen().idNumber);
    expect(html).not.toMatch(/eyJ[\w-]+\./);
    const switchTo = new URL(langSwitch(html)!, runtime.baseUrl);
    expect(Object.fromEntries(switchTo.searchParams)).toEqual({
      client_id: 'no-such-client',
      response_type: 'code',
      scope: 'openid',
      lang: 'en',
    });
  });

  it('shows the logged-out page with a switch naming only the platform', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const query = new URLSearchParams({
      client_id: platform.clientId,
      login_hint: citizen().idNumber,
      note: citizen().idNumber,
    });
    const { status, html } = await get(ua, `/session/end/success?${query}`);
    expect(status).toBe(200);
    expect(html).not.toContain(citizen().idNumber);
    const switchTo = new URL(langSwitch(html)!, runtime.baseUrl);
    expect(switchTo.pathname).toBe('/session/end/success');
    expect(Object.fromEntries(switchTo.searchParams)).toEqual({ client_id: platform.clientId, lang: 'en' });
    const english = await get(ua, switchTo);
    expect(english.status).toBe(200);
    expect(english.html).toMatch(/<html lang="en">/);
  });

  it('serves the stylesheet these pages link, from the site itself', async () => {
    const response = await fetch(`${runtime.baseUrl}/assets/app.css`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/css/);
  });
});
