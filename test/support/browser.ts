import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startTestRuntime, type TestRuntime } from './runtime.js';

/** Debian's Chromium (`apt-get install -y chromium`); never a downloaded browser. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where browser tests leave their screenshots for people to look at (ignored by git). */
export const screenshotDir = join('test-results', 'screenshots');

export const phone = { width: 390, height: 844 } as const;
export const desktop = { width: 1280, height: 900 } as const;

/**
 * Launches headless Chromium with the flags this machine and CI need.
 *
 * @example
 * ```ts
 * const browser = await launchBrowser();
 * const page = await newPage(browser, runtime.baseUrl);
 * ```
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * A fresh browser context (its own cookies and service workers) on `baseUrl`, phone- or desktop-sized,
 * in Simplified Chinese unless another locale is asked for. Console errors and failed page scripts fail
 * loudly through `errors`.
 */
export async function newPage(
  browser: Browser,
  baseUrl: string,
  options: { viewport?: { width: number; height: number }; locale?: string; mobile?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: options.viewport ?? desktop,
    locale: options.locale ?? 'zh-CN',
    isMobile: options.mobile ?? false,
    hasTouch: options.mobile ?? false,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return { context, page, errors };
}

/** Saves a full-page screenshot as `test-results/screenshots/<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Signs in on the unified identity's login page (wherever the page was sent there), choosing personal
 * use or an entity if the chooser appears.
 */
export async function signInOnLoginPage(
  page: Page,
  credentials: { idNumber: string; password: string },
  actFor: 'self' | string = 'self',
): Promise<void> {
  await page.getByLabel(/身份证号|Resident ID number/).fill(credentials.idNumber);
  await page.getByLabel(/密码|Password/).fill(credentials.password);
  await page.getByRole('button', { name: /^(登录|Sign in)$/ }).click();
  await page.waitForLoadState();
  const chooser = page.locator('input[name="entity"]');
  if ((await chooser.count()) > 0 && new URL(page.url()).pathname.startsWith('/interaction/')) {
    await page.locator(`input[name="entity"][value="${actFor}"]`).check();
    await page.locator('form button[type="submit"]').first().click();
    await page.waitForLoadState();
  }
}

/**
 * Signs in to the wallet from its login page, for personal use or, given `actFor` (a credit code), for that
 * enterprise, and waits for the wallet's page `returnTo` (default `/wallet`).
 *
 * @example
 * ```ts
 * await signInToWallet(page, head, { actFor: creditCode, returnTo: '/wallet/agents' });
 * ```
 */
export async function signInToWallet(
  page: Page,
  credentials: { idNumber: string; password: string },
  options: { actFor?: 'self' | string; returnTo?: string } = {},
): Promise<void> {
  const { actFor = 'self', returnTo } = options;
  const query = new URLSearchParams({
    ...(actFor === 'self' ? {} : { as: 'entity' }),
    ...(returnTo === undefined ? {} : { returnTo }),
  }).toString();
  await page.goto(query ? `/wallet/login?${query}` : '/wallet/login');
  await signInOnLoginPage(page, credentials, actFor);
  await page.waitForURL(`**${returnTo ?? '/wallet'}`);
}

/**
 * Signs the demo agency's counter clerk (`credentials.json` `clerk`) in to the issuer console: its sign-in
 * link, the unified identity's login page, the agency chosen, back on the console's list.
 */
export async function signInClerk(
  page: Page,
  clerk: { idNumber: string; password: string; creditCode: string },
): Promise<void> {
  await page.goto('/console');
  await page
    .getByRole('link', { name: /^(通过统一身份认证登录|Sign in with the unified identity)$/ })
    .click();
  await page.waitForLoadState();
  await signInOnLoginPage(page, clerk, clerk.creditCode);
  await page.waitForURL((url) => url.pathname === '/console');
}

/** A describe block's real local runtime and browser, started once before its tests and closed after. */
export interface BrowserSuite {
  readonly runtime: TestRuntime;
  readonly browser: Browser;
  /** {@link newPage} on this suite's runtime. */
  newPage(options?: Parameters<typeof newPage>[2]): ReturnType<typeof newPage>;
}

/**
 * Starts the runtime and the browser for the calling `describe` block (in parallel: both take a second or
 * two) and closes them after its tests.
 *
 * @example
 * ```ts
 * const suite = browserSuite();
 * it('…', async () => { const { page } = await suite.newPage(); await page.goto('/'); });
 * ```
 */
export function browserSuite(env: Record<string, string> = {}): BrowserSuite {
  let runtime: TestRuntime | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    [runtime, browser] = await Promise.all([startTestRuntime(undefined, env), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('browserSuite: used before its beforeAll ran');
    return value;
  };
  return {
    get runtime() {
      return started(runtime);
    },
    get browser() {
      return started(browser);
    },
    newPage: (options) => newPage(started(browser), started(runtime).baseUrl, options),
  };
}

let axeSource: Promise<string> | undefined;

/**
 * The WCAG 2.1 A and AA violations axe-core finds on the page as it is now (labels, names, contrast,
 * landmarks, language, ARIA), one line each: `<rule id> (<impact>): <help> at <targets>`. axe runs through
 * the DevTools protocol, so the page's own CSP stays on.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(await axeSource);
  const found = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (o: unknown) => Promise<{ violations: unknown }> } })
      .axe;
    const result = await axe.run({
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations;
  });
  return (
    found as Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }>
  ).map(
    (v) => `${v.id} (${v.impact ?? '?'}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
}
