import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, launchBrowser, newPage, screenshot, signInOnLoginPage } from '../support/browser.js';
import { newIdNumber } from '../support/in-memory-identity.js';
import { CarrierOfNumbers, outbox } from '../support/in-memory-sms.js';
import { authorizationRequest, demoPlatform } from '../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { registerPerson } from '../support/sharing-flows.js';

/**
 * The step-up and reset pages in Chromium, with no script of theirs: a platform asks for level 3, the
 * person signs in with the password, asks for a code (获取验证码), types it and reaches the platform; the
 * reset page from the sign-in page's 忘记密码 link. Each page passes axe.
 */
describe('the SMS pages in a browser', () => {
  const carrier = new CarrierOfNumbers();
  let runtime: TestRuntime;
  let browser: Browser;
  const person = {
    idNumber: newIdNumber(),
    name: '张浏览',
    phone: '+8613912340001',
    password: 'browser-pass-1',
  };

  beforeAll(async () => {
    [runtime, browser] = await Promise.all([
      startTestRuntime(undefined, {}, { carrier: (operator) => carrier.using(operator.lookupMac) }),
      launchBrowser(),
    ]);
    await registerPerson(runtime, carrier, person);
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.close();
  });

  it('steps up by SMS and passes axe on each page', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    const checked: Record<string, string[]> = {};
    const platform = await demoPlatform(runtime);
    const request = await authorizationRequest(platform, { acr_values: 'urn:elicence:loa:3' });
    await page.goto(request.url.href);
    await signInOnLoginPage(page, person);
    await page.getByRole('button', { name: '获取验证码' }).waitFor();
    checked['step-up'] = await axeViolations(page);
    await page.getByLabel('手机号').fill(person.phone);
    await page.getByRole('button', { name: '获取验证码' }).click();
    await page.locator('#form-notice').waitFor();
    checked['step-up (code sent)'] = await axeViolations(page);
    await screenshot(page, 'step-up');
    const code = (await outbox(runtime)).filter((m) => m.to === person.phone).at(-1)!.code!;
    await page.getByLabel('短信验证码').fill(code === '000000' ? '000001' : '000000');
    await page.getByRole('button', { name: '验证', exact: true }).click();
    await page.locator('#form-error').waitFor();
    checked['step-up (wrong code)'] = await axeViolations(page);
    await page.getByLabel('短信验证码').fill(code);
    await page.getByRole('button', { name: '验证', exact: true }).click();
    await page.getByRole('button', { name: /同意/ }).click();
    await page.waitForURL(/\/demo\/callback\?code=/);
    await context.close();
    expect(checked).toEqual(Object.fromEntries(Object.keys(checked).map((k) => [k, []])));
  });

  it('a wrong code: the page again, its error summary focused, the phone kept and the code not', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    const platform = await demoPlatform(runtime);
    const request = await authorizationRequest(platform, { acr_values: 'urn:elicence:loa:3' });
    await page.goto(request.url.href);
    await signInOnLoginPage(page, person);
    await page.getByLabel('手机号').fill('139 1234 0001');
    await page.getByLabel('短信验证码').fill('999999');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/stepup')),
      page.getByRole('button', { name: '验证', exact: true }).click(),
    ]);
    expect(answer.status()).toBe(400);
    await page.locator('#form-error').waitFor();
    // autofocus is applied at the next rendering frame, not at load: polled.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id ?? '')).toBe('form-error');
    expect(await page.locator('#form-error a[href="#code"]').textContent()).toContain(
      '短信验证码：验证码不正确或已失效',
    );
    expect(await page.locator('#code-error').textContent()).toContain('验证码不正确或已失效');
    await expect(page.getByLabel('手机号').inputValue()).resolves.toBe('139 1234 0001');
    await expect(page.getByLabel('短信验证码').inputValue()).resolves.toBe('');
    await expect(page.getByLabel('短信验证码').getAttribute('aria-invalid')).resolves.toBe('true');
    await context.close();
  });

  it('the reset page, linked from the sign-in page, passes axe', async () => {
    const { page, context } = await newPage(browser, runtime.baseUrl);
    const checked: Record<string, string[]> = {};
    const request = await authorizationRequest(await demoPlatform(runtime));
    await page.goto(request.url.href);
    await page.getByRole('link', { name: '忘记密码' }).click();
    await page.getByRole('button', { name: '获取验证码' }).waitFor();
    checked['reset'] = await axeViolations(page);
    // The rule said up front, to everyone: its answers never tell whether an account exists (R16 H1).
    expect(await page.locator('.lead').textContent()).toContain('验证码只会发送到已验证的手机号');
    await screenshot(page, 'password-reset');
    await page.getByLabel('身份证号').fill(person.idNumber);
    await page.getByLabel('手机号').fill('12345');
    await page.getByRole('button', { name: '获取验证码' }).click();
    await page.locator('#form-error').waitFor();
    checked['reset (error)'] = await axeViolations(page);
    await context.close();
    expect(checked).toEqual(Object.fromEntries(Object.keys(checked).map((k) => [k, []])));
  });
});
