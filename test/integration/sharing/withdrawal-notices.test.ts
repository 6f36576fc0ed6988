import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withdrawalEvents } from '../../../shared/sharing/withdrawal-notices.js';
import { startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { expectProblem, postJson, scanItems } from '../../support/http-api.js';
import {
  adminToken,
  citizenAnswers,
  getWithToken,
  registerPlatform,
  signIn,
  verifyJwt,
  verifyNotice,
  walletPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { licenceAccess, registerNotifiedPlatform } from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Privacy review L5: a person who withdraws a share (授权用证) or a platform's sign-in consent must not
 * leave their data with the platform unknowingly. A platform registered with an events endpoint is told,
 * by a Security Event Token (RFC 8417) signed with the notice key: over real HTTP to a receiver on this
 * machine (the local runtime lets loopback through, as its issuer is http on localhost), verified with
 * jose against the notices JWKS (`/.well-known/notices-jwks.json`), never the OpenID JWKS. The withdrawal never waits for the platform: it stands while the
 * receiver is down, and the notice is tried again.
 */

let runtime: TestRuntime;
let receiver: FakeHttpServer;
let platform: RelyingParty;
let admin: string;
const purpose = '办理机动车登记业务';
const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/wallet/callback`]);
const accepted = () =>
  receiver.answer((_, res) => {
    res.writeHead(202).end();
  });

beforeAll(async () => {
  // No timer: each test runs its rounds (a new notice still starts one at once, as `npm start` does).
  runtime = await startTestRuntime(undefined, { NOTICE_INTERVAL_SECONDS: '0', NOTICE_RETRY_SECONDS: '1' });
  admin = await adminToken(runtime);
  ({ platform, receiver } = await registerNotifiedPlatform(
    runtime,
    admin,
    '撤回通知测试平台',
    'https://notices.example',
  ));
});
afterAll(async () => {
  await runtime?.close();
  await receiver?.close();
});

/** The citizen's wallet token, to list and withdraw authorizations. */
async function walletToken(): Promise<string> {
  const wallet = await walletPlatform(runtime);
  return (await signIn(wallet, browser(), citizenAnswers(runtime), { scope: 'openid licences' })).tokens
    .access_token;
}

/** The citizen shares their driving licence with the platform; answers the platform's `sub` for them. */
async function share(): Promise<string> {
  const { claims } = await signIn(platform, browser(), citizenAnswers(runtime), {
    scope: 'openid profile',
    authorization_details: JSON.stringify([licenceAccess(['driving-licence'], purpose)]),
  });
  return claims.sub;
}

async function authorizations(token: string) {
  const listed = await getWithToken(runtime, '/me/authorizations', token);
  return (
    (await listed.json()) as { items: Array<{ id: string; kind: string; client: { id: string } }> }
  ).items.filter((item) => item.client.id === platform.clientId);
}

async function withdraw(token: string, id: string): Promise<number> {
  const response = await fetch(`${runtime.baseUrl}/me/authorizations/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  });
  return response.status;
}

/** Rounds until the receiver has `count` requests (a new notice starts one of its own at once). */
async function receivedAtLeast(count: number) {
  for (let i = 0; i < 20 && receiver.received.length < count; i++) await runtime.deliverNotices();
  expect(receiver.received.length).toBeGreaterThanOrEqual(count);
}

