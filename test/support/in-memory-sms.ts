import { expect } from 'vitest';
import {
  runSmsJob,
  type SmsJob,
  type SmsJobDependencies,
  type SmsJobQueue,
} from '../../shared/identity/sms-jobs.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mac } from '../../shared/crypto/mac.js';
import { parseIdNumber } from '../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../shared/identifiers/lookup-key.js';
import type { CarrierStore, CarrierSubscriber } from '../../shared/identity/registry.js';
import type { SmsCodeStore, StoredSmsCode } from '../../shared/identity/sms-code-store.js';
import {
  normalisePhone,
  phoneDigest,
  smsCodePolicy,
  type SmsCodeDependencies,
} from '../../shared/identity/sms-codes.js';
import type { SmsMessage, SmsSender } from '../../shared/identity/sms-sender.js';
import type { PlatformConsents, SignInRevocation } from '../../shared/identity/sign-in-revocation.js';
import type { OwedSecurityNotice, SecurityNoticeOutbox } from '../../shared/pending-work/pending-work.js';
import { InMemoryEnvelopeSealer } from './in-memory-batches.js';
import { InMemoryCarrierRegistry } from './in-memory-carrier.js';
import {
  InMemoryAccountStore,
  InMemoryLoginAttemptStore,
  InMemoryRegistry,
  TestClock,
} from './in-memory-identity.js';
import { fakeMac } from './in-memory.js';

/**
 * The {@link SmsCodeStore} contract in memory, laid out as the DynamoDB adapter: the codes (never their
 * tries) and, apart, the tries of each stored code by its id; and the request time and expiry of the last
 * code used of each key (the DynamoDB adapter's `sms-used#` marker).
 */
export class InMemorySmsCodeStore implements SmsCodeStore {
  readonly codes = new Map<string, Omit<StoredSmsCode, 'tries'> & { codeId: number }>();

  /** The `sms-used#` markers: the used code's request time and expiry, as `consume` writes them. */
  readonly used = new Map<string, { requestedAt: number; expiresAt?: number }>();
  readonly #tries = new Map<string, number>();
  #stored = 0;

