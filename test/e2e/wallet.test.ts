import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presentationPrefix } from '../../packages/verifier/src/presentation-format.js';
import { launchBrowser, newPage, phone, screenshot, signInOnLoginPage } from '../support/browser.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';

// jsqr is CommonJS with an `exports.default`: under NodeNext the default import is `module.exports`.
const jsQR = jsqr.default;

/** The text of the QR code an element shows, read from its pixels as a scanner would. */
async function decodeQr(element: Locator): Promise<string | undefined> {
  const png = PNG.sync.read(await element.screenshot());
  return jsQR(Uint8ClampedArray.from(png.data), png.width, png.height)?.data;
}

/** `m:ss` → seconds. */
async function countdownSeconds(page: Page): Promise<number> {
  const text = (await page.locator('#qr-countdown').textContent()) ?? '';
  const match = /^(\d+):(\d{2})$/.exec(text.trim());
  if (!match) throw new Error(`not a countdown: ${text}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

describe('the wallet in a browser', () => {
  let runtime: TestRuntime;
  let browser: Browser;

  beforeAll(async () => {
    [runtime, browser] = await Promise.all([startTestRuntime(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.close();
  });

  it('signs a citizen in, shows the driving licence as a refreshing QR code, and signs out', async () => {
    const { page, errors, context } = await newPage(browser, runtime.baseUrl);
    page.setDefaultTimeout(8000);
    await page.goto('/wallet');
    await page.getByRole('link', { name: '登录', exact: true }).click();
    await signInOnLoginPage(page, runtime.credentials.citizen);
    await page.waitForURL('**/wallet');
    // The provider's pages link no icon, so Chromium's own /favicon.ico request 404s there (reported);
    // from here on every page is the wallet's, and must load without a console error.
    errors.length = 0;
    await expect(page.locator('#wallet-name').textContent()).resolves.toContain(
      runtime.credentials.citizen.name,
    );
    await expect(page.locator('#wallet-sub').textContent()).resolves.toMatch(/^\S{10,}$/);
    const card = page.locator('article.licence-card').filter({ hasText: '机动车驾驶证' });
    await expect(card.count()).resolves.toBe(1);
    await expect(card.locator('.badge').textContent()).resolves.toBe('有效');
    await expect(page.content()).resolves.not.toContain(runtime.credentials.citizen.idNumber);

    await card.getByRole('link').click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('机动车驾驶证');
    await expect(page.getByLabel('准驾车型').isChecked()).resolves.toBe(false);
    await page.getByLabel('准驾车型').check();
    await page.getByRole('button', { name: '出示二维码' }).click();
    await page.waitForURL(/\/qr\?disclose=vehicleClass$/);

    const qr = page.locator('#presentation-qr img');
    await expect(qr.isVisible()).resolves.toBe(true);
    const box = await qr.boundingBox();
    expect(box?.width).toBeGreaterThanOrEqual(300);
    await expect(page.locator('#disclosed-fields').textContent()).resolves.toContain('准驾车型');
    const first = await countdownSeconds(page);
    expect(first).toBeGreaterThan(100);
    expect(first).toBeLessThanOrEqual(120);
    await expect.poll(() => countdownSeconds(page), { timeout: 5000 }).toBeLessThan(first);
    await screenshot(page, 'wallet-qr');
    const text = await decodeQr(qr);
    expect(text?.startsWith(presentationPrefix)).toBe(true);

    // The script refreshes once the code is within the lead time of its expiry: make that now.
    const section = page.locator('#wallet-qr');
    await section.evaluate((element) => (element.dataset.refreshLead = '600'));
    await expect.poll(() => section.getAttribute('data-refreshes'), { timeout: 10_000 }).toBe('1');
    await section.evaluate((element) => (element.dataset.refreshLead = '15'));
    await expect(page.locator('#qr-announce').textContent()).resolves.toBe('二维码已刷新。');
    expect(await countdownSeconds(page)).toBeGreaterThan(110);
    const refreshed = await decodeQr(qr);
    expect(refreshed?.startsWith(presentationPrefix)).toBe(true);
    expect(refreshed).not.toBe(text);
    await expect(page.locator('#qr-problem').isHidden()).resolves.toBe(true);

    expect(errors).toEqual([]);
    await page.goto('/wallet');
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.waitForURL(/\/session\/end/);
    // The provider asks whether to end the unified sign-in too.
    await page.locator('button[name="logout"][value="yes"]').click();
    await page.waitForURL('**/wallet');
    await expect(page.locator('#wallet-sign-in').isVisible()).resolves.toBe(true);
    await expect(page.locator('#wallet-sub').count()).resolves.toBe(0);
    // Signed out at the provider too: the wallet's pages ask for the password again.
    await page.goto('/wallet/licences/x');
    await expect(page.getByLabel(/密码/).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('signs in as the demo entity’s agent and shows its business licence', async () => {
    const { page, errors, context } = await newPage(browser, runtime.baseUrl);
    page.setDefaultTimeout(8000);
    await page.goto('/wallet');
    await page.getByRole('link', { name: '以企业经办人身份登录' }).click();
    await signInOnLoginPage(page, runtime.credentials.citizen, runtime.credentials.entity.creditCode);
    await page.waitForURL('**/wallet');
    errors.length = 0; // the provider's pages' favicon 404, as above
    await expect(page.locator('#wallet-entity').textContent()).resolves.toContain(
      runtime.credentials.entity.name,
    );
    const card = page.locator('article.licence-card').filter({ hasText: '营业执照' });
    await expect(card.count()).resolves.toBe(1);
    await card.getByRole('link').click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('营业执照');
    // The legal representative's number appears only masked; its lookup key is not offered at all.
    await expect(page.locator('input[value="legalRepresentativeLookupKey"]').count()).resolves.toBe(0);
    await expect(page.content()).resolves.not.toContain(runtime.credentials.citizen.idNumber);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('fits a phone: the QR code is large and nothing scrolls sideways', async () => {
    const { page, errors, context } = await newPage(browser, runtime.baseUrl, {
      viewport: phone,
      mobile: true,
    });
    await page.goto('/wallet');
    await page.getByRole('link', { name: '登录', exact: true }).click();
    await signInOnLoginPage(page, runtime.credentials.citizen);
    await page.waitForURL('**/wallet');
    errors.length = 0; // the provider's pages' favicon 404, as above
    await page.locator('article.licence-card a').first().click();
    await page.getByRole('button', { name: '出示二维码' }).click();
    const qr = page.locator('#presentation-qr img');
    await expect(qr.isVisible()).resolves.toBe(true);
    const box = await qr.boundingBox();
    expect(box?.width).toBeGreaterThanOrEqual(300);
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(phone.width);
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
      phone.width,
    );
    await screenshot(page, 'wallet-phone');
    await expect(decodeQr(qr)).resolves.toMatch(new RegExp(`^${presentationPrefix}`));
    expect(errors).toEqual([]);
    await context.close();
  });

  it('keeps the screen awake while the QR code shows, and asks again when the page is seen again', async () => {
    const { page, errors, context } = await newPage(browser, runtime.baseUrl, {
      viewport: phone,
      mobile: true,
    });
    // The screen wake locks the page asks for, recorded (a headless browser has no screen to keep on).
    await context.addInitScript(() => {
      const asked: string[] = [];
      Object.assign(window, { wakeLocksAsked: asked });
      Object.defineProperty(Navigator.prototype, 'wakeLock', {
        configurable: true,
        get: () => ({
          request: (type: string) => {
            asked.push(type);
            return Promise.resolve({ released: false, release: () => Promise.resolve() });
          },
        }),
      });
    });
    const asked = () =>
      page.evaluate(() => (window as unknown as { wakeLocksAsked: string[] }).wakeLocksAsked);
    await page.goto('/wallet');
    await page.getByRole('link', { name: '登录', exact: true }).click();
    await signInOnLoginPage(page, runtime.credentials.citizen);
    await page.waitForURL('**/wallet');
    errors.length = 0; // the provider's pages' favicon 404, as above
    expect(await asked()).toEqual([]);
    await page.locator('article.licence-card a').first().click();
    await page.getByRole('button', { name: '出示二维码' }).click();
    await page.locator('#presentation-qr img').waitFor();
    await expect.poll(asked).toEqual(['screen']);
    // Hidden (the browser lets the lock go), then seen again: asked again.
    await page.evaluate(() => {
      const show = (state: string) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
        document.dispatchEvent(new Event('visibilitychange'));
      };
      show('hidden');
      show('visible');
    });
    await expect.poll(asked).toEqual(['screen', 'screen']);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('keeps the ID number and says what is wrong after a wrong password', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    await page.goto('/wallet');
    await page.getByRole('link', { name: '登录', exact: true }).click();
    await signInOnLoginPage(page, {
      idNumber: runtime.credentials.citizen.idNumber,
      password: 'not-the-password',
    });
    await expect(page.getByRole('alert').textContent()).resolves.toContain('身份证号或密码不正确');
    await expect(page.getByLabel(/身份证号/).inputValue()).resolves.toBe(
      runtime.credentials.citizen.idNumber,
    );
    await expect(page.getByLabel(/密码/).inputValue()).resolves.toBe('');
    await context.close();
  });

  it('answers keyboard users: the sign-in buttons are reachable and visibly focused', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    await page.goto('/wallet?lang=en');
    const signIn = page.getByRole('link', { name: 'Sign in', exact: true });
    await signIn.focus();
    await expect(signIn.evaluate((element) => getComputedStyle(element).outlineStyle)).resolves.toBe('solid');
    await expect(
      page.getByRole('link', { name: 'Sign in as an enterprise agent' }).isVisible(),
    ).resolves.toBe(true);
    await context.close();
  });
});
