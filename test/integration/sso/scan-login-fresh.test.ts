import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationRequest,
  exchange,
  runFlow,
  walletPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import {
  answerScan as answer,
  pollScan as poll,
  showSignIn as showPlatformSignIn,
  startScanLoginRuntime,
  walletSignedIn as walletSignedInAs,
} from '../../support/scan-login.js';
import { UserAgent } from '../../support/user-agent.js';

/*
 * Review R39 (scan-to-login), over real HTTP with two cookie jars as scan-login.test.ts: the browser that
 * shows the sign-in page and its QR code, and wallet sessions that open the code's link and answer.
 *
 * M1: the sign-in a scan completes is the confirming wallet's own, made when that wallet signed in: the
 * ID token's `auth_time` says so, and a platform's `max_age` or `prompt=login` is not passed by a wallet
 * session signed in long before.
 * L1: a bystander who scans and confirms first does not sign the showing browser in as himself without a
 * word: the browser names whom it signs in as (masked) and asks; the owner's wallet is told another
 * wallet used the code.
 */

const lifetimeSeconds = 20;
const waitSeconds = 1;
let runtime: TestRuntime;
let rp: RelyingParty;

const epochNow = () => Math.floor(Date.now() / 1000);

/** A browser on `platform`'s sign-in page, its QR image fetched (which stores the code). */
const showSignIn = (params: Record<string, string> = {}, platform = rp) =>
  showPlatformSignIn(runtime, platform, params);

/** A wallet signed in by password, and the epoch seconds between which that sign-in was made. */
async function walletSignedIn(idNumber: string, password: string) {
  const from = epochNow();
  const agent = await walletSignedInAs(runtime, idNumber, password);
  return { agent, from, to: epochNow() };
}

beforeAll(async () => {
  ({ runtime, rp } = await startScanLoginRuntime(lifetimeSeconds, waitSeconds));
});
afterAll(() => runtime?.close());

