import { beforeEach, describe, expect, it } from 'vitest';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import {
  createStatusBytes,
  encodeStatusList,
  StatusType,
  writeStatus,
} from '../../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import type { PublicJwk } from '../../../packages/verifier/src/crypto.js';
import { nodeEs256 } from '../../../packages/verifier/src/node.js';
import {
  OfflineTrustStore,
  SyncError,
  type OfflineSnapshot,
  type OfflineTrustStoreOptions,
} from '../../../packages/verifier/src/offline-store.js';
import { createVerifier } from '../../../packages/verifier/src/verifier.js';
import { LocalSigner } from '../../support/local-signer.js';
import { createWorld, FakeStatus, licenceId, NOW, type World } from '../../support/verifier-world.js';

const BASE = 'https://elicence.test';
/** A government agency's credit code registered in Shanghai (310000), valid by GB 32100. */
const PEER_CREDIT_CODE = '11310000000000027U';

/** The service as an offline verifier sees it: signed documents at paths, and a switch for the network. */
class FakeService {
  readonly documents = new Map<string, { status: number; body: string }>();
  readonly requests: string[] = [];
  online = true;

  fetch = async (input: string | URL | Request): Promise<Response> => {
    const url = String(input);
    this.requests.push(url);
    if (!this.online) throw new TypeError('fetch failed: network is unreachable');
    const document = this.documents.get(url.slice(BASE.length));
    return new Response(document?.body ?? '{"status":404}', { status: document?.status ?? 404 });
  };

  put(path: string, body: string, status = 200): void {
    this.documents.set(path, { status, body });
  }
}

let world: World;
let service: FakeService;
let now: number;
const clock = () => now * 1000;
let statuses: Uint8Array;
/**
 * The `iat` each document was last signed at: the next is dated after it, as the service dates a list
 * re-signed within the second (shared/licence/signed-at.ts, R32 M1), since a list of the same second
 * saying something else is refused.
 */
let signedAt: Map<string, number>;
const iatFor = (path: string) => {
  const iat = Math.max(now, (signedAt.get(path) ?? -Infinity) + 1);
  signedAt.set(path, iat);
  return iat;
};

async function publishTrustList(
  options: {
    signer?: LocalSigner;
    withdrawn?: boolean;
    extraKeys?: PublicJwk[];
    statusLists?: number;
    presentationKeys?: unknown;
  } = {},
) {
  const iat = iatFor('/trust-list');
  const payload = {
    iss: BASE,
    iat,
    exp: now + 7 * 86_400,
    ttl: 3600,
    issuers: [
      {
        id: world.issuer.id,
        name: world.issuer.name,
        creditCode: world.issuer.creditCode,
        region: '110000',
        status: options.withdrawn ? 'withdrawn' : 'active',
        jwks: { keys: [...world.issuer.keys, ...(options.extraKeys ?? [])] },
        licenceTypes: world.issuer.licenceTypes,
        ...(options.statusLists !== undefined && { statusLists: options.statusLists }),
      },
    ],
    ...(options.presentationKeys !== undefined && { presentationKeys: options.presentationKeys }),
  };
  service.put(
    '/trust-list',
    await signCompactJws({ typ: 'trust-list+jwt' }, payload, options.signer ?? world.platformSigner),
  );
}

async function publishStatusList(
  list = 0,
  options: { signer?: LocalSigner; lifetime?: number; statusList?: unknown } = {},
) {
  const sub = `${BASE}/status-lists/${world.issuer.id}.${list}`;
  const iat = iatFor(sub);
  const payload = {
    iss: world.issuer.id,
    sub,
    iat,
    exp: now + (options.lifetime ?? 2 * 86_400),
    ttl: 300,
    status_list: options.statusList ?? (await encodeStatusList(statuses, zlibCompression)),
  };
  service.put(
    `/status-lists/${world.issuer.id}.${list}`,
    await signCompactJws({ typ: 'statuslist+jwt' }, payload, options.signer ?? world.issuerSigner),
  );
}

function storeOf(options: Partial<OfflineTrustStoreOptions> = {}) {
  return new OfflineTrustStore({
    baseUrl: BASE,
    crypto: nodeEs256,
    fetch: service.fetch,
    clock,
    compression: zlibCompression,
    ...options,
  });
}

const verifierOf = (store: OfflineTrustStore) =>
  createVerifier({ crypto: nodeEs256, trust: store, status: store, clock });

beforeEach(async () => {
  world = await createWorld();
  service = new FakeService();
  now = NOW;
  signedAt = new Map();
  statuses = createStatusBytes(1024);
  service.put('/.well-known/jwks.json', JSON.stringify({ keys: world.trust.platform }));
  await publishTrustList();
  await publishStatusList(0);
});

