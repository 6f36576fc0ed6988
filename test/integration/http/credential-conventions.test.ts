/**
 * The credential conventions of API.md v2 (issue 15, item 4), over HTTP: `iss` is the issuer's URL and
 * answers its public metadata and keys, `vct` the type's URI; every returned licence of every type
 * validates against the type's published `licenceFields` schema; the holder reads their own licence at
 * `GET /licences/{id}`, nobody else does; and a credential of the older form (`iss` the bare issuer id,
 * no `vct`) still verifies, online and offline.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { createPublicKey, verify } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWK } from 'jose';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import { idNumberCheckCharacter } from '../../../shared/identifiers/id-number.js';
import { catalogueAnnotationKeywords } from '../../../shared/licence/catalogue.js';
import { licenceCredentialType } from '../../../packages/verifier/src/claims.js';
import { readPresentationEnvelope } from '../../../packages/verifier/src/presentation-format.js';
import { syncedOfflineVerifier } from '../verify/helpers.js';
import { expectProblem, newCreditCode, onboardIssuer, postJson } from '../../support/http-api.js';
import {
  businessLicenceBody,
  drivingLicenceBody,
  expectJson,
  getWithToken,
  issued,
  licencePath,
  newIdNumber,
  verifiedTrustList,
  type LicenceJson,
} from '../../support/licences.js';
import { proveAccountInPerson } from '../../support/assurance.js';
import { adminToken, licencesToken, registerPlatform, type RelyingParty } from '../../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

// ajv-formats is CommonJS: under NodeNext its default import is the module object, at run time the function.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

interface LicenceTypeEntry {
  code: string;
  fields: Record<string, unknown>;
  licenceFields: Record<string, unknown>;
}

let runtime: TestRuntime;
let admin: string;
let demoIssuerToken: string;
let wallet: RelyingParty;

beforeAll(async () => {
  runtime = await startTestRuntime();
  admin = await adminToken(runtime);
  demoIssuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  wallet = await registerPlatform(runtime, admin, {
    name: 'Wallet (credential conventions)',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'profile', 'licences'],
    firstParty: true,
  });
});
afterAll(() => runtime?.close());

/** A person's access token with scope `licences`, signed in through the wallet platform. */
const holderToken = (idNumber: string, password: string) =>
  licencesToken(runtime, wallet, { username: idNumber, password });

describe('iss and vct are URLs that answer', () => {
  let licence: LicenceJson;

  beforeAll(async () => {
    licence = await issued(runtime, demoIssuerToken, drivingLicenceBody(newIdNumber()));
  });

  it('names the issuer by its URL, whose document is the trust list entry with keys that verify it', async () => {
    const claims = decodeJwt(licence.credential);
    expect(claims.iss).toBe(`${runtime.baseUrl}/issuers/${runtime.credentials.issuer.id}`);
    const response = await fetch(String(claims.iss));
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const metadata = (await response.json()) as Record<string, unknown> & { jwks: { keys: [] } };
    expect(Object.keys(metadata).sort()).toEqual(
      ['creditCode', 'id', 'jwks', 'licenceTypes', 'name', 'region', 'status'].sort(),
    );
    const { statusLists: _, ...listed } =
      (await verifiedTrustList(runtime)).issuers.find((entry) => entry.id === licence.issuer.id) ?? {};
    expect(metadata).toEqual(listed);
    expect(metadata).toMatchObject({ id: licence.issuer.id, status: 'active' });
    expect(JSON.stringify(metadata)).not.toMatch(/"d":|secret|keyId/);
    const { payload } = await jwtVerify(licence.credential, createLocalJWKSet(metadata.jwks), {
      typ: 'licence+jwt',
      algorithms: ['ES256'],
      issuer: String(claims.iss),
    });
    expect(payload.jti).toBe(licence.id);
  });

  it('keeps the printed credential QR within version 25 at level M (the URLs cost about 130 characters)', () => {
    expect(licence.credential.length).toBeLessThan(1_000);
    expect(QRCode.create(licence.credential, { errorCorrectionLevel: 'M' }).version).toBeLessThanOrEqual(25);
  });

  it('names the type by its URI, which answers the type', async () => {
    const claims = decodeJwt(licence.credential);
    expect(claims.vct).toBe(`${runtime.baseUrl}/licence-types/driving-licence`);
    const type = await expectJson<LicenceTypeEntry>(await fetch(String(claims.vct)), 200);
    expect(type.code).toBe(claims.lt);
  });

  it('answers 404 for an unknown issuer, and a withdrawn one as withdrawn', async () => {
    await expectProblem(await fetch(`${runtime.baseUrl}/issuers/iss_nobody`), 404, 'issuer_not_found');
    await expectProblem(
      await fetch(`${runtime.baseUrl}/issuers/${'x'.repeat(101)}`),
      404,
      'issuer_not_found',
    );
    const leaving = await onboardIssuer(runtime, admin);
    expect((await fetch(`${runtime.baseUrl}/issuers/${leaving.id}`)).status).toBe(200);
    const withdrawn = await postJson(runtime, `/admin/issuers/${leaving.id}/withdraw`, admin, {
      reason: '机构撤并',
    });
    expect(withdrawn.status, await withdrawn.text()).toBe(200);
    // Still answered: credentials it signed before must still say who signed them (as the trust list does).
    const metadata = await expectJson<{ id: string; status: string }>(
      await fetch(`${runtime.baseUrl}/issuers/${leaving.id}`),
      200,
    );
    expect(metadata).toMatchObject({ id: leaving.id, status: 'withdrawn' });
  });
});

