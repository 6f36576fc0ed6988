import { describe, expect, it } from 'vitest';
import { browserSuite, phone } from '../support/browser.js';

describe('the landing page in a browser', () => {
  const suite = browserSuite();

  it('says what the service is, links every page, and shows the local demo accounts', async () => {
    const { page, errors, context } = await suite.newPage();
    await page.goto('/');
    await expect.poll(() => page.title()).toContain('电子证照');
    for (const name of ['我的证照', '扫码核验', '演示平台', '发证机关控制台']) {
      await expect(page.getByRole('link', { name }).first().isVisible()).resolves.toBe(true);
    }
    const demo = page.getByRole('region', { name: /演示账号/ });
    await expect(demo.textContent()).resolves.toContain(suite.runtime.credentials.citizen.idNumber);
    await expect(demo.textContent()).resolves.toContain(suite.runtime.credentials.citizen.password);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('switches to English and remembers the choice', async () => {
    const { page, context } = await suite.newPage({ viewport: phone, mobile: true });
    await page.goto('/');
    await page.getByRole('link', { name: 'English' }).click();
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await page.getByRole('link', { name: 'Home' }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'E-licences and unified identity',
    );
    await context.close();
  });

  it('serves the stylesheet itself, with a strict content security policy', async () => {
    const response = await fetch(`${suite.runtime.baseUrl}/`);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const css = await fetch(`${suite.runtime.baseUrl}/assets/app.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    const etag = css.headers.get('etag') ?? '';
    const again = await fetch(`${suite.runtime.baseUrl}/assets/app.css`, {
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    expect((await fetch(`${suite.runtime.baseUrl}/assets/..%2Fpackage.json`)).status).toBe(404);
  });
});
