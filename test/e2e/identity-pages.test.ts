import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, authorizationRequest, registerPlatform } from '../support/oidc-flows.js';
import { launchBrowser, newPage, screenshot, signInOnLoginPage } from '../support/browser.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';

/**
 * The unified identity's pages in Chromium, which enforces their CSP: the site's stylesheet applies with
 * no inline style, the language switch shows the same step in English, and the forms' redirects reach a
 * platform on another origin (`form-action` governs the redirects after a form post too).
 */
describe('the unified identity pages in a browser', () => {
  let runtime: TestRuntime;
  let browser: Browser;
  /** A platform's callback on another origin than the service's. */
  let elsewhere: Server;
  let elsewhereOrigin: string;

  beforeAll(async () => {
    elsewhere = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('platform callback');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    elsewhereOrigin = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    [runtime, browser] = await Promise.all([startTestRuntime(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.close();
    await new Promise((resolve) => elsewhere?.close(resolve));
  });

  it('shows the sign-in page styled by app.css, switches it to English, and signs in to the wallet', async () => {
    const { page, errors, context } = await newPage(browser, runtime.baseUrl);
    page.setDefaultTimeout(8000);
    await page.goto('/wallet');
    await page.getByRole('link', { name: '登录', exact: true }).click();
    await page.waitForURL(/\/interaction\/[^/?]+$/);
    const step = new URL(page.url()).pathname;
    await expect(page.getByLabel('身份证号').isVisible()).resolves.toBe(true);
    // The site's header colour (--brand of app.css): the stylesheet loaded under style-src 'self'.
    await expect(
      page.locator('header.site').evaluate((element) => getComputedStyle(element).backgroundColor),
    ).resolves.toBe('rgb(20, 64, 110)');
    await expect(page.locator('header.site nav').count()).resolves.toBe(0);

    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(`**${step}?lang=en`);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign in');
    await screenshot(page, 'identity-sign-in-en');
    await signInOnLoginPage(page, runtime.credentials.citizen);
    await page.waitForURL('**/wallet');
    // Console errors include CSP violations.
    expect(errors.filter((error) => !error.includes('favicon'))).toEqual([]);
    await context.close();
  });

  it('lets the consent form end at a platform on another origin', async () => {
    const platform = await registerPlatform(runtime, await adminToken(runtime), {
      name: '外部平台 Platform elsewhere',
      redirectUris: [`${elsewhereOrigin}/cb`],
      scopes: ['openid', 'profile'],
    });
    const { url, state } = await authorizationRequest(platform);
    const { page, errors, context } = await newPage(browser, runtime.baseUrl);
    page.setDefaultTimeout(8000);
    await page.goto(url.href);
    await signInOnLoginPage(page, runtime.credentials.citizen);
    await page.getByRole('button', { name: '同意' }).click();
    await page.waitForURL(`${elsewhereOrigin}/cb?**`);
    const callback = new URL(page.url());
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('code')).toMatch(/\S{20,}/);
    expect(errors.filter((error) => !error.includes('favicon'))).toEqual([]);
    await context.close();
  });
});