describe('scan-to-login passes on the wallet sign-in as it was made (review R39 M1)', () => {
  it('the ID token’s auth_time is when the confirming wallet signed in, not when the code was scanned', async () => {
    const { citizen } = runtime.credentials;
    const wallet = await walletSignedIn(citizen.idNumber, citizen.password);
    await sleep(3000);
    // max_age asks the provider to put auth_time in the ID token; an hour is no constraint here.
    const shown = await showSignIn({ acr_values: 'urn:elicence:loa:3', max_age: '3600' });
    expect((await answer(wallet.agent, shown.link, 'confirm')).status).toBe(200);
    const done = await poll(shown, 'continue');
    expect(done.leftTo).toBeDefined();
    const claims = (await exchange(rp, shown.request, done.leftTo!)).claims()!;
    expect(claims.acr).toBe('urn:elicence:loa:3');
    expect(claims.amr).toEqual(['mca']);
    expect(claims.auth_time).toBeGreaterThanOrEqual(wallet.from);
    expect(claims.auth_time).toBeLessThanOrEqual(wallet.to);
  });

  it('a wallet signed in longer ago than the platform’s max_age is sent to sign in again before it confirms', async () => {
    const { citizen } = runtime.credentials;
    const wallet = await walletSignedIn(citizen.idNumber, citizen.password);
    await sleep(3000);
    const shown = await showSignIn({ max_age: '2', acr_values: 'urn:elicence:loa:3' });
    const refused = await answer(wallet.agent, shown.link, 'confirm');
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('最近登录');
    const again = /id="scan-login-sign-in-again-link"[^>]*href="([^"]+)"/.exec(refused.html)?.[1];
    expect(again?.replaceAll('&amp;', '&')).toMatch(
      /^\/wallet\/login\?acr=3&fresh=1&returnTo=%2Fscan-login%2F/,
    );
    // Nothing was confirmed: the browser still waits.
    expect((await poll(shown, 'continue')).page?.html).toContain('id="scan-login-waiting"');

    // Signed in again (the password, now), the wallet comes back to the request and confirms it.
    const signedInAgainFrom = epochNow();
    const back = await runFlow(wallet.agent, again!.replaceAll('&amp;', '&'), {
      username: citizen.idNumber,
      password: citizen.password,
    });
    expect(back.page?.url.pathname).toBe(new URL(shown.link).pathname);
    expect(back.page?.html).toContain('id="scan-login-confirm"');
    expect((await answer(wallet.agent, shown.link, 'confirm')).status).toBe(200);
    const done = await poll(shown, 'continue');
    expect(done.leftTo).toBeDefined();
    const claims = (await exchange(rp, shown.request, done.leftTo!)).claims()!;
    expect(claims.auth_time).toBeGreaterThanOrEqual(signedInAgainFrom);
  });

  it('the showing browser checks max_age again when it completes: a confirmation grown too old signs no one in', async () => {
    const { citizen } = runtime.credentials;
    const wallet = await walletSignedIn(citizen.idNumber, citizen.password);
    const shown = await showSignIn({ max_age: '2', acr_values: 'urn:elicence:loa:3' });
    expect((await answer(wallet.agent, shown.link, 'confirm')).status).toBe(200);
    await sleep(3500);
    const done = await poll(shown, 'continue');
    expect(done.leftTo).toBeUndefined();
    expect(done.page?.status).toBe(403);
    expect(done.page?.html).toContain('id="scan-login-problem"');
    expect(done.page?.html).toContain('最近登录');
    // The way on is the sign-in page, with a new code (the refused one completes nothing).
    const again = await runFlow(shown.browser, `/interaction/${shown.uid}`);
    expect(again.stoppedAt).toBe('login');
    expect(again.page?.html).toContain('id="scan-login-link"');
    expect(again.page?.html).not.toContain(new URL(shown.link).pathname);
  });

  it('prompt=login is not passed by a wallet that signed in before the code was shown, and is by one after', async () => {
    const { citizen } = runtime.credentials;
    const wallet = await walletSignedIn(citizen.idNumber, citizen.password);
    await sleep(1100);
    const shown = await showSignIn({ prompt: 'login' });
    const refused = await answer(wallet.agent, shown.link, 'confirm');
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('id="scan-login-sign-in-again"');
    expect((await poll(shown, 'continue')).leftTo).toBeUndefined();

    const after = await walletSignedIn(citizen.idNumber, citizen.password);
    expect((await answer(after.agent, shown.link, 'confirm')).status).toBe(200);
    const done = await poll(shown, 'continue');
    expect(done.leftTo).toBeDefined();
  });

  it('a wallet session walked away from cannot mint a fresh sign-in for the wallet (max_age=0): no token', async () => {
    const { citizen } = runtime.credentials;
    const wallet = await walletSignedIn(citizen.idNumber, citizen.password);
    await sleep(1100);
    const walletRp = await walletPlatform(runtime);
    // As the wallet asks before enrolling a passkey or closing the account: a sign-in made now.
    const shown = await showSignIn(
      { scope: 'openid licences', max_age: '0', acr_values: 'urn:elicence:loa:3' },
      walletRp,
    );
    expect((await answer(wallet.agent, shown.link, 'confirm')).status).toBe(403);
    const done = await poll(shown, 'continue');
    expect(done.leftTo).toBeUndefined();
    expect(done.page?.html).toContain('id="scan-login-waiting"');

    // With a max_age it meets, the token minted carries the confirming wallet's own auth_time, which the passkey
    // gate reads as it is (requireFreshSignIn: within ten minutes of that sign-in, no later).
    const plain = await showSignIn({ scope: 'openid licences', max_age: '3600' }, walletRp);
    expect((await answer(wallet.agent, plain.link, 'confirm')).status).toBe(200);
    const minted = await poll(plain, 'continue');
    expect(minted.leftTo).toBeDefined();
    const tokens = await exchange(walletRp, plain.request, minted.leftTo!);
    expect(tokens.claims()!.auth_time).toBeLessThanOrEqual(wallet.to);
  });
});

describe('scan-to-login tells a probe of a real sign-in nothing (review R39, info)', () => {
  it('answers a made-up code in a sign-in’s slot as it answers one in no sign-in’s', async () => {
    const { citizen } = runtime.credentials;
    const wallet = await walletSignedIn(citizen.idNumber, citizen.password);
    const slotOf = (uid: string) =>
      createHash('sha256').update(`elicence/scan-login-slot/v1\n${uid}`).digest().subarray(0, 16);
    const shown = await showSignIn();
    const probe = Buffer.concat([slotOf(shown.uid), randomBytes(16)]).toString('base64url');
    const other = Buffer.concat([slotOf('no-such-interaction-uid'), randomBytes(16)]).toString('base64url');
    const inSlot = await wallet.agent.request(`/scan-login/${probe}`);
    const nowhere = await wallet.agent.request(`/scan-login/${other}`);
    expect(inSlot.status).toBe(404);
    expect(nowhere.status).toBe(404);
    expect(await inSlot.text()).toBe(await nowhere.text().then((html) => html.replaceAll(other, probe)));
    const posted = await answer(wallet.agent, `${runtime.baseUrl}/scan-login/${probe}`, 'confirm');
    expect(posted.status).toBe(404);
    // The real code still waits for its answer.
    expect((await wallet.agent.request(new URL(shown.link).pathname)).status).toBe(200);
  });
});

