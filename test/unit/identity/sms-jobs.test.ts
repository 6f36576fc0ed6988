import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { checkSmsCode, smsCodePolicy, type SmsCodeSubject } from '../../../shared/identity/sms-codes.js';
import {
  enqueueSmsJob,
  runSmsJob,
  smsJobContext,
  smsJobIdPattern,
  smsJobLeaseSeconds,
  type SmsJobOutcome,
} from '../../../shared/identity/sms-jobs.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { smsJobDependencies } from '../../support/in-memory-sms.js';

/**
 * The SMS jobs (shared/identity/sms-jobs.ts): what the request path leaves for the `sms-codes` function,
 * and how that function runs one (docs/security.md, "Timing").
 */
const phone = '+8613800138000';

function world() {
  const deps = smsJobDependencies();
  return { clock: deps.clock, deps };
}

describe('SMS jobs', () => {
  let w: ReturnType<typeof world>;
  let subject: SmsCodeSubject;
  let idNumber: ReturnType<typeof parseIdNumber>;
  const onlyJob = () => [...w.deps.smsJobs.jobs.values()][0]!;

  beforeEach(async () => {
    w = world();
    idNumber = parseIdNumber(newIdNumber(), new Date());
    const lookupKey = await personLookupKey(w.deps.lookupMac, idNumber);
    subject = { purpose: 'step-up', lookupKey, phone };
    await w.deps.registry.putPerson({ lookupKey, name: '王小明', masked: '310104********0011' });
    await w.deps.carrier.putSubscriber({ lookupKey, name: '王小明', phone });
  });

  it('stores a job that holds no phone and no ID number in clear, sealed to its own id', async () => {
    await enqueueSmsJob(subject, idNumber, w.deps);
    const job = onlyJob();
    expect(job.id).toMatch(smsJobIdPattern);
    const stored = JSON.stringify([...w.deps.smsJobs.jobs]);
    for (const personal of [phone, phone.slice(3), String(idNumber), String(idNumber).slice(-8)])
      expect(stored).not.toContain(personal);
    expect(job.expiresAt).toBe(Math.floor(w.clock.now() / 1000) + smsCodePolicy.ttlSeconds);
    // The sealed part opens under its own job's context, and no other.
    expect(await w.deps.smsJobSealer.open(smsJobContext(job.id), job.sealed)).toEqual({
      phone,
      idNumber: String(idNumber),
      purpose: 'step-up',
      lookupKey: subject.lookupKey,
    });
    await expect(w.deps.smsJobSealer.open(smsJobContext('smsj_another'), job.sealed)).rejects.toThrow();
  });

  it('sends a job once, however many times it is delivered', async () => {
    await enqueueSmsJob(subject, idNumber, w.deps);
    const { id } = onlyJob();
    expect(await runSmsJob(id, w.deps)).toBe('sent');
    expect(await runSmsJob(id, w.deps)).toBe('absent');
    expect(w.deps.sms.sent).toHaveLength(1);
    expect(w.deps.smsJobs.jobs.size).toBe(0);
    expect(await checkSmsCode(subject, w.deps.sms.sent[0]!.code!, w.deps)).toEqual({ ok: true });
  });

  it('stores the code of a provider that answers in 4 s: the sender is past the answer, no longer hurried', async () => {
    await enqueueSmsJob(subject, idNumber, w.deps);
    const { id } = onlyJob();
    const send = w.deps.sms.send.bind(w.deps.sms);
    w.deps.sms.send = (message) =>
      new Promise((resolve, reject) => setTimeout(() => send(message).then(resolve, reject), 4_000));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const running = runSmsJob(id, w.deps);
      await vi.advanceTimersByTimeAsync(4_000);
      expect(await running).toBe('sent');
    } finally {
      vi.useRealTimers();
    }
    expect(w.deps.sms.sent).toHaveLength(1);
    expect(await checkSmsCode(subject, w.deps.sms.sent[0]!.code!, w.deps)).toEqual({ ok: true });
  });

  it('sends one text and stores one code when two copies of a job run at once (at-least-once delivery)', async () => {
    await enqueueSmsJob(subject, idNumber, w.deps);
    const { id } = onlyJob();
    const outcomes = await Promise.all([runSmsJob(id, w.deps), runSmsJob(id, w.deps)]);
    expect(outcomes.sort()).toEqual(['claimed', 'sent']);
    expect(w.deps.sms.sent).toHaveLength(1);
    // The code of the one text is the one that works.
    expect(await checkSmsCode(subject, w.deps.sms.sent[0]!.code!, w.deps)).toEqual({ ok: true });
  });

  it('takes a job whose run crashed once its claim has lapsed, and one given back at once', async () => {
    await enqueueSmsJob(subject, idNumber, w.deps);
    const { id } = onlyJob();
    // A run that crashed after its claim: the next delivery within the lease does nothing.
    expect(await w.deps.smsJobs.claim(id, Math.floor(w.clock.now() / 1000), smsJobLeaseSeconds)).not.toBe(
      'claimed',
    );
    expect(await runSmsJob(id, w.deps)).toBe('claimed');
    w.clock.advanceSeconds(smsJobLeaseSeconds);
    expect(await runSmsJob(id, w.deps)).toBe('sent');
    // A registry that fails gives the claim back: the delivery again (locally at once) runs the job.
    await enqueueSmsJob(subject, idNumber, w.deps);
    const second = onlyJob().id;
    const findPerson = w.deps.registry.findPerson.bind(w.deps.registry);
    w.deps.registry.findPerson = () => Promise.reject(new Error('registry down'));
    await expect(runSmsJob(second, w.deps)).rejects.toThrow('registry down');
    w.deps.registry.findPerson = findPerson;
    expect(await runSmsJob(second, w.deps)).toBe('sent');
    expect(w.deps.sms.sent).toHaveLength(2);
  });

  /** Two jobs of the subject, a phone interval apart, the newer one run (texted and stored). */
  async function newerRunFirst(): Promise<{ older: string }> {
    await enqueueSmsJob(subject, idNumber, w.deps);
    const older = onlyJob().id;
    w.clock.advanceSeconds(smsCodePolicy.phoneIntervalSeconds);
    await enqueueSmsJob(subject, idNumber, w.deps);
    const newer = [...w.deps.smsJobs.jobs.keys()].find((id) => id !== older)!;
    expect(await runSmsJob(newer, w.deps)).toBe('sent');
    return { older };
  }

  it('keeps the code of a newer request when an older job runs late', async () => {
    const { older } = await newerRunFirst();
    expect(await runSmsJob(older, w.deps)).toBe('sent');
    const [newerText, olderText] = w.deps.sms.sent;
    expect(await checkSmsCode(subject, olderText!.code!, w.deps)).toMatchObject({ ok: false });
    expect(await checkSmsCode(subject, newerText!.code!, w.deps)).toEqual({ ok: true });
  });

  /** Makes `target[name]` (a store's step after the send) fail once, then work as before. */
  function failOnce<T, K extends keyof T>(target: T, name: K): void {
    const real = (target[name] as (...args: unknown[]) => Promise<unknown>).bind(target);
    target[name] = vi.fn().mockRejectedValueOnce(new Error('throttled')).mockImplementation(real) as T[K];
  }

  /**
   * Runs a job whose run fails after the send, then again as the queue delivers it once its visibility
   * timeout passed (the claim lapsed by then): one text, the job gone, and the second run's outcome.
   */
  async function failedThenDeliveredAgain(): Promise<SmsJobOutcome> {
    await enqueueSmsJob(subject, idNumber, w.deps);
    const { id } = onlyJob();
    await expect(runSmsJob(id, w.deps)).rejects.toThrow('throttled');
    w.clock.advanceSeconds(smsJobLeaseSeconds);
    const again = await runSmsJob(id, w.deps);
    expect(w.deps.sms.sent).toHaveLength(1);
    expect(w.deps.smsJobs.jobs.size).toBe(0);
    return again;
  }

  it('texts once, and the code received still works, when the job’s removal fails after the send', async () => {
    // Review R17 L2: the delivery again ran the job again: a second text, and its code, stored under the
    // same request time, replaced the first, so the code the person had just received stopped working.
    failOnce(w.deps.smsJobs, 'remove');
    const again = await failedThenDeliveredAgain();
    expect(await checkSmsCode(subject, w.deps.sms.sent[0]!.code!, w.deps)).toEqual({ ok: true });
    expect(again).toBe('already_sent');
  });

  it('texts once when storing the code failed after the send: the person asks again', async () => {
    failOnce(w.deps.smsCodes, 'put');
    expect(await failedThenDeliveredAgain()).toBe('already_sent');
    // That text's code was never stored (nor is it kept anywhere to store later); a new request works.
    expect(await checkSmsCode(subject, w.deps.sms.sent[0]!.code!, w.deps)).toEqual({
      ok: false,
      reason: 'wrong_or_expired_code',
    });
    await enqueueSmsJob(subject, idNumber, w.deps);
    expect(await runSmsJob(onlyJob().id, w.deps)).toBe('sent');
    expect(await checkSmsCode(subject, w.deps.sms.sent[1]!.code!, w.deps)).toEqual({ ok: true });
  });

  it('leaves no working code when an older job runs late after the newer code was used', async () => {
    const { older } = await newerRunFirst();
    expect(await checkSmsCode(subject, w.deps.sms.sent[0]!.code!, w.deps)).toEqual({ ok: true });
    expect(await runSmsJob(older, w.deps)).toBe('sent');
    expect(await checkSmsCode(subject, w.deps.sms.sent[1]!.code!, w.deps)).toMatchObject({ ok: false });
  });

  it('refuses a job rewritten to name another person or purpose, texting and storing nothing', async () => {
    // Another person whose carrier record has the same phone: a job moved to them would be confirmed.
    const otherKey = await personLookupKey(w.deps.lookupMac, parseIdNumber(newIdNumber(), new Date()));
    await w.deps.registry.putPerson({ lookupKey: otherKey, name: '李四', masked: '310104********0022' });
    await w.deps.carrier.putSubscriber({ lookupKey: otherKey, name: '李四', phone });
    for (const [change, withIdNumber] of [
      [{ lookupKey: otherKey }, true],
      [{ lookupKey: otherKey }, false],
      [{ purpose: 'reset' as const }, true],
    ] as const) {
      w.deps.smsJobs.jobs.clear();
      await enqueueSmsJob(subject, withIdNumber ? idNumber : undefined, w.deps);
      const job = onlyJob();
      w.deps.smsJobs.jobs.set(job.id, { ...job, ...change });
      await expect(runSmsJob(job.id, w.deps)).rejects.toMatchObject({ code: 'sms_job_altered' });
    }
    expect(w.deps.sms.sent).toEqual([]);
    expect(w.deps.smsCodes.codes.size).toBe(0);
  });

  it('refuses a job whose sealed ID number is not the person the job names', async () => {
    const otherNumber = parseIdNumber(newIdNumber(), new Date());
    await enqueueSmsJob(subject, otherNumber, w.deps);
    await expect(runSmsJob(onlyJob().id, w.deps)).rejects.toMatchObject({ code: 'sms_job_altered' });
    expect(w.deps.sms.sent).toEqual([]);
  });

  it('drops a job past the code’s lifetime unsent, storing no code', async () => {
    await enqueueSmsJob(subject, idNumber, w.deps);
    const { id } = onlyJob();
    w.clock.advanceSeconds(smsCodePolicy.ttlSeconds);
    expect(await runSmsJob(id, w.deps)).toBe('expired');
    expect(w.deps.sms.sent).toEqual([]);
    expect(w.deps.smsCodes.codes.size).toBe(0);
    expect(w.deps.smsJobs.jobs.size).toBe(0);
  });

  it('sends nothing to a phone the carrier does not confirm, and still removes the job', async () => {
    await enqueueSmsJob({ ...subject, phone: '+8613900139000' }, idNumber, w.deps);
    expect(await runSmsJob(onlyJob().id, w.deps)).toBe('not_confirmed');
    expect(w.deps.sms.sent).toEqual([]);
    expect(w.deps.smsCodes.codes.size).toBe(0);
    expect(w.deps.smsJobs.jobs.size).toBe(0);
  });

  it('texts a person no new code of a purpose, on any phone, once their wrong guesses at live codes reach the daily cap', async () => {
    // Review R19 M1: the ceiling is per phone, so a person with 3 confirmed phones gave 60 guesses a day.
    const phones = [phone, '+8613800138001', '+8613800138002'] as const;
    for (const other of phones.slice(1))
      await w.deps.carrier.putSubscriber({ lookupKey: subject.lookupKey, name: '王小明', phone: other });
    const on = (to: string, purpose = subject.purpose): SmsCodeSubject => ({
      ...subject,
      phone: to,
      purpose,
    });
    const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const sendTo = async (to: SmsCodeSubject) => {
      w.deps.smsJobs.jobs.clear();
      await enqueueSmsJob(to, idNumber, w.deps);
      return runSmsJob(onlyJob().id, w.deps);
    };
    // Guesses at no code (a phone never texted) are not guesses at a live code: they cap nothing.
    for (let i = 0; i < smsCodePolicy.personDailyFailureCap; i++)
      expect(await checkSmsCode(on(phones[2]), '000000', w.deps)).toEqual({
        ok: false,
        reason: 'wrong_or_expired_code',
      });
    // 20 wrong guesses at live codes on phone 1: four codes, each out of tries.
    const perCode = smsCodePolicy.maxTries;
    for (let n = 0; n < smsCodePolicy.personDailyFailureCap / perCode; n++) {
      w.clock.advanceSeconds(smsCodePolicy.phoneIntervalSeconds);
      expect(await sendTo(on(phones[0]))).toBe('sent');
      const text = w.deps.sms.sent.at(-1)!;
      for (let t = 0; t < perCode; t++)
        expect(await checkSmsCode(on(phones[0]), wrong(text.code!), w.deps)).toEqual({
          ok: false,
          reason: 'wrong_or_expired_code',
        });
    }
    const texts = w.deps.sms.sent.length;
    // Phone 2 gets no code for that purpose: nothing texted, nothing stored, the job gone.
    const codesBefore = w.deps.smsCodes.codes.size;
    expect(await sendTo(on(phones[1]))).toBe('person_capped');
    expect(w.deps.sms.sent).toHaveLength(texts);
    expect(w.deps.smsCodes.codes.size).toBe(codesBefore);
    expect(w.deps.smsJobs.jobs.size).toBe(0);
    // Guesses there answer as ever (never `throttled` by this counter: that would tell a live code from none).
    expect(await checkSmsCode(on(phones[1]), '123456', w.deps)).toEqual({
      ok: false,
      reason: 'wrong_or_expired_code',
    });
    // Another purpose is its own, and the next UTC day starts over.
    expect(await sendTo(on(phones[1], 'register'))).toBe('sent');
    w.clock.advanceSeconds(86_400);
    expect(await sendTo(on(phones[1]))).toBe('sent');
    expect(await checkSmsCode(on(phones[1]), w.deps.sms.sent.at(-1)!.code!, w.deps)).toEqual({ ok: true });
  });

  it('throws on a job whose sealed part was moved from another job, sending and storing nothing, keeping it for replay', async () => {
    await enqueueSmsJob(subject, idNumber, w.deps);
    const original = onlyJob();
    const moved = { ...original, id: 'smsj_AAAAAAAAAAAAAAAAAAAAAA' };
    await w.deps.smsJobs.enqueue(moved);
    await expect(runSmsJob(moved.id, w.deps)).rejects.toThrow();
    expect(w.deps.sms.sent).toEqual([]);
    expect(w.deps.smsCodes.codes.size).toBe(0);
    expect(await w.deps.smsJobs.find(moved.id)).toBeDefined();
  });
});
