import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, phone, screenshot, signInClerk } from '../support/browser.js';
import { newCreditCode } from '../support/http-api.js';
import { newIdNumber } from '../support/licences.js';

const han = /\p{Script=Han}/u;

/**
 * The issue form in English on a phone: labels, hints and the API's refusal in English (no Chinese label
 * from the catalogue), axe-core clean, no sideways scrolling; the same form in Chinese has no English hint.
 */
describe('the console’s issue form speaks the page’s language', () => {
  const suite = browserSuite();

  it('in English on a phone, up to the API’s refusal of a check character', async () => {
    const { page, errors, context } = await suite.newPage({ viewport: phone, mobile: true });
    await page.goto('/console?lang=en');
    await signInClerk(page, suite.runtime.credentials.clerk);

    await page.goto('/console/licences/new?type=business-licence');
    const texts = () =>
      page
        .locator('#issue-form label, #issue-form legend, #issue-form .hint, #issue-form .field-error')
        .allInnerTexts();
    for (const text of await texts()) expect(text).not.toMatch(han);
    await expect(page.getByLabel('Legal representative’s ID number').count()).resolves.toBe(1);
    await expect(axeViolations(page)).resolves.toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(phone.width);
    await screenshot(page, 'console-issue-phone-en');

    // A representative's number whose check character is wrong: only the API can tell, at the confirmation.
    const id = newIdNumber();
    const wrong = `${id.slice(0, 17)}${id.endsWith('0') ? '1' : '0'}`;
    await page.getByLabel('Unified social credit code').fill(newCreditCode('91', '110105'));
    await page.getByLabel('Holder’s name (entity)').fill('示范科技有限公司');
    await page.getByLabel('Type of entity').fill('有限责任公司');
    await page.locator('#field-fields-legalRepresentativeName').fill('王小明');
    await page.getByLabel('Legal representative’s ID number').fill(wrong);
    await page.getByLabel('Established on').fill('2020-01-02');
    await page.getByLabel('Business scope').fill('软件开发');
    await page.getByLabel('Registered address').fill('北京市东城区示范路 1 号');
    await page.locator('#issue-form button[type="submit"]').click();
    await page.locator('#issue-review').waitFor();
    for (const term of await page.locator('#issue-review dt').allInnerTexts()) expect(term).not.toMatch(han);
    await page.getByRole('button', { name: 'Confirm and issue' }).click();
    await page.locator('#issue-error-summary').waitFor();
    errors.length = 0; // the 400 of the refusal is reported by Chromium as a failed load
    const summary = await page.locator('#issue-error-summary').innerText();
    expect(summary).toContain('Legal representative’s ID number');
    expect(summary).toContain('The check character should be');
    expect(summary).not.toMatch(han);
    for (const text of await texts()) expect(text).not.toMatch(han);
    await expect(axeViolations(page)).resolves.toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(phone.width);
    await screenshot(page, 'console-issue-refused-phone-en');

    // The same form in Chinese: the catalogue's Chinese hints, none of its English ones.
    await page.goto('/console/licences/new?type=business-licence&lang=zh');
    const chinese = (await texts()).join('\n');
    expect(chinese).toContain('法定代表人身份证件号码');
    expect(chinese).not.toMatch(/Resident ID number|YYYY-MM-DD|stored and signed/);
    expect(errors).toEqual([]);
    await context.close();
  });
});
