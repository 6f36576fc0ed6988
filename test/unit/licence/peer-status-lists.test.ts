import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PublicJwk } from '../../../packages/verifier/src/crypto.js';
import { DependencyError, NotFoundError } from '../../../shared/errors.js';
import type { PeerRecord } from '../../../shared/issuers/peer-store.js';
import {
  PEER_STATUS_LIST_CACHE_SECONDS,
  PEER_STATUS_LIST_FAILURE_SECONDS,
  PeerStatusListRelay,
} from '../../../shared/licence/peer-status-lists.js';

/*
 * The relay of peer issuers' status lists (docs/peers.md): only a usable peer's issuer, only from the
 * peer's registered base URL, only a token of that issuer and list, kept a minute.
 */

const base = 'https://b.example.gov.cn';
const listId = 'iss_b.0';
let now = Date.parse('2026-12-05T08:00:00Z');
const clock = { now: () => now };
let issuerKey: CryptoKey;
let otherKey: CryptoKey;
let publicJwk: PublicJwk & { kid: string };

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  issuerKey = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const { x, y } = await exportJWK(pair.publicKey);
  publicJwk = { kty: 'EC', crv: 'P-256', x: x!, y: y!, kid: 'k1' };
});

const token = (claims: Record<string, unknown> = {}, key: CryptoKey = issuerKey) =>
  new SignJWT({
    sub: `${base}/status-lists/${listId}`,
    ttl: 300,
    exp: Math.floor(now / 1000) + 86_400,
    status_list: { bits: 2, lst: 'eNrbuRgAAhcBXQ' },
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'statuslist+jwt', kid: 'k1' })
    .setIssuer('iss_b')
    .setIssuedAt(typeof claims.iat === 'number' ? claims.iat : Math.floor(now / 1000))
    .sign(key);

function peer(fetchedAt = new Date(now).toISOString()): PeerRecord {
  return {
    id: 'peer_b',
    name: 'B',
    region: '310000',
    baseUrl: base,
    jwks: { keys: [publicJwk] },
    createdAt: fetchedAt,
    fetchedAt,
    trustList: { jws: 'x', iat: Math.floor(now / 1000) - 60, exp: Math.floor(now / 1000) + 86_400 },
    issuers: [
      {
        id: 'iss_b',
        name: 'B issuer',
        creditCode: '11310000000000027U',
        region: '310000',
        status: 'active',
        jwks: { keys: [publicJwk] },
        statusLists: 2,
        peer: 'peer_b',
        statusBase: base,
      },
    ],
    version: 1,
  };
}

function relayFor(answer: () => Promise<Response>, records: () => PeerRecord[] = () => [peer()]) {
  const requests: Array<{ url: string; init?: RequestInit }> = [];
  const relay = new PeerStatusListRelay({
    peers: { list: async () => records() },
    clock,
    config: {
      platformRegion: '110000',
      peers: { staleSeconds: 86_400, maxAgeSeconds: 604_800, fetchTimeoutMs: 1000 },
      issuerCacheSeconds: 0,
    },
    fetch: async (input, init) => {
      requests.push({ url: String(input), init });
      return answer();
    },
  });
  return { relay, requests };
}

const ok = (body: string) =>
  new Response(body, { status: 200, headers: { 'content-type': 'application/statuslist+jwt' } });

