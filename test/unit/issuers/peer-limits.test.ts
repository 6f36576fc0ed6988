import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrustListIssuer } from '../../../packages/verifier/src/trust-list.js';
import {
  creditCodeCheckCharacter,
  organisationCodeCheckCharacter,
} from '../../../shared/identifiers/credit-code.js';
import { peerTrustListLimits, peerTrustListOverLimit } from '../../../shared/issuers/peer-limits.js';
import { refreshPeer, registerPeer } from '../../../shared/issuers/peers.js';
import { InMemoryAudit } from '../../support/in-memory-identity.js';
import { InMemoryPeerStore } from '../../support/in-memory-peers.js';

/*
 * A peer's trust list is bounded (review R23 H1, docs/peers.md "Limits"): read as a stream no further
 * than its byte limit, refused at registration over any limit (422 peer_trust_list_too_large) and, at a
 * refresh, recorded with the last good copy kept.
 */

const baseUrl = 'https://peer.example.gov.cn';
let now = Date.parse('2026-12-07T10:00:00Z');
let privateKey: CryptoKey;
let jwk: Record<string, unknown>;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'peer-1' };
});

function code(region: string, n: number): string {
  const body = String(n).padStart(8, '0');
  const first17 = `11${region}${body}${organisationCodeCheckCharacter(body)}`;
  return `${first17}${creditCodeCheckCharacter(first17)}`;
}

const entry = (i: number, extra: Partial<TrustListIssuer> = {}): TrustListIssuer => ({
  id: `iss_sh${i}`,
  name: `上海市第${i}局`,
  creditCode: code('310000', i),
  region: '310000',
  status: 'active',
  jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y), kid: 'k1' }] },
  licenceTypes: [{ code: 'driving-licence', typeCode: '003' }],
  statusLists: 1,
  ...extra,
});

const signed = (issuers: unknown[], iat = Math.floor(now / 1000) - 60) =>
  new SignJWT({ issuers, ttl: 3600 })
    .setProtectedHeader({ alg: 'ES256', typ: 'trust-list+jwt', kid: 'peer-1' })
    .setIssuer(baseUrl)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 604_800)
    .sign(privateKey);

function world(answer: () => Response | Promise<Response>) {
  const peers = new InMemoryPeerStore();
  return {
    peers,
    operatorAudit: peers.pendingAudit,
    issuers: { listAll: async () => [] },
    audit: new InMemoryAudit(),
    clock: { now: () => now },
    config: {
      issuerUrl: 'https://elicence.example.gov.cn',
      platformRegion: '110000',
      peers: { staleSeconds: 86_400, maxAgeSeconds: 604_800, fetchTimeoutMs: 5000 },
    },
    fetch: (async () => answer()) as typeof globalThis.fetch,
  };
}

const input = () => ({ name: '上海平台', region: '310000', baseUrl, jwks: { keys: [jwk] } as never });

describe('peerTrustListOverLimit', () => {
  it('names the first limit a list breaks, and nothing for a list within them', () => {
    const limits = peerTrustListLimits;
    const key = entry(0).jwks.keys[0]!;
    const cases: Array<[TrustListIssuer[], RegExp | undefined]> = [
      [[entry(1), entry(2)], undefined],
      [Array.from({ length: limits.issuers + 1 }, (_, i) => entry(i)), /names 201 issuers \(at most 200\)/],
      [[entry(1, { id: 'iss_x.0' })], /"iss_x.0": its id is not 1 to 64/],
      [[entry(1, { id: `iss_${'x'.repeat(61)}` })], /its id is not 1 to 64/],
      [[entry(1, { name: '局'.repeat(101) })], /name has 101 characters \(at most 100\)/],
      [[entry(1, { jwks: { keys: Array.from({ length: 11 }, () => key) } })], /11 keys \(at most 10\)/],
      [
        [entry(1, { licenceTypes: Array.from({ length: 51 }, () => ({ code: 'x', typeCode: '003' })) })],
        /51 licence types \(at most 50\)/,
      ],
    ];
    for (const [issuers, expected] of cases) {
      const over = peerTrustListOverLimit({ issuers });
      if (expected) expect(over).toMatch(expected);
      else expect(over).toBeUndefined();
    }
  });
});

