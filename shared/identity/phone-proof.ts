import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { IdNumber } from '../identifiers/id-number.js';
import { maskPhone, type PhoneNumber } from '../identifiers/phone.js';
import { logger } from '../logger.js';
import { phoneProofAuditPrefix, saveWithTrace, type PendingWorkIndex } from '../pending-work/pending-work.js';
import type { AccountStore } from './account-store.js';
import { assuranceLevelOf } from './assurance.js';
import type { PasskeyStore } from './passkeys.js';
import type { PasswordHasher } from './password-hasher.js';
import type { PiiCipher } from './pii-cipher.js';
import type { PersonAccount } from './person-account.js';
import { finishProofCleanup } from './proof-cleanup.js';
import type { PopulationRegistry, RegisteredPerson } from './registry.js';
import { personIdNumber } from './verify-password.js';
import type { PlatformConsents, SignInRevocation } from './sign-in-revocation.js';
import type { EnvelopeSealer } from '../crypto/envelope-sealer.js';
import {
  admitSend,
  checkSmsCode,
  giveBackSend,
  phoneDigest,
  type SendLimit,
  type SmsCodeDependencies,
  type SmsCodeSubject,
} from './sms-codes.js';
import { sealNoticePhone } from './security-notices.js';
import { enqueueSmsJob, type SmsJobQueue } from './sms-jobs.js';

/**
 * Proving level 3 by possession: an SMS code to the mobile number the carrier registry confirms for the
 * person an ID number names (三要素核验: number, the population registry's name, phone). Used by the
 * step-up of a sign-in and by the password reset; whoever completes it controls that number's account. The
 * request functions ask for codes and check them; only the `sms-codes` function asks the carrier and
 * texts them (./sms-jobs.ts), so these dependencies hold neither.
 */
export interface PhoneProofDependencies extends Omit<SmsCodeDependencies, 'sms'>, SmsRequestDependencies {
  accounts: AccountStore;
  /** The person's name and level are read again from it when a code raises an account to level 3. */
  registry: PopulationRegistry;
  passwords: PasswordHasher;
  signIns: SignInRevocation;
  /**
   * The account's consents to platforms, withdrawn when its sign-ins end (the real owner taking a squatted
   * account back, a password reset): each platform that asked is told (a withdrawal notice) to delete what
   * the sign-ins and shares gave it.
   */
  platformConsents: PlatformConsents;
  /** A squatted account's passkeys are removed when the real owner takes it over. */
  passkeys: PasskeyStore;
  /** Reads the account's ID number back for the registries' HTTP services (the step-up knows no other). */
  pii: PiiCipher;
  /**
   * Takeovers (`account.taken_over`), raises (`account.raised`) and password resets
   * (`account.password_reset`) are recorded.
   */
  audit: AuditTrail;
  /**
   * The pending work of the OpenID provider's changes: a takeover or a reset is saved with its audit
   * entries there, so that the account never changes hands untraced.
   */
  providerAudit: PendingWorkIndex;
}

/**
 * The answer to a request for a code: the same for every request the send limits admit, whoever the
 * person and whatever their account (docs/security.md, "Timing"). A refusal names the limit that refused
 * it ({@link SendLimit}, from {@link admitSend}), so that the page counts down only the phone's interval.
 */
export type ProofRequest =
  { status: 'requested' } | { status: 'throttled'; retryAfterSeconds: number; limit: SendLimit };

