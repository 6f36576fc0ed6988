import type { JWK } from 'jose';
import type { Issuer, IssuerKey } from './issuer.js';

/** The members of an issuer its keys are read from (a listed issuer has them: `IssuerListing`). */
type KeyedIssuer = Pick<Issuer, 'keys' | 'keyId' | 'kid' | 'publicJwk' | 'createdAt'>;

/**
 * Every key an issuer has had, oldest first. An issuer that never rotated has no `keys` and only its
 * current key, made when it was onboarded.
 *
 * @example
 * ```ts
 * issuerKeyHistory(issuer).at(-1)?.kid === issuer.kid; // true: the last is the current key
 * ```
 */
export function issuerKeyHistory(issuer: KeyedIssuer): IssuerKey[] {
  if (issuer.keys && issuer.keys.length > 0) return issuer.keys;
  if (!issuer.keyId || !issuer.kid || !issuer.publicJwk) return [];
  return [{ kid: issuer.kid, keyId: issuer.keyId, publicJwk: issuer.publicJwk, createdAt: issuer.createdAt }];
}

/**
 * The public keys a trust list publishes for an issuer: the current one and every one rotated out, since
 * licences they signed may still be valid (a licence type may have no expiry), but none withdrawn.
 *
 * @example
 * ```ts
 * const jwks = { keys: publishedKeys(issuer) };
 * ```
 */
export function publishedKeys(issuer: KeyedIssuer): JWK[] {
  return issuerKeyHistory(issuer)
    .filter((key) => key.withdrawnAt === undefined)
    .map((key) => key.publicJwk);
}
