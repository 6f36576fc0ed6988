import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { epochSeconds } from '../clock.js';
import type { EnvelopeSealer } from '../crypto/envelope-sealer.js';
import { assuranceLevelOf } from './assurance.js';
import { parseIdNumber, type IdNumber } from '../identifiers/id-number.js';
import { personLookupKey } from '../identifiers/lookup-key.js';
import { logger } from '../logger.js';
import type { AccountStore } from './account-store.js';
import type { CarrierRegistry, PopulationRegistry } from './registry.js';
import {
  phoneDigest,
  prepareSmsCode,
  smsCodePolicy,
  smsPersonCapped,
  storeSmsCode,
  textSmsCode,
  type SmsCodeDependencies,
  type SmsCodePurpose,
  type SmsCodeSubject,
} from './sms-codes.js';

/**
 * A requested SMS code waiting for its sender (the `sms-codes` function): what the request path leaves
 * behind, the same for every request whether or not the phone turns out to be the person's, so that the
 * answer's timing tells nothing (docs/security.md, "Timing"). It names the person by the lookup key the
 * code is stored under, never by ID number; the phone, and the ID number the registries' HTTP services
 * need, travel only sealed ({@link smsJobContext}), since the job passes through the batch table and its
 * stream (kept 24 hours) on its way to the queue.
 */
export interface SmsJob {
  id: string;
  /**
   * The code's purpose; `security-notice` for a security notice's job (`smsn_…`,
   * shared/identity/security-notices.ts), whose `lookupKey` is empty and `notice` says what; `sealed` is
   * empty too but for a notice to the phone a change replaced (that phone, sealed).
   */
  purpose: SmsCodePurpose | 'security-notice';
  lookupKey: string;
  /** `{ phone, idNumber? }` sealed under {@link smsJobContext}: only the sender may open it. */
  sealed: string;
  /** Past it (the code's own lifetime) the job is dropped unsent: no one waits for that code any more. */
  expiresAt: number;
  /**
   * When a run had its text taken by the provider (epoch seconds; {@link SmsJobQueue.markSent}): a run
   * again of a job so marked texts nothing.
   */
  sentAt?: number;
  /**
   * A security notice's job: whose account, which event (an audit action of `securityNoticeActions`),
   * when (RFC 3339). No phone: the sender reads the account's own. One to the phone a change replaced
   * carries that phone as `sealed` and the one the change wrote as `replacedBy` (both sealed as the account
   * held them: `noticePhoneContext`), so that the sender texts it only if they differ.
   */
  notice?: { accountId: string; action: string; at: string; replacedBy?: string };
}

/**
 * What a job carries sealed: the phone to text, for the registries' HTTP services the ID number, and the
 * purpose and person the request was for, so that an item rewritten in the batch table (its clear
 * `purpose` or `lookupKey` changed) is refused rather than texted to and stored for someone else.
 */
const sealedContent = z.strictObject({
  phone: z.string().regex(/^\+861[3-9]\d{9}$/),
  idNumber: z.string().optional(),
  purpose: z.enum(['step-up', 'reset', 'register', 'counter']),
  lookupKey: z.string(),
});

/** A job whose clear fields are not those sealed in it: altered in the table. */
export class SmsJobAlteredError extends Error {
  readonly code = 'sms_job_altered';
  constructor() {
    super('the SMS job’s purpose or person differ from what was sealed in it');
    this.name = 'SmsJobAlteredError';
  }
}

/**
 * Where jobs wait: written on the request path (one conditional put), claimed and removed by the sender. In
 * AWS the write's insert reaches the sender through the batch table's stream, a pipe and the SMS queue,
 * each delivering at least once: a copy delivered while another runs the job finds it claimed, and one
 * delivered once it is done finds nothing; either does nothing.
 */
