import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import { epochSeconds, type Clock } from '../clock.js';
import { counterClerkDailyCaps } from '../config.js';
import type { Mac } from '../crypto/mac.js';
import {
  fieldErrorAt,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  TooManyRequestsError,
  type FieldError,
} from '../errors.js';
import { maskIdNumber, parseIdNumber, type IdNumber } from '../identifiers/id-number.js';
import { personLookupKey } from '../identifiers/lookup-key.js';
import { maskPhone, phoneNumber, type PhoneNumber } from '../identifiers/phone.js';
import { alarmedLines, logger } from '../logger.js';
import {
  inPersonProofAuditPrefix,
  saveWithTrace,
  type PendingWorkIndex,
} from '../pending-work/pending-work.js';
import type { AccountStore } from './account-store.js';
import { acrOf, assuranceLevelOf } from './assurance.js';
import { requirePasswordAgain } from './fresh-sign-in.js';
import { LoginThrottle, type Admission, type LoginAttemptStore, type ThrottleKey } from './login-throttle.js';
import type { PasskeyStore } from './passkeys.js';
import { sealNoticePhone } from './security-notices.js';
import { requestPhoneProof, type SmsRequestDependencies } from './phone-proof.js';
import { finishProofCleanup } from './proof-cleanup.js';
import type { PasswordHasher } from './password-hasher.js';
import { comparableName, type PersonAccount } from './person-account.js';
import type { CarrierRegistry, PopulationRegistry, RegisteredPerson } from './registry.js';
import type { PlatformConsents, SignInRevocation } from './sign-in-revocation.js';
import type { SmsCodeStore } from './sms-code-store.js';
import { checkSmsCode, normalisePhone, phoneDigest } from './sms-codes.js';

/**
 * A person proven at a service counter (当面核验) by an appointed clerk of an issuing agency, in the issuer
 * console (docs/console.md, "At the counter"; review R28 M2): the clerk compares the person with their
 * resident ID card, types its number and name (checked against the population registry, as registration
 * does), sees the account masked, and proves it: level 3 in person (`in-person-verified`), and, as the
 * person asks, a new proven phone (theirs, confirmed by the carrier registry for their number and name) or
 * none. The proven phone is the one that alone resets the password or steps up again
 * (`identity/phone-proof.ts`), so this is where a person who lost theirs gets a new one.
 *
 * Whoever holds the account's password need not be the person at the counter (a squatter may have
 * registered their number), so the counter binds the account to the person in one of two ways:
 *
 * - the person types the account's password at the counter (`password`): they hold it; nothing else ends;
 * - or they do not (forgotten, or never theirs): then a new proven phone is required, and the account is
 *   taken back for them, as a reset by the real owner's phone does: the password replaced by one nobody
 *   knows, every sign-in ended, every passkey removed, every platform's consent withdrawn (each told). The
 *   person then sets a password with 找回密码 and a code to the new phone.
 *
 * The clerk's appointment must list {@link counterProofScope} (besides `licences:issue`, which signs
 * them in to the console): raising anyone to level 3 and choosing their reset phone is more than issuing
 * licences. Every change is audited with the clerk's reference (`account.proven`,
 * `account.proven_phone_set`, `account.proven_phone_cleared`, `account.taken_over`, reason `in-person`),
 * saved with the account's write ({@link saveWithTrace}); the ID number never goes in, only its mask.
 *
 * A clerk's day is capped ({@link counterClerkDailyCaps}: accounts found, proofs saved, per China-time
 * day): past it, `429 counter_daily_cap` until the next day, audited, and logged for the on-call's alarm
 * ({@link counterClerkCapLine}; review R30 L1).
 */
export const counterProofScope = 'accounts:prove-in-person' as const;

/** `POST /counter/accounts/lookup`: the person's ID number and name, as on their ID card. */
export const counterLookupInput = z.strictObject({
  idNumber: z.string().max(64),
  name: z.string().min(1).max(100),
});

