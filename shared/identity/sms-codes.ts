import { randomInt } from 'node:crypto';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { epochSeconds, type Clock } from '../clock.js';
import type { Mac } from '../crypto/mac.js';
import { alarmedLines, logger } from '../logger.js';
import { sourceDigest, type LoginAttemptStore } from './login-throttle.js';
import type { SmsCodeStore } from './sms-code-store.js';
import type { SmsMessage, SmsSender } from './sms-sender.js';

/**
 * How SMS codes behave: a code lives 5 minutes and takes at most 5 tries; a phone number gets at most one
 * code a minute and 10 a day; a source address 200 a day whatever the phones, with no interval between
 * them (a service hall or a carrier NAT puts many people behind one address, each phone still limited).
 */
export const smsCodePolicy = {
  ttlSeconds: 300,
  maxTries: 5,
  phoneIntervalSeconds: 60,
  phoneDailyCap: 10,
  sourceIntervalSeconds: 0,
  sourceDailyCap: 200,
  /**
   * Checks a day per purpose, person and phone (`throttled` past it), and wrong guesses at live codes a
   * UTC day per purpose and person (past it the sender texts the person no new code for that purpose, on
   * any phone): a new code gives new tries, so without it each resend (10 a day per phone) would give 5
   * more guesses. A person with several confirmed phones still gets no more than about this many guesses a
   * day per purpose, plus the tries left on the codes already out when it was reached (at most 5 a phone).
   */
  personDailyFailureCap: 20,
  /**
   * The whole send, the provider's retries included, in ms: past it the code counts as not sent (logged
   * `sms not sent`, the job done) though the text may still arrive, with a code never stored. The send runs
   * after the answer, in the `sms-codes` function (15 s): this deadline only has to leave that function
   * time to store the code, after the registry's and the carrier's 3 s each and the job's reads. 8 s does
   * (3 + 3 + 8, and a second for KMS and DynamoDB), so a slow provider (SNS's retries, a template
   * provider's 3 s attempts) still has its code stored.
   */
  sendDeadlineMs: 8_000,
} as const;

/**
 * What a code proves possession for: signing in at level 3, resetting the password, registering with a
 * phone, or a new proven phone set by a clerk at a service counter (`counter-proof.ts`).
 */
export type SmsCodePurpose = 'step-up' | 'reset' | 'register' | 'counter';

export interface SmsCodeDependencies {
  smsCodes: SmsCodeStore;
  /** The login throttle's counters, reused for the send limits (keys `sms-send#…`). */
  loginAttempts: LoginAttemptStore;
  sms: SmsSender;
  lookupMac: Mac;
  clock: Clock;
}

/** What a code is for: a purpose, the person (ID-number lookup key) and the phone it went to. */
export interface SmsCodeSubject {
  purpose: SmsCodePurpose;
  lookupKey: string;
  /** E.164, see {@link normalisePhone}. */
  phone: string;
}

/**
 * A mainland mobile number as typed (`13800138000`, `+86 138 0013 8000`, `0086-138…`) in E.164
 * (`+8613800138000`), or nothing when it is not one.
 */
export function normalisePhone(typed: string): string | undefined {
  const digits = typed
    .normalize('NFKC')
    .trim()
    .slice(0, 32)
    .replace(/[\s()-]/g, '');
  const national = /^(?:\+86|0086|86)?(1[3-9]\d{9})$/.exec(digits)?.[1];
  return national ? `+86${national}` : undefined;
}

/** How many minutes a code lives, as its text says ({@link smsCodePolicy.ttlSeconds}). */
const codeMinutes = smsCodePolicy.ttlSeconds / 60;

/**
 * What a code is for, as its text names it: so that a person who did not ask (someone else resetting their
 * password, signing in as them) sees what the code would do before passing it on (review R28 L4). At most
 * six characters, a template variable's limit.
 */
export const smsCodeActions: Record<SmsCodePurpose, string> = {
  'step-up': '登录验证',
  reset: '重置密码',
  register: '注册账号',
  counter: '柜台换绑手机',
};

