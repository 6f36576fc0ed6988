import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import {
  createStatusBytes,
  encodeStatusList,
  StatusType,
  writeStatus,
} from '../../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import type { PublicJwk } from '../../../packages/verifier/src/crypto.js';
import type { TrustedIssuer } from '../../../packages/verifier/src/trust.js';
import { onlineTrustMaxAgeMs, snapshotKey, TrustData } from '../../../shared/web/browser/verifier-trust.js';
import { LocalSigner } from '../../support/local-signer.js';
import { createWorld, licenceId, NOW, type World } from '../../support/verifier-world.js';

const BASE = 'https://elicence.test';

/** The service as the page sees it: signed documents at paths; each request noted with its `cache`. */
class FakeService {
  readonly documents = new Map<string, string>();
  readonly requests: Array<{ path: string; cache: RequestCache | undefined; status: number }> = [];
  online = true;

  fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const path = String(input).slice(BASE.length);
    if (!this.online) throw new TypeError('fetch failed: network is unreachable');
    const body = this.documents.get(path);
    this.requests.push({ path, cache: init?.cache, status: body === undefined ? 404 : 200 });
    return new Response(body ?? '{"status":404}', { status: body === undefined ? 404 : 200 });
  };

  /** The requests since the last call, as `path` (`path 404` for a miss). */
  take(): string[] {
    const taken = this.requests.map((r) => (r.status === 404 ? `${r.path} 404` : r.path));
    this.requests.length = 0;
    return taken;
  }
}

/** `localStorage` in memory. */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

let world: World;
let service: FakeService;
let statuses: Uint8Array;
let issuers: TrustedIssuer[];
let online: boolean;
const now = () => Math.floor(Date.now() / 1000);
/**
 * The `iat` each document was last signed at: the next is dated after it, as the service dates a list
 * re-signed within the second (shared/licence/signed-at.ts, R32 M1): the clock here stands still, and a
 * list of the same second saying something else is refused.
 */
const signedAt = new Map<string, number>();
const iatFor = (path: string) => {
  const iat = Math.max(now(), (signedAt.get(path) ?? -Infinity) + 1);
  signedAt.set(path, iat);
  return iat;
};

async function publishTrustList() {
  const payload = {
    iss: BASE,
    iat: iatFor('/trust-list'),
    exp: now() + 7 * 86_400,
    ttl: 3600,
    issuers: issuers.map((issuer) => ({
      id: issuer.id,
      name: issuer.name,
      creditCode: issuer.creditCode,
      region: '110000',
      status: issuer.status,
      jwks: { keys: issuer.keys },
      licenceTypes: issuer.licenceTypes,
    })),
  };
  service.documents.set(
    '/trust-list',
    await signCompactJws({ typ: 'trust-list+jwt' }, payload, world.platformSigner),
  );
}

async function publishStatusList(issuerId = world.issuer.id, signer = world.issuerSigner, bytes = statuses) {
  const path = `/status-lists/${issuerId}.0`;
  const payload = {
    iss: issuerId,
    sub: BASE + path,
    iat: iatFor(path),
    exp: now() + 86_400,
    ttl: 300,
    status_list: await encodeStatusList(bytes, zlibCompression),
  };
  service.documents.set(path, await signCompactJws({ typ: 'statuslist+jwt' }, payload, signer));
}

const listPath = `/status-lists/iss_TestIssuer0000000.0`;

