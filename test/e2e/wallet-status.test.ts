import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { postJson } from '../support/http-api.js';
import { axeViolations, browserSuite, phone, screenshot, signInToWallet } from '../support/browser.js';
import {
  drivingLicenceBody,
  expectJson,
  issued,
  licencePath,
  type LicenceJson,
} from '../support/licences.js';
import { clientCredentialsToken } from '../support/runtime.js';

/**
 * A licence that is not valid, as its holder sees it: said first and in its colour on every page, after
 * the valid ones, never offered as the main "出示二维码", and on its QR page the words a verifier will see.
 */
describe('the wallet with a revoked and a suspended licence', () => {
  const suite = browserSuite();
  let revoked: LicenceJson;
  let suspended: LicenceJson;

  beforeAll(async () => {
    const { runtime } = suite;
    const token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const idNumber = runtime.credentials.citizen.idNumber;
    const holderName = runtime.credentials.citizen.name;
    // Issued after the seeded (valid) one, so newest-first alone would put them on top.
    revoked = await issued(
      runtime,
      token,
      drivingLicenceBody(idNumber, {
        holderName,
        fields: { vehicleClass: 'B2', firstIssuedOn: '2012-05-01', archiveNumber: '110100777001' },
      }),
    );
    suspended = await issued(
      runtime,
      token,
      drivingLicenceBody(idNumber, {
        holderName,
        fields: { vehicleClass: 'A1', firstIssuedOn: '2010-05-01', archiveNumber: '110100777002' },
      }),
    );
    for (const [licence, status] of [
      [revoked, 'revoked'],
      [suspended, 'suspended'],
    ] as const) {
      await expectJson(
        await postJson(runtime, `${licencePath(licence.id)}/status`, token, { status, reason: '测试' }),
        200,
      );
    }
  });

  async function signedIn(options: Parameters<typeof suite.newPage>[0] = {}, path = '/wallet') {
    const opened = await suite.newPage(options);
    opened.page.setDefaultTimeout(8000);
    await signInToWallet(opened.page, suite.runtime.credentials.citizen);
    if (path !== '/wallet') await opened.page.goto(path);
    return opened;
  }

  const cards = (page: Page) => page.locator('article.licence-card');

  it('lists the valid licence first, and says on each other card what is wrong, in words and colour', async () => {
    const { page, context } = await signedIn();
    const statuses = await cards(page).evaluateAll((all) =>
      all.map((card) => card.getAttribute('data-status')),
    );
    expect(statuses[0]).toBe('valid');
    expect(statuses.indexOf('suspended')).toBeLessThan(statuses.indexOf('revoked'));
    const revokedCard = cards(page).filter({ hasText: '110100777001' });
    // The status comes before the type's name, and is said in a sentence as well as a badge.
    await expect(revokedCard.locator('.badge').textContent()).resolves.toBe('已吊销');
    await expect(revokedCard.locator('.licence-card-warning').textContent()).resolves.toContain(
      '不能再作为有效证照使用',
    );
    const order = await revokedCard.evaluate((card) =>
      Array.from(card.querySelectorAll('.badge, h3'), (element) => element.tagName),
    );
    expect(order).toEqual(['SPAN', 'H3']);
    // Red edge for revoked, amber for suspended, green for valid.
    const edge = (locator: ReturnType<typeof cards>) =>
      locator.evaluate((card) => getComputedStyle(card).borderTopColor);
    const [valid, bad, warn] = await Promise.all([
      edge(cards(page).first()),
      edge(revokedCard),
      edge(cards(page).filter({ hasText: '110100777002' })),
    ]);
    expect(new Set([valid, bad, warn]).size).toBe(3);
    // Two driving licences are told apart by their number, and each card names issuer and issue date.
    const texts = await cards(page).filter({ hasText: '机动车驾驶证' }).allTextContents();
    expect(texts.length).toBeGreaterThanOrEqual(3);
    for (const text of texts) {
      expect(text).toContain('档案编号');
      expect(text).toContain('签发日期');
      expect(text).toContain(revoked.issuer.name);
    }
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'wallet-revoked');
    await context.close();
  });

  it('does not offer a revoked licence as the main action, and its QR page says what the verifier sees', async () => {
    const { page, context, errors } = await signedIn(
      {},
      `/wallet/licences/${encodeURIComponent(revoked.id)}`,
    );
    errors.length = 0;
    const note = page.locator('#licence-status-notice');
    await expect(note.textContent()).resolves.toContain('此证照已吊销');
    await expect(note.evaluate((element) => element.classList.contains('error'))).resolves.toBe(true);
    // The warning comes before the licence's details.
    const first = await page.locator('main h1 ~ *').first().getAttribute('id');
    expect(first).toBe('licence-status-notice');
    await expect(page.getByRole('button', { name: '出示二维码', exact: true }).count()).resolves.toBe(0);
    const anyway = page.getByRole('button', { name: /仍要出示/ });
    await expect(anyway.evaluate((element) => element.classList.contains('secondary'))).resolves.toBe(true);
    await expect(page.locator('#show-qr-warning').textContent()).resolves.toContain(
      '核验方会看到此证照“已吊销”',
    );
    await expect(axeViolations(page)).resolves.toEqual([]);
    await anyway.click();
    await page.waitForURL(/\/qr/);
    await expect(page.locator('#qr-status-warning').textContent()).resolves.toContain(
      '核验方扫描此二维码时会看到：已吊销',
    );
    await expect(page.locator('#presentation-qr img').isVisible()).resolves.toBe(true);
    await expect(axeViolations(page)).resolves.toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('says the same in English, and on a phone the suspended licence’s warning fits the screen', async () => {
    const { page, context } = await signedIn(
      { viewport: phone, mobile: true },
      `/wallet/licences/${encodeURIComponent(suspended.id)}?lang=en`,
    );
    await expect(page.locator('#licence-status-notice').textContent()).resolves.toContain(
      'This licence is suspended',
    );
    await expect(page.getByRole('button', { name: 'Show it anyway (as “Suspended”)' }).count()).resolves.toBe(
      1,
    );
    await expect(page.getByRole('button', { name: 'Show QR code', exact: true }).count()).resolves.toBe(0);
    await page.goto('/wallet');
    const card = cards(page).filter({ hasText: '110100777002' });
    await expect(card.locator('.licence-card-warning').textContent()).resolves.toContain(
      'while suspended it cannot be used',
    );
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
      phone.width,
    );
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'wallet-revoked-phone-en');
    await context.close();
  });
});