/** `POST /counter/accounts/prove`: the lookup's fields, what to do with the proven phone, the password. */
export const counterProofInput = counterLookupInput.extend({
  /** The clerk compared the person with their resident ID card: must be `true`. */
  checkedIdCard: z.literal(true, { error: 'must be true: compare the person with their resident ID card' }),
  provenPhone: z.enum(['keep', 'set', 'clear']).default('keep'),
  /** For `provenPhone: set`: the person's own mobile number, E.164. */
  phone: z.string().max(64).optional(),
  /** Typed by the person at the counter, when they know it: they hold the account, nothing else ends. */
  password: z.string().max(1024).optional(),
  /**
   * For `provenPhone: set`: the code texted to the new phone by this same call without it (202): the
   * person holds the phone (review R30 H1). Without it, nothing is saved.
   */
  code: z.string().max(16).optional(),
});
export type CounterProofInput = z.output<typeof counterProofInput>;

/** What the clerk sees of the account: masked, never the number. */
export const counterAccountSchema = z
  .object({
    masked: z.string().meta({ description: 'The masked ID number' }),
    name: z.string(),
    assurance: z.enum(['self-asserted', 'registry-verified', 'in-person-verified', 'possession-verified']),
    acr: z.string(),
    phoneProven: z.boolean(),
    provenPhoneMasked: z.string().optional(),
  })
  .meta({ title: 'CounterAccount' });
export type CounterAccount = z.output<typeof counterAccountSchema>;

/** What a counter proof did. */
export const counterProofSchema = z
  .object({
    account: counterAccountSchema,
    provenPhone: z.enum(['kept', 'set', 'cleared']),
    phoneConfirmedBy: z.enum(['carrier']).optional().meta({
      description:
        'For a phone set: confirmed by the carrier registry for the person’s number and name (三要素), and held by them (the code texted to it typed back)',
    }),
    tookOver: z
      .boolean()
      .meta({ description: 'The password was not typed: every sign-in, passkey and consent was ended' }),
  })
  .meta({ title: 'CounterProof' });
export type CounterProof = z.output<typeof counterProofSchema>;

/** `202`: a code went (or goes, if the carrier confirms the phone) to the new phone; nothing saved yet. */
export const counterCodeSentSchema = z
  .object({
    codeSent: z.literal(true),
    phoneMasked: z.string().meta({ description: 'The new phone, masked: the code is texted to it' }),
  })
  .meta({ title: 'CounterCodeSent' });
export type CounterCodeSent = z.output<typeof counterCodeSentSchema>;

export interface CounterProofDependencies {
  accounts: AccountStore;
  registry: PopulationRegistry;
  carrier: CarrierRegistry;
  lookupMac: Mac;
  passwords: PasswordHasher;
  /** The login throttle's counters: the password typed again, and the clerk's registry checks. */
  loginAttempts: LoginAttemptStore;
  signIns: SignInRevocation;
  platformConsents: PlatformConsents;
  passkeys: PasskeyStore;
  audit: AuditTrail;
  /** The accounts function's pending work: the proof is saved with its audit entries there. */
  accountAudit: PendingWorkIndex;
  /** The codes to the new phone (purpose `counter`): checked here, texted by the `sms-codes` function. */
  smsCodes: SmsCodeStore;
  smsJobs: SmsRequestDependencies['smsJobs'];
  smsJobSealer: SmsRequestDependencies['smsJobSealer'];
  clock: Clock;
}

/** Who acts: the console's client and the clerk's reference (`issuer-actor.ts`). */
export interface CounterClerk {
  actor: string;
  clerk: string | undefined;
  /**
   * The clerk's agency: its counter's lookups and proofs are in the person's usage record under its name
   * (never the clerk's: review R45 F2).
   */
  issuerId?: string;
  requestId?: string;
  /** The clerk's address, for the password's per-(account, address) counter. */
  source?: string;
}

