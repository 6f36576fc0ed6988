import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idNumberCheckCharacter } from '../../../shared/identifiers/id-number.js';
import { formatLicenceId } from '../../../shared/identifiers/licence-id.js';
import { expectProblem, issuerBody, newCreditCode, postJson, scanItems } from '../../support/http-api.js';
import {
  businessLicenceBody,
  drivingLicenceBody,
  expectJson,
  getWithToken,
  issued,
  issueLicence,
  licencePath,
  listAll,
  maskedIdNumber,
  newIdNumber,
  type LicenceJson,
  searchLicences,
} from '../../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

let runtime: TestRuntime;
let token: string;
let adminToken: string;
let verifierToken: string;
/** A second issuer, allowed business licences only. */
let other: { id: string; creditCode: string; token: string };

beforeAll(async () => {
  runtime = await startTestRuntime();
  const { issuer, admin, verifier } = runtime.credentials;
  token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
  adminToken = await clientCredentialsToken(runtime, admin, 'admin');
  verifierToken = await clientCredentialsToken(runtime, verifier, 'licences:verify');
  const created = await expectJson<{
    id: string;
    creditCode: string;
    clientId: string;
    clientSecret: string;
  }>(
    await postJson(runtime, '/admin/issuers', adminToken, issuerBody({ licenceTypes: ['business-licence'] })),
    201,
  );
  other = {
    id: created.id,
    creditCode: created.creditCode,
    token: await clientCredentialsToken(runtime, created, 'licences:issue'),
  };
});
afterAll(async () => {
  await runtime?.close();
});

/** A valid first 17 characters and every check character but the right one. */
function wrongCheck(idNumber: string): { id: string; expected: string } {
  const expected = idNumberCheckCharacter(idNumber.slice(0, 17));
  const wrong = '0123456789X'.split('').find((c) => c !== expected)!;
  return { id: `${idNumber.slice(0, 17)}${wrong}`, expected };
}

/** The 17 digits of a number with its birth date replaced, with the right check character. */
function withBirthDate(birth: string): string {
  const first17 = `110105${birth}123`;
  return `${first17}${idNumberCheckCharacter(first17)}`;
}

describe('POST /licences: holder ID numbers are checked by rule, at holder.idNumber', () => {
  const valid = newIdNumber();
  const { id: badCheck, expected } = wrongCheck(valid);
  const nextYear = new Date().getUTCFullYear() + 1;
  const cases: Array<{
    what: string;
    idNumber: string;
    rule: string | RegExp;
    /** The stable code pages translate, and its parameters. */
    code: string;
    params?: Record<string, string | number>;
  }> = [
    {
      what: 'a wrong check character',
      idNumber: badCheck,
      rule: `check character should be ${expected}`,
      code: 'invalid_check_character',
      params: { expected },
    },
    {
      what: '17 characters',
      idNumber: valid.slice(0, 17),
      rule: 'ID number must be 18 characters, not 17',
      code: 'invalid_length',
      params: { length: 17 },
    },
    {
      what: 'a letter inside',
      idNumber: `${valid.slice(0, 10)}A${valid.slice(11)}`,
      rule: 'ID number must be 17 digits followed by a digit or X',
      code: 'invalid_format',
    },
    {
      what: 'a region that is not one',
      idNumber: (() => {
        const first17 = `990105${valid.slice(6, 17)}`;
        return `${first17}${idNumberCheckCharacter(first17)}`;
      })(),
      rule: 'region code 990105 is not a region',
      code: 'invalid_region',
      params: { region: '990105' },
    },
    {
      what: 'the 30th of February',
      idNumber: withBirthDate('19900230'),
      rule: 'birth date 19900230 is not a date',
      code: 'invalid_birth_date',
      params: { birthDate: '19900230' },
    },
    {
      what: 'a birth date in the future',
      idNumber: withBirthDate(`${nextYear}0101`),
      rule: `birth date ${nextYear}0101 is not a possible birth date`,
      code: 'invalid_birth_date',
      params: { birthDate: `${nextYear}0101` },
    },
  ];

  for (const { what, idNumber, rule, code, params } of cases) {
    it(`refuses ${what} (400 invalid_id_number)`, async () => {
      const problem = await expectProblem(
        await issueLicence(runtime, token, drivingLicenceBody(idNumber)),
        400,
        'invalid_id_number',
      );
      expect(problem.errors).toEqual([
        { path: 'holder.idNumber', message: rule, code, ...(params ? { params } : {}) },
      ]);
      expect(problem.detail).toContain('holder.idNumber');
      expect(problem.detail).toContain(rule);
      // A refusal does not echo the number it refused.
      expect(JSON.stringify(problem)).not.toContain(idNumber);
    });
  }

  it('accepts a lower-case x check character, normalised', async () => {
    let idNumber = newIdNumber();
    while (!idNumber.endsWith('X')) idNumber = newIdNumber();
    const licence = await issued(runtime, token, drivingLicenceBody(idNumber.toLowerCase()));
    expect(licence.holder.masked).toBe(maskedIdNumber(idNumber));
  });
});

