import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, postJson, type ProblemDocument } from '../../support/http-api.js';
import {
  businessLicenceBody,
  drivingLicenceBody,
  expectJson,
  getWithToken,
  issued,
  newIdNumber,
} from '../../support/licences.js';
import {
  clientCredentialsToken,
  clientSecretConsole,
  startTestRuntime,
  type TestRuntime,
} from '../../support/runtime.js';
import { parseForm, UserAgent } from '../../support/user-agent.js';

/**
 * Review R72: an ID number or a phone typed into a name or a text field was stored in clear, signed into
 * the licence's QR code (which any QR reader decodes) and given to platforms as `name`. Now every licence
 * text, the holder's name, a registration's name and an agent's name (accounts-agents.test.ts) refuse
 * them, at the field, the number in no answer; a name also refuses six digits in a row. And a key or a
 * value the caller made up is not echoed in a refusal (R72-2).
 */

let runtime: TestRuntime;
let issuerToken: string;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, clientSecretConsole);
  issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
});
afterAll(() => runtime?.close());

const phone = '13977391234';

const issue = (body: unknown) =>
  postJson(runtime, '/licences', issuerToken, body, { 'idempotency-key': randomUUID() });

/** The answer is a 400 of `code` with exactly `errors`; no part of it holds one of `numbers`. */
async function refused(
  response: Response,
  code: string,
  errors: ProblemDocument['errors'],
  numbers: readonly string[],
): Promise<void> {
  const text = await response.clone().text();
  for (const number of numbers) expect(text).not.toContain(number);
  const problem = await expectProblem(response, 400, code);
  expect(problem.errors).toEqual(errors);
}

const personal = (path: string, kind: 'id_number' | 'mobile') => ({
  path,
  message: expect.any(String),
  code: 'personal_data_in_text',
  params: { kind },
});

describe('a licence’s holder name and text fields (POST /licences)', () => {
  it('refuses the holder’s own number typed as the holder’s name', async () => {
    const holder = newIdNumber('440305');
    await refused(
      await issue(drivingLicenceBody(holder, { holderName: holder })),
      'invalid_request',
      [personal('holderName', 'id_number')],
      [holder],
    );
    await refused(
      await issue(drivingLicenceBody(holder, { holderName: phone })),
      'invalid_request',
      [personal('holderName', 'mobile')],
      [phone],
    );
    // Six digits in a row are no part of a name (the first six of a number, a postcode).
    await refused(
      await issue(drivingLicenceBody(holder, { holderName: '李测试 440305' })),
      'invalid_request',
      [{ path: 'holderName', message: expect.any(String), code: 'digits_in_name' }],
      ['440305'],
    );
  });

  it('refuses a third person’s number in a name, an address or a scope; an address keeps its house number and postcode', async () => {
    const representative = newIdNumber('310104');
    const fields = businessLicenceBody('x', representative).fields as Record<string, unknown>;
    const business = (changed: Record<string, unknown>) =>
      businessLicenceBody(runtime.credentials.entity.creditCode, representative, {
        fields: { ...fields, ...changed },
      });
    await refused(
      await issue(business({ legalRepresentativeName: representative })),
      'invalid_fields',
      [personal('fields.legalRepresentativeName', 'id_number')],
      [representative],
    );
    await refused(
      await issue(
        business({
          address: `联系人身份证${representative} 电话${phone}`,
          businessScope: `法人身份证 ${representative}`,
        }),
      ),
      'invalid_fields',
      [personal('fields.businessScope', 'id_number'), personal('fields.address', 'id_number')],
      [representative, phone],
    );
    await refused(
      await issue(business({ address: `北京市海淀区测试路2号 电话 139-7739-1234` })),
      'invalid_fields',
      [personal('fields.address', 'mobile')],
      [phone, '139-7739-1234'],
    );
    const licence = await issued(
      runtime,
      issuerToken,
      business({ address: '北京市海淀区测试路88号 邮编100080', businessScope: '软件开发（5G、IPv6）' }),
    );
    expect(licence.fields).toMatchObject({ address: '北京市海淀区测试路88号 邮编100080' });
  });

  it('issues an older firm’s licence quoting a 1990s period, under a registered name with digits (review R74)', async () => {
    const representative = newIdNumber('310104');
    const body = businessLicenceBody(runtime.credentials.entity.creditCode, representative);
    const fields = body.fields as Record<string, unknown>;
    const licence = await issued(runtime, issuerToken, {
      ...body,
      // R74-2: six digits in a row refuse a person's name, not a firm's registered one.
      holderName: '杭州123456网络科技有限公司',
      fields: { ...fields, businessScope: '食品经营（许可证JY13301060012345，有效期1998.1.15-2028.1.14）' },
    });
    expect(licence.fields).toMatchObject({ businessScope: expect.stringContaining('1998.1.15-2028.1.14') });
  });

  it('refuses a batch item with a number in a name or text, by index and field, the number nowhere in the job', async () => {
    const holder = newIdNumber('440305');
    const other = newIdNumber('110105');
    const submitted = await postJson(
      runtime,
      '/licences/batches',
      issuerToken,
      {
        items: [
          drivingLicenceBody(holder, { holderName: holder }),
          drivingLicenceBody(other),
          drivingLicenceBody(newIdNumber('110105'), { holderName: `王${phone}` }),
        ],
      },
      { 'idempotency-key': randomUUID() },
    );
    const { id } = await expectJson<{ id: string }>(submitted, 202);
    await runtime.drainBatches();
    const job = await getWithToken(runtime, `/licences/batches/${id}`, issuerToken);
    const text = await job.clone().text();
    expect(text).not.toContain(holder);
    expect(text).not.toContain(phone);
    expect(await expectJson(job, 200)).toMatchObject({
      issued: 1,
      failed: 2,
      errors: [
        { index: 0, code: 'invalid_item', detail: 'holderName: personal_data_in_text' },
        { index: 2, code: 'invalid_item', detail: 'holderName: personal_data_in_text' },
      ],
    });
  });

  it('shows the clerk the refusal at the console issue form’s field', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const { clientId, clientSecret } = runtime.credentials.issuer;
    expect((await ua.request('/console/login', { form: { clientId, clientSecret } })).status).toBe(303);
    const page = await ua.request('/console/licences/new?type=driving-licence');
    const form = parseForm(await page.text(), 'issue-form');
    const holder = newIdNumber('440305');
    const answer = await ua.request('/console/licences', {
      form: {
        type: form!.fields.type!,
        idempotencyKey: form!.fields.idempotencyKey!,
        holderNumber: holder,
        holderName: holder,
        'fields.vehicleClass': 'C1',
        'fields.firstIssuedOn': '2015-03-01',
        'fields.archiveNumber': '110100654329',
        step: 'confirm',
      },
    });
    expect(answer.status).toBe(400);
    const html = await answer.text();
    expect(html).toMatch(/id="field-holderName-error">[^<]*请勿填写身份证号码/);
    expect(html).not.toContain('核对证照信息');
  });
});

