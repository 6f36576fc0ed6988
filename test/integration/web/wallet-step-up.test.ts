import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { walletCookieNames, walletSession } from '../../../shared/web/wallet/session.js';
import { outbox } from '../../support/in-memory-sms.js';
import { authorizationRequest, demoPlatform, exchange, runFlow } from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { openAccount } from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';
import { demoTokens, issueDrivingLicence } from '../verify/helpers.js';

/**
 * The wallet's way up (issue 13: "refuse below it with a step-up, not a dead end"): a level-2 person
 * signed in to the wallet sees 提升认证等级 where a higher level is needed, follows it through the
 * provider's step-up page (an SMS code, within the live single sign-on session) and is back on the
 * wallet at level 3 with their licences; `returnTo` stays on this origin, and `acr` is validated.
 */

let runtime: TestRuntime;
const names = walletCookieNames(false);

interface Person {
  idNumber: string;
  name: string;
  phone: string;
  password: string;
}

/** One of the seeded synthetic people (both registries know them, the carrier by their phone), registered. */
async function registered(index: number): Promise<Person> {
  const seeded = runtime.credentials.people[index]!;
  return openAccount(runtime, { ...seeded, password: `Step-Up-${index}-2026` });
}

async function walletSignedIn(person: Person, path = '/wallet') {
  const ua = new UserAgent(runtime.baseUrl);
  const outcome = await runFlow(ua, path, { username: person.idNumber, password: person.password });
  expect(outcome.page?.status, outcome.page?.html).toBe(200);
  return { ua, page: outcome.page! };
}