describe('POST /licences: credit codes, fields and types are checked against the catalogue', () => {
  it('refuses a business licence for a credit code with a wrong check character', async () => {
    const creditCode = newCreditCode('91', '110105');
    const last = creditCode.at(-1) === '0' ? '1' : '0';
    const problem = await expectProblem(
      await issueLicence(
        runtime,
        token,
        businessLicenceBody(`${creditCode.slice(0, 17)}${last}`, newIdNumber()),
      ),
      400,
      'invalid_credit_code',
    );
    expect(problem.errors).toEqual([
      {
        path: 'holder.creditCode',
        message: `check character should be ${creditCode.at(-1)}`,
        code: 'invalid_check_character',
        params: { expected: creditCode.at(-1) },
      },
    ]);
  });

  it('refuses fields against the type schema, naming each path (400 invalid_fields)', async () => {
    const body = drivingLicenceBody(newIdNumber(), {
      fields: { vehicleClass: 'Z9', firstIssuedOn: '2015-02-30', archiveNumber: '1234' },
    });
    const problem = await expectProblem(await issueLicence(runtime, token, body), 400, 'invalid_fields');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual([
      'fields.archiveNumber',
      'fields.firstIssuedOn',
      'fields.vehicleClass',
    ]);
    expect(problem.detail).toContain('fields.vehicleClass');
  });

  it('refuses a missing required field at its path', async () => {
    const body = drivingLicenceBody(newIdNumber(), {
      fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01' },
    });
    const problem = await expectProblem(await issueLicence(runtime, token, body), 400, 'invalid_fields');
    expect(problem.errors?.map((e) => e.path)).toEqual(['fields.archiveNumber']);
  });

  it('refuses an unknown field, naming it', async () => {
    const body = drivingLicenceBody(newIdNumber());
    body.fields = { ...(body.fields as object), colour: 'red' };
    const problem = await expectProblem(await issueLicence(runtime, token, body), 400, 'invalid_fields');
    expect(problem.errors).toEqual([
      { path: 'fields.colour', message: expect.stringMatching(/unknown/i), code: 'unknown_field' },
    ]);
  });

  it('refuses a legal representative ID number that breaks a rule, at its field path', async () => {
    const { id } = wrongCheck(newIdNumber());
    const body = businessLicenceBody(newCreditCode('91', '110105'), id);
    const problem = await expectProblem(await issueLicence(runtime, token, body), 400, 'invalid_fields');
    expect(problem.errors).toEqual([
      {
        path: 'fields.legalRepresentativeIdNumber',
        message: expect.stringContaining('check character'),
        code: 'invalid_check_character',
        params: { expected: expect.stringMatching(/^[\dX]$/) },
      },
    ]);
    expect(JSON.stringify(problem)).not.toContain(id);
  });

  it('refuses a credit code for a driving licence and an ID number for a business licence (400 holder_kind_mismatch)', async () => {
    const driving = drivingLicenceBody('', { holder: { creditCode: newCreditCode('91') } });
    const problem = await expectProblem(
      await issueLicence(runtime, token, driving),
      400,
      'holder_kind_mismatch',
    );
    expect(problem.errors?.map((e) => e.path)).toEqual(['holder.idNumber']);

    const business = businessLicenceBody('', newIdNumber(), { holder: { idNumber: newIdNumber() } });
    const second = await expectProblem(
      await issueLicence(runtime, token, business),
      400,
      'holder_kind_mismatch',
    );
    expect(second.errors?.map((e) => e.path)).toEqual(['holder.creditCode']);
  });

  it('refuses a holder with both an ID number and a credit code, or neither', async () => {
    for (const holder of [{ idNumber: newIdNumber(), creditCode: newCreditCode('91') }, {}]) {
      const problem = await expectProblem(
        await issueLicence(runtime, token, drivingLicenceBody('', { holder })),
        400,
        'invalid_request',
      );
      expect(problem.errors?.some((e) => e.path.startsWith('holder'))).toBe(true);
    }
  });

  it('refuses an unknown type (400 unknown_licence_type)', async () => {
    const body = drivingLicenceBody(newIdNumber(), { type: 'fishing-licence' });
    const problem = await expectProblem(
      await issueLicence(runtime, token, body),
      400,
      'unknown_licence_type',
    );
    expect(problem.errors?.map((e) => e.path)).toEqual(['type']);
  });

  it('refuses a type this issuer may not issue (403 licence_type_not_allowed)', async () => {
    const body = drivingLicenceBody(newIdNumber());
    await expectProblem(await issueLicence(runtime, other.token, body), 403, 'licence_type_not_allowed');
    // Its own type it may issue.
    const licence = await issued(
      runtime,
      other.token,
      businessLicenceBody(newCreditCode('91'), newIdNumber()),
    );
    expect(licence.issuer).toMatchObject({ id: other.id, creditCode: other.creditCode });
  });

  it('refuses validUntil before or at validFrom (400 invalid_validity)', async () => {
    for (const validUntil of ['2024-12-31T23:59:59Z', '2025-01-01T00:00:00Z']) {
      const body = drivingLicenceBody(newIdNumber(), { validFrom: '2025-01-01T00:00:00Z', validUntil });
      const problem = await expectProblem(await issueLicence(runtime, token, body), 400, 'invalid_validity');
      expect(problem.errors?.map((e) => e.path)).toEqual(['validUntil']);
    }
    const malformed = drivingLicenceBody(newIdNumber(), { validFrom: 'tomorrow' });
    const problem = await expectProblem(
      await issueLicence(runtime, token, malformed),
      400,
      'invalid_request',
    );
    expect(problem.errors?.map((e) => e.path)).toEqual(['validFrom']);
  });

  it('refuses malformed JSON (400 malformed_json)', async () => {
    const response = await postJson(runtime, '/licences', token, '{"type":', {
      'idempotency-key': randomUUID(),
    });
    await expectProblem(response, 400, 'malformed_json');
  });
});

