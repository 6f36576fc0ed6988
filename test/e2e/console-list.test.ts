import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, phone, screenshot, signInClerk } from '../support/browser.js';
import { drivingLicenceBody, issued, newIdNumber } from '../support/licences.js';
import { clientCredentialsToken } from '../support/runtime.js';
import { calendarDate } from '../../shared/web/kit/china-time.js';

/** Issue 20, point 4: the console's list (search, sort, total, pages), the review step and the history. */
describe('the console’s list, review step and licence history in a browser', () => {
  const suite = browserSuite();

  /** The demo agency's clerk signs in (`lang`: the language, remembered from this first visit). */
  async function signIn(page: Page, lang = ''): Promise<void> {
    if (lang) await page.goto(`/console${lang}`);
    await signInClerk(page, suite.runtime.credentials.clerk);
  }

  /** Licences of holders named 浏览…, so that a search finds exactly these. */
  async function seed(count: number): Promise<void> {
    const token = await clientCredentialsToken(
      suite.runtime,
      suite.runtime.credentials.issuer,
      'licences:issue',
    );
    for (let i = 0; i < count; i++) {
      await issued(
        suite.runtime,
        token,
        drivingLicenceBody(newIdNumber(), { holderName: `浏览器测试人${i}` }),
      );
    }
  }

  /** How many lines an element's text takes: its height over its line height, rounded. */
  const lineCount = (page: Page, selector: string) =>
    page
      .locator(selector)
      .first()
      .evaluate((element) => {
        const style = getComputedStyle(element);
        const lineHeight =
          style.lineHeight === 'normal' ? parseFloat(style.fontSize) * 1.2 : parseFloat(style.lineHeight);
        const box = element.getBoundingClientRect();
        // An inline box's height is its content area: one line of text is about one line height tall.
        return Math.round(box.height / lineHeight);
      });

  /**
   * Whether every licence number in the list breaks, if at all, only after a dot: each dot-separated part
   * (a text node between `<wbr>`s) lies on one line.
   */
  const numbersBreakOnlyAtDots = (page: Page) =>
    page.locator('.console-table .licence-number').evaluateAll((links) =>
      links.every((link) =>
        Array.from(link.childNodes)
          .filter((node) => node.nodeType === Node.TEXT_NODE && node.textContent!.trim() !== '')
          .every((node) => {
            const range = document.createRange();
            range.selectNodeContents(node);
            return new Set(Array.from(range.getClientRects()).map((rect) => Math.round(rect.top))).size === 1;
          }),
      ),
    );

  it('searches, counts, sorts and pages in Chinese and English, badges on one line, numbers whole between dots, axe clean', async () => {
    await seed(22);
    const { page, errors, context } = await suite.newPage();
    await signIn(page);
    await page.getByLabel('持证人姓名').fill('浏览器测试人');
    await page.getByRole('button', { name: '查询', exact: true }).click();
    await expect.poll(() => page.locator('#console-summary').textContent()).toContain('共 22 条');
    await expect(page.locator('#console-summary').textContent()).resolves.toContain('第 1 页（第 1–20 条）');
    expect(await lineCount(page, '.console-table .badge')).toBe(1);
    await expect(numbersBreakOnlyAtDots(page)).resolves.toBe(true);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'console-list-search');

    // Oldest first, from the column header; the search is kept.
    // Newest first by default; the header says so, and offers the other order.
    await expect(page.locator('th[aria-sort]').getAttribute('aria-sort')).resolves.toBe('descending');
    await page.getByRole('button', { name: '签发日期，按升序排列' }).click();
    await expect.poll(() => page.locator('th[aria-sort]').getAttribute('aria-sort')).toBe('ascending');
    await expect(page.locator('tbody tr').first().textContent()).resolves.toContain('浏览器测试人0');
    await expect(page.getByLabel('持证人姓名').inputValue()).resolves.toBe('浏览器测试人');

    await page.getByRole('button', { name: '下一页' }).click();
    await expect
      .poll(() => page.locator('#console-summary').textContent())
      .toContain('第 2 页（第 21–22 条）');
    await expect(page.locator('tbody tr').count()).resolves.toBe(2);
    await page.getByRole('button', { name: '上一页' }).click();
    await expect.poll(() => page.locator('#console-summary').textContent()).toContain('第 1 页');

    // The holder's name leads to the licence as well as its number.
    await page.locator('tbody tr').first().getByRole('link', { name: '浏览器测试人0' }).click();
    await page.waitForURL(/\/console\/licences\//);
    await expect(page.locator('#licence-history-table').textContent()).resolves.toContain('签发');

    await page.goto('/console?lang=en');
    await page.getByLabel('Holder’s name').fill('浏览器测试人1');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.locator('#console-summary').textContent()).toContain('11 licences');
    await expect(page.getByRole('button', { name: 'Export CSV' }).isVisible()).resolves.toBe(true);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'console-list-search-en');
    expect(errors).toEqual([]);
    await context.close();
  });

  // Review finding: the issue-day filters were `<input type="date">`, which a Chromium set to English shows
  // as mm/dd/yyyy on the Chinese page. They are text inputs in the page's own format, read on the server.
  it('takes issue days as 年-月-日 text in a browser of any locale, and names a wrong one by its label', async () => {
    await seed(2);
    const { page, errors, context } = await suite.newPage({ locale: 'en-US' });
    await signIn(page, '?lang=zh');
    const from = page.getByLabel('起', { exact: true });
    await expect(from.evaluate((input: HTMLInputElement) => input.type)).resolves.toBe('text');
    await expect(from.getAttribute('placeholder')).resolves.toBe('年-月-日');
    await expect(from.getAttribute('inputmode')).resolves.toBe('numeric');
    await expect(page.locator('#filter-dates-hint').textContent()).resolves.toContain('2026-03-05');
    const [year, month, day] = calendarDate(new Date().toISOString()).split('-');
    await page.getByLabel('持证人姓名').fill('浏览器测试人');
    // Slashes, one-digit parts, 年月日 and eight digits are all the same day.
    await from.fill(`${year}/${Number(month)}/${Number(day)}`);
    await page.getByLabel('止', { exact: true }).fill(`${year}年${month}月${day}日`);
    await page.getByRole('button', { name: '查询', exact: true }).click();
    await expect.poll(() => page.locator('#console-summary').textContent()).toMatch(/共 \d+ 条/);
    await expect(from.inputValue()).resolves.toBe(`${year}-${month}-${day}`);
    await expect(page.locator('tbody tr').count()).resolves.toBeGreaterThanOrEqual(2);

    await from.fill(`${year}0230`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: '查询', exact: true }).click(),
    ]);
    expect(response.status()).toBe(400);
    await page.waitForLoadState();
    await expect(page.locator('#filter-issued-from-error').textContent()).resolves.toContain(
      '签发日期（起）：请按“年-月-日”填写有效日期',
    );
    await expect(from.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(from.inputValue()).resolves.toBe(`${year}0230`);
    await expect(axeViolations(page)).resolves.toEqual([]);

    await page.goto('/console?lang=en');
    await expect(page.getByLabel('From', { exact: true }).getAttribute('placeholder')).resolves.toBe(
      'YYYY-MM-DD',
    );
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await context.close();
  });

  it('fits a phone in both languages without sideways scrolling, axe clean', async () => {
    const { page, errors, context } = await suite.newPage({ viewport: phone, mobile: true });
    for (const lang of ['', '?lang=en']) {
      await signIn(page, lang);
      await expect(page.getByRole('row').count()).resolves.toBeGreaterThan(1);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      expect(await lineCount(page, '.console-table .badge')).toBe(1);
      await expect(axeViolations(page)).resolves.toEqual([]);
      await screenshot(page, `console-list-phone${lang ? '-en' : ''}`);
      // A clerk's sign-out ends the single sign-on too: the provider asks, then the console says so.
      await page.locator('form[action="/console/logout"] button').click();
      await page.locator('button[name="logout"][value="yes"]').click();
      await page.waitForURL(/m=signed-out/);
    }
    expect(errors).toEqual([]);
    await context.close();
  });

  it('reviews before signing, in English on a phone; edits go back filled; one confirmation issues', async () => {
    const { page, errors, context } = await suite.newPage({ viewport: phone, mobile: true });
    await signIn(page, '?lang=en');
    const idNumber = newIdNumber();
    await page.goto('/console/licences/new?type=driving-licence');
    await page.getByLabel(/Holder’s resident ID number/).fill(idNumber);
    await page.getByLabel(/Holder’s name/).fill('审核测试');
    await page.getByLabel(/[Vv]ehicle class|准驾车型/).selectOption('C1');
    await page.getByLabel(/First issued|初次领证日期/).fill('2012-07-01');
    await page.getByLabel(/Archive number|档案编号/).fill('110100135791');
    await page.getByRole('button', { name: 'Next: review' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Review the licence');
    await expect(page.locator('#review-holder-number').textContent()).resolves.toBe(
      `${idNumber.slice(0, 6)}********${idNumber.slice(14)}`,
    );
    await expect(page.locator('#issue-review').textContent()).resolves.toContain('110100135791');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'console-review-phone-en');

    await page.getByRole('button', { name: 'Go back and edit' }).click();
    await expect(page.getByLabel(/Holder’s name/).inputValue()).resolves.toBe('审核测试');
    await page.getByLabel(/Holder’s name/).fill('审核测试改');
    await page.getByRole('button', { name: 'Next: review' }).click();
    await expect(page.locator('#issue-review').textContent()).resolves.toContain('审核测试改');

    // Confirmed twice (a double click, or the form sent again): one licence.
    const form = page.locator('#issue-review-form');
    const fields = await form.evaluate((element) =>
      Object.fromEntries(
        Array.from(element.querySelectorAll('input[type="hidden"]')).map((input) => [
          (input as HTMLInputElement).name,
          (input as HTMLInputElement).value,
        ]),
      ),
    );
    await page.getByRole('button', { name: 'Confirm and issue' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain('The licence was issued');
    const first = page.url();
    const again = await page.request.post('/console/licences', {
      form: { ...(fields as Record<string, string>), step: 'confirm' },
      headers: { origin: new URL(first).origin },
      maxRedirects: 0,
    });
    expect(again.status()).toBe(303);
    expect(new URL(again.headers().location!, first).pathname).toBe(new URL(first).pathname);

    // The status history and the preset reasons on the licence page.
    const suspend = page.getByRole('region', { name: 'Suspend the licence' });
    await suspend.getByLabel('Reason').selectOption('other');
    await suspend.getByRole('button', { name: 'Suspend' }).click();
    await expect.poll(() => page.locator('#reason-suspended-error').textContent()).toContain('Other');
    await expect(axeViolations(page)).resolves.toEqual([]);
    errors.length = 0; // the 400 above is reported by Chromium as a failed load
    await page
      .getByRole('region', { name: 'Suspend the licence' })
      .getByLabel('Reason')
      .selectOption('investigation');
    await page
      .getByRole('region', { name: 'Suspend the licence' })
      .getByLabel('Details')
      .fill('Case 2026-17');
    await page
      .getByRole('region', { name: 'Suspend the licence' })
      .getByRole('button', { name: 'Suspend' })
      .click();
    await expect
      .poll(() => page.locator('#licence-history-table').textContent())
      .toContain('Suspended during an investigation: Case 2026-17');
    // The change is the clerk's: the history names them (by reference), not a shared client.
    await expect(page.locator('#licence-history-table').textContent()).resolves.toContain('Clerk');
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'console-licence-history-phone-en');
    expect(errors).toEqual([]);
    await context.close();
  });
});
