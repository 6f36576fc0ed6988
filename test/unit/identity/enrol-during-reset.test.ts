import { describe, expect, it } from 'vitest';
import {
  enrolPasskey,
  passkeyAssertion,
  passkeyRegistrationOptions,
  passkeySignInOptions,
  relyingPartyOf,
  verifyPasskeySignIn,
  type PasskeyOwner,
} from '../../../shared/identity/passkeys.js';
import { finishProofCleanup } from '../../../shared/identity/proof-cleanup.js';
import type { PersonAccount } from '../../../shared/identity/person-account.js';
import { ConflictError } from '../../../shared/errors.js';
import { fakeMac } from '../../support/in-memory.js';
import {
  FakePasswordHasher,
  InMemoryAccountStore,
  InMemoryAudit,
  InMemoryLoginAttemptStore,
  TestClock,
} from '../../support/in-memory-identity.js';
import { InMemoryPasskeyStore } from '../../support/in-memory-passkeys.js';
import { RecordedSecurityNotices } from '../../support/in-memory-sms.js';
import { SoftwareAuthenticator } from '../../support/software-authenticator.js';

/**
 * Review R44 F2: an enrolment in flight when the owner's reset runs its clean-up used to be stored after
 * the clean-up listed the passkeys: nothing tied the enrolment to the account as it was read (its version,
 * the password hash it checked), so the intruder's passkey survived the reset that was to remove it. It is
 * now stored only over the account at the version it checked, owing no clean-up.
 */
const rp = relyingPartyOf('https://id.example.gov.cn');
const oldPassword = 'Old-Password-1';
const account: PersonAccount = {
  id: 'acc_owner',
  lookupKey: 'lk_owner',
  masked: '1101**********1239',
  idNumberEncrypted: 'enc',
  name: '王小明',
  passwordHash: `fake$2$${oldPassword}`,
  assurance: 'possession-verified',
  provenPhone: 'phone-digest',
  createdAt: '2026-01-01T00:00:00.000Z',
  version: 1,
};

describe('a passkey enrolled while a reset cleans up (review R44 F2)', () => {
  it('is refused, and nothing the intruder enrolled signs in after the reset', async () => {
    const accounts = new InMemoryAccountStore();
    const stored = await accounts.create(account);
    const store = new InMemoryPasskeyStore(undefined, accounts);
    const clock = new TestClock();
    const deps = {
      passkeys: store,
      clock,
      passwords: new FakePasswordHasher(),
      loginAttempts: new InMemoryLoginAttemptStore(),
      lookupMac: fakeMac,
      audit: new InMemoryAudit(),
      pendingAudit: store.pendingAudit,
      securityNotices: new RecordedSecurityNotices(),
    };
    const intruder: PasskeyOwner = {
      accountId: account.id,
      name: account.name,
      level: 3,
      // The account as the enrolment request read it, with the old password's hash.
      account: stored,
      signIn: { acr: 'urn:elicence:loa:3', authTime: Math.floor(clock.now() / 1000) },
      source: '203.0.113.9',
    };
    const device = new SoftwareAuthenticator(rp.origin);
    const options = await passkeyRegistrationOptions(intruder, rp, deps);

    // The reset's clean-up (phone-proof.ts: the account saved with the new password, then the passkeys
    // enrolled until now removed, then the sign-ins ended) runs while the enrolment is between its checks
    // and its write.
    const resetAt = new Date(clock.now()).toISOString();
    const ended: string[] = [];
    const add = store.add.bind(store);
    store.add = async (passkey, trace, guard) => {
      const reset = await accounts.save({
        ...stored,
        passwordHash: 'fake$2$New-Password-2',
        proofCleanup: { passkeysBefore: resetAt },
      });
      await finishProofCleanup(
        reset,
        { allPasskeys: false, passkeysBefore: resetAt, signIns: true },
        {
          accounts,
          passkeys: store,
          signIns: { endAll: async (id: string) => void ended.push(id) },
          platformConsents: { withdrawAll: async () => 0 },
        },
      );
      return add(passkey, trace, guard);
    };
    const enrolled = enrolPasskey(
      intruder,
      { name: 'x', password: oldPassword, response: device.register(options) as never },
      rp,
      deps,
    );
    await expect(enrolled).rejects.toBeInstanceOf(ConflictError);
    await expect(enrolled).rejects.toMatchObject({ code: 'account_changed' });
    expect(ended).toEqual([account.id]);

    // After the reset: no passkey of the intruder's is left to sign in with.
    const signInOptions = await passkeySignInOptions('uid-after-reset', rp, deps);
    const signedIn = await verifyPasskeySignIn(
      'uid-after-reset',
      passkeyAssertion.parse(device.assert(signInOptions)),
      rp,
      deps,
    ).catch(() => undefined);
    expect(await store.listFor(account.id)).toEqual([]);
    expect(signedIn).toBeUndefined();
  });
});