/**
 * `body` as JSON with `value`'s bytes in place of the string `@@`: 李测试 in GBK (C0EE B2E2 CAD4), as a
 * legacy back office sends a holder's name.
 */
function withBytes(body: unknown, value = Buffer.from([0xc0, 0xee, 0xb2, 0xe2, 0xca, 0xd4])): Buffer {
  const [left, right] = JSON.stringify(body).split('@@');
  return Buffer.concat([Buffer.from(left!), value, Buffer.from(right!)]);
}

describe('POST /licences: text that is not UTF-8 is refused, never issued with U+FFFD (review R51 F1)', () => {
  it('refuses a holder name in GBK bytes as 400 malformed_json (the bytes reach the function intact)', async () => {
    const body = withBytes({ ...drivingLicenceBody(newIdNumber()), holderName: '@@' });
    for (const contentType of ['application/json', 'application/json; charset=utf-8']) {
      const response = await postJson(runtime, '/licences', token, body, {
        'content-type': contentType,
        'idempotency-key': randomUUID(),
      });
      await expectProblem(response, 400, 'malformed_json');
    }
  });

  it('refuses a body declared in another charset as 415 unsupported_charset, naming UTF-8, not it (R72-2)', async () => {
    for (const contentType of ['application/json; charset=GBK', 'application/json;CHARSET="gb2312"']) {
      const response = await postJson(runtime, '/licences', token, drivingLicenceBody(newIdNumber()), {
        'content-type': contentType,
        'idempotency-key': randomUUID(),
      });
      const problem = await expectProblem(response, 415, 'unsupported_charset');
      expect(problem.detail?.toLowerCase()).not.toContain(contentType.includes('GBK') ? 'gbk' : 'gb2312');
      expect(problem.detail).toContain('UTF-8');
    }
    // UTF-8 by either name is the charset of JSON.
    for (const contentType of ['application/json; charset=UTF-8', 'application/json; charset="utf8"']) {
      const response = await postJson(runtime, '/licences', token, drivingLicenceBody(newIdNumber()), {
        'content-type': contentType,
        'idempotency-key': randomUUID(),
      });
      expect(response.status, contentType).toBe(201);
    }
  });

  it('refuses a lone surrogate or U+FFFD in the holder name or a field (400 invalid_characters, named)', async () => {
    for (const [holderName, fields, path] of [
      ['李\ud800', {}, 'holderName'],
      ['李\udc00测试', {}, 'holderName'],
      ['李\ufffd\ufffd', {}, 'holderName'],
      ['测试公司', { address: '北京市\ud83d' }, 'fields.address'],
    ] as const) {
      const base = businessLicenceBody(newCreditCode('91', '110105'), newIdNumber()) as {
        fields: Record<string, unknown>;
      };
      const response = await issueLicence(runtime, token, {
        ...base,
        holderName,
        fields: { ...base.fields, ...fields },
      });
      const problem = await expectProblem(response, 400);
      expect(problem.errors, holderName).toContainEqual(
        expect.objectContaining({ path, code: 'invalid_characters' }),
      );
    }
    // A character outside the BMP (a surrogate pair) is one character, and a name.
    const response = await issueLicence(runtime, token, {
      ...drivingLicenceBody(newIdNumber()),
      holderName: '李𠀋',
    });
    expect(response.status).toBe(201);
  });

  it('refuses a bulk issuance whose item holds GBK bytes, instead of issuing a garbled name', async () => {
    const body = withBytes({ items: [{ ...drivingLicenceBody(newIdNumber()), holderName: '@@' }] });
    const response = await postJson(runtime, '/licences/batches', token, body, {
      'idempotency-key': randomUUID(),
    });
    await expectProblem(response, 400, 'malformed_json');
  });
});