/**
 * The text of a code, in Chinese, naming the service and what the code is for. A template provider's
 * approved template must read the same (docs/operating.md, "SMS in AWS China regions"): 【电子证照】 is its
 * signature, and the code, the action and the minutes its parameters {1}, {2} and {3}.
 */
export function smsCodeText(code: string, purpose: SmsCodePurpose): string {
  return `【电子证照】您的验证码是 ${code}，用于${smsCodeActions[purpose]}，${codeMinutes} 分钟内有效。请勿告诉他人。`;
}

/**
 * The message carrying a code to `to`: its text (the outbox, SNS) and the same as the `one-time-code`
 * template with its parameters (Tencent Cloud SMS).
 *
 * @example
 * ```ts
 * await sms.send(smsCodeMessage('+8613800138000', '123456', 'reset'));
 * ```
 */
export function smsCodeMessage(to: string, code: string, purpose: SmsCodePurpose): SmsMessage {
  const action = smsCodeActions[purpose];
  return {
    to,
    text: smsCodeText(code, purpose),
    code,
    template: { name: 'one-time-code', params: { code, action, minutes: codeMinutes } },
  };
}

async function macOf(mac: Mac, text: string): Promise<string> {
  return Buffer.from(await mac.mac(new TextEncoder().encode(text))).toString('base64url');
}

/** A keyed digest of a phone number: how an account records the phone that proved it, never in clear. */
export function phoneDigest(mac: Mac, phone: string): Promise<string> {
  return macOf(mac, `elicence/phone\0${phone}`);
}

function codeKey(mac: Mac, subject: SmsCodeSubject): Promise<string> {
  return macOf(mac, `elicence/sms-code\0${subject.purpose}\0${subject.lookupKey}\0${subject.phone}`);
}

function codeMacOf(mac: Mac, key: string, code: string): Promise<string> {
  return macOf(mac, `elicence/sms-code/value\0${key}\0${code}`);
}

/**
 * Which of the send limits a refused send ran into: `daily`, a day's cap (the phone's or the source's,
 * which no wait of seconds and no other number frees), or `interval`, the wait between two codes to one
 * phone (and any refusal not a cap's: a claim lost to a parallel send). The page counts down only an
 * interval and says a cap in words, whatever its wait: in a cap's last minute the wait is as short as an
 * interval's, so its length tells nothing.
 */
export type SendLimit = 'interval' | 'daily';

/**
 * Whether a send may go out; a refusal says how long to wait and which limit refused it, as
 * {@link admitSend} found it (the caller reads no counter again to tell the page).
 */
export type SendAdmission =
  { admitted: true } | { admitted: false; retryAfterSeconds: number; limit: SendLimit };

/** The send limits of a phone and a source: each counter's key, its interval and its daily cap. */
async function sendLimits(
  input: { phone: string; source: string },
  deps: Pick<SmsCodeDependencies, 'lookupMac'>,
): Promise<Array<{ key: string; interval: number; cap: number }>> {
  const phone = await phoneDigest(deps.lookupMac, input.phone);
  const source = await sourceDigest(deps.lookupMac, input.source);
  return [
    {
      key: `sms-send#phone#${phone}`,
      interval: smsCodePolicy.phoneIntervalSeconds,
      cap: smsCodePolicy.phoneDailyCap,
    },
    {
      key: `sms-send#source#${source}`,
      interval: smsCodePolicy.sourceIntervalSeconds,
      cap: smsCodePolicy.sourceDailyCap,
    },
  ];
}

/** The daily counters of `limits` as they stand, and the wait of each one full (a day from its first send). */
async function dailyCounts(
  limits: ReadonlyArray<{ key: string; cap: number }>,
  deps: Pick<SmsCodeDependencies, 'loginAttempts'>,
  now: number,
) {
  const daily = await Promise.all(limits.map((limit) => deps.loginAttempts.read(`${limit.key}#day`, now)));
  const waits = daily.flatMap((counter, i) =>
    counter && counter.failures >= limits[i]!.cap ? [counter.lastFailureAt + 86_400 - now] : [],
  );
  return { daily, waits };
}

