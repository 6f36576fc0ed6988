import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { adminToken, authorizationRequest, registerPlatform } from '../support/oidc-flows.js';
import {
  axeViolations,
  browserSuite,
  phone,
  screenshot,
  signInOnLoginPage,
  signInToWallet,
} from '../support/browser.js';

/**
 * The finish of the pages as their users meet them: no stray bullets, no developer words on a citizen's
 * page, a quiet 退出登录, a 404 page for a mistyped address (while programs keep their JSON), the focus
 * on the password after a wrong one, a sign-in card that fills a phone, a consent page that says who is
 * signed in, and the verifier's technical terms explained.
 */
describe('page polish', () => {
  const suite = browserSuite();

  const noSideways = (page: Page) =>
    expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
      phone.width,
    );

  it('shows the landing page cards without list bullets, and no developer jargon there', async () => {
    const { page, context } = await suite.newPage();
    await page.goto('/');
    const bullets = await page
      .locator('ul.cards > li')
      .evaluateAll((items) => items.map((item) => getComputedStyle(item).listStyleType));
    expect(bullets.length).toBeGreaterThan(2);
    expect(new Set(bullets)).toEqual(new Set(['none']));
    const cards = (await page.locator('ul.cards').textContent()) ?? '';
    for (const jargon of ['JSON Schema', ' sub', 'acr']) expect(cards).not.toContain(jargon);
    await context.close();
  });

  it('answers an unknown address with a page in the site’s layout and language; programs keep JSON', async () => {
    const { page, context } = await suite.newPage();
    const answer = await page.goto('/no/such/page');
    expect(answer?.status()).toBe(404);
    expect(answer?.headers()['content-type']).toMatch(/^text\/html/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('找不到此页面');
    await expect(page.locator('header.site nav').count()).resolves.toBe(1);
    await expect(page.getByRole('link', { name: '返回首页' }).count()).resolves.toBe(1);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await page.goto('/no/such/page?lang=en');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Page not found');
    await screenshot(page, 'not-found-en');
    await context.close();

    const base = suite.runtime.baseUrl;
    // A program (no text/html) gets API Gateway's body, as before; an API path stays JSON even for a browser.
    for (const [path, accept] of [
      ['/no/such/page', 'application/json'],
      ['/licences/x/no-such-thing', 'text/html'],
      ['/admin/issuers', 'text/html,application/xhtml+xml'],
    ] as const) {
      const response = await fetch(`${base}${path}`, { headers: { accept } });
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toMatch(/^application\/json/);
    }
    // An API route's own 404 is untouched: problem+json from its function.
    const missing = await fetch(`${base}/issuers/iss_nosuch`, { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('puts the focus on the password after a wrong one, and the sign-in card fills a phone', async () => {
    const { page, context } = await suite.newPage({ viewport: phone, mobile: true });
    await page.goto('/wallet/login');
    await signInOnLoginPage(page, {
      idNumber: suite.runtime.credentials.citizen.idNumber,
      password: 'wrong-one',
    });
    await expect(page.getByRole('alert').textContent()).resolves.toContain('身份证号或密码不正确');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('password');
    await expect(page.locator('#password').getAttribute('aria-describedby')).resolves.toBe('form-error');
    // The step's card spans the phone's width (no grey margins beside it) and reaches its foot.
    const box = await page.locator('main.step').boundingBox();
    expect(box?.x).toBe(0);
    expect(Math.round(box?.width ?? 0)).toBe(phone.width);
    const bottom = await page.evaluate(() => {
      const main = document.querySelector('main.step');
      return main ? main.getBoundingClientRect().bottom + window.scrollY : 0;
    });
    expect(bottom).toBeGreaterThanOrEqual(phone.height - 1);
    await noSideways(page);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'sign-in-phone-wrong-password');
    await context.close();
  });

  it('keeps 退出登录 quiet and the wallet’s identifier explained, not shown as "sub"', async () => {
    const { page, context } = await suite.newPage();
    await signInToWallet(page, suite.runtime.credentials.citizen);
    const signOut = page.getByRole('button', { name: '退出登录' });
    const [signOutBg, brandBg] = await Promise.all([
      signOut.evaluate((element) => getComputedStyle(element).backgroundColor),
      page.locator('header.site').evaluate((element) => getComputedStyle(element).backgroundColor),
    ]);
    expect(signOutBg).not.toBe(brandBg);
    expect(signOutBg).toBe('rgba(0, 0, 0, 0)');
    // Last of the actions, not first.
    const actions = await page
      .locator('.wallet-identity .wallet-actions')
      .evaluate((element) => Array.from(element.querySelectorAll('a, button'), (node) => node.id));
    expect(actions.at(-1)).toBe('wallet-sign-out');
    const visible = await page.locator('main').innerText();
    expect(visible).not.toContain('(sub)');
    await expect(page.locator('#wallet-sub').isVisible()).resolves.toBe(false);
    await page.getByText('技术信息').click();
    await expect(page.locator('#wallet-sub').isVisible()).resolves.toBe(true);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await context.close();
  });

  it('says on the consent page who is signed in, and offers to switch account, in both languages', async () => {
    const platform = await registerPlatform(suite.runtime, await adminToken(suite.runtime), {
      name: '外部平台',
      redirectUris: ['https://platform.example/cb'],
      scopes: ['openid', 'profile'],
    });
    const { url } = await authorizationRequest(platform);
    const { page, context } = await suite.newPage({ viewport: phone, mobile: true });
    await page.goto(url.href);
    await signInOnLoginPage(page, suite.runtime.credentials.citizen);
    await expect(page.locator('#consent-who').textContent()).resolves.toContain(
      `当前登录：${suite.runtime.credentials.citizen.name}`,
    );
    await expect(page.locator('#consent-switch').getAttribute('href')).resolves.toBe('/session/end');
    await expect(axeViolations(page)).resolves.toEqual([]);
    await page.getByRole('link', { name: 'English' }).click();
    await expect(page.locator('#consent-who').textContent()).resolves.toContain('Signed in as');
    await expect(page.locator('#consent-switch').textContent()).resolves.toContain(
      'sign in with another account',
    );
    await noSideways(page);
    await screenshot(page, 'consent-phone-en');
    await context.close();
  });

  it('explains 信任列表 and 状态列表 in plain words on the verifier, in both languages', async () => {
    const { page, context } = await suite.newPage();
    await page.goto('/verifier');
    await page.getByText('什么是信任列表和状态列表？').click();
    await expect(page.locator('#verifier-terms').textContent()).resolves.toContain('可信发证机关的名单');
    await expect(axeViolations(page)).resolves.toEqual([]);
    await page.goto('/verifier?lang=en');
    await expect(page.locator('#verifier-terms summary').textContent()).resolves.toContain(
      'What are the trust list and the status lists?',
    );
    await context.close();
  });
});
