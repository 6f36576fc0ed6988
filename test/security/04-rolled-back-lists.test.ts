/**
 * Finding 4: the offline verifier accepted rolled-back lists as fresh. Whoever answers a verifier's
 * requests (a network attacker, a captive portal, a stale cache) could serve a genuine but older trust
 * list (from before an issuer was withdrawn) or status list (from before a revocation), and the store
 * took it, and called it fresh since it had just been fetched. Now a list signed before the copy held is
 * refused and the held copy stays; and freshness, `stale` and `dataAge` count from each token's `iat`.
 *
 * Against the library, with real signatures (no mocks of crypto): the lists are signed by the world's
 * platform and issuer keys, served by an in-memory service.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { signCompactJws } from '../../shared/crypto/compact-jws.js';
import {
  createStatusBytes,
  encodeStatusList,
  StatusType,
  writeStatus,
} from '../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../packages/verifier/src/status-list-zlib.js';
import { createNodeVerifier, nodeEs256 } from '../../packages/verifier/src/node.js';
import {
  OfflineTrustStore,
  SyncError,
  type OfflineTrustStoreOptions,
} from '../../packages/verifier/src/offline-store.js';
import { webCryptoEs256 } from '../../packages/verifier/src/crypto.js';
import { createVerifier } from '../../packages/verifier/src/verifier.js';
import { createWorld, NOW, type World } from '../support/verifier-world.js';

const BASE = 'https://elicence.test';

let world: World;
let now: number;
const clock = () => now * 1000;
/** What the service (or whoever answers in its place) serves, by path. */
let served: Map<string, string>;
const fetchServed = async (input: string | URL | Request) => {
  const body = served.get(String(input).slice(BASE.length));
  return new Response(body ?? 'not found', { status: body === undefined ? 404 : 200 });
};

/** A genuine trust list signed by the platform at `iat`, the issuer active or withdrawn. */
function trustList(iat: number, status: 'active' | 'withdrawn' = 'active') {
  return signCompactJws(
    { typ: 'trust-list+jwt' },
    {
      iss: BASE,
      iat,
      exp: iat + 7 * 86_400,
      ttl: 3600,
      issuers: [
        {
          id: world.issuer.id,
          name: world.issuer.name,
          creditCode: world.issuer.creditCode,
          region: '110000',
          status,
          jwks: { keys: world.issuer.keys },
          licenceTypes: [{ code: 'driving-licence', typeCode: '003' }],
          statusLists: 1,
        },
      ],
    },
    world.platformSigner,
  );
}

/** A genuine status list signed by the issuer at `iat`, with licence 7 valid or revoked. */
async function statusList(iat: number, licence7: 'valid' | 'revoked') {
  const bytes = createStatusBytes(1024);
  if (licence7 === 'revoked') writeStatus(bytes, 7, StatusType.INVALID);
  return signCompactJws(
    { typ: 'statuslist+jwt' },
    {
      iss: world.issuer.id,
      sub: `${BASE}/status-lists/${world.issuer.id}.0`,
      iat,
      exp: iat + 2 * 86_400,
      ttl: 300,
      status_list: await encodeStatusList(bytes, zlibCompression),
    },
    world.issuerSigner,
  );
}

const statusPath = () => `/status-lists/${world.issuer.id}.0`;

function storeOf(crypto: OfflineTrustStoreOptions['crypto'] = nodeEs256) {
  return new OfflineTrustStore({
    baseUrl: BASE,
    crypto,
    fetch: fetchServed,
    clock,
    compression: zlibCompression,
    platformKeys: world.trust.platform,
  });
}

beforeEach(async () => {
  world = await createWorld();
  now = NOW;
  served = new Map();
});

