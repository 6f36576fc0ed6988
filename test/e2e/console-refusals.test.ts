import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, signInClerk } from '../support/browser.js';

/**
 * Review R62-2: a refused revocation (no reason chosen, confirmation not ticked) reloaded the licence page
 * at its top with the focus on <body>, its errors far down and nothing announced; so did the counter's
 * lookup without a name. Each now opens with an error summary (role=alert) at the top, focused, linking
 * to each field; so does a refused issuance form (its summary was announced but left the focus on <body>).
 */
const focused = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');

describe('refused console forms say so at the top (review R62-2)', () => {
  const suite = browserSuite();

  it('a revocation with no reason and no confirmation: the summary is focused and links to both fields', async () => {
    const { clerk } = suite.runtime.credentials;
    const { page, context } = await suite.newPage();
    await signInClerk(page, clerk);
    const first = await page.locator('table a[href^="/console/licences/"]').first().getAttribute('href');
    await page.goto(first!);
    await page.locator('button.danger').focus();
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    const summary = page.locator('#action-error-summary');
    expect(await summary.getAttribute('role')).toBe('alert');
    await expect.poll(() => focused(page)).toBe('action-error-summary'); // autofocus is applied at the next frame, not at load
    expect(await summary.isVisible()).toBe(true);
    const box = await summary.boundingBox();
    expect(box!.y).toBeLessThan(900);
    const links = summary.getByRole('link');
    expect(await links.evaluateAll((all) => all.map((a) => a.getAttribute('href')))).toEqual([
      '#reason-code-revoked',
      '#confirm-revoked',
    ]);
    expect(await links.first().textContent()).toContain('请从列表中选择原因。');
    // Following a link reaches its field.
    await links.first().click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#reason-code-revoked');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  it('the counter’s lookup without a name: the summary is focused and links to the name', async () => {
    const { clerk, citizen } = suite.runtime.credentials;
    const { page, context } = await suite.newPage();
    await signInClerk(page, clerk);
    await page.goto('/console/counter');
    await page.locator('#idNumber').fill(citizen.idNumber);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await expect.poll(() => focused(page)).toBe('counter-error-summary'); // autofocus is applied at the next frame, not at load
    expect(await page.locator('#counter-error-summary').getAttribute('role')).toBe('alert');
    const link = page.locator('#counter-error-summary a');
    expect(await link.getAttribute('href')).toBe('#name');
    expect(await link.textContent()).toBe('姓名：请填写。');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });

  it('an issuance with a day that is none and no holder name: the summary is focused and links to both fields', async () => {
    const { clerk, citizen } = suite.runtime.credentials;
    const { page, context } = await suite.newPage();
    await signInClerk(page, clerk);
    await page.goto('/console/licences/new');
    await page.getByLabel(/机动车驾驶证/).check();
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: '下一步' }).click()]);
    await page.getByLabel(/持证人公民身份号码/).fill(citizen.idNumber);
    await page.getByLabel(/准驾车型/).selectOption('B1');
    await page.getByLabel(/档案编号/).fill('110100246810');
    await page.getByLabel(/初次领证日期/).fill('2012/2/30');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: '下一步：核对' }).click()]);
    const summary = page.locator('#issue-error-summary');
    expect(await summary.getAttribute('role')).toBe('alert');
    await expect.poll(() => focused(page)).toBe('issue-error-summary'); // autofocus is applied at the next frame, not at load
    const links = summary.getByRole('link');
    expect(await links.evaluateAll((all) => all.map((a) => a.getAttribute('href')))).toEqual([
      '#field-holderName',
      '#field-fields-firstIssuedOn',
    ]);
    expect(await links.last().textContent()).toBe(
      '初次领证日期：请按“年-月-日”填写有效日期，如 2026-03-05。',
    );
    // Following a link reaches its field.
    await links.last().click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#field-fields-firstIssuedOn');
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
  });
});
