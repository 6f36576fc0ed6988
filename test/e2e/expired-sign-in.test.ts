import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, phone, signInOnLoginPage } from '../support/browser.js';

/**
 * Review R62-1: a sign-in or consent page left open past its interaction (its cookie gone, or the Back
 * button after signing in) said `出错了 / invalid_request: interaction session id cookie not found`, in
 * English, with no way forward. It now says in plain Chinese what happened and offers 重新登录, the raw
 * error only under a collapsed 技术信息, marked English.
 */
async function expectExpiredPage(page: Page) {
  await expect.poll(() => page.locator('h1').textContent()).toBe('登录页面已过期');
  expect((await page.getByRole('alert').textContent())?.trim()).toBe(
    '登录页面已过期或已使用，请回到原来的网站重新登录。',
  );
  expect(await page.getByRole('link', { name: '重新登录' }).getAttribute('href')).toBe('/wallet/login');
  // The provider's words only under 技术信息, collapsed, and marked as English.
  expect(await page.locator('main').innerText()).not.toContain('invalid_request');
  expect(await page.locator('#technical summary').textContent()).toBe('技术信息');
  expect(await page.locator('#technical code[lang="en"]').textContent()).toBe('invalid_request');
  expect(await page.locator('#technical code').isVisible()).toBe(false);
  expect(await axeViolations(page)).toEqual([]);
}

describe('an expired or already used sign-in page (review R62-1)', () => {
  const suite = browserSuite();

  it('the login page says how long it stays valid; submitted after its cookie is gone, it says to sign in again', async () => {
    const { citizen } = suite.runtime.credentials;
    const { page, context } = await suite.newPage({ viewport: phone, mobile: true });
    await page.goto('/wallet/login');
    expect(await page.locator('#login-valid').innerText()).toContain('此登录页面 60 分钟内有效');
    await context.clearCookies();
    await page.getByLabel(/身份证号/).fill(citizen.idNumber);
    await page.getByLabel(/密码/).fill(citizen.password);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await expectExpiredPage(page);
    // The way forward works: a fresh sign-in.
    await page.getByRole('link', { name: '重新登录' }).click();
    await signInOnLoginPage(page, citizen);
    await page.waitForURL(/\/wallet$/);
    await context.close();
  });

  it('the Back button to a used sign-in page', async () => {
    const { citizen } = suite.runtime.credentials;
    const { page, context } = await suite.newPage({ viewport: phone, mobile: true });
    await page.goto('/wallet/login');
    await signInOnLoginPage(page, citizen);
    await page.waitForURL(/\/wallet$/);
    await page.goBack();
    await page.waitForLoadState();
    await expectExpiredPage(page);
    await context.close();
  });

  it('a consent page whose interaction is gone, then 同意', async () => {
    const { citizen } = suite.runtime.credentials;
    const { page, context } = await suite.newPage({ viewport: phone, mobile: true });
    await page.goto('/demo');
    await page.getByRole('button', { name: '使用统一身份认证登录' }).click();
    await signInOnLoginPage(page, citizen);
    await page.waitForLoadState();
    expect(await page.locator('h1').textContent()).toBe('授权');
    const kept = (await context.cookies()).filter((c) => !c.name.startsWith('_interaction'));
    await context.clearCookies();
    await context.addCookies(kept);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /同意/ }).click()]);
    await expectExpiredPage(page);
    await context.close();
  });

  it('in English, the provider’s words still under Technical details', async () => {
    const { page, context } = await suite.newPage({ locale: 'en-US' });
    await page.goto('/wallet/login?lang=en');
    const kept = (await context.cookies()).filter((c) => !c.name.startsWith('_interaction'));
    await context.clearCookies();
    await context.addCookies(kept);
    await page.locator('#password').fill('whatever');
    await Promise.all([page.waitForNavigation(), page.locator('form.card button[type=submit]').click()]);
    expect(await page.locator('h1').textContent()).toBe('This sign-in page has expired');
    expect(await page.getByRole('link', { name: 'Sign in again' }).getAttribute('href')).toBe(
      '/wallet/login',
    );
    await context.close();
  });
});