/**
 * The clerk's own counter (`appointmentThrottle`, `login-attempts#appointment#counter-clerk.<reference>`):
 * each lookup or proof that the registry or the password refuses counts on it, so that a clerk testing
 * names against ID numbers, or guessing a password, is slowed whatever the person (review R30 H2, M1).
 */
function clerkThrottleKey(clerk: CounterClerk): ThrottleKey {
  return { kind: 'appointment', key: `counter-clerk.${clerk.clerk ?? clerk.actor}` };
}

/**
 * Counts one try on the clerk's counter ({@link clerkThrottleKey}), or refuses with 429 saying `what`
 * was tried too often; the caller gives the count back with `throttle.succeeded` once the try succeeds.
 */
async function admitClerk(
  clerk: CounterClerk,
  what: string,
  deps: Pick<CounterProofDependencies, 'loginAttempts' | 'clock'>,
): Promise<{ throttle: LoginThrottle; admission: Extract<Admission, { admitted: true }> }> {
  const throttle = new LoginThrottle(deps.loginAttempts, deps.clock);
  const admission = await throttle.admit([clerkThrottleKey(clerk)]);
  if (!admission.admitted) {
    throw new TooManyRequestsError(
      `Too many ${what}; try again in ${admission.retryAfterSeconds} seconds`,
      admission.retryAfterSeconds,
    );
  }
  return { throttle, admission };
}

/**
 * The line logged at a clerk's daily cap ({@link admitDay}): `outcome: 'filled'` from the success that
 * fills it, `'refused'` from each call refused past it, with the clerk's reference, what was capped and
 * the cap (never the person). The stack's `Operations/CounterClerkCapAlarm` counts both in the `accounts`
 * function's log group and pages the on-call (infra/constructs/operations-alarms.ts, docs/operating.md
 * "Alarms"): a clerk who filled the day and stopped there is seen too.
 */
export const counterClerkCapLine = 'counter clerk daily cap reached';

/** What a clerk's day counts ({@link counterClerkDailyCaps}): accounts found, proofs saved. */
type CountedAtCounter = keyof typeof counterClerkDailyCaps;

/** China time (Asia/Shanghai, UTC+8 all year): its days start at 16:00 UTC. */
const chinaOffsetSeconds = 8 * 3600;

/** The China-time day of `now` (`YYYY-MM-DD`) and when the next one starts (epoch seconds). */
function chinaDay(now: number): { day: string; nextDayAt: number } {
  const start = Math.floor((now + chinaOffsetSeconds) / 86_400) * 86_400;
  return {
    day: new Date(start * 1000).toISOString().slice(0, 10),
    nextDayAt: start + 86_400 - chinaOffsetSeconds,
  };
}

/**
 * The clerk's counter of a China-time day (`login-attempts#counter-day#<lookups|proofs>#<reference>#<day>`,
 * kept two days): what they did at the counter that day, one added per success ({@link countDay}).
 */
function dayKey(clerk: CounterClerk, what: CountedAtCounter, day: string): string {
  return `counter-day#${what}#${clerk.clerk ?? clerk.actor}#${day}`;
}

/**
 * Refuses a clerk who reached today's cap of `what` ({@link counterClerkDailyCaps}): audited with the
 * masked number (`account.lookup_refused` or `account.proof_refused`, `in-person:daily_cap`), logged
 * ({@link counterClerkCapLine}, which pages), then `429 counter_daily_cap` with `Retry-After` the next
 * China-time day's start. One read; the successes are counted after the fact ({@link countDay}), so
 * parallel calls at the cap's edge may pass it by as many (a clerk's console makes one at a time).
 */
