import { beforeEach, describe, expect, it } from 'vitest';
import type { PublicJwk } from '../../../packages/verifier/src/crypto.js';
import { webCryptoEs256 } from '../../../packages/verifier/src/crypto.js';
import { nodeEs256 } from '../../../packages/verifier/src/node.js';
import type { BatchKey } from '../../../packages/verifier/src/trust.js';
import { batchKeyCertificateType, trustListPayload } from '../../../packages/verifier/src/trust-list.js';
import { createVerifier } from '../../../packages/verifier/src/verifier.js';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import { LocalSigner } from '../../support/local-signer.js';
import { createWorld, DAY, FakeStatus, NOW, type World } from '../../support/verifier-world.js';

/**
 * Batch keys (docs/batch-issuance.md): a credential signed by a batch key verifies only when the key is
 * listed for its issuer, its certificate verifies with one of the issuer's own keys and says this key and
 * this window, and the credential's `iat` lies in that window.
 */
let world: World;
let status: FakeStatus;
let batchSigner: LocalSigner;
const nbf = NOW - 40 * DAY;
const exp = nbf + 3600;
const iat = nbf + 600;

const verifierOf = (crypto: 'node' | 'web' = 'node') =>
  createVerifier({
    crypto: crypto === 'web' ? webCryptoEs256() : nodeEs256,
    trust: world.trust,
    status,
    clock: () => NOW * 1000,
  });

async function certificate(
  overrides: Record<string, unknown> = {},
  signer: LocalSigner = world.issuerSigner,
) {
  const jwk = await batchSigner.publicJwk();
  return signCompactJws(
    { typ: batchKeyCertificateType },
    {
      iss: `https://elicence.test/issuers/${world.issuer.id}`,
      kid: jwk.kid,
      jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: jwk.kid },
      nbf,
      exp,
      ...overrides,
    },
    signer,
  );
}

async function listBatchKey(entry: Partial<BatchKey> = {}) {
  const jwk = (await batchSigner.publicJwk()) as PublicJwk;
  const key: BatchKey = { kid: jwk.kid!, jwk, nbf, exp, certificate: await certificate(), ...entry };
  world.trust.issuers.set(world.issuer.id, { ...world.issuer, batchKeys: [key] });
  return key;
}

const batchCredential = (claims: Record<string, unknown> = {}) =>
  world.credential({ signer: batchSigner, claims: { iat, ...claims } });

beforeEach(async () => {
  world = await createWorld();
  status = new FakeStatus();
  status.statuses.set(world.credentialClaims().jti, 'valid');
  batchSigner = new LocalSigner();
});

