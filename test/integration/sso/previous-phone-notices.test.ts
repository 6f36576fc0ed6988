import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildDependencies, dependencies } from '../../../functions/composition/dependencies.js';
import { runNoticePhoneBackfill } from '../../../scripts/backfill-notice-phones.js';
import { accountsWithoutNoticePhone } from '../../../shared/adapters/dynamo/notice-phone-candidates.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { maskPhone, type PhoneNumber } from '../../../shared/identifiers/phone.js';
import { backfillNoticePhones } from '../../../shared/identity/notice-phone-backfill.js';
import type { PersonAccount } from '../../../shared/identity/person-account.js';
import {
  noticePhoneContext,
  securityNoticeOutbox,
  securityNoticePolicy,
} from '../../../shared/identity/security-notices.js';
import { phoneDigest } from '../../../shared/identity/sms-codes.js';
import type { SecurityNoticeOutbox } from '../../../shared/pending-work/pending-work.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { CarrierOfNumbers, outbox } from '../../support/in-memory-sms.js';
import { authorizationRequest, demoPlatform, runFlow, type RelyingParty } from '../../support/oidc-flows.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { postJson, scanItems } from '../../support/http-api.js';
import { reconcileLater as reconcileOwedLater } from '../../support/pending-work.js';
import { putInRegistry, uidOf, type TestPerson } from '../../support/sharing-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * The phone a change of phone replaces is told of it (安全提醒 to the previous phone). Before, the notice
 * of a change of the proven phone went to the new phone alone: someone who took an account over with
 * another phone was told of it themselves, and the phone the account had until then heard nothing.
 */
let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
let seq = 0;
/** A second mobile number the carrier lists under the same person (a family SIM, a new contract). */
const anotherPhone = () => `+861375555${String(1000 + (seq += 1))}`;

/** `before`: the request dies before it records the notices it owes (the reconciler records them later). */
let crash: 'before' | undefined;
function crashing(real: SecurityNoticeOutbox): SecurityNoticeOutbox {
  return {
    async owe(notice) {
      if (crash === 'before') throw new Error('injected: the process is gone');
      await real.owe(notice);
    },
  };
}

beforeAll(async () => {
  runtime = await startTestRuntime(
    undefined,
    {},
    {
      carrier: (operator) => carrier.using(operator.lookupMac),
      securityNotices: (operator) =>
        crashing(securityNoticeOutbox({ smsJobs: operator.smsJobs, clock: operator.clock })),
    },
  );
  platform = await demoPlatform(runtime);
});
afterAll(() => runtime?.close());
beforeEach(() => {
  crash = undefined;
});

const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);

/** The security notices texted to `phone` so far. */
const noticesTo = async (phone: string) =>
  (await outbox(runtime)).filter((m) => m.to === phone && m.text.includes('如非本人'));