describe('every returned licence validates against its type’s published licenceFields', () => {
  const representative = newIdNumber();
  const foreignerIdNumber = '93184019900101002' + idNumberCheckCharacter('93184019900101002');
  const bodies = (creditCode: () => string): Record<string, Record<string, unknown>> => ({
    'business-licence': businessLicenceBody(creditCode(), representative),
    'production-operation-permit': {
      type: 'production-operation-permit',
      holder: { creditCode: creditCode() },
      holderName: '上海测试食品有限公司',
      fields: {
        permitNumber: 'SC10631011500001',
        permitCategory: '食品生产',
        scope: '糕点',
        address: '上海市测试路1号',
      },
    },
    'driving-licence': drivingLicenceBody(newIdNumber()),
    'social-security-card': {
      type: 'social-security-card',
      holder: { idNumber: newIdNumber() },
      holderName: '王测试',
      fields: { cardNumber: 'A12345678', issuingRegion: '110105' },
    },
    'degree-certificate': {
      type: 'degree-certificate',
      holder: { idNumber: newIdNumber() },
      holderName: '赵测试',
      fields: {
        degree: 'master',
        major: '计算机科学与技术',
        university: '测试大学',
        conferredOn: '2018-06-30',
        certificateNumber: '1000142018001234',
      },
    },
    'professional-qualification': {
      type: 'professional-qualification',
      holder: { idNumber: newIdNumber() },
      holderName: '钱测试',
      fields: { profession: '电工', level: 3, certificateNumber: 'S000033000001234' },
    },
    'marriage-certificate': {
      type: 'marriage-certificate',
      holder: { idNumber: newIdNumber() },
      holderName: '孙测试',
      fields: {
        spouseName: '周测试',
        // A foreigner's permanent residence number: its masked form too fits the schema (review R64-3).
        spouseIdNumber: foreignerIdNumber,
        registeredOn: '2019-05-20',
        registrationAuthority: '北京市海淀区民政局',
        certificateNumber: 'J110108-2019-001234',
      },
    },
    'real-estate-title': {
      type: 'real-estate-title',
      holder: { idNumber: newIdNumber() },
      holderName: '吴测试',
      fields: {
        certificateNumber: '京(2020)海淀区不动产权第0001234号',
        unitNumber: '110108001001GB00001F00010001',
        propertyLocation: '北京市海淀区测试路3号1单元101',
        area: 89.5,
        usage: '住宅',
        rightType: '国有建设用地使用权/房屋所有权',
      },
    },
  });

  it('issues one licence of each type and validates what GET /licences/{id} returns', async () => {
    const catalogue = await expectJson<LicenceTypeEntry[]>(
      await fetch(`${runtime.baseUrl}/licence-types`),
      200,
    );
    const issuer = await onboardIssuer(runtime, admin, {
      licenceTypes: catalogue.map((entry) => entry.code),
    });
    const token = await clientCredentialsToken(runtime, issuer, 'licences:issue');
    const all = bodies(() => newCreditCode('91', '310000'));
    expect(Object.keys(all).sort()).toEqual(catalogue.map((entry) => entry.code).sort());
    const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));
    // The catalogue's bilingual annotations (x-title-en, …), which a strict validator must be told of.
    ajv.addVocabulary([...catalogueAnnotationKeywords]);
    for (const entry of catalogue) {
      const body = all[entry.code]!;
      expect(ajv.validate(entry.fields, body.fields), `${entry.code} issued: ${ajv.errorsText()}`).toBe(true);
      const created = await issued(runtime, token, body);
      const read = await expectJson<LicenceJson>(
        await getWithToken(runtime, licencePath(created.id), token),
        200,
      );
      for (const returned of [created, read]) {
        expect(ajv.validate(entry.licenceFields, returned.fields), `${entry.code}: ${ajv.errorsText()}`).toBe(
          true,
        );
      }
      // The credential signs the same fields.
      expect(decodeJwt(read.credential).f).toEqual(read.fields);
    }
  });
});