/**
 * Counts one send on the phone's and the source's limits ({@link smsCodePolicy}): an interval counter that
 * exists only while the interval runs (claimed by one conditional write, so two parallel sends cannot
 * both pass), and a daily counter. A send refused by one limit counts on none of the daily counters. A
 * refusal names its {@link SendLimit}: `daily` when a day's cap refused it (read before, or filled
 * meanwhile by parallel sends), `interval` otherwise.
 */
export async function admitSend(
  input: { phone: string; source: string },
  deps: Pick<SmsCodeDependencies, 'loginAttempts' | 'lookupMac' | 'clock'>,
): Promise<SendAdmission> {
  const now = epochSeconds(deps.clock);
  const limits = await sendLimits(input, deps);
  const store = deps.loginAttempts;
  // The daily counters first (read only), so that a send refused there claims no interval.
  const { daily, waits } = await dailyCounts(limits, deps, now);
  if (waits.length > 0) return { admitted: false, retryAfterSeconds: Math.max(1, ...waits), limit: 'daily' };
  // The intervals: looked at first (a refused send writes nothing), then each claimed by one
  // conditional write; a claim lost to a parallel send gives back the ones this send made.
  const running = await Promise.all(limits.map((limit) => store.read(`${limit.key}#interval`, now)));
  const intervalWaits = running.flatMap((counter, i) =>
    counter ? [Math.max(1, counter.lastFailureAt + limits[i]!.interval - now)] : [],
  );
  if (intervalWaits.length > 0)
    return { admitted: false, retryAfterSeconds: Math.max(...intervalWaits), limit: 'interval' };
  const claimed: string[] = [];
  for (const limit of limits.filter((limit) => limit.interval > 0)) {
    const key = `${limit.key}#interval`;
    if (
      !(await store.replace(key, undefined, { failures: 1, lastFailureAt: now }, now + limit.interval, now))
    ) {
      await Promise.all(claimed.map((mine) => store.clear(mine)));
      return { admitted: false, retryAfterSeconds: limit.interval, limit: 'interval' };
    }
    claimed.push(key);
  }
  for (const [i, limit] of limits.entries()) {
    // The window of a daily counter starts at its first send (kept as `lastFailureAt`).
    let counted = false;
    // The wait of the day when parallel sends filled it meanwhile.
    let dayFull: number | undefined;
    for (let round = 0; round < 5 && !counted; round++) {
      const counter = round === 0 ? daily[i] : await store.read(`${limit.key}#day`, now);
      if (counter && counter.failures >= limit.cap) {
        dayFull = Math.max(1, counter.lastFailureAt + 86_400 - now);
        break;
      }
      const start = counter?.lastFailureAt ?? now;
      const next = { failures: (counter?.failures ?? 0) + 1, lastFailureAt: start };
      counted = await store.replace(`${limit.key}#day`, counter, next, start + 86_400, now);
    }
    // Fail closed: a send this request could not count (parallel sends kept winning, or they filled the
    // day meanwhile) is not admitted, so a burst from one address cannot slip past its daily cap.
    if (!counted) {
      await Promise.all(claimed.map((mine) => store.clear(mine)));
      return dayFull !== undefined
        ? { admitted: false, retryAfterSeconds: dayFull, limit: 'daily' }
        : { admitted: false, retryAfterSeconds: limit.interval || 60, limit: 'interval' };
    }
  }
  return { admitted: true };
}

/**
 * Gives back the intervals an admitted send claimed ({@link admitSend}), as a send that lost a claim does:
 * for a request that failed after its admission (its job could not be written), so the person may ask
 * again at once. Its daily counts stay: giving those back would let failures be forced to ask for more.
 */
export async function giveBackSend(
  input: { phone: string; source: string },
  deps: Pick<SmsCodeDependencies, 'loginAttempts' | 'lookupMac'>,
): Promise<void> {
  const limits = await sendLimits(input, deps);
  await Promise.all(
    limits
      .filter((limit) => limit.interval > 0)
      .map((limit) => deps.loginAttempts.clear(`${limit.key}#interval`)),
  );
}

/** A new code for a subject, made and hashed but not yet stored or sent. */
export interface PreparedSmsCode {
  subject: SmsCodeSubject;
  code: string;
  key: string;
  codeMac: string;
}