beforeEach(async () => {
  // The world's credentials are valid around NOW: the page's clock reads it (only `Date` is faked).
  vi.useFakeTimers({ toFake: ['Date'], now: NOW * 1000 });
  world = await createWorld();
  service = new FakeService();
  signedAt.clear();
  vi.stubGlobal('fetch', service.fetch);
  online = true;
  statuses = createStatusBytes(1024);
  issuers = [world.issuer];
  service.documents.set('/.well-known/jwks.json', JSON.stringify({ keys: world.trust.platform }));
  await publishTrustList();
  await publishStatusList();
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** A page that has opened once (a full sync) and been reloaded from what it saved. */
async function openedPage(storage = new MemoryStorage()) {
  const first = new TrustData(BASE, storage, () => online);
  await first.load();
  expect(await first.refresh()).toBe('ok');
  const trust = new TrustData(BASE, storage, () => online);
  await trust.load();
  expect(trust.ready).toBe(true);
  service.take();
  return { trust, storage };
}

describe('TrustData: what the verifier page fetches per verdict', () => {
  it('with nothing saved, syncs everything first (the 404 ends the probe)', async () => {
    const trust = new TrustData(BASE, new MemoryStorage(), () => online);
    await trust.load();
    const { result, context } = await trust.verify(await world.credential());
    expect(result.verdict).toBe('valid');
    expect(context).toEqual({ refreshed: true, offline: false });
    expect(service.take()).toEqual([
      '/.well-known/jwks.json',
      '/trust-list',
      listPath,
      '/status-lists/iss_TestIssuer0000000.1 404',
    ]);
  });

  it('fetches the one status list of a credential, past the HTTP cache, and shows a revocation of a moment ago', async () => {
    const { trust, storage } = await openedPage();
    expect((await trust.verify(await world.credential())).result.verdict).toBe('valid');
    expect(service.take()).toEqual([listPath]);

    writeStatus(statuses, 7, StatusType.INVALID);
    await publishStatusList();
    const { result, context } = await trust.verify(await world.credential());
    expect(result).toMatchObject({ verdict: 'revoked', status: { source: 'status-list', stale: false } });
    expect(context).toEqual({ refreshed: true, offline: false });
    expect(service.requests.map((request) => request.cache)).toEqual(['no-store']);
    expect(service.take()).toEqual([listPath]);

    // Saved: the next visit, offline, reads it revoked too.
    online = false;
    const reloaded = new TrustData(BASE, storage, () => online);
    await reloaded.load();
    expect(await reloaded.verify(await world.credential())).toMatchObject({
      result: { verdict: 'revoked' },
      context: { refreshed: false, offline: true },
    });
    expect(service.take()).toEqual([]);
  });

  it('fetches the list a presentation points to; nothing for one that carries no entry', async () => {
    const { trust } = await openedPage();
    writeStatus(statuses, 7, StatusType.SUSPENDED);
    await publishStatusList();
    const pointing = await world.presentation({}, { statusList: { list: 0, idx: 7 } });
    expect((await trust.verify(pointing)).result).toMatchObject({
      verdict: 'suspended',
      status: { source: 'status-list' },
    });
    expect(service.take()).toEqual([listPath]);

    const { result, context } = await trust.verify(await world.presentation());
    expect(result).toMatchObject({ verdict: 'valid', status: { source: 'presentation' } });
    expect(context).toEqual({ refreshed: true, offline: false });
    expect(service.take()).toEqual([]);
  });

  it('fetches nothing for a scan whose signature fails, or that is no licence', async () => {
    const { trust } = await openedPage();
    const genuine = await world.credential();
    const [header, payload, signature = ''] = genuine.split('.');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    const forged = `${header}.${payload}.${flipped}`;
    expect((await trust.verify(forged)).result.verdict).toBe('invalid_signature');
    expect((await trust.verify('hello')).result.verdict).toBe('malformed');
    expect(service.take()).toEqual([]);
  });

  it('fetches the trust list (and keys) for an issuer it does not know yet, then that issuer’s list', async () => {
    const { trust } = await openedPage();
    const newcomer = new LocalSigner();
    const issuer: TrustedIssuer = {
      id: 'iss_NewIssuer00000000',
      name: '新登记的局',
      creditCode: '91330100716105852F',
      status: 'active',
      keys: [(await newcomer.publicJwk()) as PublicJwk],
      licenceTypes: [{ code: 'driving-licence', typeCode: '003' }],
    };
    issuers = [world.issuer, issuer];
    await publishTrustList();
    await publishStatusList(issuer.id, newcomer, createStatusBytes(1024));
    const credential = await world.credential({
      signer: newcomer,
      claims: {
        iss: issuer.id,
        // Its own licence: the id names its credit code (another's would be refused).
        jti: licenceId(7, issuer.creditCode),
        status: { status_list: { idx: 7, uri: `${BASE}/status-lists/${issuer.id}.0` } },
      },
    });
    const { result, context } = await trust.verify(credential);
    expect(result).toMatchObject({
      verdict: 'valid',
      issuer: { id: issuer.id },
      status: { source: 'status-list' },
    });
    expect(context).toEqual({ refreshed: true, offline: false });
    expect(service.take()).toEqual(['/.well-known/jwks.json', '/trust-list', `/status-lists/${issuer.id}.0`]);
  });

  it('fetches the trust list again once past its ttl', async () => {
    const { trust } = await openedPage();
    vi.setSystemTime(Date.now() + 3601 * 1000);
    await publishTrustList();
    await publishStatusList();
    const { result } = await trust.verify(await world.credential());
    expect(result).toMatchObject({ verdict: 'valid', stale: false });
    expect(service.take()).toEqual(['/.well-known/jwks.json', '/trust-list', listPath]);
  });

  it('online, fetches the trust list again after five minutes (a withdrawal shows within minutes), not before', async () => {
    const { trust } = await openedPage();
    await trust.verify(await world.credential());
    expect(service.take()).toEqual([listPath]);
    vi.setSystemTime(Date.now() + onlineTrustMaxAgeMs - 1000);
    await trust.verify(await world.credential());
    expect(service.take()).toEqual([listPath]);
    vi.setSystemTime(Date.now() + 2000);
    await publishTrustList();
    await publishStatusList();
    await trust.verify(await world.credential());
    expect(service.take()).toEqual(['/.well-known/jwks.json', '/trust-list', listPath]);
  });

  it('says so when the list cannot be fetched, and when the service cannot be reached', async () => {
    const { trust } = await openedPage();
    service.documents.delete(listPath);
    expect(await trust.verify(await world.credential())).toMatchObject({
      result: { verdict: 'valid', status: { source: 'status-list' } },
      context: { refreshed: false, offline: false },
    });
    service.take();
    service.online = false;
    expect((await trust.verify(await world.credential())).context).toEqual({
      refreshed: false,
      offline: true,
    });
    online = false;
    expect((await trust.verify(await world.credential())).context).toEqual({
      refreshed: false,
      offline: true,
    });
    expect(service.take()).toEqual([]);
  });

  it('saves a list refreshed alone, so the freshness line and the next visit see it', async () => {
    const { trust, storage } = await openedPage();
    const before = trust.summary();
    vi.setSystemTime(Date.now() + 60_000);
    await publishStatusList(); // signed again (a change): the freshness line counts from a list's iat
    await trust.verify(await world.credential());
    expect(trust.summary()).toEqual({ ...before, statusListsAt: Date.now() });
    expect(JSON.parse(storage.getItem(snapshotKey) ?? '{}').statusLists[0].fetchedAt).toBe(Date.now());
  });
});

describe('TrustData: saved data past its exp', () => {
  it('offline, cannot confirm a credential whose saved list expired; online, fetches that list and can', async () => {
    const { trust } = await openedPage();
    online = false;
    vi.setSystemTime(Date.now() + 86_400 * 1000 + 1000); // the saved list (exp a day) has expired
    expect(await trust.verify(await world.credential())).toMatchObject({
      result: { verdict: 'unknown', reason: 'status_unknown', status: { source: 'none' } },
      context: { refreshed: false, offline: true },
    });
    online = true;
    await publishTrustList();
    await publishStatusList(); // signed now: in force again
    service.take();
    expect(await trust.verify(await world.credential())).toMatchObject({
      result: { verdict: 'valid', status: { source: 'status-list', stale: false } },
      context: { refreshed: true },
    });
    expect(service.take()).toEqual(['/.well-known/jwks.json', '/trust-list', listPath]);
  });

  it('keeps a saved trust list past its exp but does not use it: it says so, and syncs when online', async () => {
    const { storage } = await openedPage();
    const saved = storage.getItem(snapshotKey);
    vi.setSystemTime(Date.now() + 7 * 86_400 * 1000); // the trust list's exp, to the second
    online = false;
    const page = new TrustData(BASE, storage, () => online);
    await page.load();
    expect(page.ready).toBe(false);
    expect(page.expired).toBe(true);
    expect(storage.getItem(snapshotKey)).toBe(saved); // not thrown away as damaged
    expect((await page.verify(await world.credential())).result.verdict).not.toBe('valid');

    online = true;
    await publishTrustList();
    await publishStatusList();
    expect((await page.verify(await world.credential())).result.verdict).toBe('valid');
    expect(page.expired).toBe(false);
  });
});
