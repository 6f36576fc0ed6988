import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { counterClerkDailyCaps } from '../../../shared/config.js';
import { consoleClientId } from '../../../shared/identifiers/client-ids.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { phoneDigest } from '../../../shared/identity/sms-codes.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { agencyHeadToken, appointClerk, clerkToken } from '../../support/clerks.js';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { postJson, scanItems } from '../../support/http-api.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers, outbox } from '../../support/in-memory-sms.js';
import {
  authorizationRequest,
  demoPlatform,
  getWithToken,
  runFlow,
  signIn,
  walletPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { newPerson, putInRegistry, startRuntimeWithCarrier, uidOf } from '../../support/sharing-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * A counter clerk proves a person in person (review R28 M2): `POST /counter/accounts/lookup` and
 * `/prove` with the issuer console's token of a clerk appointed with `accounts:prove-in-person`, over HTTP.
 * Before, `proveInPerson` had no route: the pages sent people to a counter that could do nothing.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
let counterToken: string;
let issueOnlyToken: string;
/** A clerk of their own for a test that fills a clerk's counter. */
let anotherCounterClerk: () => Promise<string>;
const carrier = new CarrierOfNumbers();
let seq = 0;

const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
const lastCodeTo = async (phone: string) =>
  (await outbox(runtime)).filter((m) => m.to === phone).at(-1)?.code;
const newPhone = () => `+861376666${String(1000 + (seq += 1))}`;

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  platform = await demoPlatform(runtime);
  const head = await agencyHeadToken(runtime);
  const creditCode = runtime.credentials.issuer.creditCode;
  // Clerks the population registry knows (an appointment's name is checked against it).
  const person = async (name: string) => {
    const clerk = { idNumber: newIdNumber(), name, phone: newPhone() };
    await putInRegistry(runtime, clerk.idNumber, clerk.name);
    return clerk;
  };
  const counterClerk = await appointClerk(runtime, head, creditCode, await person('窗口甲'), [
    'licences:issue',
    'accounts:prove-in-person',
  ]);
  const issueOnly = await appointClerk(runtime, head, creditCode, await person('窗口乙'));
  counterToken = (await clerkToken(runtime, counterClerk)).token;
  anotherCounterClerk = async () =>
    (
      await clerkToken(
        runtime,
        await appointClerk(runtime, head, creditCode, await person('窗口丁'), [
          'licences:issue',
          'accounts:prove-in-person',
        ]),
      )
    ).token;
  issueOnlyToken = (await clerkToken(runtime, issueOnly)).token;
});
afterAll(() => runtime?.close());

