import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildDependencies, dependencies } from '../../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { maskPhone, type PhoneNumber } from '../../../shared/identifiers/phone.js';
import type { PersonAccount } from '../../../shared/identity/person-account.js';
import {
  securityNoticeOutbox,
  securityNoticePolicy,
  sealNoticePhone,
} from '../../../shared/identity/security-notices.js';
import { phoneDigest } from '../../../shared/identity/sms-codes.js';
import type { SecurityNoticeOutbox } from '../../../shared/pending-work/pending-work.js';
import { DependencyError } from '../../../shared/errors.js';
import type { SmsSender } from '../../../shared/identity/sms-sender.js';
import { auditEntriesOf } from '../../support/audit-entries.js';
import { postJson, scanItems } from '../../support/http-api.js';
import { CarrierOfNumbers, outbox } from '../../support/in-memory-sms.js';
import { reconcileLater as reconcileOwedLater } from '../../support/pending-work.js';
import { signIn, walletPlatform, type RelyingParty } from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { SoftwareAuthenticator } from '../../support/software-authenticator.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Security notices (安全提醒): someone who stole a session could enrol a passkey and the owner never knew.
 * Each change of an account's security now texts its holder, after the change's own write and never on
 * its path: owed by the change's pointer, recorded as a job of the SMS queue, texted by `sms-codes`.
 */
let runtime: TestRuntime;
let wallet: RelyingParty;
const carrier = new CarrierOfNumbers();
/** The citizen's proven phone, where notices go. */
const citizenPhone = '+8613800077031';
let account: PersonAccount;

/**
 * How the next completions record notices: `before`, the request dies before it records one (the
 * pointer stays); `after`, it dies once it recorded it, before the pointer goes. Either way the
 * reconciler completes the pointer later. Applied to every function that records notices.
 */
let crash: 'before' | 'after' | undefined;
function crashing(real: SecurityNoticeOutbox): SecurityNoticeOutbox {
  return {
    async owe(notice) {
      if (crash === 'before') throw new Error('injected: the process is gone');
      await real.owe(notice);
      if (crash === 'after') throw new Error('injected: the process is gone');
    },
  };
}

/** Whether the SMS provider refuses the notices (a provider down): codes still go. */
let refusing = false;
function refusingNotices(real: SmsSender): SmsSender {
  return {
    async send(message) {
      if (refusing && message.template?.name === 'security-notice') {
        throw new DependencyError('injected: the provider refused', 'sms_not_sent');
      }
      await real.send(message);
    },
  };
}

