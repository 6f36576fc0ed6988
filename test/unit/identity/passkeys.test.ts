import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../../../shared/errors.js';
import {
  challengeSeconds,
  enrolPasskey,
  listPasskeys,
  maxPasskeysPerAccount,
  passkeyAssertion,
  passkeyEndedBy,
  passkeyRegistrationOptions,
  passkeySignInOptions,
  PasskeySignInError,
  relyingPartyOf,
  removePasskey,
  verifyPasskeySignIn,
  type PasskeyOwner,
} from '../../../shared/identity/passkeys.js';
import type { PersonAccount } from '../../../shared/identity/person-account.js';
import { fakeMac } from '../../support/in-memory.js';
import {
  FakePasswordHasher,
  InMemoryAudit,
  InMemoryLoginAttemptStore,
  TestClock,
} from '../../support/in-memory-identity.js';
import { InMemoryPasskeyStore } from '../../support/in-memory-passkeys.js';
import { RecordedSecurityNotices } from '../../support/in-memory-sms.js';
import { SoftwareAuthenticator } from '../../support/software-authenticator.js';

const rp = relyingPartyOf('https://id.example.gov.cn');
const password = 'Correct-Horse-1';
const account: PersonAccount = {
  id: 'acc_owner',
  lookupKey: 'lk_owner',
  masked: '1101**********1239',
  idNumberEncrypted: 'enc',
  name: '王小明',
  passwordHash: `fake$2$${password}`,
  assurance: 'possession-verified',
  provenPhone: 'phone-digest',
  createdAt: '2026-01-01T00:00:00.000Z',
  version: 1,
};
const signedInAt = Date.parse('2026-03-01T08:00:00Z') / 1000;
/** A sign-in at level 3 made at the test clock's start (fresh for ten minutes). */
const ownerOf = (accountId: string, over: Partial<PasskeyOwner> = {}): PasskeyOwner => ({
  accountId,
  name: '王小明',
  level: 3,
  account: { ...account, id: accountId },
  signIn: { acr: 'urn:elicence:loa:3', authTime: signedInAt },
  source: '203.0.113.9',
  ...over,
});
const owner = ownerOf('acc_owner');

