import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  axeViolations,
  browserSuite,
  phone,
  screenshot,
  signInToWallet,
  signInClerk,
} from '../support/browser.js';
import { onboardIssuer, postJson } from '../support/http-api.js';
import { clientCredentialsToken } from '../support/runtime.js';
import { issueDrivingLicence } from '../integration/verify/helpers.js';

/**
 * The printable licence's downloads (docs/printable-licence.md) as people find them: on the wallet's
 * licence page on a phone, in both languages, axe-clean and without sideways scrolling, a tap that
 * saves a PDF; on the console's licence page, the QR code large enough to scan off the screen.
 */
describe('the printable licence in the wallet and the console', () => {
  const suite = browserSuite();

  const noSidewaysScroll = (page: Page) =>
    page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

  it('the wallet offers the PDFs and their signatures on a phone, in Chinese and in English', async () => {
    const { page, errors } = await suite.newPage({ viewport: phone, mobile: true });
    page.setDefaultTimeout(8000);
    await signInToWallet(page, suite.runtime.credentials.citizen);
    errors.length = 0; // the provider's pages' favicon 404 (see wallet.test.ts)
    const href = await page.locator('article.licence-card a').first().getAttribute('href');
    expect(href).toMatch(/^\/wallet\/licences\//);

    for (const [lang, a4, card, heading] of [
      ['', 'A4 版 PDF', '卡片版 PDF', '下载打印'],
      ['?lang=en', 'A4 PDF', 'Card-size PDF', 'Download and print'],
    ] as const) {
      await page.goto(`${href}${lang}`);
      await expect(page.getByRole('heading', { name: heading }).isVisible()).resolves.toBe(true);
      await expect(page.getByRole('link', { name: card, exact: true }).isVisible()).resolves.toBe(true);
      await expect(noSidewaysScroll(page)).resolves.toBe(true);
      await expect(axeViolations(page)).resolves.toEqual([]);
      await screenshot(page, `printable-wallet-phone${lang ? '-en' : ''}`);

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: a4, exact: true }).click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^licence-[0-9A-Za-z]+-a4\.pdf$/);
      const bytes = await readFile((await download.path())!);
      expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    }
    expect(errors).toEqual([]);
  });

  it('the console shows the QR code at 3 CSS pixels a module or more, with the downloads', async () => {
    const { page, errors } = await suite.newPage();
    page.setDefaultTimeout(8000);
    await signInClerk(page, suite.runtime.credentials.clerk);
    const href = await page.locator('a[href^="/console/licences/1"]').first().getAttribute('href');
    await page.goto(href!);

    const qr = page.locator('.console-qr img');
    const { width, modules } = await qr.evaluate((img) => {
      const svg = atob((img as HTMLImageElement).src.split(',')[1]!);
      const viewBox = /viewBox="0 0 (\d+) \d+"/.exec(svg);
      return { width: img.getBoundingClientRect().width, modules: Number(viewBox?.[1]) };
    });
    expect(modules).toBeGreaterThan(21);
    expect(width / modules).toBeGreaterThanOrEqual(3);
    await expect(page.getByRole('link', { name: '下载 A4 版 PDF' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('link', { name: '下载卡片版 PDF' }).isVisible()).resolves.toBe(true);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'printable-console');
    expect(errors).toEqual([]);
  });

  // Last in the file: it gives the citizen a licence whose key is withdrawn, which the tests above need not see.
  it('the wallet says why a licence whose issuer key was withdrawn has no signature, on a phone, in both languages', async () => {
    const { runtime } = suite;
    const { admin, citizen } = runtime.credentials;
    const adminToken = await clientCredentialsToken(runtime, admin, 'admin');
    const compromised = await onboardIssuer(runtime, adminToken, {
      name: '上海市公安局交通警察总队',
      licenceTypes: ['driving-licence'],
    });
    const issued = await issueDrivingLicence(
      runtime,
      await clientCredentialsToken(runtime, compromised, 'licences:issue'),
      { holder: { idNumber: citizen.idNumber }, holderName: citizen.name },
    );
    const rotated = await postJson(runtime, `/admin/issuers/${compromised.id}/keys`, adminToken, {
      previousKey: 'withdraw',
    });
    expect(rotated.status, await rotated.clone().text()).toBe(201);

    const { page, errors } = await suite.newPage({ viewport: phone, mobile: true });
    page.setDefaultTimeout(8000);
    await signInToWallet(page, citizen);
    errors.length = 0; // the provider's pages' favicon 404 (see wallet.test.ts)
    for (const [lang, words, a4] of [
      ['', '请联系发证机关重新签发', 'A4 版 PDF'],
      ['?lang=en', 'Ask the issuing authority to issue it again', 'A4 PDF'],
    ] as const) {
      await page.goto(`/wallet/licences/${encodeURIComponent(issued.id)}${lang}`);
      const notice = page.locator('#licence-key-withdrawn');
      await expect(notice.isVisible()).resolves.toBe(true);
      await expect(notice.innerText()).resolves.toContain(words);
      // The PDFs are still offered (a record), their signatures not.
      await expect(page.getByRole('link', { name: a4, exact: true }).isVisible()).resolves.toBe(true);
      await expect(page.locator('a[href*="pdf.jws"]').count()).resolves.toBe(0);
      await expect(noSidewaysScroll(page)).resolves.toBe(true);
      await expect(axeViolations(page)).resolves.toEqual([]);
      await screenshot(page, `wallet-key-withdrawn-phone${lang ? '-en' : ''}`);
    }
    expect(errors).toEqual([]);
  });
});