export interface SmsJobQueue {
  enqueue(job: SmsJob): Promise<void>;
  /** The job, expired or not, claimed or not. */
  find(id: string): Promise<SmsJob | undefined>;
  /**
   * Claims the job until `nowSeconds + leaseSeconds` (one conditional write: of parallel claims one wins),
   * unless a claim of it is still running: the job, expired or not, or why not.
   */
  claim(id: string, nowSeconds: number, leaseSeconds: number): Promise<SmsJob | 'absent' | 'claimed'>;
  /** Gives a claim back (a run that failed before sending), so that the next delivery takes the job. */
  release(id: string): Promise<void>;
  /**
   * Marks the job sent (one conditional write, only on a job there and not yet marked): whether it did.
   * False when another run marked it, or removed it, first.
   */
  markSent(id: string, nowSeconds: number): Promise<boolean>;
  remove(id: string): Promise<void>;
}

/**
 * How long a run holds its job: longer than the `sms-codes` function's 15 s, so no copy takes a job a run
 * still works on, and shorter than the SMS queue's visibility timeout (6 × 15 s), so that the delivery
 * again of a run that crashed (its claim never given back) finds the claim lapsed and takes the job.
 */
export const smsJobLeaseSeconds = 60;

/**
 * The encryption context of a job's sealed part: the PII key's policy lets the request functions seal and
 * the sender open under this purpose alone (neither opens an account's ID number with it), and the job id
 * binds it to its job.
 */
export function smsJobContext(id: string): Record<string, string> {
  return { purpose: 'sms-job', job: id };
}

/** A job id: 128 random bits, base64url (`smsj_` and 22 characters). */
export const smsJobIdPattern = /^smsj_[A-Za-z0-9_-]{22}$/;

/**
 * Leaves a job for the code of `subject`: the phone (and the ID number, when the caller has it) sealed, the
 * job written. This is all the request path does after the send limits, whatever the answer will be.
 *
 * @example
 * ```ts
 * await enqueueSmsJob({ purpose: 'step-up', lookupKey, phone }, idNumber, deps);
 * ```
 */
export async function enqueueSmsJob(
  subject: SmsCodeSubject,
  idNumber: IdNumber | undefined,
  deps: { smsJobs: Pick<SmsJobQueue, 'enqueue'>; smsJobSealer: Pick<EnvelopeSealer, 'seal'> } & Pick<
    SmsCodeDependencies,
    'clock'
  >,
): Promise<void> {
  const id = `smsj_${randomBytes(16).toString('base64url')}`;
  const sealed = await deps.smsJobSealer.seal(smsJobContext(id), {
    phone: subject.phone,
    ...(idNumber !== undefined && { idNumber }),
    purpose: subject.purpose,
    lookupKey: subject.lookupKey,
  });
  await deps.smsJobs.enqueue({
    id,
    purpose: subject.purpose,
    lookupKey: subject.lookupKey,
    sealed,
    expiresAt: epochSeconds(deps.clock) + smsCodePolicy.ttlSeconds,
  });
}

export interface SmsJobDependencies extends SmsCodeDependencies {
  smsJobs: SmsJobQueue;
  smsJobSealer: Pick<EnvelopeSealer, 'open'>;
  registry: PopulationRegistry;
  carrier: CarrierRegistry;
  /**
   * A reset's code goes only to an account's phone: the one that proved it, when one did. The request path
   * reads no account (its answer would tell whether one exists), so this is where a reset is refused.
   */
  accounts: Pick<AccountStore, 'findByLookupKey'>;
}

export type SmsJobOutcome =
  | 'sent'
  | 'not_sent'
  | 'not_confirmed'
  /** A reset of an ID number no account has: nothing to reset, no text. */
  | 'no_account'
  /** A reset asked with a phone other than the one that proved the account. */
  | 'not_proven_phone'
  /** A reset of an account proven in person that no phone proved: at the counter only (review R28 M1). */
  | 'no_proven_phone'
  /**
   * The person's wrong guesses at live codes of the purpose reached the daily cap today (any phone:
   * `smsPersonCapped`): no new code, so more phones give no more guesses.
   */
  | 'person_capped'
  | 'expired'
  | 'absent'
  | 'claimed'
  /** A run again of a job whose text went out (its removal failed): not texted again. */
  | 'already_sent';