/**
 * Asks for a code for `subject`; the code goes out later, off the request path, if and only if the carrier
 * registry confirms its phone for the person the registry knows under its lookup key, and for a reset the
 * account allows it ({@link runSmsJob}).
 * Every request does the same work, confirmed or not: the send limits counted, one job left (the phone
 * and ID number sealed); nothing here waits on the registries or the SMS provider, so neither the answer
 * (`requested`) nor its time tells whether a number belongs to someone, nor whether the provider took the
 * text (docs/security.md, "Timing"). The send limits count every request, so that the form is no oracle for
 * the carrier registry either. A reset reads no account here: whether the ID number has one, and whether
 * the phone is the one that proved it, are the sender's questions ({@link runSmsJob}: it texts only an
 * account's proven phone, or for an account no phone proved the carrier's), so the answer and its time
 * tell no one typing an ID number whether an account exists or which phone proved it (review R16 H1).
 *
 * @example
 * ```ts
 * const request = await requestPhoneProof({ purpose: 'reset', lookupKey, phone }, sourceIp, deps, idNumber);
 * ```
 */
export async function requestPhoneProof(
  subject: SmsCodeSubject,
  source: string,
  deps: SmsRequestDependencies,
  /** The ID number itself, sealed in the job: the registries' HTTP services need it (the lookup key is our own MAC). */
  idNumber?: IdNumber,
): Promise<ProofRequest> {
  // 1. The send limits, counted for every request.
  const admission = await admitSend({ phone: subject.phone, source }, deps);
  if (!admission.admitted)
    return { status: 'throttled', retryAfterSeconds: admission.retryAfterSeconds, limit: admission.limit };
  // 2. One job, whatever the phone and the account: whether it may carry the code is the sender's
  // question. A job that could not be written (KMS, DynamoDB) sends nothing, so the phone's interval is
  // given back for a retry.
  try {
    await enqueueSmsJob(subject, idNumber, deps);
  } catch (error) {
    await giveBackSend({ phone: subject.phone, source }, deps);
    throw error;
  }
  return { status: 'requested' };
}

/** What asking for a code needs: the send limits' counters and MAC, and where jobs wait. */
export type SmsRequestDependencies = Pick<SmsCodeDependencies, 'loginAttempts' | 'lookupMac' | 'clock'> & {
  smsJobs: Pick<SmsJobQueue, 'enqueue'>;
  smsJobSealer: Pick<EnvelopeSealer, 'seal'>;
};