/** A person who registered with their phone (the carrier confirms it: the account's notice phone). */
async function newPerson(): Promise<TestPerson> {
  seq += 1;
  const person = {
    idNumber: newIdNumber(),
    name: `换机${'甲乙丙丁戊己庚辛壬癸'[seq % 10]}${seq}`,
    phone: `+861376666${String(1000 + seq)}`,
    password: `old-phone-${seq}-secret`,
  };
  await putInRegistry(runtime, person.idNumber, person.name);
  carrier.add(person);
  const response = await postJson(runtime, '/accounts', undefined, {
    consent: true,
    idNumber: person.idNumber,
    name: person.name,
    password: person.password,
    phone: person.phone,
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return person;
}

async function accountOf(person: TestPerson): Promise<PersonAccount> {
  const deps = buildDependencies(runtime.config);
  try {
    const key = await personLookupKey(deps.lookupMac, parseIdNumber(person.idNumber, new Date()));
    return (await deps.accounts.findByLookupKey(key))!;
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
}

/** 找回密码 with `phone`: a code to it, typed back with a new password. */
async function resetWith(person: TestPerson, phone: string): Promise<void> {
  const ua = browser();
  const atLogin = await runFlow(ua, (await authorizationRequest(platform)).url, {});
  const reset = new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
  await ua.navigate(reset, { form: { idNumber: person.idNumber, phone, send: '1' } });
  const code = (await outbox(runtime)).filter((m) => m.to === phone).at(-1)?.code;
  expect(code).toMatch(/^\d{6}$/);
  const done = await ua.navigate(reset, {
    form: { idNumber: person.idNumber, phone, code: code!, password: `reset-${seq}-again-2026` },
  });
  expect(done.page?.status ?? 'left').not.toBe(400);
}

/** The reconciler's run a minute on (the provider's pointers' time moved back). */
const reconcileLater = async () =>
  reconcileOwedLater(
    runtime,
    'provider',
    (await scanItems('pending-provider-audit#')).map((owed) => String(owed.sk)),
  );

const previousPhoneText =
  /^【电子证照】您的账号于\d{4}-\d{2}-\d{2} \d{2}:\d{2}更换了验证手机，本号码不再接收该账号的安全提醒，也不能再用于找回密码。如非本人操作，请携带身份证前往窗口办理。$/;

/** `person`'s account taken over (找回密码) with another phone of theirs: the phone it had is told, once. */
async function expectTakeoverTold(person: TestPerson): Promise<void> {
  const another = anotherPhone();
  carrier.add({ ...person, phone: another });
  await resetWith(person, another);
  expect((await noticesTo(person.phone)).map((m) => m.text)).toEqual([
    expect.stringMatching(previousPhoneText),
  ]);
}

describe('a change of the proven phone is told to the phone it replaces', () => {
  it('an account taken over with another phone: the phone it had is told (no number of the new one), the new one too', async () => {
    const p = await newPerson();
    const before = p.phone;
    expect((await accountOf(p)).noticePhone).toBeDefined();
    const replacement = anotherPhone();
    carrier.add({ ...p, phone: replacement });

    await resetWith(p, replacement);

    expect((await noticesTo(replacement)).map((m) => m.text)).toEqual([expect.stringContaining('已被找回')]);
    const told = await noticesTo(before);
    expect(told.map((m) => m.text)).toEqual([expect.stringMatching(previousPhoneText)]);
    // Not the new number, not even masked.
    expect(told[0]!.text).not.toContain(replacement.slice(-4));
    expect(told[0]!.text).not.toMatch(/\*{4}/);
    // Traced, the previous phone masked only.
    const sent = (
      await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, (await accountOf(p)).id)
    )
      .filter((e) => e.action === 'account.security_notice_sent')
      .map((e) => JSON.stringify(e));
    expect(sent.some((e) => e.includes(maskPhone(before as PhoneNumber)) && e.includes('previous'))).toBe(
      true,
    );
    expect(sent.join()).not.toContain(before.slice(3));
    expect(sent.join()).not.toContain(replacement.slice(3));
  });

  it('a proof with the same phone changes no phone: it gets the one notice of the change, nothing more', async () => {
    const p = await newPerson();
    await resetWith(p, p.phone);
    expect((await noticesTo(p.phone)).map((m) => m.text)).toEqual([expect.stringContaining('已被找回')]);
  });

  it('owed by the change itself: a request gone before recording them still texts both, once, by the reconciler', async () => {
    const p = await newPerson();
    const replacement = anotherPhone();
    carrier.add({ ...p, phone: replacement });
    crash = 'before';
    await resetWith(p, replacement);
    expect(await noticesTo(p.phone)).toEqual([]);
    expect(await noticesTo(replacement)).toEqual([]);
    crash = undefined;
    await reconcileLater();
    await reconcileLater();
    expect((await noticesTo(p.phone)).map((m) => m.text)).toEqual([expect.stringMatching(previousPhoneText)]);
    expect(await noticesTo(replacement)).toHaveLength(1);
  });

  it(`the account's daily cap (${securityNoticePolicy.accountDailyCap}) spent on the new phone's notices does not silence the previous phone`, async () => {
    const p = await newPerson();
    const account = await accountOf(p);
    const now = Math.floor(Date.now() / 1000);
    await dependencies().loginAttempts.replace(
      `sms-notice#${account.id}`,
      undefined,
      { failures: securityNoticePolicy.accountDailyCap, lastFailureAt: now },
      now + 86_400,
      now,
    );
    const replacement = anotherPhone();
    carrier.add({ ...p, phone: replacement });
    await resetWith(p, replacement);
    expect(await noticesTo(replacement)).toEqual([]);
    expect((await noticesTo(p.phone)).map((m) => m.text)).toEqual([expect.stringMatching(previousPhoneText)]);
  });
});

describe('accounts registered before notice phones were kept: the backfill (scripts/backfill-notice-phones.ts)', () => {
  /** `person`'s account as one registered before notices: no notice phone, and `changes` made to it. */
  async function asBeforeNotices(
    person: TestPerson,
    changes: (account: PersonAccount) => Promise<Partial<PersonAccount>>,
  ) {
    const deps = dependencies();
    const { noticePhone: _kept, ...account } = await accountOf(person);
    await deps.accounts.save({ ...account, ...(await changes(account)) });
  }
  const backfill = (dryRun: boolean) => {
    const deps = dependencies();
    return backfillNoticePhones(
      { ...deps, candidates: () => accountsWithoutNoticePhone(deps.doc, runtime.config.tableName) },
      { dryRun },
    );
  };
  const noticePhoneOf = async (person: TestPerson) => {
    const account = await accountOf(person);
    return account.noticePhone === undefined
      ? undefined
      : (
          (await dependencies().smsJobSealer.open(noticePhoneContext(account.id), account.noticePhone)) as {
            phone: string;
          }
        ).phone;
  };

  it('without it, the phone such an account had is never told; with it, the phone it keeps by design is sealed and told', async () => {
    const untouched = await newPerson();
    const backfilled = await newPerson();
    const provenByIt = await newPerson();
    const provenByAnother = await newPerson();
    const atCounter = await newPerson();
    const digest = (phone: string) => phoneDigest(dependencies().lookupMac, phone);
    await asBeforeNotices(untouched, async () => ({}));
    await asBeforeNotices(backfilled, async () => ({}));
    await asBeforeNotices(provenByIt, async () => ({
      assurance: 'possession-verified',
      provenPhone: await digest(provenByIt.phone),
    }));
    await asBeforeNotices(provenByAnother, async () => ({
      assurance: 'possession-verified',
      provenPhone: await digest(anotherPhone()),
    }));
    // Proven at a counter with no proven phone: it may have cleared the one the person lost.
    await asBeforeNotices(atCounter, async () => ({ assurance: 'in-person-verified' }));

    // The gap: taken over with another phone, the phone it had hears nothing.
    const replacement = anotherPhone();
    carrier.add({ ...untouched, phone: replacement });
    await resetWith(untouched, replacement);
    expect(await noticesTo(untouched.phone)).toEqual([]);

    // A dry run counts and writes nothing.
    const dry = await backfill(true);
    expect(dry.sealed).toBeGreaterThanOrEqual(2);
    expect(await noticePhoneOf(backfilled)).toBeUndefined();

    const run = await backfill(false);
    expect(run.found).toBeGreaterThanOrEqual(4);
    expect(run.sealed).toBeGreaterThanOrEqual(2);
    expect(run.skipped.proven_elsewhere).toBeGreaterThanOrEqual(1);
    expect(run.skipped.counter_without_phone).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(run)).not.toMatch(/\+86|acc_/);
    expect(await noticePhoneOf(backfilled)).toBe(backfilled.phone);
    expect(await noticePhoneOf(provenByIt)).toBe(provenByIt.phone);
    // Proven by a phone kept as a digest alone, or at a counter: left for their next phone proof.
    expect(await noticePhoneOf(provenByAnother)).toBeUndefined();
    expect(await noticePhoneOf(atCounter)).toBeUndefined();
    // A second run finds only what it left.
    expect((await backfill(false)).sealed).toBe(0);

    // Backfilled, the phone it had is told when another takes it over.
    await expectTakeoverTold(backfilled);
  });

  /**
   * `person`'s account as one stored before the layout of 2026-12-05 and registered before notices: the
   * whole account (no notice phone) under its ID-number claim, found by id through gsi1, nothing under its
   * id (as the store's first-layout tests write it: test/contract/account-store.test.ts).
   */
  async function asFirstLayout(person: TestPerson) {
    const { doc, config } = dependencies();
    const { noticePhone: _kept, ...account } = await accountOf(person);
    await doc.send(
      new PutCommand({
        TableName: config.tableName,
        Item: {
          pk: `account#${account.lookupKey}`,
          sk: 'person',
          gsi1pk: `account-id#${account.id}`,
          gsi1sk: 'person',
          ...account,
        },
      }),
    );
    await doc.send(
      new DeleteCommand({ TableName: config.tableName, Key: { pk: `account#${account.id}`, sk: 'account' } }),
    );
    return account;
  }

  it('finds an account still stored in the first layout (review R37 F1): sealed, moved, and its phone told', async () => {
    const person = await newPerson();
    const account = await asFirstLayout(person);
    expect(await noticePhoneOf(person)).toBeUndefined();

    const dry = await backfill(true);
    expect(dry.found).toBeGreaterThanOrEqual(1);
    expect(await noticePhoneOf(person)).toBeUndefined();

    const run = await backfill(false);
    expect(run.sealed).toBeGreaterThanOrEqual(1);
    expect(run.skipped.changed).toBe(0);
    expect(await noticePhoneOf(person)).toBe(person.phone);
    // Saved, it moved: the account under its id, the claim reduced to the id.
    const { doc, config } = dependencies();
    const claim = await doc.send(
      new GetCommand({
        TableName: config.tableName,
        Key: { pk: `account#${account.lookupKey}`, sk: 'person' },
      }),
    );
    expect(claim.Item).toEqual({ pk: `account#${account.lookupKey}`, sk: 'person', id: account.id });
    // Found once: a second run leaves it.
    expect((await backfill(false)).sealed).toBe(0);

    // Taken over with another phone, the phone it had is told.
    await expectTakeoverTold(person);
  });

  it('the command refuses an unknown option (exit 2) before reaching anything', async () => {
    expect(await runNoticePhoneBackfill(['--everything'], {})).toBe(2);
  });
});
