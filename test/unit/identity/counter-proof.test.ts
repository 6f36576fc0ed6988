import { beforeEach, describe, expect, it } from 'vitest';
import { parseIdNumber, type IdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { operationsFilterPatterns } from '../../../infra/constructs/operations-alarms.js';
import { counterClerkDailyCaps } from '../../../shared/config.js';
import { logger, setServiceLogLevel } from '../../../shared/logger.js';
import {
  counterLookup,
  proveAtCounter,
  type CounterProofDependencies,
} from '../../../shared/identity/counter-proof.js';
import type { StoredPasskey } from '../../../shared/identity/passkeys.js';
import { idNumberEncryptionContext } from '../../../shared/identity/person-account.js';
import {
  completePhoneProof,
  requestPhoneProof,
  type PhoneProofDependencies,
} from '../../../shared/identity/phone-proof.js';
import { InMemoryPasskeyStore } from '../../support/in-memory-passkeys.js';
import {
  FailingAudit,
  FakePasswordHasher,
  FakePiiCipher,
  newIdNumber,
} from '../../support/in-memory-identity.js';
import { fakeMac } from '../../support/in-memory.js';
import { filterPatternMatches as matches, loggedLines } from '../../support/logged-lines.js';
import { RecordingSignInRevocation, smsJobDependencies } from '../../support/in-memory-sms.js';

/**
 * A takeover at the counter saves its clean-up owed with the account (`proofCleanup`), as a phone's
 * takeover does (review R30 M2): one that fails after the save (the passkeys not removed, the sign-ins
 * not ended) is finished by the account's next proof, not left for the squatter.
 */

const phone = '+8613800138000';
const clerk = { actor: 'console', clerk: 'clerk-ref-1', source: '203.0.113.9' };

function world() {
  const base = smsJobDependencies();
  const signIns = new RecordingSignInRevocation();
  const deps = {
    ...base,
    passwords: new FakePasswordHasher(),
    signIns,
    platformConsents: signIns,
    passkeys: new InMemoryPasskeyStore(),
    pii: new FakePiiCipher(),
    audit: new FailingAudit(),
    accountAudit: base.accounts.pendingAudit,
    providerAudit: base.accounts.pendingAudit,
  } satisfies CounterProofDependencies & PhoneProofDependencies;
  return deps;
}

describe('a takeover at the counter', () => {
  let deps: ReturnType<typeof world>;
  let idNumber: IdNumber;
  let lookupKey: string;
  const passkey = (id: string, createdAt: string): StoredPasskey => ({
    id,
    accountId: 'acc_squatter',
    publicKey: 'pk',
    counter: 0,
    transports: ['internal'],
    deviceType: 'singleDevice',
    backedUp: false,
    name: 'squatter phone',
    createdAt,
  });

  const setPhone = () => ({
    idNumber,
    name: '王小明',
    checkedIdCard: true as const,
    provenPhone: 'set' as const,
    phone,
  });
  /** The new phone's code: asked for (202), texted by the sender. */
  const codeSent = async () => {
    expect(await proveAtCounter(setPhone(), clerk, deps)).toMatchObject({ codeSent: true });
    await deps.smsJobs.runAll(deps);
    return deps.sms.sent.at(-1)!.code!;
  };

  beforeEach(async () => {
    deps = world();
    idNumber = parseIdNumber(newIdNumber(), new Date());
    lookupKey = await personLookupKey(fakeMac, idNumber);
    await deps.registry.putPerson({ lookupKey, name: '王小明', masked: '310104********0011' });
    await deps.carrier.putSubscriber({ lookupKey, name: '王小明', phone });
    await deps.accounts.create({
      id: 'acc_squatter',
      lookupKey,
      masked: '310104********0011',
      idNumberEncrypted: await deps.pii.encrypt(idNumber, idNumberEncryptionContext('acc_squatter')),
      name: '王小明',
      passwordHash: 'fake$2$squatter-password',
      assurance: 'registry-verified',
      createdAt: '2026-01-01T00:00:00Z',
      version: 1,
    });
  });

  it('that failed after the account was saved is finished by the next proof (review R30 M2)', async () => {
    await deps.passkeys.add(passkey('cred-squatter', '2026-01-02T00:00:00Z'));
    const listFor = deps.passkeys.listFor.bind(deps.passkeys);
    deps.passkeys.listFor = async () => {
      deps.passkeys.listFor = listFor;
      throw new Error('injected: the passkeys could not be listed');
    };
    await expect(proveAtCounter({ ...setPhone(), code: await codeSent() }, clerk, deps)).rejects.toThrow(
      'injected',
    );
    const saved = (await deps.accounts.findByLookupKey(lookupKey))!;
    expect(saved.assurance).toBe('in-person-verified');
    expect(saved.proofCleanup).toEqual({ passkeysBefore: expect.any(String) });
    // The owner steps up with the new phone: the squatter's passkey goes, their sign-ins end, and the
    // platforms are told; the mark is taken off.
    deps.clock.advanceSeconds(60);
    const subject = { purpose: 'step-up' as const, lookupKey, phone };
    await requestPhoneProof(subject, '203.0.113.5', deps);
    await deps.smsJobs.runAll(deps);
    const proof = await completePhoneProof(subject, deps.sms.sent.at(-1)!.code!, { keepSession: 's1' }, deps);
    expect(proof).toMatchObject({ ok: true, tookOver: false });
    expect(await deps.passkeys.listFor('acc_squatter')).toEqual([]);
    expect(deps.signIns.ended).toEqual([{ personId: 'acc_squatter', keepSession: 's1' }]);
    expect((await deps.accounts.findByLookupKey(lookupKey))!.proofCleanup).toBeUndefined();
  });

  it("whose clerk's day cannot be counted is finished all the same (review R33 M1)", async () => {
    await deps.passkeys.add(passkey('cred-squatter', '2026-01-02T00:00:00Z'));
    const addFailures = deps.loginAttempts.addFailures.bind(deps.loginAttempts);
    deps.loginAttempts.addFailures = async (key, ...rest) => {
      if (key.startsWith('counter-day#proofs')) throw new Error('injected: the day could not be counted');
      return addFailures(key, ...rest);
    };
    const lines = await loggedLines(async () => {
      const code = await codeSent();
      await expect(proveAtCounter({ ...setPhone(), code }, clerk, deps)).resolves.toMatchObject({
        tookOver: true,
      });
    });
    // The squatter is out: passkey removed, sign-ins ended, no clean-up left owed.
    expect(await deps.passkeys.listFor('acc_squatter')).toEqual([]);
    expect(deps.signIns.ended).toEqual([{ personId: 'acc_squatter' }]);
    expect((await deps.accounts.findByLookupKey(lookupKey))!.proofCleanup).toBeUndefined();
    expect(lines.some((line) => line.includes('counter clerk day not counted'))).toBe(true);
  });

  it('that succeeds leaves no mark behind', async () => {
    await deps.passkeys.add(passkey('cred-squatter', '2026-01-02T00:00:00Z'));
    const proof = await proveAtCounter({ ...setPhone(), code: await codeSent() }, clerk, deps);
    expect(proof).toMatchObject({ tookOver: true, provenPhone: 'set' });
    expect(await deps.passkeys.listFor('acc_squatter')).toEqual([]);
    expect(deps.signIns.ended).toEqual([{ personId: 'acc_squatter' }]);
    expect(deps.signIns.withdrawn).toEqual(['acc_squatter']);
    const after = (await deps.accounts.findByLookupKey(lookupKey))!;
    expect(after.proofCleanup).toBeUndefined();
    // Every sign-in made until the takeover's save counts no more, a step not yet resumed too (review R44):
    // the mark of that save (the clean-up's own save came after it) stays.
    expect(after.signInsEnded).toEqual({
      at: new Date(deps.clock.now()).toISOString(),
      version: after.version - 1,
    });
  });
  /**
   * The account changes between the proof's read and its save (the person's wallet, another counter): the
   * save is refused (409 `account_changed`) before anything ends, and a retry does it all (review R30 L3:
   * the consents were withdrawn before the save, the platforms told of a takeover that never happened).
   */
  const changedMeanwhile = () => {
    const save = deps.accounts.save.bind(deps.accounts);
    let changed = false;
    deps.accounts.save = async (account, ...rest) => {
      if (!changed && account.proofCleanup !== undefined) {
        changed = true;
        const now = (await deps.accounts.findByLookupKey(account.lookupKey))!;
        await save({ ...now, name: '王小明' });
      }
      return save(account, ...rest);
    };
    return () => changed;
  };

  it('refused by a concurrent change of the account withdraws and ends nothing (review R30 L3)', async () => {
    await deps.passkeys.add(passkey('cred-squatter', '2026-01-02T00:00:00Z'));
    const code = await codeSent();
    const changed = changedMeanwhile();
    await expect(proveAtCounter({ ...setPhone(), code }, clerk, deps)).rejects.toMatchObject({
      code: 'account_changed',
    });
    expect(changed()).toBe(true);
    expect(deps.signIns.withdrawn).toEqual([]);
    expect(deps.signIns.ended).toEqual([]);
    expect((await deps.passkeys.listFor('acc_squatter')).map((p) => p.id)).toEqual(['cred-squatter']);
    const account = (await deps.accounts.findByLookupKey(lookupKey))!;
    expect(account).toMatchObject({
      assurance: 'registry-verified',
      passwordHash: 'fake$2$squatter-password',
    });
    expect(account.proofCleanup).toBeUndefined();
  });

  it("a phone's takeover refused by a concurrent change withdraws and ends nothing (review R30 L3)", async () => {
    await deps.passkeys.add(passkey('cred-squatter', '2026-01-02T00:00:00Z'));
    const reset = { purpose: 'reset' as const, lookupKey, phone };
    await requestPhoneProof(reset, '203.0.113.5', deps, idNumber);
    await deps.smsJobs.runAll(deps);
    const changed = changedMeanwhile();
    await expect(
      completePhoneProof(reset, deps.sms.sent.at(-1)!.code!, { newPassword: 'owner-pass-1' }, deps),
    ).rejects.toMatchObject({ code: 'account_changed' });
    expect(changed()).toBe(true);
    expect(deps.signIns.withdrawn).toEqual([]);
    expect(deps.signIns.ended).toEqual([]);
    expect((await deps.passkeys.listFor('acc_squatter')).map((p) => p.id)).toEqual(['cred-squatter']);
    expect(await deps.accounts.findByLookupKey(lookupKey)).toMatchObject({
      assurance: 'registry-verified',
      passwordHash: 'fake$2$squatter-password',
    });
  });
});

/**
 * A clerk's day at the counter is capped (review R30 L1): past `counterClerkDailyCaps`, lookups and proofs
 * are refused until the next China-time day (429 `counter_daily_cap`, `Retry-After` to its start), each
 * refusal audited. Before, a clerk could look up and prove people all day and night, seen only at the next
 * review of the trail.
 */
describe("a clerk's day at the counter", () => {
  let deps: ReturnType<typeof world>;
  let idNumber: string;

  beforeEach(async () => {
    deps = world();
    idNumber = newIdNumber();
    const lookupKey = await personLookupKey(fakeMac, parseIdNumber(idNumber, new Date()));
    await deps.registry.putPerson({ lookupKey, name: '李四', masked: '310104********0022' });
    await deps.accounts.create({
      id: 'acc_owner',
      lookupKey,
      masked: '310104********0022',
      idNumberEncrypted: await deps.pii.encrypt(
        parseIdNumber(idNumber, new Date()),
        idNumberEncryptionContext('acc_owner'),
      ),
      name: '李四',
      passwordHash: 'fake$2$owner-password',
      assurance: 'registry-verified',
      createdAt: '2026-01-01T00:00:00Z',
      version: 1,
    });
  });

  const refusals = () =>
    deps.audit.entries.filter((e) => e.reason === 'in-person:daily_cap').map((e) => e.action);

  it('refuses lookups past the cap until the next China-time day, audited', async () => {
    // The test clock reads 2026-03-01T08:00Z: 16:00 in China, 8 hours before its next day.
    const lines = await loggedLines(async () => {
      for (let i = 0; i < counterClerkDailyCaps.lookups; i += 1) {
        await counterLookup({ idNumber, name: '李四' }, clerk, deps);
      }
      await expect(counterLookup({ idNumber, name: '李四' }, clerk, deps)).rejects.toMatchObject({
        kind: 'too_many_requests',
        code: 'counter_daily_cap',
        retryAfterSeconds: 8 * 3600,
      });
    });
    expect(refusals()).toEqual(['account.lookup_refused']);
    // The on-call's alarm counts the lookup that filled the day and the one refused past it
    // (`Operations/CounterClerkCapAlarm`), from a line naming the clerk and never the person.
    const counted = lines.filter((line) =>
      matches(operationsFilterPatterns.counterClerkCap.logPatternString, line),
    );
    expect(counted.map((line) => JSON.parse(line) as object)).toEqual([
      expect.objectContaining({ clerk: 'clerk-ref-1', capped: 'lookups', outcome: 'filled' }),
      expect.objectContaining({ clerk: 'clerk-ref-1', capped: 'lookups', outcome: 'refused' }),
    ]);
    expect(lines.join('\n')).not.toContain(idNumber);
    // Another clerk is not refused; this one is again at the China-time day's start.
    await expect(
      counterLookup({ idNumber, name: '李四' }, { ...clerk, clerk: 'clerk-ref-2' }, deps),
    ).resolves.toMatchObject({ masked: '310104********0022' });
    deps.clock.advanceSeconds(8 * 3600 - 1);
    await expect(counterLookup({ idNumber, name: '李四' }, clerk, deps)).rejects.toMatchObject({
      code: 'counter_daily_cap',
      retryAfterSeconds: 1,
    });
    deps.clock.advanceSeconds(1);
    await expect(counterLookup({ idNumber, name: '李四' }, clerk, deps)).resolves.toMatchObject({
      assurance: 'registry-verified',
    });
  });

  it('refuses proofs past the cap, the code step included, and saves nothing', async () => {
    const prove = (more: object = {}) =>
      proveAtCounter(
        {
          idNumber,
          name: '李四',
          checkedIdCard: true,
          provenPhone: 'keep',
          password: 'owner-password',
          ...more,
        },
        clerk,
        deps,
      );
    for (let i = 0; i < counterClerkDailyCaps.proofs; i += 1) await prove();
    const before = (await deps.accounts.findByLookupKey(
      await personLookupKey(fakeMac, parseIdNumber(idNumber, new Date())),
    ))!;
    await expect(prove()).rejects.toMatchObject({ code: 'counter_daily_cap', retryAfterSeconds: 8 * 3600 });
    await expect(prove({ provenPhone: 'set', phone })).rejects.toMatchObject({ code: 'counter_daily_cap' });
    expect(deps.sms.sent).toEqual([]);
    expect(refusals()).toEqual(['account.proof_refused', 'account.proof_refused']);
    expect((await deps.accounts.findByLookupKey(before.lookupKey))!.version).toBe(before.version);
    // Lookups have a cap of their own: still answered.
    await expect(counterLookup({ idNumber, name: '李四' }, clerk, deps)).resolves.toMatchObject({
      assurance: 'in-person-verified',
    });
  });

  it('logs the cap line the alarm counts whatever the log level (review R31 M2)', async () => {
    // A deployment at `logLevel` ERROR would silence a plain warning, and the alarm would never fire.
    const before = logger.getLevelName();
    setServiceLogLevel('ERROR');
    try {
      const lines = await loggedLines(async () => {
        for (let i = 0; i < counterClerkDailyCaps.lookups; i += 1) {
          await counterLookup({ idNumber, name: '李四' }, clerk, deps);
        }
      });
      expect(
        lines.filter((line) => matches(operationsFilterPatterns.counterClerkCap.logPatternString, line)),
      ).toHaveLength(1);
    } finally {
      setServiceLogLevel(before);
    }
  });

  it('counts only what succeeded: refused lookups do not fill the day', async () => {
    // A wrong name, refused by the registry (and throttled), never counts on the cap.
    await expect(counterLookup({ idNumber, name: '别人' }, clerk, deps)).rejects.toMatchObject({
      code: 'registry_mismatch',
    });
    expect(
      await deps.loginAttempts.read(`counter-day#lookups#${clerk.clerk}#2026-03-01`, deps.clock.now() / 1000),
    ).toBeUndefined();
    await counterLookup({ idNumber, name: '李四' }, clerk, deps);
    expect(
      await deps.loginAttempts.read(`counter-day#lookups#${clerk.clerk}#2026-03-01`, deps.clock.now() / 1000),
    ).toMatchObject({ failures: 1 });
  });
});