describe('POST /licences: who may issue', () => {
  const idNumber = newIdNumber();
  const body = drivingLicenceBody(idNumber);

  it('refuses the verifier client’s token (403 insufficient_scope)', async () => {
    await expectProblem(await issueLicence(runtime, verifierToken, body), 403, 'insufficient_scope');
  });

  it('refuses the admin token (403 insufficient_scope)', async () => {
    await expectProblem(await issueLicence(runtime, adminToken, body), 403, 'insufficient_scope');
  });

  it('refuses a request without a token (401)', async () => {
    const response = await postJson(runtime, '/licences', undefined, body, {
      'idempotency-key': randomUUID(),
    });
    await expectProblem(response, 401);
  });

  it('refuses the verifier and admin tokens on the issuer’s reads too (403)', async () => {
    for (const other of [verifierToken, adminToken]) {
      await expectProblem(await getWithToken(runtime, '/licences', other), 403, 'insufficient_scope');
    }
  });

  it('issued nothing for any of them', async () => {
    expect(await listAll(runtime, token, `holder=${idNumber}`)).toEqual([]);
  });
});

describe('POST /licences: Idempotency-Key', () => {
  it('is required (400 idempotency_key_required), as a UUID (400 idempotency_key_invalid)', async () => {
    const body = drivingLicenceBody(newIdNumber());
    const missing = await expectProblem(
      await postJson(runtime, '/licences', token, body),
      400,
      'idempotency_key_required',
    );
    expect(missing.errors).toMatchObject([{ path: 'Idempotency-Key', code: 'required' }]);
    // A key that is there but malformed is not "required": it says so.
    for (const malformed of ['abc', 'not-a-uuid']) {
      const invalid = await expectProblem(
        await issueLicence(runtime, token, body, malformed),
        400,
        'idempotency_key_invalid',
      );
      expect(invalid.errors).toMatchObject([{ path: 'Idempotency-Key', code: 'invalid_format' }]);
    }
  });

  it('answers the same key with the same body 200 and the same licence; another body 409', async () => {
    const key = randomUUID();
    const body = drivingLicenceBody(newIdNumber());
    const first = await expectJson<LicenceJson>(await issueLicence(runtime, token, body, key), 201);

    const again = await issueLicence(runtime, token, body, key);
    expect(again.headers.get('location')).toBe(licencePath(first.id));
    expect(await expectJson<LicenceJson>(again, 200)).toEqual(first);

    // The same request with its members in another order is the same request.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    expect((await expectJson<LicenceJson>(await issueLicence(runtime, token, reordered, key), 200)).id).toBe(
      first.id,
    );

    const changed = { ...body, holderName: '另一个人' };
    await expectProblem(await issueLicence(runtime, token, changed, key), 409, 'idempotency_key_reused');
    const otherHolder = drivingLicenceBody(newIdNumber());
    await expectProblem(await issueLicence(runtime, token, otherHolder, key), 409, 'idempotency_key_reused');

    // The refusals changed nothing: the key still answers its licence.
    expect((await expectJson<LicenceJson>(await issueLicence(runtime, token, body, key), 200)).id).toBe(
      first.id,
    );
    // The same UUID in capitals is the same key (RFC 9562: hex digits compare case-insensitively): the
    // same licence, not a second one.
    const shouted = await issueLicence(runtime, token, body, key.toUpperCase());
    expect((await expectJson<LicenceJson>(shouted, 200)).id).toBe(first.id);
  });

  it('is not consumed by a refused request', async () => {
    const key = randomUUID();
    const idNumber = newIdNumber();
    const bad = drivingLicenceBody(idNumber, { fields: { vehicleClass: 'Z9' } });
    await expectProblem(await issueLicence(runtime, token, bad, key), 400, 'invalid_fields');
    await expectJson<LicenceJson>(await issueLicence(runtime, token, drivingLicenceBody(idNumber), key), 201);
  });

  it('belongs to its issuer: another issuer may use the same key for its own licence', async () => {
    const key = randomUUID();
    const mine = await expectJson<LicenceJson>(
      await issueLicence(
        runtime,
        token,
        businessLicenceBody(newCreditCode('91', '110105'), newIdNumber()),
        key,
      ),
      201,
    );
    const theirs = await expectJson<LicenceJson>(
      await issueLicence(runtime, other.token, businessLicenceBody(newCreditCode('91'), newIdNumber()), key),
      201,
    );
    expect(theirs.id).not.toBe(mine.id);
    expect(theirs.issuer.id).toBe(other.id);
  });
});