async function admitDay(
  clerk: CounterClerk,
  what: CountedAtCounter,
  holder: { masked: string; lookupKey: string },
  deps: Pick<CounterProofDependencies, 'loginAttempts' | 'clock' | 'audit'>,
): Promise<number> {
  const now = epochSeconds(deps.clock);
  const { day, nextDayAt } = chinaDay(now);
  const cap = counterClerkDailyCaps[what];
  const counted = (await deps.loginAttempts.read(dayKey(clerk, what, day), now))?.failures ?? 0;
  if (counted < cap) return counted;
  const action = what === 'lookups' ? 'account.lookup_refused' : 'account.proof_refused';
  await auditRefusal(clerk, holder, action, 'daily_cap', deps);
  alarmedLines.warn(counterClerkCapLine, {
    clerk: clerk.clerk ?? clerk.actor,
    capped: what,
    cap,
    outcome: 'refused',
  });
  const retryAfterSeconds = Math.max(1, nextDayAt - now);
  throw new TooManyRequestsError(
    what === 'lookups'
      ? `This clerk found ${cap} accounts at the counter today, the most a day allows; try again tomorrow (from 00:00 China time) or ask the agency's head`
      : `This clerk proved ${cap} people at the counter today, the most a day allows; try again tomorrow (from 00:00 China time) or ask the agency's head`,
    retryAfterSeconds,
    'counter_daily_cap',
  );
}

/**
 * Counts one success of `what` on the clerk's day, `seen` the count {@link admitDay} read: one atomic add,
 * whatever the count; the success that fills the cap is logged ({@link counterClerkCapLine}, `filled`).
 * Never throws: an add that fails is logged and the success stands.
 */
async function countDay(
  clerk: CounterClerk,
  what: CountedAtCounter,
  seen: number,
  deps: Pick<CounterProofDependencies, 'loginAttempts' | 'clock'>,
): Promise<void> {
  const now = epochSeconds(deps.clock);
  const { day, nextDayAt } = chinaDay(now);
  try {
    await deps.loginAttempts.addFailures(dayKey(clerk, what, day), 1, now, nextDayAt + 86_400);
  } catch (error) {
    // The success stands (the person's account is already changed or found); a clerk's day left one
    // short is the lesser harm. Logged for the on-call, with the clerk's reference and never the person.
    logger.error('counter clerk day not counted', {
      clerk: clerk.clerk ?? clerk.actor,
      counted: what,
      error: error instanceof Error ? error.name : 'unknown',
    });
    return;
  }
  const cap = counterClerkDailyCaps[what];
  if (seen + 1 === cap) {
    alarmedLines.warn(counterClerkCapLine, {
      clerk: clerk.clerk ?? clerk.actor,
      capped: what,
      cap,
      outcome: 'filled',
    });
  }
}

/**
 * Who looked at or proved whom: the clerk's reference and agency, the masked ID number and the person's
 * lookup key (`holderKey`, committed with a salt of its own as every entry's holder is), so that the entry
 * is in the person's usage record (`counter_lookup`, `counter_proof`, shown at level 3) and a supervisor
 * answering "who looked me up?" can pick it out (review R45 F2).
 */
function tracedAtCounter(clerk: CounterClerk, holder: { masked: string; lookupKey: string }) {
  return {
    actor: clerk.actor,
    ...(clerk.clerk ? { clerk: clerk.clerk } : {}),
    ...(clerk.issuerId ? { issuerId: clerk.issuerId } : {}),
    holderMasked: holder.masked,
    holderKey: holder.lookupKey,
  };
}

/** What a refusal leaves in the audit trail: {@link tracedAtCounter}, no more. */
async function auditRefusal(
  clerk: CounterClerk,
  holder: { masked: string; lookupKey: string },
  action: 'account.lookup_refused' | 'account.proof_refused',
  refused: string,
  deps: Pick<CounterProofDependencies, 'audit' | 'clock'>,
): Promise<void> {
  await deps.audit.record({
    at: new Date(deps.clock.now()).toISOString(),
    ...tracedAtCounter(clerk, holder),
    action,
    reason: `in-person:${refused}`,
    ...(clerk.requestId ? { requestId: clerk.requestId } : {}),
  });
}

