import { describe, expect, it } from 'vitest';
import { browserSuite, phone, screenshot, signInOnLoginPage } from '../support/browser.js';

describe('the demo platform in a browser', () => {
  const suite = browserSuite();

  it('signs in through the unified identity with consent, shows what it received, and signs out', async () => {
    const { page, errors, context } = await suite.newPage();
    // The provider's own pages link no icon, so the browser asks for /favicon.ico: not this page's fault.
    await context.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
    await page.goto('/demo');
    await page.getByLabel(/身份证号码（idcard）/).check();
    await page.getByRole('button', { name: '使用统一身份认证登录' }).click();
    await page.waitForURL(/\/interaction\//);
    await signInOnLoginPage(page, suite.runtime.credentials.citizen);
    // The demo platform is not first-party: the person allows it to see the ID number, a consent of its
    // own (a checkbox, unticked until ticked).
    await page.locator('#consent-idcard').check();
    await page.getByRole('button', { name: /同意|Allow/ }).click();
    await page.waitForURL(`${suite.runtime.baseUrl}/demo`);

    const sub = (await page.locator('#demo-sub').textContent())!.trim();
    expect(sub.length).toBeGreaterThan(15);
    await expect(page.locator('#demo-acr').textContent()).resolves.not.toBe('—');
    const idcard = page.getByRole('region', { name: /idcard/ });
    await expect(idcard.textContent()).resolves.toContain(suite.runtime.credentials.citizen.idNumber);
    const profile = page.getByRole('region', { name: /profile/ });
    await expect(profile.textContent()).resolves.toContain(suite.runtime.credentials.citizen.name);
    await screenshot(page, 'demo-platform');

    await page.getByRole('button', { name: '退出登录' }).click();
    await page.waitForURL(/\/session\/end/);
    await page.getByRole('button', { name: /^\s*退出\s*Sign out\s*$|^退出$/ }).click();
    await page.waitForURL(`${suite.runtime.baseUrl}/demo`);
    await expect(page.getByRole('button', { name: '使用统一身份认证登录' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('#demo-sub').count()).resolves.toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  // Review R35 F3: the provider's own auto-submit pages now carry a policy that allows their one inline
  // script by its hash only; the browser must still run it.
  it('follows the provider’s own auto-submit pages under their policy', async () => {
    const { page, errors, context } = await suite.newPage();
    await context.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
    const base = suite.runtime.baseUrl;
    // GET /session/end without a provider session: the page posts itself to the confirmation.
    const confirm = page.waitForRequest(
      (r) => r.url() === `${base}/session/end/confirm` && r.method() === 'POST',
    );
    const ended = await page.goto('/session/end');
    expect(ended?.headers()['content-security-policy']).toMatch(/script-src 'sha256-/);
    await confirm;
    await page.waitForURL(/\/session\/end\/success/);
    expect(errors).toEqual([]);

    // A form_post answer (here the provider's refusal of the request) posts itself to the callback.
    const query = new URLSearchParams({
      client_id: 'demo-platform',
      response_type: 'code',
      redirect_uri: `${base}/demo/callback`,
      scope: 'openid',
      response_mode: 'form_post',
      prompt: 'none',
    });
    const callback = page.waitForRequest((r) => r.url() === `${base}/demo/callback` && r.method() === 'POST');
    const posted = await page.goto(`/authorize?${query.toString()}`);
    expect(posted?.headers()['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect((await callback).postData()).toMatch(/(^|&)error=/);
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
    await context.close();
  });

  it('reads well on a phone, in English too', async () => {
    const { page, errors, context } = await suite.newPage({
      viewport: phone,
      mobile: true,
    });
    await page.goto('/demo?lang=en');
    await expect(
      page.getByRole('button', { name: 'Sign in with the unified identity' }).isVisible(),
    ).resolves.toBe(true);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
