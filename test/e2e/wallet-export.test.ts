import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { axeViolations, browserSuite, signInOnLoginPage, signInToWallet } from '../support/browser.js';

/**
 * Exporting one's data from the wallet in Chromium (我的账号 › 导出我的数据): the link asks for a sign-in
 * made now, the page says what the file holds, and its button downloads the file (`GET /me/export`, passed
 * on): the person's licences with their signed credentials, nothing raw of their number. A sign-in the
 * API refuses for it (one acting for an enterprise; one gone stale alike) is sent to sign in again, and
 * comes back to the page. The export is then in the usage record. The pages pass axe.
 */
describe('exporting my data from the wallet in a browser', () => {
  const suite = browserSuite();

  it('signs in again, then downloads the file, recorded in the usage record', async () => {
    const { citizen } = suite.runtime.credentials;
    const { page, context, errors } = await suite.newPage();
    page.setDefaultTimeout(8000);
    const checked: Record<string, string[]> = {};
    await signInToWallet(page, citizen);
    errors.length = 0; // the provider's pages' favicon 404 (see wallet.test.ts)
    await page.goto('/wallet/account');
    checked['account'] = await axeViolations(page);

    await page.locator('#account-export-link').click();
    // The provider asks for the password again (max_age=0), then comes back to the export page.
    await signInOnLoginPage(page, citizen);
    await page.waitForURL(/\/wallet\/account\/export$/);
    await page.locator('#account-export-holds').waitFor();
    checked['export'] = await axeViolations(page);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#account-export-submit').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^elicence-data-export-\d{8}\.json$/);
    const text = await readFile((await download.path())!, 'utf8');
    const document = JSON.parse(text) as {
      format: string;
      account: { name: string; masked: string };
      licences: { items: Array<{ type: string; credential: string }> };
    };
    expect(document.format).toBe('elicence-data-export/1');
    expect(document.account.name).toBe(citizen.name);
    expect(document.licences.items.map((licence) => licence.type)).toContain('driving-licence');
    expect(document.licences.items.every((licence) => licence.credential.split('.').length === 3)).toBe(true);
    const credentials = document.licences.items.map((licence) => licence.credential);
    expect(credentials.reduce((rest, jws) => rest.replaceAll(jws, ''), text)).not.toContain(citizen.idNumber);
    // The file is whole: the page says nothing of a cut.
    await expect(page.locator('#account-export-cut').isHidden()).resolves.toBe(true);

    // Recorded: the usage record's newest entry says so, in words.
    await page.goto('/wallet/usage');
    await expect(page.locator('#usage-list li').first().textContent()).resolves.toContain(
      '您导出了您的数据副本',
    );
    checked['usage'] = await axeViolations(page);

    await context.close();
    expect(errors).toEqual([]);
    expect(checked).toEqual(Object.fromEntries(Object.keys(checked).map((k) => [k, []])));
  });

  it('says on the page, in words, when the file was cut at its budget, and where the rest is read', async () => {
    const { citizen } = suite.runtime.credentials;
    const { page, context, errors } = await suite.newPage();
    page.setDefaultTimeout(8000);
    await signInToWallet(page, citizen);
    errors.length = 0;
    await page.goto('/wallet/account');
    await page.locator('#account-export-link').click();
    await signInOnLoginPage(page, citizen);
    await page.waitForURL(/\/wallet\/account\/export$/);
    // The real answer, cut as the export cuts a record past its budget (5,000 entries, 50 pages read or
    // 3.5 MB: too many entries to make here): its usage record kept to its newest entry, and `truncated`
    // saying so, with the cursor the record goes on from.
    const cursor = 'eyJwayI6ImN1dC1oZXJlIn0';
    await page.route('**/wallet/account/export', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      // With the headers the browser sent (a form's navigation, the page's Origin among them).
      const response = await route.fetch({ headers: await route.request().allHeaders() });
      if (!/^attachment/.test(response.headers()['content-disposition'] ?? ''))
        return route.fulfill({ response });
      const document = JSON.parse(await response.text()) as {
        usage: { items: unknown[] };
        truncated: unknown[];
      };
      document.usage.items = document.usage.items.slice(0, 1);
      document.truncated = [{ section: 'usage', included: document.usage.items.length, cursor }];
      await route.fulfill({ response, body: JSON.stringify(document) });
    });
    const downloaded = page.waitForEvent('download');
    downloaded.catch(() => undefined); // awaited below, once the page is checked
    await page.locator('#account-export-submit').click();
    // The page says it was cut, how much of the record the file holds, and where to read the rest.
    const cut = page.locator('#account-export-cut');
    await cut.waitFor();
    await expect(cut.getAttribute('role')).resolves.toBe('alert');
    // The file is still saved, under its own name, as the API cut it.
    const download = await downloaded;
    expect(download.suggestedFilename()).toMatch(/^elicence-data-export-\d{8}\.json$/);
    const saved = JSON.parse(await readFile((await download.path())!, 'utf8')) as {
      usage: { items: unknown[] };
      truncated: unknown[];
    };
    const included = saved.usage.items.length;
    expect(included).toBeLessThanOrEqual(1);
    expect(saved.truncated).toEqual([{ section: 'usage', included, cursor }]);
    const words = (await cut.textContent())!.replace(/\s+/g, '');
    expect(words).toContain('文件不完整');
    expect(words).toContain(`最近的${included}条用证记录`);
    expect(words).toContain('更早的用证记录不在文件中');
    await expect(page.locator('#account-export-rest').getAttribute('href')).resolves.toBe(
      `/wallet/usage?cursor=${cursor}`,
    );
    expect(await axeViolations(page)).toEqual([]);
    await context.close();
    expect(errors).toEqual([]);
  });

  it('a sign-in the API refuses for the export (acting for an enterprise) is sent to sign in again', async () => {
    const { citizen, entity } = suite.runtime.credentials;
    const { page, context, errors } = await suite.newPage();
    page.setDefaultTimeout(8000);
    await signInToWallet(page, citizen, { actFor: entity.creditCode });
    errors.length = 0;
    // The page itself, reached without its link: the API refuses the click (403
    // `personal_sign_in_required`), and the wallet sends the person to a personal sign-in made now.
    await page.goto('/wallet/account/export');
    await page.locator('#account-export-submit').click();
    await page.waitForURL(/\/interaction\//);
    await signInOnLoginPage(page, citizen);
    await page.waitForURL(/\/wallet\/account\/export$/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#account-export-submit').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^elicence-data-export-\d{8}\.json$/);
    await context.close();
    expect(errors).toEqual([]);
  });
});