describe('a withdrawn share', () => {
  it('is told to the platform: a SET signed with the notice key, for its client id and pairwise sub', async () => {
    accepted();
    receiver.received.length = 0;
    const sub = await share();
    const mine = await walletToken();
    const [listed] = (await authorizations(mine)).filter((item) => item.kind === 'licence_access');
    expect(await withdraw(mine, listed!.id)).toBe(204);
    await receivedAtLeast(1);

    const [request] = receiver.received;
    expect(request).toMatchObject({ method: 'POST', url: '/events' });
    expect(request!.headers['content-type']).toBe('application/secevent+jwt');
    const { payload, protectedHeader } = await verifyNotice(runtime.baseUrl, request!.body, {
      audience: platform.clientId,
    });
    expect(protectedHeader.typ).toBe('secevent+jwt');
    // Signed by the notice key, which is not in the OpenID JWKS (review R31 L1): an ID-token verifier at
    // the platform, which trusts every key of jwks_uri, has no key for it.
    await expect(
      verifyJwt(runtime.baseUrl, request!.body, { audience: platform.clientId, typ: 'secevent+jwt' }),
    ).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect(payload).toMatchObject({ iss: runtime.baseUrl, aud: platform.clientId, sub });
    expect(payload.jti).toMatch(/^evt_/);
    expect(payload.events).toEqual({
      [withdrawalEvents['share-withdrawn']]: {
        share_id: listed!.id,
        licence_types: ['driving-licence'],
        scopes: ['openid', 'profile'],
        withdrawn_at: expect.any(Number),
      },
    });
    // Who the person is stays out of it: no name, no ID number, no internal account id.
    const { citizen } = runtime.credentials;
    const decoded = Buffer.from(request!.body.split('.')[1]!, 'base64url').toString();
    for (const secret of [citizen.idNumber, citizen.name, 'acc_']) expect(decoded).not.toContain(secret);
    // Delivered once: the next round has nothing to send.
    expect(await runtime.deliverNotices()).toEqual({ delivered: 0, retried: 0, abandoned: 0 });
  });

  it('is tried again after the platform answers 500, with the same jti', async () => {
    let calls = 0;
    receiver.answer((_, res) => {
      calls += 1;
      res.writeHead(calls === 1 ? 500 : 202).end();
    });
    receiver.received.length = 0;
    await share();
    const mine = await walletToken();
    const [listed] = (await authorizations(mine)).filter((item) => item.kind === 'licence_access');
    expect(await withdraw(mine, listed!.id)).toBe(204);
    await receivedAtLeast(1);
    // Not again at once: the retry waits (NOTICE_RETRY_SECONDS, 1 s here).
    expect((await runtime.deliverNotices()).delivered).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await runtime.deliverNotices()).toMatchObject({ delivered: 1 });
    expect(receiver.received).toHaveLength(2);
    const [first, second] = await Promise.all(
      receiver.received.map((r) => verifyNotice(runtime.baseUrl, r.body, { audience: platform.clientId })),
    );
    expect(second!.payload.jti).toBe(first!.payload.jti);
  });

  it('stands while the platform is down, and its notice waits for it', async () => {
    const down = await registerPlatform(runtime, admin, {
      name: '停机测试平台',
      redirectUris: ['https://down.example/callback'],
      scopes: ['openid', 'profile'],
      authorizationDetailsTypes: ['licence_access'],
      // A port nothing listens on: a receiver started and closed again.
      eventsUri: await (async () => {
        const gone = await startFakeHttpServer();
        const url = gone.url('/events');
        await gone.close();
        return url;
      })(),
    });
    const { tokens } = await signIn(down, browser(), citizenAnswers(runtime), {
      scope: 'openid profile',
      authorization_details: JSON.stringify([licenceAccess(['driving-licence'], purpose)]),
    });
    const mine = await walletToken();
    const listed = await getWithToken(runtime, '/me/authorizations', mine);
    const item = (
      (await listed.json()) as { items: Array<{ id: string; client: { id: string } }> }
    ).items.find((entry) => entry.client.id === down.clientId);
    expect(await withdraw(mine, item!.id)).toBe(204);
    // The share is gone at once, whatever became of the notice.
    expect((await getWithToken(runtime, '/shared/licences', tokens.access_token)).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await runtime.deliverNotices()).toMatchObject({ delivered: 0, retried: 1 });
  });

  it('names the scopes it held, the ID number among them when the person ticked it (review R43 M2)', async () => {
    const { platform: idcard, receiver: told } = await registerNotifiedPlatform(
      runtime,
      admin,
      '撤回通知身份证号平台',
      'https://notices-idcard.example',
      ['openid', 'profile', 'idcard'],
    );
    try {
      told.answer((_, res) => {
        res.writeHead(202).end();
      });
      const { tokens } = await signIn(
        idcard,
        browser(),
        { ...citizenAnswers(runtime), idNumber: true },
        {
          scope: 'openid profile idcard',
          authorization_details: JSON.stringify([licenceAccess(['driving-licence'], purpose)]),
        },
      );
      // The share's token read the ID number and the name at userinfo.
      const read = (await (await getWithToken(runtime, '/userinfo', tokens.access_token)).json()) as object;
      expect(read).toMatchObject({
        id_number: runtime.credentials.citizen.idNumber,
        name: expect.any(String),
      });
      const mine = await walletToken();
      const listed = await getWithToken(runtime, '/me/authorizations', mine);
      const item = (
        (await listed.json()) as { items: Array<{ id: string; kind: string; client: { id: string } }> }
      ).items.find((entry) => entry.client.id === idcard.clientId && entry.kind === 'licence_access');
      expect(await withdraw(mine, item!.id)).toBe(204);
      for (let i = 0; i < 20 && told.received.length < 1; i++) await runtime.deliverNotices();
      const { payload } = await verifyNotice(runtime.baseUrl, told.received[0]!.body, {
        audience: idcard.clientId,
      });
      // What the platform must delete: the licences, and the ID number and name it read under the share.
      expect(payload.events).toEqual({
        [withdrawalEvents['share-withdrawn']]: {
          share_id: item!.id,
          licence_types: ['driving-licence'],
          scopes: ['openid', 'profile', 'idcard'],
          withdrawn_at: expect.any(Number),
        },
      });
    } finally {
      await told.close();
    }
  });
});

