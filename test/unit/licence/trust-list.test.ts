import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Signer } from '../../../shared/crypto/signer.js';
import {
  creditCodeCheckCharacter,
  organisationCodeCheckCharacter,
} from '../../../shared/identifiers/credit-code.js';
import type { Issuer } from '../../../shared/issuers/issuer.js';
import { peerTrustListLimits, TRUST_LIST_MAX_CHARS } from '../../../shared/issuers/peer-limits.js';
import { alarmedLines } from '../../../shared/logger.js';
import type { PeerRecord } from '../../../shared/issuers/peer-store.js';
import { findLicenceType } from '../../../shared/licence/catalogue.js';
import { LIST_SIZE } from '../../../shared/licence/status-list-store.js';
import { trustListPayload } from '../../../packages/verifier/src/trust-list.js';
import { canonicalJson, trustListIssuers } from '../../../shared/licence/trust-list.js';
import type { SignedTrustList, TrustListStore } from '../../../shared/licence/trust-list-store.js';
import {
  TRUST_LIST_LIFETIME_SECONDS,
  TRUST_LIST_REFRESH_SECONDS,
  TRUST_LIST_RESIGN_AGE_SECONDS,
  TRUST_LIST_TTL_SECONDS,
  trustListOverPeerLimitLine,
  trustListToken,
} from '../../../shared/licence/trust-list-token.js';
import { InMemoryIssuerStore } from '../../support/in-memory.js';
import { LocalSigner } from '../../support/local-signer.js';

/** A {@link Signer} that counts its signatures. */
class CountingSigner implements Signer {
  readonly alg = 'ES256';
  signatures = 0;
  constructor(readonly inner: LocalSigner = new LocalSigner()) {}
  publicJwk = () => this.inner.publicJwk();
  kid = () => this.inner.kid();
  sign = (data: Uint8Array) => {
    this.signatures++;
    return this.inner.sign(data);
  };
}

/** The {@link TrustListStore} contract in memory. */
class InMemoryTrustListStore implements TrustListStore {
  stored: (SignedTrustList & { version: number }) | undefined;
  async find() {
    return this.stored;
  }
  async save(token: SignedTrustList, expectedVersion: number) {
    if ((this.stored?.version ?? 0) !== expectedVersion) return false;
    this.stored = { ...token, version: expectedVersion + 1 };
    return true;
  }
}

const start = Date.UTC(2025, 0, 1) / 1000;

/** A valid government-agency credit code registered in `region` (GB 32100). */
function creditCodeIn(region: string, n: number): string {
  const body = String(n).padStart(8, '0');
  const first17 = `11${region}${body}${organisationCodeCheckCharacter(body)}`;
  return `${first17}${creditCodeCheckCharacter(first17)}`;
}

async function issuer(id: string, status: Issuer['status'], creditCode: string): Promise<Issuer> {
  const signer = new LocalSigner();
  return {
    id,
    name: `Agency ${id}`,
    creditCode,
    region: '310000',
    licenceTypes: ['business-licence'],
    status,
    keyId: `key-${id}`,
    kid: await signer.kid(),
    ...(status === 'provisioning' ? {} : { publicJwk: await signer.publicJwk() }),
    createdAt: new Date(start * 1000).toISOString(),
    version: 1,
  };
}