/** The `href` of the element with `id` on a page, decoded from its HTML. */
function hrefOf(html: string, id: string): string | undefined {
  const tag = new RegExp(`<a\\b[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0];
  return tag ? /href="([^"]+)"/.exec(tag)?.[1]?.replaceAll('&amp;', '&') : undefined;
}

const uidOf = (html: string) => /action="\/interaction\/([^/"]+)\/stepup"/.exec(html)?.[1];

/** Asks for a code on the step-up page, reads it from the local outbox and types it. */
async function proveByPhone(ua: UserAgent, html: string, phone: string) {
  const uid = uidOf(html);
  expect(uid, html).toBeDefined();
  const action = new URL(`/interaction/${uid}/stepup`, runtime.baseUrl);
  const sent = await ua.navigate(action, { form: { phone, send: '1' } });
  expect(sent.page?.status).toBe(200);
  const code = (await outbox(runtime)).filter((m) => m.to === phone).at(-1)?.code;
  expect(code).toMatch(/^\d{6}$/);
  return ua.navigate(action, { form: { phone, code: code! } });
}

/** The ID token's `acr` of the wallet session the user agent holds. */
async function sessionAcr(ua: UserAgent): Promise<unknown> {
  const pair = ua
    .cookieHeader(new URL('/wallet', runtime.baseUrl))
    .split('; ')
    .find((cookie) => cookie.startsWith(`${names.session}=`));
  const session = await dependencies().cookieSealer.open(
    names.session,
    pair!.slice(names.session.length + 1),
    walletSession,
    Math.floor(Date.now() / 1000),
  );
  const payload = session!.idToken.split('.')[1]!;
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { acr?: unknown }).acr;
}

beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

describe('raising the level from the wallet', () => {
  it('a level-2 person follows 提升认证等级, proves the phone by SMS and sees their licences', async () => {
    const person = await registered(2);
    const { issuer } = await demoTokens(runtime);
    const licence = await issueDrivingLicence(runtime, issuer, {
      holder: { idNumber: person.idNumber },
      holderName: person.name,
    });

    const { ua, page } = await walletSignedIn(person, '/wallet/login');
    expect(page.url.pathname).toBe('/wallet');
    expect(page.html).toContain('id="wallet-step-up"');
    expect(page.html).not.toMatch(/class="card licence-card/);
    const link = hrefOf(page.html, 'wallet-step-up-link');
    expect(link).toBe('/wallet/login?acr=3&returnTo=%2Fwallet');
    expect(page.html).toContain('提升认证等级');
    expect(await sessionAcr(ua)).toBe('urn:elicence:loa:2');

    // The licence's own page (a bookmark, a link) is the same way up, and says the same of a licence
    // that does not exist: it tells a level-2 sign-in nothing about the holder.
    const licencePath = `/wallet/licences/${encodeURIComponent(licence.id)}`;
    const licencePage = await ua.request(licencePath);
    const licenceHtml = await licencePage.text();
    expect(licencePage.status).toBe(403);
    expect(licenceHtml).toContain('id="wallet-licence-step-up"');
    expect(hrefOf(licenceHtml, 'wallet-step-up-link')).toBe(
      `/wallet/login?acr=3&returnTo=${encodeURIComponent(licencePath)}`,
    );
    const noSuch = await ua.request(`/wallet/licences/${encodeURIComponent(`${licence.id}0`)}`);
    expect(noSuch.status).toBe(403);
    expect(await noSuch.text()).toContain('id="wallet-licence-step-up"');

    // Within the live SSO session, no password again: straight to the step-up page.
    const atStepUp = await ua.navigate(new URL(link!, runtime.baseUrl));
    expect(atStepUp.page?.html).toContain('获取验证码');
    expect(atStepUp.page?.html).not.toContain('name="password"');

    const back = await proveByPhone(ua, atStepUp.page!.html, person.phone);
    expect(back.page?.url.href).toBe(`${runtime.baseUrl}/wallet`);
    expect(back.page?.status).toBe(200);
    expect(back.page?.html).not.toContain('id="wallet-step-up"');
    expect(back.page?.html).toContain(`href="/wallet/licences/${encodeURIComponent(licence.id)}"`);
    expect(await sessionAcr(ua)).toBe('urn:elicence:loa:3');
    const opened = await ua.request(licencePath);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain('机动车驾驶证');
  });

  it('the passkeys page below level 3 links up and comes back to the passkeys', async () => {
    const person = await registered(3);
    const { ua } = await walletSignedIn(person, '/wallet/login');
    const passkeys = await (await ua.request('/wallet/passkeys')).text();
    expect(passkeys).toContain('id="passkeys-step-up"');
    const link = hrefOf(passkeys, 'passkeys-step-up-link');
    expect(link).toBe('/wallet/login?acr=3&returnTo=%2Fwallet%2Fpasskeys');

    const atStepUp = await ua.navigate(new URL(link!, runtime.baseUrl));
    const back = await proveByPhone(ua, atStepUp.page!.html, person.phone);
    expect(back.page?.url.pathname).toBe('/wallet/passkeys');
    expect(back.page?.html).not.toContain('id="passkeys-step-up"');
    expect(back.page?.html).toContain('id="passkeys-list"');
  });

  it('scan-to-login below level 3: the wallet’s link up comes back to the code, which then confirms', async () => {
    const person = await registered(5);
    const rp = await demoPlatform(runtime);
    const browser = new UserAgent(runtime.baseUrl, [rp.redirectUri]);
    const request = await authorizationRequest(rp);
    const shown = await runFlow(browser, request.url);
    expect(shown.stoppedAt).toBe('login');
    const uid = /^\/interaction\/([^/]+)$/.exec(shown.page!.url.pathname)![1]!;
    const scanPath = new URL(/id="scan-login-link"[^>]*href="([^"]+)"/.exec(shown.page!.html)![1]!).pathname;
    // The page's QR image, as the browser showing it fetches it: that stores the code.
    expect((await browser.request(`/interaction/${uid}/qr`)).status).toBe(200);

    const { ua } = await walletSignedIn(person, '/wallet/login');
    const refused = await ua.request(scanPath);
    const refusedHtml = await refused.text();
    expect(refused.status).toBe(403);
    const link = hrefOf(refusedHtml, 'scan-login-step-up-link');
    expect(link).toBe(`/wallet/login?acr=3&returnTo=${encodeURIComponent(scanPath)}`);

    const atStepUp = await ua.navigate(new URL(link!, runtime.baseUrl));
    const back = await proveByPhone(ua, atStepUp.page!.html, person.phone);
    expect(back.page?.url.pathname).toBe(scanPath);
    expect(back.page?.status).toBe(200);
    expect(back.page?.html).not.toContain('id="scan-login-step-up"');

    const confirmed = await ua.request(scanPath, { form: { decision: 'confirm' } });
    const confirmedHtml = await confirmed.text();
    expect(confirmed.status, confirmedHtml).toBe(200);
    const done = await runFlow(browser, `/interaction/${uid}/scan`, { scanAs: 'continue' });
    expect(done.callback?.href.startsWith(rp.redirectUri), done.page?.html).toBe(true);
    expect((await exchange(rp, request, done.callback!)).claims()?.acr).toBe('urn:elicence:loa:3');
  });

  it('a person who cannot raise their level goes back to the wallet, still signed in, and is told so', async () => {
    const person = await registered(7);
    const { ua, page } = await walletSignedIn(person, '/wallet/login');
    const atStepUp = await ua.navigate(new URL(hrefOf(page.html, 'wallet-step-up-link')!, runtime.baseUrl));
    const uid = /action="\/interaction\/([^/"]+)\/stepup"/.exec(atStepUp.page!.html)![1]!;
    const back = await ua.navigate(new URL(`/interaction/${uid}/unmet`, runtime.baseUrl));
    expect(back.page?.url.pathname).toBe('/wallet');
    expect(back.page?.status).toBe(200);
    expect(back.page?.html).toContain('id="wallet-step-up-unmet"');
    expect(back.page?.html).toContain('id="wallet-step-up-link"');
    expect(back.page?.html).toContain('id="wallet-name"');
    expect(await sessionAcr(ua)).toBe('urn:elicence:loa:2');
    // Another browser's (or a crafted) error answer is not taken for this one's.
    const crafted = await ua.request('/wallet/callback?error=unmet_authentication_requirements&state=forged');
    expect(crafted.status).toBeGreaterThanOrEqual(400);
    expect(crafted.status).toBeLessThan(500);
  });

  it('a returnTo off this origin is ignored: the sign-in lands on the wallet', async () => {
    const person = await registered(4);
    for (const returnTo of [
      'https://evil.example/',
      '//evil.example/wallet',
      '/\\evil.example/',
      'javascript:alert(1)',
      '/admin',
    ]) {
      const path = `/wallet/login?${new URLSearchParams({ acr: '2', returnTo }).toString()}`;
      const { page } = await walletSignedIn(person, path);
      expect(page.url.href, returnTo).toBe(`${runtime.baseUrl}/wallet`);
    }
  });

  it('an acr the wallet does not know is refused naming the field', async () => {
    for (const acr of ['9', 'urn:elicence:loa:4', 'loa3']) {
      const response = await fetch(`${runtime.baseUrl}/wallet/login?acr=${encodeURIComponent(acr)}`, {
        redirect: 'manual',
        headers: { accept: 'text/html' },
      });
      expect(response.status, acr).toBe(400);
      expect(await response.text()).toContain('认证等级（acr）');
    }
    const ok = await fetch(`${runtime.baseUrl}/wallet/login?acr=urn%3Aelicence%3Aloa%3A3`, {
      redirect: 'manual',
    });
    expect(ok.status).toBe(303);
    expect(new URL(ok.headers.get('location')!).searchParams.get('acr_values')).toBe('urn:elicence:loa:3');
  });
});