describe('passkeys (use cases, with a software authenticator)', () => {
  let store: InMemoryPasskeyStore;
  let clock: TestClock;
  let deps: {
    passkeys: InMemoryPasskeyStore;
    clock: TestClock;
    passwords: FakePasswordHasher;
    loginAttempts: InMemoryLoginAttemptStore;
    lookupMac: typeof fakeMac;
    audit: InMemoryAudit;
    pendingAudit: InMemoryPasskeyStore['pendingAudit'];
    securityNotices: RecordedSecurityNotices;
  };
  let authenticator: SoftwareAuthenticator;

  const enrol = async (who = owner, device = authenticator) => {
    const options = await passkeyRegistrationOptions(who, rp, deps);
    return enrolPasskey(
      who,
      { name: '手机', password, response: device.register(options) as never },
      rp,
      deps,
    );
  };
  const signIn = async (uid = 'uid-1', device = authenticator) => {
    const options = await passkeySignInOptions(uid, rp, deps);
    return { options, assertion: passkeyAssertion.parse(device.assert(options)) };
  };

  beforeEach(() => {
    store = new InMemoryPasskeyStore();
    clock = new TestClock();
    deps = {
      passkeys: store,
      clock,
      passwords: new FakePasswordHasher(),
      loginAttempts: new InMemoryLoginAttemptStore(),
      lookupMac: fakeMac,
      audit: new InMemoryAudit(),
      pendingAudit: store.pendingAudit,
      securityNotices: new RecordedSecurityNotices(),
    };
    authenticator = new SoftwareAuthenticator(rp.origin);
  });

  it('asks for a discoverable credential with user verification, for the service’s host', async () => {
    const options = await passkeyRegistrationOptions(owner, rp, deps);
    expect(options.rp).toEqual({ id: 'id.example.gov.cn', name: rp.rpName });
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
    // The user handle is the opaque account id, never an ID number.
    expect(Buffer.from(options.user.id, 'base64url').toString()).toBe('acc_owner');
  });

  it('enrols at level 3, lists the passkey without its key, and signs in with it at amr swk', async () => {
    const view = await enrol();
    expect(view).toEqual({
      id: authenticator.credentialId,
      name: '手机',
      createdAt: expect.any(String),
      synced: false,
    });
    expect(await listPasskeys(owner, deps)).toEqual([view]);
    const { assertion } = await signIn();
    await expect(verifyPasskeySignIn('uid-1', assertion, rp, deps)).resolves.toEqual({
      accountId: 'acc_owner',
      amr: ['swk'],
      createdAt: view.createdAt,
    });
    expect((await store.find(authenticator.credentialId))?.lastUsedAt).toBeDefined();
  });

  it('refuses to enrol, list or remove below level 3', async () => {
    const low = { ...owner, level: 2 as const };
    for (const attempt of [
      passkeyRegistrationOptions(low, rp, deps),
      listPasskeys(low, deps),
      removePasskey(low, 'x', password, deps),
    ]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForbiddenError);
      expect((error as ForbiddenError).code).toBe('insufficient_assurance');
    }
    // An answer to a level-3 challenge does not enrol once the sign-in is below level 3.
    const options = await passkeyRegistrationOptions(owner, rp, deps);
    await expect(
      enrolPasskey(low, { password, response: authenticator.register(options) as never }, rp, deps),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('refuses an enrolment answering another account’s challenge, or one already used, or expired', async () => {
    const options = await passkeyRegistrationOptions(ownerOf('acc_other'), rp, deps);
    const response = authenticator.register(options) as never;
    await expect(enrolPasskey(owner, { password, response }, rp, deps)).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    // That attempt spent the challenge: not even its own account can use it now.
    await expect(enrolPasskey(ownerOf('acc_other'), { password, response }, rp, deps)).rejects.toBeInstanceOf(
      InvalidInputError,
    );

    const late = await passkeyRegistrationOptions(owner, rp, deps);
    clock.advanceSeconds(challengeSeconds);
    await expect(
      enrolPasskey(owner, { password, response: authenticator.register(late) as never }, rp, deps),
    ).rejects.toBeInstanceOf(InvalidInputError);
    expect(await listPasskeys(owner, deps)).toEqual([]);
  });

  it('refuses an enrolment without user verification', async () => {
    authenticator.userVerified = false;
    await expect(enrol()).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('refuses a credential already enrolled, by anyone', async () => {
    await enrol();
    const again = await enrol(ownerOf('acc_other')).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConflictError);
  });

  it('bounds the passkeys of an account', async () => {
    for (let i = 0; i < maxPasskeysPerAccount; i++) await enrol(owner, new SoftwareAuthenticator(rp.origin));
    await expect(passkeyRegistrationOptions(owner, rp, deps)).rejects.toMatchObject({
      code: 'too_many_passkeys',
    });
  });

  it('bounds them at enrolment too: options asked while there was room, answered after (review R61 F3)', async () => {
    const devices = Array.from(
      { length: maxPasskeysPerAccount + 2 },
      () => new SoftwareAuthenticator(rp.origin),
    );
    // Every ceremony started while the account has no passkey, so every one passes the count of the options.
    const options = [];
    for (const _ of devices) options.push(await passkeyRegistrationOptions(owner, rp, deps));
    const outcomes = [];
    for (const [i, device] of devices.entries()) {
      outcomes.push(
        await enrolPasskey(
          owner,
          { name: `k${i}`, password, response: device.register(options[i]!) as never },
          rp,
          deps,
        ).then(
          () => 'enrolled',
          (error: unknown) => (error as { code?: string }).code,
        ),
      );
    }
    expect(outcomes.filter((outcome) => outcome === 'enrolled')).toHaveLength(maxPasskeysPerAccount);
    expect(outcomes.slice(maxPasskeysPerAccount)).toEqual(['too_many_passkeys', 'too_many_passkeys']);
    expect(await listPasskeys(owner, deps)).toHaveLength(maxPasskeysPerAccount);
  });

  it('refuses a replayed assertion (the challenge is single-use), also within the same sign-in', async () => {
    // No counter to catch it: only the challenge being spent refuses the replay.
    authenticator.counts = false;
    await enrol();
    const { assertion } = await signIn();
    await verifyPasskeySignIn('uid-1', assertion, rp, deps);
    await expect(verifyPasskeySignIn('uid-1', assertion, rp, deps)).rejects.toBeInstanceOf(
      PasskeySignInError,
    );
  });

  it('refuses an assertion for another sign-in’s challenge, or an enrolment challenge, or an expired one', async () => {
    await enrol();
    const { assertion } = await signIn('uid-1');
    await expect(verifyPasskeySignIn('uid-2', assertion, rp, deps)).rejects.toBeInstanceOf(
      PasskeySignInError,
    );

    const enrolOptions = await passkeyRegistrationOptions(owner, rp, deps);
    const forged = passkeyAssertion.parse(
      authenticator.assert({ challenge: enrolOptions.challenge, rpId: rp.rpId }),
    );
    await expect(verifyPasskeySignIn('acc_owner', forged, rp, deps)).rejects.toBeInstanceOf(
      PasskeySignInError,
    );

    const late = await signIn('uid-3');
    clock.advanceSeconds(challengeSeconds);
    await expect(verifyPasskeySignIn('uid-3', late.assertion, rp, deps)).rejects.toBeInstanceOf(
      PasskeySignInError,
    );
  });

  it('refuses a counter that went backwards (a cloned authenticator), and a use without user verification', async () => {
    await enrol();
    authenticator.counter = 10;
    await verifyPasskeySignIn('uid-1', (await signIn('uid-1')).assertion, rp, deps);
    authenticator.counter = 3;
    await expect(
      verifyPasskeySignIn('uid-2', (await signIn('uid-2')).assertion, rp, deps),
    ).rejects.toBeInstanceOf(PasskeySignInError);
    expect((await store.find(authenticator.credentialId))?.counter).toBe(11);

    authenticator.counter = 20;
    authenticator.userVerified = false;
    await expect(
      verifyPasskeySignIn('uid-3', (await signIn('uid-3')).assertion, rp, deps),
    ).rejects.toBeInstanceOf(PasskeySignInError);
  });

  it('accepts an authenticator that keeps no counter (always 0)', async () => {
    authenticator.counts = false;
    await enrol();
    await verifyPasskeySignIn('uid-1', (await signIn('uid-1')).assertion, rp, deps);
    await expect(
      verifyPasskeySignIn('uid-2', (await signIn('uid-2')).assertion, rp, deps),
    ).resolves.toMatchObject({ accountId: 'acc_owner' });
  });

  it('refuses a removed passkey, and a user handle that is not the passkey’s account', async () => {
    await enrol();
    authenticator.userHandle = Buffer.from('acc_someone_else').toString('base64url');
    await expect(
      verifyPasskeySignIn('uid-1', (await signIn('uid-1')).assertion, rp, deps),
    ).rejects.toBeInstanceOf(PasskeySignInError);

    await expect(
      removePasskey(ownerOf('acc_other'), authenticator.credentialId, password, deps),
    ).rejects.toBeInstanceOf(NotFoundError);
    await removePasskey(owner, authenticator.credentialId, password, deps);
    authenticator.userHandle = Buffer.from('acc_owner').toString('base64url');
    await expect(
      verifyPasskeySignIn('uid-2', (await signIn('uid-2')).assertion, rp, deps),
    ).rejects.toBeInstanceOf(PasskeySignInError);
  });

  it('refuses an assertion made for another origin (a phishing site relaying the challenge)', async () => {
    await enrol();
    authenticator.origin = 'https://id.example.gov.cn.evil.example';
    const { assertion } = await signIn('uid-1');
    await expect(verifyPasskeySignIn('uid-1', assertion, rp, deps)).rejects.toBeInstanceOf(
      PasskeySignInError,
    );
  });

  describe('enrolling and removing need a fresh sign-in and the password (review R28 H1)', () => {
    const refusal = async (attempt: Promise<unknown>) => {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForbiddenError);
      return (error as ForbiddenError).code;
    };

    it('refuses a level-3 token whose sign-in is older than ten minutes (a wallet left open)', async () => {
      const options = await passkeyRegistrationOptions(owner, rp, deps);
      clock.advanceSeconds(601);
      await expect(refusal(passkeyRegistrationOptions(owner, rp, deps))).resolves.toBe(
        'fresh_sign_in_required',
      );
      const response = authenticator.register(options) as never;
      await expect(refusal(enrolPasskey(owner, { password, response }, rp, deps))).resolves.toBe(
        'fresh_sign_in_required',
      );
      expect(store.passkeys.size).toBe(0);
    });

    it('refuses a wrong password, adding nothing; the challenge is not spent by it', async () => {
      const options = await passkeyRegistrationOptions(owner, rp, deps);
      const response = authenticator.register(options) as never;
      await expect(refusal(enrolPasskey(owner, { password: 'guessed-1', response }, rp, deps))).resolves.toBe(
        'wrong_password',
      );
      expect(store.passkeys.size).toBe(0);
      await enrolPasskey(owner, { password, response }, rp, deps);
      expect(store.passkeys.size).toBe(1);
    });

    it('removes only with a fresh sign-in and the password', async () => {
      await enrol();
      await expect(
        refusal(removePasskey(owner, authenticator.credentialId, 'guessed-1', deps)),
      ).resolves.toBe('wrong_password');
      clock.advanceSeconds(601);
      await expect(refusal(removePasskey(owner, authenticator.credentialId, password, deps))).resolves.toBe(
        'fresh_sign_in_required',
      );
      expect(store.passkeys.size).toBe(1);
    });

    it('records passkey.enrolled and passkey.removed, with no name or credential id in them', async () => {
      await enrol();
      await removePasskey(owner, authenticator.credentialId, password, deps);
      expect(deps.audit.entries).toEqual([
        expect.objectContaining({ action: 'passkey.enrolled', actor: 'acc_owner', reason: 'device-bound' }),
        expect.objectContaining({ action: 'passkey.removed', actor: 'acc_owner' }),
      ]);
      expect(JSON.stringify(deps.audit.entries)).not.toContain(authenticator.credentialId);
      expect(JSON.stringify(deps.audit.entries)).not.toContain('手机');
      // Written at once: no pending work left.
      expect(await store.pendingAudit.olderThan(new Date(clock.now() + 3_600_000), 10)).toEqual([]);
      // And each owes its holder a security notice, recorded once.
      expect(deps.securityNotices.owed.map(({ accountId, action }) => ({ accountId, action }))).toEqual([
        { accountId: 'acc_owner', action: 'passkey.enrolled' },
        { accountId: 'acc_owner', action: 'passkey.removed' },
      ]);
    });

    it('writes no entry for a passkey that is not the person’s to remove', async () => {
      await enrol();
      await expect(
        removePasskey(ownerOf('acc_other'), authenticator.credentialId, password, deps),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(deps.audit.entries.map((entry) => entry.action)).toEqual(['passkey.enrolled']);
    });
  });
});

describe('a passkey enrolled before a takeover or a reset (review R47 F1)', () => {
  const at = '2026-05-28T20:26:41.500Z';
  it('signs no one in when enrolled before the mark, or before the passkeysBefore of a clean-up still owed', () => {
    expect(passkeyEndedBy('2026-05-28T20:26:41.499Z', { signInsEnded: { at } })).toBe(true);
    // An account whose clean-up was owed before marks existed: the clean-up's time alone.
    expect(passkeyEndedBy('2026-05-28T20:00:00.000Z', { passkeysOwedBefore: at })).toBe(true);
    expect(passkeyEndedBy('not a date', {})).toBe(true);
  });
  it('signs in when enrolled from the mark on, or on an account never reset', () => {
    expect(passkeyEndedBy(at, { signInsEnded: { at }, passkeysOwedBefore: at })).toBe(false);
    expect(passkeyEndedBy('2026-05-29T08:00:00.000Z', { signInsEnded: { at } })).toBe(false);
    expect(passkeyEndedBy('2020-01-01T00:00:00.000Z', {})).toBe(false);
  });
});
