import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { composition } from './composition/dependencies.js';
import {
  kms,
  doc,
  accounts,
  registry,
  carrier,
  lookupMac,
  loginAttempts,
  sms,
  smsCodes,
  smsJobs,
  smsJobSealer,
  auditOf,
} from './composition/factories.js';
import { runSmsJob, smsJobIdPattern } from '../shared/identity/sms-jobs.js';
import { runSecurityNotice, securityNoticeJobIdPattern } from '../shared/identity/security-notices.js';
import { logger } from '../shared/logger.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  accounts,
  registry,
  carrier,
  lookupMac,
  loginAttempts,
  sms,
  smsCodes,
  smsJobs,
  smsJobSealer,
  // A security notice's `account.security_notice_sent` or `_failed` entry (the phone masked).
  audit: auditOf('sms-codes'),
});

/** A message of the SMS queue: the job to run (the pipe from the batch table's stream writes exactly this). */
const smsJobMessage = z.strictObject({
  smsJob: z.union([z.string().regex(smsJobIdPattern), z.string().regex(securityNoticeJobIdPattern)]),
});

/**
 * Sends requested SMS codes, after the request was answered (docs/security.md, "Timing"): each message of
 * the SMS queue names a job, run by `runSmsJob` (the carrier asked, then the code texted and stored only if
 * the phone is the person's). A job that throws (a registry down, a job that does not open) is reported
 * back and delivered again after the queue's visibility timeout; after 3 deliveries it goes to the SMS
 * dead-letter queue, whose alarm says so. A refused send is no failure here: it is logged `sms not sent`
 * (the `Sms/NotSent` alarm) and not retried, as the person can ask again. A malformed message is logged
 * and reported failed, so that it too ends in the dead-letter queue for someone to look at. It also texts
 * the security notices completed changes owe their account's holder (a passkey enrolled, a password reset:
 * `runSecurityNotice`), whose failed send, unlike a code's, is retried the same way (3 deliveries).
 */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const deps = dependencies();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const { smsJob } = smsJobMessage.parse(JSON.parse(record.body));
      // A code's job (`smsj_`), or a security notice's (`smsn_`, shared/identity/security-notices.ts).
      await (securityNoticeJobIdPattern.test(smsJob)
        ? runSecurityNotice(smsJob, deps)
        : runSmsJob(smsJob, deps));
    } catch (error) {
      // The error's name only: a message may quote the phone (SNS's InvalidParameter does).
      logger.error('sms job failed, to be retried', {
        messageId: record.messageId,
        error: error instanceof Error ? error.name : 'unknown',
      });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
