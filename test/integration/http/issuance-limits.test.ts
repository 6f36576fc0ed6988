import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { keys } from '../../../shared/adapters/dynamo/keys.js';
import { maxCredentialQrVersion, qrVersion } from '../../../shared/licence/qr.js';
import { expectProblem, newCreditCode, onboardIssuer, postJson, scanItems } from '../../support/http-api.js';
import {
  businessLicenceBody,
  drivingLicenceBody,
  expectJson,
  getWithToken,
  issueLicence,
  licencePath,
  newIdNumber,
  type LicenceJson,
} from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * Issuance input limits (review 5): a credential must fit its QR code, a batch chunk a DynamoDB item,
 * licence text must hold no control or bidi characters, a batch item's error no ID number, and an
 * issuer only the catalogue's types.
 */
let runtime: TestRuntime;
let adminToken: string;
let issuerToken: string;
/** An issuer of business licences in Shanghai (a regional type). */
let business: { token: string };

beforeAll(async () => {
  runtime = await startTestRuntime();
  adminToken = await clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');
  issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  const created = await onboardIssuer(runtime, adminToken, { licenceTypes: ['business-licence'] });
  business = { token: await clientCredentialsToken(runtime, created, 'licences:issue') };
}, 60_000);
afterAll(() => runtime?.close());

const businessBody = (fields: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) => {
  const body = businessLicenceBody(newCreditCode('91', '310104'), newIdNumber('310104'), overrides);
  return { ...body, fields: { ...(body.fields as Record<string, unknown>), ...fields } };
};

describe('a credential must fit its QR code', () => {
  it('publishes the scope’s real limit in the catalogue', async () => {
    const types = await expectJson<Array<{ code: string; fields: { properties: Record<string, unknown> } }>>(
      await fetch(`${runtime.baseUrl}/licence-types`),
      200,
    );
    const scope = (code: string, field: string) =>
      types.find((type) => type.code === code)!.fields.properties[field] as { maxLength: number };
    expect(scope('business-licence', 'businessScope').maxLength).toBe(250);
    expect(scope('production-operation-permit', 'scope').maxLength).toBe(250);
  });

  it('issues a business licence with the longest scope, and its QR code, PDF and scan all work', async () => {
    const businessScope = '技术开发、技术咨询、技术服务；'.repeat(20).slice(0, 250);
    const licence = await expectJson<LicenceJson>(
      await issueLicence(runtime, business.token, businessBody({ businessScope })),
      201,
    );
    expect(qrVersion(licence.credential)).toBeLessThanOrEqual(maxCredentialQrVersion);
    for (const suffix of ['/qr.svg', '/qr.png', '/pdf', '/pdf.jws']) {
      const response = await getWithToken(runtime, `${licencePath(licence.id)}${suffix}`, business.token);
      expect(response.status, suffix).toBe(200);
    }
    const verdict = await expectJson<{ verdict: string }>(
      await postJson(runtime, '/verify', undefined, { qr: licence.credential }),
      200,
    );
    expect(verdict.verdict).toBe('valid');
  });

  it('refuses a scope longer than the catalogue says (the review’s 500 characters), by field', async () => {
    const problem = await expectProblem(
      await issueLicence(runtime, business.token, businessBody({ businessScope: '技'.repeat(500) })),
      400,
    );
    expect(problem.errors).toEqual([
      expect.objectContaining({ path: 'fields.businessScope', code: 'too_long' }),
    ]);
  });

  it('refuses fields each within their bounds that together overflow the QR code, naming the longest', async () => {
    const problem = await expectProblem(
      await issueLicence(
        runtime,
        business.token,
        businessBody(
          { businessScope: '技'.repeat(250), address: '上海市徐汇区'.repeat(33) },
          { holderName: '某'.repeat(90) },
        ),
      ),
      400,
      'credential_too_large',
    );
    expect(problem.errors).toEqual([
      expect.objectContaining({
        path: 'fields.businessScope',
        code: 'credential_too_large',
        params: { maximum: maxCredentialQrVersion },
      }),
    ]);
    expect(problem.errors![0]!.message).toMatch(/version 40/);
  });

  it('answers 409 qr_too_large, not 500, for a stored licence whose credential fits no QR code', async () => {
    const licence = await expectJson<LicenceJson>(
      await issueLicence(runtime, business.token, businessBody()),
      201,
    );
    // As licences issued before the check could be: a credential of ~3,100 characters.
    const { doc, config } = dependencies();
    await doc.send(
      new UpdateCommand({
        TableName: config.tableName,
        Key: keys.licence(licence.id),
        UpdateExpression: 'SET credential = :credential',
        ExpressionAttributeValues: { ':credential': `${licence.credential}${'x'.repeat(2300)}` },
      }),
    );
    for (const suffix of ['/qr.svg', '/qr.png', '/pdf', '/pdf.jws']) {
      await expectProblem(
        await getWithToken(runtime, `${licencePath(licence.id)}${suffix}`, business.token),
        409,
        'qr_too_large',
      );
    }
  });
});

