import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { smsCodePolicy } from '../../../shared/identity/sms-codes.js';
import { smsJobContext } from '../../../shared/identity/sms-jobs.js';
import { outbox } from '../../support/in-memory-sms.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * SMS codes are sent after the answer (docs/security.md, "Timing"): the request path leaves a sealed job,
 * and the `sms-codes` function, fed by the SMS queue, asks the carrier and texts. So nothing the provider
 * does (or the carrier's check before it) is inside the time of the answer, and a confirmed phone is
 * answered as an unconfirmed one is. Over real HTTP against the local runtime, whose SMS provider writes
 * to DATA_DIR/outbox/sms.jsonl and whose SMS queue can be held.
 */
let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

/** What the provider took so far, read as it is (no draining of the queue first). */
const providerSends = async () =>
  (await readFile(join(runtime.dataDir, 'outbox', 'sms.jsonl'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean).length;

const postForm = (fields: Record<string, string>) =>
  fetch(`${runtime.baseUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ consent: 'yes', ...fields }),
  });

describe('SMS codes sent after the answer', () => {
  it('answers a confirmed phone’s request with no provider call; the code arrives once the queue runs, and works', async () => {
    const person = registryPeople[15]!;
    const fields = { idNumber: person.idNumber, name: person.name, phone: person.phone };
    const before = await providerSends();
    // The queue's consumer held, as a slow one would be: the request path alone runs.
    const release = runtime.smsQueue?.hold() ?? (() => undefined);
    let released = false;
    try {
      const asked = await postForm({ ...fields, send: '1' });
      expect(asked.status).toBe(200);
      expect(await asked.text()).toContain('如果该手机号是运营商登记在您名下的号码');
      expect(await providerSends()).toBe(before);
      release();
      released = true;
    } finally {
      if (!released) release();
    }
    const codes = (await outbox(runtime)).filter((m) => m.to === person.phone).map((m) => m.code);
    expect(codes).toHaveLength(1);
    expect(codes[0]).toMatch(/^\d{6}$/);

    const password = 'After-Answer-2026!';
    const done = await postForm({ ...fields, code: codes[0]!, password, passwordConfirm: password });
    expect(done.status, await done.clone().text()).toBe(201);
    expect(await done.text()).toContain('<dd>三级（实名并核验本人）</dd>');
  });

  it('keeps a job that cannot be opened in the dead-letter failures after its deliveries, sending and storing nothing', async () => {
    const queue = runtime.smsQueue!;
    const person = registryPeople[16]!;
    const deps = dependencies();
    const idNumber = parseIdNumber(person.idNumber, new Date());
    const lookupKey = await personLookupKey(deps.lookupMac, idNumber);
    // A job whose sealed part was sealed for another job (moved, or altered): its context does not open it.
    const id = 'smsj_MovedMovedMovedMovedMo';
    const sealed = await deps.smsJobSealer.seal(smsJobContext('smsj_OtherOtherOtherOtherOt'), {
      phone: person.phone,
      idNumber: String(idNumber),
    });
    const failedBefore = queue.failures.length;
    await deps.smsJobs.enqueue({
      id,
      purpose: 'register',
      lookupKey,
      sealed,
      expiresAt: Math.floor(Date.now() / 1000) + smsCodePolicy.ttlSeconds,
    });
    await queue.drain();
    expect(queue.failures.slice(failedBefore)).toEqual([
      { body: JSON.stringify({ smsJob: id }), error: expect.any(String) },
    ]);
    expect((await outbox(runtime)).filter((m) => m.to === person.phone)).toEqual([]);
    // Left in the batch table for a replay (docs/operating.md), and no code stored for anyone.
    expect(await deps.smsJobs.find(id)).toMatchObject({ id, lookupKey });
    const { Items = [] } = await deps.doc.send(
      new ScanCommand({
        TableName: deps.config.tableName,
        FilterExpression: 'begins_with(pk, :code)',
        ExpressionAttributeValues: { ':code': 'sms-code#' },
      }),
    );
    // The first test's code was spent by its registration; nothing else was stored.
    expect(Items).toEqual([]);
  });
});