describe('OfflineTrustStore', () => {
  it('verifies presentations with the trust list’s presentation keys once it names them, never a platform key (R7 M1)', async () => {
    const presentationSigner = new LocalSigner();
    const retiring = new LocalSigner();
    const keys = [
      (await presentationSigner.publicJwk()) as PublicJwk,
      (await retiring.publicJwk()) as PublicJwk,
    ];
    await publishTrustList({ presentationKeys: { keys } });
    const store = storeOf();
    await store.sync();
    expect(store.presentationKeys()).toEqual(keys);
    service.online = false;
    const verifier = verifierOf(store);
    for (const signer of [presentationSigner, retiring]) {
      expect(await verifier.verify(await world.presentation({}, {}, signer))).toMatchObject({
        verdict: 'valid',
      });
    }
    // Signed by the JWKS key (the one ID tokens are signed with): refused.
    expect(await verifier.verify(await world.presentation())).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
    // Kept across a snapshot: a restored store refuses it too.
    const restored = storeOf();
    await restored.restore(store.snapshot());
    expect(restored.presentationKeys()).toEqual(keys);
    expect(await verifierOf(restored).verify(await world.presentation())).toMatchObject({
      reason: 'key_not_trusted',
    });
  });

  it('refuses a trust list whose presentation keys are malformed, keeping what it had', async () => {
    const store = storeOf();
    await store.sync();
    const wrongCurve = { ...((await world.platformSigner.publicJwk()) as PublicJwk), crv: 'P-384' };
    for (const presentationKeys of [{ keys: [] }, { keys: [wrongCurve] }, [], 'x']) {
      now += 1;
      await publishTrustList({ presentationKeys });
      await expect(store.sync(), JSON.stringify(presentationKeys)).rejects.toMatchObject({
        code: 'invalid_token',
      });
      // The list held before (naming none) still stands.
      expect(store.presentationKeys()).toBeUndefined();
    }
  });

  it('once synced, verifies with the network gone: signature, issuer and status from the lists', async () => {
    const store = storeOf({ compression: undefined }); // Compression Streams, as in a browser
    expect(await store.sync()).toEqual({ issuers: 1, statusLists: 1, failures: [] });
    service.online = false;
    const verifier = verifierOf(store);
    expect(await verifier.verify(await world.credential())).toMatchObject({
      verdict: 'valid',
      status: { source: 'status-list', status: 'valid', stale: false },
      stale: false,
      dataAge: 0,
    });
    expect(await verifier.verify(await world.presentation())).toMatchObject({
      verdict: 'valid',
      status: { source: 'presentation', status: 'valid' },
    });
  });

  it('reads revoked and suspended entries of the status list', async () => {
    writeStatus(statuses, 7, StatusType.INVALID);
    writeStatus(statuses, 8, StatusType.SUSPENDED);
    await publishStatusList(0);
    const store = storeOf();
    await store.sync();
    const verifier = verifierOf(store);
    expect((await verifier.verify(await world.credential())).verdict).toBe('revoked');
    const eighth = await world.credential({
      claims: { status: { status_list: { idx: 8, uri: `${BASE}/status-lists/${world.issuer.id}.0` } } },
    });
    expect((await verifier.verify(eighth)).verdict).toBe('suspended');
  });

  it('says its data is stale past the status list’s ttl, and how old it is, rather than pretending', async () => {
    const store = storeOf();
    await store.sync();
    service.online = false;
    now += 301;
    expect(await verifierOf(store).verify(await world.credential())).toMatchObject({
      verdict: 'valid',
      status: { source: 'status-list', stale: true },
      stale: true,
      dataAge: 301,
    });
  });

  it('uses no status list past its exp: the credential’s verdict is then unknown, never valid', async () => {
    await publishStatusList(0, { lifetime: 600 });
    const store = storeOf();
    await store.sync();
    now += 601;
    expect(await verifierOf(store).verify(await world.credential())).toMatchObject({
      verdict: 'unknown',
      reason: 'status_unknown',
      status: { source: 'none' },
      licence: { id: world.credentialClaims().jti },
      stale: false,
    });
    now += 3600;
    expect((await verifierOf(store).verify(await world.credential())).stale).toBe(true); // the trust list's ttl
  });

  it('learns of a revocation at the next sync after the ttl', async () => {
    const store = storeOf();
    await store.sync();
    writeStatus(statuses, 7, StatusType.INVALID);
    now += 301;
    await publishStatusList(0); // signed now, as the service re-signs a list that changed
    expect((await verifierOf(store).verify(await world.credential())).verdict).toBe('valid');
    await store.sync();
    expect(await verifierOf(store).verify(await world.credential())).toMatchObject({
      verdict: 'revoked',
      stale: false,
    });
  });

  it('fetches every list of an issuer until a 404', async () => {
    await publishStatusList(1);
    const store = storeOf();
    expect((await store.sync()).statusLists).toBe(2);
    expect(service.requests.filter((url) => url.includes('/status-lists/'))).toEqual([
      `${BASE}/status-lists/${world.issuer.id}.0`,
      `${BASE}/status-lists/${world.issuer.id}.1`,
      `${BASE}/status-lists/${world.issuer.id}.2`,
    ]);
  });

  it('fetches exactly the lists the trust list counts, with no 404 probe', async () => {
    await publishStatusList(1);
    await publishTrustList({ statusLists: 2 });
    const store = storeOf();
    expect(await store.sync()).toMatchObject({ statusLists: 2, failures: [] });
    expect(service.requests.filter((url) => url.includes('/status-lists/'))).toEqual([
      `${BASE}/status-lists/${world.issuer.id}.0`,
      `${BASE}/status-lists/${world.issuer.id}.1`,
    ]);
  });

  it('reports a list the trust list counts but the service does not serve', async () => {
    await publishTrustList({ statusLists: 2 });
    const report = await storeOf().sync();
    expect(report.statusLists).toBe(1);
    expect(report.failures).toEqual([
      expect.objectContaining({ url: `${BASE}/status-lists/${world.issuer.id}.1` }),
    ]);
  });

  it('keeps what it had when a sync fails: unreachable, or a trust list not signed by the platform', async () => {
    const store = storeOf();
    await store.sync();
    service.online = false;
    await expect(store.sync()).rejects.toMatchObject({ code: 'unreachable' });
    service.online = true;
    await publishTrustList({ signer: new LocalSigner() });
    await expect(store.sync()).rejects.toBeInstanceOf(SyncError);
    expect((await verifierOf(store).verify(await world.credential())).verdict).toBe('valid');
  });

  it('refuses a status list signed by a key its issuer does not have, or one that inflates without bound', async () => {
    await publishStatusList(0, { signer: new LocalSigner() });
    const store = storeOf();
    const report = await store.sync();
    expect(report.failures).toEqual([
      { url: `${BASE}/status-lists/${world.issuer.id}.0`, code: 'invalid_token' },
    ]);
    expect(await verifierOf(store).verify(await world.credential())).toMatchObject({
      verdict: 'unknown',
      status: { source: 'none' },
    });

    const bomb = await encodeStatusList(new Uint8Array(8 * 1024 * 1024), zlibCompression); // 8 MiB of zeros
    expect(bomb.lst.length).toBeLessThan(20_000);
    await publishStatusList(0, { statusList: bomb });
    expect((await storeOf().sync()).failures).toHaveLength(1);
  });

  it('with pinned platform keys, never fetches the JWKS and refuses a trust list signed otherwise', async () => {
    const store = storeOf({ platformKeys: world.trust.platform });
    await store.sync();
    expect(service.requests).not.toContain(`${BASE}/.well-known/jwks.json`);
    service.put('/.well-known/jwks.json', JSON.stringify({ keys: [await new LocalSigner().publicJwk()] }));
    const impostor = new LocalSigner();
    await publishTrustList({ signer: impostor });
    await expect(storeOf({ platformKeys: world.trust.platform }).sync()).rejects.toMatchObject({
      code: 'invalid_token',
    });
  });

  it('survives a restart through a snapshot, checked again, with its original age', async () => {
    const store = storeOf();
    await store.sync();
    const snapshot = JSON.parse(JSON.stringify(store.snapshot())) as ReturnType<
      OfflineTrustStore['snapshot']
    >;
    service.online = false;
    now += 120;
    const restored = storeOf();
    await restored.restore(snapshot);
    expect(await verifierOf(restored).verify(await world.credential())).toMatchObject({
      verdict: 'valid',
      dataAge: 120,
    });
    const jws = snapshot.trustList.jws;
    const middle = Math.floor(jws.length / 3); // inside the payload
    const flipped = `${jws.slice(0, middle)}${jws[middle] === 'A' ? 'B' : 'A'}${jws.slice(middle + 1)}`;
    const tampered = { ...snapshot, trustList: { ...snapshot.trustList, jws: flipped } };
    await expect(storeOf().restore(tampered)).rejects.toBeInstanceOf(SyncError);
  });

  it('names a withdrawn issuer, and fetches no lists for it', async () => {
    await publishTrustList({ withdrawn: true });
    const store = storeOf();
    expect((await store.sync()).statusLists).toBe(0);
    expect(await verifierOf(store).verify(await world.credential())).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_withdrawn',
      issuer: { id: world.issuer.id },
    });
  });

  it('reports what it cannot use as a SyncError: a JWKS that is not JSON, a snapshot that is not one', async () => {
    service.put('/.well-known/jwks.json', '<html>maintenance</html>');
    await expect(storeOf().sync()).rejects.toMatchObject({ name: 'SyncError', code: 'bad_response' });
    for (const snapshot of [{}, null, { version: 1 }, { version: 1, trustList: { jws: 1 } }]) {
      await expect(storeOf().restore(snapshot as never)).rejects.toBeInstanceOf(SyncError);
    }
  });
});

