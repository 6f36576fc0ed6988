import { beforeEach, describe, expect, it } from 'vitest';
import type { PublicJwk } from '../../../packages/verifier/src/crypto.js';
import { webCryptoEs256 } from '../../../packages/verifier/src/crypto.js';
import { verificationUrl } from '../../../packages/verifier/src/input.js';
import { nodeEs256 } from '../../../packages/verifier/src/node.js';
import { presentationJwksKid } from '../../../packages/verifier/src/presentation-format.js';
import { createVerifier } from '../../../packages/verifier/src/verifier.js';
import { LocalSigner } from '../../support/local-signer.js';
import { createWorld, DAY, FakeStatus, forgedJws, NOW, type World } from '../../support/verifier-world.js';

let world: World;
let status: FakeStatus;
const verifierOf = (options: { skew?: number; now?: number; crypto?: 'node' | 'web' } = {}) =>
  createVerifier({
    crypto: options.crypto === 'web' ? webCryptoEs256() : nodeEs256,
    trust: world.trust,
    status,
    clock: () => (options.now ?? NOW) * 1000,
    ...(options.skew === undefined ? {} : { clockSkewSeconds: options.skew }),
  });

beforeEach(async () => {
  world = await createWorld();
  status = new FakeStatus();
  // The licence the world signs is on record as valid: a credential with no status is not (see below).
  status.statuses.set(world.credentialClaims().jti, 'valid');
});