describe('licence text holds no control, format or line-breaking characters', () => {
  const forged = [
    ['holderName', { holderName: '王小明\u202E' }],
    ['holderName', { holderName: '王\u0000小明' }],
    ['holderName', { holderName: '王小明\r\n发证机关：教育部' }],
  ] as const;
  it.each(forged)('refuses %s %j with invalid_characters', async (path, override) => {
    const problem = await expectProblem(
      await issueLicence(runtime, issuerToken, drivingLicenceBody(newIdNumber(), override)),
      400,
    );
    expect(problem.errors).toEqual([expect.objectContaining({ path, code: 'invalid_characters' })]);
  });

  it('refuses a forged line in a single-line field, and keeps line breaks (as \\n) in a scope', async () => {
    const problem = await expectProblem(
      await issueLicence(
        runtime,
        business.token,
        businessBody({ address: '上海市徐汇区某路1号\n发证机关：教育部' }),
      ),
      400,
    );
    expect(problem.errors).toEqual([
      expect.objectContaining({ path: 'fields.address', code: 'invalid_characters' }),
    ]);
    const bidi = await expectProblem(
      await issueLicence(runtime, business.token, businessBody({ businessScope: '软件开发\u202E' })),
      400,
    );
    expect(bidi.errors).toEqual([
      expect.objectContaining({ path: 'fields.businessScope', code: 'invalid_characters' }),
    ]);
    const licence = await expectJson<LicenceJson>(
      await issueLicence(
        runtime,
        business.token,
        businessBody({ businessScope: '软件开发；\r\n技术服务。' }),
      ),
      201,
    );
    expect(licence.fields.businessScope).toBe('软件开发；\n技术服务。');
  });

  it('stores names in NFC', async () => {
    const licence = await expectJson<LicenceJson>(
      await issueLicence(
        runtime,
        issuerToken,
        drivingLicenceBody(newIdNumber(), { holderName: 'Rene\u0301 李' }),
      ),
      201,
    );
    expect(licence.holder.name).toBe('René 李');
  });
});

interface BatchJson {
  id: string;
  status: string;
  total: number;
  issued: number;
  failed: number;
  errors: Array<{ index: number; code: string; detail: string }>;
}

describe('POST /licences/batches: items checked against their type, chunks bounded, errors without ID numbers', () => {
  const submit = (token: string, items: unknown[]) =>
    postJson(runtime, '/licences/batches', token, { items }, { 'idempotency-key': randomUUID() });

  it('answers 202 (not 500) for 40 business licences with 4,000-character scopes, each refused by field', async () => {
    const items = Array.from({ length: 40 }, () => businessBody({ businessScope: '技'.repeat(4000) }));
    const job = await expectJson<BatchJson>(await submit(business.token, items), 202);
    expect(job).toMatchObject({ total: 40, failed: 40 });
    expect(job.errors[0]).toEqual({
      index: 0,
      code: 'invalid_fields',
      detail: 'fields.businessScope: too_long',
    });
  });

  it('refuses an item whose fields together overflow the QR code, by its index, when the job runs', async () => {
    const items = [
      businessBody(),
      businessBody(
        { businessScope: '技'.repeat(250), address: '上海市徐汇区'.repeat(33) },
        { holderName: '某'.repeat(90) },
      ),
      businessBody({}, { holderName: '北京\u202E公司' }),
    ];
    const { id } = await expectJson<BatchJson>(await submit(business.token, items), 202);
    await runtime.drainBatches();
    expect(runtime.batchFailures()).toEqual([]);
    const job = await expectJson<BatchJson>(
      await getWithToken(runtime, `/licences/batches/${id}`, business.token),
      200,
    );
    expect(job).toMatchObject({ status: 'done', issued: 1, failed: 2 });
    // In index order, whether refused at submission or by the job.
    expect(job.errors).toEqual([
      { index: 1, code: 'credential_too_large', detail: 'fields.businessScope: credential_too_large' },
      { index: 2, code: 'invalid_item', detail: 'holderName: invalid_characters' },
    ]);
  });

  it('keeps no ID number an item carried in an unknown key in the stored job', async () => {
    const idNumber = newIdNumber();
    const job = await expectJson<BatchJson>(
      await submit(issuerToken, [
        { ...drivingLicenceBody(newIdNumber()), [idNumber]: '王小明' },
        drivingLicenceBody(newIdNumber(), {
          fields: {
            vehicleClass: 'C1',
            firstIssuedOn: '2015-03-01',
            archiveNumber: '110100123456',
            [idNumber]: 1,
          },
        }),
      ]),
      202,
    );
    expect(job.errors).toEqual([
      { index: 0, code: 'invalid_item', detail: '…: unknown_field' },
      { index: 1, code: 'invalid_fields', detail: 'fields.…: unknown_field' },
    ]);
    const stored = JSON.stringify(await scanItems('batch'));
    expect(stored).not.toContain(idNumber);
    expect(stored).not.toMatch(/\d{17}[\dX]/);
  });
});

describe('POST /admin/issuers', () => {
  it('refuses a licence type the catalogue does not have, naming licenceTypes.N', async () => {
    const problem = await expectProblem(
      await postJson(runtime, '/admin/issuers', adminToken, {
        name: 'Unknown type (test)',
        creditCode: newCreditCode(),
        region: '310000',
        licenceTypes: ['driving-licence', 'no-such-type'],
      }),
      400,
    );
    expect(problem.errors).toEqual([
      expect.objectContaining({ path: 'licenceTypes.1', code: 'unknown_licence_type' }),
    ]);
  });
});