/**
 * The account the ID number names, its person checked against the population registry by the name.
 *
 * @example
 * ```ts
 * const view = await counterLookup({ idNumber, name }, clerk, deps); // { masked: '110105********002X', … }
 * ```
 */
export async function counterLookup(
  input: z.output<typeof counterLookupInput>,
  clerk: CounterClerk,
  deps: Pick<
    CounterProofDependencies,
    'accounts' | 'registry' | 'lookupMac' | 'clock' | 'audit' | 'loginAttempts'
  >,
): Promise<CounterAccount> {
  const { account, seenToday } = await checkedAccount(input, clerk, 'lookups', deps);
  // A look at someone's account (whether it exists, its level, its proven phone masked) is traced to the
  // clerk as well, so that looking people up at the counter without them leaves a trace.
  await deps.audit.record({
    at: new Date(deps.clock.now()).toISOString(),
    ...tracedAtCounter(clerk, account),
    action: 'account.looked_up',
    reason: 'in-person',
    ...(clerk.requestId ? { requestId: clerk.requestId } : {}),
  });
  await countDay(clerk, 'lookups', seenToday, deps);
  return counterView(account);
}

/**
 * Proves the person in person, and keeps, sets or clears the proven phone (see the module's comment).
 *
 * @example
 * ```ts
 * await proveAtCounter({ idNumber, name, checkedIdCard: true, provenPhone: 'set', phone, password }, clerk, deps);
 * ```
 */