describe('a licence credential (compact JWS, typ licence+jwt, ES256)', () => {
  it.each(['node', 'web'] as const)(
    'is valid when signed by a trusted issuer key (%s crypto)',
    async (crypto) => {
      status.statuses.set(world.credentialClaims().jti, 'valid');
      const result = await verifierOf({ crypto }).verify(await world.credential());
      expect(result).toMatchObject({
        verdict: 'valid',
        reason: 'ok',
        format: 'credential',
        checkedAt: new Date(NOW * 1000).toISOString(),
        licence: {
          id: world.credentialClaims().jti,
          type: 'driving-licence',
          holder: { kind: 'person', name: '王小明', masked: '110105********1239' },
          fields: { vehicleClass: 'C1' },
          validFrom: new Date((NOW - 30 * DAY) * 1000).toISOString(),
          validUntil: new Date((NOW + 365 * DAY) * 1000).toISOString(),
        },
        issuer: { id: world.issuer.id, name: world.issuer.name, creditCode: world.issuer.creditCode },
        status: { source: 'online', status: 'valid' },
        stale: false,
      });
      expect(JSON.stringify(result)).not.toContain('bG9va3VwLWtleQ'); // the holder's lookup key is never shown
    },
  );

  it('asks the status source with the status list reference the credential carries', async () => {
    await verifierOf().verify(await world.credential());
    expect(status.queries).toEqual([
      {
        licenceId: world.credentialClaims().jti,
        issuerId: world.issuer.id,
        list: world.credentialClaims().status.status_list,
      },
    ]);
  });

  it('is revoked or suspended when its status says so, whatever its dates', async () => {
    const jti = world.credentialClaims().jti;
    status.statuses.set(jti, 'revoked');
    const expired = await world.credential({ claims: { exp: NOW - DAY } });
    expect(await verifierOf().verify(expired)).toMatchObject({
      verdict: 'revoked',
      reason: 'status_revoked',
    });
    status.statuses.set(jti, 'suspended');
    expect(await verifierOf().verify(expired)).toMatchObject({
      verdict: 'suspended',
      reason: 'status_suspended',
    });
  });

  it('is expired from exp, tolerating the clock skew (60 s unless configured)', async () => {
    const credential = await world.credential({ claims: { exp: NOW - 60 } });
    expect((await verifierOf().verify(credential)).verdict).toBe('expired');
    const justInside = await world.credential({ claims: { exp: NOW - 59 } });
    expect((await verifierOf().verify(justInside)).verdict).toBe('valid');
    expect(await verifierOf({ skew: 0 }).verify(justInside)).toMatchObject({
      verdict: 'expired',
      reason: 'licence_expired',
    });
  });

  it('is not yet valid before nbf, tolerating the clock skew', async () => {
    const early = await world.credential({ claims: { nbf: NOW + 61 } });
    expect(await verifierOf().verify(early)).toMatchObject({
      verdict: 'not_yet_valid',
      reason: 'licence_not_yet_valid',
      licence: { validFrom: new Date((NOW + 61) * 1000).toISOString() },
    });
    expect((await verifierOf().verify(await world.credential({ claims: { nbf: NOW + 60 } }))).verdict).toBe(
      'valid',
    );
  });

  it('has no expiry when exp is absent', async () => {
    const credential = await world.credential({ claims: { exp: undefined } });
    const result = await verifierOf({ now: NOW + 100 * 365 * DAY }).verify(credential);
    expect(result.verdict).toBe('valid');
    expect(result.licence?.validUntil).toBeUndefined();
  });

  it('is not valid without a status: unknown, with no source or one that cannot say', async () => {
    const verifier = createVerifier({ crypto: nodeEs256, trust: world.trust, clock: world.clock });
    expect(await verifier.verify(await world.credential())).toMatchObject({
      verdict: 'unknown',
      reason: 'status_unknown',
      status: { source: 'none' },
      licence: { id: world.credentialClaims().jti },
    });
    status.statuses.clear();
    expect(await verifierOf().verify(await world.credential())).toMatchObject({
      verdict: 'unknown',
      reason: 'status_unknown',
    });
    // Known bad news wins over what is unknown: an expired licence is expired whatever its status.
    const lapsed = await world.credential({ claims: { exp: NOW - DAY } });
    expect(await verifierOf().verify(lapsed)).toMatchObject({
      verdict: 'expired',
      reason: 'licence_expired',
    });
  });

  it('takes from a status list past its exp only a revocation, whatever the status source hands back', async () => {
    const expired = {
      issuedAt: (NOW - 3 * DAY) * 1000,
      fetchedAt: (NOW - 3 * DAY) * 1000,
      stale: true,
      expired: true,
    };
    const answering = (value: 'valid' | 'suspended' | 'revoked') => ({
      status: () => ({ status: value, source: 'status-list' as const, freshness: expired }),
    });
    const verifier = verifierOf();
    const credential = await world.credential();
    // Revocation is final: still known, and said to rest on an expired list.
    expect(await verifier.verify(credential, { status: answering('revoked') })).toMatchObject({
      verdict: 'revoked',
      reason: 'status_revoked',
      status: { source: 'status-list', status: 'revoked', stale: true, expired: true },
      stale: true,
      dataAge: 3 * DAY,
    });
    // A suspension can be lifted, and 'valid' may have changed since: neither is known now.
    for (const value of ['valid', 'suspended'] as const) {
      expect(await verifier.verify(credential, { status: answering(value) })).toMatchObject({
        verdict: 'unknown',
        reason: 'status_unknown',
        status: { source: 'none' },
      });
    }
  });

  it('asks the status source given for one verification instead of its own, for that verification only', async () => {
    const jti = world.credentialClaims().jti;
    status.statuses.set(jti, 'valid');
    const once = new FakeStatus();
    once.statuses.set(jti, 'revoked');
    const verifier = verifierOf();
    const credential = await world.credential();
    expect((await verifier.verify(credential, { status: once })).verdict).toBe('revoked');
    expect(once.queries).toHaveLength(1);
    expect(status.queries).toEqual([]);
    expect((await verifier.verify(credential)).verdict).toBe('valid');
    expect(once.queries).toHaveLength(1);
  });

  it('is read from a verification link’s fragment, and with the spaces scanners add', async () => {
    const credential = await world.credential();
    const link = verificationUrl('https://elicence.test/verify', credential);
    expect((await verifierOf().verify(link)).verdict).toBe('valid');
    expect((await verifierOf().verify(`\r\n ${credential}\n`)).verdict).toBe('valid');
    expect(await verifierOf().verify('https://elicence.test/verify')).toMatchObject({
      verdict: 'malformed',
      reason: 'invalid_url',
    });
  });
});

