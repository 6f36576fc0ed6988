/**
 * The ports a verifier reads its trust and statuses through. An offline app gives it an
 * {@link OfflineTrustStore} (synced trust list and status lists); the service gives it its own stores
 * (`shared/verification/online.ts`). Either may answer synchronously.
 *
 * @packageDocumentation
 */
import type { PublicJwk } from './crypto.js';
import type { LicenceStatusValue } from './verdict.js';

type MaybePromise<T> = T | Promise<T>;

/** An issuer as the trust list names it. */
export interface TrustedIssuer {
  id: string;
  name: string;
  creditCode: string;
  region?: string;
  /** A withdrawn issuer stays listed so that verdicts on its licences can say who it was. */
  status: 'active' | 'withdrawn';
  /** Every key whose signatures may still be valid: the current one and those rotated out, not those withdrawn. */
  keys: readonly PublicJwk[];
  /**
   * The licence types it may issue, with the three-digit type code of their licence ids. A credential or
   * presentation of another type, or whose id (`1.2.156.3005.2.<typeCode>.<creditCode>.…`) names another
   * type code or another credit code than this issuer's, is not valid (`unknown_issuer`). Empty: it may
   * issue nothing (a trust list signed before it said so).
   */
  licenceTypes: readonly LicenceTypeGrant[];
  /** How many status lists it has, when the trust list says (`<id>.0` to `<id>.<n-1>`). */
  statusLists?: number;
  /** Where its status lists are published, when not at the service the trust list came from (a peer's). */
  statusBase?: string;
  /** Set for an issuer of a peer platform: the peer's id at the listing platform. */
  peer?: string;
  /**
   * The `iss` its credentials carry, `<its platform's base URL>/issuers/<id>` (since 0.4.0). When set, a
   * credential naming this issuer is accepted only with exactly this `iss` (or, for an issuer without
   * {@link peer}, the bare id of a credential issued before 2026-12); else it is `unknown_issuer`
   * (`issuer_url_mismatch`). An issuer with {@link peer} and no `issuerUrl` accepts no credential (fail
   * closed: which platform it belongs to cannot be checked); one without either is found by id alone, as
   * before 0.4.0.
   */
  issuerUrl?: string;
  /**
   * Its certified batch keys (docs/batch-issuance.md): each trusted only for credentials whose `iat` lies
   * in its window, and only once its certificate verifies with one of {@link keys}.
   */
  batchKeys?: readonly BatchKey[];
}

/** A batch key as a trust source hands it over: checked by the verifier, never trusted as given. */
export interface BatchKey {
  kid: string;
  jwk: PublicJwk;
  nbf: number;
  exp: number;
  certificate: string;
}

/** A licence type an issuer may issue: its code (`driving-licence`) and its id's type code (`003`). */
export interface LicenceTypeGrant {
  code: string;
  typeCode: string;
}

/**
 * How old the data behind an answer is, in milliseconds since the epoch. Age and staleness count from
 * `issuedAt`, the signed token's `iat`: a token fetched a moment ago may have been signed days ago (an old
 * copy replayed, a cache), and it says only what was true then.
 */
export interface Freshness {
  /** When the token was signed (its `iat`). */
  issuedAt: number;
  /** When this copy was fetched. */
  fetchedAt: number;
  /** Older than its `ttl`, counted from `issuedAt`. */
  stale: boolean;
  /**
   * Past its `exp`: it backs no verdict (a trust list's makes a verdict `unknown`, `trust_list_expired`,
   * unless bad news is known), save a status list's `revoked` (revocation is final: see
   * {@link StatusSource}). Absent or false otherwise.
   */
  expired?: boolean;
}

/** Who may sign: the issuers (licences, status lists) and the platform (presentations, trust list). */
export interface TrustAnchors {
  issuerById(id: string): MaybePromise<TrustedIssuer | undefined>;
  issuerByCreditCode(creditCode: string): MaybePromise<TrustedIssuer | undefined>;
  /** The platform's public keys, as `/.well-known/jwks.json` publishes them: they sign the trust list. */
  platformKeys(): MaybePromise<readonly PublicJwk[]>;
  /**
   * The keys presentations are signed with, as the trust list names them (`presentationKeys`): when
   * given, the only keys a presentation is accepted from. `undefined` (or absent) when the trust source
   * names none, a trust list signed before they were published: presentations are then checked against
   * {@link platformKeys}, as before.
   */
  presentationKeys?(): MaybePromise<readonly PublicJwk[] | undefined>;
  /** The age of the trust data (`expired` once past its `exp`); absent when it is read live. */
  freshness?(): Freshness | undefined;
}

/** Which licence's status is asked for, and where its credential says the status is listed. */
export interface StatusQuery {
  licenceId: string;
  issuerId: string;
  /**
   * A credential's `status.status_list` (an absolute URI), or the entry a presentation carries, as the
   * path `/status-lists/{listId}` on the service that signed it.
   */
  list?: { uri: string; idx: number };
}

export interface StatusAnswer {
  status: LicenceStatusValue;
  source: 'online' | 'status-list';
  /** For a status list: when it was signed and fetched, and whether it is older than its `ttl`. */
  freshness?: Freshness;
}

/**
 * Where statuses come from; `undefined` means "cannot say" (never a guess): a credential's verdict is
 * then `unknown` (`status_unknown`), never `valid`. An answer from a list past its `exp`
 * (`freshness.expired`) counts only when it says `revoked` (revocation is final); the verifier treats
 * its `valid` or `suspended` as no answer.
 */
export interface StatusSource {
  status(query: StatusQuery): MaybePromise<StatusAnswer | undefined>;
}
