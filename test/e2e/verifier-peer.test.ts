import type { JWK } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage } from '../support/browser.js';
import { postJson } from '../support/http-api.js';
import { spawnRuntime, type SpawnedRuntime } from '../support/peer-runtime.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { changeStatus, issueDrivingLicence } from '../integration/verify/helpers.js';

/*
 * The verifier page (CSP `connect-src 'self'`) of platform A verifying a licence of peer platform B
 * (跨地区互认, docs/peers.md): B's status list reaches the page through A's relay at /status-lists/, so a
 * revocation at B shows in the browser.
 */

let a: TestRuntime;
let b: SpawnedRuntime;
let browser: Browser;
let adminA: string;
let peerB: string;

/** Console errors and page failures (a CSP refusal of a cross-origin fetch would be one). */
function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    const expectedEnd =
      message.text().includes('404') && new URL(message.location().url).pathname.startsWith('/status-lists/');
    if (message.type() === 'error' && !expectedEnd) errors.push(`console: ${message.text()}`);
  });
  return errors;
}

async function verifyOnPage(page: Page, credential: string): Promise<string | null> {
  await page.getByLabel('粘贴二维码内容').fill(credential);
  await page.getByRole('button', { name: '核验', exact: true }).click();
  const card = page.locator('#verdict[data-verdict]');
  await card.waitFor();
  return card.getAttribute('data-verdict');
}

beforeAll(async () => {
  [a, b, browser] = await Promise.all([
    startTestRuntime(),
    spawnRuntime({ PLATFORM_REGION: '310000' }),
    launchBrowser(),
  ]);
  adminA = await clientCredentialsToken(a, a.credentials.admin, 'admin');
  const jwks = (await (await fetch(`${b.baseUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  const registered = await postJson(a, '/admin/peers', adminA, {
    name: 'Platform 310000',
    region: '310000',
    baseUrl: b.baseUrl,
    jwks: { keys: jwks.keys.filter((key) => key.kty === 'EC') },
  });
  expect(registered.status, await registered.clone().text()).toBe(201);
  peerB = ((await registered.json()) as { id: string }).id;
}, 240_000);

afterAll(async () => {
  await Promise.all([browser?.close(), a?.close(), b?.stop()]);
});

describe('the verifier page with a peer platform’s licence', () => {
  it('reads its status from A (same origin) and shows a revocation at B', async () => {
    const issuerB = await clientCredentialsToken(b, b.credentials.issuer, 'licences:issue');
    const licence = await issueDrivingLicence(b, issuerB);
    const { page, context } = await newPage(browser, a.baseUrl);
    page.setDefaultTimeout(10_000);
    const errors = pageErrors(page);
    const statusFetches: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/status-lists/')) statusFetches.push(url.origin);
    });
    await page.goto('/verifier');
    await page.locator('#verifier[data-ready="true"]').waitFor();

    expect(await verifyOnPage(page, licence.credential)).toBe('valid');
    await changeStatus(b, issuerB, licence.id, 'revoked');
    // A refresh of B at A drops A's relayed copy at once (else within a minute).
    const refreshed = await postJson(a, `/admin/peers/${peerB}/refresh`, adminA, {});
    expect(refreshed.status).toBe(200);
    await page.locator('#verdict[data-verdict]').evaluate((card) => card.removeAttribute('data-verdict'));
    await page.getByLabel('粘贴二维码内容').fill(licence.credential);
    await page.getByRole('button', { name: '核验', exact: true }).click();
    await page.locator('#verdict[data-verdict="revoked"]').waitFor();

    expect(statusFetches.length).toBeGreaterThan(0);
    expect(new Set(statusFetches)).toEqual(new Set([a.baseUrl]));
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
