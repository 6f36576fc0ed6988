import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { buildDependencies } from '../../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { phoneDigest } from '../../../shared/identity/sms-codes.js';
import { proveInPerson } from '../../../shared/identity/prove-in-person.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { CarrierOfNumbers, outbox } from '../../support/in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  callbackOf,
  demoPlatform,
  exchange,
  getWithToken,
  registerPlatform,
  runFlow,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { newPerson, startRuntimeWithCarrier, uidOf, walletToken } from '../../support/sharing-flows.js';
import { withRuntimeDeps, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Which phone proves an account (review R28 M1, L1): once a phone proved it, only that phone steps up or
 * resets it; an account proven in person that no phone proved is reset at a service counter, not by a
 * number the carrier lists under the person (a family SIM); an owner's own step-up raises the account
 * (`account.raised`) and ends nothing. Over real HTTP.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
let familySeq = 0;
const browser = () =>
  new UserAgent(runtime.baseUrl, [
    `${runtime.baseUrl}/demo/callback`,
    `${runtime.baseUrl}/wallet/callback`,
    'https://holder-app.example/cb',
  ]);
/** A second number the carrier lists under the same person: a family member's SIM. */
const familySim = () => `+861372222${String(1000 + (familySeq += 1))}`;
const lastCodeTo = async (phone: string) =>
  (await outbox(runtime)).filter((m) => m.to === phone).at(-1)?.code;

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());

const withDeps = <T>(use: (deps: ReturnType<typeof buildDependencies>) => Promise<T>): Promise<T> =>
  withRuntimeDeps(runtime, use);

async function accountOf(idNumber: string) {
  return withDeps(async (deps) => {
    const key = await personLookupKey(deps.lookupMac, parseIdNumber(idNumber, new Date()));
    const account = (await deps.accounts.findByLookupKey(key))!;
    return {
      account,
      provenBy: async (phone: string) => account.provenPhone === (await phoneDigest(deps.lookupMac, phone)),
      audit: async () =>
        (await auditEntriesOf(deps.doc, runtime.config.auditTableName, account.id)).map((e) => e.action),
    };
  });
}

/** A reset with `phone` in a new sign-in: whether a code was texted, and the completion's page. */
async function reset(idNumber: string, phone: string, password: string) {
  const ua = browser();
  const atLogin = await runFlow(ua, (await authorizationRequest(platform)).url, {});
  const url = new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
  const before = await lastCodeTo(phone);
  const asked = await ua.navigate(url, { form: { idNumber, phone, send: '1' } });
  const code = await lastCodeTo(phone);
  const texted = code !== undefined && code !== before;
  const done = await ua.navigate(url, { form: { idNumber, phone, code: code ?? '000000', password } });
  return { asked: asked.page!, texted, done };
}

/** Signs in with the password at level 3 asked, then asks for a step-up code to `phone`. */
async function stepUpWith(p: { idNumber: string; password: string }, phone: string, ua = browser()) {
  const request = await authorizationRequest(platform, { acr_values: 'urn:elicence:loa:3' });
  const atStepUp = await runFlow(ua, request.url, { username: p.idNumber, password: p.password });
  const action = new URL(`/interaction/${uidOf(atStepUp.page!.html)}/stepup`, runtime.baseUrl);
  const before = await lastCodeTo(phone);
  const asked = await ua.navigate(action, { form: { phone, send: '1' } });
  const code = await lastCodeTo(phone);
  const texted = code !== undefined && code !== before;
  const done = await ua.navigate(action, { form: { phone, code: code ?? '000000' } });
  return { asked: asked.page!, texted, done };
}

describe('an account proven in person, no phone proven (review R28 M1 a)', () => {
  it('no phone resets it, a family SIM the carrier lists under the person included: the page says the counter', async () => {
    const p = await newPerson(runtime, carrier);
    const family = familySim();
    carrier.add({ ...p, phone: family });
    await withDeps(async (deps) => {
      const key = await personLookupKey(deps.lookupMac, parseIdNumber(p.idNumber, new Date()));
      await proveInPerson(key, { actor: 'counter' }, deps);
    });
    const familyReset = await reset(p.idNumber, family, 'family-takes-over-1');
    expect(familyReset.texted).toBe(false);
    expect(familyReset.asked.html).toContain('在政务服务窗口当面核验、尚未验证手机号的账号除外');
    expect(familyReset.done.page!.status).toBe(400);
    const ownReset = await reset(p.idNumber, p.phone, 'owner-new-password-1');
    expect(ownReset.texted).toBe(false);
    const after = await accountOf(p.idNumber);
    expect(after.account.assurance).toBe('in-person-verified');
    expect(after.account.provenPhone).toBeUndefined();
    expect(await after.audit()).not.toContain('account.password_reset');
    // The password is still the owner's: it signs in.
    const signedIn = await callbackOf(browser(), (await authorizationRequest(platform)).url, {
      username: p.idNumber,
      password: p.password,
    });
    expect(signedIn.callback).toBeDefined();
  });
});

