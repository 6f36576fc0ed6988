import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { DynamoIssuerStore } from '../../shared/adapters/dynamo/issuer-store.js';
import { licenceTypes } from '../../shared/licence/catalogue.js';
import { axeViolations, browserSuite, phone, screenshot } from '../support/browser.js';
import { onboardIssuer } from '../support/http-api.js';
import { clientCredentialsToken, clientSecretConsole } from '../support/runtime.js';

/**
 * The console offers an issuer only the licence types its trust-list entry lists (not the whole
 * catalogue, to be refused after the form is filled), and says why when there are none.
 */
describe('the console offers only the issuer’s own licence types', () => {
  // The console's types follow the signed-in issuer: an onboarded one's client (the migration's sign-in).
  const suite = browserSuite(clientSecretConsole);

  async function signIn(
    page: Page,
    client: { clientId: string; clientSecret: string },
    lang = '',
  ): Promise<void> {
    await page.goto(`/console${lang}`);
    await page.locator('#clientId').fill(client.clientId);
    await page.locator('#clientSecret').fill(client.clientSecret);
    await page.locator('form button[type="submit"]').first().click();
    await page.waitForURL(/\/console(\?.*)?$/);
  }

  const offered = (page: Page) =>
    page
      .locator('input[name="type"]')
      .evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value));

  it('lists the demo issuer’s two types, in both languages, and refuses another type by URL', async () => {
    const { page, errors, context } = await suite.newPage();
    await signIn(page, suite.runtime.credentials.issuer);
    await page.goto('/console/licences/new');
    expect((await offered(page)).sort()).toEqual(['business-licence', 'driving-licence']);
    expect(licenceTypes.length).toBeGreaterThan(2);
    await expect(page.locator('#licence-types-hint').textContent()).resolves.toContain(
      '只列出本机关获准签发的证照类型（共 2 种）',
    );
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'console-choose-type');

    // A type it may not issue, typed into the address bar: refused before any form is filled.
    const refused = await page.goto('/console/licences/new?type=marriage-certificate');
    expect(refused?.status()).toBe(403);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('本机关无权签发此类证照');
    await expect(page.locator('#issue-form').count()).resolves.toBe(0);
    errors.length = 0; // the 403 above is reported by Chromium as a failed load

    await page.goto('/console/licences/new?lang=en');
    await expect(page.locator('#licence-types-hint').textContent()).resolves.toContain(
      'Only the types this issuer may issue are listed (2)',
    );
    await expect(page.getByLabel(/Marriage certificate/).count()).resolves.toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('says why when the issuer may issue no type the catalogue knows, on a phone', async () => {
    const adminToken = await clientCredentialsToken(suite.runtime, suite.runtime.credentials.admin, 'admin');
    // Onboarding takes catalogue types only; an issuer left with none is one whose every type was retired
    // from the catalogue since. Its record is made so directly, as a later catalogue would find it.
    const issuer = await onboardIssuer(suite.runtime, adminToken);
    const { doc, config } = dependencies();
    const issuers = new DynamoIssuerStore(doc, config.tableName);
    const stored = (await issuers.findById(issuer.id))!;
    await issuers.save({ ...stored, licenceTypes: ['retired-licence-type'] });
    const { page, context } = await suite.newPage({ viewport: phone, mobile: true });
    await signIn(page, issuer);
    await page.goto('/console/licences/new');
    await expect(page.locator('#no-licence-types').textContent()).resolves.toContain(
      '本机关目前没有获准签发的证照类型',
    );
    await expect(page.locator('input[name="type"]').count()).resolves.toBe(0);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
      phone.width,
    );
    await page.goto('/console/licences/new?lang=en');
    await expect(page.locator('#no-licence-types').textContent()).resolves.toContain(
      'not allowed to issue any licence type',
    );
    await screenshot(page, 'console-no-types-phone-en');
    await context.close();
  });
});
