import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import { epochSeconds, type Clock } from '../clock.js';
import type { EnvelopeSealer } from '../crypto/envelope-sealer.js';
import { maskPhone, type PhoneNumber } from '../identifiers/phone.js';
import { logger } from '../logger.js';
import {
  pendingWorkLogLines,
  securityNoticeActions,
  type OwedSecurityNotice,
  type SecurityNoticeAction,
  type SecurityNoticeOutbox,
} from '../pending-work/pending-work.js';
import type { AccountStore } from './account-store.js';
import type { LoginAttemptStore } from './login-throttle.js';
import type { PersonAccount } from './person-account.js';
import type { SmsMessage, SmsSender } from './sms-sender.js';
import {
  smsJobContext,
  smsJobLeaseSeconds,
  type SmsJob,
  type SmsJobOutcome,
  type SmsJobQueue,
} from './sms-jobs.js';

/**
 * Security notices (安全提醒): a text to the account holder each time their account's security changes (a
 * passkey enrolled or removed, a password reset, a proven phone recorded or set, a level raised by the
 * phone, the account taken back at a counter or by a reset: `securityNoticeActions` of
 * shared/pending-work/pending-work.ts), so that someone who stole a session and added a passkey is not
 * left unseen. Never on the request's path and never lost: the notice is owed by the change's own
 * write (its audit pointer, all or nothing with the change), recorded as a job of the SMS queue when the
 * pointer is completed (by the request, or by the reconciler after a crash), and texted by the
 * `sms-codes` function after. The text names the event and the time and what to do if it was not them;
 * never a code, a secret or a number.
 *
 * A change that replaces the account's notice phone (a takeover with another phone, a first proven phone
 * other than the registration's, a new phone set at a counter) owes a second notice, to the phone it
 * replaced ({@link previousPhoneNoticeText}): its pointer carries both phones, sealed as the account held
 * them (`NoticePhones`), so that whoever changed the phone is not the only one told. It is texted only if
 * the two numbers differ, never names the new number (not even masked: a number given up may be another
 * person's by now), and is counted on a day of its own ({@link securityNoticePolicy.previousPhoneDailyCap}),
 * so that the new phone's holder, setting off notices to themselves, cannot spend the day that one needs.
 */

/** How many notices an account gets a day, and how long an owed notice is worth sending. */
export const securityNoticePolicy = {
  /**
   * Notices texted to one account in the day from its first: beyond it, each further one is dropped (the
   * line `security notice dropped: the account's daily cap`), its audit entries standing. A takeover
   * followed by enrolments cannot flood the phone, nor run up the bill.
   */
  accountDailyCap: 3,
  /**
   * Notices to a phone a change replaced, a day per account, counted apart from {@link accountDailyCap}
   * (`sms-notice#previous#<account id>`): one per change of phone, and a phone changes online at most once
   * (a proven phone is then replaced only at a counter), so this bounds the bill, never the notice that
   * matters. Beyond it, dropped with the same line.
   */
  previousPhoneDailyCap: 3,
  /** A notice not sent in 3 days (its queue's tries spent, the provider down) is dropped; its job kept that long. */
  ttlSeconds: 3 * 86_400,
} as const;

/** Each event as the text names it (`{2}` of the approved template). */
export const securityNoticeEvents: Record<SecurityNoticeAction, string> = {
  'account.taken_over': '已被找回，此前的登录和通行密钥均已失效',
  'account.password_reset': '重置了登录密码',
  'account.proven_phone_set': '在窗口更换了验证手机',
  'account.phone_changed': '绑定了验证手机',
  'account.raised': '通过手机验证提升了认证等级',
  'passkey.enrolled': '添加了通行密钥',
  'passkey.removed': '删除了通行密钥',
};

