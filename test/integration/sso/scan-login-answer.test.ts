import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationRequest,
  exchange,
  runFlow,
  stepOf,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import {
  answerScan as answer,
  scanLinkOf,
  scanQrOf,
  pollScan as poll,
  showSignIn as showPlatformSignIn,
  startScanLoginRuntime,
  walletSignedIn as walletSignedInAs,
  type ShownSignIn,
} from '../../support/scan-login.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/*
 * Review R41 (scan-to-login), over real HTTP with two cookie jars as scan-login-fresh.test.ts, with codes
 * that run out in a few seconds.
 *
 * L1: the answer to "sign in as 王*明?" is the answer to the name that page showed: a page left open while
 * its code ran out and a later code of the same sign-in was confirmed by someone else does not complete
 * that later code; it is asked about again, naming whoever confirmed it.
 * L2: with prompt=login, a wallet signed in again after the sign-in request began confirms, even when that
 * took longer than the code had left and it is a later code it confirms.
 */

const lifetimeSeconds = 5;
const waitSeconds = 1;
let runtime: TestRuntime;
let rp: RelyingParty;

/** A browser on the demo platform's sign-in page, its QR image fetched (which stores the code). */
const showSignIn = (params: Record<string, string> = {}) => showPlatformSignIn(runtime, rp, params);

/** The same sign-in's page shown again once its code ran out: a new code, its QR image fetched. */
async function showAgain(shown: ShownSignIn): Promise<string> {
  const again = await runFlow(shown.browser, `/interaction/${shown.uid}`);
  expect(again.stoppedAt).toBe('login');
  const link = scanLinkOf(again.page!.html);
  expect(link).not.toBe(shown.link);
  expect((await shown.browser.request(scanQrOf(again.page!.html)!)).status).toBe(200);
  return link;
}

const walletSignedIn = (idNumber: string, password: string) => walletSignedInAs(runtime, idNumber, password);

/**
 * A form post from a page the browser holds (a tab left open), then on through the platform's consent as
 * a person would: where it leaves the service (`leftTo`), or the page it stops at.
 */
async function post(shown: ShownSignIn, action: string, fields: Record<string, string>) {
  const outcome = await shown.browser.navigate(new URL(action, runtime.baseUrl), { form: fields });
  const page = outcome.page;
  const consent = page && stepOf(page.html) === 'consent' ? parseForm(page.html) : undefined;
  return consent && page
    ? shown.browser.navigate(new URL(consent.action, page.url), { form: consent.fields })
    : outcome;
}

function masked(name: string): string {
  const chars = Array.from(name);
  return `${chars[0]}${'*'.repeat(Math.max(1, chars.length - 2))}${chars.length > 2 ? chars.at(-1) : ''}`;
}

beforeAll(async () => {
  ({ runtime, rp } = await startScanLoginRuntime(lifetimeSeconds, waitSeconds));
});
afterAll(() => runtime?.close());

