import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * Signs with a private key that never leaves its keystore (KMS in every environment).
 *
 * Contract: `sign` returns the JOSE form of an ES256 signature, the 64-byte `r‖s` of RFC 7518 §3.4,
 * over the SHA-256 digest of `data`, in low-S form (`lowS` in `./der.ts`: s ≤ n/2, the one form verifiers
 * accept); `publicJwk` carries `kid` (the RFC 7638 thumbprint), `alg: ES256`
 * and `use: sig`, and never a private member.
 */
export interface Signer {
  readonly alg: 'ES256';
  publicJwk(): Promise<JWK>;
  kid(): Promise<string>;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * A {@link Signer} that also gives its public key as a Node `KeyObject`: the form the OpenID provider
 * asks for, synchronously, of each of its signing keys (see `shared/sso/kms-signing-key.ts`).
 *
 * @example
 * ```ts
 * const key = await kmsSigningKey(platformSigner, await platformSigner.publicKey());
 * ```
 */
export interface KeyObjectSigner extends Signer {
  publicKey(): Promise<KeyObject>;
}

/**
 * A signer of RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RSA 2048) in a keystore the private key never
 * leaves: only for ID tokens of relying parties registered for RS256 (OpenID Connect's mandatory
 * algorithm). Licences, presentations and the trust list stay ES256 ({@link Signer}). `sign` returns the
 * 256-byte PKCS #1 v1.5 signature of `data`; `publicJwk` carries `kty: RSA`, `kid` (the RFC 7638
 * thumbprint), `alg: RS256` and `use: sig`.
 *
 * @example
 * ```ts
 * const key = await kmsSigningKey(rsaSigner, await rsaSigner.publicKey());
 * ```
 */
export interface RsaKeyObjectSigner {
  readonly alg: 'RS256';
  publicJwk(): Promise<JWK>;
  kid(): Promise<string>;
  sign(data: Uint8Array): Promise<Uint8Array>;
  publicKey(): Promise<KeyObject>;
}
