import { expect } from 'vitest';
import {
  authorizationRequest,
  demoPlatform,
  runFlow,
  type AuthorizationRequest,
  type RelyingParty,
} from './oidc-flows.js';
import { startTestRuntime, type TestRuntime } from './runtime.js';
import { UserAgent } from './user-agent.js';

/*
 * Scan-to-login over real HTTP with two cookie jars: the browser that shows a platform's sign-in page and
 * its QR code, and wallet sessions that open the code's link and answer (docs/sign-in.md).
 */

/** A browser on a platform's sign-in page: its request, its interaction, its code's link, the page. */
export interface ShownSignIn {
  browser: UserAgent;
  request: AuthorizationRequest;
  uid: string;
  link: string;
  html: string;
}

/** A runtime whose scan-to-login codes last `lifetimeSeconds` and whose waiting page polls each `waitSeconds`, and the demo platform. */
export async function startScanLoginRuntime(
  lifetimeSeconds: number,
  waitSeconds: number,
): Promise<{ runtime: TestRuntime; rp: RelyingParty }> {
  const runtime = await startTestRuntime(undefined, {
    SCAN_LOGIN_SECONDS: String(lifetimeSeconds),
    SCAN_LOGIN_WAIT_SECONDS: String(waitSeconds),
  });
  return { runtime, rp: await demoPlatform(runtime) };
}

/** The scan-to-login link of a sign-in page. */
export const scanLinkOf = (html: string) => /id="scan-login-link"[^>]*href="([^"]+)"/.exec(html)?.[1] ?? '';

/** The path of a sign-in page's QR image. */
export const scanQrOf = (html: string) =>
  /<img[^>]*id="scan-login-qr"[^>]*src="(\/interaction\/[^"]+\/qr)"/.exec(html)?.[1];

/**
 * `browser` (a new one by default) on `platform`'s sign-in page, asked with `params`, its QR image fetched
 * as a browser showing the page does (which stores the code): an SVG.
 *
 * @example
 * ```ts
 * const shown = await showSignIn(runtime, rp, { prompt: 'login' });
 * ```
 */
export async function showSignIn(
  runtime: TestRuntime,
  platform: RelyingParty,
  params: Record<string, string> = {},
  browser = new UserAgent(runtime.baseUrl, [platform.redirectUri]),
): Promise<ShownSignIn> {
  const request = await authorizationRequest(platform, params);
  const outcome = await runFlow(browser, request.url);
  expect(outcome.stoppedAt).toBe('login');
  const html = outcome.page!.html;
  const uid = /^\/interaction\/([^/]+)$/.exec(outcome.page!.url.pathname)?.[1] ?? '';
  const qr = scanQrOf(html);
  expect(qr).toBeDefined();
  const image = await browser.request(qr!, { headers: { accept: 'image/*' } });
  expect(image.status).toBe(200);
  expect(image.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
  expect(await image.text()).toMatch(/^(<\?xml[^>]*>\s*)?<svg/);
  return { browser, request, uid, link: scanLinkOf(html), html };
}

/** A wallet session signed in by password (it lands on `/wallet`). */
export async function walletSignedIn(
  runtime: TestRuntime,
  idNumber: string,
  password: string,
): Promise<UserAgent> {
  const agent = new UserAgent(runtime.baseUrl);
  const outcome = await runFlow(agent, '/wallet/login', { username: idNumber, password });
  expect(outcome.page?.url.pathname).toBe('/wallet');
  return agent;
}

/** The wallet's answer to a code it opened (`link`): the page's status and HTML. */
export async function answerScan(agent: UserAgent, link: string, decision: 'confirm' | 'cancel') {
  const response = await agent.request(new URL(link).pathname, { form: { decision } });
  return { status: response.status, html: await response.text() };
}

/**
 * The showing browser's waiting page, with its answer to "sign in as 王*明?" when given: where it leaves
 * the service (`leftTo`), or the page it stops at.
 */
export async function pollScan(shown: Pick<ShownSignIn, 'browser' | 'uid'>, scanAs?: 'continue' | 'not_me') {
  const outcome = await runFlow(shown.browser, `/interaction/${shown.uid}/scan`, scanAs ? { scanAs } : {});
  return { leftTo: outcome.callback, page: outcome.page, steps: outcome.steps };
}