describe('OfflineTrustStore, failing closed once its lists have expired', () => {
  const listUri = () => `${BASE}/status-lists/${world.issuer.id}.0`;
  const DAY = 86_400;

  /**
   * The status list as `statuses` says now (exp two days, or `lifetime` seconds), a store synced with it,
   * and the network gone, so that whatever the store holds can only age as `now` moves on.
   */
  async function syncedThenOffline(lifetime?: number) {
    await publishStatusList(0, lifetime === undefined ? {} : { lifetime });
    const store = storeOf();
    await store.sync();
    service.online = false;
    return store;
  }

  /** A presentation of entry 7 of list 0 signed ten seconds ago, for five minutes (as `status`, if given). */
  const presentationNow = (status?: 'suspended') =>
    world.presentation(
      { issuedAt: now - 10, expiresAt: now + 290 },
      { statusList: { list: 0, idx: 7 }, ...(status && { status }) },
    );

  it('never turns a revoked licence valid: still revoked when its list expires, not valid from an old snapshot', async () => {
    writeStatus(statuses, 7, StatusType.INVALID);
    const store = await syncedThenOffline(); // exp: two days
    expect(await verifierOf(store).verify(await world.credential())).toMatchObject({
      verdict: 'revoked',
      reason: 'status_revoked',
    });

    now += 2 * DAY + 60; // the status list is past its exp, the trust list (7 days) is not
    // Revocation is final: an expired list that says revoked is still known bad news, marked as such.
    const lapsed = await verifierOf(store).verify(await world.credential());
    expect(lapsed).toMatchObject({
      verdict: 'revoked',
      reason: 'status_revoked',
      status: { source: 'status-list', status: 'revoked', stale: true, expired: true },
      stale: true,
    });
    // A presentation pointing at that entry, signed in as valid: the list's revocation wins.
    const shown = await presentationNow();
    expect(await verifierOf(store).verify(shown)).toMatchObject({
      verdict: 'revoked',
      status: { source: 'status-list', status: 'revoked', expired: true },
    });

    // The same data restored a month later: its trust list (exp 7 days) backs nothing now.
    const snapshot = store.snapshot();
    now += 30 * DAY;
    const restored = storeOf();
    await expect(restored.restore(snapshot)).rejects.toMatchObject({
      name: 'SyncError',
      code: 'expired_token',
    });
    expect((await verifierOf(restored).verify(await world.credential())).verdict).not.toBe('valid');
    expect(() => restored.snapshot()).toThrow(SyncError); // it took nothing in
  });

  it('ignores an expired list’s suspended and valid (a suspension can be lifted): unknown, not suspended or valid', async () => {
    writeStatus(statuses, 7, StatusType.SUSPENDED);
    const store = await syncedThenOffline(); // exp: two days; entry 8 is valid
    const verifier = verifierOf(store);
    const valid = await world.credential({
      claims: { status: { status_list: { idx: 8, uri: listUri() } } },
    });
    expect((await verifier.verify(await world.credential())).verdict).toBe('suspended');
    expect((await verifier.verify(valid)).verdict).toBe('valid');

    now += 2 * DAY; // the list's exp, to the second
    for (const credential of [await world.credential(), valid]) {
      expect(await verifier.verify(credential)).toMatchObject({
        verdict: 'unknown',
        reason: 'status_unknown',
        status: { source: 'none' },
        stale: true,
      });
    }
    // A presentation keeps the status signed into it (for its few minutes), not the expired list's.
    const shown = await presentationNow();
    expect(await verifier.verify(shown)).toMatchObject({
      verdict: 'valid',
      status: { source: 'presentation', status: 'valid' },
    });
  });

  it('keeps an expired list to refuse an older one (rollback), and takes a newer one', async () => {
    writeStatus(statuses, 7, StatusType.INVALID);
    const older = await signCompactJws(
      { typ: 'statuslist+jwt' },
      {
        iss: world.issuer.id,
        sub: listUri(),
        iat: now - 60,
        exp: now + 30 * DAY, // outlives the list held, but was signed before it
        ttl: 300,
        status_list: await encodeStatusList(createStatusBytes(1024), zlibCompression),
      },
      world.issuerSigner,
    );
    await publishStatusList(0); // revoked; exp two days
    const store = storeOf();
    await store.sync();

    now += 2 * DAY + 60;
    expect(store.snapshot().statusLists).toHaveLength(1); // the expired list is kept
    service.put(`/status-lists/${world.issuer.id}.0`, older);
    await expect(store.refreshStatusList(listUri())).rejects.toMatchObject({ code: 'rolled_back' });
    expect((await verifierOf(store).verify(await world.credential())).verdict).toBe('revoked');

    // A list signed now replaces it (and the revocation stands, as the issuer's list still says so).
    await publishStatusList(0);
    await store.refreshStatusList(listUri());
    expect(await verifierOf(store).verify(await world.credential())).toMatchObject({
      verdict: 'revoked',
      status: { source: 'status-list', status: 'revoked', stale: false },
    });
    expect((await verifierOf(store).verify(await world.credential())).status.expired).toBeUndefined();
  });

  it('answers unknown (trust_list_expired) once its trust list expires after a restore, bad news still winning', async () => {
    writeStatus(statuses, 8, StatusType.INVALID);
    // The status list outlives the trust list: only the trust list's exp is at play.
    const store = await syncedThenOffline(30 * DAY);
    const restored = storeOf();
    await restored.restore(store.snapshot());
    const verifier = verifierOf(restored);
    expect((await verifier.verify(await world.credential())).verdict).toBe('valid');

    now += 7 * DAY; // the trust list's exp, to the second
    expect(restored.freshness()).toMatchObject({ stale: true, expired: true });
    expect(await verifier.verify(await world.credential())).toMatchObject({
      verdict: 'unknown',
      reason: 'trust_list_expired',
      issuer: { id: world.issuer.id },
      stale: true,
    });
    const live = await presentationNow();
    expect(await verifier.verify(live)).toMatchObject({
      verdict: 'unknown',
      reason: 'trust_list_expired',
    });
    // What is known to be wrong stays wrong: revoked, and expired whatever the status.
    const revoked = await world.credential({
      claims: { status: { status_list: { idx: 8, uri: listUri() } } },
    });
    expect((await verifier.verify(revoked)).verdict).toBe('revoked');
    const lapsed = await world.credential({ claims: { exp: now - 3600 } });
    expect(await verifier.verify(lapsed)).toMatchObject({ verdict: 'expired', reason: 'licence_expired' });

    // A sync (online again) brings a current trust list, and valid again.
    service.online = true;
    await publishTrustList();
    await restored.sync();
    expect((await verifier.verify(await world.credential())).verdict).toBe('valid');
  });

  it('without its list, a presentation keeps the status signed into it for its own few minutes only', async () => {
    const store = await syncedThenOffline(600);
    now += 601; // the list is past its exp
    const verifier = verifierOf(store);
    const shown = await presentationNow();
    expect(await verifier.verify(shown)).toMatchObject({
      verdict: 'valid',
      status: { source: 'presentation', status: 'valid' },
    });
    const suspended = await presentationNow('suspended');
    expect((await verifier.verify(suspended)).verdict).toBe('suspended');
    now += 290 + 61; // past its expiry and the clock skew
    expect(await verifier.verify(shown)).toMatchObject({
      verdict: 'expired',
      reason: 'presentation_expired',
    });
  });

  it('fails closed with no status source at all: a credential is unknown, not valid', async () => {
    const store = storeOf();
    await store.sync();
    const verifier = createVerifier({ crypto: nodeEs256, trust: store, clock });
    expect(await verifier.verify(await world.credential())).toMatchObject({
      verdict: 'unknown',
      reason: 'status_unknown',
      status: { source: 'none' },
    });
  });
});

