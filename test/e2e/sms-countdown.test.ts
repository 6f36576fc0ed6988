import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { registryPeople } from '../../infra/local/demo-data.js';
import { buildDependencies } from '../../functions/composition/dependencies.js';
import { smsCodePolicy } from '../../shared/identity/sms-codes.js';
import { phoneDayUsedUp } from '../support/in-memory-sms.js';
import { axeViolations, browserSuite, signInOnLoginPage } from '../support/browser.js';
import { authorizationRequest, demoPlatform } from '../support/oidc-flows.js';
import { openAccount } from '../support/sharing-flows.js';

/** The wait the server enforces between two codes to one phone: the countdown's only source. */
const wait = smsCodePolicy.phoneIntervalSeconds;

/**
 * What the 获取验证码 button and its live region show now: `waiting` while its clicks are held
 * (`aria-disabled`), `disabled` if it left the tab order (it never should).
 */
async function sendButton(page: Page) {
  const button = page.locator('#send-code');
  const status = page.locator('#send-code-status');
  return {
    waiting: (await button.getAttribute('aria-disabled')) === 'true',
    disabled: await button.evaluate((b: HTMLButtonElement) => b.disabled),
    label: (await button.textContent())?.trim(),
    announced: await status.textContent(),
    live: await status.getAttribute('aria-live'),
  };
}

/** Asks for a code to `phone` with the button, and waits for the page that answers. */
async function askForCode(page: Page, phone: string): Promise<number> {
  await page.getByLabel(/^手机号/).fill(phone);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().resourceType() === 'document'),
    page.getByRole('button', { name: '获取验证码' }).click(),
  ]);
  await page.waitForLoadState();
  return response.status();
}

/**
 * Stops the page's clock (installed) a second from its now: its timers then move only with `runFor`, so a
 * countdown reads the seconds the test ran, not the ones a loaded machine took (axe's scan of the page took
 * two seconds once, and the button read 58). The clock stays stopped across the form's navigations.
 */
async function stopClock(page: Page): Promise<void> {
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
}

/**
 * Runs `work` (axe's scan, whose own timers the stopped clock holds too) while moving the page's clock a
 * millisecond at a time, and fails if that took a second of the page's time, which a countdown would show.
 */
async function whileClockStopped<T>(page: Page, work: () => Promise<T>): Promise<T> {
  let done = false;
  const result = work().finally(() => {
    done = true;
  });
  let moved = 0;
  while (!done) {
    await page.clock.runFor(1);
    moved += 1;
  }
  expect(moved).toBeLessThan(1000);
  return result;
}

/** Fills the /register form for `person` (privacy box ticked) and asks for a code to their phone. */
async function askOnRegisterPage(page: Page, person: { idNumber: string; name: string; phone: string }) {
  await page.goto('/register');
  await page.getByLabel('公民身份号码').fill(person.idNumber);
  await page.getByLabel('姓名').fill(person.name);
  await page.getByLabel('我已阅读并同意上述个人信息处理说明').check();
  return askForCode(page, person.phone);
}

/**
 * The 获取验证码 button's countdown in Chromium (page clock installed, so the seconds are the test's):
 * after every ask the server counted, the button holds its clicks (aria-disabled, still in the tab
 * order) and counts down the server's own wait (`smsCodePolicy`), a polite live region says only when the
 * wait ends, and a confirmed phone's
 * page cannot be told from another's. Without JavaScript the button stays usable and the notice says
 * when to ask again.
 */
