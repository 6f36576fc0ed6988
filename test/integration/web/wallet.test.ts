import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import { walletCookieNames, walletSession, type WalletSession } from '../../../shared/web/wallet/session.js';
import { runFlow, citizenAnswers } from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

let runtime: TestRuntime;
let ua: UserAgent;
let drivingLicenceId: string;
const names = walletCookieNames(false);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The wallet's session cookie as the user agent holds it. */
function sessionCookie(agent: UserAgent = ua): string {
  const pair = agent
    .cookieHeader(new URL('/wallet', runtime.baseUrl))
    .split('; ')
    .find((cookie) => cookie.startsWith(`${names.session}=`));
  if (!pair) throw new Error('no wallet session cookie');
  return pair.slice(names.session.length + 1);
}

async function openSession(value: string): Promise<WalletSession | undefined> {
  return dependencies().cookieSealer.open(names.session, value, walletSession, nowSeconds());
}

/** A request with exactly these cookies and headers, no redirect following. */
function send(
  path: string,
  init: { method?: string; cookie?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return fetch(new URL(path, runtime.baseUrl), {
    method: init.method ?? 'GET',
    headers: { accept: 'text/html', ...(init.cookie ? { cookie: init.cookie } : {}), ...init.headers },
    redirect: 'manual',
    ...(init.body === undefined ? {} : { body: init.body }),
  });
}

function refresh(licenceId: string, body: string, headers: Record<string, string> = {}, cookie?: string) {
  return send(`/wallet/licences/${encodeURIComponent(licenceId)}/presentations`, {
    method: 'POST',
    body,
    ...(cookie ? { cookie } : {}),
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
  });
}

async function signInThroughWallet(agent: UserAgent): Promise<string> {
  const outcome = await runFlow(agent, '/wallet/login', citizenAnswers(runtime));
  expect(outcome.page?.url.pathname).toBe('/wallet');
  expect(outcome.page?.status).toBe(200);
  return outcome.page?.html ?? '';
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  ua = new UserAgent(runtime.baseUrl);
  const html = await signInThroughWallet(ua);
  drivingLicenceId = decodeURIComponent(/href="\/wallet\/licences\/([^"]+)"/.exec(html)?.[1] ?? '');
});
afterAll(() => runtime?.close());