describe('trustListIssuers', () => {
  it('lists active and withdrawn issuers by id with their public key only, never provisioning ones', async () => {
    const active = await issuer('iss_b', 'active', '11310000000000001B');
    const withdrawn = await issuer('iss_a', 'withdrawn', '11310000000000002C');
    const provisioning = await issuer('iss_c', 'provisioning', '11310000000000003D');
    const entries = trustListIssuers(
      [active, provisioning, withdrawn],
      new Map(),
      (code) => findLicenceType(code)?.typeCode,
    );
    expect(entries.map((entry) => [entry.id, entry.status])).toEqual([
      ['iss_a', 'withdrawn'],
      ['iss_b', 'active'],
    ]);
    expect(entries[1]).toEqual({
      id: 'iss_b',
      name: 'Agency iss_b',
      creditCode: '11310000000000001B',
      region: '310000',
      status: 'active',
      jwks: { keys: [{ ...active.publicJwk, kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' }] },
      // The types it may issue, with their ids' type code: what an offline verifier checks.
      licenceTypes: [{ code: 'business-licence', typeCode: '001' }],
    });
    expect(Object.keys(entries[1]?.jwks.keys[0] ?? {}).sort()).toEqual(
      ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'].sort(),
    );
  });
  it('publishes only the batch keys that can verify something: none of a withdrawn issuer, none certified by a withdrawn key (R36 M1)', async () => {
    const typeCode = (code: string) => findLicenceType(code)?.typeCode;
    const certificateBy = (kid: string) =>
      `${Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'batch-key+jwt', kid })).toString('base64url')}.e30.c2ln`;
    const batchKey = async (certifiedBy: string) => {
      const jwk = await new LocalSigner().publicJwk();
      return {
        kid: String(jwk.kid),
        publicJwk: jwk,
        nbf: start,
        exp: start + 86_400,
        certificate: certificateBy(certifiedBy),
      };
    };
    const active = await issuer('iss_b', 'active', '11310000000000001B');
    const oldKid = 'withdrawn-key';
    const rotated: Issuer = {
      ...active,
      keys: [
        {
          kid: oldKid,
          keyId: 'key-old',
          publicJwk: { ...active.publicJwk, kid: oldKid },
          createdAt: active.createdAt,
          withdrawnAt: new Date(start * 1000).toISOString(),
        },
        { kid: active.kid!, keyId: active.keyId!, publicJwk: active.publicJwk!, createdAt: active.createdAt },
      ],
      batchKeys: [await batchKey(oldKid), await batchKey(active.kid!)],
    };
    const withdrawn: Issuer = {
      ...(await issuer('iss_a', 'withdrawn', '11310000000000002C')),
      batchKeys: [await batchKey('any')],
    };
    withdrawn.batchKeys = [await batchKey(withdrawn.kid!)];
    const entries = trustListIssuers([rotated, withdrawn], new Map(), typeCode);
    const byId = new Map(entries.map((entry) => [entry.id, entry]));
    // The key certified by the current key stays; the one certified by the withdrawn key is left out.
    expect(byId.get('iss_b')?.batchKeys?.map((key) => key.kid)).toEqual([rotated.batchKeys![1]!.kid]);
    // A withdrawn issuer's credentials answer unknown_issuer whatever signed them: no batch keys.
    expect(byId.get('iss_a')?.batchKeys).toBeUndefined();
    expect(byId.get('iss_a')?.status).toBe('withdrawn');
    // Left out of the list only: the record keeps them (GET /licences?keyWithdrawn=true reads it).
    expect(rotated.batchKeys).toHaveLength(2);
  });
});

describe('canonicalJson', () => {
  it('orders members at every level and drops undefined ones', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }], u: undefined })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(canonicalJson({ y: 'é', x: null })).toBe(canonicalJson({ x: null, y: 'é' }));
  });
});