beforeAll(async () => {
  runtime = await startTestRuntime(
    undefined,
    {},
    {
      carrier: (operator) => carrier.using(operator.lookupMac),
      sms: (operator) => refusingNotices(operator.sms),
      securityNotices: (operator) =>
        crashing(securityNoticeOutbox({ smsJobs: operator.smsJobs, clock: operator.clock })),
    },
  );
  carrier.add({ ...runtime.credentials.citizen, phone: citizenPhone });
  wallet = await walletPlatform(runtime);
  const deps = buildDependencies(runtime.config);
  try {
    const id = parseIdNumber(runtime.credentials.citizen.idNumber, new Date());
    const found = (await deps.accounts.findByLookupKey(await personLookupKey(deps.lookupMac, id)))!;
    // The phone proven as a step-up records it (shared/identity/phone-proof.ts): its digest, its mask,
    // and the number sealed for the sender.
    account = await deps.accounts.save({
      ...found,
      provenPhone: await phoneDigest(deps.lookupMac, citizenPhone),
      provenPhoneMasked: maskPhone(citizenPhone as PhoneNumber),
      noticePhone: await sealNoticePhone(found.id, citizenPhone, deps.smsJobSealer),
    });
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
});
afterAll(() => runtime?.close());
beforeEach(async () => {
  crash = undefined;
  refusing = false;
  // A new day for the account's cap.
  await dependencies().loginAttempts.clear(`sms-notice#${account.id}`);
});

async function walletToken(): Promise<string> {
  const ua = new UserAgent(runtime.baseUrl, [wallet.redirectUri]);
  const { idNumber, password } = runtime.credentials.citizen;
  const { tokens } = await signIn(wallet, ua, { username: idNumber, password }, { scope: 'openid licences' });
  return tokens.access_token;
}

async function enrol(token: string): Promise<string> {
  const authenticator = new SoftwareAuthenticator(new URL(runtime.baseUrl).origin);
  const options = await postJson(runtime, '/me/passkeys/options', token, {});
  expect(options.status).toBe(200);
  const enrolled = await postJson(runtime, '/me/passkeys', token, {
    name: '我的手机',
    response: authenticator.register((await options.json()) as never),
    password: runtime.credentials.citizen.password,
  });
  expect(enrolled.status, await enrolled.clone().text()).toBe(201);
  return ((await enrolled.json()) as { id: string }).id;
}

async function remove(token: string, id: string): Promise<void> {
  const removed = await fetch(`${runtime.baseUrl}/me/passkeys/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ password: runtime.credentials.citizen.password }),
  });
  expect(removed.status).toBe(204);
}

/** The security notices texted so far (to anyone), once the SMS queue has run every job. */
async function notices() {
  return (await outbox(runtime)).filter((message) => message.text.includes('如非本人操作'));
}

/** The pointers of passkey changes still owed (the `me` function's index). */
const owedChanges = async () =>
  (await scanItems('pending-audit#')).filter((item) => String(item.sk).startsWith('passkey-changed#'));

/** The reconciler's run a minute on (the pointers' time moved back, as the runtime's clock cannot be). */
const reconcileLater = async () =>
  reconcileOwedLater(
    runtime,
    'withdrawals',
    (await owedChanges()).map((owed) => String(owed.sk)),
  );

describe('a security notice to the account holder', () => {
  it('enrolling a passkey texts exactly one notice, to the proven phone: when, what, what to do; no number', async () => {
    const token = await walletToken();
    const before = (await notices()).length;
    await enrol(token);
    const sent = (await notices()).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.to).toBe(citizenPhone);
    expect(sent[0]!.code).toBeUndefined();
    expect(sent[0]!.text).toMatch(
      /^【电子证照】您的账号于\d{4}-\d{2}-\d{2} \d{2}:\d{2}添加了通行密钥。如非本人操作，请立即重置密码或前往窗口办理。$/,
    );
    // Beijing time, to the minute, of the enrolment.
    const beijing = new Date(Date.now() + 8 * 3_600_000).toISOString();
    expect(sent[0]!.text).toContain(beijing.slice(0, 10));

    // Traced: sent, to the phone masked, never in full.
    const entries = (
      await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, account.id)
    ).filter((entry) => entry.action === 'account.security_notice_sent');
    expect(entries.length).toBeGreaterThanOrEqual(1);
    const last = JSON.stringify(entries.at(-1));
    expect(last).toContain('passkey.enrolled');
    expect(last).toContain(maskPhone(citizenPhone as PhoneNumber));
    expect(last).not.toContain(citizenPhone.slice(3));
  });

  it('is not on the change’s path: the enrolment is answered while the notice waits in the queue', async () => {
    const token = await walletToken();
    const before = (await notices()).length;
    const release = runtime.smsQueue!.hold();
    try {
      await enrol(token);
      const texted = await readFile(join(runtime.dataDir, 'outbox', 'sms.jsonl'), 'utf8');
      expect(texted.split('\n').filter((line) => line.includes('如非本人操作'))).toHaveLength(before);
    } finally {
      release();
    }
    expect((await notices()).length).toBe(before + 1);
  });

  it('a provider that refuses: the change stands, the notice is tried 3 times, then left to the dead letters, traced failed (masked)', async () => {
    const token = await walletToken();
    const before = (await notices()).length;
    const failuresBefore = runtime.smsQueue!.failures.length;
    refusing = true;
    await enrol(token);
    expect((await notices()).length).toBe(before);
    expect(runtime.smsQueue!.failures.length).toBe(failuresBefore + 1);
    expect(runtime.smsQueue!.failures.at(-1)!.body).toMatch(/"smsJob":"smsn_/);
    const failed = (
      await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, account.id)
    ).filter((entry) => entry.action === 'account.security_notice_failed');
    expect(failed).toHaveLength(3);
    for (const entry of failed) {
      expect(JSON.stringify(entry)).toContain(maskPhone(citizenPhone as PhoneNumber));
      expect(JSON.stringify(entry)).not.toContain(citizenPhone.slice(3));
    }
    // Each failed send was given back: the day still has room for the next notices.
    refusing = false;
    await enrol(token);
    expect((await notices()).length).toBe(before + 1);
  });

  it('owed by the change itself: a request gone before or after recording it still texts it, once, by the reconciler', async () => {
    const token = await walletToken();
    const before = (await notices()).length;

    // The request dies before the notice is recorded: the enrolment stands and is answered all the same.
    crash = 'before';
    await enrol(token);
    expect((await notices()).length).toBe(before);
    expect(await owedChanges()).toHaveLength(1);
    crash = undefined;
    await reconcileLater();
    expect((await notices()).length).toBe(before + 1);
    expect(await owedChanges()).toEqual([]);

    // The request dies once the notice is recorded, before its pointer goes: texted by the queue, and the
    // reconciler's completion of the pointer records it again as the same job, already done.
    crash = 'after';
    await enrol(token);
    expect((await notices()).length).toBe(before + 2);
    expect(await owedChanges()).toHaveLength(1);
    crash = undefined;
    await reconcileLater();
    await reconcileLater();
    expect(await owedChanges()).toEqual([]);
    const sent = (await notices()).slice(before);
    expect(sent).toHaveLength(2);
    expect(sent.every((message) => message.to === citizenPhone)).toBe(true);
  });

  it(`texts at most ${securityNoticePolicy.accountDailyCap} a day to one account: the rest are dropped, every change still traced`, async () => {
    const token = await walletToken();
    const before = (await notices()).length;
    const entriesBefore = (
      await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, account.id)
    ).filter((entry) => entry.action.startsWith('passkey.')).length;
    for (let i = 0; i < 3; i++) await remove(token, await enrol(token));
    const sent = (await notices()).slice(before);
    expect(sent).toHaveLength(securityNoticePolicy.accountDailyCap);
    const entries = (
      await auditEntriesOf(dependencies().doc, runtime.config.auditTableName, account.id)
    ).filter((entry) => entry.action.startsWith('passkey.'));
    expect(entries.length - entriesBefore).toBe(6);
    // None left owed: the dropped ones are done too.
    expect(await owedChanges()).toEqual([]);
  });
});