describe('reading and changing licences that are not there, or not one’s own', () => {
  let theirs: LicenceJson;
  let mine: LicenceJson;

  beforeAll(async () => {
    theirs = await issued(runtime, other.token, businessLicenceBody(newCreditCode('91'), newIdNumber()));
    mine = await issued(runtime, token, drivingLicenceBody(newIdNumber()));
  });

  const unknownIds = () => [
    // Well formed, of this issuer, never issued.
    formatLicenceId({
      typeCode: '003',
      issuerCreditCode: mine.issuer.creditCode,
      serial: 999_999,
      version: 1,
    }),
    'not-a-licence-id',
  ];

  it('answers 404 licence_not_found for an unknown licence on every route', async () => {
    for (const id of unknownIds()) {
      for (const suffix of ['', '/qr.png', '/qr.svg']) {
        await expectProblem(
          await getWithToken(runtime, `${licencePath(id)}${suffix}`, token),
          404,
          'licence_not_found',
        );
      }
      const change = await postJson(runtime, `${licencePath(id)}/status`, token, {
        status: 'revoked',
        reason: 'test',
      });
      await expectProblem(change, 404, 'licence_not_found');
    }
  });

  it('answers 404, not 403, for another issuer’s licence, and changes nothing', async () => {
    for (const suffix of ['', '/qr.png', '/qr.svg']) {
      await expectProblem(
        await getWithToken(runtime, `${licencePath(theirs.id)}${suffix}`, token),
        404,
        'licence_not_found',
      );
      await expectProblem(
        await getWithToken(runtime, `${licencePath(mine.id)}${suffix}`, other.token),
        404,
        'licence_not_found',
      );
    }
    const change = await postJson(runtime, `${licencePath(theirs.id)}/status`, token, {
      status: 'revoked',
      reason: '不是我的',
    });
    await expectProblem(change, 404, 'licence_not_found');
    const read = await expectJson<LicenceJson>(
      await getWithToken(runtime, licencePath(theirs.id), other.token),
      200,
    );
    expect(read.status).toBe('valid');

    expect((await listAll(runtime, token)).map((l) => l.id)).not.toContain(theirs.id);
    expect((await listAll(runtime, other.token)).map((l) => l.id)).not.toContain(mine.id);
  });

  it('refuses a status change to an unknown status or without a reason (400)', async () => {
    for (const body of [
      { status: 'expired', reason: 'x' },
      { status: 'revoked' },
      { status: 'revoked', reason: ' ' },
    ]) {
      const response = await postJson(runtime, `${licencePath(mine.id)}/status`, token, body);
      await expectProblem(response, 400, 'invalid_request');
    }
    // A missing reason says `required`, the code clients translate (not the generic `invalid`).
    const missing = await postJson(runtime, `${licencePath(mine.id)}/status`, token, { status: 'suspended' });
    expect((await expectProblem(missing, 400, 'invalid_request')).errors).toContainEqual(
      expect.objectContaining({ path: 'reason', code: 'required' }),
    );
    const read = await expectJson<LicenceJson>(await getWithToken(runtime, licencePath(mine.id), token), 200);
    expect(read.status).toBe('valid');
  });

  it('refuses a bad holder query or status filter (400)', async () => {
    const { id } = wrongCheck(newIdNumber());
    const problem = await expectProblem(
      await searchLicences(runtime, token, { holder: id }),
      400,
      'invalid_id_number',
    );
    expect(problem.errors?.map((e) => e.path)).toEqual(['holder']);
    await expectProblem(await getWithToken(runtime, '/licences?status=lost', token), 400, 'invalid_request');
    await expectProblem(await getWithToken(runtime, '/licences?limit=0', token), 400, 'invalid_request');
  });

  it('names the identifier most likely meant: a mistyped ID number is an ID number (review R51 F3)', async () => {
    // Not one ending in X: a 19th character after an X is no ID number's form (`meantAsIdNumber`), and the
    // test failed one time in eleven.
    let id = newIdNumber();
    while (id.endsWith('X')) id = newIdNumber();
    for (const [holder, fieldCode] of [
      [`${id.slice(0, 17)}Z`, 'invalid_format'], // a Z for an X
      [id.slice(0, 17), 'invalid_length'], // a character missing
      [`${id}1`, 'invalid_length'], // one too many
      [id.slice(0, 15), 'invalid_length'], // a first-generation number
    ] as const) {
      const problem = await expectProblem(
        await searchLicences(runtime, token, { holder }),
        400,
        'invalid_id_number',
      );
      expect(problem.errors, holder).toEqual([
        expect.objectContaining({
          path: 'holder',
          code: fieldCode,
          message: expect.stringMatching(/ID number/),
        }),
      ]);
    }
    // A credit code stays one: a character no credit code has, or a wrong check character.
    const code = newCreditCode('91', '110105');
    for (const holder of [`${code.slice(0, 17)}Z`, `${code.slice(0, 17)}${code.endsWith('1') ? '2' : '1'}`]) {
      const problem = await expectProblem(
        await searchLicences(runtime, token, { holder }),
        400,
        'invalid_credit_code',
      );
      expect(problem.errors?.map((e) => e.path)).toEqual(['holder']);
    }
  });
});