describe('a passkey enrolled while the clean-up of the owner’s own reset is owed (review R48 F2)', () => {
  it('is refused as cleanup_owed (not account_changed), and enrolled once a proof finishes the clean-up', async () => {
    const accounts = new InMemoryAccountStore();
    const created = await accounts.create(account);
    const clock = new TestClock();
    // The owner's reset saved the account (new password, the mark, the clean-up owed); the clean-up then
    // failed (a withdrawal notice's table throttled, a Lambda timeout): `proofCleanup` stays owed.
    const resetAt = new Date(clock.now()).toISOString();
    await accounts.save({
      ...created,
      passwordHash: 'fake$2$New-Password-2',
      proofCleanup: { passkeysBefore: resetAt },
      signInsEnded: { at: resetAt, version: created.version + 1 },
    });
    const store = new InMemoryPasskeyStore(undefined, accounts);
    const deps = {
      passkeys: store,
      clock,
      passwords: new FakePasswordHasher(),
      loginAttempts: new InMemoryLoginAttemptStore(),
      lookupMac: fakeMac,
      audit: new InMemoryAudit(),
      pendingAudit: store.pendingAudit,
      securityNotices: new RecordedSecurityNotices(),
    };
    // The owner, signed in afresh with the new password (after the mark), at level 3.
    const ownerNow = async (): Promise<PasskeyOwner> => ({
      accountId: account.id,
      name: account.name,
      level: 3,
      account: (await accounts.findById(account.id))!,
      signIn: { acr: 'urn:elicence:loa:3', authTime: Math.floor(clock.now() / 1000) },
      source: '198.51.100.7',
    });
    const device = new SoftwareAuthenticator(rp.origin);
    const enrol = async () => {
      const owner = await ownerNow();
      const options = await passkeyRegistrationOptions(owner, rp, deps);
      return enrolPasskey(
        owner,
        { name: 'phone', password: 'New-Password-2', response: device.register(options) as never },
        rp,
        deps,
      );
    };

    // Signing in again never helps: each attempt is told what is owed, and what to do.
    for (const _attempt of [1, 2]) {
      clock.advanceSeconds(60);
      await expect(enrol()).rejects.toMatchObject({
        code: 'cleanup_owed',
        message: expect.stringContaining('finishes by itself within minutes'),
      });
    }
    expect(await store.listFor(account.id)).toEqual([]);

    // The next proof of the account finishes the clean-up (phone-proof.ts); signed in again, it enrols.
    await finishProofCleanup(
      (await accounts.findById(account.id))!,
      { allPasskeys: false, passkeysBefore: resetAt, signIns: true },
      {
        accounts,
        passkeys: store,
        signIns: { endAll: async () => undefined },
        platformConsents: { withdrawAll: async () => 0 },
      },
    );
    clock.advanceSeconds(60);
    await expect(enrol()).resolves.toMatchObject({ name: 'phone' });
    expect(await store.listFor(account.id)).toHaveLength(1);
  });
});