/**
 * Makes a new code for `subject` (six digits from the CSPRNG) and its keyed hash: the work of a send that
 * does not depend on whether the phone may carry it, so a caller can do it either way.
 */
export async function prepareSmsCode(
  subject: SmsCodeSubject,
  deps: Pick<SmsCodeDependencies, 'lookupMac'>,
): Promise<PreparedSmsCode> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const key = await codeKey(deps.lookupMac, subject);
  return { subject, code, key, codeMac: await codeMacOf(deps.lookupMac, key, code) };
}

/**
 * Why a send failed, as an identifier fit for a log line: the error's stable `code` (`sms_not_sent`) or
 * its name (`TimeoutError`, an SDK's `Throttling`). Never its message, which may quote the phone number
 * (SNS's `InvalidParameter` does).
 */
function sendFailureReason(error: unknown): string {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  const given = typeof code === 'string' ? code : name;
  return typeof given === 'string' && /^[A-Za-z0-9._-]{1,100}$/.test(given) ? given : 'unreadable';
}

/**
 * Texts a prepared code to the phone ({@link textSmsCode}), then stores its keyed hash
 * ({@link storeSmsCode}): whether it went out. The caller has admitted the send ({@link admitSend}) and
 * checked that the phone may carry it.
 */
export async function deliverSmsCode(
  prepared: PreparedSmsCode,
  deps: SmsCodeDependencies,
  requestedAt = epochSeconds(deps.clock),
): Promise<boolean> {
  if (!(await textSmsCode(prepared, deps))) return false;
  await storeSmsCode(prepared, deps, requestedAt);
  return true;
}

/**
 * Texts a prepared code to the phone, storing nothing: whether the provider took it.
 *
 * A send the provider refused or did not answer (the sender rejects) is never followed by a store, so that a
 * code no one received never replaces one that was: the earlier code still works, and typing it counts as
 * it did. It resolves `false` rather than rejecting, with the line `sms not sent` (the purpose and the
 * reason, never the phone or the code) that the stack's `Sms/NotSent` alarm counts: the caller answers as
 * for any request, so that the failure tells no one whether the phone was confirmed (docs/security.md).
 */