describe('a rolled-back trust list is refused, and what the store holds stays', () => {
  it('sync, refreshTrustList and restore all refuse a list signed before the one held', async () => {
    // Yesterday the issuer was active; today it was withdrawn, and the store learnt of it.
    const before = await trustList(NOW - 86_400, 'active');
    served.set('/trust-list', await trustList(NOW - 60, 'withdrawn'));
    served.set(statusPath(), await statusList(NOW - 60, 'valid'));
    const store = storeOf();
    await store.sync();
    const verifier = createNodeVerifier({ trust: store, status: store, clock });
    const credential = await world.credential();
    expect(await verifier.verify(credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_withdrawn',
    });
    const held = store.snapshot();

    // Now someone serves yesterday's list: genuine, signed by the platform, not expired.
    served.set('/trust-list', before);
    await expect(store.sync()).rejects.toMatchObject({ name: 'SyncError', code: 'rolled_back' });
    await expect(store.refreshTrustList()).rejects.toMatchObject({ code: 'rolled_back' });
    await expect(
      store.restore({ ...held, trustList: { jws: before, fetchedAt: now * 1000 } }),
    ).rejects.toBeInstanceOf(SyncError);

    expect(store.snapshot()).toEqual(held);
    expect(store.issuerById(world.issuer.id)?.status).toBe('withdrawn');
    expect((await verifier.verify(credential)).verdict).toBe('unknown_issuer');
  });

  it('a newer list is taken as before', async () => {
    served.set('/trust-list', await trustList(NOW - 600));
    const store = storeOf();
    await store.sync();
    served.set('/trust-list', await trustList(NOW - 60, 'withdrawn'));
    await store.refreshTrustList();
    expect(store.issuerById(world.issuer.id)?.status).toBe('withdrawn');
  });
});

describe('a rolled-back status list is refused, and what the store holds stays', () => {
  it('sync and refreshStatusList refuse a list signed before the copy held: a revocation stays', async () => {
    served.set('/trust-list', await trustList(NOW - 60));
    served.set(statusPath(), await statusList(NOW - 60, 'revoked'));
    const store = storeOf();
    expect((await store.sync()).failures).toEqual([]);
    const verifier = createNodeVerifier({ trust: store, status: store, clock });
    const credential = await world.credential();
    expect((await verifier.verify(credential)).verdict).toBe('revoked');
    const held = store.snapshot();

    // The list from before the revocation, genuine and unexpired, served in its place.
    served.set(statusPath(), await statusList(NOW - 3600, 'valid'));
    now += 10;
    const report = await store.sync();
    expect(report.failures).toEqual([{ url: `${BASE}${statusPath()}`, code: 'rolled_back' }]);
    await expect(store.refreshStatusList(`${BASE}${statusPath()}`)).rejects.toMatchObject({
      code: 'rolled_back',
    });
    await expect(store.refreshStatusList(statusPath())).rejects.toMatchObject({ code: 'rolled_back' });

    expect(store.snapshot().statusLists).toEqual(held.statusLists);
    expect(await verifier.verify(credential)).toMatchObject({ verdict: 'revoked', reason: 'status_revoked' });
  });

  it('a list of the same second saying something else is refused too: two revocations a moment apart (R32 M1)', async () => {
    // Lists are dated in whole seconds: the list before the revocation and the one after it, signed in
    // the same second (a signer before 2026-12 dated both alike), carry the same iat.
    served.set('/trust-list', await trustList(NOW - 60));
    served.set(statusPath(), await statusList(NOW - 30, 'revoked'));
    const store = storeOf();
    expect((await store.sync()).failures).toEqual([]);
    const verifier = createNodeVerifier({ trust: store, status: store, clock });
    const credential = await world.credential();
    expect((await verifier.verify(credential)).verdict).toBe('revoked');
    const held = store.snapshot();

    served.set(statusPath(), await statusList(NOW - 30, 'valid'));
    expect((await store.sync()).failures).toEqual([{ url: `${BASE}${statusPath()}`, code: 'rolled_back' }]);
    await expect(store.refreshStatusList(statusPath())).rejects.toMatchObject({ code: 'rolled_back' });
    expect(store.snapshot().statusLists).toEqual(held.statusLists);
    expect(await verifier.verify(credential)).toMatchObject({ verdict: 'revoked', reason: 'status_revoked' });

    // The same claims signed again (another signature) are the same list; a later one is taken as ever.
    served.set(statusPath(), await statusList(NOW - 30, 'revoked'));
    await expect(store.refreshStatusList(statusPath())).resolves.toBeDefined();
    served.set(statusPath(), await statusList(NOW - 29, 'valid'));
    await store.refreshStatusList(statusPath());
    expect((await verifier.verify(credential)).verdict).toBe('valid');
  });

  it('a trust list of the same second saying something else is refused: a withdrawal stays', async () => {
    served.set('/trust-list', await trustList(NOW - 60, 'withdrawn'));
    served.set(statusPath(), await statusList(NOW - 60, 'valid'));
    const store = storeOf();
    await store.sync();
    served.set('/trust-list', await trustList(NOW - 60, 'active'));
    await expect(store.sync()).rejects.toMatchObject({ code: 'rolled_back' });
    await expect(store.refreshTrustList()).rejects.toMatchObject({ code: 'rolled_back' });
    const verifier = createNodeVerifier({ trust: store, status: store, clock });
    expect((await verifier.verify(await world.credential())).reason).toBe('issuer_withdrawn');
    // The same list signed again is no change.
    served.set('/trust-list', await trustList(NOW - 60, 'withdrawn'));
    await expect(store.refreshTrustList()).resolves.toBeDefined();
  });

  it('restore keeps the newer copy held rather than an older one in the snapshot', async () => {
    served.set('/trust-list', await trustList(NOW - 60));
    served.set(statusPath(), await statusList(NOW - 3600, 'valid'));
    const store = storeOf();
    await store.sync();
    const old = store.snapshot();
    served.set(statusPath(), await statusList(NOW - 60, 'revoked'));
    await store.refreshStatusList(statusPath());
    await store.restore(old);
    const verifier = createNodeVerifier({ trust: store, status: store, clock });
    expect((await verifier.verify(await world.credential())).verdict).toBe('revoked');
  });
});