describe('GET /licences/{id} for the holder', () => {
  let citizenToken: string;
  let own: LicenceJson;
  let someoneElses: LicenceJson;

  beforeAll(async () => {
    const { citizen } = runtime.credentials;
    citizenToken = await holderToken(citizen.idNumber, citizen.password);
    const mine = await expectJson<{ items: LicenceJson[] }>(
      await getWithToken(runtime, '/me/licences', citizenToken),
      200,
    );
    own = mine.items.find((item) => item.type === 'driving-licence')!;
    someoneElses = await issued(runtime, demoIssuerToken, drivingLicenceBody(newIdNumber()));
  });

  it('answers the holder their own licence, as the issuer sees it', async () => {
    const asHolder = await expectJson<LicenceJson>(
      await getWithToken(runtime, licencePath(own.id), citizenToken),
      200,
    );
    const { history, ...asIssuer } = await expectJson<LicenceJson & { history?: unknown[] }>(
      await getWithToken(runtime, licencePath(own.id), demoIssuerToken),
      200,
    );
    // The issuer alone also reads the status history (its clients' changes and reasons).
    expect(history).toEqual(expect.any(Array));
    expect(asHolder).toEqual(asIssuer);
    expect(asHolder.id).toBe(own.id);
  });

  it('answers another person’s licence and a licence that does not exist alike: 404', async () => {
    const other = await expectProblem(
      await getWithToken(runtime, licencePath(someoneElses.id), citizenToken),
      404,
      'licence_not_found',
    );
    // The same id with another check character: no such licence.
    const missingId = `${someoneElses.id.slice(0, -1)}${someoneElses.id.endsWith('A') ? 'B' : 'A'}`;
    const missing = await expectProblem(
      await getWithToken(runtime, licencePath(missingId), citizenToken),
      404,
      'licence_not_found',
    );
    expect(other.detail.replace(someoneElses.id, '<id>')).toBe(missing.detail.replace(missingId, '<id>'));
  });

  it('answers a third person’s token 404 for the citizen’s licence', async () => {
    const [person] = runtime.credentials.people;
    const password = 'Third-Person-Password-42';
    const created = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      idNumber: person!.idNumber,
      name: person!.name,
      password,
    });
    expect(created.status, await created.text()).toBe(201);
    await proveAccountInPerson(runtime, person!.idNumber);
    const token = await holderToken(person!.idNumber, password);
    await expectProblem(await getWithToken(runtime, licencePath(own.id), token), 404, 'licence_not_found');
    // Their token opens nothing else of the issuers' API either.
    await expectProblem(await getWithToken(runtime, '/licences', token), 403);
    await expectProblem(await getWithToken(runtime, `${licencePath(own.id)}/qr.svg`, token), 403);
  });

  it('keeps the issuer check: another issuer’s client gets 404 for the demo issuer’s licence', async () => {
    const other = await onboardIssuer(runtime, admin);
    const token = await clientCredentialsToken(runtime, other, 'licences:issue');
    await expectProblem(await getWithToken(runtime, licencePath(own.id), token), 404);
  });
});