/** `at` (RFC 3339) as the text names it: Beijing time (UTC+8), to the minute, `2026-12-07 17:05`. */
export function noticeTime(at: string): string {
  const beijing = new Date(Date.parse(at) + 8 * 3_600_000).toISOString();
  return `${beijing.slice(0, 10)} ${beijing.slice(11, 16)}`;
}

/**
 * The text of a notice, in Chinese: the service's signature, when, what, and what to do if it was not
 * them. A template provider's approved template reads the same (docs/operating.md, "SMS in AWS China
 * regions"): `您的账号于{1}{2}。如非本人操作，请立即重置密码或前往窗口办理。`.
 *
 * @example
 * ```ts
 * securityNoticeText('passkey.enrolled', '2026-12-07T09:05:00Z');
 * // '【电子证照】您的账号于2026-12-07 17:05添加了通行密钥。如非本人操作，请立即重置密码或前往窗口办理。'
 * ```
 */
export function securityNoticeText(action: SecurityNoticeAction, at: string): string {
  return `【电子证照】您的账号于${noticeTime(at)}${securityNoticeEvents[action]}。如非本人操作，请立即重置密码或前往窗口办理。`;
}

/** The notice to `to`: its text (the outbox, SNS) and the `security-notice` template (Tencent Cloud SMS). */
export function securityNoticeMessage(to: string, action: SecurityNoticeAction, at: string): SmsMessage {
  return {
    to,
    text: securityNoticeText(action, at),
    template: {
      name: 'security-notice',
      params: { time: noticeTime(at), event: securityNoticeEvents[action] },
    },
  };
}

/**
 * The text to the phone a change replaced: when, that the verification phone was changed (the new number
 * is not named, not even masked), that this number hears no more of the account and no longer resets it,
 * and what to do if it was not them (the phone is no longer theirs to reset with: a counter). Its approved
 * template (`TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID`) reads the same:
 * `您的账号于{1}更换了验证手机，本号码不再接收该账号的安全提醒，也不能再用于找回密码。如非本人操作，请携带身份证前往窗口办理。`.
 *
 * @example
 * ```ts
 * previousPhoneNoticeText('2026-12-07T09:05:00Z');
 * // '【电子证照】您的账号于2026-12-07 17:05更换了验证手机，本号码不再接收该账号的安全提醒，…'
 * ```
 */
export function previousPhoneNoticeText(at: string): string {
  return `【电子证照】您的账号于${noticeTime(at)}更换了验证手机，本号码不再接收该账号的安全提醒，也不能再用于找回密码。如非本人操作，请携带身份证前往窗口办理。`;
}

/** The notice to the phone a change replaced: its text and the `previous-phone-notice` template. */
export function previousPhoneNoticeMessage(to: string, at: string): SmsMessage {
  return {
    to,
    text: previousPhoneNoticeText(at),
    template: { name: 'previous-phone-notice', params: { time: noticeTime(at) } },
  };
}

/**
 * The encryption context of an account's notice phone ({@link PersonAccount.noticePhone}): the `sms-job`
 * purpose, which the functions that seal jobs may seal under and the sender alone may open
 * (infra/constructs/keys.ts), bound to the account. Neither opens an ID number with it.
 */
export function noticePhoneContext(accountId: string): Record<string, string> {
  return smsJobContext(`notice-phone#${accountId}`);
}

/**
 * The number an account's notices go to, sealed for the sender ({@link noticePhoneContext}): written with
 * the account wherever a phone is proven for it (a phone's code, a counter) or confirmed at registration.
 * Only its sealed form is kept: the account's `provenPhone` is a digest.
 */
export function sealNoticePhone(
  accountId: string,
  phone: string,
  sealer: Pick<EnvelopeSealer, 'seal'>,
): Promise<string> {
  return sealer.seal(noticePhoneContext(accountId), { phone });
}

/** A notice's job id: `smsn_` and 22 characters of the digest of the pointer that owes it (owed once). */
export function securityNoticeJobId(pointerId: string): string {
  return `smsn_${createHash('sha256').update(`security-notice\0${pointerId}`).digest('base64url').slice(0, 22)}`;
}

