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