describe('PeerStatusListRelay', () => {
  it('relays a peer issuer’s token byte for byte, fetched at the peer’s registered URL, without redirects', async () => {
    const jws = await token();
    const { relay, requests } = relayFor(async () => ok(jws));
    const relayed = await relay.token(listId);
    expect(relayed).toEqual({ jws, ttl: 300 });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe(`${base}/status-lists/${listId}`);
    expect(requests[0]!.init?.redirect).toBe('error');
  });

  it('knows nothing of an id that is no usable peer’s issuer’s, or no list id: nothing is fetched', async () => {
    const { relay, requests } = relayFor(async () => ok(await token()));
    expect(await relay.token('iss_other.0')).toBeUndefined();
    expect(await relay.token('iss_b.0/../../admin')).toBeUndefined();
    expect(await relay.token('https://evil.example/x.0')).toBeUndefined();
    const old = relayFor(
      async () => ok(await token()),
      () => [peer(new Date(now - 8 * 86_400_000).toISOString())],
    );
    expect(await old.relay.token(listId)).toBeUndefined();
    expect([...requests, ...old.requests]).toEqual([]);
  });

  it('keeps a token a minute, then fetches again: a revocation at the peer shows after the cache expires', async () => {
    const first = await token();
    let answer = first;
    const { relay, requests } = relayFor(async () => ok(answer));
    expect((await relay.token(listId))?.jws).toBe(first);
    now += 10_000;
    answer = await token({ status_list: { bits: 2, lst: 'eNrbuRgAAhcBXg' } });
    const held = await relay.token(listId);
    expect(held).toEqual({ jws: first, ttl: 290 });
    expect(requests).toHaveLength(1);
    now += PEER_STATUS_LIST_CACHE_SECONDS * 1000;
    expect((await relay.token(listId))?.jws).toBe(answer);
    expect(requests).toHaveLength(2);
    // A peer write in this process (a refresh) drops what is held at once.
    answer = await token({ iat: Math.floor(now / 1000) + 1 });
    relay.invalidate();
    expect((await relay.token(listId))?.jws).toBe(answer);
  });

  it('refuses anything but a status list token of that issuer and list (502 peer_bad_response)', async () => {
    const bad = [
      await token({}, otherKey),
      await token({ sub: `${base}/status-lists/iss_b.1` }),
      await token({ exp: Math.floor(now / 1000) - 1 }),
      '<html>hello</html>',
      // Signed more than the peers' five minutes ahead of our clock (R20): relayed, it would be cached
      // (max-age) until real time caught up with it, and verifiers refuse it anyway (`clock_skew`).
      await new SignJWT({
        sub: `${base}/status-lists/${listId}`,
        ttl: 300,
        exp: Math.floor(now / 1000) + 365 * 86_400,
        status_list: { bits: 2, lst: 'eNrbuRgAAhcBXQ' },
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'statuslist+jwt', kid: 'k1' })
        .setIssuer('iss_b')
        .setIssuedAt(Math.floor(now / 1000) + 301)
        .sign(issuerKey),
    ];
    for (const body of bad) {
      const { relay } = relayFor(async () => ok(body));
      const error = await relay.token(listId).catch((e: unknown) => e);
      expect(error, body).toBeInstanceOf(DependencyError);
      expect((error as DependencyError).code).toBe('peer_bad_response');
    }
  });

  it('asks the peer for no list beyond the count its trust list gives the issuer (R23 L1)', async () => {
    const { relay, requests } = relayFor(async () => ok(await token()));
    for (const id of ['iss_b.2', 'iss_b.100000', 'iss_b.99999999'])
      expect(await relay.token(id)).toBeUndefined();
    expect(requests).toEqual([]);
    const uncounted = relayFor(
      async () => ok(await token()),
      () => [{ ...peer(), issuers: peer().issuers.map(({ statusLists: _n, ...issuer }) => issuer) }],
    );
    expect(await uncounted.relay.token(listId)).toBeUndefined();
    expect(uncounted.requests).toEqual([]);
  });

  it('keeps the peer’s 404 and its failure a minute: asked again meanwhile, it does not fetch (R23 L1)', async () => {
    let status = 404;
    const { relay, requests } = relayFor(async () => new Response('{}', { status }));
    for (let i = 0; i < 5; i++) {
      const error = await relay.token(listId).catch((e: unknown) => e);
      expect((error as NotFoundError).code).toBe('status_list_not_found');
    }
    expect(requests).toHaveLength(1);
    now += PEER_STATUS_LIST_FAILURE_SECONDS * 1000;
    status = 503;
    for (let i = 0; i < 5; i++) {
      const error = await relay.token(listId).catch((e: unknown) => e);
      expect((error as DependencyError).code).toBe('peer_unreachable');
    }
    expect(requests).toHaveLength(2);
    // A refresh of the peer in this process asks again at once.
    relay.invalidate();
    await relay.token(listId).catch(() => undefined);
    expect(requests).toHaveLength(3);
  });

  it('reads the peer’s answer as a stream and stops past the bound, whatever the peer sends (R23 H1)', async () => {
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x41);
    const endless = () =>
      new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulled += chunk.byteLength;
            controller.enqueue(chunk);
          },
        }),
        { status: 200 },
      );
    const { relay } = relayFor(async () => endless());
    const error = await relay.token(listId).catch((e: unknown) => e);
    expect((error as DependencyError).code).toBe('peer_bad_response');
    expect(pulled).toBeLessThanOrEqual(4 * 1024 * 1024 + 3 * chunk.byteLength);
  });

  it('passes on the peer’s 404; a peer down or failing is a DependencyError (502 peer_unreachable)', async () => {
    const missing = relayFor(async () => new Response('{}', { status: 404 }));
    const error = await missing.relay.token(listId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe('status_list_not_found');
    for (const answer of [
      async () => new Response('oops', { status: 500 }),
      async () => {
        throw new TypeError('fetch failed');
      },
    ]) {
      const { relay } = relayFor(answer);
      const failed = await relay.token(listId).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(DependencyError);
      expect((failed as DependencyError).code).toBe('peer_unreachable');
    }
  });

  it('serves the last good token while the peer is down, uncached (ttl 0), until the token’s own exp', async () => {
    let down = false;
    const good = await token({ exp: Math.floor(now / 1000) + 600 });
    const { relay } = relayFor(async () => {
      if (down) throw new TypeError('fetch failed');
      return new Response(good, { status: 200 });
    });
    expect((await relay.token(listId))?.jws).toBe(good);
    down = true;
    now += (PEER_STATUS_LIST_CACHE_SECONDS + 1) * 1000;
    expect(await relay.token(listId)).toEqual({ jws: good, ttl: 0 });
    // A peer write in this process (the refresh that found it down) keeps it as the last good copy.
    relay.invalidate();
    expect(await relay.token(listId)).toEqual({ jws: good, ttl: 0 });
    // Past its exp it is no copy at all: the fault shows.
    now += 600 * 1000;
    const failed = await relay.token(listId).catch((e: unknown) => e);
    expect((failed as DependencyError).code).toBe('peer_unreachable');
  });

  it('does not relay a token signed before the one held, nor one of the same second saying else (R32 M1)', async () => {
    const revoked = await token({ status_list: { bits: 2, lst: 'eNpjBAAAAgAB' } });
    let answer = revoked;
    const { relay, requests } = relayFor(async () => ok(answer));
    expect((await relay.token(listId))?.jws).toBe(revoked);
    // An older list (from before the revocation) answered in the peer's place, then one of the same second.
    answer = await token({ iat: Math.floor(now / 1000) - 600 });
    now += PEER_STATUS_LIST_CACHE_SECONDS * 1000;
    expect((await relay.token(listId))?.jws).toBe(revoked);
    answer = await token({ iat: Math.floor(now / 1000) - PEER_STATUS_LIST_CACHE_SECONDS });
    now += PEER_STATUS_LIST_CACHE_SECONDS * 1000;
    expect((await relay.token(listId))?.jws).toBe(revoked);
    expect(requests).toHaveLength(3);
    // A later one is relayed as ever.
    answer = await token();
    now += PEER_STATUS_LIST_CACHE_SECONDS * 1000;
    expect((await relay.token(listId))?.jws).toBe(answer);
  });

  it('does not serve the last good token of an issuer its peer no longer lists', async () => {
    let listed = true;
    const good = await token();
    const { relay } = relayFor(
      async () => new Response(good, { status: 200 }),
      () => (listed ? [peer()] : []),
    );
    expect((await relay.token(listId))?.jws).toBe(good);
    listed = false;
    relay.invalidate();
    expect(await relay.token(listId)).toBeUndefined();
  });
});