/**
 * The id of the notice to the phone a change replaced: as {@link securityNoticeJobId}, of another digest
 * of the same pointer (owed once under it too).
 */
export function previousPhoneNoticeJobId(pointerId: string): string {
  return `smsn_${createHash('sha256').update(`previous-phone-notice\0${pointerId}`).digest('base64url').slice(0, 22)}`;
}

/** A notice job's id, as the SMS queue's message names it. */
export const securityNoticeJobIdPattern = /^smsn_[A-Za-z0-9_-]{22}$/;

/**
 * {@link SecurityNoticeOutbox} on the SMS queue (the batch table: its insert is the message, as a code's
 * job): one job per pointer, its id derived from the pointer's ({@link securityNoticeJobId}), so that a
 * notice owed twice (the pointer completed again after a crash) is written once. A job there already
 * (written, or sent and kept: {@link runSecurityNotice} keeps it until it expires) is left as it is. A
 * notice with `phones` (the change replaced the notice phone) is a second job too, to the phone replaced
 * ({@link previousPhoneNoticeJobId}): its `sealed` the previous phone, its `notice.replacedBy` the new one,
 * both as the pointer carried them.
 *
 * @example
 * ```ts
 * const securityNotices = securityNoticeOutbox({ smsJobs, clock });
 * ```
 */
export function securityNoticeOutbox(deps: {
  smsJobs: Pick<SmsJobQueue, 'enqueue' | 'find'>;
  clock: Clock;
}): SecurityNoticeOutbox {
  return {
    async owe(notice: OwedSecurityNotice): Promise<void> {
      const content = { accountId: notice.accountId, action: notice.action, at: notice.at };
      await enqueueOnce({ id: securityNoticeJobId(notice.pointerId), sealed: '', notice: content }, deps);
      if (notice.phones) {
        await enqueueOnce(
          {
            id: previousPhoneNoticeJobId(notice.pointerId),
            sealed: notice.phones.previous,
            notice: { ...content, replacedBy: notice.phones.next },
          },
          deps,
        );
      }
    },
  };
}

/** Writes one notice's job, unless it is there already (written before, or meanwhile by another completer). */
async function enqueueOnce(
  job: Pick<SmsJob, 'id' | 'sealed' | 'notice'>,
  deps: { smsJobs: Pick<SmsJobQueue, 'enqueue' | 'find'>; clock: Clock },
): Promise<void> {
  if (await deps.smsJobs.find(job.id)) return;
  try {
    await deps.smsJobs.enqueue({
      ...job,
      purpose: 'security-notice',
      lookupKey: '',
      expiresAt: epochSeconds(deps.clock) + securityNoticePolicy.ttlSeconds,
    });
  } catch (error) {
    // Written meanwhile by another completer: owed once all the same.
    if (await deps.smsJobs.find(job.id)) return;
    throw error;
  }
}

/** What the sender needs to text a notice. */
export interface SecurityNoticeDependencies {
  smsJobs: SmsJobQueue;
  smsJobSealer: Pick<EnvelopeSealer, 'open'>;
  accounts: Pick<AccountStore, 'findById'>;
  loginAttempts: LoginAttemptStore;
  sms: SmsSender;
  audit: AuditTrail;
  clock: Clock;
}

const noticeContent = z.strictObject({
  accountId: z.string().regex(/^acc_[A-Za-z0-9_-]{1,64}$/),
  action: z.enum(securityNoticeActions),
  at: z.iso.datetime({ offset: true }),
  /** A notice to the phone the change replaced (the job's `sealed`): the phone it wrote, sealed. */
  replacedBy: z.string().min(1).max(8192).optional(),
});

const sealedPhone = z.strictObject({ phone: z.string().regex(/^\+861[3-9]\d{9}$/) });