/** What a browser sends on a click from one of the wallet's own pages (see `sameSiteNavigation`). */
const fromTheWallet = { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' };

describe('the wallet over plain HTTP', () => {
  it('signs in through the provider and lists the citizen’s licences without the raw ID number', async () => {
    const response = await ua.request('/wallet');
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toMatch(/class="card licence-card status-[a-z]+"/);
    expect(html).toContain('机动车驾驶证');
    expect(html).toMatch(/<code id="wallet-sub">[^<]+<\/code>/);
    expect(html).not.toContain(runtime.credentials.citizen.idNumber);
    expect(drivingLicenceId).toMatch(/^1\.2\.156\.3005\.2\.003\./);
    const session = await openSession(sessionCookie());
    expect(session?.name).toBe(runtime.credentials.citizen.name);
    expect(session?.entity).toBeUndefined();
  });

  it('keeps its cookies HttpOnly and SameSite=Lax', async () => {
    const response = await send('/wallet/login');
    expect(response.status).toBe(303);
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith(`${names.pending}=`));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(new URL(response.headers.get('location') ?? '').searchParams.get('scope')).toBe(
      'openid profile licences',
    );
    const entity = await send('/wallet/login?as=entity&returnTo=https://evil.example/');
    const pending = entity.headers.getSetCookie().find((line) => line.startsWith(`${names.pending}=`)) ?? '';
    expect(new URL(entity.headers.get('location') ?? '').searchParams.get('scope')).toBe(
      'openid profile licences entity',
    );
    const opened = await dependencies().cookieSealer.open(
      names.pending,
      pending.split(';')[0]?.slice(names.pending.length + 1),
      (await import('../../../shared/web/relying-party.js')).pendingLogin,
      nowSeconds(),
    );
    expect(opened?.returnTo).toBeUndefined();
  });

  it('refuses a cross-site sign-out and a cross-site refresh (403), and the session survives', async () => {
    const cookie = `${names.session}=${sessionCookie()}`;
    const logout = await send('/wallet/logout', {
      method: 'POST',
      cookie,
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(logout.status).toBe(403);
    expect(await logout.text()).toContain('请从本站页面提交表单');
    const cross = await refresh(
      drivingLicenceId,
      '{"disclose":[]}',
      { 'sec-fetch-site': 'cross-site' },
      cookie,
    );
    expect(cross.status).toBe(403);
    expect(((await cross.json()) as { code: string }).code).toBe('cross_site_request');
    expect((await ua.request('/wallet')).status).toBe(200);
  });

  it('treats a tampered cookie as signed out', async () => {
    const value = sessionCookie();
    const flipped = value.slice(0, 20) + (value[20] === 'A' ? 'B' : 'A') + value.slice(21);
    const home = await send('/wallet', { cookie: `${names.session}=${flipped}` });
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain('id="wallet-sign-in"');
    expect(html).not.toContain('wallet-sub');
    const detail = await send(`/wallet/licences/${encodeURIComponent(drivingLicenceId)}`, {
      cookie: `${names.session}=${flipped}`,
    });
    expect(detail.status).toBe(303);
    expect(detail.headers.get('location')).toMatch(/^\/wallet\/login\?returnTo=%2Fwallet%2Flicences%2F/);
    // A value sealed for the pending-login cookie does not open as a session.
    const pending = await dependencies().cookieSealer.seal(names.pending, { state: 'x' }, 600, nowSeconds());
    expect(await openSession(pending)).toBeUndefined();
  });

  it('answers the refresh endpoint with 401 JSON when signed out', async () => {
    const response = await refresh(drivingLicenceId, '{"disclose":[]}');
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await response.json()) as { code: string }).code).toBe('signed_out');
  });

  it('refreshes a QR code for a signed-in holder', async () => {
    const cookie = `${names.session}=${sessionCookie()}`;
    const response = await refresh(drivingLicenceId, '{"disclose":["vehicleClass"]}', {}, cookie);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      svg: string;
      expiresAt: string;
      expiresIn: number;
      token?: string;
    };
    expect(body.svg).toMatch(/^<svg/);
    expect(body.token).toBeUndefined();
    expect(body.expiresIn).toBeGreaterThan(110);
    expect(body.expiresIn).toBeLessThanOrEqual(120);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(120_000);
  });

  it('shows an unknown licence as a 404 page', async () => {
    const unknown = '1.2.156.3005.2.003.91110000MA00000000.1.001.X';
    for (const path of [
      `/wallet/licences/${unknown}`,
      `/wallet/licences/${unknown}/qr`,
      '/wallet/licences/%3Cb%3E',
    ]) {
      const response = await ua.request(path, { headers: fromTheWallet });
      expect(response.status, path).toBe(404);
      const html = await response.text();
      expect(html).toContain('没有找到这张证照');
      expect(html).not.toContain('<b>');
    }
    const json = await refresh(unknown, '{"disclose":[]}', {}, `${names.session}=${sessionCookie()}`);
    expect(json.status).toBe(404);
  });

  it('refuses a bad disclose choice with a 400 page, never a 500', async () => {
    const base = `/wallet/licences/${encodeURIComponent(drivingLicenceId)}/qr`;
    for (const query of [
      '?disclose=%3Cscript%3E',
      '?disclose=noSuchField',
      `?${Array.from({ length: 51 }, (_, i) => `disclose=f${i}`).join('&')}`,
    ]) {
      const response = await ua.request(base + query, { headers: fromTheWallet });
      expect(response.status, query).toBe(400);
      const html = await response.text();
      expect(html).toContain('所选的出示项目无效');
      expect(html).not.toContain('<script>');
    }
    const ok = await ua.request(`${base}?disclose=vehicleClass&disclose=firstIssuedOn`, {
      headers: fromTheWallet,
    });
    expect(ok.status).toBe(200);
    const html = await ok.text();
    expect(html).toContain('id="presentation-qr"');
    expect(html).toContain('data-disclose="[&quot;vehicleClass&quot;,&quot;firstIssuedOn&quot;]"');
    expect(html).toMatch(/<img\s+src="data:image\/svg\+xml;base64,/);

    const cookie = `${names.session}=${sessionCookie()}`;
    for (const body of [
      '{"disclose":["archiveNumber", 5]}',
      '{"disclose":["nope"]}',
      '{',
      '{"ttlSeconds":600}',
    ]) {
      const response = await refresh(drivingLicenceId, body, {}, cookie);
      expect(response.status, body).toBe(400);
    }
  });

  it('sends a person whose access token expired through sign-in again, without a form', async () => {
    const session = await openSession(sessionCookie());
    if (!session) throw new Error('no session');
    const stale = await dependencies().cookieSealer.seal(
      names.session,
      { ...session, accessTokenExpiresAt: nowSeconds() - 1 },
      3600,
      nowSeconds(),
    );
    // The provider's SSO session is the one `ua` holds; the stale wallet cookie goes with it.
    const cookies = ua
      .cookieHeader(new URL('/', runtime.baseUrl))
      .replace(`${names.session}=${sessionCookie()}`, `${names.session}=${stale}`);
    const home = await send('/wallet', { cookie: cookies });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/wallet/login?returnTo=%2Fwallet');
    const expired = await refresh(drivingLicenceId, '{"disclose":[]}', {}, `${names.session}=${stale}`);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { code: string }).code).toBe('session_expired');
    // That sign-in needs no form while the provider's session lasts: no step, straight back to the wallet.
    const again = await runFlow(ua, home.headers.get('location') ?? '', {});
    expect(again.steps).toEqual([]);
    expect(again.page?.url.pathname).toBe('/wallet');
    expect(again.page?.html).toContain('id="wallet-sub"');
  });

  it('signs out: the access token is revoked and the wallet shows signed out', async () => {
    const session = await openSession(sessionCookie());
    if (!session) throw new Error('no session');
    const response = await ua.request('/wallet/logout', { form: {} });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.pathname).toBe('/session/end');
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${runtime.baseUrl}/wallet`);
    // Named by its client id, never by the ID token: this URL is kept in histories and proxy logs.
    expect(location.searchParams.get('client_id')).toBe(walletClientId);
    expect(location.searchParams.has('id_token_hint')).toBe(false);
    const api = await fetch(`${runtime.baseUrl}/me/licences`, {
      headers: { authorization: `Bearer ${session.accessToken}` },
    });
    expect(api.status).toBe(401);
    const home = await ua.request('/wallet');
    expect(await home.text()).toContain('id="wallet-sign-in"');
  });
});