/** `n` batch keys the size ours are (a 43-character kid, a 662-character certificate: about 970 bytes of JSON each). */
const batchKeys = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    kid: `b${String(from + i).padStart(42, '0')}`,
    jwk: {
      ...entry(0).jwks.keys[0]!,
      kid: `b${String(from + i).padStart(42, '0')}`,
      alg: 'ES256' as const,
      use: 'sig' as const,
    },
    nbf: 1_800_000_000 + (from + i) * 86_400,
    exp: 1_800_086_400 + (from + i) * 86_400,
    certificate: `${'h'.repeat(100)}.${'p'.repeat(475)}.${'s'.repeat(86)}`,
  }));

describe('a peer running this service, whose issuers certified many batch keys (R36 M1)', () => {
  it('is registered and refreshed while its list is within the bytes, however many batch keys it names', async () => {
    let body = await signed([entry(1, { batchKeys: batchKeys(21) }), entry(2)]);
    const deps = world(() => new Response(body));
    const { id } = await registerPeer(input(), { clientId: 'cl_op' }, deps);
    expect((await deps.peers.get(id))?.issuers[0]?.batchKeys).toHaveLength(21);
    // A month of daily keys more: still taken, so its new batch licences verify here.
    now += 60_000;
    body = await signed([entry(1, { batchKeys: batchKeys(60) }), entry(2)], Math.floor(now / 1000));
    expect(body.length).toBeLessThan(peerTrustListLimits.bytes);
    const view = await refreshPeer(id, deps);
    expect(view.lastError).toBeUndefined();
    expect(view).toMatchObject({ status: 'ok', issuers: 2 });
    expect((await deps.peers.get(id))?.issuers[0]?.batchKeys).toHaveLength(60);
  });

  it('is bounded by the bytes of its list: past them, refused as before (the record must fit one item)', async () => {
    const body = await signed([entry(1, { batchKeys: batchKeys(100) })]);
    expect(body.length).toBeGreaterThan(peerTrustListLimits.bytes);
    const deps = world(() => new Response(body));
    await expect(registerPeer(input(), { clientId: 'cl_op' }, deps)).rejects.toMatchObject({
      code: 'peer_trust_list_too_large',
      message: expect.stringContaining(`over ${peerTrustListLimits.bytes} bytes`),
    });
  });
});

describe('registerPeer and refreshPeer with a list over the limits', () => {
  it('refuses at registration with 422 peer_trust_list_too_large, storing nothing', async () => {
    const many = await signed(Array.from({ length: 201 }, (_, i) => entry(i)));
    const deps = world(() => new Response(many));
    await expect(registerPeer(input(), { clientId: 'cl_op' }, deps)).rejects.toMatchObject({
      kind: 'unprocessable',
      code: 'peer_trust_list_too_large',
      message: expect.stringMatching(/at most 200/),
    });
    expect(await deps.peers.list()).toEqual([]);
  });

  it('reads a body no further than the limit, whatever the peer sends (and says)', async () => {
    let pulled = 0;
    const chunk = new Uint8Array(16 * 1024).fill(0x41);
    const deps = world(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              pulled += chunk.byteLength;
              controller.enqueue(chunk);
            },
          }),
        ),
    );
    await expect(registerPeer(input(), { clientId: 'cl_op' }, deps)).rejects.toMatchObject({
      code: 'peer_trust_list_too_large',
      message: expect.stringContaining(`over ${peerTrustListLimits.bytes} bytes`),
    });
    expect(pulled).toBeLessThanOrEqual(peerTrustListLimits.bytes + 3 * chunk.byteLength);
    // A content-length over the limit: not read at all.
    pulled = 0;
    const declared = world(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              pulled += chunk.byteLength;
              controller.enqueue(chunk);
            },
          }),
          { headers: { 'content-length': String(10 * 1024 * 1024) } },
        ),
    );
    await expect(registerPeer(input(), { clientId: 'cl_op' }, declared)).rejects.toMatchObject({
      code: 'peer_trust_list_too_large',
    });
    expect(pulled).toBeLessThanOrEqual(chunk.byteLength);
  });

  it('at a refresh, records too_large and keeps the last good copy in use', async () => {
    let body = await signed([entry(1), entry(2)]);
    const deps = world(() => new Response(body));
    const { id } = await registerPeer(input(), { clientId: 'cl_op' }, deps);
    now += 60_000;
    body = await signed([entry(1, { name: '局'.repeat(101) }), entry(2)], Math.floor(now / 1000));
    const view = await refreshPeer(id, deps);
    expect(view).toMatchObject({ status: 'ok', issuers: 2, lastError: { code: 'too_large' } });
    expect(view.lastError?.detail).toMatch(/at most 100/);
    expect((await deps.peers.get(id))?.issuers.map((issuer) => issuer.id)).toEqual(['iss_sh1', 'iss_sh2']);
  });
});