async function stored(idNumber: string) {
  const deps = buildDependencies(runtime.config);
  try {
    const key = await personLookupKey(deps.lookupMac, parseIdNumber(idNumber, new Date()));
    const account = (await deps.accounts.findByLookupKey(key))!;
    const entries = (await auditEntriesOf(deps.doc, runtime.config.auditTableName, consoleClientId)).filter(
      (e) => e.holderMasked === account.masked,
    );
    return { account, entries, digest: (phone: string) => phoneDigest(deps.lookupMac, phone) };
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
}

/** As if a minute had passed since the last code was sent: the phones' send intervals forgotten. */
async function aMinuteBetweenCodes() {
  const deps = buildDependencies(runtime.config);
  try {
    for (const item of await scanItems('login-attempts#sms-send#')) {
      if (!String(item.pk).endsWith('#interval')) continue;
      await deps.doc.send(
        new DeleteCommand({ TableName: runtime.config.tableName, Key: { pk: item.pk, sk: item.sk } }),
      );
    }
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
}

/** Whether the sign-in form takes the password (it answers 401 to a wrong one). */
async function signsIn(idNumber: string, password: string): Promise<boolean> {
  const ua = browser();
  const atLogin = await ua.navigate((await authorizationRequest(platform)).url);
  const answered = await ua.navigate(
    new URL(`/interaction/${uidOf(atLogin.page!.html)}/login`, runtime.baseUrl),
    {
      form: { username: idNumber, password },
    },
  );
  return (answered.page?.status ?? 302) < 400;
}

describe('a counter clerk proves a person in person', () => {
  it('refuses a clerk whose appointment does not list accounts:prove-in-person', async () => {
    const p = await newPerson(runtime, carrier);
    const response = await postJson(runtime, '/counter/accounts/lookup', issueOnlyToken, {
      idNumber: p.idNumber,
      name: p.name,
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'clerk_scope_missing' });
  });

  it('checks the ID number and the name, naming the field, and shows the account masked', async () => {
    const p = await newPerson(runtime, carrier);
    const badNumber = await postJson(runtime, '/counter/accounts/lookup', counterToken, {
      idNumber: `${p.idNumber.slice(0, 17)}${p.idNumber.endsWith('1') ? '2' : '1'}`,
      name: p.name,
    });
    expect(badNumber.status).toBe(400);
    expect(((await badNumber.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe(
      'idNumber',
    );
    const wrongName = await postJson(runtime, '/counter/accounts/lookup', counterToken, {
      idNumber: p.idNumber,
      name: '别人',
    });
    expect(wrongName.status).toBe(400);
    expect(await wrongName.json()).toMatchObject({ code: 'registry_mismatch', errors: [{ path: 'name' }] });
    const found = await postJson(runtime, '/counter/accounts/lookup', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
    });
    expect(found.status).toBe(200);
    const text = await found.text();
    expect(text).not.toContain(p.idNumber);
    expect(JSON.parse(text)).toEqual({
      masked: `${p.idNumber.slice(0, 6)}********${p.idNumber.slice(14)}`,
      name: p.name,
      assurance: 'registry-verified',
      acr: 'urn:elicence:loa:2',
      phoneProven: false,
    });
  });

  it('a person who lost their phone and password: the clerk sets their new phone, takes the account back for them, and they reset online', async () => {
    const p = await newPerson(runtime, carrier);
    const lost = p.phone;
    // Proven by the phone since lost (a step-up leaves it so): only it would reset the account.
    const deps = buildDependencies(runtime.config);
    try {
      const key = await personLookupKey(deps.lookupMac, parseIdNumber(p.idNumber, new Date()));
      const account = (await deps.accounts.findByLookupKey(key))!;
      await deps.accounts.save({
        ...account,
        assurance: 'possession-verified',
        provenPhone: await phoneDigest(deps.lookupMac, lost),
      });
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }
    const replacement = newPhone();
    carrier.add({ ...p, phone: replacement });
    const withoutPhone = await postJson(runtime, '/counter/accounts/prove', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
      checkedIdCard: true,
    });
    expect(withoutPhone.status).toBe(400);
    expect(await withoutPhone.json()).toMatchObject({ code: 'password_or_new_phone_required' });
    const notTheirs = await postJson(runtime, '/counter/accounts/prove', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
      checkedIdCard: true,
      provenPhone: 'set',
      phone: '+8613100000000',
    });
    expect(notTheirs.status).toBe(400);
    expect(await notTheirs.json()).toMatchObject({
      code: 'phone_not_confirmed',
      errors: [{ path: 'phone' }],
    });

    // Setting the new phone texts a code to it first; nothing is saved until it is typed back (review R30
    // H1: the clerk alone typing a number the carrier lists for the person made it theirs).
    const setNew = {
      idNumber: p.idNumber,
      name: p.name,
      checkedIdCard: true,
      provenPhone: 'set',
      phone: replacement,
    };
    const sent = await postJson(runtime, '/counter/accounts/prove', counterToken, setNew);
    expect(sent.status, await sent.clone().text()).toBe(202);
    expect(await sent.json()).toEqual({
      codeSent: true,
      phoneMasked: `${replacement.slice(3, 6)}****${replacement.slice(-4)}`,
    });
    const code = await lastCodeTo(replacement);
    expect(code).toMatch(/^\d{6}$/);
    const wrongCode = await postJson(runtime, '/counter/accounts/prove', counterToken, {
      ...setNew,
      code: code === '000000' ? '111111' : '000000',
    });
    expect(wrongCode.status).toBe(400);
    expect(await wrongCode.json()).toMatchObject({
      errors: [{ path: 'code', code: 'code_wrong_or_expired' }],
    });
    expect((await stored(p.idNumber)).account.assurance).toBe('possession-verified');
    expect(await signsIn(p.idNumber, p.password)).toBe(true);
    const proved = await postJson(runtime, '/counter/accounts/prove', counterToken, { ...setNew, code });
    expect(proved.status, await proved.clone().text()).toBe(200);
    const masked = `${replacement.slice(3, 6)}****${replacement.slice(-4)}`;
    expect(await proved.json()).toEqual({
      account: expect.objectContaining({
        assurance: 'in-person-verified',
        acr: 'urn:elicence:loa:3',
        phoneProven: true,
        provenPhoneMasked: masked,
      }),
      provenPhone: 'set',
      phoneConfirmedBy: 'carrier',
      tookOver: true,
    });
    const after = await stored(p.idNumber);
    expect(after.account.provenPhone).toBe(await after.digest(replacement));
    expect(after.entries.map((e) => e.action).sort()).toEqual([
      // The phone the carrier did not confirm, and the wrong code: traced (review R30 H1, H2).
      'account.proof_refused',
      'account.proof_refused',
      'account.proven',
      'account.proven_phone_set',
      'account.taken_over',
    ]);
    for (const entry of after.entries) {
      expect(entry.clerk).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(JSON.stringify(entry)).not.toContain(p.idNumber);
      expect(JSON.stringify(entry)).not.toContain(replacement);
    }
    // The new phone is told, after the save; the lost one cannot be: this account was proven before
    // notice phones were kept, and only the lost phone's digest was (docs/security.md, "Security notices").
    const noticesTo = async (phone: string) =>
      (await outbox(runtime)).filter((m) => m.to === phone && m.text.includes('如非本人操作'));
    expect((await noticesTo(replacement)).map((m) => m.text)).toEqual([expect.stringContaining('已被找回')]);
    expect(await noticesTo(lost)).toEqual([]);
    // The old password opens nothing now: whoever knew it is out.
    expect(await signsIn(p.idNumber, p.password)).toBe(false);

    // The person resets online with the new phone (a minute later), and signs in with their new password.
    await aMinuteBetweenCodes();
    const ua = browser();
    const atLogin = await runFlow(ua, (await authorizationRequest(platform)).url, {});
    const reset = new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
    await ua.navigate(reset, { form: { idNumber: p.idNumber, phone: replacement, send: '1' } });
    const resetCode = await lastCodeTo(replacement);
    expect(resetCode).not.toBe(code);
    const completed = await ua.navigate(reset, {
      form: { idNumber: p.idNumber, phone: replacement, code: resetCode!, password: 'back-at-last-2026' },
    });
    expect(completed.page?.status ?? 'left').not.toBe(400);
    expect(await signsIn(p.idNumber, 'back-at-last-2026')).toBe(true);
    expect((await noticesTo(replacement)).at(-1)!.text).toContain('重置了登录密码');
    expect(await noticesTo(lost)).toEqual([]);
  });

  it('a person who knows their password: proven in person, nothing else ended', async () => {
    const p = await newPerson(runtime, carrier);
    const refused = await postJson(runtime, '/counter/accounts/prove', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
      checkedIdCard: true,
      provenPhone: 'clear',
      password: 'not-the-password-1',
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'wrong_password', errors: [{ path: 'password' }] });
    const unchecked = await postJson(runtime, '/counter/accounts/prove', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
      password: p.password,
    });
    expect(unchecked.status).toBe(400);
    expect(await unchecked.json()).toMatchObject({ errors: [{ path: 'checkedIdCard' }] });
    const proved = await postJson(runtime, '/counter/accounts/prove', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
      checkedIdCard: true,
      provenPhone: 'keep',
      password: p.password,
    });
    expect(proved.status, await proved.clone().text()).toBe(200);
    expect(await proved.json()).toMatchObject({ provenPhone: 'kept', tookOver: false });
    expect(await signsIn(p.idNumber, p.password)).toBe(true);
    const after = await stored(p.idNumber);
    expect(after.account.assurance).toBe('in-person-verified');
    expect(after.entries.map((e) => e.action)).toEqual(['account.proof_refused', 'account.proven']);
    // Proven again, though nothing changes: traced all the same (review R30 H2).
    const again = await postJson(runtime, '/counter/accounts/prove', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
      checkedIdCard: true,
      provenPhone: 'keep',
      password: p.password,
    });
    expect(again.status).toBe(200);
    expect((await stored(p.idNumber)).entries.map((e) => e.action)).toEqual([
      'account.proof_refused',
      'account.proven',
      'account.proven',
    ]);
  });

  it('a new phone set at the counter: the phone it replaces is told too (no number of the new one), then hears no more', async () => {
    const token = await anotherCounterClerk();
    // Registered with their phone: the carrier confirmed it, and the account's notices went to it.
    const p = {
      idNumber: newIdNumber(),
      name: '换机窗口',
      phone: newPhone(),
      password: 'counter-phone-2026',
    };
    await putInRegistry(runtime, p.idNumber, p.name);
    carrier.add(p);
    const registered = await postJson(runtime, '/accounts', undefined, { consent: true, ...p });
    expect(registered.status, await registered.clone().text()).toBe(201);
    expect((await stored(p.idNumber)).account.noticePhone).toBeDefined();
    const replacement = newPhone();
    carrier.add({ ...p, phone: replacement });
    const setNew = {
      idNumber: p.idNumber,
      name: p.name,
      checkedIdCard: true,
      provenPhone: 'set',
      phone: replacement,
      password: p.password,
    };
    expect((await postJson(runtime, '/counter/accounts/prove', token, setNew)).status).toBe(202);
    const proved = await postJson(runtime, '/counter/accounts/prove', token, {
      ...setNew,
      code: await lastCodeTo(replacement),
    });
    expect(proved.status, await proved.clone().text()).toBe(200);
    const noticesTo = async (phone: string) =>
      (await outbox(runtime)).filter((m) => m.to === phone && m.text.includes('如非本人操作'));
    expect((await noticesTo(replacement)).map((m) => m.text)).toEqual([
      expect.stringContaining('在窗口更换了验证手机'),
    ]);
    const told = (await noticesTo(p.phone)).map((m) => m.text);
    expect(told).toEqual([expect.stringContaining('更换了验证手机，本号码不再接收该账号的安全提醒')]);
    expect(told[0]).not.toContain(replacement.slice(-4));
    // From now on the notices go to the new phone alone.
    await aMinuteBetweenCodes();
    const ua = browser();
    const atLogin = await runFlow(ua, (await authorizationRequest(platform)).url, {});
    const reset = new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
    await ua.navigate(reset, { form: { idNumber: p.idNumber, phone: replacement, send: '1' } });
    await ua.navigate(reset, {
      form: {
        idNumber: p.idNumber,
        phone: replacement,
        code: (await lastCodeTo(replacement))!,
        password: 'counter-phone-2026-b',
      },
    });
    expect((await noticesTo(replacement)).at(-1)!.text).toContain('重置了登录密码');
    expect(await noticesTo(p.phone)).toHaveLength(1);
  });

  it('a wrong password says nothing of the phone, is traced, and is throttled (review R30 H2)', async () => {
    const token = await anotherCounterClerk();
    const p = await newPerson(runtime, carrier);
    const probe = async (phone: string) => {
      const response = await postJson(runtime, '/counter/accounts/prove', token, {
        idNumber: p.idNumber,
        name: p.name,
        checkedIdCard: true,
        provenPhone: 'set',
        phone,
        password: 'not-the-password-1',
      });
      return [response.status, ((await response.json()) as { code: string }).code];
    };
    // The person's own phone and a stranger's get the same answer: the carrier is asked after the password.
    expect(await probe(p.phone)).toEqual([403, 'wrong_password']);
    expect(await probe('+8613100000001')).toEqual([403, 'wrong_password']);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const response = await postJson(runtime, '/counter/accounts/prove', token, {
        idNumber: p.idNumber,
        name: p.name,
        checkedIdCard: true,
        provenPhone: 'keep',
        password: `guess-${i}`,
      });
      statuses.push(response.status);
    }
    expect(statuses).toContain(429);
    const { entries, account } = await stored(p.idNumber);
    expect(account.assurance).toBe('registry-verified');
    expect(entries.filter((e) => e.action === 'account.proof_refused').length).toBeGreaterThanOrEqual(2);
    expect(entries.every((e) => !JSON.stringify(e).includes(p.idNumber))).toBe(true);
  });

  it('a carrier refusal, once the password is right, is traced (review R30 H2)', async () => {
    const p = await newPerson(runtime, carrier);
    const refused = await postJson(runtime, '/counter/accounts/prove', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
      checkedIdCard: true,
      provenPhone: 'set',
      phone: '+8613100000002',
      password: p.password,
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: 'phone_not_confirmed' });
    const { entries } = await stored(p.idNumber);
    expect(entries.map((e) => e.action)).toEqual(['account.proof_refused']);
    expect(JSON.stringify(entries)).not.toContain('13100000002');
  });

  it('names tried against a number, and numbers without an account, are traced and throttled per clerk (review R30 M1)', async () => {
    const token = await anotherCounterClerk();
    const p = await newPerson(runtime, carrier);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      const response = await postJson(runtime, '/counter/accounts/lookup', token, {
        idNumber: p.idNumber,
        name: `猜${i}`,
      });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 5)).toEqual([400, 400, 400, 400, 400]);
    expect(statuses).toContain(429);
    const { entries } = await stored(p.idNumber);
    expect(entries.filter((e) => e.action === 'account.lookup_refused').length).toBeGreaterThanOrEqual(30);
    // A person the registry knows, without an account: 404, traced.
    const q = { idNumber: newIdNumber(), name: '无号人' };
    await putInRegistry(runtime, q.idNumber, q.name);
    const found = await postJson(runtime, '/counter/accounts/lookup', counterToken, q);
    expect(found.status).toBe(404);
    const deps = buildDependencies(runtime.config);
    try {
      const all = await auditEntriesOf(deps.doc, runtime.config.auditTableName, consoleClientId);
      expect(
        all.filter(
          (e) =>
            e.action === 'account.lookup_refused' &&
            e.holderMasked === `${q.idNumber.slice(0, 6)}********${q.idNumber.slice(14)}`,
        ),
      ).toHaveLength(1);
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }
  });

  it('a look at an account is traced to the clerk', async () => {
    const p = await newPerson(runtime, carrier);
    const found = await postJson(runtime, '/counter/accounts/lookup', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
    });
    expect(found.status, await found.clone().text()).toBe(200);
    const { entries } = await stored(p.idNumber);
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'account.looked_up',
        clerk: expect.any(String),
        reason: 'in-person',
      }),
    ]);
  });
  it('a look and a proof at the counter are in the person’s usage record at level 3, naming the agency, not the clerk (review R45 F2)', async () => {
    const p = await newPerson(runtime, carrier);
    const usageOf = async (query = '') => {
      const wallet = await walletPlatform(runtime);
      const { tokens } = await signIn(
        wallet,
        new UserAgent(runtime.baseUrl, [wallet.redirectUri]),
        { username: p.idNumber, password: p.password },
        { scope: 'openid licences' },
      );
      const usage = await getWithToken(runtime, `/me/usage${query}`, tokens.access_token);
      expect(usage.status).toBe(200);
      return (await usage.json()) as { items: Array<Record<string, unknown>> };
    };
    // An insider looks the person up, with a wrong name first, nobody at the counter.
    const guessed = await postJson(runtime, '/counter/accounts/lookup', counterToken, {
      idNumber: p.idNumber,
      name: '别人',
    });
    expect(guessed.status).toBe(400);
    const found = await postJson(runtime, '/counter/accounts/lookup', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
    });
    expect(found.status).toBe(200);
    // Each entry is the person's: their key, committed (the usual salted commitment), beside the masked number.
    const deps = buildDependencies(runtime.config);
    const lookupKey = await personLookupKey(deps.lookupMac, parseIdNumber(p.idNumber, new Date()));
    deps.doc.destroy();
    deps.kms.destroy();
    const traced = (await stored(p.idNumber)).entries;
    expect(traced.map((e) => e.action)).toEqual(['account.lookup_refused', 'account.looked_up']);
    for (const entry of traced) {
      expect(entry).toMatchObject({ holderKey: lookupKey, issuerId: expect.any(String) });
      expect(entry.holderCommitment).toMatch(/^[0-9a-f]{64}$/);
    }
    // At level 2 (the registry's check only, which anyone knowing the name and number passes), none of it,
    // filtered by kind neither (an empty page: R45 F2's leftover).
    expect((await usageOf()).items).toEqual([]);
    expect(await usageOf('?action=counter_lookup')).toEqual({ items: [] });

    // Proven at the counter, level 3: the person sees who looked them up, and the proof.
    const proved = await postJson(runtime, '/counter/accounts/prove', counterToken, {
      idNumber: p.idNumber,
      name: p.name,
      checkedIdCard: true,
      provenPhone: 'keep',
      password: p.password,
    });
    expect(proved.status, await proved.clone().text()).toBe(200);
    const { items } = await usageOf();
    const agency = { id: traced[0]!.issuerId, name: expect.any(String) };
    expect(items).toEqual([
      { at: expect.any(String), action: 'counter_proof', issuer: agency },
      { at: expect.any(String), action: 'counter_lookup', issuer: agency },
      { at: expect.any(String), action: 'counter_lookup', issuer: agency, refused: true },
    ]);
    expect(JSON.stringify(items)).not.toMatch(/窗口|clerk|elicence-console/);
    // Each counter kind filtered by (R45 F2's leftover): a lookup's actions (refused or not), a proof's.
    expect((await usageOf('?action=counter_lookup')).items).toEqual(items.slice(1));
    expect((await usageOf('?action=counter_proof')).items).toEqual(items.slice(0, 1));
  });

  it("a clerk past the day's cap is refused until the next China-time day, 429 counter_daily_cap (review R30 L1)", async () => {
    const token = await anotherCounterClerk();
    const p = await newPerson(runtime, carrier);
    const person = { idNumber: p.idNumber, name: p.name };
    const days = async () =>
      new Set((await scanItems('login-attempts#counter-day#lookups#')).map((i) => i.pk));
    const before = await days();
    expect((await postJson(runtime, '/counter/accounts/lookup', token, person)).status).toBe(200);
    // The clerk's day, counted on success: filled to its cap, as 300 lookups would.
    const [day] = [...(await days())].filter((pk) => !before.has(pk));
    expect(day).toMatch(/^login-attempts#counter-day#lookups#.+#\d{4}-\d{2}-\d{2}$/);
    const deps = buildDependencies(runtime.config);
    try {
      await deps.doc.send(
        new UpdateCommand({
          TableName: runtime.config.tableName,
          Key: { pk: day, sk: 'login-attempts' },
          UpdateExpression: 'SET failures = :cap',
          ExpressionAttributeValues: { ':cap': counterClerkDailyCaps.lookups },
        }),
      );
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }
    const refused = await postJson(runtime, '/counter/accounts/lookup', token, person);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: 'counter_daily_cap' });
    // Until the next day's start in China (00:00 in Shanghai, 16:00 UTC), whatever the time now.
    const now = Date.now();
    const chinaHours = 8 * 3_600_000;
    const nextChinaDay = (Math.floor((now + chinaHours) / 86_400_000) + 1) * 86_400_000 - chinaHours;
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Math.abs(now + retryAfter * 1000 - nextChinaDay)).toBeLessThan(60_000);
    // Proofs have a day of their own: the person is still proven by this clerk.
    const proved = await postJson(runtime, '/counter/accounts/prove', token, {
      ...person,
      checkedIdCard: true,
      provenPhone: 'keep',
      password: p.password,
    });
    expect(proved.status, await proved.clone().text()).toBe(200);
    const { entries } = await stored(p.idNumber);
    expect(entries.map((e) => [e.action, e.reason])).toEqual([
      ['account.looked_up', 'in-person'],
      ['account.lookup_refused', 'in-person:daily_cap'],
      ['account.proven', 'in-person'],
    ]);
  });
});