describe('the answer to "sign in as 王*明?" is bound to the name the page showed (review R41 L1)', () => {
  it('a page left open naming the owner does not complete a later code a bystander confirmed: it asks again, naming him', async () => {
    const { citizen, clerk } = runtime.credentials;
    const owner = await walletSignedIn(citizen.idNumber, citizen.password);
    const bystander = await walletSignedIn(clerk.idNumber, clerk.password);
    const shown = await showSignIn();
    expect((await answer(owner, shown.link, 'confirm')).status).toBe(200);
    // Tab A: "sign in as <owner>?", left open.
    const tabA = await poll(shown);
    expect(tabA.page?.html).toContain(masked(citizen.name));
    const form = parseForm(tabA.page!.html)!;

    // The owner's code runs out; the sign-in page, shown again in the same browser, has a new code,
    // which a bystander scans and confirms.
    await sleep((lifetimeSeconds + 0.5) * 1000);
    const link = await showAgain(shown);
    expect((await answer(bystander, link, 'confirm')).status).toBe(200);

    // Tab A's 继续登录: not signed in as the bystander; asked again, the page naming him.
    const clicked = await post(shown, form.action, { ...form.fields, decision: 'continue' });
    expect(clicked.leftTo).toBeUndefined();
    expect(clicked.page?.status).toBe(409);
    expect(clicked.page?.html).toContain('id="scan-login-who-changed"');
    expect(clicked.page?.html).toContain(masked(clerk.name));
    expect(clicked.page?.html).not.toContain(masked(citizen.name));
    // The same stale answer posted again still completes nothing.
    const twice = await post(shown, form.action, { ...form.fields, decision: 'continue' });
    expect(twice.leftTo).toBeUndefined();
    // An answer without the page's binding completes nothing either; a made-up one is refused, naming it.
    const bare = await post(shown, form.action, { decision: 'continue' });
    expect(bare.leftTo).toBeUndefined();
    expect(bare.page?.html).toContain('id="scan-login-who-changed"');
    const madeUp = await shown.browser.request(`/interaction/${shown.uid}/scan`, {
      form: { decision: 'continue', shown: 'not a binding' },
    });
    expect(madeUp.status).toBe(400);
    expect(await madeUp.text()).toContain('shown');

    // The page as it now stands says who; "not me" abandons the bystander's code.
    const refused = await post(shown, form.action, {
      ...parseForm(clicked.page!.html)!.fields,
      decision: 'not_me',
    });
    expect(refused.leftTo).toBeUndefined();
    expect(refused.page?.html).toContain('没有登录任何人');
  });

  it('the page as it stands, once reread, completes for the person it names', async () => {
    const { citizen } = runtime.credentials;
    const owner = await walletSignedIn(citizen.idNumber, citizen.password);
    const shown = await showSignIn();
    expect((await answer(owner, shown.link, 'confirm')).status).toBe(200);
    const done = await poll(shown, 'continue');
    expect(done.leftTo).toBeDefined();
    const byScan = (await exchange(rp, shown.request, done.leftTo!)).claims()!;

    const byPassword = new UserAgent(runtime.baseUrl, [rp.redirectUri]);
    const request = await authorizationRequest(rp);
    const own = await runFlow(byPassword, request.url, {
      username: citizen.idNumber,
      password: citizen.password,
    });
    expect(byScan.sub).toBe((await exchange(rp, request, own.callback!)).claims()!.sub);
  });
});

describe('prompt=login asks for a wallet sign-in made after the sign-in request began (review R41 L2)', () => {
  it('a wallet signed in again more slowly than the code had left confirms the next code', async () => {
    const { citizen } = runtime.credentials;
    const wallet = await walletSignedIn(citizen.idNumber, citizen.password);
    await sleep(1100); // the wallet's sign-in is from before the platform's request
    const shown = await showSignIn({ prompt: 'login', acr_values: 'urn:elicence:loa:3' });
    const refused = await answer(wallet, shown.link, 'confirm');
    expect(refused.status).toBe(403);
    const again = /id="scan-login-sign-in-again-link"[^>]*href="([^"]+)"/
      .exec(refused.html)?.[1]
      ?.replaceAll('&amp;', '&');
    expect(again).toBeDefined();

    // The password on the phone takes longer than the code had left.
    await sleep((lifetimeSeconds + 0.5) * 1000);
    await runFlow(wallet, again!, { username: citizen.idNumber, password: citizen.password });

    // The desktop shows a new code, later than that sign-in; the freshly signed-in wallet confirms it.
    await sleep(1100);
    const link = await showAgain(shown);
    const second = await answer(wallet, link, 'confirm');
    expect(second.html).not.toContain('scan-login-sign-in-again');
    expect(second.status).toBe(200);
    const done = await poll(shown, 'continue');
    expect(done.leftTo).toBeDefined();
    const claims = (await exchange(rp, shown.request, done.leftTo!)).claims()!;
    expect(claims.acr).toBe('urn:elicence:loa:3');
  });
});
