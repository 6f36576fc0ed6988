import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { basicAuth, expectProblem, onboardIssuer, postJson } from '../../support/http-api.js';
import {
  drivingLicenceBody,
  expectJson,
  getWithToken,
  issued,
  licencePath,
  newIdNumber,
  type LicenceJson,
} from '../../support/licences.js';
import { adminToken, type RelyingParty } from '../../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { licenceAccess, registerSharingPlatform } from '../../support/sharing-flows.js';

/**
 * Free text that is kept for good or shown to others (a status change's reason, in the audit chain and
 * before supervisors; a share's purpose, on the consent page, in the grant and the trail; an issuer's or
 * a key's withdrawal reason) refuses a resident ID number or a mobile number typed into it (review R24
 * L2): 400, `personal_data_in_text` at the field, the number in no answer, nothing written.
 */

/** A synthetic ID number (GB 11643 rules hold) and mobile number that nothing else in the runtime holds. */
const idNumber = '440304198512310011';
const phone = '19955512340';
/** The same, as a Chinese input method types them: full-width digits. */
const fullWidth = (text: string) =>
  text.replace(/[0-9+]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

let runtime: TestRuntime;
let admin: string;
let issuerToken: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  admin = await adminToken(runtime);
  issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
});
afterAll(() => runtime?.close());

