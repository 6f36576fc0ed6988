import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, launchBrowser, newPage, screenshot, signInOnLoginPage } from '../support/browser.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';

/**
 * Chromium's virtual authenticator (CDP `WebAuthn`): a platform authenticator that keeps discoverable
 * credentials and verifies its user, as a phone with a fingerprint does.
 */
async function addVirtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

/** The demo platform's sign-in, through consent if the platform asks for it, back on `/demo`. */
async function demoSignInWithPasskey(page: Page): Promise<void> {
  await page.goto('/demo');
  await page.getByRole('button', { name: '使用统一身份认证登录' }).click();
  await page.waitForURL(/\/interaction\//);
  await page.getByRole('button', { name: '使用通行密钥登录' }).click();
  // A platform that is not first-party asks for consent once; the sign-in itself was the passkey.
  const consent = page.getByRole('button', { name: /^同意$/ });
  await consent.or(page.locator('#demo-acr')).first().waitFor();
  if ((await consent.count()) > 0) await consent.click();
  await page.waitForURL(/\/demo$/);
}

describe('passkeys in a browser (Chromium’s virtual authenticator)', () => {
  let runtime: TestRuntime;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    [runtime, browser] = await Promise.all([startTestRuntime(), launchBrowser()]);
    ({ context, page, errors } = await newPage(browser, runtime.baseUrl));
    page.setDefaultTimeout(10_000);
    await addVirtualAuthenticator(page);
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.close();
  });

  let assertionBody: string | undefined;

  it('enrols a passkey in the wallet at level 3, and lists it', async () => {
    await page.goto('/wallet');
    await page.getByRole('link', { name: '登录', exact: true }).click();
    await signInOnLoginPage(page, runtime.credentials.citizen);
    await page.waitForURL('**/wallet');
    await page.locator('#wallet-passkeys').click();
    await page.waitForURL('**/wallet/passkeys');
    await expect(page.locator('#passkeys-empty').count()).resolves.toBe(1);
    await page.getByLabel('名称（可选）').fill('测试手机');
    // Adding a passkey asks for the password typed again (review R28 H1).
    await page.locator('#passkey-password').fill(runtime.credentials.citizen.password);
    await page.getByRole('button', { name: '添加通行密钥' }).click();
    await page.waitForURL('**/wallet/passkeys?added=1');
    await expect(page.locator('article.passkey h3').allTextContents()).resolves.toEqual(['测试手机']);
    await expect(axeViolations(page)).resolves.toEqual([]);
    await screenshot(page, 'passkeys-wallet');
    expect(errors.filter((e) => !e.includes('favicon'))).toEqual([]);
  });

  it('signs in to the demo platform with the passkey alone, at level 3 with amr swk', async () => {
    await context.clearCookies();
    page.on('request', (request) => {
      if (/\/interaction\/[^/]+\/passkey$/.test(new URL(request.url()).pathname)) {
        assertionBody = request.postData() ?? undefined;
      }
    });
    await demoSignInWithPasskey(page);
    await expect(page.locator('#demo-acr').textContent()).resolves.toBe('urn:elicence:loa:3');
    await expect(page.locator('main').textContent()).resolves.toContain('swk');
    await screenshot(page, 'passkeys-demo-signed-in');
    expect(assertionBody).toBeDefined();
  });

  it('refuses the same assertion replayed into another sign-in', async () => {
    await context.clearCookies();
    await page.goto('/demo');
    await page.getByRole('button', { name: '使用统一身份认证登录' }).click();
    await page.waitForURL(/\/interaction\//);
    const uid = new URL(page.url()).pathname.split('/')[2];
    // Fresh options for this interaction, as the page would fetch; the old assertion answers another challenge.
    const replayed = await page.evaluate(
      async ({ uid, body }) => {
        await fetch(`/interaction/${uid}/passkeyoptions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        const answer = await fetch(`/interaction/${uid}/passkey`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        return { status: answer.status, body: (await answer.json()) as { error?: string } };
      },
      { uid, body: assertionBody ?? '' },
    );
    expect(replayed).toEqual({ status: 401, body: expect.objectContaining({ error: 'invalid_passkey' }) });
    expect(new URL(page.url()).pathname).toBe(`/interaction/${uid}`);
  });

  it('signs in to the wallet with the passkey at level 3; a removed passkey no longer signs in', async () => {
    await context.clearCookies();
    await page.goto('/wallet');
    await page.getByRole('link', { name: '登录', exact: true }).click();
    await page.getByRole('button', { name: '使用通行密钥登录' }).click();
    await page.waitForURL('**/wallet');
    // Managing passkeys needs level 3: the passkey sign-in reached it.
    await page.goto('/wallet/passkeys');
    await expect(page.locator('#passkeys-step-up').count()).resolves.toBe(0);
    // A wrong password removes nothing; the right one, typed again, does (the passkey sign-in is fresh).
    await page.locator('#passkey-remove-password-0').fill('not-the-password-1');
    await page.getByRole('button', { name: '删除' }).click();
    await page.waitForURL('**/wallet/passkeys?wrong=1');
    await expect(page.locator('#passkeys-wrong-password').count()).resolves.toBe(1);
    await page.locator('#passkey-remove-password-0').fill(runtime.credentials.citizen.password);
    await page.getByRole('button', { name: '删除' }).click();
    await page.waitForURL('**/wallet/passkeys?removed=1');
    await expect(page.locator('#passkeys-empty').count()).resolves.toBe(1);

    await context.clearCookies();
    await page.goto('/demo');
    await page.getByRole('button', { name: '使用统一身份认证登录' }).click();
    await page.waitForURL(/\/interaction\//);
    await page.getByRole('button', { name: '使用通行密钥登录' }).click();
    await page.locator('#passkey-error:not([hidden])').waitFor();
    await expect(page.locator('#passkey-error').textContent()).resolves.toContain('通行密钥验证失败');
    await expect(axeViolations(page)).resolves.toEqual([]);
    expect(new URL(page.url()).pathname).toMatch(/^\/interaction\//);
    await screenshot(page, 'passkeys-removed-refused');
  });
});