describe('a step-up with another phone (review R28 M1 b)', () => {
  it('once a phone proved the account, a family SIM gets no code, is told the proven phone masked, and moves nothing', async () => {
    const p = await newPerson(runtime, carrier);
    const family = familySim();
    carrier.add({ ...p, phone: family });
    const own = await stepUpWith(p, p.phone);
    expect(own.texted).toBe(true);
    expect(own.done.page?.status ?? 'left').not.toBe(400);
    const before = await accountOf(p.idNumber);
    expect(await before.provenBy(p.phone)).toBe(true);
    const entriesBefore = await before.audit();

    const other = await stepUpWith(p, family);
    const masked = `${p.phone.slice(3, 6)}****${p.phone.slice(-4)}`;
    expect(other.texted).toBe(false);
    expect(other.asked.status).toBe(400);
    expect(other.asked.html).toContain(`您的账号已由手机号 ${masked} 验证，请使用该手机号获取验证码。`);
    expect(other.asked.html).not.toContain(p.phone);
    expect(other.done.page!.status).toBe(400);
    expect(other.done.leftTo).toBeUndefined();
    const after = await accountOf(p.idNumber);
    expect(await after.provenBy(p.phone)).toBe(true);
    expect(await after.audit()).toEqual(entriesBefore);
  });

  it('GET /me/account and the wallet say which phone is proven, masked', async () => {
    const p = await newPerson(runtime, carrier);
    // The wallet in one browser, where the person stepped up; a first-party token in another.
    const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
    await stepUpWith(p, p.phone, ua);
    const other = browser();
    await runFlow(other, (await authorizationRequest(platform)).url, {
      username: p.idNumber,
      password: p.password,
    });
    const token = await walletToken(runtime, other);
    const response = await getWithToken(runtime, '/me/account', token);
    expect(response.status).toBe(200);
    const masked = `${p.phone.slice(3, 6)}****${p.phone.slice(-4)}`;
    expect(await response.json()).toMatchObject({ phoneProven: true, provenPhoneMasked: masked });
    expect((await runFlow(ua, '/wallet/login', {})).page?.url.pathname).toBe('/wallet');
    const page = await ua.navigate('/wallet/account');
    expect(page.page!.html).toMatch(
      new RegExp(`id="account-proven-phone">\\s*${masked.replace(/\*/g, '\\*')}`),
    );
  });
});

describe('an owner’s own first step-up (review R28 L1)', () => {
  it('is audited as account.raised, keeps the platforms’ consents and the other sign-ins', async () => {
    const holderApp = await registerPlatform(runtime, await adminToken(runtime), {
      name: 'Holder app',
      redirectUris: ['https://holder-app.example/cb'],
      scopes: ['openid', 'profile', 'licences', 'offline_access'],
      firstParty: true,
    });
    const p = await newPerson(runtime, carrier);
    // Signed in at a platform in one browser, at level 2, with a refresh token.
    const elsewhere = browser();
    const request = await authorizationRequest(holderApp, {
      scope: 'openid profile licences offline_access',
      prompt: 'consent',
    });
    const { callback } = await callbackOf(elsewhere, request.url, {
      username: p.idNumber,
      password: p.password,
    });
    const tokens = await exchange(holderApp, request, callback);
    expect(tokens.refresh_token).toBeDefined();

    // The owner steps up with their own phone in another browser.
    const own = await stepUpWith(p, p.phone);
    expect(own.texted).toBe(true);
    const { account, audit } = await accountOf(p.idNumber);
    expect(account.assurance).toBe('possession-verified');
    const actions = await audit();
    expect(actions).toContain('account.raised');
    expect(actions).not.toContain('account.taken_over');

    // Nothing was withdrawn: the platform's refresh token still works, and the other browser's single
    // sign-on still signs in without a password.
    const refreshed = await client.refreshTokenGrant(holderApp.config, tokens.refresh_token!);
    expect(refreshed.access_token).toBeDefined();
    const again = await runFlow(elsewhere, (await authorizationRequest(platform)).url, {});
    expect(again.callback).toBeDefined();
  });
});
