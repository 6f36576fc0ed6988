import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  citizenAnswers,
  exchange,
  getWithToken,
  refusal,
  registerPlatform,
  signIn,
  walletPlatform,
  type Answers,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import {
  licenceAccess,
  logOut,
  registerSharingPlatform,
  sharingBrowser,
  startRuntimeWithCarrier,
  throughStepUps,
  withdrawAuthorization,
} from '../../support/sharing-flows.js';
import type { UserAgent } from '../../support/user-agent.js';

/**
 * A share of licences (授权用证) lasts as the person approved it on the consent page (`expires_at`, listed
 * in the wallet), not as long as their sign-in: a platform registered for refresh tokens gets one with
 * the share without asking `offline_access` with `prompt=consent`; the share survives the person's
 * logout and their acting for an enterprise at another platform; it refreshes until the grant's expiry
 * and not after. A plain sign-in keeps OpenID Connect's rule (no refresh token without
 * `prompt=consent`, tokens that end with the session). Over real HTTP, openid-client as the platform,
 * the demo citizen (legal representative of the demo enterprise, holder of a driving licence) as the
 * person.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
let withoutRefresh: RelyingParty;
let enterprisePlatform: RelyingParty;
const carrier = new CarrierOfNumbers();
const purpose = '办理机动车登记业务';
const browser = () => sharingBrowser(runtime);

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  const admin = await adminToken(runtime);
  platform = await registerSharingPlatform(runtime, admin, '长期授权测试平台', 'https://lasting.example');
  withoutRefresh = await registerSharingPlatform(
    runtime,
    admin,
    '无刷新令牌测试平台',
    'https://no-refresh.example',
    ['openid', 'profile'],
  );
  enterprisePlatform = await registerPlatform(runtime, admin, {
    name: '企业服务测试平台',
    redirectUris: ['https://enterprise.example/callback'],
    scopes: ['openid', 'entity'],
  });
});
afterAll(() => runtime?.close());
afterEach(() => {
  vi.useRealTimers();
});

/** Drives the demo citizen's flow to the platform's callback, stepping them up by SMS wherever a page asks. */
async function toCallback(ua: UserAgent, url: URL, answers: Answers): Promise<URL> {
  const outcome = await throughStepUps(runtime, ua, url, {
    answers,
    phone: runtime.credentials.citizen.phone,
  });
  expect(outcome.callback, outcome.page?.html.replace(/\s+/g, ' ').slice(0, 400)).toBeDefined();
  return outcome.callback!;
}

/**
 * The demo citizen shares their driving licence with `rp` until `expiresAt`, in the browser `ua`: no
 * `offline_access`, no `prompt=consent`, as a platform that only wants the licences asks.
 */
async function share(rp: RelyingParty, ua: UserAgent, expiresAt: Date) {
  const details = [
    licenceAccess(['driving-licence'], purpose, {
      expires_at: expiresAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    }),
  ];
  const request = await authorizationRequest(rp, {
    scope: 'openid profile',
    authorization_details: JSON.stringify(details),
  });
  const tokens = await exchange(rp, request, await toCallback(ua, request.url, citizenAnswers(runtime)));
  expect(tokens.authorization_details).toEqual(details);
  return tokens;
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);
const sharedStatus = async (token: string) => (await getWithToken(runtime, '/shared/licences', token)).status;

