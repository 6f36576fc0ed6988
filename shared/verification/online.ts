/**
 * The verifier's ports on the service's own stores, for `POST /verify`: issuers and their published keys
 * from the issuer records (the same data the trust list is signed from, kept per container for a short
 * lifetime), the presentation and platform keys from KMS (cached per container by `KmsSigner`), and statuses from the
 * licence records themselves, read once per verification, so that a revocation counts the moment it is
 * written.
 *
 * @packageDocumentation
 */
import { signingKeySet } from '../crypto/key-set.js';
import type { Signer } from '../crypto/signer.js';
import type { Issuer } from '../issuers/issuer.js';
import type { IssuerCache } from '../issuers/issuer-cache.js';
import { publishedBatchKeys } from '../issuers/credential-key.js';
import { publishedKeys } from '../issuers/issuer-keys.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { findLicenceType } from '../licence/catalogue.js';
import type { LicenceRecord } from '../licence/licence.js';
import type { LicenceStore } from '../licence/licence-store.js';
import { issuerUrlOf } from '../../packages/verifier/src/claims.js';
import type { PublicJwk } from '../../packages/verifier/src/crypto.js';
import type { StatusSource, TrustAnchors, TrustedIssuer } from '../../packages/verifier/src/trust.js';

/**
 * An issuer as the trust list would name it, or nothing while it is still being onboarded. Given our base
 * URL, with the `iss` its credentials carry (`<baseUrl>/issuers/<id>`), which a credential must then
 * name (or the bare id of the older ones).
 */
export function trustedIssuer(issuer: Issuer | undefined, baseUrl?: string): TrustedIssuer | undefined {
  if (!issuer || issuer.status === 'provisioning') return undefined;
  return {
    id: issuer.id,
    ...(baseUrl !== undefined && { issuerUrl: issuerUrlOf(baseUrl, issuer.id) }),
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
    // Certified batch keys (docs/batch-issuance.md): the verifier checks each certificate itself.
    // Those the trust list publishes (`publishedBatchKeys`), so that online and offline verdicts agree.
    ...(issuer.batchKeys !== undefined && {
      batchKeys: publishedBatchKeys(issuer).map((key) => ({
        kid: key.kid,
        jwk: key.publicJwk as PublicJwk,
        nbf: key.nbf,
        exp: key.exp,
        certificate: key.certificate,
      })),
    }),
  };
}

/**
 * {@link TrustAnchors} from the issuer store and the platform and presentation signers. Issuer records are kept in `cache`
 * (per container, for its lifetime; see `shared/issuers/issuer-cache.ts`), so that a verification reads
 * none in the common case: a withdrawal or key rotation counts at once in this process and within the
 * cache's lifetime elsewhere. Without a cache, each verification reads the record. The mapping from
 * issuer id to credit code is kept too, since it never changes, which turns the index query plus read of
 * `findById` into the single consistent read of `findByCreditCode`. A hit answers synchronously, so that
 * a verification issues its licence read in the same tick as the caller's token read (one batch).
 *
 * @example
 * ```ts
 * const trust = storeTrust({ ...deps, cache: new IssuerCache(30_000, systemClock) });
 * ```
 */
export function storeTrust(deps: {
  issuers: Pick<IssuerStore, 'findById' | 'findByCreditCode'>;
  platformSigner: Pick<Signer, 'publicJwk'>;
  /** Platform keys of a rotation under way: printable licences they signed stay verifiable. */
  platformPreviousSigners: ReadonlyArray<Pick<Signer, 'publicJwk'>>;
  /**
   * The presentation key and those of a rotation under way: the only keys a presentation is accepted
   * from, as the trust list names them (never the platform keys, which sign ID tokens).
   */
  presentationSigner: Pick<Signer, 'publicJwk'>;
  presentationPreviousSigners: ReadonlyArray<Pick<Signer, 'publicJwk'>>;
  cache?: IssuerCache;
  /** Our base URL (`ISSUER_URL`): a credential of ours must name it in `iss` (or be of the older, bare form). */
  issuerUrl?: string;
}): TrustAnchors {
  const creditCodes = new Map<string, string>();
  const cache = deps.cache;
  /** The trust list's view, built once per issuer record read (the cache hands out the same record). */
  const views = new WeakMap<Issuer, TrustedIssuer>();
  const view = (issuer: Issuer | undefined): TrustedIssuer | undefined => {
    if (!issuer) return undefined;
    let trusted = views.get(issuer);
    if (!trusted) {
      trusted = trustedIssuer(issuer, deps.issuerUrl);
      if (!trusted) return undefined;
      views.set(issuer, trusted);
    }
    return trusted;
  };
  const byCreditCode = async (creditCode: string) => {
    const readSince = cache?.epoch;
    const issuer = await deps.issuers.findByCreditCode(creditCode);
    return issuer && issuer.status !== 'provisioning' ? (cache?.put(issuer, readSince) ?? issuer) : issuer;
  };
  return {
    issuerById(id) {
      const creditCode = creditCodes.get(id);
      if (creditCode !== undefined) {
        const cached = cache?.get(creditCode);
        if (cached?.id === id) return view(cached);
      }
      return (async () => {
        if (creditCode !== undefined) {
          const issuer = await byCreditCode(creditCode);
          if (issuer?.id === id) return view(issuer);
        }
        const readSince = cache?.epoch;
        const issuer = await deps.issuers.findById(id);
        if (issuer && issuer.status !== 'provisioning') {
          // Bounded, and filled only by issuers that exist: random ids in hostile scans add nothing.
          if (creditCodes.size >= 10_000) creditCodes.clear();
          creditCodes.set(id, issuer.creditCode);
          cache?.put(issuer, readSince);
        }
        return view(issuer);
      })();
    },
    issuerByCreditCode(creditCode) {
      const cached = cache?.get(creditCode);
      if (cached) return view(cached);
      return byCreditCode(creditCode).then(view);
    },
    platformKeys: async () =>
      (await signingKeySet(deps.platformSigner, deps.platformPreviousSigners)).keys as PublicJwk[],
    presentationKeys: async () =>
      (await signingKeySet(deps.presentationSigner, deps.presentationPreviousSigners)).keys as PublicJwk[],
  };
}

/**
 * The licence record of one verification, read once: the {@link StatusSource} answers from it (its
 * stored status now, so a revocation counts the moment it is written), and the record check after the
 * verdict (`verify-scan.ts`) compares the token with the same record. A licence that is not ours (or not
 * of the issuer that signed it) has no status, rather than a guess. One per verification, never shared:
 * a record is never served to another verification.
 *
 * @example
 * ```ts
 * const record = licenceRecordOnce(deps.licences);
 * const result = await verifier.verify(qr, { status: record.status });
 * const licence = await record.read(result.licence.id);
 * ```
 */
export function licenceRecordOnce(licences: Pick<LicenceStore, 'get'>): {
  status: StatusSource;
  read(licenceId: string): Promise<LicenceRecord | undefined>;
} {
  let read: { licenceId: string; record: Promise<LicenceRecord | undefined> } | undefined;
  const record = (licenceId: string) => {
    if (read?.licenceId !== licenceId) read = { licenceId, record: licences.get(licenceId) };
    return read.record;
  };
  return {
    status: {
      async status(query) {
        const licence = await record(query.licenceId);
        if (!licence || licence.issuerId !== query.issuerId) return undefined;
        return { status: licence.status, source: 'online' };
      },
    },
    read: record,
  };
}
