/**
 * Finding 3 (issue 12), online: `POST /verify` answered `valid` for a validly signed credential that the
 * service never issued, or whose licence record belongs to another issuer, has another type, or names
 * another credit code, or of a type the issuer was never allowed. The record is the truth online.
 *
 * The forged credentials are signed with the issuer's own KMS key, as a leaked key or a signing request
 * made outside the service would sign them; a crash between signing and writing the record (finding 10)
 * leaves the same kind of credential behind.
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies, type Dependencies } from '../../functions/composition/dependencies.js';
import { signCompactJws } from '../../shared/crypto/compact-jws.js';
import type { Issuer } from '../../shared/issuers/issuer.js';
import { formatLicenceId } from '../../shared/identifiers/licence-id.js';
import { onboardIssuer, postJson } from '../support/http-api.js';
import { drivingLicenceBody, newIdNumber, type LicenceJson } from '../support/licences.js';
import { adminToken } from '../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';

let runtime: TestRuntime;
let deps: Dependencies;
let demoIssuer: Issuer;
let issuerToken: string;
let genuine: LicenceJson;

beforeAll(async () => {
  runtime = await startTestRuntime();
  deps = buildDependencies(runtime.config);
  demoIssuer = (await deps.issuers.findById(runtime.credentials.issuer.id))!;
  issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
  genuine = await issue(issuerToken, drivingLicenceBody(newIdNumber()));
});
afterAll(() => runtime?.close());

async function issue(token: string, body: Record<string, unknown>): Promise<LicenceJson> {
  const response = await postJson(runtime, '/licences', token, body, { 'idempotency-key': randomUUID() });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as LicenceJson;
}

async function verify(qr: string): Promise<{ verdict: string; reason: string; licence?: unknown }> {
  const response = await postJson(runtime, '/verify', undefined, { qr });
  expect(response.status).toBe(200);
  return (await response.json()) as { verdict: string; reason: string; licence?: unknown };
}

/** A credential signed by `issuer`'s own key: the genuine licence's claims with `changes` applied. */
async function forge(issuer: Issuer, changes: Record<string, unknown>): Promise<string> {
  const claims = { ...decodeJwt(genuine.credential), ...changes };
  // A careful forger keeps the type's URI in step with the type, so the forgery reaches the record check.
  if (typeof changes.lt === 'string' && !('vct' in changes)) {
    claims.vct = String(claims.vct).replace(/[^/]+$/, changes.lt);
  }
  return signCompactJws({ typ: 'licence+jwt' }, claims, deps.signerFor(issuer.keyId!));
}

describe('finding 3: online verification fails closed', () => {
  it('the genuine credential is valid (the control)', async () => {
    expect(await verify(genuine.credential)).toMatchObject({ verdict: 'valid' });
  });

  it('a validly signed credential of a licence the service never issued is not valid', async () => {
    const id = formatLicenceId({
      typeCode: '003',
      issuerCreditCode: demoIssuer.creditCode,
      serial: 987_654,
      version: 1,
    });
    const answer = await verify(await forge(demoIssuer, { jti: id }));
    expect(answer).toMatchObject({ verdict: 'unknown_issuer', reason: 'licence_not_on_record' });
    expect(answer).not.toHaveProperty('licence');
  });

  it('a second credential signed for an existing licence id (a phantom duplicate) is not valid', async () => {
    const twin = await forge(demoIssuer, { iat: (decodeJwt(genuine.credential).iat ?? 0) - 1 });
    expect(twin).not.toBe(genuine.credential);
    expect(await verify(twin)).toMatchObject({ verdict: 'unknown_issuer', reason: 'record_mismatch' });
  });

  it('a credential of another type than the record’s is not valid', async () => {
    // A business licence id of the demo issuer whose record says it is a driving licence: the library
    // finds nothing wrong (the type, its code in the id and the issuer agree), the record does.
    const id = formatLicenceId({
      typeCode: '001',
      issuerCreditCode: demoIssuer.creditCode,
      serial: 4240,
      version: 1,
    });
    const record = await deps.licences.get(genuine.id);
    await deps.licences.create({ ...record!, id, version: 0 });
    const answer = await verify(await forge(demoIssuer, { jti: id, lt: 'business-licence' }));
    expect(answer).toMatchObject({ verdict: 'unknown_issuer', reason: 'record_mismatch' });
  });

  it('a credential signed by another issuer than the record’s is not valid', async () => {
    const admin = await adminToken(runtime);
    const created = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
    const other = (await deps.issuers.findById(created.id))!;
    // An id under the other issuer's own code, whose record says the demo issuer issued it.
    const id = formatLicenceId({
      typeCode: '003',
      issuerCreditCode: other.creditCode,
      serial: 4241,
      version: 1,
    });
    const record = await deps.licences.get(genuine.id);
    await deps.licences.create({ ...record!, id, version: 0 });
    const answer = await verify(await forge(other, { iss: other.id, jti: id }));
    expect(answer).toMatchObject({ verdict: 'unknown_issuer', reason: 'record_mismatch' });
  });

  it('a link carrying the recorded credential beside another one is judged by the one it shows', async () => {
    const twin = await forge(demoIssuer, { iat: (decodeJwt(genuine.credential).iat ?? 0) - 2 });
    const link = `${runtime.baseUrl}/verifier?c=${genuine.credential}#${twin}`;
    expect(await verify(link)).toMatchObject({ verdict: 'unknown_issuer', reason: 'record_mismatch' });
  });

  it('a licence whose id names another credit code than its signer’s is not valid', async () => {
    // A record that claims the demo issuer issued a licence numbered under another agency's code.
    const id = formatLicenceId({
      typeCode: '003',
      issuerCreditCode: '11310000000024686D',
      serial: 4242,
      version: 1,
    });
    const record = await deps.licences.get(genuine.id);
    await deps.licences.create({ ...record!, id, version: 0 });
    const answer = await verify(await forge(demoIssuer, { jti: id }));
    expect(answer).toMatchObject({ verdict: 'unknown_issuer', reason: 'licence_id_issuer_mismatch' });
  });

  it('a licence of a type its issuer was never allowed is not valid', async () => {
    const id = formatLicenceId({
      typeCode: '007',
      issuerCreditCode: demoIssuer.creditCode,
      serial: 4243,
      version: 1,
    });
    const record = await deps.licences.get(genuine.id);
    await deps.licences.create({ ...record!, id, type: 'marriage-certificate', version: 0 });
    const answer = await verify(await forge(demoIssuer, { jti: id, lt: 'marriage-certificate' }));
    expect(answer).toMatchObject({ verdict: 'unknown_issuer', reason: 'licence_type_not_allowed' });
  });
});