describe('OfflineTrustStore, refreshing one list or the trust list alone', () => {
  const listUri = () => `${BASE}/status-lists/${world.issuer.id}.0`;
  const listPath = () => `/status-lists/${world.issuer.id}.0`;
  /** A presentation pointing at entry 7 of list `list`, as the wallet shows it. */
  const presentationAt = (list = 0) => world.presentation({}, { statusList: { list, idx: 7 } });
  const statusRequests = () => service.requests.filter((url) => url.includes('/status-lists/'));

  async function revokeSeventh(list = 0) {
    writeStatus(statuses, 7, StatusType.INVALID);
    await publishStatusList(list);
  }

  it('passes the options of sync() to every request it makes, as refreshStatusList does', async () => {
    const seen: Array<{ url: string; cache: RequestCache | undefined }> = [];
    const store = storeOf({
      fetch: (input, init) => {
        seen.push({ url: String(input), cache: init?.cache });
        return service.fetch(input);
      },
    });
    await store.sync({ cache: 'no-store' });
    expect(seen.map((request) => request.url)).toEqual(
      expect.arrayContaining([`${BASE}/trust-list`, listUri()]),
    );
    expect(seen.every((request) => request.cache === 'no-store')).toBe(true);
    seen.length = 0;
    await store.sync();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((request) => request.cache === undefined)).toBe(true);
  });

  it('fetches just the list asked for, by a credential’s URI, and the verdict uses it at once', async () => {
    const store = storeOf();
    await store.sync();
    await revokeSeventh();
    service.requests.length = 0;
    now += 5; // well within the ttl: only the refresh can tell
    expect(await store.refreshStatusList(listUri(), { cache: 'no-store' })).toEqual({
      uri: listUri(),
      fetchedAt: now * 1000,
    });
    expect(service.requests).toEqual([listUri()]);
    const verifier = verifierOf(store);
    expect(await verifier.verify(await world.credential())).toMatchObject({
      verdict: 'revoked',
      status: { source: 'status-list', status: 'revoked', stale: false },
    });
    // The same list answers a presentation's entry, a path on the service.
    expect(await verifier.verify(await presentationAt(0))).toMatchObject({
      verdict: 'revoked',
      status: { source: 'status-list', status: 'revoked' },
    });
  });

  it('fetches a list by a presentation’s path, one the last sync did not have, and keeps it in snapshots', async () => {
    const store = storeOf();
    await store.sync();
    writeStatus(statuses, 7, StatusType.SUSPENDED);
    await publishStatusList(1);
    service.requests.length = 0;
    const path = `/status-lists/${world.issuer.id}.1`;
    await store.refreshStatusList(path);
    expect(service.requests).toEqual([BASE + path]);
    expect((await verifierOf(store).verify(await presentationAt(1))).verdict).toBe('suspended');
    const credential = await world.credential({
      claims: { status: { status_list: { idx: 7, uri: BASE + path } } },
    });
    expect((await verifierOf(store).verify(credential)).verdict).toBe('suspended');

    const restored = storeOf();
    await restored.restore(JSON.parse(JSON.stringify(store.snapshot())) as OfflineSnapshot);
    expect((await verifierOf(restored).verify(credential)).verdict).toBe('suspended');
    expect(store.snapshot().statusLists).toHaveLength(2);
  });

  it('refuses a forged list, one naming another list or issuer, or an expired one, and keeps the old copy', async () => {
    const store = storeOf();
    await store.sync();
    writeStatus(statuses, 7, StatusType.INVALID);
    const keptValid = async () =>
      expect(await verifierOf(store).verify(await world.credential())).toMatchObject({
        verdict: 'valid',
        status: { source: 'status-list', status: 'valid' },
      });

    await publishStatusList(0, { signer: new LocalSigner() }); // not the issuer's key
    await expect(store.refreshStatusList(listUri())).rejects.toMatchObject({ code: 'invalid_token' });
    await keptValid();

    // Genuine, but list 1 served where list 0 is asked for: a replay of another list's entries.
    await publishStatusList(1);
    service.put(listPath(), service.documents.get(`/status-lists/${world.issuer.id}.1`)?.body ?? '');
    await expect(store.refreshStatusList(listUri())).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(store.refreshStatusList(listPath())).rejects.toMatchObject({ code: 'invalid_token' });
    await keptValid();

    await publishStatusList(0, { lifetime: -1 });
    await expect(store.refreshStatusList(listUri())).rejects.toMatchObject({ code: 'expired_token' });
    await keptValid();

    // A credential's URI must be the token's `sub` exactly: the store answers it by that key.
    await publishStatusList(0);
    await expect(
      store.refreshStatusList(`https://elsewhere.test/status-lists/${world.issuer.id}.0`),
    ).rejects.toMatchObject({ code: 'invalid_token' });
    await keptValid();

    service.documents.delete(listPath());
    await expect(store.refreshStatusList(listUri())).rejects.toMatchObject({ code: 'bad_response' });
    service.online = false;
    await expect(store.refreshStatusList(listUri())).rejects.toMatchObject({ code: 'unreachable' });
    await keptValid();
  });

  it('refuses a list signed by another issuer of the trust list, claiming this issuer’s list', async () => {
    const other = new LocalSigner();
    const otherId = 'iss_OtherIssuer000000';
    const payload = {
      iss: BASE,
      iat: now,
      exp: now + 86_400,
      ttl: 3600,
      issuers: [
        {
          id: world.issuer.id,
          name: world.issuer.name,
          creditCode: world.issuer.creditCode,
          region: '110000',
          status: 'active',
          jwks: { keys: world.issuer.keys },
          licenceTypes: world.issuer.licenceTypes,
        },
        {
          id: otherId,
          name: '另一个局',
          creditCode: '91330100716105852F',
          region: '330100',
          status: 'active',
          jwks: { keys: [await other.publicJwk()] },
        },
      ],
    };
    service.put(
      '/trust-list',
      await signCompactJws({ typ: 'trust-list+jwt' }, payload, world.platformSigner),
    );
    const store = storeOf();
    await store.sync();
    const forged = {
      iss: otherId,
      sub: listUri(),
      iat: now,
      exp: now + 86_400,
      ttl: 300,
      status_list: await encodeStatusList(createStatusBytes(1024).fill(0xff), zlibCompression),
    };
    service.put(listPath(), await signCompactJws({ typ: 'statuslist+jwt' }, forged, other));
    await expect(store.refreshStatusList(listUri())).rejects.toMatchObject({ code: 'invalid_token' });
    expect((await verifierOf(store).verify(await world.credential())).status.status).toBe('valid');
  });

  it('fetches nothing for a URI that is no status list, nor for one on another host than its own', async () => {
    const store = storeOf();
    await store.sync();
    service.requests.length = 0;
    for (const uri of [
      'https://evil.test/steal',
      '/trust-list',
      '/status-lists/',
      '/status-lists/x/y',
      'a b',
    ]) {
      await expect(store.refreshStatusList(uri)).rejects.toMatchObject({ code: 'bad_response' });
    }
    expect(service.requests).toEqual([]);
    // Another host's list URI is fetched from this store's service, by its path.
    await store
      .refreshStatusList(`https://evil.test/status-lists/${world.issuer.id}.0`)
      .catch(() => undefined);
    expect(service.requests).toEqual([listUri()]);
  });

  it('needs a trust list first', async () => {
    await expect(storeOf().refreshStatusList(listUri())).rejects.toBeInstanceOf(SyncError);
    expect(service.requests).toEqual([]);
  });

  it('refreshes the trust list alone: a new key is known, the lists it still vouches for are kept', async () => {
    const store = storeOf();
    await store.sync();
    const rotated = new LocalSigner();
    await publishTrustList({ extraKeys: [(await rotated.publicJwk()) as PublicJwk] });
    const byNewKey = await world.credential({ signer: rotated });
    expect((await verifierOf(store).verify(byNewKey)).reason).toBe('key_not_trusted');
    service.requests.length = 0;
    expect(await store.refreshTrustList()).toEqual({ issuers: 1 });
    expect(service.requests).toEqual([`${BASE}/.well-known/jwks.json`, `${BASE}/trust-list`]);
    expect(await verifierOf(store).verify(byNewKey)).toMatchObject({
      verdict: 'valid',
      status: { source: 'status-list' },
    });

    // The issuer's list key withdrawn: its lists go too (restore would refuse them).
    const issuerSigner = world.issuerSigner;
    await publishStatusList(0, { signer: rotated });
    await store.refreshStatusList(listUri());
    world.issuer.keys = [await issuerSigner.publicJwk()] as PublicJwk[];
    await publishTrustList();
    await store.refreshTrustList();
    expect(store.snapshot().statusLists).toEqual([]);
    await publishTrustList({ withdrawn: true });
    await store.refreshTrustList();
    expect((await verifierOf(store).verify(await world.credential())).reason).toBe('issuer_withdrawn');
  });

  it('keeps no list signed by a key the trust list no longer has, even when a sync cannot fetch its successor', async () => {
    const store = storeOf();
    await store.sync();
    // The issuer signs its list with a second key, which the trust list publishes: the store takes it.
    const rotated = new LocalSigner();
    await publishTrustList({ extraKeys: [(await rotated.publicJwk()) as PublicJwk] });
    await store.refreshTrustList();
    await publishStatusList(0, { signer: rotated });
    await store.refreshStatusList(listUri());
    expect(store.snapshot().statusLists).toHaveLength(1);
    // That key is withdrawn (say, compromised), and the list's next fetch fails: the sync must not keep
    // what the withdrawn key signed (it would say valid for whatever that key chose).
    await publishTrustList();
    service.put(`/status-lists/${world.issuer.id}.0`, 'unavailable', 503);
    const report = await store.sync();
    expect(report.failures).toHaveLength(1);
    expect(store.snapshot().statusLists).toEqual([]);
    expect(await verifierOf(store).verify(await world.credential())).toMatchObject({
      verdict: 'unknown',
      reason: 'status_unknown',
    });
  });

  it('keeps what it had when the trust list cannot be had', async () => {
    const store = storeOf({ platformKeys: world.trust.platform });
    await store.sync();
    await publishTrustList({ signer: new LocalSigner() });
    await expect(store.refreshTrustList()).rejects.toMatchObject({ code: 'invalid_token' });
    service.online = false;
    await expect(store.refreshTrustList()).rejects.toMatchObject({ code: 'unreachable' });
    expect((await verifierOf(store).verify(await world.credential())).verdict).toBe('valid');
    expect(statusRequests()).toHaveLength(2); // the sync's list and its 404
  });

  it('does not lose a list refreshed alone to a sync that fetched it earlier', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holdNext = false;
    const slow = storeOf({
      fetch: async (input) => {
        const response = await service.fetch(input as string);
        if (String(input).endsWith('.0') && holdNext) {
          holdNext = false;
          await held; // the sync's copy of list 0, fetched before the revocation, arrives late
        }
        return response;
      },
    });
    await slow.sync();
    holdNext = true;
    const syncing = slow.sync();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await revokeSeventh();
    now += 1;
    await slow.refreshStatusList(listUri(), { cache: 'no-store' });
    release();
    await syncing;
    expect((await verifierOf(slow).verify(await world.credential())).verdict).toBe('revoked');
  });
});

