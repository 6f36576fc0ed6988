/*
 * DPoP (RFC 9449) at our API's edge: what every part agrees on (the algorithms, the window) and the port
 * that remembers proofs. The proof's own checks are in `./dpop-proof.ts`, loaded only by a request that
 * uses the DPoP scheme, so that a Bearer request's cold start does not read jose for it.
 */

/**
 * The JWS algorithms a DPoP proof may be signed with: asymmetric only (RFC 9449 §4.2). The OpenID
 * provider is configured with this list (shared/sso/provider.ts), so that discovery's
 * `dpop_signing_alg_values_supported`, the token endpoint, userinfo and our API all accept the same.
 */
export const dpopSigningAlgs = ['ES256', 'Ed25519', 'EdDSA'] as const;

/**
 * How far a proof's `iat` may be from the API's clock, either way, in seconds. The service issues no
 * DPoP nonces, so `iat` is the only freshness a proof has: a minute keeps a stolen proof's use short and
 * the replay marks few, and a platform's clock kept by NTP is well within it.
 */
export const dpopProofWindowSeconds = 60;

/**
 * Remembers the DPoP proofs our API accepted, so that each is accepted once (RFC 9449 §11.1): a proof
 * copied from a request (a log, a proxy) cannot be sent again within its window.
 */
export interface DpopProofLedger {
  /**
   * Marks the proof `proofId` used until `expiresAt` (epoch seconds): true when this call marked it;
   * false when it was marked already and that mark is still live at `nowSeconds`. One conditional write,
   * so that of two requests sending the same proof at once only one is accepted.
   *
   * @example
   * ```ts
   * if (!(await ledger.markUsed(proofId, iat + dpopProofWindowSeconds + 1, now))) throw replayed();
   * ```
   */
  markUsed(proofId: string, expiresAt: number, nowSeconds: number): Promise<boolean>;
}
