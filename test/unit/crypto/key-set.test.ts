import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { readRetiring, signingKeySet, type PublishedKey } from '../../../shared/crypto/key-set.js';

/**
 * R49 F1, step 2 of a rotation: while its rollout runs, the version still serving lists the generation
 * just retired (disabled, its grant removed). A container of it starting then must still build its key
 * set (verify's trust, the trust list's presentation keys), the retired key left out; any other failure
 * to read a key still fails the whole.
 */
const key = (kid: string): PublishedKey => ({
  keyId: kid,
  publicJwk: async () => ({ kty: 'EC', kid }) as JWK,
});
const failing = (name: string): PublishedKey => ({
  keyId: 'arn:aws-cn:kms:cn-north-1:123456789012:key/retired',
  publicJwk: async () => {
    throw Object.assign(new Error(`${name}: the key`), { name });
  },
});

describe('signingKeySet over a generation retired meanwhile', () => {
  it('leaves out a retiring key KMS says is disabled or no longer granted', async () => {
    for (const name of ['DisabledException', 'AccessDeniedException', 'KMSInvalidStateException']) {
      const { keys } = await signingKeySet(key('k2'), [failing(name), key('k0')]);
      expect(
        keys.map((jwk) => jwk.kid),
        name,
      ).toEqual(['k2', 'k0']);
    }
  });

  it('still fails on any other failure, and on the signing key', async () => {
    await expect(signingKeySet(key('k2'), [failing('ThrottlingException')])).rejects.toThrow(/Throttling/);
    await expect(signingKeySet(failing('DisabledException'), [key('k1')])).rejects.toThrow(/Disabled/);
  });
});

describe('readRetiring, as the OpenID provider reads its previous keys at a container start', () => {
  it('leaves out a generation retired meanwhile, in order, and fails on any other failure', async () => {
    const read = (key: PublishedKey) => key.publicJwk().then((jwk) => jwk.kid);
    await expect(readRetiring([key('k1'), failing('DisabledException'), key('k0')], read)).resolves.toEqual([
      'k1',
      'k0',
    ]);
    await expect(readRetiring([key('k1'), failing('ThrottlingException')], read)).rejects.toThrow(
      /Throttling/,
    );
  });
});