export async function proveAtCounter(
  input: CounterProofInput,
  clerk: CounterClerk,
  deps: CounterProofDependencies,
): Promise<CounterProof | CounterCodeSent> {
  const { account, idNumber, lookupKey, registered, seenToday } = await checkedAccount(
    input,
    clerk,
    'proofs',
    deps,
  );
  const holds = input.password !== undefined && input.password !== '';
  // The password first, under the sign-in's counters and the clerk's: what the carrier says of a phone is
  // told only to whoever holds the account or takes it back (review R30 H2: it was an oracle before).
  if (holds) await passwordTypedAgain(account, input.password!, clerk, deps);
  const phone = await newProvenPhone(input, { lookupKey, idNumber, registered }, deps).catch(
    async (error: unknown) => {
      if (error instanceof InvalidInputError && error.code === 'phone_not_confirmed') {
        await auditRefusal(clerk, account, 'account.proof_refused', 'phone_not_confirmed', deps);
      }
      throw error;
    },
  );
  if (!holds && !phone) {
    throw new InvalidInputError(
      'Without the account’s password, set a new proven phone: the person resets the password with it',
      'password_or_new_phone_required',
      {
        errors: [
          { path: 'password', message: 'is required unless a new proven phone is set', code: 'required' },
          { path: 'provenPhone', message: 'must be set when the password is not typed', code: 'invalid' },
        ],
      },
    );
  }
  // A new proven phone is the person's only if they hold it: a code texted to it, typed back (review R30
  // H1). Without a code, one is sent (the `sms-codes` function texts it, the carrier asked again) and
  // nothing is saved; with one, it is checked (5 tries, 5 minutes, once) before anything is.
  if (phone) {
    const subject = { purpose: 'counter' as const, lookupKey, phone: phone.phone };
    if (input.code === undefined || input.code.trim() === '') {
      const sent = await requestPhoneProof(subject, clerk.source ?? 'counter', deps, idNumber);
      if (sent.status === 'throttled') {
        throw new TooManyRequestsError(
          `A code went to this phone just now; try again in ${sent.retryAfterSeconds} seconds`,
          sent.retryAfterSeconds,
        );
      }
      return { codeSent: true, phoneMasked: phone.masked };
    }
    const checked = await checkSmsCode(subject, input.code.trim(), deps);
    if (!checked.ok && checked.reason === 'throttled') {
      throw new TooManyRequestsError('Too many wrong codes today', checked.retryAfterSeconds);
    }
    if (!checked.ok) {
      await auditRefusal(clerk, account, 'account.proof_refused', 'code_wrong_or_expired', deps);
      throw invalid([
        {
          path: 'code',
          message: 'is wrong or has expired: send a new one',
          code: 'code_wrong_or_expired',
        },
      ]);
    }
  }
  const tookOver = !holds;
  const at = new Date(deps.clock.now()).toISOString();
  const by = {
    at,
    ...tracedAtCounter(clerk, account),
    reason: 'in-person',
    ...(clerk.requestId ? { requestId: clerk.requestId } : {}),
  };
  const entries: AuditEntry[] = [
    ...(account.assurance !== 'in-person-verified' ? [{ ...by, action: 'account.proven' }] : []),
    ...(phone ? [{ ...by, action: 'account.proven_phone_set' }] : []),
    ...(input.provenPhone === 'clear' && account.provenPhone
      ? [{ ...by, action: 'account.proven_phone_cleared' }]
      : []),
    ...(tookOver ? [{ ...by, action: 'account.taken_over' }] : []),
  ];
  // What ends after the save is owed from that save on, saved with it (`proofCleanup`, as a phone's
  // takeover does: `phone-proof.ts`): a takeover that fails after the save is finished by the account's next
  // proof (review R30 M2). One owed from before is finished here too, as a phone's proof would.
  const owed = account.proofCleanup;
  const passkeysBefore = tookOver ? at : owed?.passkeysBefore;
  const endsSignIns = tookOver || owed !== undefined;
  const { provenPhone: _digest, provenPhoneMasked: _mask, noticePhone: _notice, ...rest } = account;
  const proven: PersonAccount = {
    ...(input.provenPhone === 'clear' ? rest : account),
    // The registry's person, as the card showed them: their name, whatever the account was registered under.
    name: registered.name,
    assurance: 'in-person-verified',
    ...(phone
      ? {
          provenPhone: phone.digest,
          provenPhoneMasked: phone.masked,
          // Security notices go to the new phone from now on; the one it replaces is told of this change
          // (below), then hears no more.
          noticePhone: await sealNoticePhone(account.id, phone.phone, deps.smsJobSealer),
        }
      : {}),
    // Nobody knows this one: the person sets theirs with 找回密码 and a code to the new phone.
    ...(tookOver ? { passwordHash: await deps.passwords.hash(randomBytes(32).toString('base64url')) } : {}),
    ...(endsSignIns ? { proofCleanup: passkeysBefore === undefined ? {} : { passkeysBefore } } : {}),
    // The squatter's sign-ins end with this save, those not yet resumed too (review R44, phone-proof.ts).
    ...(tookOver
      ? { signInsEnded: { at: new Date(deps.clock.now()).toISOString(), version: account.version + 1 } }
      : {}),
  };
  const outcome = {
    provenPhone: phone
      ? ('set' as const)
      : input.provenPhone === 'clear'
        ? ('cleared' as const)
        : ('kept' as const),
    ...(phone ? { phoneConfirmedBy: 'carrier' as const } : {}),
    tookOver,
  };
  // A proof that changes nothing is still a proof at the counter: traced like the first (review R30 H2).
  if (entries.length === 0) entries.push({ ...by, action: 'account.proven' });
  // What others opened (the platforms' consents, the passkeys, the sign-ins) ends after the save
  // (`finishProofCleanup`), never before: a save refused by a concurrent change (409 `account_changed`)
  // leaves the account and its consents as they were (review R30 L3); a clean-up that fails after it is
  // owed by the mark, and finished by the account's next proof.
  // The clean-up runs once the entries are written, the pointer the save put kept until it is done: one
  // that fails is found there and finished by the reconciler (shared/identity/owed-cleanup.ts).
  const how = { allPasskeys: false, passkeysBefore, signIns: endsSignIns };
  let cleaned: PersonAccount | undefined;
  const finishOwed = async (saved: PersonAccount) => {
    cleaned = await finishProofCleanup(saved, how, deps);
    return cleaned.proofCleanup === undefined;
  };
  let done: PersonAccount;
  let accountSaved = false;
  try {
    const saved = await saveWithTrace(
      `${inPersonProofAuditPrefix}${account.id}#${account.version + 1}`,
      entries as [AuditEntry, ...AuditEntry[]],
      async (trace) => {
        const written = await deps.accounts.save(proven, trace);
        accountSaved = true;
        return written;
      },
      { ...deps, pendingAudit: deps.accountAudit },
      {
        // A new phone set: the one it replaces is told too (the pointer carries both, sealed as the
        // account held them: shared/identity/security-notices.ts), unless it is the same number.
        ...(phone &&
          account.noticePhone !== undefined &&
          proven.noticePhone !== undefined && {
            noticePhones: { previous: account.noticePhone, next: proven.noticePhone },
          }),
        ...(endsSignIns && { owed: finishOwed }),
      },
    );
    done = cleaned ?? (await finishProofCleanup(saved, how, deps));
  } finally {
    // Counted once the account's clean-up ran (or is owed), never between the save and it: the count is
    // a limit, not the account's state, and a count that cannot be written must not leave a takeover
    // half done (review R33 M1). A save refused (409) counts nothing.
    if (accountSaved) await countDay(clerk, 'proofs', seenToday, deps);
  }
  logger.info('account proven at a counter', {
    accountId: account.id,
    provenPhone: outcome.provenPhone,
    tookOver,
  });
  return { account: counterView(done), ...outcome };
}

