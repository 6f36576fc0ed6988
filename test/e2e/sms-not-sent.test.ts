import type { ServerResponse } from 'node:http';
import type { Page } from 'playwright-core';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../infra/local/demo-data.js';
import { smsCodePolicy } from '../../shared/identity/sms-codes.js';
import { axeViolations, browserSuite, screenshot, signInOnLoginPage } from '../support/browser.js';
import { startFakeHttpServer, type FakeHttpServer } from '../support/fake-http-server.js';
import { openAccount } from '../support/sharing-flows.js';
import { authorizationRequest, demoPlatform } from '../support/oidc-flows.js';

/**
 * What a citizen sees in Chromium when the SMS provider refuses the code: the step-up page (the one the
 * wallet's 提升认证等级 and a platform asking for level 3 both lead to) answers 获取验证码 exactly as it
 * answers a phone the carrier does not confirm, with the way to try again, never an error page; and the
 * refused code was never kept. The runtime's senders use the real SNS client (`SMS_SENDER=sns`) against a
 * fake SNS that refuses every `Publish`.
 */
describe('a code the SMS provider refused, in a browser', () => {
  let sns: FakeHttpServer;
  const env: Record<string, string> = { SMS_SENDER: 'sns' };
  beforeAll(async () => {
    sns = await startFakeHttpServer();
    sns.answer((_: unknown, res: ServerResponse) => {
      res
        .writeHead(400, { 'content-type': 'text/xml' })
        .end(
          '<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>req-refused</RequestId></ErrorResponse>',
        );
    });
    env.AWS_ENDPOINT_URL_SNS = sns.url('/');
  });
  // Registered after the fake's start, so the runtime starts with its address.
  const suite = browserSuite(env);
  afterAll(() => sns?.close());

  /** Asks for a code to `phone` on the step-up page: the answer's status and what the page says. */
  async function askForCode(page: Page, phone: string) {
    await page.getByLabel('手机号').fill(phone);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/stepup')),
      page.getByRole('button', { name: '获取验证码' }).click(),
    ]);
    await page.waitForLoadState();
    return {
      status: response.status(),
      notice: await page.locator('#form-notice').textContent({ timeout: 5_000 }),
      errors: await page.locator('#form-error, .error').count(),
      phoneKept: await page.getByLabel('手机号').inputValue(),
      // The button counts down the server's wait before the next code, whatever the phone.
      countdown: await page.locator('#send-code').getAttribute('data-resend-after'),
    };
  }

  it('says the same to a confirmed and an unconfirmed phone, how to try again, and keeps no code', async () => {
    const { runtime } = suite;
    const person = { ...registryPeople[9]!, password: 'Refused-Sms-2026' };
    const othersPhone = registryPeople[10]!.phone;
    await openAccount(runtime, person);

    const { page, context, errors } = await suite.newPage();
    const request = await authorizationRequest(await demoPlatform(runtime), {
      acr_values: 'urn:elicence:loa:3',
    });
    await page.goto(request.url.href);
    await signInOnLoginPage(page, person);
    await page.getByRole('button', { name: '获取验证码' }).waitFor();

    const confirmed = await askForCode(page, person.phone);
    // The provider was asked, for this phone, and refused.
    expect(sns.received.length).toBeGreaterThan(0);
    expect(new URLSearchParams(sns.received[0]!.body).get('PhoneNumber')).toBe(person.phone);
    const checked = await axeViolations(page);
    await screenshot(page, 'sms-not-sent');
    const unconfirmed = await askForCode(page, othersPhone);

    // Each phone kept as typed, and nothing else different.
    expect(confirmed).toEqual({ ...unconfirmed, phoneKept: person.phone });
    expect(unconfirmed.phoneKept).toBe(othersPhone);
    expect(confirmed).toMatchObject({
      status: 200,
      errors: 0,
      countdown: String(smsCodePolicy.phoneIntervalSeconds),
    });
    expect(confirmed.notice).toContain('如未收到短信，请在 1 分钟后重新获取验证码');

    // No error anywhere so far (the refused code's answer below is a 400, as any wrong or expired code's).
    expect(errors).toEqual([]);
    // The code the provider refused (in the refused request's text) was never kept: it is no code at all.
    const refused = /(\d{6})/.exec(new URLSearchParams(sns.received[0]!.body).get('Message')!)![1]!;
    await page.getByLabel('手机号').fill(person.phone);
    await page.getByLabel('短信验证码').fill(refused);
    await page.getByRole('button', { name: '验证', exact: true }).click();
    await expect(page.locator('#form-error').textContent()).resolves.toContain('验证码不正确或已失效');
    await context.close();
    expect(checked).toEqual([]);
  });
});
