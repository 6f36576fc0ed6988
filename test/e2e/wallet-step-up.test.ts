import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, screenshot, signInToWallet } from '../support/browser.js';
import { postJson } from '../support/http-api.js';
import { outbox } from '../support/in-memory-sms.js';
import { demoTokens, issueDrivingLicence } from '../integration/verify/helpers.js';

/**
 * The wallet's way up in Chromium: a level-2 person signed in to 我的证照 sees no licences and the button
 * 提升认证等级, clicks it, proves the phone by SMS on the provider's step-up page (no password again, the
 * single sign-on session is live) and is back on the wallet seeing the licence. The pages pass axe.
 */
describe('raising the level from the wallet in a browser', () => {
  const suite = browserSuite();

  it('steps up from the licence list and comes back with the licence', async () => {
    const { runtime } = suite;
    const seeded = runtime.credentials.people[6]!;
    const person = { ...seeded, password: 'Wallet-Step-Up-2026' };
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      idNumber: person.idNumber,
      name: person.name,
      password: person.password,
    });
    expect(registered.status).toBe(201);
    const { issuer } = await demoTokens(runtime);
    await issueDrivingLicence(runtime, issuer, {
      holder: { idNumber: person.idNumber },
      holderName: person.name,
    });

    const { page, context, errors } = await suite.newPage();
    const checked: Record<string, string[]> = {};
    await signInToWallet(page, person);
    await page.locator('#wallet-step-up').waitFor();
    expect(await page.locator('.licence-card').count()).toBe(0);
    checked['wallet (level 2)'] = await axeViolations(page);
    await screenshot(page, 'wallet-step-up');

    await page.getByRole('link', { name: '提升认证等级' }).click();
    await page.getByRole('button', { name: '获取验证码' }).waitFor();
    expect(await page.locator('input[name="password"]').count()).toBe(0);
    await page.getByLabel('手机号').fill(person.phone);
    await page.getByRole('button', { name: '获取验证码' }).click();
    await page.locator('#form-notice').waitFor();
    const code = (await outbox(runtime)).filter((m) => m.to === person.phone).at(-1)!.code!;
    await page.getByLabel('短信验证码').fill(code);
    await page.getByRole('button', { name: '验证', exact: true }).click();

    await page.waitForURL(/\/wallet$/);
    await page.locator('.licence-card').first().waitFor();
    expect(await page.locator('#wallet-step-up').count()).toBe(0);
    checked['wallet (level 3)'] = await axeViolations(page);
    await context.close();
    expect(errors).toEqual([]);
    expect(checked).toEqual(Object.fromEntries(Object.keys(checked).map((k) => [k, []])));
  });
});