/** Every item of the service, audit and batch tables, as text: where a number written anywhere would be. */
async function everythingStored(): Promise<string> {
  const { doc, config } = dependencies();
  const items: unknown[] = [];
  for (const TableName of [config.tableName, config.auditTableName, config.batchTableName]) {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName, ConsistentRead: true, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
  return JSON.stringify(items);
}

/** The problem's `errors[]` is one `personal_data_in_text` at `path`; no part of the answer holds a number. */
async function refusedAt(response: Response, path: string, kind: 'id_number' | 'mobile') {
  const problem = await expectProblem(response, 400);
  expect(problem.errors).toEqual([
    { path, message: expect.any(String), code: 'personal_data_in_text', params: { kind } },
  ]);
  const text = JSON.stringify(problem);
  expect(text).not.toContain(idNumber);
  expect(text).not.toContain(phone);
  expect(text).not.toMatch(/\d{11}/);
}

describe('a status change’s reason (POST /licences/{id}/status)', () => {
  let licence: LicenceJson;

  beforeAll(async () => {
    licence = await issued(runtime, issuerToken, drivingLicenceBody(newIdNumber('110105')));
  });

  it.each([
    ['an ID number in Chinese text', `持证人身份证号${idNumber}，当面申请暂扣`, 'id_number'],
    ['an ID number typed in full-width digits', `持证人${fullWidth(idNumber)}申请`, 'id_number'],
    ['a mobile number after +86, with spaces', `联系电话 +86 199 5551 2340`, 'mobile'],
    ['a mobile number typed in full-width digits', `联系电话${fullWidth(phone)}`, 'mobile'],
  ] as const)('refuses %s, changing nothing and writing no audit entry', async (_case, reason, kind) => {
    const response = await postJson(runtime, `${licencePath(licence.id)}/status`, issuerToken, {
      status: 'suspended',
      reasonCode: 'other',
      reason,
    });
    await refusedAt(response, 'reason', kind);

    const read = await expectJson<LicenceJson & { history: Array<{ action: string }> }>(
      await getWithToken(runtime, licencePath(licence.id), issuerToken),
      200,
    );
    expect(read.status).toBe('valid');
    expect(read.history.map((entry) => entry.action)).toEqual(['issued']);
    const stored = await everythingStored();
    expect(stored).not.toContain(idNumber);
    expect(stored).not.toContain(phone);
    expect(stored).not.toContain('当面申请暂扣');
  });

  it.each([
    ['U+FFFD (a GBK reason decoded as UTF-8 on the way)', '记满\uFFFD\uFFFD分'],
    ['a lone surrogate', '记满\ud800分'],
    ['a right-to-left override', '记满\u202E分21'],
    ['an escape character', '记满\u001b[2J分'],
  ])(
    'refuses a reason holding %s with invalid_characters, changing nothing (session 27)',
    async (_case, reason) => {
      const response = await postJson(runtime, `${licencePath(licence.id)}/status`, issuerToken, {
        status: 'suspended',
        reasonCode: 'other',
        reason,
      });
      const problem = await expectProblem(response, 400);
      expect(problem.errors).toEqual([
        expect.objectContaining({ path: 'reason', code: 'invalid_characters' }),
      ]);
      const read = await expectJson<LicenceJson>(
        await getWithToken(runtime, licencePath(licence.id), issuerToken),
        200,
      );
      expect(read.status).toBe('valid');
    },
  );

  it('takes a reason with other numbers in it (an archive number, a count, a date)', async () => {
    const response = await postJson(runtime, `${licencePath(licence.id)}/status`, issuerToken, {
      status: 'suspended',
      reasonCode: 'other',
      reason: '档案号 202612070001：2026-12-07 交通违法记满12分',
    });
    expect((await expectJson<LicenceJson>(response, 200)).status).toBe('suspended');
  });
});

describe('withdrawal reasons (POST /admin/issuers/{id}/withdraw, …/keys/{kid}/withdraw)', () => {
  it('refuses an issuer’s withdrawal whose reason holds a mobile number: the issuer stays active', async () => {
    const leaving = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
    const response = await postJson(runtime, `/admin/issuers/${leaving.id}/withdraw`, admin, {
      reason: `机构撤并，联系人 ${phone}`,
    });
    await refusedAt(response, 'reason', 'mobile');
    expect((await dependencies().issuers.findById(leaving.id))?.status).toBe('active');
    expect(await everythingStored()).not.toContain(phone);
  });

  it('refuses a key’s withdrawal whose reason holds an ID number before looking the key up', async () => {
    const response = await postJson(
      runtime,
      `/admin/issuers/${runtime.credentials.issuer.id}/keys/no-such-key/withdraw`,
      admin,
      { reason: `泄露事件，举报人 ${idNumber}` },
    );
    await refusedAt(response, 'reason', 'id_number');
  });
});

describe('a share’s purpose (authorization_details, pushed to /request)', () => {
  let platform: RelyingParty;

  beforeAll(async () => {
    platform = await registerSharingPlatform(runtime, admin, '个人信息测试平台', 'https://pii.example');
  });

  const push = (purpose: string) =>
    fetch(`${runtime.baseUrl}/request`, {
      method: 'POST',
      headers: { authorization: basicAuth(platform), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: platform.clientId,
        response_type: 'code',
        redirect_uri: platform.redirectUri,
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        authorization_details: JSON.stringify([licenceAccess(['driving-licence'], purpose)]),
      }),
    });

  it.each([
    ['a mobile number', `办理车辆登记，回访电话 ${phone}`],
    ['an ID number in full-width digits', `为${fullWidth(idNumber)}办理车辆登记`],
  ])(
    'refuses a purpose holding %s, naming purpose and never the number; nothing is stored',
    async (_case, purpose) => {
      const response = await push(purpose);
      const text = await response.text();
      expect(response.status, text).toBe(400);
      const body = JSON.parse(text) as { error: string; error_description: string };
      expect(body.error).toBe('invalid_authorization_details');
      expect(body.error_description).toMatch(/^purpose: personal_data_in_text/);
      expect(text).not.toMatch(/\d{11}|[\uff10-\uff19]{11}/);
      const stored = await everythingStored();
      expect(stored).not.toContain(phone);
      expect(stored).not.toContain(fullWidth(idNumber));
      expect(stored).not.toContain('办理车辆登记');
    },
  );

  it('takes a purpose without one', async () => {
    const response = await push('办理机动车登记业务');
    expect(response.status, await response.clone().text()).toBe(201);
  });
});
