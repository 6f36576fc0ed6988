/**
 * The verifier's ports on the service's own stores, for `POST /verify`: issuers and their published keys
 * from the issuer records (the same data the trust list is signed from, read live), the platform key
 * from KMS (cached per container by `KmsSigner`), and statuses from the licence records themselves, so
 * that a revocation counts the moment it is written.
 *
 * @packageDocumentation
 */
import type { Signer } from '../crypto/signer.js';
import type { Issuer } from '../issuers/issuer.js';
import { publishedKeys } from '../issuers/issuer-keys.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { findLicenceType } from '../licence/catalogue.js';
import type { LicenceStore } from '../licence/licence-store.js';
import type { PublicJwk } from '../../packages/verifier/src/crypto.js';
import type { StatusSource, TrustAnchors, TrustedIssuer } from '../../packages/verifier/src/trust.js';

/** An issuer as the trust list would name it, or nothing while it is still being onboarded. */
export function trustedIssuer(issuer: Issuer | undefined): TrustedIssuer | undefined {
  if (!issuer || issuer.status === 'provisioning') return undefined;
  return {
    id: issuer.id,
    name: issuer.name,
    creditCode: issuer.creditCode,
    region: issuer.region,
    status: issuer.status,
    keys: publishedKeys(issuer) as PublicJwk[],
    // As the trust list says them: the types it may issue, with the type code their ids carry.
    licenceTypes: issuer.licenceTypes.flatMap((code) => {
      const typeCode = findLicenceType(code)?.typeCode;
      return typeCode === undefined ? [] : [{ code, typeCode }];
    }),
  };
}

/**
 * {@link TrustAnchors} read live from the issuer store and the platform signer. Each verification reads
 * the issuer's record itself, so a withdrawal or a key rotation counts at once; only the mapping from
 * issuer id to credit code is kept, since it never changes, which turns the index query plus read of
 * `findById` into the single consistent read of `findByCreditCode`.
 *
 * @example
 * ```ts
 * const verifier = createNodeVerifier({ trust: storeTrust(deps), status: recordStatus(deps.licences) });
 * ```
 */
export function storeTrust(deps: {
  issuers: Pick<IssuerStore, 'findById' | 'findByCreditCode'>;
  platformSigner: Pick<Signer, 'publicJwk'>;
  /** Platform keys of a rotation under way: presentations they signed stay verifiable. */
  platformPreviousSigners: ReadonlyArray<Pick<Signer, 'publicJwk'>>;
}): TrustAnchors {
  const creditCodes = new Map<string, string>();
  return {
    async issuerById(id) {
      const creditCode = creditCodes.get(id);
      if (creditCode !== undefined) {
        const issuer = await deps.issuers.findByCreditCode(creditCode);
        if (issuer?.id === id) return trustedIssuer(issuer);
      }
      const issuer = await deps.issuers.findById(id);
      if (issuer && issuer.status !== 'provisioning') {
        // Bounded, and filled only by issuers that exist: random ids in hostile scans add nothing.
        if (creditCodes.size >= 10_000) creditCodes.clear();
        creditCodes.set(id, issuer.creditCode);
      }
      return trustedIssuer(issuer);
    },
    issuerByCreditCode: async (creditCode) => trustedIssuer(await deps.issuers.findByCreditCode(creditCode)),
    platformKeys: async () =>
      (await Promise.all(
        [deps.platformSigner, ...deps.platformPreviousSigners].map((signer) => signer.publicJwk()),
      )) as PublicJwk[],
  };
}

/**
 * {@link StatusSource} from the licence record: its stored status now. A licence that is not ours (or not
 * of the issuer that signed it) has no answer, rather than a guess.
 *
 * @example
 * ```ts
 * const status = recordStatus(deps.licences);
 * ```
 */
export function recordStatus(licences: Pick<LicenceStore, 'get'>): StatusSource {
  return {
    async status(query) {
      const licence = await licences.get(query.licenceId);
      if (!licence || licence.issuerId !== query.issuerId) return undefined;
      return { status: licence.status, source: 'online' };
    },
  };
}