describe('the 获取验证码 countdown', () => {
  const suite = browserSuite();

  it('counts down on the step-up page, the same for a confirmed and an unconfirmed phone', async () => {
    const { runtime } = suite;
    const person = { ...registryPeople[15]!, password: 'Countdown-2026' };
    await openAccount(runtime, person);
    const { page, context, errors } = await suite.newPage();
    page.setDefaultTimeout(8000);
    await page.clock.install();
    const request = await authorizationRequest(await demoPlatform(runtime), {
      acr_values: 'urn:elicence:loa:3',
    });
    await page.goto(request.url.href);
    await signInOnLoginPage(page, person);
    await expect(sendButton(page)).resolves.toMatchObject({ waiting: false, label: '获取验证码' });
    await stopClock(page);

    expect(await askForCode(page, person.phone)).toBe(200);
    const confirmed = await sendButton(page);
    // Waiting but still in the tab order, and the live region quiet on load (the notice says it).
    expect(confirmed).toEqual({
      waiting: true,
      disabled: false,
      label: `重新获取（${wait} 秒）`,
      announced: '',
      live: 'polite',
    });
    const checked = await whileClockStopped(page, () => axeViolations(page));
    await page.getByLabel(/^手机号/).focus();
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('send-code');
    // A click, Enter or Space on it, or Enter in the phone field, sends nothing while it waits.
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
    await page.locator('#send-code').click({ force: true });
    await page.keyboard.press('Enter');
    await page.keyboard.press(' ');
    await page.getByLabel(/^手机号/).press('Enter');
    await page.waitForTimeout(300);
    expect(posts).toEqual([]);
    await expect(sendButton(page)).resolves.toEqual(confirmed);

    // Another number is not under this one's wait: the button is free for it, and counts down again.
    const othersPhone = registryPeople[16]!.phone;
    await page.getByLabel(/^手机号/).fill(othersPhone);
    await expect(sendButton(page)).resolves.toMatchObject({ waiting: false, label: '获取验证码' });
    expect(await askForCode(page, othersPhone)).toBe(200);
    await expect(sendButton(page)).resolves.toEqual(confirmed);

    await page.clock.runFor((wait / 2) * 1000);
    await expect(sendButton(page)).resolves.toMatchObject({
      waiting: true,
      label: `重新获取（${wait / 2} 秒）`,
      announced: '',
    });
    await page.clock.runFor((wait / 2) * 1000);
    await expect(sendButton(page)).resolves.toEqual({
      waiting: false,
      disabled: false,
      label: '获取验证码',
      announced: '现在可以重新获取验证码',
      live: 'polite',
    });
    expect(checked).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('counts down on the reset and registration pages, and the server’s own wait after an early ask', async () => {
    const { runtime } = suite;
    const person = { ...registryPeople[17]!, password: 'Countdown-2026' };
    await openAccount(runtime, person);
    const { page, context } = await suite.newPage();
    page.setDefaultTimeout(8000);
    await page.clock.install();
    await page.goto((await authorizationRequest(await demoPlatform(runtime))).url.href);
    await page.getByRole('link', { name: '忘记密码' }).click();
    await stopClock(page);
    await page.getByLabel('身份证号').fill(person.idNumber);
    expect(await askForCode(page, person.phone)).toBe(200);
    await expect(sendButton(page)).resolves.toMatchObject({
      waiting: true,
      label: `重新获取（${wait} 秒）`,
    });

    const newcomer = registryPeople[18]!;
    expect(await askOnRegisterPage(page, newcomer)).toBe(200);
    await expect(sendButton(page)).resolves.toMatchObject({
      waiting: true,
      label: `重新获取（${wait} 秒）`,
    });
    // Asked again too soon (as a page without the script could): the server's Retry-After is counted down.
    await page.clock.runFor(20_000);
    await page.getByLabel('我已阅读并同意上述个人信息处理说明').check();
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.locator('#send-code').evaluate((button: HTMLButtonElement) => button.form!.requestSubmit(button)),
    ]);
    expect(response.status()).toBe(429);
    await page.waitForLoadState();
    const retryAfter = Number(await response.headerValue('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    await expect(sendButton(page)).resolves.toMatchObject({
      waiting: true,
      label: `重新获取（${retryAfter} 秒）`,
    });
    await context.close();
  });

  // Review finding: the countdown told a cap from the phone's interval by the wait's length, so in a
  // cap's last minute (a wait under 60 s) the button counted the cap down as if it were the interval.
  it('never counts down a daily cap, even in its last minute: the server names the limit', async () => {
    const { runtime } = suite;
    const newcomer = registryPeople[14]!;
    await phoneDayUsedUp(buildDependencies(runtime.config), newcomer.phone, 30);
    const { page, context, errors } = await suite.newPage();
    page.setDefaultTimeout(8000);
    await page.clock.install();
    expect(await askOnRegisterPage(page, newcomer)).toBe(429);
    const said = /今天获取验证码的次数已达上限，请在 (\d+) 秒后重试/.exec(
      (await page.locator('#error-summary').textContent()) ?? '',
    );
    expect(Number(said?.[1])).toBeLessThanOrEqual(30);
    await expect(page.locator('#send-code').getAttribute('data-limit')).resolves.toBe('daily');
    const ready = { waiting: false, disabled: false, label: '获取验证码', announced: '', live: 'polite' };
    await expect(sendButton(page)).resolves.toEqual(ready);
    await page.clock.runFor(10_000);
    await expect(sendButton(page)).resolves.toEqual(ready);
    // The 429 answering the form is the browser's one console line; no script ran, none failed.
    expect(errors.filter((e) => !/status of 429/.test(e))).toEqual([]);
    await context.close();
  });

  it('without JavaScript, leaves the button usable and says when to ask again', async () => {
    const { runtime } = suite;
    const context = await suite.browser.newContext({
      baseURL: runtime.baseUrl,
      javaScriptEnabled: false,
      locale: 'zh-CN',
    });
    const page = await context.newPage();
    page.setDefaultTimeout(8000);
    const newcomer = registryPeople[19]!;
    expect(await askOnRegisterPage(page, newcomer)).toBe(200);
    await expect(sendButton(page)).resolves.toMatchObject({ waiting: false, label: '获取验证码' });
    await expect(page.getByRole('status').first().textContent()).resolves.toContain(
      '如未收到短信，请在 1 分钟后重新获取验证码',
    );
    // Asked again at once: the server's own wait, said on the page, the button still there to use later.
    await page.getByLabel('我已阅读并同意上述个人信息处理说明').check();
    expect(await askForCode(page, newcomer.phone)).toBe(429);
    await expect(page.locator('#error-summary').textContent()).resolves.toMatch(/请在 \d+ 秒后重试/);
    await expect(sendButton(page)).resolves.toMatchObject({ waiting: false, label: '获取验证码' });
    await context.close();
  });
});
