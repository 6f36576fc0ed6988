import { beforeEach, describe, expect, it } from 'vitest';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import type { PeerRecord } from '../../../shared/issuers/peer-store.js';
import { PeerTrust } from '../../../shared/verification/peer-trust.js';
import {
  createStatusBytes,
  encodeStatusList,
  StatusType,
  writeStatus,
} from '../../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import type { StatusQuery } from '../../../packages/verifier/src/trust.js';
import { createWorld, NOW, type World } from '../../support/verifier-world.js';

/*
 * `POST /verify`'s statuses of peer licences (docs/peers.md): the peer issuer's status list, fetched
 * from the peer and held per container. A list the peer signed ahead of our clock (R20) must not be
 * held: it would answer "fresh" for as long as it is ahead, and refuse the peer's genuine later lists.
 */

const base = 'https://peer-b.example.gov.cn';
const listPath = '/status-lists/iss_TestIssuer0000000.0';
let world: World;
let now: number;
let statuses: Uint8Array;
const documents = new Map<string, string>();
const fetcher = async (input: string | URL | Request) => {
  const body = documents.get(String(input).slice(base.length));
  return new Response(body ?? '{}', { status: body ? 200 : 404 });
};

async function publishStatusList(iat: number) {
  const payload = {
    iss: world.issuer.id,
    sub: base + listPath,
    iat,
    exp: iat + 2 * 86_400,
    ttl: 300,
    status_list: await encodeStatusList(statuses, zlibCompression),
  };
  documents.set(listPath, await signCompactJws({ typ: 'statuslist+jwt' }, payload, world.issuerSigner));
}

async function peerRecord(): Promise<PeerRecord> {
  const entry = {
    id: world.issuer.id,
    name: world.issuer.name,
    creditCode: world.issuer.creditCode,
    region: '110000',
    status: 'active' as const,
    jwks: { keys: world.issuer.keys.map((key) => ({ ...key, kid: key.kid ?? '' })) },
    licenceTypes: [...world.issuer.licenceTypes],
    statusLists: 1,
  };
  const trustList = { iss: base, iat: NOW - 60, exp: NOW + 7 * 86_400, ttl: 3600, issuers: [entry] };
  const fetchedAt = new Date((NOW - 60) * 1000).toISOString();
  return {
    id: 'peer_b',
    name: 'B',
    region: '110000',
    baseUrl: base,
    jwks: { keys: world.trust.platform },
    createdAt: fetchedAt,
    fetchedAt,
    trustList: {
      jws: await signCompactJws({ typ: 'trust-list+jwt' }, trustList, world.platformSigner),
      iat: trustList.iat,
      exp: trustList.exp,
    },
    issuers: [{ ...entry, peer: 'peer_b', statusBase: base }],
    version: 1,
  };
}

async function peerTrust() {
  const record = await peerRecord();
  const config = {
    platformRegion: '310000',
    peers: { staleSeconds: 86_400, maxAgeSeconds: 604_800, fetchTimeoutMs: 1000 },
  };
  return new PeerTrust({ list: async () => [record] }, config, { now: () => now * 1000 }, 30_000, fetcher);
}

const query = (): StatusQuery => ({
  licenceId: 'any',
  issuerId: world.issuer.id,
  list: { uri: listPath, idx: 7 },
});

beforeEach(async () => {
  world = await createWorld();
  now = NOW;
  statuses = createStatusBytes(1024);
  documents.clear();
});

describe('PeerTrust', () => {
  it('refuses a peer status list signed a year ahead, and takes the genuine revocation after it', async () => {
    await publishStatusList(NOW + 365 * 86_400);
    const peers = await peerTrust();
    expect(await peers.status(query())).toBeUndefined(); // no status: the verdict is a 502, never valid

    writeStatus(statuses, 7, StatusType.INVALID);
    now += 60;
    await publishStatusList(now);
    expect(await peers.status(query())).toMatchObject({ status: 'revoked', source: 'status-list' });
  });

  it('takes a peer status list signed within the peers’ five minutes ahead of our clock', async () => {
    await publishStatusList(NOW + 300);
    expect(await (await peerTrust()).status(query())).toMatchObject({ status: 'valid' });
  });
});