describe('a registration’s name (POST /accounts)', () => {
  it.each([
    ['the person’s own ID number', (own: string) => own, 'personal_data_in_text'],
    ['a mobile number', () => phone, 'personal_data_in_text'],
    ['a name with six digits in it', () => '王小明123456', 'digits_in_name'],
  ])('refuses %s as the name, at the field, echoing nothing', async (_what, name, code) => {
    const own = newIdNumber('330102');
    const response = await postJson(runtime, '/accounts', undefined, {
      idNumber: own,
      name: name(own),
      password: 'Canary-Pw-7391x',
      consent: true,
    });
    const text = await response.clone().text();
    expect(text).not.toContain(own);
    expect(text).not.toContain(phone);
    expect(text).not.toContain('123456');
    const problem = await expectProblem(response, 400, 'invalid_request');
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'name', code })]);
  });

  it('still registers a name with a few digits or none', async () => {
    const response = await postJson(runtime, '/accounts', undefined, {
      idNumber: newIdNumber('330102'),
      name: '王小明',
      password: 'Canary-Pw-7391x',
      consent: true,
    });
    expect(response.status, await response.clone().text()).toBe(201);
  });
});

describe('what the caller made up is not echoed (review R72-2)', () => {
  const number = '440305199108085175';

  it('names an unknown member that is no plain word `(unknown field)`, in the body and in fields', async () => {
    const holder = newIdNumber('440305');
    const body = await issue({ ...drivingLicenceBody(holder), [number]: 'x' });
    const bodyText = await body.clone().text();
    expect(bodyText).not.toContain(number);
    const problem = await expectProblem(body, 400, 'invalid_request');
    expect(problem.errors).toEqual([
      { path: '(unknown field)', message: 'unknown field', code: 'unknown_field' },
    ]);

    const inFields = await issue(
      drivingLicenceBody(holder, {
        fields: { ...(drivingLicenceBody(holder).fields as object), [phone]: 1 },
      }),
    );
    const inFieldsText = await inFields.clone().text();
    expect(inFieldsText).not.toContain(phone);
    expect((await expectProblem(inFields, 400, 'invalid_fields')).errors).toEqual([
      { path: 'fields.(unknown field)', message: expect.any(String), code: 'unknown_field' },
    ]);
  });

  it('does not echo an unknown licence type or a declared charset, and names the accepted ones', async () => {
    const typed = await issue({ ...drivingLicenceBody(newIdNumber('440305')), type: number });
    const typedText = await typed.clone().text();
    expect(typedText).not.toContain(number);
    const problem = await expectProblem(typed, 400, 'unknown_licence_type');
    expect(problem.detail).toContain('driving-licence');

    const charset = await fetch(`${runtime.baseUrl}/licences`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${issuerToken}`,
        'idempotency-key': randomUUID(),
        'content-type': `application/json; charset=${number}`,
      },
      body: JSON.stringify(drivingLicenceBody(newIdNumber('440305'))),
    });
    const charsetText = await charset.clone().text();
    expect(charsetText).not.toContain(number);
    expect((await expectProblem(charset, 415, 'unsupported_charset')).detail).toContain('UTF-8');
  });
});
