import { randomInt, randomUUID } from 'node:crypto';
import {
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import { expect } from 'vitest';
import { idNumberCheckCharacter } from '../../shared/identifiers/id-number.js';
import { decodeStatusList, readStatus } from '../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../packages/verifier/src/status-list-zlib.js';
import { trustListPayload, type TrustListPayload } from '../../packages/verifier/src/trust-list.js';
import type { LocalRuntime } from '../../infra/local/runtime.js';
import { postJson } from './http-api.js';

type Runtime = Pick<LocalRuntime, 'baseUrl'>;

/** The `Licence` of API.md as the issuer API answers it. */
export interface LicenceJson {
  id: string;
  type: string;
  issuer: { id: string; name: string; creditCode: string };
  holder: { kind: 'person' | 'entity'; name: string; masked: string };
  fields: Record<string, unknown>;
  status: 'valid' | 'suspended' | 'revoked' | 'expired';
  statusReason?: string;
  issuedAt: string;
  validFrom: string;
  validUntil?: string;
  credential: string;
}

/** The claims of a licence credential (`typ: licence+jwt`). */
export interface CredentialClaims extends JWTPayload {
  iss: string;
  jti: string;
  iat: number;
  nbf: number;
  exp?: number;
  status: { status_list: { idx: number; uri: string } };
}

const givenIdNumbers = new Set<string>();

/**
 * A fresh, valid resident ID number (GB 11643): the given region, a random birth date between 1950 and
 * 2005, a random sequence, and its MOD 11-2 check character; never one given before in this process.
 */
export function newIdNumber(region = '110105'): string {
  for (;;) {
    const birth = new Date(Date.UTC(1950, 0, 1) + randomInt(0, 55 * 365) * 86_400_000);
    const date = birth.toISOString().slice(0, 10).replaceAll('-', '');
    const first17 = `${region}${date}${String(randomInt(0, 1000)).padStart(3, '0')}`;
    const idNumber = `${first17}${idNumberCheckCharacter(first17)}`;
    // Never the same twice in a test process: 1,000 random ones repeat one about once in 40 batches, and a
    // batch refuses an item repeating another (duplicate_item).
    if (givenIdNumbers.has(idNumber)) continue;
    givenIdNumbers.add(idNumber);
    return idNumber;
  }
}

/** The display form the API must show: region code, eight stars, the last four characters. */
export const maskedIdNumber = (idNumber: string) => `${idNumber.slice(0, 6)}********${idNumber.slice(14)}`;

/** A `POST /licences` body for a driving licence of `idNumber`, valid apart from `overrides`. */
export function drivingLicenceBody(
  idNumber: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: 'driving-licence',
    holder: { idNumber },
    holderName: '李测试',
    fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123456' },
    ...overrides,
  };
}

/** A `POST /licences` body for a business licence of `creditCode`, valid apart from `overrides`. */
export function businessLicenceBody(
  creditCode: string,
  representativeIdNumber: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: 'business-licence',
    holder: { creditCode },
    holderName: '北京测试科技有限公司',
    fields: {
      entityType: '有限责任公司',
      legalRepresentativeName: '张测试',
      legalRepresentativeIdNumber: representativeIdNumber,
      registeredCapital: { amount: 500_000, currency: 'CNY' },
      establishedOn: '2020-06-01',
      businessScope: '软件开发;技术服务。',
      address: '北京市海淀区测试路2号',
    },
    ...overrides,
  };
}

/** `POST /licences` with an `Idempotency-Key` (a new UUID unless given). */
export function issueLicence(
  runtime: Runtime,
  token: string,
  body: unknown,
  idempotencyKey: string = randomUUID(),
): Promise<Response> {
  return postJson(runtime, '/licences', token, body, { 'idempotency-key': idempotencyKey });
}

