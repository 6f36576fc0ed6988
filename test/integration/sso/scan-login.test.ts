import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { postJson, scanItems } from '../../support/http-api.js';
import {
  authorizationRequest,
  exchange,
  runFlow,
  type RelyingParty,
  citizenAnswers,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import {
  answerScan,
  pollScan,
  showSignIn as showPlatformSignIn,
  startScanLoginRuntime,
  walletSignedIn as walletSignedInAs,
  type ShownSignIn,
} from '../../support/scan-login.js';
import { UserAgent } from '../../support/user-agent.js';

/*
 * Scan-to-login (扫码登录) over real HTTP, with two cookie jars: the browser that shows the sign-in page
 * and its QR code, and a wallet session that opens the code's link and confirms. The codes of this
 * runtime live a few seconds (SCAN_LOGIN_SECONDS), so that expiry can be seen without a fake clock, and
 * its waiting page holds a request open for two seconds (SCAN_LOGIN_WAIT_SECONDS).
 */

const lifetimeSeconds = 6;
const waitSeconds = 2;
let runtime: TestRuntime;
let rp: RelyingParty;
/** A wallet signed in as the demo citizen, at level 3 (the seed proves them in person). */
let wallet: UserAgent;

const showSignIn = (browser?: UserAgent, params: Record<string, string> = {}) =>
  showPlatformSignIn(runtime, rp, params, browser);
const walletSignedIn = (idNumber: string, password: string) => walletSignedInAs(runtime, idNumber, password);
const answer = answerScan;

const pathOf = (link: string) => new URL(link).pathname;
const scanCookieName = 'scan-login';
const scanCookie = (browser: UserAgent) =>
  browser
    .cookieHeader(new URL('/', runtime.baseUrl))
    .split('; ')
    .find((pair) => pair.startsWith(`${scanCookieName}=`))
    ?.slice(scanCookieName.length + 1);

/** A GET of `path` with `browser`'s cookies, the scan-to-login cookie replaced by `value`. */
function withScanCookie(browser: UserAgent, path: string, value: string) {
  const url = new URL(path, runtime.baseUrl);
  const cookies = browser
    .cookieHeader(url)
    .split('; ')
    .filter((pair) => pair && !pair.startsWith(`${scanCookieName}=`));
  return fetch(url, {
    headers: { accept: 'text/html', cookie: [...cookies, `${scanCookieName}=${value}`].join('; ') },
    redirect: 'manual',
  });
}

/**
 * The waiting page's poll: the page (still waiting, or a problem), or where the finished sign-in left
 * (after "sign in as 王*明?", which the person continues, and the demo platform's consent page, which
 * the person allows).
 */
const poll = (shown: ShownSignIn) => pollScan(shown, 'continue');

beforeAll(async () => {
  ({ runtime, rp } = await startScanLoginRuntime(lifetimeSeconds, waitSeconds));
  const { citizen } = runtime.credentials;
  wallet = await walletSignedIn(citizen.idNumber, citizen.password);
});
afterAll(() => runtime?.close());

describe('scan-to-login', () => {
  it('shows a QR code and the same ISSUER_URL link on the sign-in page, bound by an HttpOnly cookie', async () => {
    const shown = await showSignIn();
    expect(shown.link).toMatch(new RegExp(`^${runtime.baseUrl}/scan-login/[A-Za-z0-9_-]{43}$`));
    // A new code's QR image is fetched from the interaction's own path, which stores the code then.
    expect(shown.html).toMatch(/<img[^>]*id="scan-login-qr"[^>]*src="\/interaction\/[^"/]+\/qr"/);
    // No inline script: the only script is the passkey button's file, which scan-to-login does not need.
    // No script but the passkey button's and the code's countdown (review R62-4), none inline.
    expect(shown.html).not.toMatch(
      /<script(?![^>]*\ssrc="\/assets\/(?:passkey-sign-in|scan-login-timer)\.js")/,
    );
    // The password form stays the page's first form.
    expect(/<form[^>]*action="([^"]+)"/.exec(shown.html)?.[1]).toBe(`/interaction/${shown.uid}/login`);
    // The code, the browser's binding, and the service's MAC over both and this sign-in.
    expect(scanCookie(shown.browser)).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    // The same sign-in page shown again (here in English) keeps its code; a new sign-in gets a new one.
    const shownAgain = await shown.browser.navigate(`/interaction/${shown.uid}?lang=en`);
    expect(/id="scan-login-link"[^>]*href="([^"]+)"/.exec(shownAgain.page!.html)?.[1]).toBe(shown.link);
    const again = await showSignIn(shown.browser);
    expect(again.link).not.toBe(shown.link);
  });

  it('stores the code when its QR image is fetched, not when the sign-in page is shown', async () => {
    const browser = new UserAgent(runtime.baseUrl, [rp.redirectUri]);
    const request = await authorizationRequest(rp);
    const outcome = await runFlow(browser, request.url);
    const html = outcome.page!.html;
    const uid = /^\/interaction\/([^/]+)$/.exec(outcome.page!.url.pathname)?.[1] ?? '';
    const link = /id="scan-login-link"[^>]*href="([^"]+)"/.exec(html)?.[1] ?? '';
    // Shown, not fetched: the wallet finds no such code, and the waiting page says so.
    expect(await (await wallet.request(pathOf(link))).text()).toContain('id="scan-login-problem"');
    // The QR fetch of another browser (without this one's cookies) stores nothing.
    const stranger = new UserAgent(runtime.baseUrl);
    expect((await stranger.request(`/interaction/${uid}/qr`)).status).toBeGreaterThanOrEqual(400);
    expect(await (await wallet.request(pathOf(link))).text()).toContain('id="scan-login-problem"');
    // This browser's fetch stores it; fetched again, the same code.
    expect((await browser.request(`/interaction/${uid}/qr`)).status).toBe(200);
    expect((await browser.request(`/interaction/${uid}/qr`)).status).toBe(200);
    expect(await (await wallet.request(pathOf(link))).text()).toContain('id="scan-login-confirm"');
  });

  it('keeps one stored code per sign-in, however often its page is shown anew and its QR code fetched (review R27)', async () => {
    const shown = await showSignIn();
    const storedFor = async (uid: string) =>
      (await scanItems('scan-login#')).filter((item) => item.interactionUid === uid).length;
    expect(await storedFor(shown.uid)).toBe(1);
    // A browser that drops the code's cookie gets a new code each time it shows the page, and each QR
    // fetch stores it: the sign-in's one record is replaced, no record is added.
    const links = [shown.link];
    for (let round = 0; round < 3; round++) {
      shown.browser.forget(scanCookieName);
      const page = await shown.browser.navigate(`/interaction/${shown.uid}`);
      const link = /id="scan-login-link"[^>]*href="([^"]+)"/.exec(page.page!.html)?.[1] ?? '';
      expect(links).not.toContain(link);
      links.push(link);
      expect((await shown.browser.request(`/interaction/${shown.uid}/qr`)).status).toBe(200);
    }
    expect(await storedFor(shown.uid)).toBe(1);
    // The replaced codes are over (unknown, as a guess at the slot would be); the newest one signs the
    // browser in.
    const replaced = await wallet.request(pathOf(links[0]!));
    expect(replaced.status).toBe(404);
    expect(await replaced.text()).toContain('已被新的二维码取代');
    expect((await answer(wallet, links.at(-1)!, 'confirm')).html).toContain('id="scan-login-done"');
    const done = await poll(shown);
    expect(done.leftTo?.href.startsWith(rp.redirectUri)).toBe(true);
  });

  it('signs the showing browser in at level 3 (amr mca) once the wallet confirms, and not before', async () => {
    const shown = await showSignIn();
    // Waiting: the request is held open, then the page offers to wait again; no script, no refresh.
    const started = Date.now();
    const waiting = await poll(shown);
    expect(Date.now() - started).toBeGreaterThanOrEqual((waitSeconds - 1) * 1000);
    expect(waiting.page?.status).toBe(200);
    expect(waiting.page?.html).toContain(`href="/interaction/${shown.uid}/scan"`);
    // It never reloads itself: its one script is the code's countdown (review R62-4).
    expect(waiting.page?.html).not.toMatch(
      /<script(?![^>]*\ssrc="\/assets\/scan-login-timer\.js")|http-equiv="refresh"/,
    );

    // The wallet's page names the platform and the browser; opening it confirms nothing.
    const opened = await wallet.request(pathOf(shown.link));
    const page = await opened.text();
    expect(opened.status).toBe(200);
    expect(page).toContain('确认登录');
    expect(page).toMatch(/id="scan-login-client">[^<]*\S[^<]*</);
    expect(page).toContain('127.0.0.x');
    expect((await poll(shown)).page?.status).toBe(200);

    const confirmed = await answer(wallet, shown.link, 'confirm');
    expect(confirmed.status).toBe(200);
    expect(confirmed.html).toContain('id="scan-login-done"');

    const done = await poll(shown);
    expect(done.leftTo?.href.startsWith(rp.redirectUri)).toBe(true);
    const tokens = await exchange(rp, shown.request, done.leftTo!);
    const claims = tokens.claims()!;
    expect(claims.acr).toBe('urn:elicence:loa:3');
    expect(claims.amr).toEqual(['mca']);
    expect(await client.fetchUserInfo(rp.config, tokens.access_token, claims.sub)).toMatchObject({
      name: runtime.credentials.citizen.name,
    });
  });

  it('answers a waiting request as soon as the wallet confirms (long poll)', async () => {
    const shown = await showSignIn();
    const started = Date.now();
    const waiting = poll(shown);
    await sleep(300);
    expect((await answer(wallet, shown.link, 'confirm')).status).toBe(200);
    const done = await waiting;
    expect(done.leftTo?.href.startsWith(rp.redirectUri)).toBe(true);
    // One request: the held one completed; it did not run out and come back as the waiting page.
    expect(Date.now() - started).toBeLessThan(waitSeconds * 1000 + 1500);
    expect((await exchange(rp, shown.request, done.leftTo!)).claims()?.amr).toEqual(['mca']);
  });

  it('refuses a replay: the code confirms once and completes once', async () => {
    const shown = await showSignIn();
    const held = scanCookie(shown.browser)!;
    expect((await answer(wallet, shown.link, 'confirm')).status).toBe(200);
    const again = await answer(wallet, shown.link, 'confirm');
    expect(again.status).toBe(409);
    expect(again.html).toContain('已经使用过');
    const done = await poll(shown);
    expect(done.leftTo).toBeDefined();

    // The used code, presented again by the same browser for its next sign-in, completes nothing.
    const next = await showSignIn(shown.browser, { prompt: 'login' });
    const replayed = await withScanCookie(shown.browser, `/interaction/${next.uid}/scan`, held);
    expect(replayed.status).toBeGreaterThanOrEqual(400);
    expect(replayed.headers.get('location')).toBeNull();
    // And the wallet finds it used.
    const opened = await wallet.request(pathOf(shown.link));
    expect(opened.status).toBe(409);
  });

  it('completes only the browser that showed the code, whoever confirms it', async () => {
    const victim = await showSignIn();
    const attacker = await showSignIn();
    const victimCookie = scanCookie(victim.browser)!;
    const victimCode = victimCookie.split('.')[0]!;
    expect((await answer(wallet, victim.link, 'confirm')).status).toBe(200);

    // The attacker knows the code (it is in the QR code) but not the victim's binding secret.
    const guessed = await withScanCookie(
      attacker.browser,
      `/interaction/${attacker.uid}/scan`,
      `${victimCode}.${randomBytes(32).toString('base64url')}`,
    );
    expect(guessed.status).toBe(403);
    expect(await guessed.text()).toContain('另一个浏览器');
    // Even the victim's whole cookie completes nothing in another sign-in.
    const stolen = await withScanCookie(attacker.browser, `/interaction/${attacker.uid}/scan`, victimCookie);
    expect(stolen.status).toBe(403);
    // A browser without the cookie is told the same.
    const bare = await new UserAgent(runtime.baseUrl).request(`/interaction/${victim.uid}/scan`);
    expect(bare.status).toBeGreaterThanOrEqual(400);

    const done = await poll(victim);
    expect(done.leftTo?.href.startsWith(rp.redirectUri)).toBe(true);
    expect((await exchange(rp, victim.request, done.leftTo!)).claims()?.acr).toBe('urn:elicence:loa:3');
  });

  it('stores only a code it issued to that browser for that sign-in: a code read off another page cannot be pre-claimed', async () => {
    // The victim's sign-in page is shown; its QR image is not fetched yet (a slow network, images late).
    const victim = new UserAgent(runtime.baseUrl, [rp.redirectUri]);
    const victimFlow = await runFlow(victim, (await authorizationRequest(rp)).url);
    const victimUid = /^\/interaction\/([^/]+)$/.exec(victimFlow.page!.url.pathname)![1]!;
    const victimLink = /id="scan-login-link"[^>]*href="([^"]+)"/.exec(victimFlow.page!.html)![1]!;
    const victimCode = pathOf(victimLink).split('/').pop()!;

    // Someone who read the link (it names the code) claims it for their own sign-in, with a binding of
    // their own, before the victim's browser fetches the QR image.
    const attacker = new UserAgent(runtime.baseUrl, [rp.redirectUri]);
    const attackerFlow = await runFlow(attacker, (await authorizationRequest(rp)).url);
    const attackerUid = /^\/interaction\/([^/]+)$/.exec(attackerFlow.page!.url.pathname)![1]!;
    const ownBinding = randomBytes(32).toString('base64url');
    const claimed = await withScanCookie(
      attacker,
      `/interaction/${attackerUid}/qr`,
      `${victimCode}.${ownBinding}`,
    );
    expect(claimed.status).toBe(403);
    // Nor with the MAC of the attacker's own cookie (issued for another code), nor with the victim's
    // whole cookie, were it stolen (issued for another sign-in).
    const [, attackerBinding, attackerMac] = scanCookie(attacker)!.split('.');
    const swapped = `${victimCode}.${attackerBinding}.${attackerMac}`;
    expect((await withScanCookie(attacker, `/interaction/${attackerUid}/qr`, swapped)).status).toBe(403);
    const victimCookie = scanCookie(victim)!;
    expect((await withScanCookie(attacker, `/interaction/${attackerUid}/qr`, victimCookie)).status).toBe(403);

    // Nothing was stored: the wallet knows no such code, and confirms nothing for the attacker's browser.
    const opened = await wallet.request(pathOf(victimLink));
    expect(await opened.text()).toContain('id="scan-login-problem"');
    expect((await answer(wallet, victimLink, 'confirm')).html).not.toContain('id="scan-login-done"');
    const attackerWait = await withScanCookie(
      attacker,
      `/interaction/${attackerUid}/scan`,
      `${victimCode}.${ownBinding}`,
    );
    expect(attackerWait.status).toBe(403);
    expect(attackerWait.headers.get('location')).toBeNull();

    // The victim's own fetch stores it, and the confirmation signs the victim's browser in.
    expect((await victim.request(`/interaction/${victimUid}/qr`)).status).toBe(200);
    expect((await answer(wallet, victimLink, 'confirm')).html).toContain('id="scan-login-done"');
    const done = await runFlow(victim, `/interaction/${victimUid}/scan`, { scanAs: 'continue' });
    expect(done.callback?.href.startsWith(rp.redirectUri)).toBe(true);
  });

  it('tells a wallet below level 3 to step up, and its confirmation completes nothing', async () => {
    const person = registryPeople[7]!;
    const password = 'Scan-Login-2026';
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      ...person,
      password,
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const levelTwo = await walletSignedIn(person.idNumber, password);

    const shown = await showSignIn();
    const opened = await levelTwo.request(pathOf(shown.link));
    const page = await opened.text();
    expect(opened.status).toBe(403);
    expect(page).toContain('id="scan-login-step-up"');
    expect(page).toMatch(/href="\/wallet\/login\?acr=3&amp;returnTo=%2Fscan-login%2F/);
    const refused = await answer(levelTwo, shown.link, 'confirm');
    expect(refused.status).toBe(403);
    const still = await poll(shown);
    expect(still.page?.status).toBe(200);
    expect(still.page?.html).toContain('id="scan-login-waiting"');
  });

  it('refuses a cross-site confirmation, and a code refused in the wallet fails with a clear page', async () => {
    const shown = await showSignIn();
    const crossSite = await wallet.request(pathOf(shown.link), {
      form: { decision: 'confirm' },
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    expect((await poll(shown)).page?.html).toContain('id="scan-login-waiting"');
    const bad = await wallet.request(pathOf(shown.link), { form: { decision: 'maybe' } });
    expect(bad.status).toBe(400);

    expect((await answer(wallet, shown.link, 'cancel')).status).toBe(200);
    const cancelled = await poll(shown);
    expect(cancelled.page?.status).toBe(409);
    expect(cancelled.page?.html).toContain('id="scan-login-problem"');
    expect(cancelled.page?.html).toContain('被取消');
  });

  it('sends a signed-out visitor of the link to sign in to the wallet first', async () => {
    const shown = await showSignIn();
    const visitor = new UserAgent(runtime.baseUrl);
    const stranger = await visitor.request(pathOf(shown.link));
    expect(stranger.status).toBe(303);
    const location = stranger.headers.get('location') ?? '';
    expect(location).toMatch(/^\/wallet\/login\?returnTo=%2Fscan-login%2F/);
    // Signed in, they come back to the request, which still waits for their answer.
    const back = await runFlow(visitor, location, citizenAnswers(runtime));
    expect(back.page?.url.pathname).toBe(pathOf(shown.link));
    expect(back.page?.html).toContain('id="scan-login-confirm"');
    const unknown = await wallet.request(`/scan-login/${randomBytes(32).toString('base64url')}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('id="scan-login-problem"');
  });

  it('expires: after its lifetime the code neither confirms nor completes', async () => {
    const shown = await showSignIn();
    await sleep((lifetimeSeconds + 1) * 1000);
    const late = await answer(wallet, shown.link, 'confirm');
    expect(late.status).toBe(409);
    expect(late.html).toContain('已过期');
    const expired = await poll(shown);
    expect(expired.page?.status).toBe(409);
    expect(expired.page?.html).toContain('已过期');
  });
});