describe('trust: issuers and their keys over time', () => {
  it('an issuer not in the trust list is unknown_issuer', async () => {
    const credential = await world.credential({ claims: { iss: 'iss_NotInTheTrustList' } });
    expect(await verifierOf().verify(credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_not_trusted',
    });
  });

  it('a withdrawn issuer’s licences are unknown_issuer, naming the issuer', async () => {
    world.trust.issuers.set(world.issuer.id, { ...world.issuer, status: 'withdrawn' });
    const result = await verifierOf().verify(await world.credential());
    expect(result).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_withdrawn',
      issuer: { id: world.issuer.id },
    });
    expect(result.licence).toBeUndefined();
  });

  it('after a rotation, licences signed by the old key and by the new one both verify', async () => {
    const newKey = new LocalSigner();
    const before = await world.credential();
    const after = await world.credential({ signer: newKey });
    expect((await verifierOf().verify(after)).reason).toBe('key_not_trusted');
    world.trust.issuers.set(world.issuer.id, {
      ...world.issuer,
      keys: [...world.issuer.keys, (await newKey.publicJwk()) as PublicJwk],
    });
    expect((await verifierOf().verify(before)).verdict).toBe('valid');
    expect((await verifierOf().verify(after)).verdict).toBe('valid');
  });

  it('a licence whose key left the trust list is unknown_issuer', async () => {
    const credential = await world.credential();
    world.trust.issuers.set(world.issuer.id, { ...world.issuer, keys: [] });
    expect(await verifierOf().verify(credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
  });
});

