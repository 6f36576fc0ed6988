import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { registerClient, registerClientInput } from '../../../shared/clients/register-client.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { postJson } from '../../support/http-api.js';
import { CarrierOfNumbers } from '../../support/in-memory-sms.js';
import { drivingLicenceBody, issued, licencePath, newIdNumber } from '../../support/licences.js';
import {
  authorizationRequest,
  callbackOf,
  discover,
  exchange,
  getWithToken,
  refusal,
  registerPlatform,
  runFlow,
  signIn,
  walletPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import {
  approveConsent,
  licenceAccess,
  newPerson,
  openAccount,
  putInRegistry,
  sharingBrowser,
  startSharingRuntime,
  steppedUpToConsent,
  toConsent as toConsentAt,
  walletToken,
  withdrawAuthorization,
  type TestPerson,
} from '../../support/sharing-flows.js';
import type { UserAgent } from '../../support/user-agent.js';

/**
 * The privacy review R9 (PIPL, GB/T 35273) over real HTTP, openid-client as the platform:
 * H1 a platform gets no `licences` (every licence held) and every platform's sign-in is listed and
 * withdrawable in the wallet; M1 the ID number is a consent of its own, unticked by default; M2 each
 * release of it is in the person's usage record; M3 a share hands over no status reason and no revoked
 * licence.
 */

let runtime: TestRuntime;
let admin: string;
let drivingIssuer: string;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const platformName = '隐私测试平台';

const browser = () => sharingBrowser(runtime);

/** The person's wallet token (first-party) in the same browser session: their 已授权的平台, 用证记录. */
const personToken = (ua: UserAgent) => walletToken(runtime, ua);

/** Signs `person` in to the platform with `scope` and prompt=consent, stopping at the consent page. */
const toConsent = (ua: UserAgent, person: TestPerson, scope: string) =>
  toConsentAt(platform, ua, person, scope);

/** Approves the consent page, ticking the ID number's own box or not, and exchanges the code. */
const approve = (ua: UserAgent, at: Awaited<ReturnType<typeof toConsent>>, idNumber: boolean) =>
  approveConsent(platform, ua, at, idNumber);

beforeAll(async () => {
  ({ runtime, admin, drivingIssuer, platform } = await startSharingRuntime(carrier, {
    name: platformName,
    origin: 'https://privacy.example',
    scopes: ['openid', 'profile', 'idcard', 'offline_access'],
  }));
});
afterAll(() => runtime?.close());

describe('H1: the licences scope is the service’s own apps’', () => {
  it('registration refuses licences for a platform that is not first-party, naming scopes', async () => {
    const response = await postJson(runtime, '/admin/clients', admin, {
      name: 'Wants every licence',
      redirectUris: ['https://greedy.example/callback'],
      scopes: ['openid', 'profile', 'licences', 'offline_access'],
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: Array<{ path: string; message: string }> };
    expect(problem.errors).toContainEqual(
      expect.objectContaining({ path: 'scopes', message: expect.stringMatching(/licence_access/) }),
    );
  });

  it('a platform registered with licences before gets invalid_scope, and its tokens are refused', async () => {
    // Registered as the old rules allowed (docs/openid-connect.md showed it): not first-party, `licences`.
    const deps = buildDependencies(runtime.config);
    const input = registerClientInput.parse({
      name: 'Registered earlier',
      redirectUris: ['https://earlier.example/callback'],
      scopes: ['openid', 'profile', 'licences', 'offline_access'],
      firstParty: true,
    });
    const { clientId, clientSecret } = await registerClient(
      { ...input, firstParty: false },
      { clientId: 'test-operator' },
      deps,
    );
    const earlier: RelyingParty = {
      clientId,
      clientSecret: clientSecret!,
      redirectUri: 'https://earlier.example/callback',
      config: await discover(runtime.baseUrl, { clientId, clientSecret: clientSecret! }),
    };
    const person = await newPerson(runtime, carrier);
    const request = await authorizationRequest(earlier, {
      scope: 'openid profile licences offline_access',
      prompt: 'consent',
    });
    const outcome = await runFlow(browser(), request.url, {
      username: person.idNumber,
      password: person.password,
    });
    expect(outcome.callback?.searchParams.get('error')).toBe('invalid_scope');

    // A `licences` token it got before: made here by the client being first-party, then no longer.
    const holderApp = await registerPlatform(runtime, admin, {
      name: 'Once first-party',
      redirectUris: ['https://once.example/callback'],
      scopes: ['openid', 'licences'],
      firstParty: true,
    });
    const { idNumber } = runtime.credentials.citizen;
    const { tokens } = await signIn(
      holderApp,
      browser(),
      { username: idNumber, password: runtime.credentials.citizen.password },
      { scope: 'openid licences' },
    );
    const stored = (await deps.clients.find(holderApp.clientId))!;
    const { first_party: _firstParty, ...notFirstParty } = stored;
    await deps.clients.save({ ...notFirstParty, client_id: holderApp.clientId });
    deps.doc.destroy();
    deps.kms.destroy();
    const mine = await getWithToken(runtime, '/me/licences', tokens.access_token);
    expect(mine.status).toBe(403);
    expect(await mine.json()).toMatchObject({ code: 'first_party_only' });
    for (const path of [
      licencePath('1.2.156.3005.2.003.11110000000021135M.0001.1.3'),
      `${licencePath('1.2.156.3005.2.003.11110000000021135M.0001.1.3').replace('/licences', '/me/licences')}/pdf`,
    ]) {
      const refused = await getWithToken(runtime, path, tokens.access_token);
      expect(refused.status, path).toBe(403);
    }
  });

  it('a platform’s sign-in is listed with what it holds, and withdrawing it ends its refresh token', async () => {
    const person = await newPerson(runtime, carrier);
    const ua = browser();
    const tokens = await approve(
      ua,
      await toConsent(ua, person, 'openid profile idcard offline_access'),
      true,
    );
    expect(tokens.refresh_token).toBeDefined();
    const wallet = await personToken(ua);
    const listed = await getWithToken(runtime, '/me/authorizations', wallet);
    expect(listed.status).toBe(200);
    const { items } = (await listed.json()) as {
      items: Array<{ id: string; kind: string; client: { id: string }; scopes: string[] }>;
    };
    const signInGrant = items.find((item) => item.client.id === platform.clientId);
    expect(signInGrant).toMatchObject({ kind: 'sign_in' });
    expect(signInGrant!.scopes).toEqual(expect.arrayContaining(['idcard', 'offline_access', 'profile']));
    // The wallet is the service's own: not a platform the person let in.
    expect(items.map((item) => item.client.id)).not.toContain('wallet');

    const withdrawn = await withdrawAuthorization(runtime, signInGrant!.id, wallet);
    expect(withdrawn.status).toBe(204);
    expect((await refusal(client.refreshTokenGrant(platform.config, tokens.refresh_token!))).error).toBe(
      'invalid_grant',
    );
    const userinfo = await getWithToken(runtime, '/userinfo', tokens.access_token);
    expect(userinfo.status).toBe(401);
    const after = (await (await getWithToken(runtime, '/me/authorizations', wallet)).json()) as {
      items: Array<{ client: { id: string } }>;
    };
    expect(after.items.map((item) => item.client.id)).not.toContain(platform.clientId);
  });
});

describe('M1, M2: the ID number is a consent of its own, and each release is recorded', () => {
  it('the consent page asks apart, unticked; unticked, the platform gets no id_number', async () => {
    const person = await newPerson(runtime, carrier);
    const ua = browser();
    const atConsent = await toConsent(ua, person, 'openid profile idcard');
    const box = /<input\b[^>]*name="idcard"[^>]*>/.exec(atConsent.page.html)?.[0];
    expect(box, 'a checkbox of its own').toMatch(/type="checkbox"/);
    expect(box).not.toMatch(/\bchecked\b/);
    expect(atConsent.page.html).toContain(`同意向 ${platformName} 提供我的身份证号`);
    expect(atConsent.page.html).toMatch(/已授权的平台[^<]*撤回/);
    const tokens = await approve(ua, atConsent, false);
    expect(tokens.scope?.split(' ')).not.toContain('idcard');
    const claims = await client.fetchUserInfo(platform.config, tokens.access_token, tokens.claims()!.sub);
    expect(claims).not.toHaveProperty('id_number');
    expect(claims.name).toBe(person.name);
    // What the grant records is the choice: no idcard in the wallet's list either.
    const { items } = (await (
      await getWithToken(runtime, '/me/authorizations', await personToken(ua))
    ).json()) as {
      items: Array<{ client: { id: string }; scopes: string[] }>;
    };
    expect(items.find((item) => item.client.id === platform.clientId)?.scopes).not.toContain('idcard');
  });

  it('ticked, userinfo releases it, and every release is in the person’s usage record', async () => {
    const person = await newPerson(runtime, carrier);
    const ua = browser();
    const tokens = await approve(ua, await toConsent(ua, person, 'openid profile idcard'), true);
    const sub = tokens.claims()!.sub;
    for (let i = 0; i < 2; i++) {
      const claims = await client.fetchUserInfo(platform.config, tokens.access_token, sub);
      expect(claims['id_number']).toBe(person.idNumber);
    }
    const deps = buildDependencies(runtime.config);
    const lookupKey = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
    const entries = (await auditEntriesOf(deps.doc, runtime.config.auditTableName, platform.clientId)).filter(
      (entry) => entry.action === 'identity.released' && entry['holderKey'] === lookupKey,
    );
    deps.doc.destroy();
    deps.kms.destroy();
    expect(entries).toHaveLength(2);
    expect(JSON.stringify(entries)).not.toContain(person.idNumber);

    const usage = await getWithToken(runtime, '/me/usage?action=released', await personToken(ua));
    expect(usage.status).toBe(200);
    const { items } = (await usage.json()) as { items: Array<Record<string, unknown>> };
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({
      action: 'released',
      client: { id: platform.clientId, name: platformName },
    });
    expect(items[0]).not.toHaveProperty('licenceId');
  });
});

describe('review R10: a number someone only claimed is never released as theirs', () => {
  it('a self-asserted account (a wrong name for a registered number) gets no id_number, even ticked', async () => {
    // The real person is in the population registry, with no account yet; a squatter registers their
    // number under another name, which answers as an unknown number does: a self-asserted account,
    // level 1 (privacy review R9 M6). A platform must not receive that number as the squatter's.
    const idNumber = newIdNumber();
    await putInRegistry(runtime, idNumber, '真实的人');
    const squatter = await openAccount(runtime, {
      idNumber,
      name: '冒名者',
      phone: '',
      password: 'squatter-2026-secret',
    });
    const ua = browser();
    const tokens = await approve(ua, await toConsent(ua, squatter, 'openid profile idcard'), true);
    const claims = await client.fetchUserInfo(platform.config, tokens.access_token, tokens.claims()!.sub);
    expect(claims.name).toBe('冒名者');
    expect(claims).not.toHaveProperty('id_number');
  });
});

describe('review R45 F1: a closed account’s releases of the number are not the next account’s to read', () => {
  it('whoever registers the number after the closure, self-asserted, sees no release in GET /me/usage', async () => {
    const person = await newPerson(runtime, carrier);
    const ua = browser();
    const tokens = await approve(ua, await toConsent(ua, person, 'openid profile idcard'), true);
    const claims = await client.fetchUserInfo(platform.config, tokens.access_token, tokens.claims()!.sub);
    expect(claims['id_number']).toBe(person.idNumber);
    const own = await personToken(ua);
    const before = await getWithToken(runtime, '/me/usage?action=released', own);
    expect(((await before.json()) as { items: unknown[] }).items).toHaveLength(1);

    // The person closes their account in the wallet (the usage record stays, docs/accounts.md).
    const closed = await fetch(`${runtime.baseUrl}/me/account`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${own}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: person.password }),
    });
    expect(closed.status).toBe(200);

    // Anyone who knows the number registers it under a made-up name: self-asserted, level 1.
    const squatter = { idNumber: person.idNumber, name: '冒名者', password: 'Squat-2026-pass' };
    const registered = await postJson(runtime, '/accounts', undefined, { ...squatter, consent: true });
    expect(registered.status).toBe(201);
    const wallet = await walletPlatform(runtime);
    const { tokens: theirs } = await signIn(
      wallet,
      browser(),
      { username: squatter.idNumber, password: squatter.password },
      { scope: 'openid licences' },
    );
    for (const path of ['/me/usage', '/me/usage?action=released']) {
      const usage = await getWithToken(runtime, path, theirs.access_token);
      expect(usage.status).toBe(200);
      // Not which platforms received the real person's number, nor when.
      const text = await usage.text();
      expect(JSON.parse(text)).toMatchObject({ items: [] });
      expect(text).not.toContain(platformName);
    }

    // The entry names the account that released it (its opaque id), never the number.
    const deps = buildDependencies(runtime.config);
    const lookupKey = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
    const entries = (await auditEntriesOf(deps.doc, runtime.config.auditTableName, platform.clientId)).filter(
      (entry) => entry.action === 'identity.released' && entry['holderKey'] === lookupKey,
    );
    deps.doc.destroy();
    deps.kms.destroy();
    expect(entries).toEqual([expect.objectContaining({ accountId: expect.stringMatching(/^acc_/) })]);
    expect(JSON.stringify(entries)).not.toContain(person.idNumber);
  });
});