describe('a credential signed by a certified batch key', () => {
  it.each(['node', 'web'] as const)('is valid, as a single credential is (%s crypto)', async (crypto) => {
    await listBatchKey();
    const result = await verifierOf(crypto).verify(await batchCredential());
    expect(result).toMatchObject({
      verdict: 'valid',
      reason: 'ok',
      licence: { id: world.credentialClaims().jti },
    });
    // And a single credential of the same issuer still verifies beside it.
    expect((await verifierOf(crypto).verify(await world.credential())).verdict).toBe('valid');
  });

  it('is valid at both ends of the window, and not one second outside it', async () => {
    await listBatchKey();
    const verifier = verifierOf();
    expect((await verifier.verify(await batchCredential({ iat: nbf }))).verdict).toBe('valid');
    expect((await verifier.verify(await batchCredential({ iat: exp }))).verdict).toBe('valid');
    for (const outside of [nbf - 1, exp + 1, NOW]) {
      expect(await verifier.verify(await batchCredential({ iat: outside }))).toMatchObject({
        verdict: 'unknown_issuer',
        reason: 'batch_key_window',
      });
    }
    expect(await verifier.verify(await batchCredential({ iat: 'soon' }))).toMatchObject({
      reason: 'batch_key_window',
    });
  });

  it('is refused when the batch key is not in the trust list (withdrawn, or never certified)', async () => {
    expect(await verifierOf().verify(await batchCredential())).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
    // Listed for another issuer only: not this one's.
    const other = { ...world.issuer, id: 'iss_OtherIssuer000000', creditCode: '91350100M000100Y43' };
    await listBatchKey();
    const listed = world.trust.issuers.get(world.issuer.id)!;
    world.trust.issuers.set(world.issuer.id, world.issuer);
    world.trust.issuers.set(other.id, { ...other, batchKeys: listed.batchKeys });
    expect(await verifierOf().verify(await batchCredential())).toMatchObject({ reason: 'key_not_trusted' });
  });

  it('is refused when its certificate is tampered with, or says another key, window or issuer', async () => {
    const good = await certificate();
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claims, exp: exp + 365 * DAY })).toString('base64url');
    const stranger = new LocalSigner();
    const cases: Array<[string, Partial<BatchKey>]> = [
      // The window widened in the certificate and in the entry: the signature no longer holds.
      [
        'widened window, old signature',
        { certificate: `${header}.${widened}.${signature}`, exp: exp + 365 * DAY },
      ],
      // The entry's window widened, the certificate left as signed.
      ['entry widened', { exp: exp + 365 * DAY }],
      ['signed by a key not the issuer’s', { certificate: await certificate({}, stranger) }],
      ['another key certified', { certificate: await certificate({ jwk: await stranger.publicJwk() }) }],
      ['another kid certified', { certificate: await certificate({ kid: 'someone-else' }) }],
      [
        'another issuer',
        { certificate: await certificate({ iss: 'https://elicence.test/issuers/iss_Other' }) },
      ],
      [
        'wrong typ',
        { certificate: await signCompactJws({ typ: 'licence+jwt' }, claims, world.issuerSigner) },
      ],
      ['not a JWS', { certificate: 'a.b.c' }],
    ];
    for (const [what, entry] of cases) {
      await listBatchKey(entry);
      const result = await verifierOf().verify(
        await batchCredential({ iat: Math.min(iat, (entry.exp ?? exp) - 1) }),
      );
      expect(result, what).toMatchObject({ verdict: 'unknown_issuer', reason: 'batch_key_not_certified' });
    }
  });

  it('is checked again by a verifier that accepted it before, when the list changes', async () => {
    const key = await listBatchKey();
    const verifier = verifierOf();
    expect((await verifier.verify(await batchCredential())).verdict).toBe('valid');
    // The same certificate in an entry whose window was widened (a new list object): refused.
    world.trust.issuers.set(world.issuer.id, {
      ...world.issuer,
      batchKeys: [{ ...key, exp: exp + 365 * DAY }],
    });
    expect(await verifier.verify(await batchCredential({ iat: exp + DAY }))).toMatchObject({
      reason: 'batch_key_not_certified',
    });
    // The same entry under an issuer whose certifying key was withdrawn: refused.
    world.trust.issuers.set(world.issuer.id, {
      ...world.issuer,
      keys: [(await new LocalSigner().publicJwk()) as PublicJwk],
      batchKeys: [key],
    });
    expect(await verifier.verify(await batchCredential())).toMatchObject({
      reason: 'batch_key_not_certified',
    });
  });

  it('is refused once the issuer key that certified it is withdrawn from the list', async () => {
    await listBatchKey();
    const listed = world.trust.issuers.get(world.issuer.id)!;
    world.trust.issuers.set(world.issuer.id, {
      ...listed,
      keys: [(await new LocalSigner().publicJwk()) as PublicJwk],
    });
    expect(await verifierOf().verify(await batchCredential())).toMatchObject({
      reason: 'batch_key_not_certified',
    });
  });

  it('is read from a trust list, bounded: a malformed batch key makes the issuer entry unreadable', async () => {
    const key = await listBatchKey();
    const entry = { ...world.issuer, jwks: { keys: world.issuer.keys }, batchKeys: [key] };
    const list = { iss: 'https://elicence.test', iat: NOW, exp: NOW + DAY, ttl: 3600, issuers: [entry] };
    expect(trustListPayload.parse(list).issuers[0]?.batchKeys?.[0]?.kid).toBe(key.kid);
    for (const bad of [
      { ...key, kid: 'not-the-jwk-kid' },
      { ...key, exp: nbf - 1 },
      { ...key, certificate: `${'a'.repeat(5000)}.b.c` },
      { ...key, jwk: { ...key.jwk, d: undefined, kty: 'RSA' } },
    ]) {
      expect(trustListPayload.safeParse({ ...list, issuers: [{ ...entry, batchKeys: [bad] }] }).success).toBe(
        false,
      );
    }
  });
});
