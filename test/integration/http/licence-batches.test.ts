import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { table } from '../../../shared/adapters/dynamo/table.js';
import { qrVersion } from '../../../shared/licence/qr.js';
import { expectProblem, onboardIssuer, postJson } from '../../support/http-api.js';
import { answerErrors, compileDocument } from '../../support/openapi-responses.js';
import {
  drivingLicenceBody,
  expectJson,
  getWithToken,
  newIdNumber,
  verifiedTrustList,
  type LicenceJson,
} from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { syncedOfflineVerifier, verified } from '../verify/helpers.js';

/**
 * Bulk issuance (存量证照电子化, API.md "Bulk issuance", docs/batch-issuance.md) through the local runtime:
 * the job runs off the request path (the local batch queue), signs with one certified batch key (counted
 * at the KMS emulator), and every licence it issues verifies like any other, offline and online.
 */
interface BatchJson {
  id: string;
  status: 'running' | 'done';
  total: number;
  issued?: number;
  failed?: number;
  errors?: Array<{ index: number; code: string; detail: string }>;
}

let runtime: TestRuntime;
let issuerToken: string;

beforeAll(async () => {
  // Tokens that outlive the 10,000-licence test (minutes on a loaded machine; the default is 10), whose
  // 10 jobs are all open at once (the per-issuer cap is batch-fairness.test.ts's).
  runtime = await startTestRuntime(undefined, {
    ACCESS_TOKEN_TTL_SECONDS: '3600',
    BATCH_MAX_OPEN_JOBS_PER_ISSUER: '10',
  });
  issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
}, 60_000);
afterAll(() => runtime?.close());

const submit = (items: unknown[], key: string = randomUUID(), token = issuerToken) =>
  postJson(runtime, '/licences/batches', token, { items }, { 'idempotency-key': key });

async function finished(id: string, token = issuerToken): Promise<BatchJson> {
  await runtime.drainBatches();
  expect(runtime.batchFailures()).toEqual([]);
  return expectJson<BatchJson>(await getWithToken(runtime, `/licences/batches/${id}`, token), 200);
}