/** A `GET` with a bearer token. */
export function getWithToken(runtime: Runtime, path: string, token: string): Promise<Response> {
  return fetch(`${runtime.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

/** Reads a JSON answer after checking its status (the body is shown when it differs). */
export async function expectJson<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return JSON.parse(text) as T;
}

/** Issues a licence and returns it, expecting 201. */
export async function issued(runtime: Runtime, token: string, body: unknown): Promise<LicenceJson> {
  return expectJson<LicenceJson>(await issueLicence(runtime, token, body), 201);
}

export const licencePath = (id: string) => `/licences/${encodeURIComponent(id)}`;

/**
 * The trust list, verified as an offline verifier would: its signature against the platform keys of
 * `/.well-known/jwks.json`, `typ: trust-list+jwt`, ES256 only; then its claims parsed.
 */
export async function verifiedTrustList(runtime: Runtime): Promise<TrustListPayload> {
  const jwksResponse = await fetch(`${runtime.baseUrl}/.well-known/jwks.json`);
  expect(jwksResponse.status).toBe(200);
  const platformKeys = createLocalJWKSet((await jwksResponse.json()) as JSONWebKeySet);
  const response = await fetch(`${runtime.baseUrl}/trust-list`);
  const token = await response.text();
  expect(response.status, token).toBe(200);
  expect(decodeProtectedHeader(token).typ).toBe('trust-list+jwt');
  const { payload } = await jwtVerify(token, platformKeys, {
    typ: 'trust-list+jwt',
    algorithms: ['ES256'],
    issuer: runtime.baseUrl,
  });
  return trustListPayload.parse(payload);
}

/** The public keys of one issuer, from the verified trust list. */
export async function issuerKeySet(runtime: Runtime, issuerId: string) {
  const entry = (await verifiedTrustList(runtime)).issuers.find((issuer) => issuer.id === issuerId);
  if (!entry) throw new Error(`issuer ${issuerId} is not in the trust list`);
  expect(entry.status).toBe('active');
  return createLocalJWKSet(entry.jwks);
}

export type KeySet = Awaited<ReturnType<typeof issuerKeySet>>;

/** Verifies a licence credential (ES256, `typ: licence+jwt`) against the issuer's keys; its claims. */
export async function verifyCredential(credential: string, keys: KeySet): Promise<CredentialClaims> {
  const { payload, protectedHeader } = await jwtVerify(credential, keys, {
    algorithms: ['ES256'],
    typ: 'licence+jwt',
  });
  expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'licence+jwt', kid: expect.any(String) });
  // The same bytes verify as a bare JWS too (what a scanner that is not a JWT library does).
  await compactVerify(credential, keys, { algorithms: ['ES256'] });
  return payload as CredentialClaims;
}

/**
 * The status of entry `idx` of the Status List Token at `uri`, after verifying the token against the
 * issuer's keys (`typ: statuslist+jwt`, ES256, `sub` = `uri`) and decoding it.
 */
export async function statusAt(uri: string, idx: number, keys: KeySet): Promise<number> {
  const response = await fetch(uri);
  const token = await response.text();
  expect(response.status, token).toBe(200);
  expect(decodeProtectedHeader(token).typ).toBe('statuslist+jwt');
  const { payload } = await jwtVerify(token, keys, {
    typ: 'statuslist+jwt',
    algorithms: ['ES256'],
    subject: uri,
  });
  const list = await decodeStatusList(payload.status_list, zlibCompression, { maxBytes: 64 * 1024 });
  return readStatus(list.bytes, idx, list.bits);
}

/**
 * Every licence `GET /licences` lists for the token's issuer, following `cursor` to the end; a search by
 * `holder` or `holderName` goes to `POST /licences/search` (the GET refuses them), the same filters in its body.
 */
export async function listAll(runtime: Runtime, token: string, query = ''): Promise<LicenceJson[]> {
  const items: LicenceJson[] = [];
  let cursor: string | undefined;
  do {
    const params = new URLSearchParams(query);
    params.set('limit', '100');
    if (cursor) params.set('cursor', cursor);
    const page = await expectJson<{ items: LicenceJson[]; cursor?: string }>(
      params.has('holder') || params.has('holderName')
        ? await searchLicences(runtime, token, Object.fromEntries(params))
        : await getWithToken(runtime, `/licences?${params}`, token),
      200,
    );
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return items;
}

/**
 * `POST /licences/search` with `filters` as a listing's query spells them (`limit` and the `true`/`false`
 * flags as text are sent as JSON numbers and booleans).
 */
export function searchLicences(
  runtime: Runtime,
  token: string,
  filters: Record<string, string | number | boolean>,
): Promise<Response> {
  const flags = new Set(['total', 'keyWithdrawn']);
  const body = Object.fromEntries(
    Object.entries(filters).map(([name, value]) => [
      name,
      name === 'limit'
        ? Number(value)
        : flags.has(name) && typeof value === 'string'
          ? value === 'true'
          : value,
    ]),
  );
  return fetch(`${runtime.baseUrl}/licences/search`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