describe('forgeries', () => {
  it('alg none is refused without looking any further', async () => {
    const none = forgedJws(
      { alg: 'none', typ: 'licence+jwt', kid: await world.issuerSigner.kid() },
      world.credentialClaims(),
    );
    expect(await verifierOf().verify(`${none}AA`)).toMatchObject({
      verdict: 'invalid_signature',
      reason: 'alg_not_allowed',
    });
    expect((await verifierOf().verify(none)).verdict).toBe('malformed'); // an empty signature part
  });

  it('HS256 with the issuer’s public key as the secret is refused', async () => {
    const jwk = await world.issuerSigner.publicJwk();
    for (const secret of [
      JSON.stringify(jwk),
      world.issuerSigner.publicKeyObject.export({ type: 'spki', format: 'pem' }),
    ]) {
      const forged = forgedJws(
        { alg: 'HS256', typ: 'licence+jwt', kid: jwk.kid },
        world.credentialClaims(),
        Buffer.from(secret),
      );
      expect(await verifierOf().verify(forged)).toMatchObject({
        verdict: 'invalid_signature',
        reason: 'alg_not_allowed',
      });
    }
  });

  it('an ES256 token signed by an unknown key is refused, whatever kid it claims', async () => {
    const attacker = new LocalSigner();
    const ownKid = await world.credential({ signer: attacker });
    expect(await verifierOf().verify(ownKid)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
    // The attacker's signature under the issuer's kid: the header is signed, so splice by hand.
    const claimsKid = await world.credential({ header: { kid: await world.issuerSigner.kid() } });
    const [header, payload] = claimsKid.split('.');
    // Low-S, as the signer makes it: a high-S one would be refused before the key is tried.
    const signature = Buffer.from(await attacker.sign(Buffer.from(`${header}.${payload}`)));
    expect(
      await verifierOf().verify(`${header}.${payload}.${signature.toString('base64url')}`),
    ).toMatchObject({
      verdict: 'invalid_signature',
      reason: 'signature_mismatch',
    });
  });

  it('a token of another type signed by a trusted key is malformed', async () => {
    const statusList = await world.credential({ header: { typ: 'statuslist+jwt' } });
    expect(await verifierOf().verify(statusList)).toMatchObject({
      verdict: 'malformed',
      reason: 'unexpected_type',
    });
    const critical = await world.credential({ header: { crit: ['exp'] } });
    expect((await verifierOf().verify(critical)).verdict).toBe('malformed');
  });

  it('claims that are not a licence’s are malformed even when signed', async () => {
    const credential = await world.credential({ claims: { hol: 'someone' } });
    expect(await verifierOf().verify(credential)).toMatchObject({
      verdict: 'malformed',
      reason: 'invalid_claims',
    });
    expect(await verifierOf().verify('')).toMatchObject({ verdict: 'malformed', reason: 'not_a_credential' });
    expect(await verifierOf().verify(42)).toMatchObject({ verdict: 'malformed', reason: 'not_a_credential' });
    expect(await verifierOf().verify('x'.repeat(4097))).toMatchObject({
      verdict: 'malformed',
      reason: 'too_large',
    });
  });
});

describe('a presentation (EL1: CWT in COSE_Sign1, platform key)', () => {
  it.each(['node', 'web'] as const)('is valid within its lifetime (%s crypto)', async (crypto) => {
    const verifier = createVerifier({
      crypto: crypto === 'node' ? nodeEs256 : webCryptoEs256(),
      trust: world.trust,
      clock: world.clock,
    });
    const result = await verifier.verify(await world.presentation());
    expect(result).toMatchObject({
      verdict: 'valid',
      format: 'presentation',
      licence: {
        id: world.presentationClaims().licence.id,
        type: 'driving-licence',
        holder: { kind: 'person', name: '王小明', masked: '110105********1239' },
        fields: { vehicleClass: 'C1', firstIssuedOn: '2012-05-04' },
      },
      issuer: { id: world.issuer.id, creditCode: world.issuer.creditCode },
      presentation: {
        id: 'AAECAwQFBgcICQoL',
        issuedAt: new Date((NOW - 10) * 1000).toISOString(),
        expiresAt: new Date((NOW + 290) * 1000).toISOString(),
        statusAtPresentation: 'valid',
      },
      status: { source: 'presentation', status: 'valid' },
    });
  });

  it('carries the status it was made with; an online status source overrides it', async () => {
    const suspended = await world.presentation({}, { status: 'suspended' });
    const offline = createVerifier({ crypto: nodeEs256, trust: world.trust, clock: world.clock });
    expect((await offline.verify(suspended)).verdict).toBe('suspended');
    status.statuses.set(world.presentationClaims().licence.id, 'revoked');
    expect(await verifierOf().verify(await world.presentation())).toMatchObject({
      verdict: 'revoked',
      status: { source: 'online', status: 'revoked' },
      presentation: { statusAtPresentation: 'valid' },
    });
  });

  it('expires with its own exp, and with the licence’s', async () => {
    const presentation = await world.presentation();
    expect(await verifierOf({ now: NOW + 290 + 60 }).verify(presentation)).toMatchObject({
      verdict: 'expired',
      reason: 'presentation_expired',
    });
    expect((await verifierOf({ now: NOW + 290 + 59 }).verify(presentation)).verdict).toBe('valid');
    const lapsedLicence = await world.presentation({}, { validUntil: NOW - 3600 });
    expect(await verifierOf().verify(lapsedLicence)).toMatchObject({
      verdict: 'expired',
      reason: 'licence_expired',
    });
  });

  it('is not yet valid when made in the future beyond the skew', async () => {
    const early = await world.presentation({ issuedAt: NOW + 120, expiresAt: NOW + 420 });
    expect(await verifierOf().verify(early)).toMatchObject({
      verdict: 'not_yet_valid',
      reason: 'presentation_not_yet_valid',
    });
  });

  it('may live 30 s to 10 min only, even when the platform signed more', async () => {
    const long = await world.presentation({ issuedAt: NOW, expiresAt: NOW + 601 });
    expect(await verifierOf().verify(long)).toMatchObject({
      verdict: 'malformed',
      reason: 'presentation_lifetime',
    });
    const short = await world.presentation({ issuedAt: NOW, expiresAt: NOW + 29 });
    expect((await verifierOf().verify(short)).reason).toBe('presentation_lifetime');
  });

  it('signed by another key is unknown_issuer; under the platform’s key id, invalid_signature', async () => {
    const attacker = new LocalSigner();
    expect(await verifierOf().verify(await world.presentation({}, {}, attacker))).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
    const spoofed = Object.assign(Object.create(attacker) as LocalSigner, {
      kid: () => world.platformSigner.kid(),
      sign: (data: Uint8Array) => attacker.sign(data),
    });
    expect(await verifierOf().verify(await world.presentation({}, {}, spoofed))).toMatchObject({
      verdict: 'invalid_signature',
      reason: 'signature_mismatch',
    });
  });

  it('of a licence whose issuer is unknown or withdrawn is unknown_issuer', async () => {
    const presentation = await world.presentation();
    world.trust.issuers.set(world.issuer.id, { ...world.issuer, status: 'withdrawn' });
    expect((await verifierOf().verify(presentation)).reason).toBe('issuer_withdrawn');
    world.trust.issuers.clear();
    expect((await verifierOf().verify(presentation)).reason).toBe('issuer_not_trusted');
  });

  it('is read from a verification link, percent-encoded as verificationUrl writes it', async () => {
    const presentation = await world.presentation();
    const link = verificationUrl('https://elicence.test/verify', presentation);
    expect(link).not.toMatch(/\s/);
    expect((await verifierOf().verify(link)).verdict).toBe('valid');
  });
});

describe('credential conventions (API.md v2) and the older form', () => {
  const base = 'https://elicence.example.gov.cn';
  const v2 = (overrides: Record<string, unknown> = {}) =>
    world.credential({
      claims: {
        iss: `${base}/issuers/${world.issuer.id}`,
        vct: `${base}/licence-types/driving-licence`,
        ...overrides,
      },
    });

  it('reads iss as the issuer’s URL, and the older bare id alike', async () => {
    for (const credential of [await v2(), await world.credential()]) {
      status.queries.length = 0;
      expect(await verifierOf().verify(credential)).toMatchObject({
        verdict: 'valid',
        issuer: { id: world.issuer.id },
      });
      // The status source is asked by issuer id, whatever form iss took.
      expect(status.queries).toEqual([expect.objectContaining({ issuerId: world.issuer.id })]);
    }
  });

  it.each([
    ['another path', `${base}/clients/iss_TestIssuer0000000`],
    ['a query', `${base}/issuers/iss_TestIssuer0000000?x=1`],
    ['another scheme', 'urn:issuers/iss_TestIssuer0000000'],
    ['a trailing slash', `${base}/issuers/iss_TestIssuer0000000/`],
    ['too long', `${base}/${'a/'.repeat(300)}issuers/iss_TestIssuer0000000`],
  ])('refuses an iss URL with %s as malformed', async (_, iss) => {
    expect(await verifierOf().verify(await v2({ iss }))).toMatchObject({
      verdict: 'malformed',
      reason: 'invalid_claims',
    });
  });

  it('an issuer URL naming an unknown id is unknown_issuer', async () => {
    expect(await verifierOf().verify(await v2({ iss: `${base}/issuers/iss_Nobody` }))).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_not_trusted',
    });
  });

  it('an issuer the trust source names by URL is the one of that URL only (R23 H2)', async () => {
    const at = (host: string) => `https://${host}/issuers/${world.issuer.id}`;
    // One of the listing platform's own: its URL, or the bare id of the older credentials.
    world.trust.issuers.set(world.issuer.id, {
      ...world.issuer,
      issuerUrl: `${base}/issuers/${world.issuer.id}`,
    });
    expect((await verifierOf().verify(await v2())).verdict).toBe('valid');
    expect((await verifierOf().verify(await world.credential())).verdict).toBe('valid');
    expect(await verifierOf().verify(await v2({ iss: at('elicence.other.gov.cn') }))).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_url_mismatch',
    });
    // A peer platform's: its own platform's URL alone, never the bare id or another platform's URL.
    const peerUrl = at('elicence.zj.example.gov.cn');
    world.trust.issuers.set(world.issuer.id, { ...world.issuer, peer: 'peer_zj', issuerUrl: peerUrl });
    expect((await verifierOf().verify(await v2({ iss: peerUrl }))).verdict).toBe('valid');
    for (const iss of [
      world.issuer.id,
      at('elicence.js.example.gov.cn'),
      `${base}/issuers/${world.issuer.id}`,
    ]) {
      expect(await verifierOf().verify(await v2({ iss })), iss).toMatchObject({
        verdict: 'unknown_issuer',
        reason: 'issuer_url_mismatch',
      });
    }
    // A peer's issuer whose URL the trust source does not give: no credential of it (fail closed).
    world.trust.issuers.set(world.issuer.id, { ...world.issuer, peer: 'peer_zj' });
    expect(await verifierOf().verify(await v2({ iss: peerUrl }))).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_url_mismatch',
    });
  });

  it('a vct naming another type than lt is malformed (the grants are checked on lt)', async () => {
    const result = await verifierOf().verify(await v2({ vct: `${base}/licence-types/business-licence` }));
    expect(result).toMatchObject({ verdict: 'malformed', reason: 'invalid_claims' });
  });

  it('finds the platform key by the short kid the JWKS publishes, and by the full thumbprint alone', async () => {
    const full = (await world.platformSigner.publicJwk()) as PublicJwk;
    const short = { ...full, kid: presentationJwksKid(full.kid!) };
    expect(short.kid).toHaveLength(11);
    for (const keys of [[full], [short], [full, short], [short, full]]) {
      world.trust.platform = keys;
      expect(await verifierOf().verify(await world.presentation())).toMatchObject({ verdict: 'valid' });
    }
    // A key listed under the presentation's short kid that is another key does not verify it.
    const other = (await new LocalSigner().publicJwk()) as PublicJwk;
    world.trust.platform = [{ ...other, kid: short.kid }];
    expect(await verifierOf().verify(await world.presentation())).toMatchObject({
      verdict: 'invalid_signature',
    });
  });
});