  async put(
    key: string,
    code: { codeMac: string; expiresAt: number; requestedAt: number },
  ): Promise<boolean> {
    await Promise.resolve();
    if ((this.codes.get(key)?.requestedAt ?? -Infinity) > code.requestedAt) return false;
    // As the DynamoDB adapter: a used code of the same request refuses it too, and an implausible marker
    // (no expiry, its request not before it, or an expiry later than this code's and a minute) is none.
    const marker = this.used.get(key);
    const plausible =
      marker?.expiresAt !== undefined &&
      marker.requestedAt < marker.expiresAt &&
      marker.expiresAt <= code.expiresAt + 60;
    if (marker && plausible && marker.requestedAt >= code.requestedAt) return false;
    this.codes.set(key, { ...code, codeId: ++this.#stored });
    return true;
  }

  /** The tries counted on the placeholder counter of `key` (checks with no code, `whenNone`). */
  triesWithNoCode(key: string): number {
    return this.#tries.get(`${key}#none`) ?? 0;
  }

  async countTry(
    key: string,
    maxTries: number,
    nowSeconds: number,
    whenNone?: { expiresAt: number },
  ): Promise<StoredSmsCode | undefined> {
    // Asynchronous like a real store; the check and the count are then one synchronous step.
    await Promise.resolve();
    const code = this.codes.get(key);
    // No code to count on: the try goes on the placeholder counter when asked, as in the DynamoDB adapter
    // (its expiry is not kept: nothing here reads it).
    const none = () => {
      const tries = this.#tries.get(`${key}#none`) ?? 0;
      if (whenNone && tries < maxTries) this.#tries.set(`${key}#none`, tries + 1);
      return undefined;
    };
    if (!code || code.expiresAt <= nowSeconds) return none();
    const counter = `${key}#${code.codeId}`;
    const tries = this.#tries.get(counter) ?? 0;
    if (tries >= maxTries) return none();
    this.#tries.set(counter, tries + 1);
    return {
      codeMac: code.codeMac,
      expiresAt: code.expiresAt,
      requestedAt: code.requestedAt,
      tries: tries + 1,
    };
  }

  async consume(key: string, used: Omit<StoredSmsCode, 'tries'>, nowSeconds: number): Promise<boolean> {
    await Promise.resolve();
    const code = this.codes.get(key);
    if (!code || code.codeMac !== used.codeMac || code.requestedAt !== used.requestedAt) return false;
    if (code.expiresAt <= nowSeconds) return false;
    this.codes.delete(key);
    this.used.set(key, { requestedAt: code.requestedAt, expiresAt: code.expiresAt });
    return true;
  }
}

/** Texts kept in memory, newest last. */
export class MemorySmsSender implements SmsSender {
  readonly sent: SmsMessage[] = [];
  async send(message: SmsMessage): Promise<void> {
    this.sent.push(message);
  }
}

/** Records whose sign-ins were ended. */
export class RecordingSignInRevocation implements SignInRevocation, PlatformConsents {
  readonly ended: Array<{ personId: string; keepSession?: string }> = [];
  /** The people whose consents to platforms were withdrawn (`PlatformConsents`), in order. */
  readonly withdrawn: string[] = [];
  async endAll(personId: string, options: { keepSession?: string } = {}): Promise<void> {
    this.ended.push({ personId, ...options });
  }
  async withdrawAll(personId: string): Promise<number> {
    this.withdrawn.push(personId);
    return 0;
  }
}

/**
 * A carrier registry (三要素核验) for the local runtime in tests, by ID number: confirms the (number, name,
 * phone) triples added to it. Given to the runtime with `startTestRuntime(…, { carrier: (operator) =>
 * carrier.using(operator.lookupMac) })`, as the lookup keys it is asked about are the runtime's.
 */
export class CarrierOfNumbers implements CarrierStore {
  readonly #people: Array<{ idNumber: string; name: string; phone: string }> = [];
  readonly #subscribers: CarrierSubscriber[] = [];
  #mac: Mac | undefined;

  using(mac: Mac): this {
    this.#mac = mac;
    return this;
  }

  add(person: { idNumber: string; name: string; phone: string }): void {
    this.#people.push(person);
  }

  /** What the local seed records (its people, by lookup key). */
  async putSubscriber(subscriber: CarrierSubscriber): Promise<void> {
    this.#subscribers.push(subscriber);
  }

  async confirms(query: { lookupKey: string; name: string; phone: string }): Promise<boolean> {
    const { lookupKey, name, phone } = query;
    if (this.#subscribers.some((s) => s.lookupKey === lookupKey && s.name === name && s.phone === phone))
      return true;
    if (!this.#mac) throw new Error('CarrierOfNumbers needs the runtime’s lookup MAC (using)');
    for (const person of this.#people) {
      if (person.name !== query.name || person.phone !== query.phone) continue;
      const key = await personLookupKey(this.#mac, parseIdNumber(person.idNumber, new Date()));
      if (key === query.lookupKey) return true;
    }
    return false;
  }
}

/**
 * The texts the local runtime sent (its outbox file), oldest first, once every code asked for so far has
 * been through the SMS queue (codes are sent after the answer, by `sms-codes`).
 */
export async function outbox(runtime: {
  dataDir: string;
  smsQueue?: { drain(): Promise<void> } | undefined;
}): Promise<Array<{ at: string; to: string; text: string; code?: string }>> {
  await runtime.smsQueue?.drain();
  const dataDir = runtime.dataDir;
  const text = await readFile(join(dataDir, 'outbox', 'sms.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { at: string; to: string; text: string; code?: string });
}

/**
 * The security notices completed changes owed (shared/identity/security-notices.ts), recorded once per
 * pointer, for tests of a change that do not text them.
 */
export class RecordedSecurityNotices implements SecurityNoticeOutbox {
  readonly owed: OwedSecurityNotice[] = [];
  async owe(notice: OwedSecurityNotice): Promise<void> {
    if (!this.owed.some((owed) => owed.pointerId === notice.pointerId)) this.owed.push(notice);
  }
}

/** {@link SmsJobQueue} in memory: the jobs left by requests, until the sender runs them. */
export class InMemorySmsJobQueue implements SmsJobQueue {
  readonly jobs = new Map<string, SmsJob>();
  async enqueue(job: SmsJob): Promise<void> {
    if (this.jobs.has(job.id)) throw new Error(`job ${job.id} exists`);
    this.jobs.set(job.id, { ...job });
  }
  async find(id: string): Promise<SmsJob | undefined> {
    const job = this.jobs.get(id);
    return job && { ...job };
  }
  readonly #claimedUntil = new Map<string, number>();
  async claim(id: string, nowSeconds: number, leaseSeconds: number): Promise<SmsJob | 'absent' | 'claimed'> {
    // Asynchronous like a real store; the check and the claim are then one synchronous step.
    await Promise.resolve();
    const job = this.jobs.get(id);
    if (!job) return 'absent';
    if ((this.#claimedUntil.get(id) ?? 0) > nowSeconds) return 'claimed';
    this.#claimedUntil.set(id, nowSeconds + leaseSeconds);
    return { ...job };
  }
  async release(id: string): Promise<void> {
    this.#claimedUntil.delete(id);
  }
  async markSent(id: string, nowSeconds: number): Promise<boolean> {
    await Promise.resolve();
    const job = this.jobs.get(id);
    if (!job || job.sentAt !== undefined) return false;
    job.sentAt = nowSeconds;
    return true;
  }
  async remove(id: string): Promise<void> {
    this.jobs.delete(id);
    this.#claimedUntil.delete(id);
  }
  /** Runs every job waiting, oldest first, as the `sms-codes` function would. */
  async runAll(deps: SmsJobDependencies): Promise<void> {
    for (const id of [...this.jobs.keys()]) await runSmsJob(id, deps);
  }
}

/**
 * Today's codes to `phone` (as typed) used up, as `smsCodePolicy.phoneDailyCap` sends would have: the
 * daily counter the send limits keep (`admitSend`), written through the runtime's own store, so that the
 * next ask is refused with a wait of about a day, or of `secondsLeft` (a cap in its last minute).
 */
export async function phoneDayUsedUp(
  deps: Pick<SmsCodeDependencies, 'loginAttempts' | 'lookupMac'>,
  phone: string,
  secondsLeft = 86_400,
): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const digest = await phoneDigest(deps.lookupMac, normalisePhone(phone)!);
  const firstSend = now + secondsLeft - 86_400;
  const counter = { failures: smsCodePolicy.phoneDailyCap, lastFailureAt: firstSend };
  const written = await deps.loginAttempts.replace(
    `sms-send#phone#${digest}#day`,
    undefined,
    counter,
    firstSend + 86_400,
    now,
  );
  if (!written) throw new Error('the phone already had a daily counter');
}

/** The script and fetch sources a page's CSP allows (`undefined` when it names none). */
export function scriptSources(response: Response) {
  const csp = response.headers.get('content-security-policy') ?? '';
  const directive = (name: string) =>
    csp
      .split(';')
      .map((part) => part.trim())
      .find((part) => part.startsWith(`${name} `));
  return { script: directive('script-src'), connect: directive('connect-src') };
}

/**
 * Checks that `refused` is a daily cap's answer to 获取验证码 (429, a `Retry-After`, the button naming the
 * cap) with no countdown on the page (no `data-resend-after`, no script, no `script-src`), however short
 * the wait, and gives its HTML.
 */
export async function dailyCapPage(refused: Response): Promise<string> {
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(scriptSources(refused).script).toBeUndefined();
  const html = await refused.text();
  expect(html).toContain('data-limit="daily"');
  expect(html).not.toContain('data-resend-after');
  expect(html).not.toContain('sms-countdown.js');
  return html;
}

/**
 * What the `sms-codes` function runs a job with, in memory (codes, send limits, sender, registries, the
 * job queue and its sealer), on `clock`: the base of the SMS unit tests' worlds.
 */
export function smsJobDependencies(clock = new TestClock()) {
  const deps = {
    smsCodes: new InMemorySmsCodeStore(),
    loginAttempts: new InMemoryLoginAttemptStore(),
    sms: new MemorySmsSender(),
    lookupMac: fakeMac,
    clock,
    accounts: new InMemoryAccountStore(),
    registry: new InMemoryRegistry(),
    carrier: new InMemoryCarrierRegistry(),
    smsJobs: new InMemorySmsJobQueue(),
    smsJobSealer: new InMemoryEnvelopeSealer(),
  } satisfies SmsJobDependencies;
  // The security notices a completed change owes (a takeover, a reset), recorded apart from the codes' jobs.
  return { ...deps, securityNotices: new RecordedSecurityNotices() };
}
