import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, phone, screenshot, signInToWallet } from '../support/browser.js';

describe('scan-to-login (扫码登录) in Chromium, with two browser contexts', () => {
  const suite = browserSuite();

  it(
    'signs the desktop browser in to the demo platform at level 3 once the phone’s wallet confirms',
    { timeout: 90_000 },
    async () => {
      // The phone: the wallet, signed in as the demo citizen (level 3).
      const phoneSide = await suite.newPage({ viewport: phone, mobile: true });
      await signInToWallet(phoneSide.page, suite.runtime.credentials.citizen);

      // The desktop: the demo platform's sign-in page shows the QR code and its link.
      const desk = await suite.newPage();
      await desk.context.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
      await desk.page.goto('/demo');
      await desk.page.getByRole('button', { name: '使用统一身份认证登录' }).click();
      await desk.page.waitForURL(/\/interaction\/[^/]+$/);
      const qr = desk.page.getByRole('img', { name: '扫码登录二维码' });
      await expect(qr.isVisible()).resolves.toBe(true);
      const link = (await desk.page.locator('#scan-login-link').getAttribute('href'))!;
      expect(link).toMatch(new RegExp(`^${suite.runtime.baseUrl}/scan-login/[A-Za-z0-9_-]{43}$`));
      expect(await axeViolations(desk.page)).toEqual([]);
      await screenshot(desk.page, 'scan-login-sign-in');

      // Not yet confirmed: the held request runs out, and the page offers to wait again.
      await desk.page.getByRole('link', { name: '已扫码，继续' }).click();
      await desk.page.waitForURL(/\/interaction\/[^/]+\/scan$/);
      await expect(desk.page.locator('#scan-login-waiting').isVisible()).resolves.toBe(true);
      expect(await axeViolations(desk.page)).toEqual([]);

      // The phone opens the link: which platform asks, from which browser; then 确认登录.
      await phoneSide.page.goto(link);
      await expect(phoneSide.page.locator('#scan-login-client').textContent()).resolves.toMatch(/\S/);
      await expect(phoneSide.page.locator('#scan-login-request').textContent()).resolves.toMatch(/Chrome/);
      expect(await axeViolations(phoneSide.page)).toEqual([]);
      await screenshot(phoneSide.page, 'scan-login-wallet-confirm');
      await phoneSide.page.getByRole('button', { name: '确认登录' }).click();
      await expect(phoneSide.page.locator('#scan-login-done').textContent()).resolves.toContain('已确认登录');

      // Waiting again names whom the desktop would be signed in as (masked), and asks (review R39 L1).
      await desk.page.getByRole('link', { name: '继续等待' }).click();
      const name = Array.from(suite.runtime.credentials.citizen.name);
      const masked =
        name.length > 2 ? `${name[0]}${'*'.repeat(name.length - 2)}${name.at(-1)}` : `${name[0]}*`;
      await expect(desk.page.locator('#scan-login-who').textContent({ timeout: 20_000 })).resolves.toContain(
        masked,
      );
      await expect(desk.page.getByRole('button', { name: '不是我' }).isVisible()).resolves.toBe(true);
      expect(await axeViolations(desk.page)).toEqual([]);
      await screenshot(desk.page, 'scan-login-who');
      // An answer that no longer names the code and person shown (its binding gone, as from a page left
      // open over a changed code): asked again, saying so, and that page too passes axe (review R41 L1).
      await desk.page.locator('input[name="shown"]').evaluate((input) => input.remove());
      await desk.page.getByRole('button', { name: '继续登录' }).click();
      await expect(
        desk.page.locator('#scan-login-who-changed').textContent({ timeout: 20_000 }),
      ).resolves.toContain('二维码已更新');
      await expect(desk.page.locator('#scan-login-who').textContent()).resolves.toContain(masked);
      expect(await axeViolations(desk.page)).toEqual([]);
      // Continuing completes the sign-in; the person allows the demo platform, and is in.
      await desk.page.getByRole('button', { name: '继续登录' }).click();
      await desk.page.getByRole('button', { name: /同意|Allow/ }).click({ timeout: 20_000 });
      await desk.page.waitForURL(`${suite.runtime.baseUrl}/demo`);
      await expect(desk.page.locator('#demo-acr').textContent()).resolves.toBe('urn:elicence:loa:3');
      await screenshot(desk.page, 'scan-login-signed-in');

      // The one error: the "asked again" page's own answer, 409.
      expect(desk.errors).toEqual([expect.stringContaining('status of 409')]);
      expect(phoneSide.errors).toEqual([]);
      await desk.context.close();
      await phoneSide.context.close();
    },
  );
});