describe('trustListToken', () => {
  let issuers: InMemoryIssuerStore;
  let trustList: InMemoryTrustListStore;
  let platformSigner: CountingSigner;
  let presentationSigner: LocalSigner;
  let presentationPreviousSigners: LocalSigner[];
  let now: number;
  /** Status-list entries allocated per issuer: the counter the list count derives from. */
  let allocated: Map<string, number>;
  const deps = () => ({
    issuers,
    statusLists: { allocated: async (issuerId: string) => allocated.get(issuerId) ?? 0 },
    trustList,
    platformSigner,
    presentationSigner,
    presentationPreviousSigners,
    clock: { now: () => now * 1000 },
    config: { issuerUrl: 'https://id.example.gov.cn' },
  });

  beforeEach(async () => {
    issuers = new InMemoryIssuerStore();
    trustList = new InMemoryTrustListStore();
    platformSigner = new CountingSigner();
    presentationSigner = new LocalSigner();
    presentationPreviousSigners = [];
    allocated = new Map();
    now = start;
    await issuers.claim(await issuer('iss_one', 'active', '11310000000000001B'));
  });

  it('is a platform-signed trust-list+jwt with iss, iat, exp, ttl and the issuers', async () => {
    const { jws, ttl } = await trustListToken(deps());
    expect(ttl).toBe(TRUST_LIST_TTL_SECONDS);
    expect(decodeProtectedHeader(jws)).toEqual({
      typ: 'trust-list+jwt',
      alg: 'ES256',
      kid: await platformSigner.kid(),
    });
    const { payload } = await jwtVerify(
      jws,
      createLocalJWKSet({ keys: [await platformSigner.publicJwk()] }),
      {
        typ: 'trust-list+jwt',
        algorithms: ['ES256'],
        issuer: 'https://id.example.gov.cn',
        currentDate: new Date(now * 1000),
      },
    );
    const parsed = trustListPayload.parse(payload);
    expect(parsed).toMatchObject({
      iat: now,
      exp: now + TRUST_LIST_LIFETIME_SECONDS,
      ttl: TRUST_LIST_TTL_SECONDS,
    });
    expect(parsed.issuers.map((entry) => entry.id)).toEqual(['iss_one']);
  });

  it('signs once while nothing changes, and again when an issuer changes', async () => {
    const first = await trustListToken(deps());
    now += TRUST_LIST_RESIGN_AGE_SECONDS - 1;
    const cached = await trustListToken(deps());
    expect(cached.jws).toBe(first.jws);
    // Cacheable for what is left of its ttl from its iat, not a whole ttl from now.
    expect(cached.ttl).toBe(TRUST_LIST_TTL_SECONDS - TRUST_LIST_RESIGN_AGE_SECONDS + 1);
    expect(platformSigner.signatures).toBe(1);

    const stored = await issuers.findById('iss_one');
    await issuers.save({ ...(stored as Issuer), status: 'withdrawn' });
    const second = await trustListToken(deps());
    expect(second.jws).not.toBe(first.jws);
    expect(platformSigner.signatures).toBe(2);
    const { payload } = await jwtVerify(
      second.jws,
      createLocalJWKSet({ keys: [await platformSigner.publicJwk()] }),
      { currentDate: new Date(now * 1000) },
    );
    expect(trustListPayload.parse(payload).issuers[0]?.status).toBe('withdrawn');

    await issuers.claim(await issuer('iss_two', 'provisioning', '11310000000000002C'));
    expect((await trustListToken(deps())).jws).toBe(second.jws);
    expect(platformSigner.signatures).toBe(2);
  });

  it('dates a list re-signed within the second of the one before a second after it (R32 M1)', async () => {
    const iatOf = (jws: string) => trustListPayload.parse(decodeJwt(jws)).iat;
    const first = await trustListToken(deps());
    expect(iatOf(first.jws)).toBe(now);
    // Withdrawn in the same second: a verifier holding this list must be able to tell it is the later.
    const stored = await issuers.findById('iss_one');
    await issuers.save({ ...(stored as Issuer), status: 'withdrawn' });
    const second = await trustListToken(deps());
    expect(iatOf(second.jws)).toBe(now + 1);
    expect(second.ttl).toBe(TRUST_LIST_TTL_SECONDS);
    // Served as any other while it is young, though dated a second ahead.
    expect((await trustListToken(deps())).jws).toBe(second.jws);
    now += 1;
    expect((await trustListToken(deps())).jws).toBe(second.jws);
  });

  it('says how many status lists each active issuer has, and signs again when one is added', async () => {
    const countOf = async (jws: string) => {
      const { payload } = await jwtVerify(
        jws,
        createLocalJWKSet({ keys: [await platformSigner.publicJwk()] }),
        { currentDate: new Date(now * 1000) },
      );
      return trustListPayload.parse(payload).issuers.map((entry) => entry.statusLists);
    };
    const none = await trustListToken(deps());
    expect(await countOf(none.jws)).toEqual([0]);

    allocated.set('iss_one', 1);
    const one = await trustListToken(deps());
    expect(await countOf(one.jws)).toEqual([1]);
    allocated.set('iss_one', LIST_SIZE);
    expect((await trustListToken(deps())).jws).toBe(one.jws);
    allocated.set('iss_one', LIST_SIZE + 1);
    const two = await trustListToken(deps());
    expect(await countOf(two.jws)).toEqual([2]);
    expect(platformSigner.signatures).toBe(3);

    // A withdrawn issuer's lists are not fetched: nothing it issued can be valid.
    const stored = await issuers.findById('iss_one');
    await issuers.save({ ...(stored as Issuer), status: 'withdrawn' });
    expect(await countOf((await trustListToken(deps())).jws)).toEqual([undefined]);
  });

  it('re-signs once half its ttl has passed, so verifiers counting from iat always get a fresh list', async () => {
    const first = await trustListToken(deps());
    now += TRUST_LIST_RESIGN_AGE_SECONDS - 1;
    expect((await trustListToken(deps())).jws).toBe(first.jws);
    now += 1;
    const second = await trustListToken(deps());
    expect(second.jws).not.toBe(first.jws);
    expect(second.ttl).toBe(TRUST_LIST_TTL_SECONDS);
    expect(platformSigner.signatures).toBe(2);
    expect(trustList.stored?.iat).toBe(now);
    // The exp rule still holds, though half a ttl always comes first.
    expect(TRUST_LIST_RESIGN_AGE_SECONDS).toBeLessThan(
      TRUST_LIST_LIFETIME_SECONDS - TRUST_LIST_REFRESH_SECONDS,
    );
  });

  it('re-signs for another base URL and for another platform key', async () => {
    await trustListToken(deps());
    await trustListToken({ ...deps(), config: { issuerUrl: 'http://localhost:3001' } });
    expect(platformSigner.signatures).toBe(2);
    platformSigner = new CountingSigner();
    await trustListToken(deps());
    expect(platformSigner.signatures).toBe(1);
  });

  it('names the presentation keys under its signature, the retiring ones while a rotation is under way (R7 M1)', async () => {
    const keysOf = async (jws: string) => {
      const { payload } = await jwtVerify(
        jws,
        createLocalJWKSet({ keys: [await platformSigner.publicJwk()] }),
        { currentDate: new Date(now * 1000) },
      );
      return trustListPayload.parse(payload).presentationKeys?.keys;
    };
    const current = await presentationSigner.publicJwk();
    const publicOnly = (jwk: typeof current) => ({
      kty: 'EC',
      crv: 'P-256',
      x: jwk.x,
      y: jwk.y,
      kid: jwk.kid,
      alg: 'ES256',
      use: 'sig',
    });
    const first = await trustListToken(deps());
    expect(await keysOf(first.jws)).toEqual([publicOnly(current)]);
    // Not the platform key: that one signs the list (and ID tokens), never a presentation.
    expect((await keysOf(first.jws))?.map((key) => key.kid)).not.toContain(await platformSigner.kid());

    // A rotation: generation 2 signs, generation 1 is still named; the list is signed again at once.
    const retiring = presentationSigner;
    presentationSigner = new LocalSigner();
    presentationPreviousSigners = [retiring];
    const rotating = await trustListToken(deps());
    expect(rotating.jws).not.toBe(first.jws);
    expect(await keysOf(rotating.jws)).toEqual([
      publicOnly(await presentationSigner.publicJwk()),
      publicOnly(current),
    ]);
    // Generation 1 retired: no longer named.
    presentationPreviousSigners = [];
    expect(await keysOf((await trustListToken(deps())).jws)).toEqual([
      publicOnly(await presentationSigner.publicJwk()),
    ]);
    expect(platformSigner.signatures).toBe(3);
  });

  it('answers a token it signed but could not store, and signs again only when it is due (R23 H1)', async () => {
    // The table refuses the item (too large, throttled): every request used to sign anew, then fail (503).
    const refusing = new InMemoryTrustListStore();
    refusing.save = () => Promise.reject(new Error('Item size has exceeded the maximum allowed size'));
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await trustListToken({ ...deps(), trustList: refusing }));
    expect(new Set(answers.map((answer) => answer.jws)).size).toBe(1);
    expect(platformSigner.signatures).toBe(1);
    now += 60;
    expect((await trustListToken({ ...deps(), trustList: refusing })).ttl).toBe(TRUST_LIST_TTL_SECONDS - 60);
    expect(platformSigner.signatures).toBe(1);
    // Due by age: signed again (once), as a stored token would be.
    now += TRUST_LIST_RESIGN_AGE_SECONDS;
    await trustListToken({ ...deps(), trustList: refusing });
    await trustListToken({ ...deps(), trustList: refusing });
    expect(platformSigner.signatures).toBe(2);
    // Its content changed: signed again.
    await issuers.claim(await issuer('iss_two', 'active', '11310000000000010A'));
    await trustListToken({ ...deps(), trustList: refusing });
    expect(platformSigner.signatures).toBe(3);
  });

  it('takes peers whole, oldest first, while the signed list stays under its item limit (R23 H1)', async () => {
    const fetchedAt = new Date(now * 1000).toISOString();
    const types = Array.from({ length: 40 }, (_, i) => ({ code: `licence-type-${i}`, typeCode: '003' }));
    const jwk = await new LocalSigner().publicJwk();
    const key = { kty: 'EC' as const, crv: 'P-256' as const, x: jwk.x!, y: jwk.y!, kid: jwk.kid! };
    const peer = (n: number, region: string): PeerRecord => ({
      id: `peer_${n}`,
      name: `peer ${n}`,
      region,
      baseUrl: `https://peer${n}.example.gov.cn`,
      jwks: { keys: [key] },
      createdAt: new Date((now - 1000 + n) * 1000).toISOString(),
      fetchedAt,
      trustList: { jws: 'x', iat: now - 60, exp: now + 86_400 },
      issuers: Array.from({ length: 50 }, (_, i) => ({
        id: `iss_p${n}_${i}`,
        name: `peer ${n} agency ${i}`,
        creditCode: creditCodeIn(region, n * 1000 + i),
        region,
        status: 'active' as const,
        jwks: { keys: [key] },
        licenceTypes: types,
        statusLists: 1,
        peer: `peer_${n}`,
        statusBase: `https://peer${n}.example.gov.cn`,
      })),
      version: 1,
    });
    const records = [peer(3, '330000'), peer(1, '320000'), peer(2, '340000')];
    const { jws } = await trustListToken({
      ...deps(),
      peers: { list: async () => records },
      config: {
        issuerUrl: 'https://id.example.gov.cn',
        platformRegion: '110000',
        peers: { staleSeconds: 86_400, maxAgeSeconds: 604_800, fetchTimeoutMs: 5000 },
      },
    });
    expect(jws.length).toBeLessThanOrEqual(TRUST_LIST_MAX_CHARS);
    const listed = trustListPayload.parse(decodeJwt(jws)).issuers;
    expect(listed[0]?.id).toBe('iss_one');
    expect([...new Set(listed.flatMap((entry) => (entry.peer ? [entry.peer] : [])))]).toEqual([
      'peer_1',
      'peer_2',
    ]);
  });

  describe('our own issuers past what a peer running this service reads (R40 L1)', () => {
    afterEach(() => vi.restoreAllMocks());
    /** An active issuer with `count` batch keys certified by its current key, each as large as a real one. */
    async function withBatchKeys(id: string, creditCode: string, count: number): Promise<Issuer> {
      const record = await issuer(id, 'active', creditCode);
      const header = Buffer.from(
        JSON.stringify({ alg: 'ES256', typ: 'batch-key+jwt', kid: record.kid }),
      ).toString('base64url');
      const jwk = await new LocalSigner().publicJwk();
      record.batchKeys = Array.from({ length: count }, (_, i) => ({
        kid: `batch-${id}-${i}`,
        publicJwk: { ...jwk, kid: `batch-${id}-${i}` },
        nbf: start + i * 86_400,
        exp: start + (i + 1) * 86_400,
        // About a real certificate's length: its payload names the key (iss, kid, jwk, nbf, exp).
        certificate: `${header}.${'e'.repeat(600)}.${'s'.repeat(86)}`,
      }));
      return record;
    }

    it('warns, on the alarmed channel, when a list is signed that a peer would refuse', async () => {
      const warn = vi.spyOn(alarmedLines, 'warn').mockImplementation(() => undefined);
      await issuers.claim(await withBatchKeys('iss_two', '11310000000000010A', 10));
      await trustListToken(deps());
      // Ten batch keys: far within a peer's limit, nothing said.
      expect(warn).not.toHaveBeenCalled();

      await issuers.claim(await withBatchKeys('iss_three', '11310000000000029A', 110));
      const { jws } = await trustListToken(deps());
      expect(jws.length).toBeGreaterThan(peerTrustListLimits.bytes);
      expect(warn).toHaveBeenCalledWith(
        trustListOverPeerLimitLine,
        expect.objectContaining({ peerLimitBytes: peerTrustListLimits.bytes, issuers: 3, batchKeys: 120 }),
      );
      const { ownChars } = warn.mock.calls[0]![1] as { ownChars: number };
      // The estimate bounds the list as signed from above, by no more than the header's margin.
      expect(ownChars).toBeGreaterThanOrEqual(jws.length);
      expect(ownChars - jws.length).toBeLessThan(200);
      // Once per signature, not per request.
      await trustListToken(deps());
      expect(warn).toHaveBeenCalledTimes(1);
    });
  });

  it('serves its own token when another request stored one first', async () => {
    const racing = new InMemoryTrustListStore();
    racing.save = async () => false;
    const { jws } = await trustListToken({ ...deps(), trustList: racing });
    expect(jws.split('.')).toHaveLength(3);
  });
});
