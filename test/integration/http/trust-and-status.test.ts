import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { findLicenceType } from '../../../shared/licence/catalogue.js';
import { LIST_SIZE } from '../../../shared/licence/status-list-store.js';
import { decodeStatusList, readStatus, StatusType } from '../../../packages/verifier/src/status-list.js';
import { trustListPayload, type TrustListPayload } from '../../../packages/verifier/src/trust-list.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

let runtime: TestRuntime;
let trustList: TrustListPayload;
let trustListResponse: Response;
let trustListToken: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  trustListResponse = await fetch(`${runtime.baseUrl}/trust-list`);
  trustListToken = await trustListResponse.clone().text();
});
afterAll(async () => {
  await runtime?.close();
});

async function platformJwks() {
  const response = await fetch(`${runtime.baseUrl}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  return createLocalJWKSet((await response.json()) as JSONWebKeySet);
}

describe('GET /trust-list', () => {
  it('answers a cacheable platform-signed trust-list+jwt', async () => {
    expect(trustListResponse.status, trustListToken).toBe(200);
    expect(trustListResponse.headers.get('content-type')).toBe('application/trust-list+jwt');
    // Cacheable for what is left of its ttl counted from its iat (it is re-signed after half of it).
    const trustMaxAge = Number(
      /^public, max-age=(\d+)$/.exec(trustListResponse.headers.get('cache-control') ?? '')?.[1],
    );
    expect(trustMaxAge).toBeGreaterThanOrEqual(1800);
    expect(trustMaxAge).toBeLessThanOrEqual(3600);
    expect(trustListResponse.headers.get('access-control-allow-origin')).toBe('*');

    const { payload, protectedHeader } = await jwtVerify(trustListToken, await platformJwks(), {
      typ: 'trust-list+jwt',
      algorithms: ['ES256'],
      issuer: runtime.baseUrl,
    });
    expect(protectedHeader.typ).toBe('trust-list+jwt');
    trustList = trustListPayload.parse(payload);
    expect(trustList.exp - trustList.iat).toBe(7 * 86_400);
    expect(trustList.ttl).toBe(3_600);
  });

  it('lists the demo issuer, active, with its public key', async () => {
    const demo = trustList.issuers.find((entry) => entry.id === runtime.credentials.issuer.id);
    const stored = await dependencies().issuers.findById(runtime.credentials.issuer.id);
    expect(demo).toEqual({
      id: stored?.id,
      name: stored?.name,
      creditCode: stored?.creditCode,
      region: stored?.region,
      status: 'active',
      jwks: {
        keys: [
          expect.objectContaining({ kty: 'EC', crv: 'P-256', kid: stored?.kid, x: stored?.publicJwk?.x }),
        ],
      },
      // What it may issue, with the type code its licence ids carry: offline verifiers check both.
      licenceTypes: stored?.licenceTypes.map((code) => ({ code, typeCode: findLicenceType(code)?.typeCode })),
      // How many status lists to fetch: the demo's licences all fit the first.
      statusLists: 1,
    });
    expect(Object.keys(demo?.jwks.keys[0] ?? {})).not.toContain('d');
  });

  it('is signed once and served again while nothing changes', async () => {
    expect(await (await fetch(`${runtime.baseUrl}/trust-list`)).text()).toBe(trustListToken);
  });
});

describe('GET /status-lists/{listId}', () => {
  const issuerKeys = () => {
    const demo = trustList.issuers.find((entry) => entry.id === runtime.credentials.issuer.id);
    if (!demo) throw new Error('the demo issuer is not in the trust list');
    return createLocalJWKSet(demo.jwks);
  };

  it('answers a list allocated through the store, signed by its issuer, with the statuses set', async () => {
    const { statusLists } = dependencies();
    const issuerId = runtime.credentials.issuer.id;
    const [revoked, suspended, valid, reinstated] = await Promise.all(
      Array.from({ length: 4 }, () => statusLists.allocate(issuerId)),
    );
    if (!revoked || !suspended || !valid || !reinstated) throw new Error('allocation failed');
    expect(new Set([revoked.listId, suspended.listId, valid.listId, reinstated.listId]).size).toBe(1);
    const listId = revoked.listId;

    await statusLists.setStatus(listId, revoked.idx, StatusType.INVALID);
    await statusLists.setStatus(listId, suspended.idx, StatusType.SUSPENDED);
    await statusLists.setStatus(listId, reinstated.idx, StatusType.SUSPENDED);
    await statusLists.setStatus(listId, reinstated.idx, StatusType.VALID);

    const response = await fetch(`${runtime.baseUrl}/status-lists/${encodeURIComponent(listId)}`, {
      headers: { accept: 'application/statuslist+jwt' },
    });
    const jws = await response.text();
    expect(response.status, jws).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/statuslist+jwt');
    // Cacheable for what is left of its ttl counted from its iat (it is re-signed after half of it).
    const maxAge = Number(/^public, max-age=(\d+)$/.exec(response.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThanOrEqual(150);
    expect(maxAge).toBeLessThanOrEqual(300);

    const { payload } = await jwtVerify(jws, issuerKeys(), {
      typ: 'statuslist+jwt',
      algorithms: ['ES256'],
      subject: `${runtime.baseUrl}/status-lists/${listId}`,
    });
    expect(payload).toMatchObject({ iss: issuerId, ttl: 300 });
    const list = await decodeStatusList(payload.status_list, zlibCompression, { maxBytes: 64 * 1024 });
    expect(list.bits).toBe(2);
    expect([revoked, suspended, valid, reinstated].map(({ idx }) => readStatus(list.bytes, idx))).toEqual([
      StatusType.INVALID,
      StatusType.SUSPENDED,
      StatusType.VALID,
      StatusType.VALID,
    ]);

    // The same revision is served from the stored token; a change is served at once.
    expect(await (await fetch(`${runtime.baseUrl}/status-lists/${listId}`)).text()).toBe(jws);
    await statusLists.setStatus(listId, valid.idx, StatusType.INVALID);
    const changed = await (await fetch(`${runtime.baseUrl}/status-lists/${listId}`)).text();
    expect(changed).not.toBe(jws);
    const { payload: next } = await jwtVerify(changed, issuerKeys(), { typ: 'statuslist+jwt' });
    const nextList = await decodeStatusList(next.status_list, zlibCompression);
    expect(readStatus(nextList.bytes, valid.idx)).toBe(StatusType.INVALID);
  });

  it('answers 503 with Retry-After rather than date a list more than 30 s ahead (R33 H1)', async () => {
    const { statusLists } = dependencies();
    const { listId } = await statusLists.allocate(runtime.credentials.issuer.id);
    // Revocations each followed by a request, faster than one a second: each list is dated a second
    // after the one before, until that would be more than 30 s ahead of the clock.
    let refused: Response | undefined;
    for (let round = 0; round < 300 && !refused; round++) {
      // Entries at the far end of the list, which no test allocates.
      await statusLists.setStatus(listId, LIST_SIZE - 1 - round, StatusType.INVALID);
      const response = await fetch(`${runtime.baseUrl}/status-lists/${encodeURIComponent(listId)}`);
      const body = await response.text();
      if (response.status === 503) {
        refused = response;
        expect(JSON.parse(body)).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
        continue;
      }
      expect(response.status, body).toBe(200);
      const { payload } = await jwtVerify(body, issuerKeys(), { typ: 'statuslist+jwt' });
      expect(payload.iat! - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(30);
      const list = await decodeStatusList(payload.status_list, zlibCompression);
      expect(readStatus(list.bytes, LIST_SIZE - 1 - round)).toBe(StatusType.INVALID);
    }
    expect(refused?.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(refused?.headers.get('cache-control') ?? '').not.toMatch(/public/);
  });

  it('answers 404 problems for unknown issuers, unallocated lists and non-list ids', async () => {
    const issuerId = runtime.credentials.issuer.id;
    for (const listId of [`${issuerId}.7`, 'iss_doesNotExist.0', 'not-a-list', `${issuerId}.0.0`]) {
      const response = await fetch(`${runtime.baseUrl}/status-lists/${encodeURIComponent(listId)}`);
      expect(response.status, listId).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await response.json()).toMatchObject({ status: 404, code: 'status_list_not_found' });
    }
  });
});
