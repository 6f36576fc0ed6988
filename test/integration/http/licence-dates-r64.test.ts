import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValidDay } from '../../../shared/validity-dates.js';
import { postJson } from '../../support/http-api.js';
import {
  drivingLicenceBody,
  expectJson,
  getWithToken,
  listAll,
  newIdNumber,
} from '../../support/licences.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { demoTokens } from '../verify/helpers.js';

/**
 * Review R64-1: validity dates far in the future. A start in 9995 with a type's default (six years) made an
 * end in year 10001 that `toISOString` could not write back (500; in a batch, a chunk that faulted on every
 * delivery, its job `running` for ever); a start in year 10000 (reached through an offset) sorted, as text,
 * before an end in 9999 and was issued after it; and `9999-12-31T23:59:59Z`, a "no expiry" stand-in, was
 * stored as `+010000-01-01T16:00:00.000Z`, listed among the expired.
 */
let runtime: TestRuntime;
let tokens: Awaited<ReturnType<typeof demoTokens>>;
beforeAll(async () => {
  runtime = await startTestRuntime();
  tokens = await demoTokens(runtime);
}, 60_000);
afterAll(() => runtime?.close());

async function issue(overrides: Record<string, unknown>) {
  const response = await postJson(
    runtime,
    '/licences',
    tokens.issuer,
    drivingLicenceBody(newIdNumber(), overrides),
    { 'idempotency-key': randomUUID() },
  );
  return { status: response.status, body: JSON.parse(await response.text()) as Record<string, unknown> };
}

describe('review R64-1: validity dates at the end of year 9999', () => {
  it('a start whose six-year default would end after 9999-12-31 is a 400 naming validFrom, not a 500', async () => {
    const answer = await issue({ validFrom: '9995-01-01T00:00:00+08:00' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body).toMatchObject({
      code: 'invalid_validity',
      errors: [{ path: 'validFrom', code: 'too_big', params: { maximum: '9993-12-31' } }],
    });
    // The last start the default allows is issued, through 9999-12-31.
    const last = await issue({ validFrom: '9993-12-31T00:00:00+08:00' });
    expect(last.status, JSON.stringify(last.body)).toBe(201);
    expect(last.body.validUntil).toBe('9999-12-31T16:00:00.000Z');
    expect(lastValidDay(last.body.validUntil as string)).toBe('9999-12-31');
  });

  it('a start in year 10000 through its offset is a 400 naming validFrom, not issued after its end', async () => {
    const answer = await issue({
      validFrom: '9999-12-31T23:00:00-08:00', // 10000-01-01T07:00:00Z
      validUntil: '9999-12-30T00:00:00+08:00',
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body).toMatchObject({
      code: 'invalid_request',
      errors: [{ path: 'validFrom', code: 'too_big' }],
    });
    const end = await issue({ validUntil: '9999-12-31T23:00:00-08:00' });
    expect(end.status, JSON.stringify(end.body)).toBe(400);
    expect(end.body).toMatchObject({ errors: [{ path: 'validUntil', code: 'too_big' }] });
    const early = await issue({ validFrom: '0000-01-01T00:00:00+14:00' }); // -000001-12-31T10:00:00Z
    expect(early.status, JSON.stringify(early.body)).toBe(400);
    expect(early.body).toMatchObject({ errors: [{ path: 'validFrom', code: 'too_small' }] });
  });

  it('an end of 9999-12-31T23:59:59Z (“no expiry”) is issued through 9999-12-31 and listed as valid', async () => {
    const answer = await issue({ validUntil: '9999-12-31T23:59:59Z' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body.validUntil).toBe('9999-12-31T16:00:00.000Z');
    expect(lastValidDay(answer.body.validUntil as string)).toBe('9999-12-31');
    const id = answer.body.id as string;
    const read = await expectJson<{ status: string }>(
      await getWithToken(runtime, `/licences/${encodeURIComponent(id)}`, tokens.issuer),
      200,
    );
    expect(read.status).toBe('valid');
    expect((await listAll(runtime, tokens.issuer, 'status=valid')).map((l) => l.id)).toContain(id);
    expect((await listAll(runtime, tokens.issuer, 'status=expired')).map((l) => l.id)).not.toContain(id);
  });
});

describe('review R64-1 in a batch: such an item is refused alone, the job finishes', () => {
  it('refuses the far-future items by index and issues the rest', async () => {
    const items = [
      drivingLicenceBody(newIdNumber()),
      drivingLicenceBody(newIdNumber(), { validFrom: '9995-01-01T00:00:00+08:00' }), // default past 9999
      drivingLicenceBody(newIdNumber(), { validFrom: '9999-12-31T23:00:00-08:00' }), // year 10000
      drivingLicenceBody(newIdNumber(), { validUntil: '9999-12-31T23:59:59Z' }),
    ];
    const submitted = await postJson(
      runtime,
      '/licences/batches',
      tokens.issuer,
      { items },
      { 'idempotency-key': randomUUID() },
    );
    const { id } = await expectJson<{ id: string }>(submitted, 202);
    await runtime.drainBatches();
    expect(runtime.batchFailures()).toEqual([]);
    const job = await expectJson<{
      status: string;
      issued: number;
      failed: number;
      errors: Array<{ index: number; code: string; detail: string }>;
    }>(await getWithToken(runtime, `/licences/batches/${id}`, tokens.issuer), 200);
    expect(job).toMatchObject({ status: 'done', issued: 2, failed: 2 });
    expect(job.errors).toEqual([
      expect.objectContaining({ index: 1, code: 'invalid_validity' }),
      expect.objectContaining({ index: 2, code: 'invalid_item' }),
    ]);
    expect(job.errors[0]!.detail).toContain('validFrom');
    expect(job.errors[1]!.detail).toContain('validFrom');
  });
});