async function allLicences(id: string): Promise<LicenceJson[]> {
  const out: LicenceJson[] = [];
  let cursor: string | undefined;
  do {
    const page = await expectJson<{ items: LicenceJson[]; cursor?: string }>(
      await getWithToken(
        runtime,
        `/licences/batches/${id}/licences${cursor ? `?cursor=${cursor}` : ''}`,
        issuerToken,
      ),
      200,
    );
    out.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

const items = (count: number) => Array.from({ length: count }, () => drivingLicenceBody(newIdNumber()));

describe('POST /licences/batches', () => {
  it('issues 1,000 licences with one KMS signature, reports bad items by index, and each verifies offline and online', async () => {
    const body = items(1000);
    body[3] = { ...body[3], holderName: undefined }; // not a POST /licences body: refused at once
    body[7] = drivingLicenceBody('110105198001011230'); // a bad check character: refused by the issuance
    body[11] = drivingLicenceBody(newIdNumber(), { type: 'no-such-type' });
    runtime.kms!.resetStats();
    const key = randomUUID();
    const accepted = await expectJson<BatchJson>(await submit(body, key), 202);
    expect(accepted).toMatchObject({ status: 'running', total: 1000 });
    expect(accepted.id).toMatch(/^bat_[A-Za-z0-9_-]{22}$/);

    const job = await finished(accepted.id);
    expect(job).toMatchObject({ id: accepted.id, status: 'done', total: 1000, issued: 997, failed: 3 });
    // In index order, refused at submission (3: not a body; 11: not a catalogue type) or by the job (7).
    expect(job.errors?.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 3, code: 'invalid_item' },
      { index: 7, code: 'invalid_id_number' },
      { index: 11, code: 'unknown_licence_type' },
    ]);
    expect(job.errors?.[0]?.detail).toMatch(/holderName/);
    // The scale goal: one KMS signature for the whole batch (the batch key's certificate).
    expect(runtime.kms!.stats().Sign ?? 0).toBe(1);

    const licences = await allLicences(accepted.id);
    expect(licences).toHaveLength(997);
    expect(new Set(licences.map((licence) => licence.id)).size).toBe(997);
    const kids = new Set(licences.map((licence) => decodeProtectedHeader(licence.credential).kid));
    expect(kids.size).toBe(1);
    const [batchKid] = kids;

    // The trust list names the batch key with its window; the issuer's own key still signs singles.
    const trustList = await verifiedTrustList(runtime);
    const entry = trustList.issuers.find((issuer) => issuer.id === runtime.credentials.issuer.id)!;
    const batchKey = entry.batchKeys?.find((key) => key.kid === batchKid);
    expect(batchKey).toBeDefined();
    expect(entry.jwks.keys.map((key) => key.kid)).not.toContain(batchKid);
    // The document a credential's `iss` answers names it too, as its OpenAPI schema says (review R25 M1:
    // it answered batchKeys, which the schema, additionalProperties false, did not have).
    const issuerPath = `/issuers/${runtime.credentials.issuer.id}`;
    const metadata = await fetch(`${runtime.baseUrl}${issuerPath}`);
    const check = compileDocument(await (await fetch(`${runtime.baseUrl}/openapi.json`)).json());
    expect(await answerErrors(check, 'GET', '/issuers/{id}', metadata)).toEqual([]);
    expect(((await metadata.json()) as { batchKeys?: { kid: string }[] }).batchKeys).toContainEqual(
      expect.objectContaining({ kid: batchKid }),
    );
    for (const licence of licences) {
      const { iat } = decodeJwt(licence.credential);
      expect(iat).toBeGreaterThanOrEqual(batchKey!.nbf);
      expect(iat).toBeLessThanOrEqual(batchKey!.exp);
    }

    // Online: POST /verify, which also compares with the stored record.
    for (const licence of licences.slice(0, 5)) {
      expect(await verified(runtime, licence.credential)).toMatchObject({
        verdict: 'valid',
        licence: { id: licence.id },
      });
    }

    // Offline, with the verifier package synced from the service: every one is valid.
    const { verifier } = await syncedOfflineVerifier(runtime.baseUrl);
    for (const licence of licences) {
      const result = await verifier.verify(licence.credential);
      expect(result.verdict, `${licence.id}: ${result.reason}`).toBe('valid');
    }
    // The static QR budget: version 25 at level M, batch credentials as single ones (the longest here).
    const longest = licences.reduce((a, b) => (b.credential.length > a.credential.length ? b : a));
    expect(qrVersion(longest.credential)).toBeLessThanOrEqual(25);

    // The same key and body: the same job, nothing issued again; another body: 409.
    const again = await expectJson<BatchJson>(await submit(body, key), 202);
    expect(again).toMatchObject({ id: accepted.id, status: 'done', issued: 997 });
    await runtime.drainBatches();
    expect((await allLicences(accepted.id)).length).toBe(997);
    await expectProblem(await submit(items(2), key), 409, 'idempotency_key_reused');
  }, 300_000);

  it('issues 10,000 licences in 10 batches with at most 10 KMS signatures', async () => {
    runtime.kms!.resetStats();
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      ids.push((await expectJson<BatchJson>(await submit(items(1000)), 202)).id);
    }
    let issued = 0;
    for (const id of ids) {
      const job = await finished(id);
      expect(job).toMatchObject({ status: 'done', failed: 0 });
      issued += job.issued ?? 0;
    }
    expect(issued).toBe(10_000);
    const signatures = runtime.kms!.stats().Sign ?? 0;
    expect(signatures).toBeLessThanOrEqual(10);
    // One batch key serves every job of the issuer in its window (the first test's, when run before).
    expect(signatures).toBeLessThanOrEqual(1);
  }, 900_000);

  it('never writes a holder’s ID number or name to the table while the items wait: they are sealed', async () => {
    const idNumbers = Array.from({ length: 150 }, () => newIdNumber());
    const writes: string[] = [];
    // Where the job's items and the licences it issued were written, by partition prefix.
    const tablesOf = { batch: new Set<unknown>(), licence: new Set<unknown>() };
    const stop = runtime.dynamo!.onWrite((write) => {
      const item = write.input.Item as Record<string, { S?: string }> | undefined;
      if (item?.pk?.S?.startsWith('batch-items#')) writes.push(JSON.stringify(write.input));
      if (item?.pk?.S?.startsWith('batch')) tablesOf.batch.add(write.input.TableName);
      if (item?.pk?.S?.startsWith('licence#')) tablesOf.licence.add(write.input.TableName);
    });
    try {
      const body = idNumbers.map((idNumber) => drivingLicenceBody(idNumber));
      const accepted = await expectJson<BatchJson>(await submit(body), 202);
      expect(await finished(accepted.id)).toMatchObject({ status: 'done', issued: 150 });
    } finally {
      stop();
    }
    // The job and its items in the batch table alone (its stream is the batch pipe's; the service table
    // has none), the licences it issued in the service table.
    expect([...tablesOf.batch]).toEqual([runtime.config.batchTableName]);
    expect([...tablesOf.licence]).toEqual([runtime.config.tableName]);
    // Two chunks stored sealed, then each replaced by its outcome: four writes, none in clear.
    expect(writes).toHaveLength(4);
    expect(writes.filter((write) => write.includes('"sealedItems"'))).toHaveLength(2);
    for (const write of writes) {
      for (const idNumber of idNumbers) expect(write).not.toContain(idNumber);
      expect(write).not.toContain('李测试');
    }
  });

  it('expires the waiting items 30 days after submission; the processed outcome keeps no expiry (R9 M5)', async () => {
    const chunks: Array<Record<string, { S?: string; N?: string }>> = [];
    const stop = runtime.dynamo!.onWrite((write) => {
      const item = write.input.Item as Record<string, { S?: string; N?: string }> | undefined;
      if (item?.pk?.S?.startsWith('batch-items#')) chunks.push(item);
    });
    const before = Math.floor(Date.now() / 1000);
    try {
      const accepted = await expectJson<BatchJson>(await submit(items(3)), 202);
      expect(await finished(accepted.id)).toMatchObject({ status: 'done', issued: 3 });
    } finally {
      stop();
    }
    const after = Math.floor(Date.now() / 1000);
    const [waiting, processed] = chunks;
    // The table's TTL attribute (dynalite never expires items; DynamoDB does, within days of it).
    expect(table.ttlAttribute).toBe('expiresAt');
    expect(waiting?.sealedItems).toBeDefined();
    const expiry = Number(waiting?.expiresAt?.N);
    expect(expiry).toBeGreaterThanOrEqual(before + 30 * 86_400);
    expect(expiry).toBeLessThanOrEqual(after + 30 * 86_400);
    expect(processed?.sealedItems).toBeUndefined();
    expect(processed?.expiresAt).toBeUndefined();
  });

  it('refuses a body out of bounds or without a key, and hides a batch from other issuers', async () => {
    await expectProblem(
      await postJson(runtime, '/licences/batches', issuerToken, { items: items(1) }),
      400,
      'idempotency_key_required',
    );
    await expectProblem(await submit(items(1), 'abc'), 400, 'idempotency_key_invalid');
    // A row repeated: reported by its index, not issued; the others are (review R23 L3).
    const [row, another] = items(2);
    const repeated = await submit([row, another, row]);
    expect(repeated.status).toBe(202);
    const { id } = (await repeated.json()) as { id: string };
    expect(await finished(id)).toMatchObject({
      issued: 2,
      failed: 1,
      errors: [{ index: 2, code: 'duplicate_item' }],
    });
    await expectProblem(await submit([]), 400);
    await expectProblem(await submit(new Array(1001).fill({})), 400);
    await expectProblem(
      await postJson(
        runtime,
        '/licences/batches',
        issuerToken,
        { items: items(1), extra: 1 },
        {
          'idempotency-key': randomUUID(),
        },
      ),
      400,
    );

    const mine = await expectJson<BatchJson>(await submit(items(2)), 202);
    await finished(mine.id);
    const adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
    const other = await onboardIssuer(runtime, adminToken, { licenceTypes: ['driving-licence'] });
    const otherToken = await clientCredentialsToken(runtime, other, 'licences:issue');
    await expectProblem(
      await getWithToken(runtime, `/licences/batches/${mine.id}`, otherToken),
      404,
      'batch_not_found',
    );
    await expectProblem(
      await getWithToken(runtime, `/licences/batches/${mine.id}/licences`, otherToken),
      404,
      'batch_not_found',
    );
    // The same Idempotency-Key from another issuer is another job.
    const theirs = await expectJson<BatchJson>(await submit(items(1), randomUUID(), otherToken), 202);
    expect(theirs.id).not.toBe(mine.id);
    await expectProblem(
      await getWithToken(runtime, `/licences/batches/${mine.id}/licences?cursor=7`, issuerToken),
      400,
      'invalid_cursor',
    );
  }, 120_000);
});