export type ProofOutcome =
  | {
      ok: true;
      account: PersonAccount;
      /** True when the account had never reached level 3 under this phone: its old sign-ins were ended. */
      tookOver: boolean;
    }
  | { ok: false; reason: 'wrong_or_expired_code' | 'no_account' | 'no_proven_phone' }
  | {
      ok: false;
      reason: 'not_proven_phone';
      /** For a step-up (the person is signed in): the proven phone, masked, when the account kept it. */
      provenPhoneMasked?: string;
    }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/**
 * Completes a proof: checks the code ({@link checkSmsCode}: 5 tries, 5 minutes, once), then raises the
 * account of the number to level 3 by possession and records the phone's digest (and its mask, shown to the
 * person). An account below level 3 takes its name and level from the population registry, read again (the
 * phone proves the registry's person, whatever name the account was registered under).
 *
 * Once a phone proved the account, only that phone proves it again, for a reset and a step-up alike
 * (`not_proven_phone`, once the code is checked: never before, so that a guess tells nothing of the
 * account; a step-up's answer names the proven phone masked): a family SIM the carrier lists under the same
 * person neither resets the account nor moves its proven phone (review R28 M1). A new phone is set at a
 * service counter. An account proven in person that no phone proved is reset there too
 * (`no_proven_phone`).
 *
 * The real owner wins: a reset of an account that never reached level 3 under this phone (someone else
 * may have registered the number) is a takeover, the account frozen in its old state: every session, grant,
 * refresh and access token of it ends at once (but `keepSession`, the sign-in under way), the password
 * replaced first, so the old one opens nothing again; every passkey of it is removed too, so that no
 * authenticator the squatter kept opens it again. Any reset ends every other sign-in as well. Either way
 * the account's consents to platforms are withdrawn, each platform that registered an events endpoint
 * told by a withdrawal notice (`PlatformConsents.withdrawAll`, as the account's closure does), right after
 * the account's save and before the rest of the clean-up: a save refused by a concurrent change leaves
 * them as they were (review R30 L3). A
 * step-up is never a takeover: it is proven in a sign-in of the account itself, so it is the holder raising
 * their own account, and it ends and withdraws nothing (review R28 L1).
 *
 * A takeover writes the audit entry `account.taken_over`, a step-up that raised the account
 * `account.raised`, a reset `account.password_reset`, the first proven phone of an account proven in
 * person `account.phone_changed` (actor the account, no ID number, the phone masked only): saved with
 * the account's own write ({@link saveWithTrace}), so that the account never changes hands, level or
 * password untraced; an entry that cannot be written at once is written by the reconciler a minute later.
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
  const provenPhone = await phoneDigest(deps.lookupMac, subject.phone);
  // The code first: until it is right, nothing here reads the account, so a guess answers alike whatever
  // the account (no oracle of it: review R16 H1).
  const checked = await checkSmsCode(subject, code, deps);
  if (!checked.ok) return checked;
  const account = await deps.accounts.findByLookupKey(subject.lookupKey);
  if (!account) return { ok: false, reason: 'no_account' };
  // Once a phone proved the account, only that phone proves it again (review R28 M1): a reset's code goes
  // to it alone (runSmsJob), and a step-up with another number the carrier lists under the person (a
  // family SIM) no longer moves the proven phone; a new one is set at a service counter
  // (shared/identity/counter-proof.ts). A code sent before that rule, or before another phone proved the
  // account, must not count either.
  if (account.provenPhone && account.provenPhone !== provenPhone)
    return subject.purpose === 'step-up' && account.provenPhoneMasked
      ? { ok: false, reason: 'not_proven_phone', provenPhoneMasked: account.provenPhoneMasked }
      : { ok: false, reason: 'not_proven_phone' };
  // An account proven in person that no phone proved has no phone to reset it by: a number the carrier
  // lists under the person (a family SIM) proves less than the counter did, so it must not take the account
  // and become its reset channel (review R28 M1). The person goes to the counter.
  if (subject.purpose === 'reset' && !account.provenPhone && assuranceLevelOf(account) === 3)
    return { ok: false, reason: 'no_proven_phone' };
  // A takeover is a reset alone: whoever resets need not know the password, so the account may have been
  // someone else's (a squatter who registered the number). A step-up is proven in a sign-in of the
  // account itself, by whoever holds its password (or passkey) and the phone: its holder raising their own
  // account (`account.raised`), which ends nothing and withdraws nothing (review R28 L1).
  const tookOver =
    subject.purpose === 'reset' && assuranceLevelOf(account) < 3 && account.provenPhone !== provenPhone;
  // Below level 3, the phone proves the registry's person (the code went only to a phone the carrier
  // confirms for them): their name and level come from the registry, read again now, not from whoever
  // registered the number (a squatter's self-asserted name stayed on the account the owner took back:
  // review R10).
  const registered = assuranceLevelOf(account) < 3 ? await registryPerson(account, deps) : undefined;
  // What ends every sign-in (a takeover, a new password) ends the platforms' consents with it, and each
  // platform that asked is told, as when the person withdraws one in the wallet or closes the account
  // (`PlatformConsents.withdrawAll`, the same code): a platform whose grant a reset ended must not keep
  // what it copied under it unknowingly, nor find out only when its next refresh fails. After the save
  // ({@link finishProofCleanup}), never before: a save refused (409 `account_changed`, a concurrent
  // change) must leave the consents as they were (review R30 L3); a withdrawal that fails after it is owed
  // by the mark below, and the next proof withdraws again (an owed clean-up ends the sign-ins, and with
  // them the platforms' grants, so it tells the platforms too: never a grant ended silently, review R29
  // M1). `withdrawAll` is idempotent.
  const reset = options.newPassword !== undefined;
  const endsSignIns = tookOver || reset;
  // What ends after the save (the consents, the squatter's passkeys, the sign-ins) is owed from that save on, and saved
  // with it (`proofCleanup`): a proof that failed after the save (its code used up) leaves it owed, and the
  // next proof of the account (a retry, with a new code) finishes it, though it no longer sees a takeover.
  // A takeover or a reset owes the removal of every passkey enrolled until now (a reset's: one may be an
  // intruder's, enrolled from a session the person now shuts out, review R28 H1); one owed from before,
  // those enrolled until its takeover or reset (the owner's since are theirs).
  const owed = account.proofCleanup;
  const passkeysBefore = endsSignIns ? new Date(deps.clock.now()).toISOString() : owed?.passkeysBefore;
  const cleanup = {
    passkeysBefore,
    signIns: endsSignIns || owed !== undefined,
  };
  const proven: PersonAccount = {
    ...account,
    ...(registered
      ? { name: registered.name, assurance: 'possession-verified' as const }
      : {
          // The registry does not know the person now (it did when the code was sent): a self-asserted
          // account keeps its level, its name was never checked; a checked one is raised by the phone.
          assurance:
            assuranceLevelOf(account) < 3 && account.assurance !== 'self-asserted'
              ? 'possession-verified'
              : account.assurance,
        }),
    provenPhone,
    provenPhoneMasked: maskPhone(subject.phone as PhoneNumber),
    // Where security notices go from now on (shared/identity/security-notices.ts): this phone, sealed for
    // the sender alone; sealed again only when it is new to the account.
    ...((account.provenPhone !== provenPhone || account.noticePhone === undefined) && {
      noticePhone: await sealNoticePhone(account.id, subject.phone, deps.smsJobSealer),
    }),
    ...(options.newPassword !== undefined && {
      passwordHash: await deps.passwords.hash(options.newPassword),
    }),
    ...(cleanup.signIns && { proofCleanup: passkeysBefore === undefined ? {} : { passkeysBefore } }),
  };
  // The sign-ins a takeover or a reset ends are every one made until this save, those the clean-up below
  // cannot reach too (a step finished but not yet resumed, in its browser's cookie): marked in the save
  // itself, its time taken now, after the password's hashing (review R44). An owed clean-up finished later
  // keeps the mark of the save that owed it: the sign-ins since are the owner's.
  if (endsSignIns)
    proven.signInsEnded = { at: new Date(deps.clock.now()).toISOString(), version: account.version + 1 };
  // The proven phone first recorded on an account already at level 3 (proven in person), without a
  // takeover: whoever holds that phone now resets the password, so it is traced too (masked, never the
  // number). Another phone can no longer replace a proven one here (above): that is done at a counter.
  const phoneChanged = !tookOver && assuranceLevelOf(account) === 3 && account.provenPhone !== provenPhone;
  const raised = !tookOver && assuranceLevelOf(account) < 3 && assuranceLevelOf(proven) === 3;
  const entries = proofEntries(
    account.id,
    subject.purpose,
    {
      tookOver,
      raised,
      reset,
      ...(phoneChanged && { phoneMasked: maskPhone(subject.phone as PhoneNumber) }),
    },
    deps,
  );
  // A notice phone replaced (a takeover with another phone, a first proven phone other than the
  // registration's): the change's pointer carries both, sealed, and its notice goes to the replaced one too
  // (shared/identity/security-notices.ts; the sender texts it only if the two numbers differ).
  const noticePhones =
    account.noticePhone !== undefined &&
    proven.noticePhone !== undefined &&
    proven.noticePhone !== account.noticePhone
      ? { previous: account.noticePhone, next: proven.noticePhone }
      : undefined;
  // A new password ends every other sign-in too: whoever knew the old one is out.
  const how = {
    allPasskeys: tookOver,
    passkeysBefore,
    signIns: cleanup.signIns,
    keepSession: options.keepSession,
  };
  // The clean-up a takeover or a reset owes runs once its entries are written, and the pointer its save
  // put stays until it is done: a clean-up that fails (or a process gone before it) is found there by the
  // reconciler, which finishes it with no other proof (shared/identity/owed-cleanup.ts).
  // A reset's clean-up that fails after its save (a consent's withdrawal, say) leaves the new password in
  // force: the proof is answered as done, the account still marked (`proofCleanup`), the clean-up the
  // reconciler's (its pointer released), so that the person is told their password changed, not shown an
  // error (review R62). A step-up's failure is still thrown.
  let cleaned: PersonAccount | undefined;
  const cleanUp = async (saved: PersonAccount): Promise<PersonAccount> => {
    if (!reset) return finishProofCleanup(saved, how, deps);
    try {
      return await finishProofCleanup(saved, how, deps);
    } catch (error) {
      logger.warn('password reset saved, its clean-up failed: owed to the reconciler', {
        accountId: saved.id,
        error: String(error),
      });
      return saved;
    }
  };
  const finishOwed = async (saved: PersonAccount) => {
    cleaned = await cleanUp(saved);
    return cleaned.proofCleanup === undefined;
  };
  // The account and the entries of what changed hands with it, one write (or none: then a retry with a
  // new code does it all again); the entries are written at once, or by the reconciler.
  const saved =
    entries.length > 0
      ? await saveWithTrace(
          `${phoneProofAuditPrefix}${account.id}#${account.version + 1}`,
          entries as [AuditEntry, ...AuditEntry[]],
          (trace) => deps.accounts.save(proven, trace),
          { ...deps, pendingAudit: deps.providerAudit },
          { ...(noticePhones && { noticePhones }), ...(cleanup.signIns && { owed: finishOwed }) },
        )
      : await deps.accounts.save(proven);
  const done = cleaned ?? (await cleanUp(saved));
  logger.info('level 3 proven by sms', { accountId: account.id, purpose: subject.purpose, tookOver });
  return { ok: true, account: done, tookOver };
}

/** The registry's record of the account's person, asked by the ID number (the HTTP registries need it). */
async function registryPerson(
  account: PersonAccount,
  deps: Pick<PhoneProofDependencies, 'registry' | 'pii'>,
): Promise<RegisteredPerson | undefined> {
  return deps.registry.findPerson(account.lookupKey, await personIdNumber(account, deps));
}

