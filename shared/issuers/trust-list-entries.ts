/**
 * The entries of the trust list for our own issuers, built from the issuer store: what each names (its
 * keys, licence types, status-list count, batch keys). In the issuers' area rather than the licences', so
 * that registering a peer can weigh our list with the peer's in it (`peers.ts`); the list itself is
 * signed in `shared/licence/trust-list-token.ts`.
 *
 * @packageDocumentation
 */
import type { JWK } from 'jose';
import type { TrustListIssuer } from '../../packages/verifier/src/trust-list.js';
import type { IssuerListing } from './issuer.js';
import { publishedBatchKeys } from './credential-key.js';
import { publishedKeys } from './issuer-keys.js';

/** The public members of an issuer key, in a fixed order whatever order the store returned them in. */
function publicMembers(jwk: JWK): TrustListIssuer['jwks']['keys'][number] {
  return {
    kty: 'EC',
    crv: 'P-256',
    x: String(jwk.x),
    y: String(jwk.y),
    kid: String(jwk.kid),
    alg: 'ES256',
    use: 'sig',
  };
}

/**
 * The issuers a trust list names, sorted by id: every issuer that finished onboarding, the withdrawn ones
 * included (verdicts on what they issued must still be explainable), never one still `provisioning` or
 * without a key. Each with every key whose licences may still be valid: its current key and those
 * rotated out, not those withdrawn (`issuers/issuer-keys.ts`). Only public key members are copied. An
 * active issuer whose count is in `statusListCounts` also says how many status lists it has. Each says
 * the licence types it may issue with their type codes, from `typeCodeOf` (the catalogue, given by the
 * caller); a type without a code is left out, so a verifier refuses its licences rather than guess. Its
 * batch keys are those that can still verify something (`publishedBatchKeys`): none of a withdrawn
 * issuer, none certified by a withdrawn key.
 *
 * @example
 * ```ts
 * const entries = trustListIssuers(await issuers.listAll(), counts, (code) => findLicenceType(code)?.typeCode);
 * ```
 */
export function trustListIssuers(
  issuers: readonly IssuerListing[],
  statusListCounts: ReadonlyMap<string, number> = new Map(),
  typeCodeOf: (code: string) => string | undefined = () => undefined,
): TrustListIssuer[] {
  return issuers
    .filter(
      (issuer): issuer is IssuerListing & { status: 'active' | 'withdrawn'; publicJwk: JWK } =>
        issuer.status !== 'provisioning' && issuer.publicJwk !== undefined,
    )
    .map((issuer) => {
      const statusLists = issuer.status === 'active' ? statusListCounts.get(issuer.id) : undefined;
      // Only those that can still verify something (R36 M1): not a withdrawn issuer's, nor those whose
      // certifying key was withdrawn.
      const batchKeys = publishedBatchKeys(issuer);
      return {
        id: issuer.id,
        name: issuer.name,
        creditCode: issuer.creditCode,
        region: issuer.region,
        status: issuer.status,
        jwks: { keys: publishedKeys(issuer).map(publicMembers) },
        licenceTypes: issuer.licenceTypes.flatMap((code) => {
          const typeCode = typeCodeOf(code);
          return typeCode === undefined ? [] : [{ code, typeCode }];
        }),
        ...(statusLists !== undefined && { statusLists }),
        // Certified batch keys (docs/batch-issuance.md), public halves only.
        ...(batchKeys.length > 0 && {
          batchKeys: batchKeys.map((key) => ({
            kid: key.kid,
            jwk: publicMembers(key.publicJwk),
            nbf: key.nbf,
            exp: key.exp,
            certificate: key.certificate,
          })),
        }),
      };
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
