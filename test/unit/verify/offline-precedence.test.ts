/**
 * Offline, which status a presentation is judged by when the store also holds its status list (review
 * R20, 1 and 3), and status and trust lists signed ahead of the verifier's clock (review R20, 4).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import {
  createStatusBytes,
  encodeStatusList,
  StatusType,
  writeStatus,
} from '../../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import { nodeEs256 } from '../../../packages/verifier/src/node.js';
import { OfflineTrustStore, type SyncError } from '../../../packages/verifier/src/offline-store.js';
import { createVerifier } from '../../../packages/verifier/src/verifier.js';
import type { LicenceStatusValue } from '../../../packages/verifier/src/verdict.js';
import { createWorld, NOW, type World } from '../../support/verifier-world.js';

const BASE = 'https://elicence.test';
const LIST_PATH = '/status-lists/iss_TestIssuer0000000.0';
const IDX = 7;

let world: World;
/** The verifier's clock, in seconds. */
let now: number;
const documents = new Map<string, string>();
const fetcher = async (input: string | URL | Request) => {
  const body = documents.get(String(input).slice(BASE.length));
  return new Response(body ?? '{}', { status: body ? 200 : 404 });
};
let statuses: Uint8Array;

async function publishTrustList(iat = now) {
  documents.set('/.well-known/jwks.json', JSON.stringify({ keys: world.trust.platform }));
  const issuer = world.issuer;
  const payload = {
    iss: BASE,
    iat,
    exp: iat + 7 * 86_400,
    ttl: 3600,
    issuers: [
      {
        id: issuer.id,
        name: issuer.name,
        creditCode: issuer.creditCode,
        region: '110000',
        status: 'active',
        jwks: { keys: issuer.keys },
        licenceTypes: issuer.licenceTypes,
        statusLists: 1,
      },
    ],
  };
  documents.set(
    '/trust-list',
    await signCompactJws({ typ: 'trust-list+jwt' }, payload, world.platformSigner),
  );
}

/** The status list as `statuses` says now, signed at `iat` (the verifier's now unless told). */
async function publishStatusList(iat = now, lifetime = 2 * 86_400) {
  const payload = {
    iss: world.issuer.id,
    sub: BASE + LIST_PATH,
    iat,
    exp: iat + lifetime,
    ttl: 300,
    status_list: await encodeStatusList(statuses, zlibCompression),
  };
  documents.set(LIST_PATH, await signCompactJws({ typ: 'statuslist+jwt' }, payload, world.issuerSigner));
}

const storeOf = () =>
  new OfflineTrustStore({
    baseUrl: BASE,
    crypto: nodeEs256,
    compression: zlibCompression,
    fetch: fetcher,
    clock: () => now * 1000,
  });
const verifierOf = (store: OfflineTrustStore) =>
  createVerifier({ crypto: nodeEs256, trust: store, status: store, clock: () => now * 1000 });

const statusValue: Record<LicenceStatusValue, number> = {
  valid: StatusType.VALID,
  revoked: StatusType.INVALID,
  suspended: StatusType.SUSPENDED,
};

/** A presentation of entry 7 of list 0, made at `issuedAt` for five minutes, carrying `status`. */
const presentationAt = (issuedAt: number, status: LicenceStatusValue) =>
  world.presentation({ issuedAt, expiresAt: issuedAt + 300 }, { status, statusList: { list: 0, idx: IDX } });

beforeEach(async () => {
  world = await createWorld();
  now = NOW;
  documents.clear();
  statuses = createStatusBytes(1024);
  await publishTrustList();
  await publishStatusList();
});