describe('review R10 (checked, holds): a share asks for the ID number itself, whatever the sign-in gave', () => {
  it('a share made after a sign-in that released the number carries it only if ticked on the share’s page', async () => {
    const person = await newPerson(runtime, carrier);
    const ua = browser();
    // The sign-in gives the number (ticked).
    await approve(ua, await toConsent(ua, person, 'openid profile idcard'), true);
    // Then a share asking for it again: its page asks apart, and unticked the share holds no number, so
    // that withdrawing the sign-in in the wallet stops every release to this platform.
    const request = await authorizationRequest(platform, {
      scope: 'openid profile idcard',
      prompt: 'consent',
      authorization_details: JSON.stringify([licenceAccess(['driving-licence'], '办理机动车登记业务')]),
    });
    const consent = await steppedUpToConsent(runtime, ua, request.url, person);
    expect(consent.html).toMatch(/<input\b[^>]*name="idcard"/);
    const { callback } = await callbackOf(ua, consent.url, {});
    const tokens = await exchange(platform, request, callback);
    const claims = await client.fetchUserInfo(platform.config, tokens.access_token, tokens.claims()!.sub);
    expect(claims).not.toHaveProperty('id_number');
  });
});

describe('M3: a share hands over what its consent page lists', () => {
  it('no status reason, and no revoked or replaced licence', async () => {
    const person = await newPerson(runtime, carrier);
    const body = drivingLicenceBody(person.idNumber, { holderName: person.name });
    const revoked = await issued(runtime, drivingIssuer, body);
    const suspended = await issued(runtime, drivingIssuer, body);
    const changes = [
      [revoked.id, { status: 'revoked', reason: '违法违规被吊销：酒后驾驶，案号 2026-001' }],
      [suspended.id, { status: 'suspended', reason: '记分周期满 12 分，暂扣' }],
    ] as const;
    for (const [id, change] of changes) {
      const response = await postJson(runtime, `${licencePath(id)}/status`, drivingIssuer, change);
      expect(response.status, await response.clone().text()).toBe(200);
    }
    const ua = browser();
    const request = await authorizationRequest(platform, {
      scope: 'openid profile',
      prompt: 'consent',
      authorization_details: JSON.stringify([licenceAccess(['driving-licence'], '办理机动车登记业务')]),
    });
    const consent = await steppedUpToConsent(runtime, ua, request.url, person);
    expect(consent.html).toContain('已吊销或已被换发的不提供');
    const { callback } = await callbackOf(ua, consent.url, {});
    const tokens = await exchange(platform, request, callback);
    const shared = await getWithToken(runtime, '/shared/licences', tokens.access_token);
    expect(shared.status).toBe(200);
    const { items } = (await shared.json()) as { items: Array<Record<string, unknown>> };
    expect(items.map((item) => item['id'])).toEqual([suspended.id]);
    expect(items[0]).toMatchObject({ status: 'suspended' });
    expect(items[0]).not.toHaveProperty('statusReason');
    expect(JSON.stringify(items)).not.toContain('暂扣');
  });
});