/** A notice dropped unsent, by why: each its log line (no phone, no person, the account id alone). */
const droppedNoticeLines = {
  no_account: 'security notice not sent: the account is gone',
  no_phone: 'security notice not sent: the account has no phone to tell',
  capped: "security notice dropped: the account's daily cap",
  no_template: 'security notice not sent: no approved template',
  same_phone: 'security notice to the previous phone not sent: the change kept the same number',
} as const;

/**
 * Texts one notice, off every request's path (the `sms-codes` function, as a code's job): 1. claims its
 * job ({@link smsJobLeaseSeconds}); one marked sent (or dropped) is done: kept as it is until it expires,
 * so that the same notice owed again is not written or texted twice; 2. drops one past its
 * {@link securityNoticePolicy.ttlSeconds}; 3. reads the account (gone: dropped) and its notice phone (none,
 * on an account proven before it was kept: dropped), or for a notice to the phone a change replaced
 * (`notice.replacedBy`) opens that phone (`sealed`) and the new one (the same number: dropped); 4. counts it
 * on the account's day ({@link securityNoticePolicy.accountDailyCap}, or for a replaced phone
 * {@link securityNoticePolicy.previousPhoneDailyCap}: beyond, dropped with its line); 5. texts it, marks the job
 * sent and writes the audit entry `account.security_notice_sent` (the phone masked, never in full). A send
 * that fails gives its count back, writes `account.security_notice_failed` and throws: the queue delivers
 * it again (3 deliveries, then its dead-letter queue and alarm), unless the provider has no approved
 * template for it (dropped, not tried again).
 *
 * @example
 * ```ts
 * await runSecurityNotice('smsn_…', deps); // 'sent'
 * ```
 */
export async function runSecurityNotice(
  id: string,
  deps: SecurityNoticeDependencies,
): Promise<SmsJobOutcome> {
  // 1. The job, if still there and no other delivery of it runs.
  const job = await deps.smsJobs.claim(id, epochSeconds(deps.clock), smsJobLeaseSeconds);
  if (job === 'absent' || job === 'claimed') return job;
  if (job.sentAt !== undefined) {
    logger.warn('security notice already done: not texted again', { job: id });
    return 'already_sent';
  }
  const parsed = job.purpose === 'security-notice' ? noticeContent.safeParse(job.notice) : undefined;
  if (!parsed?.success) {
    await deps.smsJobs.release(id);
    throw new Error('not a security notice job');
  }
  const notice = parsed.data;
  // 2. Too late to be of use.
  if (job.expiresAt <= epochSeconds(deps.clock)) {
    await deps.smsJobs.remove(id);
    logger.warn('security notice expired unsent', { accountId: notice.accountId, action: notice.action });
    return 'expired';
  }
  const done = async (why: keyof typeof droppedNoticeLines): Promise<SmsJobOutcome> => {
    await deps.smsJobs.markSent(id, epochSeconds(deps.clock));
    logger.info(droppedNoticeLines[why], { accountId: notice.accountId, action: notice.action });
    return 'not_sent';
  };
  // 3. The account's phone, as it stands now: after a phone change, the new one. A notice to the phone a
  // change replaced goes to that phone, as the change's pointer carried it, if the change replaced it
  // with another number.
  const previous = notice.replacedBy !== undefined;
  let phone: string;
  try {
    const account: PersonAccount | undefined = await deps.accounts.findById(notice.accountId);
    if (!account) return await done('no_account');
    const open = async (sealed: string) =>
      sealedPhone.parse(await deps.smsJobSealer.open(noticePhoneContext(account.id), sealed)).phone;
    if (notice.replacedBy !== undefined) {
      phone = await open(job.sealed);
      if (phone === (await open(notice.replacedBy))) return await done('same_phone');
    } else {
      if (!account.noticePhone) return await done('no_phone');
      phone = await open(account.noticePhone);
    }
  } catch (error) {
    await deps.smsJobs.release(id);
    throw error;
  }
  const masked = maskPhone(phone as PhoneNumber);
  // 4. Within the account's day (a previous phone's notices: their own day).
  const counter = previous
    ? { key: previousPhoneCounterKey(notice.accountId), cap: securityNoticePolicy.previousPhoneDailyCap }
    : { key: noticeCounterKey(notice.accountId), cap: securityNoticePolicy.accountDailyCap };
  const counted = await countNotice(counter, deps).catch(async (error: unknown) => {
    await deps.smsJobs.release(id);
    throw error;
  });
  if (!counted) return done('capped');
  const to = previous ? `previous phone ${masked}` : masked;
  // 5. Texted, marked, traced.
  try {
    await deps.sms.send(
      previous
        ? previousPhoneNoticeMessage(phone, notice.at)
        : securityNoticeMessage(phone, notice.action, notice.at),
    );
  } catch (error) {
    await deps.loginAttempts.forgiveOne(counter.key, epochSeconds(deps.clock));
    await traceNotice('account.security_notice_failed', notice, to, deps);
    // The error's name and code only: a provider's message may quote the number.
    const code = (error as { code?: unknown }).code;
    logger.warn('security notice not sent', {
      accountId: notice.accountId,
      action: notice.action,
      error: error instanceof Error ? error.name : 'unknown',
      ...(typeof code === 'string' && { code }),
    });
    if (code === 'sms_template_missing') return done('no_template');
    await deps.smsJobs.release(id);
    throw error;
  }
  if (!(await deps.smsJobs.markSent(id, epochSeconds(deps.clock)))) {
    logger.warn('security notice sent by two runs of its job', { accountId: notice.accountId });
  }
  await traceNotice('account.security_notice_sent', notice, to, deps);
  logger.info('security notice sent', { accountId: notice.accountId, action: notice.action, to });
  return 'sent';
}