describe('the presentation kid names a key of the trust list’s presentationKeys, never of the JWKS', () => {
  it('verifies a presentation with the key whose thumbprint the COSE kid begins, named under the trust list’s signature', async () => {
    const { citizen } = runtime.credentials;
    const token = await holderToken(citizen.idNumber, citizen.password);
    const { items } = await expectJson<{ items: LicenceJson[] }>(
      await getWithToken(runtime, '/me/licences', token),
      200,
    );
    const response = await postJson(
      runtime,
      `/me/licences/${encodeURIComponent(items[0]!.id)}/presentations`,
      token,
      {
        disclose: ['vehicleClass'],
      },
    );
    const { token: qr } = await expectJson<{ token: string }>(response, 201);
    // Still within QR version 12 at level M: the COSE kid stays 8 bytes.
    expect(QRCode.create(qr, { errorCorrectionLevel: 'M' }).version).toBeLessThanOrEqual(12);
    const envelope = readPresentationEnvelope(qr);

    // The trust list (checked with the platform keys) names the presentation keys by their thumbprint,
    // which the COSE kid begins.
    const { presentationKeys } = await verifiedTrustList(runtime);
    const matching = (presentationKeys?.keys ?? []).filter((key) =>
      Buffer.from(key.kid, 'base64url').subarray(0, 8).equals(Buffer.from(envelope.kid)),
    );
    expect(matching).toHaveLength(1);
    expect(matching[0]!.kid).toMatch(/^[\w-]{43}$/);
    const key = createPublicKey({ key: { ...matching[0]! }, format: 'jwk' });
    expect(
      verify('sha256', envelope.signedBytes, { key, dsaEncoding: 'ieee-p1363' }, envelope.signature),
    ).toBe(true);

    // The JWKS (whose every key a relying party accepts for an ID token) names no presentation key, under
    // no kid: neither the short form it listed before nor the thumbprint.
    const jwksResponse = await fetch(`${runtime.baseUrl}/.well-known/jwks.json`);
    expect(jwksResponse.status).toBe(200);
    const jwks = (await jwksResponse.json()) as { keys: Array<JWK & { kid: string }> };
    const shortKid = Buffer.from(envelope.kid).toString('base64url');
    expect(jwks.keys.map((entry) => entry.kid)).not.toContain(shortKid);
    expect(jwks.keys.map((entry) => entry.kid)).not.toContain(matching[0]!.kid);
    expect(jwks.keys.some((entry) => entry.x === matching[0]!.x)).toBe(false);
    // Every key of the JWKS has a distinct kid: a JOSE library picking by kid finds exactly one.
    expect(new Set(jwks.keys.map((entry) => entry.kid)).size).toBe(jwks.keys.length);
  });
});

describe('a credential of the older form (iss the bare issuer id, no vct) keeps verifying', () => {
  it('verifies online (POST /verify) and offline with the package', async () => {
    const fresh = await issued(runtime, demoIssuerToken, drivingLicenceBody(newIdNumber()));
    // As issued before 2026-12: the same claims with the issuer's id as iss, no vct, signed by the real key.
    const deps = dependencies();
    const record = (await deps.licences.get(fresh.id))!;
    const issuer = (await deps.issuers.findById(record.issuerId))!;
    const { iss: _iss, vct: _vct, ...claims } = decodeJwt(fresh.credential);
    const old = await signCompactJws(
      { typ: licenceCredentialType },
      { iss: issuer.id, ...claims },
      deps.signerFor(issuer.keyId!),
    );
    expect(decodeJwt(old)).not.toHaveProperty('vct');
    await deps.licences.save({ ...record, credential: old });

    const online = await expectJson<{ verdict: string; licence: { id: string }; issuer: { id: string } }>(
      await postJson(runtime, '/verify', undefined, { qr: old }),
      200,
    );
    expect(online).toMatchObject({ verdict: 'valid', licence: { id: fresh.id }, issuer: { id: issuer.id } });

    const { verifier } = await syncedOfflineVerifier(runtime.baseUrl);
    for (const credential of [old, fresh.credential]) {
      const offline = await verifier.verify(credential);
      expect(offline).toMatchObject({
        verdict: 'valid',
        status: { source: 'status-list', status: 'valid' },
        licence: { id: fresh.id },
        issuer: { id: issuer.id },
      });
    }
  });
});
