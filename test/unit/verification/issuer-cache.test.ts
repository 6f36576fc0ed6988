import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { announceIssuerChange, IssuerCache } from '../../../shared/issuers/issuer-cache.js';
import type { Issuer } from '../../../shared/issuers/issuer.js';
import { issueLicence, issueLicenceInput } from '../../../shared/licence/issue-licence.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { verifyScan, type VerifyScanDependencies } from '../../../shared/verification/verify-scan.js';
import { licenceWorld, type LicenceWorld } from '../../support/licence-world.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';
import { LocalSigner } from '../../support/local-signer.js';

/**
 * Issue 16: a `/verify` container keeps issuer records for ISSUER_CACHE_SECONDS (30 s by default). A
 * withdrawal or key rotation made in another container (here: written to the store behind the cache's
 * back, announced to no one) counts within that time; one announced in this process counts at once.
 */
const lifetimeSeconds = 30;

describe('issuers kept per container (POST /verify)', () => {
  let world: LicenceWorld;
  let issuer: Awaited<ReturnType<LicenceWorld['addIssuer']>>;
  let licence: LicenceRecord;
  let deps: VerifyScanDependencies;
  let reads: number;

  const issue = async () =>
    (
      await issueLicence(
        issueLicenceInput.parse(drivingLicenceBody(newIdNumber())),
        { issuerId: issuer.id, clientId: 'cl_issuer', idempotencyKey: randomUUID() },
        world.issueDeps,
      )
    ).licence;
  const verify = (qr: string) => verifyScan(qr, undefined, {}, deps);
  /** Another container's change: saved to the store, no cache of this process told. */
  const changeElsewhere = async (change: (current: Issuer) => Issuer) => {
    const current = await world.issuers.findByCreditCode(issuer.creditCode);
    if (!current) throw new Error('no issuer');
    await world.issuers.save(change(current));
  };

  beforeEach(async () => {
    world = licenceWorld();
    issuer = await world.addIssuer();
    licence = await issue();
    reads = 0;
    const counted = {
      findById: (id: string) => ((reads += 1), world.issuers.findById(id)),
      findByCreditCode: (code: string) => ((reads += 1), world.issuers.findByCreditCode(code)),
    };
    // One object for the container's life: its verifier and issuer cache are kept with it.
    deps = { ...world.verifyDeps, issuers: counted, config: { issuerCacheSeconds: lifetimeSeconds } };
    expect((await verify(licence.credential)).verdict).toBe('valid');
  });

  it('reads the issuer once, then not again within the lifetime', async () => {
    const first = reads;
    expect(first).toBeGreaterThan(0);
    for (let i = 0; i < 3; i += 1) expect((await verify(licence.credential)).verdict).toBe('valid');
    expect(reads).toBe(first);
    world.clock.advanceSeconds(lifetimeSeconds);
    expect((await verify(licence.credential)).verdict).toBe('valid');
    expect(reads).toBeGreaterThan(first);
  });

  it('a withdrawal made elsewhere counts within the lifetime', async () => {
    await changeElsewhere((current) => ({ ...current, status: 'withdrawn' }));
    world.clock.advanceSeconds(lifetimeSeconds - 1);
    // Still the record read before: the documented window.
    expect((await verify(licence.credential)).verdict).toBe('valid');
    world.clock.advanceSeconds(1);
    expect(await verify(licence.credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_withdrawn',
    });
  });

  it('a key rotation made elsewhere counts within the lifetime: the new key trusted, a withdrawn one not', async () => {
    const signer = new LocalSigner();
    const publicJwk = await signer.publicJwk();
    world.signers.set('key-rotated', signer);
    const now = new Date(world.clock.now()).toISOString();
    await changeElsewhere((current) => ({
      ...current,
      keyId: 'key-rotated',
      kid: publicJwk.kid,
      publicJwk,
      keys: [
        // The old key withdrawn (a compromise): what it signed must stop verifying.
        {
          kid: current.kid!,
          keyId: current.keyId!,
          publicJwk: current.publicJwk!,
          createdAt: current.createdAt,
          retiredAt: now,
          withdrawnAt: now,
        },
        { kid: publicJwk.kid!, keyId: 'key-rotated', publicJwk, createdAt: now },
      ],
    }));
    const rotated = await issue();
    world.clock.advanceSeconds(lifetimeSeconds - 1);
    expect((await verify(rotated.credential)).reason).toBe('key_not_trusted');
    expect((await verify(licence.credential)).verdict).toBe('valid');
    world.clock.advanceSeconds(1);
    expect((await verify(rotated.credential)).verdict).toBe('valid');
    expect(await verify(licence.credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'key_not_trusted',
    });
  });

  it('a change announced in this process (the issuer store does, on every save) counts at once', async () => {
    await changeElsewhere((current) => ({ ...current, status: 'withdrawn' }));
    announceIssuerChange(issuer.creditCode);
    expect((await verify(licence.credential)).reason).toBe('issuer_withdrawn');
  });

  it('with a lifetime of 0, reads the issuer on every verification', async () => {
    deps = { ...deps, config: { issuerCacheSeconds: 0 } };
    await verify(licence.credential);
    const before = reads;
    await verify(licence.credential);
    expect(reads).toBeGreaterThan(before);
  });
});

describe('IssuerCache', () => {
  it('keeps what exists, for its lifetime, bounded; forgets on invalidation', () => {
    let now = 0;
    const cache = new IssuerCache(1000, { now: () => now }, 2);
    const issuer = (creditCode: string) => ({ creditCode, id: `iss_${creditCode}` }) as Issuer;
    expect(cache.put(undefined)).toBeUndefined();
    const a = cache.put(issuer('A'))!;
    expect(cache.get('A')).toBe(a);
    now = 999;
    expect(cache.get('A')).toBe(a);
    now = 1000;
    expect(cache.get('A')).toBeUndefined();
    cache.put(issuer('A'));
    cache.put(issuer('B'));
    cache.put(issuer('C')); // over the bound: starts again
    expect(cache.get('A')).toBeUndefined();
    expect(cache.get('C')).toBeDefined();
    cache.invalidate('C');
    expect(cache.get('C')).toBeUndefined();
    cache.put(issuer('D'));
    announceIssuerChange('D');
    expect(cache.get('D')).toBeUndefined();
  });
});

describe('the issuer cache and a read in flight across a change', () => {
  it('does not keep a record read before an invalidation of this process (it would undo the change)', () => {
    let now = 0;
    const cache = new IssuerCache(30_000, { now: () => now });
    const before = { creditCode: '11110000000013223T', id: 'iss_x', status: 'active' } as unknown as Issuer;
    const readSince = cache.epoch;
    // The withdrawal is written and announced while the read above is still on its way.
    announceIssuerChange('11110000000013223T');
    expect(cache.put(before, readSince)).toBe(before);
    expect(cache.get('11110000000013223T')).toBeUndefined();
    // A read that began after it is kept as usual.
    expect(cache.put(before, cache.epoch)).toBe(before);
    now += 1000;
    expect(cache.get('11110000000013223T')).toBe(before);
  });
});