describe('OfflineTrustStore, whose issuer a credential names (R23 H2)', () => {
  const peerUrl = 'https://elicence.sh.example.gov.cn/issuers/iss_PeerIssuer000000';

  /** Our trust list with our issuer and a peer platform's, as the service lists it since 0.4.0. */
  async function publishWithPeer(peerSigner: LocalSigner, peerEntry: Record<string, unknown> = {}) {
    const payload = {
      iss: BASE,
      iat: now,
      exp: now + 7 * 86_400,
      ttl: 3600,
      issuers: [
        {
          id: world.issuer.id,
          name: world.issuer.name,
          creditCode: world.issuer.creditCode,
          region: '110000',
          status: 'active',
          jwks: { keys: world.issuer.keys },
          licenceTypes: world.issuer.licenceTypes,
        },
        {
          id: 'iss_PeerIssuer000000',
          name: '上海市测试局',
          creditCode: PEER_CREDIT_CODE,
          region: '310000',
          status: 'active',
          jwks: { keys: [await peerSigner.publicJwk()] },
          licenceTypes: world.issuer.licenceTypes,
          peer: 'peer_sh',
          statusBase: BASE,
          issuerUrl: peerUrl,
          ...peerEntry,
        },
      ],
    };
    service.put(
      '/trust-list',
      await signCompactJws({ typ: 'trust-list+jwt' }, payload, world.platformSigner),
    );
  }

  it('takes our issuers’ URL from the list’s iss and a peer’s from its entry; any other URL is refused', async () => {
    const peerSigner = new LocalSigner();
    await publishWithPeer(peerSigner);
    const store = storeOf();
    await store.sync();
    expect(store.issuerById(world.issuer.id)?.issuerUrl).toBe(`${BASE}/issuers/${world.issuer.id}`);
    expect(store.issuerById('iss_PeerIssuer000000')?.issuerUrl).toBe(peerUrl);
    const status = new FakeStatus();
    const verifier = createVerifier({ crypto: nodeEs256, trust: store, status, clock });
    const ours = (iss: string) => world.credential({ claims: { iss } });
    const theirs = (iss: string) =>
      world.credential({ signer: peerSigner, claims: { iss, jti: licenceId(7, PEER_CREDIT_CODE) } });
    status.statuses.set(world.credentialClaims().jti, 'valid');
    status.statuses.set(licenceId(7, PEER_CREDIT_CODE), 'valid');
    for (const credential of [
      await ours(world.issuer.id),
      await ours(`${BASE}/issuers/${world.issuer.id}`),
      await theirs(peerUrl),
    ]) {
      expect((await verifier.verify(credential)).verdict).toBe('valid');
    }
    for (const credential of [
      await ours(`https://elicence.sh.example.gov.cn/issuers/${world.issuer.id}`),
      // Signed by the peer issuer's own key, but naming it under another platform, or by its bare id.
      await theirs(`${BASE}/issuers/iss_PeerIssuer000000`),
      await theirs('https://elicence.zj.example.gov.cn/issuers/iss_PeerIssuer000000'),
      await theirs('iss_PeerIssuer000000'),
    ]) {
      expect(await verifier.verify(credential)).toMatchObject({
        verdict: 'unknown_issuer',
        reason: 'issuer_url_mismatch',
      });
    }
  });

  it('accepts no credential of a peer’s issuer the list gives no URL, and refuses a list whose URL names another id', async () => {
    const peerSigner = new LocalSigner();
    await publishWithPeer(peerSigner, { issuerUrl: undefined });
    const store = storeOf();
    await store.sync();
    const status = new FakeStatus();
    status.statuses.set(licenceId(7, PEER_CREDIT_CODE), 'valid');
    const credential = await world.credential({
      signer: peerSigner,
      claims: { iss: peerUrl, jti: licenceId(7, PEER_CREDIT_CODE) },
    });
    expect(
      await createVerifier({ crypto: nodeEs256, trust: store, status, clock }).verify(credential),
    ).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_url_mismatch',
    });
    now += 1;
    await publishWithPeer(peerSigner, { issuerUrl: 'https://elicence.sh.example.gov.cn/issuers/iss_Other' });
    await expect(store.sync()).rejects.toMatchObject({ code: 'invalid_token' });
  });
});
