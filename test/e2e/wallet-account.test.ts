import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, signInOnLoginPage, signInToWallet } from '../support/browser.js';
import { postJson } from '../support/http-api.js';
import { newIdNumber } from '../support/in-memory-identity.js';

/**
 * Closing the account from the wallet in Chromium (我的账号 › 注销账号): the fresh sign-in its link asks
 * for, the confirmation with the password typed again (review R10: the session's token alone closes
 * nothing), a wrong password refused with the account whole, then the right one closing it. The pages
 * pass axe.
 */
describe('closing the account from the wallet in a browser', () => {
  const suite = browserSuite();

  it('asks for the password again on the confirmation, and closes with the right one', async () => {
    const { runtime } = suite;
    const person = { idNumber: newIdNumber(), name: '韩注销', password: 'Han-Close-2026' };
    const registered = await postJson(runtime, '/accounts', undefined, { ...person, consent: true });
    expect(registered.status).toBe(201);

    const { page, context, errors } = await suite.newPage();
    const checked: Record<string, string[]> = {};
    await signInToWallet(page, person);
    await page.goto('/wallet/account');
    checked['account'] = await axeViolations(page);
    await page.locator('#account-close-link').click();
    // The provider asks for the password again (max_age=0), then comes back to the confirmation.
    await signInOnLoginPage(page, person);
    await page.waitForURL(/\/wallet\/account\/close$/);
    checked['confirmation'] = await axeViolations(page);

    await page.getByLabel(/请再次输入登录密码/).fill('Not-Han-2026');
    await page.locator('#account-close-confirm').check();
    await page.locator('#account-close-submit').click();
    // The kit's summary, focused as the page loads, its item a link to the password field.
    const summary = page.locator('#account-close-error-summary');
    await summary.waitFor();
    await expect(summary.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await expect(summary.locator('a[href="#account-close-password"]').textContent()).resolves.toBe(
      '密码不正确，账号未注销。',
    );
    checked['wrong password'] = await axeViolations(page);

    await page.getByLabel(/请再次输入登录密码/).fill(person.password);
    await page.locator('#account-close-confirm').check();
    await page.locator('#account-close-submit').click();
    await page.locator('#account-closed').waitFor();
    await context.close();

    const again = await postJson(runtime, '/accounts', undefined, { ...person, consent: true });
    expect(again.status).toBe(201);
    // The one refused form is the page's own answer (403 with the form again), not an error of the page.
    expect(errors).toEqual([
      'console: Failed to load resource: the server responded with a status of 403 (Forbidden)',
    ]);
    expect(checked).toEqual(Object.fromEntries(Object.keys(checked).map((k) => [k, []])));
  });

  it('shows a refused closing form again, naming the field by the label the page shows, not the name it posts', async () => {
    const { runtime } = suite;
    const person = { idNumber: newIdNumber(), name: '韩标签', password: 'Han-Label-2026' };
    expect((await postJson(runtime, '/accounts', undefined, { ...person, consent: true })).status).toBe(201);
    const { page, context } = await suite.newPage();
    await signInToWallet(page, person);
    await page.goto('/wallet/account');
    await page.locator('#account-close-link').click();
    await signInOnLoginPage(page, person);
    await page.waitForURL(/\/wallet\/account\/close$/);
    const label = (await page.locator('label[for="account-close-password"]').textContent())!.trim();

    // Longer than the form allows (a browser without maxlength, or a crafted post): the form's schema refuses it.
    const password = page.getByLabel(/请再次输入登录密码/);
    await password.evaluate((input: HTMLInputElement) => input.removeAttribute('maxlength'));
    await password.fill('x'.repeat(1100));
    await page.locator('#account-close-confirm').check();
    await page.locator('#account-close-submit').click();
    // The confirmation again (session 28), not an error page: the summary at the top names the field by
    // its label and links to it, the message again at the field, the password not echoed.
    const summary = page.locator('#account-close-error-summary');
    await summary.waitFor();
    const words = (await summary.locator('a[href="#account-close-password"]').textContent())!.trim();
    expect(words).toBe(`${label}：最多 1024 个字符。`);
    expect(words).not.toMatch(/password|body/);
    await expect(page.locator('#account-close-password-error').textContent()).resolves.toContain(
      '最多 1024 个字符。',
    );
    await expect(password.inputValue()).resolves.toBe('');
    // Nothing was closed: the account is still there (registering the number again is refused).
    await context.close();
    const again = await postJson(runtime, '/accounts', undefined, { ...person, consent: true });
    expect(again.status).toBe(409);
  });
});
