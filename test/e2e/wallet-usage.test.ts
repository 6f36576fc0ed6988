import { describe, expect, it } from 'vitest';
import { buildDependencies } from '../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../shared/identifiers/lookup-key.js';
import { axeViolations, browserSuite, phone, screenshot, signInOnLoginPage } from '../support/browser.js';
import { clientCredentialsToken } from '../support/runtime.js';
import { searchLicences } from '../support/licences.js';

describe('the wallet’s usage record (用证记录) in a browser', () => {
  const suite = browserSuite();

  /** The citizen's driving licence is verified anonymously (`anonymous` times) and by the verifier app, then shared. */
  async function arrange(anonymous: number): Promise<void> {
    const { runtime } = suite;
    const { citizen, issuer, verifier, platform } = runtime.credentials;
    const issuerToken = await clientCredentialsToken(runtime, issuer, 'licences:issue');
    const listed = await searchLicences(runtime, issuerToken, { holder: citizen.idNumber });
    const { items } = (await listed.json()) as {
      items: Array<{ id: string; type: string; credential: string }>;
    };
    const licence = items.find((one) => one.type === 'driving-licence')!;
    const verify = async (token?: string) => {
      const response = await fetch(`${runtime.baseUrl}/verify`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ qr: licence.credential }),
      });
      expect(response.status).toBe(200);
    };
    for (let i = 0; i < anonymous; i++) await verify();
    await verify(await clientCredentialsToken(runtime, verifier, 'licences:verify'));
    // A share (授权用证), as the sharing route records it: through the audit port.
    const deps = buildDependencies(runtime.config);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await deps.audit.record({
      at: new Date().toISOString(),
      actor: platform.clientId,
      action: 'licence.shared',
      licenceId: licence.id,
      licenceType: licence.type,
      holderKey: await personLookupKey(deps.lookupMac, parseIdNumber(citizen.idNumber, new Date())),
      purpose: '办理车辆登记',
    });
  }

  it('lists who used the licence in words, newest first, pages back, in both languages, axe-clean', async () => {
    await arrange(20);
    const { page, errors, context } = await suite.newPage();
    page.setDefaultTimeout(8000);
    await page.goto('/wallet');
    await page.getByRole('link', { name: '登录', exact: true }).click();
    await signInOnLoginPage(page, suite.runtime.credentials.citizen);
    await page.waitForURL('**/wallet');
    errors.length = 0; // the provider's pages' favicon 404 (see wallet.test.ts)

    await page.getByRole('link', { name: '用证记录' }).click();
    await page.waitForURL('**/wallet/usage');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('用证记录');
    const entries = page.locator('#usage-list > li');
    await expect(entries.count()).resolves.toBe(20);
    const text = (index: number) => entries.nth(index).innerText();
    await expect(text(0)).resolves.toMatch(
      /您授权 示范政务服务平台 使用您的 机动车驾驶证，用途：“?办理车辆登记”?\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/,
    );
    await expect(text(1)).resolves.toMatch(
      /^Demo verifier app 核验了您的 机动车驾驶证\s+有效 · \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/,
    );
    await expect(text(2)).resolves.toMatch(/^匿名核验：您的 机动车驾驶证\s+有效 · /);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'wallet-usage');

    // 23 entries, 20 a page: the older ones are a link away, and the way back to the newest. The oldest is
    // the issuer's search by holder that found the licence (privacy review L4: an agency's reads are
    // recorded for the person).
    await page.getByRole('link', { name: '更早的记录' }).click();
    await expect(entries.count()).resolves.toBe(3);
    await expect(text(1)).resolves.toMatch(/^匿名核验/);
    await expect(text(2)).resolves.toMatch(/查阅了其签发给您的 机动车驾驶证/);
    await expect(page.getByRole('link', { name: '更早的记录' }).count()).resolves.toBe(0);
    await page.getByRole('link', { name: '回到最新记录' }).click();
    await expect(entries.count()).resolves.toBe(20);

    await page.goto('/wallet/usage?lang=en');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Licence usage');
    await expect(text(0)).resolves.toMatch(
      /^You allowed Demo government platform to use your Driving licence, for: /,
    );
    await expect(text(1)).resolves.toMatch(/^Demo verifier app verified your Driving licence\s+Valid · /);
    await expect(text(2)).resolves.toMatch(/^Anonymous verification of your Driving licence/);
    await expect(axeViolations(page)).resolves.toEqual([]);
    expect(errors).toEqual([]);
    // A cursor the record did not make: the wallet's error page (a 400), not a crash.
    const refused = await page.goto('/wallet/usage?cursor=nonsense');
    expect(refused?.status()).toBe(400);
    await context.close();
  });

  it('fits a phone: nothing scrolls sideways, axe-clean', async () => {
    const { page, errors, context } = await suite.newPage({ viewport: phone, mobile: true });
    await page.goto('/wallet/usage');
    await signInOnLoginPage(page, suite.runtime.credentials.citizen);
    await page.waitForURL('**/wallet/usage');
    errors.length = 0;
    await expect(page.locator('#usage-list > li').count()).resolves.toBeGreaterThan(0);
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
      phone.width,
    );
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'wallet-usage-phone');
    expect(errors).toEqual([]);
    await context.close();
  });
});