describe('freshness counts from the token’s iat, not from when it was fetched', () => {
  it('an old status list fetched just now is stale, and dataAge says how old it is (Node and WebCrypto)', async () => {
    served.set('/trust-list', await trustList(NOW - 60));
    // Signed 400 s ago with a ttl of 300 s: stale the moment it arrives.
    served.set(statusPath(), await statusList(NOW - 400, 'valid'));
    for (const crypto of [nodeEs256, webCryptoEs256()]) {
      const store = storeOf(crypto);
      await store.sync();
      const verifier = createVerifier({ crypto, trust: store, status: store, clock });
      expect(await verifier.verify(await world.credential())).toMatchObject({
        verdict: 'valid',
        status: { source: 'status-list', status: 'valid', stale: true },
        stale: true,
        dataAge: 400,
      });
    }
  });

  it('an old trust list fetched just now is stale too', async () => {
    // Signed two hours ago, ttl one hour; a status list signed a moment ago.
    served.set('/trust-list', await trustList(NOW - 7200));
    served.set(statusPath(), await statusList(NOW - 5, 'valid'));
    const store = storeOf();
    await store.sync();
    expect(store.freshness()).toMatchObject({
      stale: true,
      issuedAt: (NOW - 7200) * 1000,
      fetchedAt: NOW * 1000,
    });
    const verifier = createNodeVerifier({ trust: store, status: store, clock });
    expect(await verifier.verify(await world.credential())).toMatchObject({
      verdict: 'valid',
      status: { stale: false },
      stale: true,
      dataAge: 7200,
    });
  });

  it('a list signed just now is fresh until its ttl has passed from its iat', async () => {
    served.set('/trust-list', await trustList(NOW));
    served.set(statusPath(), await statusList(NOW - 100, 'valid'));
    const store = storeOf();
    await store.sync();
    const verifier = createNodeVerifier({ trust: store, status: store, clock });
    expect(await verifier.verify(await world.credential())).toMatchObject({ stale: false, dataAge: 100 });
    now += 200; // 300 s after the list's iat: still within its ttl
    expect(await verifier.verify(await world.credential())).toMatchObject({ stale: false, dataAge: 300 });
    now += 1;
    expect(await verifier.verify(await world.credential())).toMatchObject({ stale: true, dataAge: 301 });
  });
});
