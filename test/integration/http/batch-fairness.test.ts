import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, onboardIssuer, postJson } from '../../support/http-api.js';
import { drivingLicenceBody, expectJson, getWithToken, newIdNumber } from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * The per-issuer cap on open bulk issuance jobs (docs/batch-issuance.md "Fair use"): the batch queue is
 * shared by every agency, so one issuer may have at most BATCH_MAX_OPEN_JOBS_PER_ISSUER jobs pending or
 * running; one more is `429 too_many_batches` (with `Retry-After`) until one finishes. Another issuer is
 * not affected.
 */
interface BatchJson {
  id: string;
  status: 'running' | 'done';
  total: number;
  issued: number;
}

let runtime: TestRuntime;
let issuerToken: string;
let otherToken: string;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { BATCH_MAX_OPEN_JOBS_PER_ISSUER: '2' });
  issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  const other = await onboardIssuer(runtime, adminToken, { licenceTypes: ['driving-licence'] });
  otherToken = await clientCredentialsToken(runtime, other, 'licences:issue');
}, 60_000);
afterAll(() => runtime?.close());

const items = (count: number) => Array.from({ length: count }, () => drivingLicenceBody(newIdNumber()));
const submit = (count: number | unknown[], token: string, key: string = randomUUID()) =>
  postJson(
    runtime,
    '/licences/batches',
    token,
    { items: typeof count === 'number' ? items(count) : count },
    { 'idempotency-key': key },
  );

describe('POST /licences/batches: at most N open jobs per issuer', () => {
  it('refuses the (N+1)th open job with 429 too_many_batches, not another issuer’s, and accepts again once one is done', async () => {
    // The local queue runs one job at a time: the 300-item job runs for seconds, the next waits behind it.
    const running = await expectJson<BatchJson>(await submit(300, issuerToken), 202);
    const pendingKey = randomUUID();
    const pendingItems = items(1);
    const pending = await expectJson<BatchJson>(await submit(pendingItems, issuerToken, pendingKey), 202);

    const refused = await submit(1, issuerToken);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    const problem = await expectProblem(refused, 429, 'too_many_batches');
    expect(problem.detail).toContain('BATCH_MAX_OPEN_JOBS_PER_ISSUER=2');

    // A retry of a job already accepted is answered as before (it holds its slot), not refused.
    expect((await expectJson<BatchJson>(await submit(pendingItems, issuerToken, pendingKey), 202)).id).toBe(
      pending.id,
    );
    // Another agency's import is not held back by this issuer's.
    const theirs = await expectJson<BatchJson>(await submit(1, otherToken), 202);

    await runtime.drainBatches();
    expect(runtime.batchFailures()).toEqual([]);
    for (const [id, token] of [
      [running.id, issuerToken],
      [pending.id, issuerToken],
      [theirs.id, otherToken],
    ] as const) {
      const done = await expectJson<BatchJson>(
        await getWithToken(runtime, `/licences/batches/${id}`, token),
        200,
      );
      expect(done.status).toBe('done');
    }
    // Both slots given back: two new jobs are accepted, the third refused again.
    await expectJson<BatchJson>(await submit(300, issuerToken), 202);
    await expectJson<BatchJson>(await submit(1, issuerToken), 202);
    await expectProblem(await submit(1, issuerToken), 429, 'too_many_batches');
    await runtime.drainBatches();
    await expectJson<BatchJson>(await submit(1, issuerToken), 202);
    await runtime.drainBatches();
  }, 180_000);
});