describe('a share approved without offline_access or prompt=consent', () => {
  it('gets a refresh token, which ends no later than the share', async () => {
    const expiresAt = inDays(2);
    const tokens = await share(platform, browser(), expiresAt);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    // The access token says nothing of offline_access: the share itself is the consent to last.
    expect(tokens.scope?.split(' ')).not.toContain('offline_access');

    const introspected = await client.tokenIntrospection(platform.config, tokens.refresh_token!);
    expect(introspected.active).toBe(true);
    const grantEnds = Math.floor(expiresAt.getTime() / 1000);
    expect(introspected.exp).toBeLessThanOrEqual(grantEnds);
    expect(introspected.exp).toBeGreaterThan(grantEnds - 120);
    // An access token never outlives the share either, however short it is already.
    expect(tokens.expires_in).toBeLessThanOrEqual(600);
  });

  it('survives acting for an enterprise elsewhere and a logout, stays listed, ends at once when withdrawn', async () => {
    const ua = browser();
    const tokens = await share(platform, ua, inDays(30));
    expect(await sharedStatus(tokens.access_token)).toBe(200);

    // In the same browser, the person acts for their enterprise at another platform: a session of its
    // own, so the personal session ends (and with it every sign-in bound to it).
    const request = await authorizationRequest(enterprisePlatform, { scope: 'openid entity' });
    const callback = await toCallback(ua, request.url, {
      ...citizenAnswers(runtime),
      entity: runtime.credentials.entity.creditCode,
    });
    const enterprise = await exchange(enterprisePlatform, request, callback);
    const enterpriseSub = enterprise.claims()!.sub;
    expect(
      await client.fetchUserInfo(enterprisePlatform.config, enterprise.access_token, enterpriseSub),
    ).toMatchObject({ subject_type: 'legal_person' });

    expect(await sharedStatus(tokens.access_token)).toBe(200);
    const afterSwitch = await client.refreshTokenGrant(platform.config, tokens.refresh_token!);
    expect(afterSwitch.authorization_details).toEqual(tokens.authorization_details);
    expect(await sharedStatus(afterSwitch.access_token)).toBe(200);

    // Then signs out of everything.
    await logOut(ua, enterprisePlatform);
    expect(await sharedStatus(afterSwitch.access_token)).toBe(200);
    const afterLogout = await client.refreshTokenGrant(platform.config, afterSwitch.refresh_token!);
    expect(await sharedStatus(afterLogout.access_token)).toBe(200);

    // The wallet still lists the share the person approved.
    const wallet = await walletPlatform(runtime);
    const mine = (await signIn(wallet, browser(), citizenAnswers(runtime), { scope: 'openid licences' }))
      .tokens.access_token;
    const listed = (await (await getWithToken(runtime, '/me/authorizations', mine)).json()) as {
      items: Array<{ id: string; client: { id: string } }>;
    };
    const listing = listed.items.filter((item) => item.client.id === platform.clientId);
    expect(listing.length).toBeGreaterThanOrEqual(1);

    // Withdrawing it still ends its tokens at once, session or not.
    for (const { id } of listing) {
      const withdrawn = await withdrawAuthorization(runtime, id, mine);
      expect(withdrawn.status).toBe(204);
    }
    expect(await sharedStatus(afterLogout.access_token)).toBe(401);
    expect((await refusal(client.refreshTokenGrant(platform.config, afterLogout.refresh_token!))).error).toBe(
      'invalid_grant',
    );
  });

  it('refreshes until the grant’s expiry and not after', async () => {
    const expiresAt = inDays(1);
    const tokens = await share(platform, browser(), expiresAt);

    // The provider's clock (Date) moves; timers stay real, so requests still run.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(expiresAt.getTime() - 10 * 60_000);
    const late = await client.refreshTokenGrant(platform.config, tokens.refresh_token!);
    expect(await sharedStatus(late.access_token)).toBe(200);
    // Rotated ten minutes before the end: the new refresh token still ends with the share.
    const introspected = await client.tokenIntrospection(platform.config, late.refresh_token!);
    expect(introspected.exp).toBeLessThanOrEqual(Math.floor(expiresAt.getTime() / 1000));

    vi.setSystemTime(expiresAt.getTime() + 60_000);
    expect((await refusal(client.refreshTokenGrant(platform.config, late.refresh_token!))).error).toBe(
      'invalid_grant',
    );
    expect(await sharedStatus(late.access_token)).toBe(401);
  });

  it('keeps its approved end when a later sign-in at the platform, in the same session, is consented to', async () => {
    const ua = browser();
    // No expires_at: the default 30 days, counted from the approval.
    const details = [licenceAccess(['driving-licence'], purpose)];
    const request = await authorizationRequest(platform, {
      scope: 'openid',
      authorization_details: JSON.stringify(details),
    });
    const tokens = await exchange(
      platform,
      request,
      await toCallback(ua, request.url, citizenAnswers(runtime)),
    );
    const before = await client.tokenIntrospection(platform.config, tokens.refresh_token!);

    // Hours later, the platform signs the person in (the same session) asking for `profile` too: the
    // consent page makes the sign-in's own grant (review R34 M1: a sign-in never goes into a share's
    // grant), and the share's stays as approved.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + 2 * 3600_000);
    const later = await authorizationRequest(platform, { scope: 'openid profile' });
    const second = await exchange(platform, later, await toCallback(ua, later.url, citizenAnswers(runtime)));
    expect(second.scope?.split(' ')).toContain('profile');

    const refreshed = await client.refreshTokenGrant(platform.config, tokens.refresh_token!);
    const after = await client.tokenIntrospection(platform.config, refreshed.refresh_token!);
    expect(after.exp).toBeLessThanOrEqual(before.exp!);
  });

  it('gets no refresh token at a platform not registered for the refresh_token grant', async () => {
    const tokens = await share(withoutRefresh, browser(), inDays(30));
    expect(tokens.refresh_token).toBeUndefined();
    expect(await sharedStatus(tokens.access_token)).toBe(200);
  });
});

describe('a plain sign-in keeps OpenID Connect’s rule', () => {
  it('asks offline_access without prompt=consent: no refresh token, and its tokens end at logout', async () => {
    const ua = browser();
    const request = await authorizationRequest(platform, { scope: 'openid profile offline_access' });
    const tokens = await exchange(
      platform,
      request,
      await toCallback(ua, request.url, citizenAnswers(runtime)),
    );
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope?.split(' ')).not.toContain('offline_access');
    const sub = tokens.claims()!.sub;
    expect((await client.fetchUserInfo(platform.config, tokens.access_token, sub)).sub).toBe(sub);

    await logOut(ua, platform);
    expect((await refusal(client.fetchUserInfo(platform.config, tokens.access_token, sub))).status).toBe(401);
  });
});