export async function textSmsCode(
  prepared: PreparedSmsCode,
  deps: Pick<SmsCodeDependencies, 'sms'>,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const sending = deps.sms.send(
      smsCodeMessage(prepared.subject.phone, prepared.code, prepared.subject.purpose),
    );
    // Past the deadline the send is left to finish or fail on its own: caught, so nothing rejects unheard.
    sending.catch(() => undefined);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(Object.assign(new Error('the SMS provider did not answer in time'), { code: 'deadline' })),
        smsCodePolicy.sendDeadlineMs,
      );
    });
    await Promise.race([sending, deadline]);
    return true;
  } catch (error) {
    alarmedLines.warn('sms not sent', {
      purpose: prepared.subject.purpose,
      reason: sendFailureReason(error),
    });
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stores the keyed hash of a code the provider took ({@link textSmsCode}), replacing the code of any
 * earlier request of the subject (`requestedAt`, epoch seconds, is when the code was asked for).
 */
export async function storeSmsCode(
  prepared: PreparedSmsCode,
  deps: Pick<SmsCodeDependencies, 'smsCodes' | 'clock'>,
  requestedAt: number,
): Promise<void> {
  const { purpose } = prepared.subject;
  // Stored once sent: a text arrives seconds after this write, which takes milliseconds. Not over the
  // code of a later request (a job run late, after a newer one), stored or already used: the newer text's
  // code is the one typed, and a used one ended the proof.
  const stored = await deps.smsCodes.put(prepared.key, {
    codeMac: prepared.codeMac,
    expiresAt: epochSeconds(deps.clock) + smsCodePolicy.ttlSeconds,
    requestedAt,
  });
  if (!stored) logger.warn('sms code sent but not stored: a later request’s code is', { purpose });
  else logger.info('sms code sent', { purpose });
}

/** {@link prepareSmsCode} then {@link deliverSmsCode}: whether the code went out. */
export async function sendSmsCode(subject: SmsCodeSubject, deps: SmsCodeDependencies): Promise<boolean> {
  return deliverSmsCode(await prepareSmsCode(subject, deps), deps);
}

/**
 * The line a check logs at the daily ceiling ({@link checkSmsCode}): `outcome: 'filled'` from the wrong
 * check that fills it, `'refused'` from each check refused past it, with the purpose alone (never the
 * phone, the person or the code). The stack's `Operations/SmsCheckCeilingAlarm` counts both in every
 * function that checks codes (infra/constructs/operations-alarms.ts, docs/operating.md "Alarms"), since
 * whoever holds someone's ID number and phone can lock that person's checks on it for a day: the filling
 * line makes a lock seen even when whoever made it stops there.
 */
export const smsCheckCeilingLine = 'sms code checks at their daily ceiling';

export type SmsCodeCheck =
  | { ok: true }
  /**
   * A code that is wrong, or none to check against (never sent, expired, used, out of tries): one answer,
   * so that a guess tells nothing of whether a code was stored, hence of the account or the carrier.
   */
  | { ok: false; reason: 'wrong_or_expired_code' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/**
 * The login-throttle counter of the wrong codes typed today for one purpose, person and phone (key
 * documented in shared/adapters/dynamo/keys.ts: `login-attempts#sms-check#<purpose>#<code digest>#day`,
 * the digest the code's key, a keyed hash of the three). Per phone, not per person: every check counts on
 * it, a code stored or not, so that its answer (`throttled` or not) cannot tell whether codes were stored;
 * and a stranger guessing with a phone not the person's then fills a counter the person never uses.
 */
function failureCounterKey(subject: SmsCodeSubject, key: string): string {
  return `sms-check#${subject.purpose}#${key}#day`;
}

/**
 * The login-throttle counter of the wrong guesses at live codes in one UTC day for one purpose and person,
 * whatever the phone (`login-attempts#sms-check#person#<purpose>#<lookup key>#<day number>`, keys.ts).
 * Written by every check that is not throttled, never read by one: a check refused on it would answer
 * differently for a live code and none. The sender reads it ({@link smsPersonCapped}) and texts no new
 * code once it is full, so that a person's N phones do not give N ceilings of guesses (review R19 M1).
 */
function personFailureKey(purpose: SmsCodePurpose, lookupKey: string, nowSeconds: number): string {
  return `sms-check#person#${purpose}#${lookupKey}#${Math.floor(nowSeconds / 86_400)}`;
}

/**
 * Whether the person's wrong guesses at live codes for this purpose have reached
 * {@link smsCodePolicy.personDailyFailureCap} today (UTC): then no new code is texted to them for it.
 */
export async function smsPersonCapped(
  subject: Pick<SmsCodeSubject, 'purpose' | 'lookupKey'>,
  deps: Pick<SmsCodeDependencies, 'loginAttempts' | 'clock'>,
): Promise<boolean> {
  const now = epochSeconds(deps.clock);
  const counter = await deps.loginAttempts.read(
    personFailureKey(subject.purpose, subject.lookupKey, now),
    now,
  );
  return (counter?.failures ?? 0) >= smsCodePolicy.personDailyFailureCap;
}

/**
 * Counts one event on a daily counter of the login throttle's store (`key`, at most `cap`), before the
 * thing it limits is done: one conditional write on the counter as read, so parallel requests never pass
 * the cap between them. The day starts at the first counted event. Refused when full, or when parallel
 * requests kept winning the write (fail closed).
 */
async function countDaily(
  key: string,
  cap: number,
  deps: Pick<SmsCodeDependencies, 'loginAttempts'>,
  now: number,
): Promise<{ counted: true; filled: boolean } | { counted: false; retryAfterSeconds: number }> {
  for (let round = 0; round < 5; round++) {
    const counter = await deps.loginAttempts.read(key, now);
    if (counter && counter.failures >= cap) {
      return { counted: false, retryAfterSeconds: Math.max(1, counter.lastFailureAt + 86_400 - now) };
    }
    const start = counter?.lastFailureAt ?? now;
    const next = { failures: (counter?.failures ?? 0) + 1, lastFailureAt: start };
    if (await deps.loginAttempts.replace(key, counter, next, start + 86_400, now)) {
      return { counted: true, filled: next.failures >= cap };
    }
  }
  return { counted: false, retryAfterSeconds: 60 };
}

/**
 * Checks a typed code against the subject's pending one: each check counts one try first (at most
 * {@link smsCodePolicy.maxTries}, then the code is dead), and a right code is consumed, so it works once.
 * Every check also counts on the daily ceiling of the purpose, person and phone
 * ({@link smsCodePolicy.personDailyFailureCap}, across codes); once it is full, checks are `throttled`
 * until a day after its first try, whatever the code. A check not throttled also adds a wrong guess at a
 * live code to the person's counter of the purpose, whatever the phone, which the sender heeds
 * ({@link smsPersonCapped}), not the check.
 *
 * A wrong code and no code to check against (never stored, expired, used, out of tries) are one answer,
 * `wrong_or_expired_code`, after the same work: the try counted (on a placeholder counter when there is no
 * code, `SmsCodeStore.countTry`'s `whenNone`), the ceiling read and written, the typed code's MAC made,
 * the person's counter written. So a guess tells no one whether a code was stored, and hence neither
 * whether an account exists and which phone proved it (a reset: the sender texts only the proven phone) nor the carrier's answer (registration,
 * step-up): review R18 H1.
 *
 * @example
 * ```ts
 * const checked = await checkSmsCode({ purpose: 'reset', lookupKey, phone }, typed, deps);
 * if (!checked.ok && checked.reason === 'throttled') answer429(checked.retryAfterSeconds);
 * ```
 */
export async function checkSmsCode(
  subject: SmsCodeSubject,
  typed: string,
  deps: Pick<SmsCodeDependencies, 'smsCodes' | 'lookupMac' | 'clock' | 'loginAttempts'>,
): Promise<SmsCodeCheck> {
  const now = epochSeconds(deps.clock);
  const key = await codeKey(deps.lookupMac, subject);
  // 1. The try, counted on the code's counter, or on a placeholder one when there is no live code.
  const pending = await deps.smsCodes.countTry(key, smsCodePolicy.maxTries, now, {
    expiresAt: now + smsCodePolicy.ttlSeconds,
  });
  // 2. The daily ceiling, code or not: a right code gives its try back below.
  const counterKey = failureCounterKey(subject, key);
  const admitted = await countDaily(counterKey, smsCodePolicy.personDailyFailureCap, deps, now);
  if (!admitted.counted) {
    alarmedLines.info(smsCheckCeilingLine, { purpose: subject.purpose, outcome: 'refused' });
    return { ok: false, reason: 'throttled', retryAfterSeconds: admitted.retryAfterSeconds };
  }
  // 3. The typed code's MAC, made whether or not there is one to compare it with.
  const code = typed.normalize('NFKC').replace(/\s/g, '').slice(0, 16);
  const typedMac = /^\d{6}$/.test(code) ? await codeMacOf(deps.lookupMac, key, code) : undefined;
  const matches =
    pending !== undefined && typedMac !== undefined && constantTimeEqual(typedMac, pending.codeMac);
  // 4. The person's wrong guesses at live codes, whatever the phone: the same write (adding 0 or 1) on
  // every path, and not read here, so the answer stays the same for a live code and none.
  const wrongAtLive = pending !== undefined && !matches ? 1 : 0;
  const dayEnd = (Math.floor(now / 86_400) + 1) * 86_400;
  await deps.loginAttempts.addFailures(
    personFailureKey(subject.purpose, subject.lookupKey, now),
    wrongAtLive,
    now,
    dayEnd,
  );
  // 5. A right code, used once (a parallel check of it may have used it first).
  if (!matches || !(await deps.smsCodes.consume(key, pending, now))) {
    // This check, not given back, filled the ceiling: the phone's checks of the purpose are locked for the
    // day from now, which the alarm counts even if whoever filled it stops here.
    if (admitted.filled)
      alarmedLines.info(smsCheckCeilingLine, { purpose: subject.purpose, outcome: 'filled' });
    return { ok: false, reason: 'wrong_or_expired_code' };
  }
  // A right code was no failure: its try is given back.
  await deps.loginAttempts.forgiveOne(counterKey, now);
  return { ok: true };
}