describe('scan-to-login asks the showing browser before it signs in as whoever confirmed (review R39 L1)', () => {
  it('names the person (masked) and lets a "not me" abandon a bystander’s confirmation; the owner is told', async () => {
    const { citizen, clerk } = runtime.credentials;
    const owner = await walletSignedIn(citizen.idNumber, citizen.password);
    const bystander = await walletSignedIn(clerk.idNumber, clerk.password);
    const shown = await showSignIn();

    expect((await answer(bystander.agent, shown.link, 'confirm')).status).toBe(200);
    // The owner scans second: the wallet says another wallet used the code, in either language.
    const second = await answer(owner.agent, shown.link, 'confirm');
    expect(second.status).toBe(409);
    expect(second.html).toContain('另一个“我的证照”钱包');
    const english = await owner.agent.request(`${new URL(shown.link).pathname}?lang=en`);
    expect(await english.text()).toContain('another “My licences” wallet');

    // The showing browser is not signed in yet: it names whom it would sign in as, masked.
    const asked = await poll(shown);
    expect(asked.leftTo).toBeUndefined();
    expect(asked.page?.status).toBe(200);
    const masked = Array.from(clerk.name);
    const maskedName = `${masked[0]}${'*'.repeat(Math.max(1, masked.length - 2))}${masked.length > 2 ? masked.at(-1) : ''}`;
    expect(asked.page?.html).toContain(`id="scan-login-who"`);
    expect(asked.page?.html).toContain(maskedName);
    expect(asked.page?.html).not.toContain(clerk.name);
    expect(asked.page?.html).not.toContain(clerk.idNumber);
    expect(asked.page?.html).toContain(`action="/interaction/${shown.uid}/scan"`);

    // A post from another site does not answer for it.
    const crossSite = await shown.browser.request(`/interaction/${shown.uid}/scan`, {
      form: { decision: 'continue' },
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(400);
    expect(crossSite.headers.get('location')).toBeNull();
    const fetchedCrossSite = await shown.browser.request(`/interaction/${shown.uid}/scan`, {
      form: { decision: 'continue' },
      headers: { 'sec-fetch-site': 'cross-site', origin: 'null' },
    });
    expect(fetchedCrossSite.status).toBe(400);
    expect(fetchedCrossSite.headers.get('location')).toBeNull();

    // "Not me": nothing is signed in, and the code is dead.
    const disowned = await poll(shown, 'not_me');
    expect(disowned.leftTo).toBeUndefined();
    expect(disowned.page?.html).toContain('没有登录任何人');
    expect((await poll(shown, 'continue')).leftTo).toBeUndefined();

    // The sign-in page shows a new code; the owner's own scan signs the browser in as the owner.
    const again = await runFlow(shown.browser, `/interaction/${shown.uid}`);
    const link = /id="scan-login-link"[^>]*href="([^"]+)"/.exec(again.page!.html)?.[1] ?? '';
    const qr = /<img[^>]*id="scan-login-qr"[^>]*src="(\/interaction\/[^"]+\/qr)"/.exec(again.page!.html)?.[1];
    expect((await shown.browser.request(qr!)).status).toBe(200);
    expect((await answer(owner.agent, link, 'confirm')).status).toBe(200);
    const ownerAsked = await poll(shown);
    const ownerName = Array.from(citizen.name);
    expect(ownerAsked.page?.html).toContain(`${ownerName[0]}*`);
    const done = await poll(shown, 'continue');
    expect(done.leftTo).toBeDefined();
    const signedInAs = (await exchange(rp, shown.request, done.leftTo!)).claims()!.sub;

    // That is the owner's own subject at the platform, not the bystander's.
    const byPassword = new UserAgent(runtime.baseUrl, [rp.redirectUri]);
    const request = await authorizationRequest(rp);
    const own = await runFlow(byPassword, request.url, {
      username: citizen.idNumber,
      password: citizen.password,
    });
    expect((await exchange(rp, request, own.callback!)).claims()!.sub).toBe(signedInAs);
  });
});
