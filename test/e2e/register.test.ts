import { describe, expect, it } from 'vitest';
import { registryPeople } from '../../infra/local/demo-data.js';
import { browserSuite, screenshot, signInOnLoginPage } from '../support/browser.js';

/**
 * Console errors other than a missing favicon and the refused form's own 400 (Chromium logs the status
 * of the document itself): what is left includes CSP violations, such as an inline style.
 */
const realErrors = (errors: string[]) =>
  errors.filter((error) => !error.includes('favicon') && !error.includes('status of 400 (Bad Request)'));

/**
 * Self-registration in Chromium, which enforces the page's CSP: reached from the login page, in the
 * site's layout, a refused form keeping what was typed, the account then signing in to the wallet.
 */
describe('registering through the /register form', () => {
  const suite = browserSuite();

  it('registers a person of the population registry, keeping the typed values after an error, then signs in', async () => {
    // One of the seeded people: in the registry, without an account.
    const person = registryPeople[7]!;
    const password = 'Zhou-Ting-2026';
    const { page, errors, context } = await suite.newPage();
    page.setDefaultTimeout(8000);

    await page.goto('/wallet');
    await page.getByRole('link', { name: '登录', exact: true }).click();
    await page.waitForURL(/\/interaction\/[^/?]+$/);
    await page.getByRole('link', { name: '注册', exact: true }).click();
    await page.waitForURL(/\/register$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('注册统一身份认证账号');
    // A sign-in step: the narrow card, no site navigation, app.css applied (the site's header colour).
    await expect(page.locator('main.step').count()).resolves.toBe(1);
    await expect(page.locator('header.site nav').count()).resolves.toBe(0);
    await expect(
      page.locator('header.site').evaluate((element) => getComputedStyle(element).backgroundColor),
    ).resolves.toBe('rgb(20, 64, 110)');

    await page.getByLabel('公民身份号码').fill(person.idNumber);
    await page.getByLabel('姓名').fill(person.name);
    await page.getByLabel('密码', { exact: true }).fill(password);
    await page.getByLabel('确认密码').fill(`${password}x`);
    await page.getByRole('button', { name: '注册' }).click();
    await page.waitForLoadState();

    const confirm = page.getByLabel('确认密码');
    await expect(confirm.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(confirm.getAttribute('aria-describedby')).resolves.toBe('passwordConfirm-error');
    await expect(page.locator('#passwordConfirm-error').textContent()).resolves.toMatch(
      /^\s*两次输入的密码不一致。\s*$/,
    );
    await expect(page.locator('#error-summary a[href="#passwordConfirm"]').textContent()).resolves.toBe(
      '两次输入的密码不一致。',
    );
    // The kit's summary (shared/web/kit/error-summary.ts), focused as the page loads, no script needed.
    await expect(
      page
        .locator('#error-summary')
        .evaluate((el) => el === document.activeElement && el.hasAttribute('autofocus')),
    ).resolves.toBe(true);
    await expect(page.title()).resolves.toMatch(/^错误：/);
    // The number and name are kept; the passwords are not.
    await expect(page.getByLabel('公民身份号码').inputValue()).resolves.toBe(person.idNumber);
    await expect(page.getByLabel('姓名').inputValue()).resolves.toBe(person.name);
    await expect(page.getByLabel('密码', { exact: true }).inputValue()).resolves.toBe('');
    await expect(page.getByLabel('公民身份号码').getAttribute('aria-invalid')).resolves.toBeNull();
    await screenshot(page, 'register-error');

    await page.getByLabel('密码', { exact: true }).fill(password);
    await page.getByLabel('确认密码').fill(password);
    // The privacy notice says what goes to whom (privacy review R9, M4); its box is required.
    await expect(page.locator('#privacy-notice').textContent()).resolves.toContain('运营商');
    await page.getByLabel('我已阅读并同意上述个人信息处理说明').check();
    await page.getByRole('button', { name: '注册' }).click();
    const done = page.getByRole('status');
    await expect(done.getByRole('heading').textContent()).resolves.toBe('注册成功');
    const masked = `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(14)}`;
    await expect(done.textContent()).resolves.toContain(masked);
    await expect(done.textContent()).resolves.toContain('二级（实名）；查看电子证照需三级（实名并核验本人）');
    await expect(page.content()).resolves.not.toContain(person.idNumber);
    await expect(page.locator('form').count()).resolves.toBe(0);
    await screenshot(page, 'register-done');

    await page.getByRole('link', { name: '查看我的证照' }).click();
    await page.waitForURL(/\/wallet$/);
    await page.getByRole('link', { name: '登录', exact: true }).click();
    await signInOnLoginPage(page, { idNumber: person.idNumber, password });
    await page.waitForURL(/\/wallet$/);
    await expect(page.locator('#wallet-name').textContent()).resolves.toBe(person.name);
    // A registered account is level 2: the wallet says why no licence shows, and how to see them.
    await expect(page.locator('#wallet-step-up').textContent()).resolves.toContain('三级身份认证');
    expect(realErrors(errors)).toEqual([]);
    await context.close();
  });

  it('switches to English and answers the form in English', async () => {
    const { page, errors, context } = await suite.newPage();
    page.setDefaultTimeout(8000);
    await page.goto('/register');
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL('**/register?lang=en');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Register for unified identity sign-in',
    );
    await expect(page.getByLabel('Resident ID number').isVisible()).resolves.toBe(true);

    // The post carries no ?lang=: the remembered choice answers it in English.
    await page.getByLabel('Resident ID number').fill('11010519900307123');
    await page.getByLabel('Name').fill('Test');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.waitForURL(/\/register$/);
    await expect(page.locator('#idNumber-error').textContent()).resolves.toMatch(
      // Said from the error's code in the page's words, not the API's message.
      /Resident ID number: Must be 18 characters, not 17\./,
    );
    await expect(page.getByLabel('Resident ID number').inputValue()).resolves.toBe('11010519900307123');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await expect(page.content()).resolves.not.toMatch(/公民身份号码/);

    await page.getByRole('link', { name: '中文' }).click();
    await page.waitForURL('**/register?lang=zh');
    await expect(page.getByLabel('公民身份号码').isVisible()).resolves.toBe(true);
    expect(realErrors(errors)).toEqual([]);
    await context.close();
  });
});
