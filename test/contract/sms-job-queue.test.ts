import { describe, expect, it } from 'vitest';
import { DynamoSmsJobQueue } from '../../shared/adapters/dynamo/sms-job-queue.js';
import type { SmsJob, SmsJobQueue } from '../../shared/identity/sms-jobs.js';
import { InMemorySmsJobQueue } from '../support/in-memory-sms.js';
import { useDynamo } from './subject.js';

const dynamo = useDynamo();
const now = 1_772_352_000;
const job: SmsJob = {
  id: 'smsj_AAAAAAAAAAAAAAAAAAAAAA',
  purpose: 'step-up',
  lookupKey: 'lk-1',
  sealed: 'sealed',
  expiresAt: now + 300,
};

/**
 * The {@link SmsJobQueue} contract: of parallel claims of a job one wins; a claim holds until its lease
 * lapses or it is given back; a job is marked sent once, and claimed again so marked; a removed job is
 * absent.
 */
function smsJobQueueContract(name: string, make: () => Promise<SmsJobQueue>): void {
  describe(`SmsJobQueue contract: ${name}`, () => {
    it('lets one of parallel claims win, until the lease lapses or the claim is given back', async () => {
      const queue = await make();
      await queue.enqueue(job);
      const claims = await Promise.all([1, 2, 3, 4].map(() => queue.claim(job.id, now, 60)));
      expect(claims.filter((claim) => claim === 'claimed')).toHaveLength(3);
      expect(claims.find((claim) => typeof claim === 'object')).toEqual(job);
      expect(await queue.claim(job.id, now + 59, 60)).toBe('claimed');
      expect(await queue.claim(job.id, now + 60, 60)).toEqual(job);
      await queue.release(job.id);
      expect(await queue.claim(job.id, now + 61, 60)).toEqual(job);
      await queue.remove(job.id);
      expect(await queue.claim(job.id, now + 200, 60)).toBe('absent');
      await queue.release(job.id);
      expect(await queue.find(job.id)).toBeUndefined();
    });

    it('marks a job sent once, and a claim again gives it marked', async () => {
      const queue = await make();
      await queue.enqueue(job);
      expect(await queue.claim(job.id, now, 60)).toEqual(job);
      const marks = await Promise.all([1, 2].map(() => queue.markSent(job.id, now + 2)));
      expect(marks.sort()).toEqual([false, true]);
      expect(await queue.claim(job.id, now + 60, 60)).toEqual({ ...job, sentAt: now + 2 });
      await queue.remove(job.id);
      expect(await queue.markSent(job.id, now + 61)).toBe(false);
    });
  });
}

smsJobQueueContract('InMemorySmsJobQueue', async () => new InMemorySmsJobQueue());

smsJobQueueContract('DynamoSmsJobQueue on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return new DynamoSmsJobQueue(doc, tableName);
});
