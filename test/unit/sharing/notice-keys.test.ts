import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../shared/errors.js';
import { noticeKeySet } from '../../../shared/sharing/notice-keys.js';

/** A signer's public half, as KmsSigner answers it: the RFC 7638 thumbprint as kid, ES256, use sig. */
async function publicJwk(): Promise<JWK> {
  const { publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'ES256', use: 'sig' };
}
const signer = (jwk: JWK) => ({ publicJwk: async () => jwk });
const unreadable = { keyId: 'alias/gone', publicJwk: () => Promise.reject(new Error('KMS unreachable')) };

describe('the notices JWKS (review R31 L1)', () => {
  it('names the signing notice key first, then those being retired, once each', async () => {
    const [current, previous] = [await publicJwk(), await publicJwk()];
    const { set, complete } = await noticeKeySet({
      noticeSigner: signer(current),
      noticePreviousSigners: [signer(previous), signer(current)],
    });
    expect(set.keys.map((key) => key.kid)).toEqual([current.kid, previous.kid]);
    expect(set.keys[0]).toEqual(current);
    expect(complete).toBe(true);
  });

  it('leaves out a retiring key it cannot read, and says the set is incomplete (not cached)', async () => {
    const current = await publicJwk();
    const { set, complete } = await noticeKeySet({
      noticeSigner: signer(current),
      noticePreviousSigners: [unreadable],
    });
    expect(set.keys).toEqual([current]);
    expect(complete).toBe(false);
  });

  it('answers no set without the signing key: temporarily unavailable', async () => {
    await expect(noticeKeySet({ noticeSigner: unreadable, noticePreviousSigners: [] })).rejects.toMatchObject(
      { code: 'temporarily_unavailable' },
    );
    await expect(
      noticeKeySet({ noticeSigner: unreadable, noticePreviousSigners: [] }),
    ).rejects.toBeInstanceOf(UnavailableError);
  });
});