describe('a business licence naming its legal representative by ID number', () => {
  const representative = newIdNumber('110108');
  let licence: LicenceJson;

  beforeAll(async () => {
    licence = await issued(
      runtime,
      token,
      businessLicenceBody(newCreditCode('91', '110108'), representative),
    );
  });

  it('answers the masked number, never the raw one', () => {
    expect(licence.fields).toMatchObject({
      legalRepresentativeName: '张测试',
      legalRepresentativeIdMasked: maskedIdNumber(representative),
    });
    expect(licence.fields).not.toHaveProperty('legalRepresentativeIdNumber');
    expect(JSON.stringify(licence)).not.toContain(representative);
  });

  it('signs the masked number, never the raw one nor its lookup key (a handle on that person)', () => {
    const claims = decodeJwt(licence.credential) as { f: Record<string, unknown> };
    expect(claims.f).toMatchObject({ legalRepresentativeIdMasked: maskedIdNumber(representative) });
    expect(claims.f).not.toHaveProperty('legalRepresentativeLookupKey');
    expect(claims.f).not.toHaveProperty('legalRepresentativeIdNumber');
    expect(claims.f).not.toHaveProperty('legalRepresentativeLookupKey');
    expect(JSON.stringify(claims)).not.toContain(representative);
  });

  it('stores it nowhere in the table: not in the licence, its history, the audit trail or the idempotency record', async () => {
    const [stored] = await scanItems(`licence#${licence.id}`);
    expect(stored?.fields).toMatchObject({ legalRepresentativeIdMasked: maskedIdNumber(representative) });
    expect(stored?.fields).not.toHaveProperty('legalRepresentativeIdNumber');
    expect(JSON.stringify(await scanItems(''))).not.toContain(representative);
  });
});
