import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserSuite, phone, screenshot, screenshotDir, signInClerk } from '../support/browser.js';
import { join } from 'node:path';

/**
 * The newcomer's journey of issue 7, in one browser, against the real local runtime: the citizen shows a
 * QR code from the wallet, a verifier reads a photo of it, the issuer revokes the licence in the console,
 * the verifier sees it revoked, and the demo platform receives a different pairwise `sub` than the wallet.
 * Screenshots land in `test-results/screenshots/journey-*.png`.
 */
describe('the newcomer’s journey, in a browser', () => {
  const suite = browserSuite();

  async function verdictOfUpload(page: Page, file: string): Promise<string | null> {
    await page.goto('/verifier');
    await page.getByLabel('上传二维码图片').setInputFiles(file);
    const verdict = page.locator('#verdict[data-verdict]');
    await verdict.waitFor({ state: 'visible', timeout: 15_000 });
    return verdict.getAttribute('data-verdict');
  }

  // First: the journey below revokes the citizen's driving licence.
  it('on a phone: the wallet shows a QR code and the verifier reads it', async () => {
    const { citizen } = suite.runtime.credentials;
    const { page, context } = await suite.newPage({ viewport: phone, mobile: true });
    await page.goto('/wallet');
    await page
      .getByRole('link', { name: /^登录$/ })
      .first()
      .click();
    await page.getByLabel(/身份证号/).fill(citizen.idNumber);
    await page.getByLabel(/密码/).fill(citizen.password);
    await page.getByRole('button', { name: /^登录$/ }).click();
    await page.waitForURL(/\/wallet$/);
    await screenshot(page, 'journey-phone-wallet');
    await page
      .locator('article.licence-card', { hasText: /驾驶证/ })
      .first()
      .getByRole('link')
      .first()
      .click();
    await page.getByRole('button', { name: '出示二维码' }).click();
    const qr = page.locator('#presentation-qr');
    await qr.waitFor({ state: 'visible' });
    const box = await qr.boundingBox();
    expect(box?.width ?? 0).toBeLessThanOrEqual(phone.width);
    const qrPhoto = join(screenshotDir, 'journey-phone-qr.png');
    await qr.screenshot({ path: qrPhoto });
    await screenshot(page, 'journey-phone-wallet-qr');

    const counter = await suite.newPage({ viewport: phone, mobile: true });
    await expect(verdictOfUpload(counter.page, qrPhoto)).resolves.toBe('valid');
    await screenshot(counter.page, 'journey-phone-verifier');
    await Promise.all([context.close(), counter.context.close()]);
  });

  it('wallet QR → verifier "valid" → issuer revokes → verifier "revoked"; the demo platform’s sub differs', async () => {
    const { citizen } = suite.runtime.credentials;
    const { page, context, errors } = await suite.newPage();

    // The citizen signs in to the wallet; a wrong password first.
    await page.goto('/wallet');
    await page
      .getByRole('link', { name: /^登录$/ })
      .first()
      .click();
    await page.getByLabel(/身份证号/).fill(citizen.idNumber);
    await page.getByLabel(/密码/).fill('not-the-password');
    await page.getByRole('button', { name: /^登录$/ }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/身份证号或密码不正确/);
    await expect(page.getByLabel(/身份证号/).inputValue()).resolves.toBe(citizen.idNumber);
    await page.getByLabel(/密码/).fill(citizen.password);
    await page.getByRole('button', { name: /^登录$/ }).click();
    await page.waitForURL(/\/wallet$/);
    const walletSub = (await page.locator('#wallet-sub').textContent())?.trim();
    expect(walletSub).toMatch(/\S{10,}/);

    // My licences → the driving licence → show its QR code.
    const card = page.locator('article.licence-card', { hasText: /驾驶证/ }).first();
    await card.getByRole('link').first().click();
    await page.waitForURL(/\/wallet\/licences\/[^/]+$/);
    const licenceId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
    await page.getByRole('button', { name: '出示二维码' }).click();
    const qr = page.locator('#presentation-qr');
    await qr.waitFor({ state: 'visible' });
    await expect(page.locator('#qr-countdown').textContent()).resolves.toMatch(/\d/);
    const qrPhoto = join(screenshotDir, 'journey-wallet-qr.png');
    await qr.screenshot({ path: qrPhoto });
    await screenshot(page, 'journey-wallet-qr-page');

    // A verifier uploads the photo of the QR code.
    const counter = await suite.newPage();
    await expect(verdictOfUpload(counter.page, qrPhoto)).resolves.toBe('valid');
    await expect(counter.page.locator('#verdict').textContent()).resolves.toContain('有效');
    await screenshot(counter.page, 'journey-verifier-valid');

    // The issuer revokes the licence in the console.
    const agency = await suite.newPage();
    await signInClerk(agency.page, suite.runtime.credentials.clerk);
    await agency.page.goto(`/console/licences/${encodeURIComponent(licenceId)}`);
    const revokeForm = agency.page.locator('form', {
      has: agency.page.getByRole('button', { name: '吊销' }),
    });
    await revokeForm.getByLabel('原因').selectOption('violation');
    await revokeForm.getByLabel('补充说明').fill('驾驶证被依法吊销（演示）');
    await revokeForm.getByLabel('我确认吊销此证照').check();
    await revokeForm.getByRole('button', { name: '吊销' }).click();
    await expect(agency.page.getByText('已吊销').first().isVisible()).resolves.toBe(true);
    await screenshot(agency.page, 'journey-console-revoked');

    // The same photo now reads "revoked".
    await expect(verdictOfUpload(counter.page, qrPhoto)).resolves.toBe('revoked');
    await expect(counter.page.locator('#verdict').textContent()).resolves.toContain('已吊销');
    await screenshot(counter.page, 'journey-verifier-revoked');

    // The demo platform, in the citizen's browser (single sign-on: consent only), gets another sub.
    await page.goto('/demo');
    await page.getByRole('button', { name: '使用统一身份认证登录' }).click();
    await page.getByRole('button', { name: /同意/ }).click();
    await page.waitForURL(/\/demo$/);
    const demoSub = (await page.locator('#demo-sub').textContent())?.trim();
    expect(demoSub).toMatch(/\S{10,}/);
    expect(demoSub).not.toBe(walletSub);
    await screenshot(page, 'journey-demo-platform');

    // Script errors and CSP violations, not the refusals the pages expect (the 401 of the wrong password,
    // the 404 that tells the verifier it has every status list).
    const unexpected = [...errors, ...counter.errors, ...agency.errors].filter(
      (e) => !e.includes('Failed to load resource'),
    );
    expect(unexpected).toEqual([]);
    await Promise.all([context.close(), counter.context.close(), agency.context.close()]);
  });
});
