import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, screenshot, signInClerk } from '../support/browser.js';
import { postJson } from '../support/http-api.js';
import { outbox } from '../support/in-memory-sms.js';

/**
 * The counter page (当面核验, `/console/counter`) in Chromium, as a clerk uses it: the demo clerk (appointed
 * with `accounts:prove-in-person` by `npm start`'s seed) finds a person's account by the ID number and name
 * on their card, sets the person's own phone as the proven one (the page asks for the code texted to it),
 * and proves them in person without the password, the account taken back for them; axe-core finds no
 * WCAG 2.1 AA violation at any step.
 */
describe('the console’s counter page in a browser', () => {
  const suite = browserSuite();

  it('a clerk finds a person, sends a code to their new phone, and proves them in person', async () => {
    const { runtime } = suite;
    // A synthetic person the registries know (the carrier by their phone), registered without a phone.
    const person = runtime.credentials.people.at(-1)!;
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      idNumber: person.idNumber,
      name: person.name,
      password: 'Forgotten-Already-2026',
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const masked = `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(14)}`;
    const phoneMasked = `${person.phone.slice(3, 6)}****${person.phone.slice(-4)}`;

    const { page, errors, context } = await suite.newPage();
    await signInClerk(page, runtime.credentials.clerk);
    await page.getByRole('link', { name: '当面核验' }).click();
    await page.waitForURL((url) => url.pathname === '/console/counter');
    await expect(page.locator('h1').innerText()).resolves.toBe('当面核验');
    await expect(axeViolations(page)).resolves.toEqual([]);

    // 1. The card's number and name: the account, masked.
    await page.getByLabel('身份证号', { exact: true }).fill(person.idNumber);
    await page.getByLabel('姓名', { exact: true }).fill(person.name);
    await page.getByRole('button', { name: '查找账号' }).click();
    await page.locator('#counter-account').waitFor();
    await expect(page.locator('#counter-masked').innerText()).resolves.toBe(masked);
    await expect(page.locator('#counter-proven-phone').innerText()).resolves.toBe('无');
    // Shown masked only (the form carries it back in a hidden field, never in a URL).
    expect(await page.locator('main').innerText()).not.toContain(person.idNumber);
    expect(page.url()).not.toContain(person.idNumber);
    await expect(axeViolations(page)).resolves.toEqual([]);

    // 2. The person forgot their password: a new proven phone, theirs; the first press texts a code.
    await page.getByLabel('我已当面核对本人与其居民身份证。').check();
    await page.getByLabel('设为本人的新手机号').check();
    // Typed as people say it: eleven digits, no +86 (review R62-3); texted and kept as +86….
    const typed = person.phone.replace(/^\+86/, '');
    await expect(page.getByLabel('新手机号', { exact: true }).getAttribute('autocomplete')).resolves.toBe(
      'tel-national',
    );
    await page.getByLabel('新手机号', { exact: true }).fill(typed);
    await page.getByRole('button', { name: '确认当面核验' }).click();
    await page.locator('#counter-code-sent').waitFor();
    await expect(page.locator('#counter-code-sent').innerText()).resolves.toContain(
      `已向 ${phoneMasked} 发送短信验证码`,
    );
    await expect(page.locator('#counter-done').count()).resolves.toBe(0);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'console-counter-code');

    // 3. The code the person reads from their phone; the box ticked again for this press.
    const code = (await outbox(runtime)).filter((m) => m.to === person.phone).at(-1)?.code;
    expect(code).toMatch(/^\d{6}$/);
    await expect(page.getByLabel('设为本人的新手机号').isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('新手机号', { exact: true }).inputValue()).resolves.toBe(typed);
    await page.getByLabel('我已当面核对本人与其居民身份证。').check();
    await page.getByLabel('短信验证码').fill(code!);
    await page.getByRole('button', { name: '确认当面核验' }).click();
    await page.locator('#counter-done').waitFor();
    await expect(page.locator('#counter-done').innerText()).resolves.toContain('已完成当面核验');
    await expect(page.locator('#counter-done-phone').innerText()).resolves.toContain(phoneMasked);
    await expect(page.locator('#counter-done-took-over').count()).resolves.toBe(1);
    expect(await page.locator('#counter-done').innerText()).not.toContain(person.phone);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'console-counter-done');
    expect(errors).toEqual([]);
    await context.close();
  });
});
