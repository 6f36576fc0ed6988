import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, phone, signInClerk, signInOnLoginPage } from '../support/browser.js';

describe('every page passes the automated WCAG 2.1 AA checks (axe-core)', () => {
  const suite = browserSuite();

  it('finds what it should (the harness can fail): an unlabelled input, low contrast, no language', async () => {
    const { page, context } = await suite.newPage();
    await page.setContent(
      '<html><body><main><input type="text"><p style="color:#bbb;background:#fff">faint</p></main></body></html>',
    );
    const found = (await axeViolations(page)).map((v) => v.split(' ')[0]);
    expect(found).toEqual(expect.arrayContaining(['label', 'color-contrast', 'html-has-lang']));
    await context.close();
  });

  it('the public pages, in both languages and on a phone', async () => {
    const { page, context } = await suite.newPage();
    const checked: Record<string, string[]> = {};
    for (const path of ['/', '/?lang=en', '/verifier', '/wallet', '/demo', '/console', '/register']) {
      await page.goto(path);
      checked[path] = await axeViolations(page);
    }
    await page.goto('/verifier?lang=zh');
    await page.getByLabel('粘贴二维码内容').fill('not a licence');
    await page.getByRole('button', { name: '核验' }).click();
    await page.locator('#verdict[data-verdict]').waitFor();
    checked['/verifier (verdict)'] = await axeViolations(page);
    // The register form refused (empty): the error summary and the errors beside the fields.
    await page.goto('/register');
    await page.getByRole('button', { name: '注册' }).click();
    await page.locator('#error-summary').waitFor();
    await page.locator('input[aria-invalid="true"]').first().waitFor();
    checked['/register (errors)'] = await axeViolations(page);
    await context.close();

    const mobile = await suite.newPage({ viewport: phone, mobile: true });
    for (const path of ['/', '/verifier']) {
      await mobile.page.goto(path);
      checked[`${path} (phone)`] = await axeViolations(mobile.page);
    }
    await mobile.context.close();
    expect(checked).toEqual(Object.fromEntries(Object.keys(checked).map((k) => [k, []])));
  });

  it('the signed-in pages: sign-in steps, wallet, QR, console and demo platform', async () => {
    const { citizen, clerk } = suite.runtime.credentials;
    const { page, context } = await suite.newPage();
    const checked: Record<string, string[]> = {};

    await page.goto('/wallet');
    await page.getByRole('link', { name: '登录', exact: true }).click();
    checked['login'] = await axeViolations(page);
    await page.getByLabel(/身份证号/).fill(citizen.idNumber);
    await page.getByLabel(/密码/).fill('wrong-password');
    await page.getByRole('button', { name: /^登录$/ }).click();
    checked['login (error)'] = await axeViolations(page);
    await signInOnLoginPage(page, citizen);
    await page.waitForURL(/\/wallet$/);
    checked['wallet'] = await axeViolations(page);
    await page.locator('article.licence-card').first().getByRole('link').first().click();
    checked['wallet licence'] = await axeViolations(page);
    await page.getByRole('button', { name: '出示二维码' }).click();
    await page.locator('#presentation-qr').waitFor();
    checked['wallet QR'] = await axeViolations(page);

    await page.goto('/demo');
    await page.getByRole('button', { name: '使用统一身份认证登录' }).click();
    checked['consent'] = await axeViolations(page);
    await page.getByRole('button', { name: /同意/ }).click();
    await page.waitForURL(/\/demo$/);
    checked['demo (signed in)'] = await axeViolations(page);

    await context.close();

    // The clerk at the counter: a browser of their own (no one else's single sign-on).
    const desk = await suite.newPage();
    await desk.page.goto('/console');
    checked['console sign-in'] = await axeViolations(desk.page);
    await signInClerk(desk.page, clerk);
    checked['console'] = await axeViolations(desk.page);
    await desk.page.goto('/console/licences/new?type=driving-licence');
    checked['console new licence'] = await axeViolations(desk.page);
    await desk.page.goto('/console');
    await desk.page.locator('table a[href^="/console/licences/"]').first().click();
    checked['console licence'] = await axeViolations(desk.page);
    await desk.context.close();
    expect(checked).toEqual(Object.fromEntries(Object.keys(checked).map((k) => [k, []])));
  });
});