/**
 * Runs one job, off the request path: 1. claims it ({@link smsJobLeaseSeconds}; absent: already done;
 * claimed: another delivery of it runs now; either way nothing to do); 2. drops it once
 * past the code's lifetime; 3. opens its sealed part (an altered or moved job throws: the queue tries it
 * again, then keeps it in its dead-letter queue), and refuses it so (throws) when its purpose or person
 * differ from those sealed in it; 4. drops it silently (`person_capped`) once the person's wrong guesses at
 * live codes of the purpose reached {@link smsCodePolicy.personDailyFailureCap} today, whatever the phone
 * (the check counts them but never refuses on them, which would tell a live code from none); for a reset,
 * reads the account: none (`no_account`), or a phone
 * proved it and this is another (`not_proven_phone`), drops the job silently (the request path answered
 * as for any request, and reads no account: docs/security.md, "Timing"); then asks the population
 * registry for the person and the carrier whether the phone is theirs (三要素); 5. only
 * then makes the code, texts it ({@link textSmsCode}), marks the job sent and stores the code
 * ({@link storeSmsCode}): stored only once the provider took it, so a refused send leaves an earlier code
 * working, logged `sms not sent`; and only if no later request's code is stored or used, so a job run late
 * never replaces the code of a newer text nor leaves one once the proof is done); 6. removes the job. A
 * registry or carrier that fails throws before anything is sent, the claim is given back, and the job is
 * tried again.
 *
 * A job marked sent is not run again (`already_sent`: removed, nothing texted or stored). Without the mark,
 * a run whose removal (or store) failed after the text went out was run again by the next delivery: a
 * second text, whose code, stored under the same request time, replaced the first one's, so the code the
 * person had just received stopped working (review R17 L2). The mark comes before the store, so a store
 * that failed leaves the text's code unstored for good: the code is not kept anywhere to store it later
 * (only its hash would be, and the batch table is no place for it), and texting another would be the
 * double text again; the person asks for a new code, as after any text that did not come. Only a run that
 * stops between the provider's answer and the mark (its function ended in those milliseconds) is still run
 * again and texts twice.
 *
 * @example
 * ```ts
 * const outcome = await runSmsJob('smsj_…', deps); // 'sent'
 * ```
 */
