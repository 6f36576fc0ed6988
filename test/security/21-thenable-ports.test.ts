/**
 * Review R32 H1: the verifier decided whether to wait for a port's answer by `instanceof Promise`. Any
 * other thenable (a Dexie or Bluebird promise from an app's status store, a promise of another realm, or
 * every native promise once zone.js or bluebird replaced the global `Promise`) was taken for the answer
 * itself: a pending signature check is truthy (a signature by anyone "holds"), a pending status answer has
 * no `.status` (a revoked licence is `valid`). Now every thenable is waited for, only `true` is a signature
 * that holds, and only an answer of the documented shape is an answer.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Es256Verifier } from '../../packages/verifier/src/crypto.js';
import { nodeEs256 } from '../../packages/verifier/src/node.js';
import type { StatusQuery, StatusSource, TrustAnchors } from '../../packages/verifier/src/trust.js';
import { createVerifier } from '../../packages/verifier/src/verifier.js';
import { createWorld, FakeStatus, type World } from '../support/verifier-world.js';

let world: World;
let revoked: FakeStatus;
beforeEach(async () => {
  world = await createWorld();
  revoked = new FakeStatus();
  revoked.statuses.set(world.credentialClaims().jti, 'revoked');
});

/** A promise of another realm: what an iframe's or a `node:vm` context's code hands back. */
const otherRealm = <T>(value: T): PromiseLike<T> =>
  (vm.runInNewContext('(value) => Promise.resolve(value)') as (value: T) => PromiseLike<T>)(value);

/** A bare thenable, as Dexie's, Bluebird's or a jQuery Deferred's promise is to the verifier. */
const thenable = <T>(value: T): PromiseLike<T> =>
  ({
    then: (resolve: (value: T) => unknown) => thenable(resolve(value)),
  }) as PromiseLike<T>;

const wrappers = { 'another realm': otherRealm, 'a library (bare thenable)': thenable };

for (const [name, wrap] of Object.entries(wrappers))
  describe(`a port answering with a promise of ${name}`, () => {
    it('a revoked licence is revoked, not valid', async () => {
      const status: StatusSource = { status: (query: StatusQuery) => wrap(revoked.status(query)) as never };
      const verifier = createVerifier({ crypto: nodeEs256, trust: world.trust, status, clock: world.clock });
      expect(await verifier.verify(await world.credential())).toMatchObject({
        verdict: 'revoked',
        status: { source: 'online', status: 'revoked' },
      });
    });

    it('a signature check answering false is a mismatch, whatever the promise', async () => {
      const refusing: Es256Verifier<unknown> = {
        importKey: (jwk) => wrap(jwk) as never,
        verify: () => wrap(false) as never,
      };
      const status = new FakeStatus();
      status.statuses.set(world.credentialClaims().jti, 'valid');
      const verifier = createVerifier({ crypto: refusing, trust: world.trust, status, clock: world.clock });
      expect(await verifier.verify(await world.credential())).toMatchObject({
        verdict: 'invalid_signature',
        reason: 'signature_mismatch',
      });
    });

    it('trust answered later is waited for: an issuer, the presentation keys', async () => {
      const trust: TrustAnchors = {
        issuerById: (id) => wrap(world.trust.issuerById(id)) as never,
        issuerByCreditCode: (code) => wrap(world.trust.issuerByCreditCode(code)) as never,
        platformKeys: () => wrap(world.trust.platformKeys()) as never,
        presentationKeys: () => wrap(world.trust.platform) as never,
      };
      const status: StatusSource = { status: (query) => wrap(revoked.status(query)) as never };
      const verifier = createVerifier({ crypto: nodeEs256, trust, status, clock: world.clock });
      expect((await verifier.verify(await world.credential())).verdict).toBe('revoked');
      expect((await verifier.verify(await world.presentation())).verdict).toBe('revoked');
    });
  });

describe('what a port hands back that is not an answer', () => {
  it.each([
    ['an object without a status', { source: 'online' }],
    ['an unknown status', { status: 'active', source: 'online' }],
    ['an unknown source', { status: 'valid', source: 'cache' }],
    ['a freshness that is not one', { status: 'valid', source: 'status-list', freshness: 'now' }],
  ])('%s is no answer: the credential is unknown, never valid', async (_, answer) => {
    const status = { status: () => answer } as unknown as StatusSource;
    const verifier = createVerifier({ crypto: nodeEs256, trust: world.trust, status, clock: world.clock });
    expect(await verifier.verify(await world.credential())).toMatchObject({
      verdict: 'unknown',
      reason: 'status_unknown',
    });
  });

  it('a signature check answering anything but true does not hold', async () => {
    const truthy: Es256Verifier<unknown> = { importKey: (jwk) => jwk, verify: () => 1 as unknown as boolean };
    const status = new FakeStatus();
    status.statuses.set(world.credentialClaims().jti, 'valid');
    const verifier = createVerifier({ crypto: truthy, trust: world.trust, status, clock: world.clock });
    expect((await verifier.verify(await world.credential())).verdict).toBe('invalid_signature');
  });

  it('an issuer that is not one is not trusted', async () => {
    const trust = { ...world.trust, issuerById: () => ({ id: world.issuer.id, status: 'active' }) };
    const verifier = createVerifier({
      crypto: nodeEs256,
      trust: trust as unknown as TrustAnchors,
      status: new FakeStatus(),
      clock: world.clock,
    });
    expect(await verifier.verify(await world.credential())).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'issuer_not_trusted',
    });
  });
});

describe('the global Promise replaced (zone.js, bluebird as the global)', () => {
  it('a stranger’s signature is refused and a revoked licence is revoked, with either ES256', () => {
    const child = fileURLToPath(new URL('../support/children/replaced-promise.ts', import.meta.url));
    const output = execFileSync(process.execPath, ['--import', 'tsx', child], { encoding: 'utf8' });
    expect(JSON.parse(output)).toEqual({
      replaced: true,
      node: { forged: 'invalid_signature', revoked: 'revoked' },
      web: { forged: 'invalid_signature', revoked: 'revoked' },
    });
  });
});
