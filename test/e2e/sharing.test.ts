import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, phone, screenshot, signInOnLoginPage } from '../support/browser.js';
import { postJson } from '../support/http-api.js';
import { outbox } from '../support/in-memory-sms.js';
import { demoTokens, issueDrivingLicence } from '../integration/verify/helpers.js';
import type { TestRuntime } from '../support/runtime.js';

/**
 * Sharing a licence (授权用证) in Chromium: the demo platform's 办理业务 asks for a driving licence; a
 * level-2 person signs in, is stepped up by SMS, reads the consent page (platform, type, purpose, fields,
 * duration) and allows; the platform shows the licence and the verdict of verifying it; the wallet's
 * 已授权的平台 lists the platform and withdraws it with a form button. In both languages, on a desktop
 * and on a phone (no sideways scrolling), every page axe-clean.
 */

/** Proves the phone on the provider's step-up page (labels in either language). */
async function stepUp(page: Page, runtime: TestRuntime, phoneNumber: string) {
  await page.getByLabel(/手机号|Mobile number/).fill(phoneNumber);
  await page.getByRole('button', { name: /获取验证码|Send code/ }).click();
  await page.locator('#form-notice').waitFor();
  const code = (await outbox(runtime)).filter((m) => m.to === phoneNumber).at(-1)!.code!;
  await page.getByLabel(/短信验证码|Code from the text message/).fill(code);
  await page.getByRole('button', { name: /^(验证|Confirm)$/ }).click();
  await page.waitForLoadState();
}

const overflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe('sharing a licence with a platform, in a browser', () => {
  const suite = browserSuite();

  it.each([
    { lang: 'zh', viewport: undefined, person: 7 },
    { lang: 'en', viewport: phone, person: 8 },
  ] as const)(
    'demo 办理业务 → step-up → consent → verdict → wallet withdraws ($lang)',
    async ({ lang, viewport, person: index }) => {
      const { runtime } = suite;
      const seeded = runtime.credentials.people[index]!;
      const person = { ...seeded, password: `Share-${lang}-2026!` };
      const registered = await postJson(runtime, '/accounts', undefined, {
        consent: true,
        idNumber: person.idNumber,
        name: person.name,
        password: person.password,
        phone: person.phone,
      });
      expect(registered.status, await registered.clone().text()).toBe(201);
      const { issuer } = await demoTokens(runtime);
      await issueDrivingLicence(runtime, issuer, {
        holder: { idNumber: person.idNumber },
        holderName: person.name,
      });

      const { page, context, errors } = await suite.newPage({
        ...(viewport ? { viewport, mobile: true } : {}),
        locale: lang === 'en' ? 'en-GB' : 'zh-CN',
      });
      const en = lang === 'en';
      const checked: Record<string, string[]> = {};
      const name = (label: string) => `sharing-${label}-${lang}${viewport ? '-phone' : ''}`;

      await page.goto(`/demo?lang=${lang}`);
      await page.locator('#demo-business-start').click();
      await signInOnLoginPage(page, person);
      await stepUp(page, runtime, person.phone);

      // The consent page.
      await page.getByRole('heading', { level: 1, name: en ? 'Share your licences' : '授权用证' }).waitFor();
      const consent = await page.locator('main').innerText();
      // The service's own platform is named in the page's language.
      expect(consent).toContain(en ? 'Demo government platform' : '示范政务服务平台');
      expect(consent).toContain(en ? 'Driving licence (机动车驾驶证)' : '机动车驾驶证');
      expect(consent).toContain('演示：办理机动车驾驶证相关业务');
      expect(consent).toContain(en ? 'Permitted vehicle class' : '准驾车型');
      expect(consent).toMatch(en ? /\(30 days\)/ : /（30 天）/);
      checked['consent'] = await axeViolations(page);
      if (viewport) expect(await overflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, name('consent'));
      await page.getByRole('button', { name: en ? 'Allow' : '同意授权' }).click();

      // What the platform received, and the verdict of verifying it.
      await page.locator('#demo-verdict-0').waitFor();
      expect(await page.locator('#demo-verdict-0').innerText()).toMatch(en ? /^Valid/ : /^有效/);
      expect(await page.locator('main').innerText()).toContain(person.name);
      checked['demo result'] = await axeViolations(page);
      if (viewport) expect(await overflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, name('demo-result'));

      // The wallet's 已授权的平台: the single sign-on session is level 3 by now.
      await page.goto('/wallet/authorizations');
      await page.waitForURL(/\/wallet\/authorizations$/);
      const card = page.locator('article.authorization');
      await card.first().waitFor();
      expect(await card.count()).toBe(1);
      const listed = await card.first().innerText();
      expect(listed).toContain(en ? 'Demo government platform' : '示范政务服务平台');
      expect(listed).toContain(en ? 'Driving licence' : '机动车驾驶证');
      checked['authorizations'] = await axeViolations(page);
      if (viewport) expect(await overflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, name('authorizations'));

      await page.getByRole('button', { name: en ? 'Withdraw' : '撤回授权' }).click();
      await page.locator('#authorization-withdrawn').waitFor();
      expect(await page.locator('article.authorization').count()).toBe(0);
      await page.locator('#authorizations-empty').waitFor();
      checked['authorizations (withdrawn)'] = await axeViolations(page);

      await context.close();
      expect(errors).toEqual([]);
      expect(checked).toEqual(Object.fromEntries(Object.keys(checked).map((k) => [k, []])));
    },
  );
});
