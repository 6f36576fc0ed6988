import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { lowS } from '../../shared/crypto/der.js';
import type { Signer } from '../../shared/crypto/signer.js';

/** A {@link Signer} over an in-memory P-256 key: real ES256 signatures, for tests that need no KMS. */
export class LocalSigner implements Signer {
  readonly alg = 'ES256';
  readonly privateKey: KeyObject;
  readonly publicKeyObject: KeyObject;

  constructor() {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKeyObject = pair.publicKey;
  }

  async publicJwk(): Promise<JWK> {
    const { kty, crv, x, y } = this.publicKeyObject.export({ format: 'jwk' });
    const jwk = { kty, crv, x, y } as JWK;
    return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'ES256', use: 'sig' };
  }

  async kid(): Promise<string> {
    return (await this.publicJwk()).kid as string;
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    // Low-S, as `KmsSigner` signs: the verifier refuses the other half.
    return lowS(sign('sha256', data, { key: this.privateKey, dsaEncoding: 'ieee-p1363' }));
  }
}
