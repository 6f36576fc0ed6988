import { randomInt, randomUUID } from 'node:crypto';
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import { expect } from 'vitest';
import { nodeEs256, zlibCompression } from '../../../packages/verifier/src/node.js';
import { OfflineTrustStore } from '../../../packages/verifier/src/offline-store.js';
import { createVerifier } from '../../../packages/verifier/src/verifier.js';
import { idNumberCheckCharacter } from '../../../shared/identifiers/id-number.js';
import { postJson } from '../../support/http-api.js';
import { clientCredentialsToken, type TestRuntime } from '../../support/runtime.js';

type Runtime = Pick<TestRuntime, 'baseUrl'>;

// jsqr is CommonJS with an `exports.default`: under NodeNext the default import is `module.exports`.
const decodeQr = jsqr.default;

/** The `POST /verify` answer of API.md. */
export interface VerifyAnswer {
  verdict: string;
  reason: string;
  format?: 'credential' | 'presentation';
  checkedAt: string;
  licence?: {
    id: string;
    type: string;
    holder: { kind: string; name: string; masked: string };
    fields?: Record<string, unknown>;
    validFrom: string;
    validUntil?: string;
  };
  issuer?: { id: string; name: string; creditCode: string };
}

/** What the issuer API answers for a licence (the parts these tests read). */
export interface IssuedLicence {
  id: string;
  status: string;
  credential: string;
  holder: { kind: string; name: string; masked: string };
}

/** A fresh, valid resident ID number (GB 11643) born in the 1980s. */
export function newIdNumber(region = '110105'): string {
  const first17 = `${region}198${randomInt(0, 10)}0${randomInt(1, 10)}1${randomInt(0, 10)}${String(randomInt(0, 1000)).padStart(3, '0')}`;
  return `${first17}${idNumberCheckCharacter(first17)}`;
}

/** Tokens for the demo issuer's client and the demo verifier app (scope `licences:verify`). */
export async function demoTokens(runtime: TestRuntime) {
  const { issuer, verifier } = runtime.credentials;
  return {
    issuer: await clientCredentialsToken(runtime, issuer, 'licences:issue'),
    verifier: await clientCredentialsToken(runtime, verifier, 'licences:verify'),
  };
}

/** Issues a driving licence over HTTP and answers it (expects 201). */
export async function issueDrivingLicence(
  runtime: Runtime,
  issuerToken: string,
  overrides: Record<string, unknown> = {},
): Promise<IssuedLicence> {
  const response = await postJson(
    runtime,
    '/licences',
    issuerToken,
    {
      type: 'driving-licence',
      holder: { idNumber: newIdNumber() },
      holderName: '李测试',
      fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123456' },
      ...overrides,
    },
    { 'idempotency-key': randomUUID() },
  );
  const text = await response.text();
  expect(response.status, text).toBe(201);
  return JSON.parse(text) as IssuedLicence;
}

/** Changes a licence's status over HTTP (expects 200). */
export async function changeStatus(runtime: Runtime, issuerToken: string, id: string, status: string) {
  const response = await postJson(runtime, `/licences/${encodeURIComponent(id)}/status`, issuerToken, {
    status,
    reason: 'test',
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

/** The text a QR decoder reads off a PNG. */
export function readQrPng(png: Uint8Array): string {
  const image = PNG.sync.read(Buffer.from(png));
  const code = decodeQr(new Uint8ClampedArray(image.data), image.width, image.height);
  if (!code) throw new Error('no QR code found in the PNG');
  return code.data;
}

/** `POST /verify` with `{ qr }`, as anyone or with a bearer token. */
export function postVerify(runtime: Runtime, qr: unknown, token?: string): Promise<Response> {
  return postJson(runtime, '/verify', token, { qr });
}

/** `POST /verify`, expecting a 200 verdict. */
export async function verified(runtime: Runtime, qr: unknown, token?: string): Promise<VerifyAnswer> {
  const response = await postVerify(runtime, qr, token);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return JSON.parse(text) as VerifyAnswer;
}

/**
 * The verifier package as an app runs it offline: a store synced once from the service at `baseUrl`
 * (its trust list and every status list) and a verifier reading trust and status from it, with `clock`
 * for both when given. The sync's report is returned for the tests that look at it.
 */
export async function syncedOfflineVerifier(baseUrl: string, clock?: () => number) {
  const store = new OfflineTrustStore({
    baseUrl,
    crypto: nodeEs256,
    compression: zlibCompression,
    ...(clock && { clock }),
  });
  const report = await store.sync();
  const verifier = createVerifier({
    crypto: nodeEs256,
    trust: store,
    status: store,
    ...(clock && { clock }),
  });
  return { store, verifier, report };
}
