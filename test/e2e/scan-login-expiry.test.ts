import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite } from '../support/browser.js';

/**
 * Review R62-4: the sign-in page's scan-to-login code died after its life (`SCAN_LOGIN_SECONDS`) with no
 * visible sign, the QR code still shown. A countdown (role=timer) now runs, a polite status says shortly
 * before the end that the code is about to expire, and at the end the code gives way to 二维码已过期 and a
 * 刷新二维码 button that brings a new code. The page says the configured life, not a fixed 120 s.
 */
describe('the scan-to-login code’s countdown (review R62-4)', () => {
  const suite = browserSuite({ SCAN_LOGIN_SECONDS: '17' });

  it(
    'counts down, says politely when the end is near, replaces the expired code with 二维码已过期 and 刷新二维码, which shows a new code',
    { timeout: 90_000 },
    async () => {
      const { page, context, errors } = await suite.newPage();
      await page.goto('/demo');
      await page.getByRole('button', { name: '使用统一身份认证登录' }).click();
      await page.waitForURL(/\/interaction\/[^/]+$/);
      const signInUrl = page.url();
      await page.locator('#scan-login-qr').waitFor();
      const link = await page.locator('#scan-login-link').getAttribute('href');
      expect(await page.locator('#scan-login-life').innerText()).toBe('二维码有效期 17 秒，只能使用一次。');
      expect(await page.getByRole('timer').innerText()).toMatch(/^二维码剩余 1[5-7] 秒$/);
      // The status (polite) is quiet at first, then says once that the end is near.
      const status = page.locator('#scan-login-status');
      expect(await status.getAttribute('role')).toBe('status');
      await expect.poll(() => status.innerText(), { timeout: 10_000 }).toBe('二维码将在 15 秒后过期。');

      await page.locator('#scan-login-expired').waitFor({ timeout: 30_000 });
      expect(await page.locator('#scan-login-expired').innerText()).toBe('二维码已过期');
      expect(await page.locator('#scan-login-qr').isVisible()).toBe(false);
      expect(await page.locator('#scan-login-link').isVisible()).toBe(false);
      expect(await page.getByRole('timer').count()).toBe(0);
      expect(await page.locator('#scan-login-status').innerText()).toBe(
        '二维码已过期。请点“刷新二维码”获取新的二维码。',
      );
      expect(await axeViolations(page)).toEqual([]);

      await page.getByRole('button', { name: '刷新二维码' }).click();
      await page.waitForLoadState();
      await page.locator('#scan-login-qr').waitFor();
      expect(page.url()).toBe(signInUrl);
      expect(await page.locator('#scan-login-link').getAttribute('href')).not.toBe(link);
      expect(await page.getByRole('timer').isVisible()).toBe(true);
      expect(errors).toEqual([]);
      await context.close();
    },
  );
});
