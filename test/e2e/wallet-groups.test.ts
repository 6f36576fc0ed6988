import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { postJson } from '../support/http-api.js';
import { axeViolations, browserSuite, phone, signInToWallet } from '../support/browser.js';
import { drivingLicenceBody, expectJson, issued, licencePath } from '../support/licences.js';
import { clientCredentialsToken } from '../support/runtime.js';

/**
 * Acting for an enterprise, the wallet lists the enterprise's licences and the person's own in two
 * labelled groups (企业证照 / 个人证照), valid first within each; signed in as oneself, one plain list.
 * The demo citizen holds a driving licence and represents the demo entity, which holds a business
 * licence; a second, revoked driving licence is added, issued later so that newest-first alone would
 * put it on top.
 */
describe('the wallet’s enterprise and personal groups', () => {
  const suite = browserSuite();

  beforeAll(async () => {
    const { runtime } = suite;
    const token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const revoked = await issued(
      runtime,
      token,
      drivingLicenceBody(runtime.credentials.citizen.idNumber, {
        holderName: runtime.credentials.citizen.name,
        fields: { vehicleClass: 'B2', firstIssuedOn: '2012-05-01', archiveNumber: '110100888001' },
      }),
    );
    await expectJson(
      await postJson(runtime, `${licencePath(revoked.id)}/status`, token, {
        status: 'revoked',
        reason: '测试',
      }),
      200,
    );
  });

  async function signIn(actFor: 'self' | 'entity', path: string): Promise<Page> {
    const { page } = await suite.newPage({ viewport: phone, mobile: true });
    page.setDefaultTimeout(8000);
    const { citizen, entity } = suite.runtime.credentials;
    await signInToWallet(page, citizen, { actFor: actFor === 'entity' ? entity.creditCode : 'self' });
    await page.goto(path);
    return page;
  }

  /** Each group's heading and the statuses and types of its cards, in order. */
  const groupsOf = (page: Page) =>
    page.locator('section.wallet-group').evaluateAll((sections) =>
      sections.map((section) => ({
        heading: section.querySelector('h3')?.textContent?.replace(/\s+/g, ' ').trim(),
        cards: Array.from(section.querySelectorAll('article.licence-card')).map(
          (card) => `${card.getAttribute('data-status')} ${card.querySelector('h4')?.textContent?.trim()}`,
        ),
      })),
    );

  it('an agent acting for the enterprise sees 企业证照 and 个人证照, valid first in each', async () => {
    const page = await signIn('entity', '/wallet');
    await expect(groupsOf(page)).resolves.toEqual([
      { heading: '企业证照 (1)', cards: ['valid 营业执照'] },
      { heading: '个人证照 (2)', cards: ['valid 机动车驾驶证', 'revoked 机动车驾驶证'] },
    ]);
    // Each group is a list named by its heading, for a screen reader's list of lists.
    await expect(page.getByRole('list', { name: '企业证照 (1)' }).count()).resolves.toBe(1);
    await expect(page.getByRole('region', { name: '个人证照 (2)' }).count()).resolves.toBe(1);
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
      phone.width,
    );
    await expect(axeViolations(page)).resolves.toEqual([]);
    await page.context().close();
  });

  it('says the same in English', async () => {
    const page = await signIn('entity', '/wallet?lang=en');
    await expect(groupsOf(page)).resolves.toEqual([
      { heading: 'Enterprise licences (1)', cards: ['valid Business licence'] },
      { heading: 'Personal licences (2)', cards: ['valid Driving licence', 'revoked Driving licence'] },
    ]);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await page.context().close();
  });

  it('a person signed in as themselves, with only personal licences, sees one list and no group headings', async () => {
    const page = await signIn('self', '/wallet');
    await expect(page.locator('section.wallet-group').count()).resolves.toBe(0);
    await expect(page.getByRole('heading', { name: /企业证照|个人证照/ }).count()).resolves.toBe(0);
    const statuses = await page
      .locator('article.licence-card')
      .evaluateAll((cards) => cards.map((card) => card.getAttribute('data-status')));
    expect(statuses).toEqual(['valid', 'revoked']);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await page.context().close();
  });
});