function counterView(account: PersonAccount): CounterAccount {
  return {
    masked: account.masked,
    name: account.name,
    assurance: account.assurance,
    acr: acrOf(assuranceLevelOf(account)),
    phoneProven: account.provenPhone !== undefined,
    ...(account.provenPhone && account.provenPhoneMasked
      ? { provenPhoneMasked: account.provenPhoneMasked }
      : {}),
  };
}

/**
 * The ID number (GB 11643) and name checked, the registry's person and the account; refused first when
 * the clerk reached today's cap of `what` ({@link admitDay}).
 */
async function checkedAccount(
  input: z.output<typeof counterLookupInput>,
  clerk: CounterClerk,
  what: CountedAtCounter,
  deps: Pick<
    CounterProofDependencies,
    'accounts' | 'registry' | 'lookupMac' | 'clock' | 'audit' | 'loginAttempts'
  >,
): Promise<{
  account: PersonAccount;
  idNumber: IdNumber;
  lookupKey: string;
  registered: RegisteredPerson;
  /** What the clerk's day counted of `what` before this call ({@link admitDay}). */
  seenToday: number;
}> {
  let idNumber: IdNumber;
  try {
    idNumber = parseIdNumber(input.idNumber, new Date(deps.clock.now()));
  } catch (error) {
    throw invalid([fieldErrorAt('idNumber', error as Error)]);
  }
  // The person's key first: every entry about them carries it, the cap's refusal too (review R45 F2).
  const lookupKey = await personLookupKey(deps.lookupMac, idNumber);
  const holder = { masked: maskIdNumber(idNumber), lookupKey };
  const seenToday = await admitDay(clerk, what, holder, deps);
  // Each answer says whether a name goes with a number, and whether the number has an account: counted
  // on the clerk's counter before the registry is asked, as an agent's appointment is (`entities.ts`),
  // given back when the account is found; a refusal is audited (review R30 M1).
  const { throttle, admission } = await admitClerk(clerk, 'people looked up without a match', deps);
  const registered = await deps.registry.findPerson(lookupKey, idNumber);
  if (!registered || comparableName(registered.name) !== comparableName(input.name)) {
    await auditRefusal(clerk, holder, 'account.lookup_refused', 'registry_mismatch', deps);
    throw new InvalidInputError(
      'The name does not match the population registry for this ID number',
      'registry_mismatch',
      {
        errors: [
          { path: 'name', message: 'does not match the population registry', code: 'registry_mismatch' },
        ],
      },
    );
  }
  const account = await deps.accounts.findByLookupKey(lookupKey);
  if (!account) {
    await auditRefusal(clerk, holder, 'account.lookup_refused', 'account_not_found', deps);
    throw new NotFoundError('No account has this ID number: the person registers first', 'account_not_found');
  }
  await throttle.succeeded(admission.keys, admission.counted);
  return { account, idNumber, lookupKey, registered, seenToday };
}