describe('offline, a presentation whose signed status is newer than the status list held (R20 1)', () => {
  it('made after a revocation the list held predates, it is revoked, not valid (stale: false) from the list', async () => {
    const store = storeOf();
    await store.sync(); // the list, signed at NOW, says valid
    now += 120; // the licence is revoked at NOW + 60; the holder shows a presentation after
    const result = await verifierOf(store).verify(await presentationAt(now - 5, 'revoked'));
    expect(result).toMatchObject({
      verdict: 'revoked',
      reason: 'status_revoked',
      status: { source: 'presentation', status: 'revoked' },
      presentation: { statusAtPresentation: 'revoked' },
    });
  });

  it('made after a suspension the list held predates, it is suspended', async () => {
    const store = storeOf();
    await store.sync();
    now += 120;
    const result = await verifierOf(store).verify(await presentationAt(now - 5, 'suspended'));
    expect(result).toMatchObject({ verdict: 'suspended', status: { source: 'presentation' } });
  });

  it('expired, of a licence revoked by the status it carries, it answers revoked, not expired (docs/verifier.md)', async () => {
    const store = storeOf();
    await store.sync();
    now += 500;
    // Made at NOW + 100, after the list; past its expiry (NOW + 400) and the skew by now.
    const result = await verifierOf(store).verify(await presentationAt(NOW + 100, 'revoked'));
    expect(result).toMatchObject({ verdict: 'revoked', reason: 'status_revoked' });
  });
});

/**
 * The table of docs/verifier.md ("Which status a presentation is judged by"): the list's entry, the
 * presentation's status, which was signed later, and the verdict. The list is held and within its `exp`.
 */
const table: Array<{
  list: LicenceStatusValue;
  shown: LicenceStatusValue;
  newer: 'list' | 'presentation' | 'same second';
  verdict: LicenceStatusValue;
  source: 'status-list' | 'presentation';
}> = [
  { list: 'revoked', shown: 'valid', newer: 'presentation', verdict: 'revoked', source: 'status-list' },
  { list: 'revoked', shown: 'suspended', newer: 'presentation', verdict: 'revoked', source: 'status-list' },
  { list: 'valid', shown: 'revoked', newer: 'list', verdict: 'revoked', source: 'presentation' },
  { list: 'suspended', shown: 'revoked', newer: 'list', verdict: 'revoked', source: 'presentation' },
  { list: 'valid', shown: 'revoked', newer: 'presentation', verdict: 'revoked', source: 'presentation' },
  { list: 'valid', shown: 'suspended', newer: 'presentation', verdict: 'suspended', source: 'presentation' },
  { list: 'suspended', shown: 'valid', newer: 'presentation', verdict: 'valid', source: 'presentation' },
  { list: 'valid', shown: 'valid', newer: 'presentation', verdict: 'valid', source: 'presentation' },
  { list: 'valid', shown: 'suspended', newer: 'list', verdict: 'valid', source: 'status-list' },
  { list: 'suspended', shown: 'valid', newer: 'list', verdict: 'suspended', source: 'status-list' },
  { list: 'valid', shown: 'valid', newer: 'list', verdict: 'valid', source: 'status-list' },
  { list: 'valid', shown: 'suspended', newer: 'same second', verdict: 'suspended', source: 'presentation' },
  { list: 'suspended', shown: 'valid', newer: 'same second', verdict: 'suspended', source: 'status-list' },
  { list: 'valid', shown: 'valid', newer: 'same second', verdict: 'valid', source: 'status-list' },
];

describe('offline, which status a presentation is judged by when its list is held', () => {
  it.each(table)(
    'list $list, presentation $shown, $newer signed later: $verdict (from $source)',
    async ({ list, shown, newer, verdict, source }) => {
      writeStatus(statuses, IDX, statusValue[list]);
      await publishStatusList(NOW);
      const store = storeOf();
      await store.sync();
      const presentedAt = newer === 'list' ? NOW - 30 : newer === 'presentation' ? NOW + 30 : NOW;
      now = NOW + 60;
      const result = await verifierOf(store).verify(await presentationAt(presentedAt, shown));
      expect(result).toMatchObject({
        verdict,
        status: { source, status: verdict },
        presentation: { statusAtPresentation: shown },
      });
    },
  );

  it('a list past its exp gives only its revoked: its valid leaves the presentation’s suspended', async () => {
    await publishStatusList(NOW, 600);
    const store = storeOf();
    await store.sync();
    now = NOW + 601;
    // Made before the list was signed (and still within its own ten minutes), but the list's valid is
    // not known now: the presentation's own status stands.
    const shown = await world.presentation(
      { issuedAt: NOW - 10, expiresAt: NOW + 590 },
      { status: 'suspended', statusList: { list: 0, idx: IDX } },
    );
    const result = await verifierOf(store).verify(shown);
    expect(result).toMatchObject({ verdict: 'suspended', status: { source: 'presentation' } });
  });
});