describe('a withdrawn sign-in', () => {
  it('is told too, with the scopes it held', async () => {
    accepted();
    receiver.received.length = 0;
    const { claims } = await signIn(platform, browser(), citizenAnswers(runtime), {
      scope: 'openid profile',
    });
    const mine = await walletToken();
    const [signInGrant] = (await authorizations(mine)).filter((item) => item.kind === 'sign_in');
    expect(await withdraw(mine, signInGrant!.id)).toBe(204);
    await receivedAtLeast(1);
    const { payload } = await verifyNotice(runtime.baseUrl, receiver.received[0]!.body, {
      audience: platform.clientId,
    });
    expect(payload.sub).toBe(claims.sub);
    expect(payload.events).toEqual({
      [withdrawalEvents['sign-in-withdrawn']]: {
        grant_ids: expect.arrayContaining([signInGrant!.id]),
        scopes: expect.arrayContaining(['openid', 'profile']),
        withdrawn_at: expect.any(Number),
      },
    });
  });
});

describe('registering an events endpoint', () => {
  it.each([
    ['http://platform.example/events', 'must use https'],
    ['https://10.1.2.3/events', 'must be a public host'],
    ['https://[fd00::1]/events', 'must be a public host'],
    ['https://169.254.169.254/latest', 'must be a public host'],
  ])('refuses %s, naming eventsUri', async (eventsUri, message) => {
    const response = await postJson(runtime, '/admin/clients', admin, {
      name: '坏地址平台',
      redirectUris: ['https://bad.example/callback'],
      scopes: ['openid'],
      eventsUri,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ path: string; message: string }> };
    expect(body.errors).toEqual([expect.objectContaining({ path: 'eventsUri' })]);
    expect(body.errors[0]!.message).toContain(message);
  });
});

describe('changing an events endpoint (PATCH /admin/clients/{id})', () => {
  const patch = (clientId: string, body: unknown) =>
    fetch(`${runtime.baseUrl}/admin/clients/${clientId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /** A share of the platform withdrawn: how many notices the receiver got for it. */
  async function noticesOfAWithdrawal(): Promise<number> {
    receiver.received.length = 0;
    await share();
    const mine = await walletToken();
    const [listed] = (await authorizations(mine)).filter((item) => item.kind === 'licence_access');
    expect(await withdraw(mine, listed!.id)).toBe(204);
    for (let i = 0; i < 5; i++) await runtime.deliverNotices();
    return receiver.received.length;
  }

  it('removes it (null), and sets it again on the existing platform, each change in the audit trail', async () => {
    accepted();
    const removed = await patch(platform.clientId, { eventsUri: null });
    expect(removed.status, await removed.clone().text()).toBe(200);
    expect(await removed.json()).toEqual({ clientId: platform.clientId, eventsUri: null });
    expect(await noticesOfAWithdrawal()).toBe(0);

    const set = await patch(platform.clientId, { eventsUri: receiver.url('/events') });
    expect(await set.json()).toEqual({ clientId: platform.clientId, eventsUri: receiver.url('/events') });
    expect(await noticesOfAWithdrawal()).toBe(1);
    // The platform's other settings stay: it still signs people in and is asked for shares.
    const stored = (await scanItems(`oidc#Client#${platform.clientId}`))[0]!.payload as Record<
      string,
      unknown
    >;
    expect(stored).toMatchObject({
      redirect_uris: ['https://notices.example/callback'],
      authorization_details_types: ['licence_access'],
      events_uri: receiver.url('/events'),
    });

    const operator = runtime.credentials.admin.clientId;
    const entries = await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, operator);
    expect(entries.filter((entry) => entry.action === 'client.updated')).toEqual([
      expect.objectContaining({ targetClientId: platform.clientId, reason: 'eventsUri removed' }),
      expect.objectContaining({
        targetClientId: platform.clientId,
        reason: `eventsUri ${receiver.url('/events')}`,
      }),
    ]);
  });

  it.each([
    [{ eventsUri: 'https://10.1.2.3/events' }, 'eventsUri', 'must be a public host'],
    [{ eventsUri: 'http://platform.example/events' }, 'eventsUri', 'must use https'],
    [{}, 'eventsUri', 'required'],
    // Only what may be changed: another member is refused (the strict body names it).
    [{ eventsUri: 'https://platform.example/events', name: '改名' }, 'name', 'unknown field'],
  ])('refuses %j, naming the field', async (body, path, message) => {
    const response = await patch(platform.clientId, body);
    const problem = await expectProblem(response, 400, 'invalid_request');
    expect(problem.errors).toEqual([expect.objectContaining({ path })]);
    expect(problem.errors![0]!.message).toContain(message);
  });

  it('refuses an endpoint on a client that signs nobody in, and an unknown client', async () => {
    const machine = await postJson(runtime, '/admin/clients', admin, {
      name: '核验终端',
      scopes: ['licences:verify'],
    });
    const { clientId } = (await machine.json()) as { clientId: string };
    const refused = await expectProblem(
      await patch(clientId, { eventsUri: 'https://verifier.example/events' }),
      400,
      'invalid_request',
    );
    expect(refused.errors).toEqual([expect.objectContaining({ path: 'eventsUri' })]);
    await expectProblem(await patch('cl_nobody', { eventsUri: null }), 404, 'client_not_found');
  });
});
