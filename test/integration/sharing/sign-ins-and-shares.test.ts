import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withdrawalEvents } from '../../../shared/sharing/withdrawal-notices.js';
import { startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  citizenAnswers,
  exchange,
  getWithToken,
  verifyNotice,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import {
  licenceAccess,
  registerSharingPlatform,
  sharingBrowser,
  throughStepUps,
  walletToken,
  withdrawAuthorization,
} from '../../support/sharing-flows.js';
import type { UserAgent } from '../../support/user-agent.js';

/**
 * Review R34 M1: a platform's sign-in and its shares (授权用证) are consents of their own, each in a grant
 * of its own, whatever order they come in one browser session. A share made after a sign-in that released
 * the ID number does not take the number along (the sign-in's withdrawal then ends every release of it,
 * silent sign-ins included); a sign-in made after a share is listed in the wallet as the sign-in it is,
 * with the ID number and offline access it gave, and each is withdrawn, and told to the platform, apart.
 * Over real HTTP, openid-client as the platform, the demo citizen (holder of a driving licence) as the
 * person, a receiver on this machine as the platform's events endpoint.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
let receiver: FakeHttpServer;
const carrier = new CarrierOfNumbers();
const purpose = '办理机动车登记业务';

beforeAll(async () => {
  runtime = await startTestRuntime(
    undefined,
    { NOTICE_INTERVAL_SECONDS: '0', NOTICE_RETRY_SECONDS: '1' },
    { carrier: (operator) => carrier.using(operator.lookupMac) },
  );
  receiver = await startFakeHttpServer();
  receiver.answer((_, res) => {
    res.writeHead(202).end();
  });
});
// A platform of its own for each test: the demo citizen's authorizations of one do not meet another's.
let platforms = 0;
beforeEach(async () => {
  platforms += 1;
  platform = await registerSharingPlatform(
    runtime,
    await adminToken(runtime),
    `登录与授权分开测试平台 ${platforms}`,
    `https://apart-${platforms}.example`,
    ['openid', 'profile', 'idcard', 'offline_access'],
    receiver.url('/events'),
  );
});
afterAll(async () => {
  await runtime?.close();
  await receiver?.close();
});

interface Listed {
  id: string;
  kind: string;
  client: { id: string };
  scopes: string[];
  licenceTypes: string[];
}

async function authorizations(personToken: string): Promise<Listed[]> {
  const response = await getWithToken(runtime, '/me/authorizations', personToken);
  return ((await response.json()) as { items: Listed[] }).items.filter(
    (item) => item.client.id === platform.clientId,
  );
}

/** A share of the driving licence in the browser `ua`, asking `openid profile` only; its tokens. */
async function share(ua: UserAgent) {
  const request = await authorizationRequest(platform, {
    scope: 'openid profile',
    authorization_details: JSON.stringify([licenceAccess(['driving-licence'], purpose)]),
  });
  const outcome = await throughStepUps(runtime, ua, request.url, {
    answers: citizenAnswers(runtime),
    phone: runtime.credentials.citizen.phone,
  });
  expect(outcome.callback, outcome.page?.html.replace(/\s+/g, ' ').slice(0, 400)).toBeDefined();
  return exchange(platform, request, outcome.callback!);
}

/** The SETs the platform has received since `from`, by event, after the notices' rounds. */
async function noticesSince(from: number, count: number) {
  for (let i = 0; i < 20 && receiver.received.length < from + count; i++) await runtime.deliverNotices();
  const received = receiver.received.slice(from);
  expect(received).toHaveLength(count);
  return Promise.all(
    received.map(
      async (request) =>
        (await verifyNotice(runtime.baseUrl, request.body, { audience: platform.clientId })).payload
          .events as Record<string, { grant_ids?: string[]; share_id?: string }>,
    ),
  );
}

const idNumberOf = async (accessToken: string, sub: string) =>
  (await client.fetchUserInfo(platform.config, accessToken, sub)).id_number;

describe('a share made after a sign-in that released the ID number', () => {
  it('does not carry the number: once the sign-in is withdrawn, a silent sign-in gets consent_required', async () => {
    const ua = sharingBrowser(runtime);
    // 1. The sign-in asks for the ID number; the person ticks its box.
    const first = await authorizationRequest(platform, { scope: 'openid profile idcard' });
    const { callback } = await callbackOf(ua, first.url, { ...citizenAnswers(runtime), idNumber: true });
    const signedIn = await exchange(platform, first, callback);
    const sub = signedIn.claims()!.sub;
    expect(await idNumberOf(signedIn.access_token, sub)).toBeDefined();

    // 2. A share in the same browser session, asking for no ID number: it holds none.
    const shared = await share(ua);
    expect(await idNumberOf(shared.access_token, sub)).toBeUndefined();
    const personToken = await walletToken(runtime, ua);
    const listed = await authorizations(personToken);
    const shareEntry = listed.find((item) => item.kind === 'licence_access');
    const signInEntry = listed.find((item) => item.kind === 'sign_in');
    expect(shareEntry?.scopes).not.toContain('idcard');
    expect(signInEntry?.scopes).toContain('idcard');

    // The sign-in is still the session's: a silent sign-in continues it, the number included.
    const silent = await authorizationRequest(platform, { scope: 'openid idcard', prompt: 'none' });
    const silentCode = (await ua.navigate(silent.url)).leftTo!;
    expect(silentCode.searchParams.get('error')).toBeNull();
    const again = await exchange(platform, silent, silentCode);
    expect(await idNumberOf(again.access_token, sub)).toBeDefined();

    // 3. The person withdraws the platform's sign-in in the wallet.
    expect((await withdrawAuthorization(runtime, signInEntry!.id, personToken)).status).toBe(204);
    expect((await authorizations(personToken)).map((item) => item.kind)).toEqual(['licence_access']);

    // 4. The platform asks for the number again, silently: no code, and no number.
    const afterwards = await authorizationRequest(platform, { scope: 'openid idcard', prompt: 'none' });
    const answered = (await ua.navigate(afterwards.url)).leftTo!;
    expect(answered.searchParams.get('code')).toBeNull();
    expect(answered.searchParams.get('error')).toBe('consent_required');
    // The share stands, and reads the licence as before.
    expect((await getWithToken(runtime, '/shared/licences', shared.access_token)).status).toBe(200);
  });
});

describe('a sign-in made after a share in the same session', () => {
  it('is listed as a sign-in with the ID number and offline access, each withdrawn and told apart', async () => {
    const ua = sharingBrowser(runtime);
    const shared = await share(ua);
    const request = await authorizationRequest(platform, {
      scope: 'openid profile idcard offline_access',
      prompt: 'consent',
    });
    const { callback } = await callbackOf(ua, request.url, { ...citizenAnswers(runtime), idNumber: true });
    const signedIn = await exchange(platform, request, callback);
    expect(signedIn.refresh_token).toBeDefined();

    const personToken = await walletToken(runtime, ua);
    const listed = await authorizations(personToken);
    expect(listed.map((item) => [item.kind, [...item.scopes].sort()]).sort()).toEqual([
      ['licence_access', ['openid', 'profile']],
      ['sign_in', ['idcard', 'offline_access', 'openid', 'profile']],
    ]);
    // Withdrawing the sign-in ends its refresh token, and is told as a sign-in; the share stands.
    const from = receiver.received.length;
    const signInEntry = listed.find((item) => item.kind === 'sign_in')!;
    expect((await withdrawAuthorization(runtime, signInEntry.id, personToken)).status).toBe(204);
    await expect(client.refreshTokenGrant(platform.config, signedIn.refresh_token!)).rejects.toThrow();
    expect((await getWithToken(runtime, '/shared/licences', shared.access_token)).status).toBe(200);
    const [signInNotice] = await noticesSince(from, 1);
    expect(Object.keys(signInNotice!)).toEqual([withdrawalEvents['sign-in-withdrawn']]);
    expect(signInNotice![withdrawalEvents['sign-in-withdrawn']]!.grant_ids).toEqual([signInEntry.id]);

    // Withdrawing the share is told as a share, of its own grant.
    const shareEntry = listed.find((item) => item.kind === 'licence_access')!;
    expect((await withdrawAuthorization(runtime, shareEntry.id, personToken)).status).toBe(204);
    expect((await getWithToken(runtime, '/shared/licences', shared.access_token)).status).toBe(401);
    const [shareNotice] = await noticesSince(from + 1, 1);
    expect(Object.keys(shareNotice!)).toEqual([withdrawalEvents['share-withdrawn']]);
    expect(shareNotice![withdrawalEvents['share-withdrawn']]).toMatchObject({ share_id: shareEntry.id });
  });
});