describe('offline, a status list or trust list signed ahead of the verifier’s clock (R20 4)', () => {
  it('refuses a status list dated a year ahead (clock_skew), so the genuine revocation after it is taken', async () => {
    await publishStatusList(NOW + 365 * 86_400); // e.g. a peer issuer's list signed during a clock error
    const store = storeOf();
    const first = await store.sync();
    expect(first.failures).toEqual([{ url: BASE + LIST_PATH, code: 'clock_skew' }]);
    expect(await store.refreshStatusList(LIST_PATH).catch((error: SyncError) => error.code)).toBe(
      'clock_skew',
    );

    writeStatus(statuses, IDX, StatusType.INVALID);
    now += 600;
    await publishStatusList(now); // the genuine list, with the revocation
    await store.refreshStatusList(BASE + LIST_PATH);
    expect(await verifierOf(store).verify(await world.credential())).toMatchObject({
      verdict: 'revoked',
      stale: false,
    });
    expect((await store.sync()).failures).toEqual([]);
  });

  it('takes a list signed within the clock skew ahead (60 s), not one beyond it', async () => {
    await publishStatusList(NOW + 60);
    const store = storeOf();
    expect((await store.sync()).failures).toEqual([]);
    await publishStatusList(NOW + 61);
    await expect(store.refreshStatusList(LIST_PATH)).rejects.toMatchObject({ code: 'clock_skew' });
  });

  it('refuses a trust list dated ahead, from a sync, a refresh or a snapshot, keeping what it had', async () => {
    const store = storeOf();
    await store.sync();
    const snapshot = store.snapshot();
    await publishTrustList(NOW + 86_400);
    await expect(store.sync()).rejects.toMatchObject({ code: 'clock_skew' });
    await expect(store.refreshTrustList()).rejects.toMatchObject({ code: 'clock_skew' });
    expect(store.freshness()?.issuedAt).toBe(NOW * 1000);

    // A snapshot holding it (taken while the clock was ahead, say) is refused too.
    now = NOW + 86_400;
    const ahead = storeOf();
    await ahead.sync();
    now = NOW;
    const fresh = storeOf();
    await fresh.restore(snapshot);
    await expect(fresh.restore(ahead.snapshot())).rejects.toMatchObject({ code: 'clock_skew' });

    // The genuine next trust list is then taken.
    now = NOW + 600;
    await publishTrustList(now);
    await store.refreshTrustList();
    expect(store.freshness()?.issuedAt).toBe(now * 1000);
  });
});

describe('a clock skew that is no number of seconds', () => {
  it('is refused when the store or the verifier is made, never taken as "no check"', () => {
    for (const clockSkewSeconds of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      expect(
        () => new OfflineTrustStore({ baseUrl: BASE, crypto: nodeEs256, fetch: fetcher, clockSkewSeconds }),
      ).toThrow(RangeError);
      const store = storeOf();
      expect(() =>
        createVerifier({ crypto: nodeEs256, trust: store, status: store, clockSkewSeconds }),
      ).toThrow(/clockSkewSeconds/);
    }
    expect(() => createVerifier({ crypto: nodeEs256, trust: storeOf(), clockSkewSeconds: 0 })).not.toThrow();
  });
});

describe("the store's other bounds when they are no whole number", () => {
  // NaN made the decompression limit compare false (no limit: a zip bomb inflated in full) and the
  // per-issuer list count fetch nothing; Infinity is no bound at all.
  it('refuses them when the store is made, naming the option', () => {
    for (const bad of [Number.NaN, 0, -1, 1.5, Number.POSITIVE_INFINITY]) {
      for (const option of ['maxStatusListBytes', 'maxListsPerIssuer'] as const) {
        expect(
          () => new OfflineTrustStore({ baseUrl: BASE, crypto: nodeEs256, fetch: fetcher, [option]: bad }),
        ).toThrow(new RegExp(`^${option} must be an integer, 1 or more`));
      }
    }
    expect(
      () =>
        new OfflineTrustStore({
          baseUrl: BASE,
          crypto: nodeEs256,
          fetch: fetcher,
          maxStatusListBytes: 1 << 15,
          maxListsPerIssuer: 1,
        }),
    ).not.toThrow();
  });
});