/**
 * The account's password typed by the person at the counter, checked by {@link requirePasswordAgain}
 * (the sign-in's counters per account and per account and address) and counted on the clerk's counter
 * too; a wrong one is audited, then 403 `wrong_password` naming the field.
 */
async function passwordTypedAgain(
  account: PersonAccount,
  password: string,
  clerk: CounterClerk,
  deps: Pick<CounterProofDependencies, 'passwords' | 'loginAttempts' | 'lookupMac' | 'clock' | 'audit'>,
): Promise<void> {
  const { throttle, admission } = await admitClerk(clerk, 'wrong passwords at this counter', deps);
  try {
    await requirePasswordAgain(
      account,
      { password, source: clerk.source ?? 'counter' },
      deps,
      'nothing was proven',
    );
  } catch (error) {
    if (error instanceof ForbiddenError && error.code === 'wrong_password') {
      await auditRefusal(clerk, account, 'account.proof_refused', 'wrong_password', deps);
      throw new ForbiddenError('The password typed is not the account’s', 'wrong_password', {
        errors: [{ path: 'password', message: 'is not the account’s password', code: 'invalid' }],
      });
    }
    throw error;
  }
  await throttle.succeeded(admission.keys, admission.counted);
}

/** The new proven phone of a `set`, checked: the person's own by the carrier registry (三要素). */
async function newProvenPhone(
  input: CounterProofInput,
  person: { lookupKey: string; idNumber: IdNumber; registered: RegisteredPerson },
  deps: Pick<CounterProofDependencies, 'carrier' | 'lookupMac'>,
): Promise<{ digest: string; masked: string; phone: PhoneNumber } | undefined> {
  if (input.provenPhone !== 'set') return undefined;
  // As the clerk types it: eleven digits, or with +86; kept as +86… (review R62-3).
  const parsed = phoneNumber.safeParse(normalisePhone(input.phone ?? '') ?? input.phone ?? '');
  if (!parsed.success) {
    throw invalid([
      {
        path: 'phone',
        message:
          input.phone === undefined || input.phone === ''
            ? 'is required to set a new proven phone'
            : 'must be an 11-digit mainland mobile number, such as 13912345678',
        code: input.phone === undefined || input.phone === '' ? 'phone_required' : 'invalid',
      },
    ]);
  }
  const phone: PhoneNumber = parsed.data;
  const confirmed = await deps.carrier.confirms({
    lookupKey: person.lookupKey,
    name: person.registered.name,
    phone,
    idNumber: person.idNumber,
  });
  if (!confirmed) {
    throw new InvalidInputError(
      'The carrier registry does not confirm this mobile number for the person',
      'phone_not_confirmed',
      {
        errors: [
          {
            path: 'phone',
            message: 'is not registered to this person with its carrier',
            code: 'invalid',
          },
        ],
      },
    );
  }
  return { digest: await phoneDigest(deps.lookupMac, phone), masked: maskPhone(phone), phone };
}

function invalid(errors: FieldError[]): InvalidInputError {
  return new InvalidInputError('The request is not valid: see errors', 'invalid_request', { errors });
}