/** The account's counter of notices: `sms-notice#<account id>`, a day from its first notice. */
function noticeCounterKey(accountId: string): string {
  return `sms-notice#${accountId}`;
}

/** The account's counter of notices to phones its changes replaced: `sms-notice#previous#<account id>`. */
function previousPhoneCounterKey(accountId: string): string {
  return `sms-notice#previous#${accountId}`;
}

/** Counts one notice on its counter's day, unless the day is full (`cap`): whether it counted. */
async function countNotice(
  { key, cap }: { key: string; cap: number },
  deps: Pick<SecurityNoticeDependencies, 'loginAttempts' | 'clock'>,
): Promise<boolean> {
  const now = epochSeconds(deps.clock);
  for (let round = 0; round < 5; round++) {
    const counter = await deps.loginAttempts.read(key, now);
    if (counter && counter.failures >= cap) return false;
    const start = counter?.lastFailureAt ?? now;
    const next = { failures: (counter?.failures ?? 0) + 1, lastFailureAt: start };
    if (await deps.loginAttempts.replace(key, counter, next, start + 86_400, now)) return true;
  }
  // Parallel notices of the account kept winning: it has had its share for now.
  return false;
}

/**
 * The audit entry of a notice sent or failed: the account, the event, the phone masked (`to`: the mask,
 * or `previous phone <mask>` for the phone a change replaced).
 */
async function traceNotice(
  action: 'account.security_notice_sent' | 'account.security_notice_failed',
  notice: z.output<typeof noticeContent>,
  to: string,
  deps: Pick<SecurityNoticeDependencies, 'audit' | 'clock'>,
): Promise<void> {
  try {
    await deps.audit.record({
      at: new Date(deps.clock.now()).toISOString(),
      actor: notice.accountId,
      action,
      reason: `${notice.action}, to ${to}`,
    });
  } catch (error) {
    // The notice stands (sent or not); its entry is lost, and the alarm's line says so.
    logger.error(pendingWorkLogLines.audit, { action, accountId: notice.accountId, error: String(error) });
  }
}
