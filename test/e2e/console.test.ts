import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, phone, screenshot, signInOnLoginPage } from '../support/browser.js';

describe('the issuer console in a browser', () => {
  const suite = browserSuite();

  /** The demo agency's clerk signs in through the unified identity, acting for the agency. */
  async function signIn(page: Page): Promise<void> {
    await page.goto('/console');
    await page.getByRole('link', { name: '通过统一身份认证登录' }).click();
    await page.waitForLoadState();
    const { clerk } = suite.runtime.credentials;
    await signInOnLoginPage(page, clerk, clerk.creditCode);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('已签发证照');
  }

  it('signs a clerk in with their own identity, issues a licence from the generated form, lists it and revokes it', async () => {
    const { page, errors, context } = await suite.newPage();
    await page.goto('/console');
    // No shared secret to type: the agency's client-secret form is off (CONSOLE_CLIENT_SECRET_SIGN_IN).
    await expect(page.getByLabel('客户端密钥').count()).resolves.toBe(0);
    // Keyboard only: the clerk's sign-in is reachable and leads to the unified identity.
    await page.getByRole('link', { name: '通过统一身份认证登录' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.pathname.startsWith('/interaction/'));
    const { clerk } = suite.runtime.credentials;
    await signInOnLoginPage(page, clerk, clerk.creditCode);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('已签发证照');
    // The bar names the agency and the clerk (by reference), never the clerk's number.
    await expect(page.locator('.console-who').textContent()).resolves.toContain('经办人编号');
    await expect(page.content()).resolves.not.toContain(clerk.idNumber);

    await page.getByRole('link', { name: '签发新证照' }).first().click();
    await page.getByLabel(/机动车驾驶证/).check();
    await page.getByRole('button', { name: '下一步' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('机动车驾驶证');

    await page.getByLabel(/持证人公民身份号码/).fill(suite.runtime.credentials.citizen.idNumber);
    await page.getByLabel(/持证人姓名/).fill(suite.runtime.credentials.citizen.name);
    await page.getByLabel(/准驾车型/).selectOption('B1');
    // Days are typed as text in the page's format (not type="date", which shows the browser's locale).
    const firstIssued = page.getByLabel(/初次领证日期/);
    await expect(firstIssued.evaluate((input: HTMLInputElement) => input.type)).resolves.toBe('text');
    await expect(firstIssued.getAttribute('placeholder')).resolves.toBe('年-月-日');
    await expect(firstIssued.getAttribute('inputmode')).resolves.toBe('numeric');
    await page.getByLabel(/档案编号/).fill('110100246810');
    // A day that is none: the form again (400), the error beside the field and in the summary under its
    // label, the typed text kept to correct, nothing else lost.
    await firstIssued.fill('2012/2/30');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: '下一步：核对' }).click(),
    ]);
    expect(refused.status()).toBe(400);
    await page.waitForLoadState();
    await expect(page.locator('#field-fields-firstIssuedOn-error').textContent()).resolves.toBe(
      '请按“年-月-日”填写有效日期，如 2026-03-05。',
    );
    await expect(page.locator('#issue-error-summary').innerText()).resolves.toContain(
      '初次领证日期：请按“年-月-日”填写有效日期',
    );
    await expect(firstIssued.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(firstIssued.inputValue()).resolves.toBe('2012/2/30');
    await expect(page.getByLabel(/档案编号/).inputValue()).resolves.toBe('110100246810');
    await expect(axeViolations(page)).resolves.toEqual([]);
    errors.length = 0; // the 400 is reported by Chromium as a failed load
    // Typed with 年月日: read as the day, reviewed and signed as 2012-07-01.
    await page.getByLabel(/持证人公民身份号码/).fill(suite.runtime.credentials.citizen.idNumber);
    await firstIssued.fill('2012年7月1日');
    await page.getByRole('button', { name: '下一步：核对' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('核对证照信息');
    await expect(page.locator('#issue-review').textContent()).resolves.toContain('2012-07-01');
    await expect(page.locator('#issue-review').textContent()).resolves.not.toContain('2012年7月1日');
    await page.getByRole('button', { name: '确认签发' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('证照已签发');
    const id = (await page.locator('#licence-id').textContent())!.trim();
    expect(id).toMatch(/^1\.2\.156\.3005\.2\.003\./);
    await expect(page.locator('main').textContent()).resolves.toContain('2012-07-01');
    await expect(page.locator('img[src^="data:image/svg+xml;base64,"]').isVisible()).resolves.toBe(true);

    await page.getByRole('link', { name: '已签发证照' }).click();
    const row = page.getByRole('row').filter({ hasText: id });
    await expect(row.count()).resolves.toBe(1);
    await expect(row.textContent()).resolves.toContain('有效');
    await row.locator('a.licence-number').click();

    const revoke = page.getByRole('region', { name: '吊销证照' });
    await revoke.getByLabel('原因').selectOption('improperly-obtained');
    await revoke.getByLabel('补充说明').fill('以欺骗手段取得驾驶证');
    await revoke.getByLabel('我确认吊销此证照').check();
    await revoke.getByRole('button', { name: '吊销' }).click();
    await expect.poll(() => page.locator('#licence-status').textContent()).toContain('已吊销');
    await expect(page.getByRole('button', { name: '暂停' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: '恢复' }).count()).resolves.toBe(0);
    await screenshot(page, 'console-licence');

    await page.goto('/console?status=revoked');
    await expect(page.getByRole('row').filter({ hasText: id }).textContent()).resolves.toContain('已吊销');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('fits a phone: the list reads as cards without sideways scrolling', async () => {
    const { page, errors, context } = await suite.newPage({
      viewport: phone,
      mobile: true,
    });
    await signIn(page);
    await expect(page.getByRole('row').count()).resolves.toBeGreaterThan(1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'console-list-phone');
    // Signing out ends the single sign-on too (the provider asks), then says so on the console.
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.getByRole('button', { name: '退出', exact: true }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('已退出登录');
    expect(errors).toEqual([]);
    await context.close();
  });
});