/**
 * The audit entries of a proof that changed who controls the account or its level: the real owner taking
 * it over (`account.taken_over`, `reason` the purpose), its holder raising it to level 3 (`account.raised`),
 * a password replaced (`account.password_reset`) and the first proven phone of an account already at level
 * 3 (proven in person) recorded (`account.phone_changed`, `reason` the purpose and the phone masked,
 * `139****5678`); none for a proof that changed none of these. The actor is the account; no phone in clear
 * nor ID number goes in (they are saved as pending work with the account's write, and nothing there may
 * hold either).
 */
function proofEntries(
  accountId: string,
  purpose: SmsCodeSubject['purpose'],
  what: { tookOver: boolean; raised: boolean; reset: boolean; phoneMasked?: string },
  deps: Pick<PhoneProofDependencies, 'clock'>,
): AuditEntry[] {
  const at = new Date(deps.clock.now()).toISOString();
  return [
    ...(what.tookOver ? [{ at, actor: accountId, action: 'account.taken_over', reason: purpose }] : []),
    ...(what.raised ? [{ at, actor: accountId, action: 'account.raised', reason: purpose }] : []),
    ...(what.reset ? [{ at, actor: accountId, action: 'account.password_reset', reason: purpose }] : []),
    ...(what.phoneMasked
      ? [
          {
            at,
            actor: accountId,
            action: 'account.phone_changed',
            reason: `${purpose}, proven phone ${what.phoneMasked}`,
          },
        ]
      : []),
  ];
}