describe('presentations against the trust list’s presentation keys (review R7 M1)', () => {
  const jwkOf = async (signer: LocalSigner) => (await signer.publicJwk()) as PublicJwk;

  it('accepts a presentation signed by a presentation key, and refuses one signed by a platform key', async () => {
    const presentationSigner = new LocalSigner();
    world.trust.presentation = [await jwkOf(presentationSigner)];
    const byPresentationKey = await world.presentation({}, {}, presentationSigner);
    for (const crypto of ['node', 'web'] as const) {
      expect(await verifierOf({ crypto }).verify(byPresentationKey)).toMatchObject({ verdict: 'valid' });
    }
    // Whoever holds the ID-token key (the platform key, in trust.platform) cannot make a presentation.
    expect(await verifierOf().verify(await world.presentation())).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
    // Nor under the presentation key's id.
    const spoofed = Object.assign(Object.create(world.platformSigner) as LocalSigner, {
      kid: () => presentationSigner.kid(),
      sign: (data: Uint8Array) => world.platformSigner.sign(data),
    });
    expect(await verifierOf().verify(await world.presentation({}, {}, spoofed))).toMatchObject({
      verdict: 'invalid_signature',
    });
  });

  it('keeps a retiring generation while the list names it, and refuses it once dropped', async () => {
    const retiring = new LocalSigner();
    const current = new LocalSigner();
    const shownBefore = await world.presentation({}, {}, retiring);
    world.trust.presentation = [await jwkOf(current), await jwkOf(retiring)];
    expect(await verifierOf().verify(shownBefore)).toMatchObject({ verdict: 'valid' });
    expect(await verifierOf().verify(await world.presentation({}, {}, current))).toMatchObject({
      verdict: 'valid',
    });
    world.trust.presentation = [await jwkOf(current)];
    expect(await verifierOf().verify(shownBefore)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
  });

  it('falls back on the platform keys only for a trust source that names no presentation keys', async () => {
    world.trust.presentation = undefined;
    expect(await verifierOf().verify(await world.presentation())).toMatchObject({ verdict: 'valid' });
    // An empty set names keys: none.
    world.trust.presentation = [];
    expect(await verifierOf().verify(await world.presentation())).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
  });

  it('answers as well when the trust source gives the keys asynchronously', async () => {
    const presentationSigner = new LocalSigner();
    const keys = [await jwkOf(presentationSigner)];
    const trust = Object.assign(Object.create(world.trust) as typeof world.trust, {
      presentationKeys: () => Promise.resolve(keys),
    });
    const verifier = createVerifier({ crypto: nodeEs256, trust, status, clock: () => NOW * 1000 });
    expect(await verifier.verify(await world.presentation({}, {}, presentationSigner))).toMatchObject({
      verdict: 'valid',
    });
    expect(await verifier.verify(await world.presentation())).toMatchObject({ reason: 'key_not_trusted' });
  });
});
