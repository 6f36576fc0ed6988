import type { IdNumber } from '../identifiers/id-number.js';
import { logger } from '../logger.js';
import type { AccountStore } from './account-store.js';
import { assuranceLevelOf } from './assurance.js';
import type { PasskeyStore } from './passkeys.js';
import type { PasswordHasher } from './password-hasher.js';
import type { PiiCipher } from './pii-cipher.js';
import type { PersonAccount } from './person-account.js';
import type { CarrierRegistry, PopulationRegistry } from './registry.js';
import type { SignInRevocation } from './sign-in-revocation.js';
import {
  admitSend,
  checkSmsCode,
  phoneDigest,
  deliverSmsCode,
  prepareSmsCode,
  type SmsCodeDependencies,
  type SmsCodeSubject,
} from './sms-codes.js';

/**
 * Proving level 3 by possession: an SMS code to the mobile number the carrier registry confirms for the
 * person an ID number names (三要素核验: number, the population registry's name, phone). Used by the
 * step-up of a sign-in and by the password reset; whoever completes it controls that number's account.
 */
export interface PhoneProofDependencies extends SmsCodeDependencies {
  accounts: AccountStore;
  registry: PopulationRegistry;
  carrier: CarrierRegistry;
  passwords: PasswordHasher;
  signIns: SignInRevocation;
  /** A squatted account's passkeys are removed when the real owner takes it over. */
  passkeys: PasskeyStore;
  /** Reads the account's ID number back for the registries' HTTP services (the step-up knows no other). */
  pii: PiiCipher;
}

export type ProofRequest = { status: 'requested' } | { status: 'throttled'; retryAfterSeconds: number };

/**
 * Sends a code for `subject` if, and only if, the carrier registry confirms its phone for the person the
 * registry knows under its lookup key. The answer is the same either way (`requested`): it never tells
 * whether a number belongs to someone. The send limits count every request, confirmed or not, so that the
 * form is no oracle for the carrier registry either.
 */
export async function requestPhoneProof(
  subject: SmsCodeSubject,
  source: string,
  deps: SmsCodeDependencies & Pick<PhoneProofDependencies, 'registry' | 'carrier'>,
  /** The ID number itself: the registries' HTTP services need it (the lookup key is our own MAC). */
  idNumber?: IdNumber,
): Promise<ProofRequest> {
  const admission = await admitSend({ phone: subject.phone, source }, deps);
  if (!admission.admitted) return { status: 'throttled', retryAfterSeconds: admission.retryAfterSeconds };
  // The code is made and hashed either way, so that the time taken says less about the answer; what is
  // left (storing and texting it) is documented in docs/sign-in.md.
  const [prepared, person] = await Promise.all([
    prepareSmsCode(subject, deps),
    deps.registry.findPerson(subject.lookupKey, idNumber),
  ]);
  const confirmed =
    person !== undefined &&
    (await deps.carrier.confirms({
      lookupKey: subject.lookupKey,
      name: person.name,
      phone: subject.phone,
      ...(idNumber ? { idNumber } : {}),
    }));
  if (confirmed) await deliverSmsCode(prepared, deps);
  else logger.info('sms code not sent: phone not confirmed for the person', { purpose: subject.purpose });
  return { status: 'requested' };
}

export type ProofOutcome =
  | {
      ok: true;
      account: PersonAccount;
      /** True when the account had never reached level 3 under this phone: its old sign-ins were ended. */
      tookOver: boolean;
    }
  | { ok: false; reason: 'wrong_code' | 'expired_code' | 'no_account' };

/**
 * Completes a proof: checks the code ({@link checkSmsCode}: 5 tries, 5 minutes, once), then raises the
 * account of the number to level 3 by possession and records the phone's digest. The real owner wins: an
 * account that never reached level 3 under this phone (someone else may have registered the number) is
 * frozen in its old state: every session, grant, refresh and access token of it ends at once (but
 * `keepSession`, the sign-in under way), and with `newPassword` (the reset) the password is replaced first,
 * so the old one opens nothing again; every passkey of it is removed too, so that no authenticator the
 * squatter kept opens it again.
 *
 * @example
 * ```ts
 * const outcome = await completePhoneProof({ purpose: 'reset', lookupKey, phone }, code, { newPassword }, deps);
 * ```
 */
export async function completePhoneProof(
  subject: SmsCodeSubject,
  code: string,
  options: { newPassword?: string; keepSession?: string },
  deps: PhoneProofDependencies,
): Promise<ProofOutcome> {
  const checked = await checkSmsCode(subject, code, deps);
  if (!checked.ok) return checked;
  const account = await deps.accounts.findByLookupKey(subject.lookupKey);
  if (!account) return { ok: false, reason: 'no_account' };
  const provenPhone = await phoneDigest(deps.lookupMac, subject.phone);
  const tookOver = assuranceLevelOf(account) < 3 && account.provenPhone !== provenPhone;
  const saved = await deps.accounts.save({
    ...account,
    assurance: assuranceLevelOf(account) < 3 ? 'possession-verified' : account.assurance,
    provenPhone,
    ...(options.newPassword !== undefined && {
      passwordHash: await deps.passwords.hash(options.newPassword),
    }),
  });
  // Passkeys first, then sign-ins: a passkey sign-in in between would otherwise outlive the ending.
  if (tookOver) await removePasskeys(account.id, deps.passkeys);
  if (tookOver || options.newPassword !== undefined) {
    // A new password ends every other sign-in too: whoever knew the old one is out.
    await deps.signIns.endAll(account.id, { keepSession: options.keepSession });
  }
  logger.info('level 3 proven by sms', { accountId: account.id, purpose: subject.purpose, tookOver });
  return { ok: true, account: saved, tookOver };
}

/** Removes every passkey of an account taken over: none of them was enrolled by the real owner. */
async function removePasskeys(accountId: string, passkeys: PasskeyStore): Promise<void> {
  const held = await passkeys.listFor(accountId);
  await Promise.all(held.map((passkey) => passkeys.remove(accountId, passkey.id)));
  if (held.length > 0)
    logger.info('passkeys of a taken-over account removed', { accountId, count: held.length });
}