export async function runSmsJob(id: string, deps: SmsJobDependencies): Promise<SmsJobOutcome> {
  // 1. The job, if still there and no other delivery of it runs.
  const job = await deps.smsJobs.claim(id, epochSeconds(deps.clock), smsJobLeaseSeconds);
  if (job === 'absent' || job === 'claimed') {
    logger.info(job === 'absent' ? 'sms job absent: already done' : 'sms job claimed: running elsewhere', {
      job: id,
    });
    return job;
  }
  // A notice's job under a code's id: not one the request paths write.
  if (job.purpose === 'security-notice') {
    await deps.smsJobs.release(id);
    throw new SmsJobAlteredError();
  }
  // A run again of a job whose text went out: done, and never texted twice.
  if (job.sentAt !== undefined) {
    await deps.smsJobs.remove(id);
    logger.warn('sms job already sent: not texted again', { purpose: job.purpose });
    return 'already_sent';
  }
  // 2. A code no one waits for any more is not sent.
  if (job.expiresAt <= epochSeconds(deps.clock)) {
    await deps.smsJobs.remove(id);
    logger.warn('sms job expired unsent', { purpose: job.purpose });
    return 'expired';
  }
  let subject: SmsCodeSubject;
  let idNumber: IdNumber | undefined;
  let confirmed: 'confirmed' | keyof typeof droppedLines;
  try {
    // 3. The phone and the ID number, opened under this job's context alone, for the purpose and person
    // sealed with them (the ID number's own lookup key the person's).
    const content = sealedContent.parse(await deps.smsJobSealer.open(smsJobContext(id), job.sealed));
    idNumber =
      content.idNumber === undefined
        ? undefined
        : parseIdNumber(content.idNumber, new Date(deps.clock.now()));
    if (
      content.purpose !== job.purpose ||
      content.lookupKey !== job.lookupKey ||
      (idNumber !== undefined && (await personLookupKey(deps.lookupMac, idNumber)) !== job.lookupKey)
    )
      throw new SmsJobAlteredError();
    subject = { purpose: job.purpose, lookupKey: job.lookupKey, phone: content.phone };
    // 4. Whether the person may have another code today, and the phone carry it.
    confirmed = (await smsPersonCapped(subject, deps))
      ? 'person_capped'
      : await phoneConfirmed(subject, idNumber, deps);
  } catch (error) {
    // Nothing sent: the next delivery may take the job at once (locally it comes straight away).
    await deps.smsJobs.release(id);
    throw error;
  }
  let outcome: SmsJobOutcome;
  if (confirmed === 'confirmed') {
    // 5. Made, sent, the job marked sent, and the code stored, unless a later request's is there or used.
    const prepared = await prepareSmsCode(subject, deps);
    outcome = (await textSmsCode(prepared, deps)) ? 'sent' : 'not_sent';
    if (outcome === 'sent') {
      if (await deps.smsJobs.markSent(id, epochSeconds(deps.clock)))
        await storeSmsCode(prepared, deps, job.expiresAt - smsCodePolicy.ttlSeconds);
      // Another run marked it first (a lease that lapsed mid-run): that run's code is the one to keep.
      else
        logger.warn('sms code sent but not stored: another run of its job sent one', {
          purpose: job.purpose,
        });
    }
  } else {
    outcome = confirmed;
    // The purpose alone: neither phone nor person (nor the job, which the queue's messages name).
    logger.info(droppedLines[confirmed], { purpose: job.purpose });
  }
  // 6. Done: a delivery again finds nothing.
  await deps.smsJobs.remove(id);
  return outcome;
}

/** The log line of a job dropped unsent, by why. */
const droppedLines = {
  not_confirmed: 'sms code not sent: phone not confirmed for the person',
  no_account: 'sms code not sent: reset of no account',
  not_proven_phone: 'sms code not sent: reset to not the proven phone',
  no_proven_phone: 'sms code not sent: reset of an account proven in person, no phone proven (the counter)',
  person_capped: 'sms code not sent: the person’s wrong codes reached the daily cap',
} as const;

/**
 * Whether the phone may carry the code. A reset's goes only to an account's phone: none without an account
 * (nothing to reset), and only the proven phone of an account a phone proved (a family SIM the carrier
 * lists under the same person must not replace the password: review issue 13); none for an account proven
 * in person that no phone proved (it is reset at a service counter: review R28 M1); an account below level
 * 3 that no phone proved yet keeps the carrier's answer alone, as step-up and registration codes do. The account is read before
 * the registries, so a refused reset asks neither.
 */
async function phoneConfirmed(
  subject: SmsCodeSubject,
  idNumber: IdNumber | undefined,
  deps: SmsJobDependencies,
): Promise<'confirmed' | Exclude<keyof typeof droppedLines, 'person_capped'>> {
  if (subject.purpose === 'reset') {
    const account = await deps.accounts.findByLookupKey(subject.lookupKey);
    if (!account) return 'no_account';
    if (account.provenPhone && account.provenPhone !== (await phoneDigest(deps.lookupMac, subject.phone)))
      return 'not_proven_phone';
    // Proven in person and by no phone: no phone may reset it, a family SIM the carrier lists under the
    // person included (review R28 M1); the person goes to a service counter.
    if (!account.provenPhone && assuranceLevelOf(account) === 3) return 'no_proven_phone';
  }
  const person = await deps.registry.findPerson(subject.lookupKey, idNumber);
  const confirmed =
    person !== undefined &&
    (await deps.carrier.confirms({
      lookupKey: subject.lookupKey,
      name: person.name,
      phone: subject.phone,
      ...(idNumber ? { idNumber } : {}),
    }));
  return confirmed ? 'confirmed' : 'not_confirmed';
}
