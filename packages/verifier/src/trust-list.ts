/**
 * The trust list's format: the claims of the platform-signed `trust-list+jwt` that names every issuer, its
 * status, its public keys, the licence types it may issue and how many status lists it has. Verifiers read
 * it with {@link trustListPayload}; the service builds it in `shared/licence/trust-list.ts`.
 *
 * @packageDocumentation
 */
import { issuerIdOf, maxIssuerUrlLength } from './claims.js';
import { guard, isInteger, isObject, isString, readArray } from './guard.js';

/** The JOSE `typ` of the trust list. */
export const trustListTokenType = 'trust-list+jwt';

/** An issuer's public key as the trust list carries it: ES256 on P-256, public members only. */
export interface TrustListKey {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg?: 'ES256';
  use?: 'sig';
}

/** One issuer as the trust list names it: who it is, whether it may still issue, and its public keys. */
export interface TrustListIssuer {
  id: string;
  name: string;
  creditCode: string;
  region: string;
  status: 'active' | 'withdrawn';
  jwks: { keys: TrustListKey[] };
  /**
   * The licence types it may issue, each with the three-digit type code its licence ids carry
   * (`1.2.156.3005.2.<typeCode>.<creditCode>.…`): an offline verifier refuses a credential of any other
   * type, or whose id names another type code or another credit code than the signer's. Absent from lists
   * signed before it was published: a verifier then accepts no licence of that issuer (fail closed).
   */
  licenceTypes?: { code: string; typeCode: string }[];
  /**
   * How many status lists an active issuer has (`<id>.0` to `<id>.<n-1>`), so that a verifier fetches
   * exactly those. Absent from lists signed before it was published: then a verifier probes to a 404.
   */
  statusLists?: number;
  /**
   * Set on an issuer of a peer platform (跨地区互认): the id the listing platform gave that peer. Its
   * licences verify like any other; a platform merging this list never takes such an entry (trust is not
   * transitive).
   */
  peer?: string;
  /** With `peer`: when the listing platform last fetched the peer's trust list (RFC 3339). */
  peerFetchedAt?: string;
  /**
   * Where the issuer's status lists are published (`<statusBase>/status-lists/<id>.<n>`), when not at
   * the listing platform: a peer's issuer's lists stay at the peer.
   */
  statusBase?: string;
  /**
   * The `iss` its credentials carry (`<platform base URL>/issuers/<id>`), set on a peer platform's issuer
   * (since 0.4.0): a verifier accepts a credential of that issuer only if its `iss` is exactly this URL,
   * so a credential naming one platform's issuer cannot pass for another's. Absent on the listing
   * platform's own issuers, whose URL is under the list's `iss` (`<iss>/issuers/<id>`); a peer's issuer
   * without it (a list signed before) is refused: which platform it belongs to cannot be checked.
   */
  issuerUrl?: string;
  /**
   * Batch keys (存量证照电子化, docs/batch-issuance.md): short-lived keys a batch import signs credentials
   * with, each certified by one of this issuer's own keys (`certificate`, a `batch-key+jwt` over `{ iss,
   * kid, jwk, nbf, exp }`). A verifier trusts one only for credentials whose `iat` lies in `[nbf, exp]`,
   * and only once the certificate verifies with a key of `jwks` and says the same kid, key and window.
   */
  batchKeys?: TrustListBatchKey[];
}

/** A batch key as the trust list carries it: its public key, its signing window, its certificate. */
export interface TrustListBatchKey {
  kid: string;
  jwk: TrustListKey;
  /** The window (seconds) the `iat` of every credential it signed lies in. */
  nbf: number;
  exp: number;
  /** Compact JWS (`typ: batch-key+jwt`) by one of the issuer's keys over `{ iss, kid, jwk, nbf, exp }`. */
  certificate: string;
}

/** The JOSE `typ` of a batch key's certificate. */
export const batchKeyCertificateType = 'batch-key+jwt';

/** The trust list's claims. */
export interface TrustListPayload {
  iss: string;
  iat: number;
  exp: number;
  ttl: number;
  issuers: TrustListIssuer[];
  /**
   * The keys the platform signs presentations (亮证) with: the current one, then any being retired while a
   * rotation is under way, each under its RFC 7638 thumbprint `kid` (a presentation's COSE `kid` is its
   * first 8 bytes). Only these verify a presentation once a list names them; never published in
   * `/.well-known/jwks.json`, whose keys relying parties accept for ID tokens. Absent from lists signed
   * before they were published.
   */
  presentationKeys?: { keys: TrustListKey[] };
}

/** A P-256 coordinate: 32 bytes in unpadded base64url. */
const coordinate = /^[A-Za-z0-9_-]{43}$/;
const typeCodePattern = /^\d{3}$/;

function readKey(value: unknown): TrustListKey | undefined {
  if (!isObject(value)) return undefined;
  const { kty, crv, x, y, kid, alg, use } = value;
  if (
    kty !== 'EC' ||
    crv !== 'P-256' ||
    typeof x !== 'string' ||
    !coordinate.test(x) ||
    typeof y !== 'string' ||
    !coordinate.test(y) ||
    !isString(kid, 1) ||
    (alg !== undefined && alg !== 'ES256') ||
    (use !== undefined && use !== 'sig')
  ) {
    return undefined;
  }
  return {
    kty,
    crv,
    x,
    y,
    kid,
    ...(alg !== undefined && { alg }),
    ...(use !== undefined && { use }),
  };
}

function readLicenceType(value: unknown): { code: string; typeCode: string } | undefined {
  if (!isObject(value)) return undefined;
  const { code, typeCode } = value;
  return isString(code, 1, 64) && typeof typeCode === 'string' && typeCodePattern.test(typeCode)
    ? { code, typeCode }
    : undefined;
}

/** A certificate is one compact JWS; bounded so a hostile list cannot make a verifier parse megabytes. */
const certificatePattern = /^[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{86}$/;

function readBatchKey(value: unknown): TrustListBatchKey | undefined {
  if (!isObject(value)) return undefined;
  const { kid, jwk, nbf, exp, certificate } = value;
  const key = readKey(jwk);
  if (
    !isString(kid, 1, 128) ||
    key === undefined ||
    key.kid !== kid ||
    !isInteger(nbf, 0) ||
    !isInteger(exp, 0) ||
    exp < nbf ||
    typeof certificate !== 'string' ||
    !certificatePattern.test(certificate)
  ) {
    return undefined;
  }
  return { kid, jwk: key, nbf, exp, certificate };
}

function readIssuer(value: unknown): TrustListIssuer | undefined {
  if (!isObject(value)) return undefined;
  const {
    id,
    name,
    creditCode,
    region,
    status,
    jwks,
    licenceTypes,
    statusLists,
    peer,
    peerFetchedAt,
    batchKeys,
  } = value;
  const statusBase = readStatusBase(value.statusBase);
  const issuerUrl = readIssuerUrl(value.issuerUrl, id);
  if (
    !isString(id, 1) ||
    !isString(name) ||
    !isString(creditCode) ||
    !isString(region) ||
    (status !== 'active' && status !== 'withdrawn') ||
    !isObject(jwks) ||
    (statusLists !== undefined && !isInteger(statusLists, 0, 10_000)) ||
    (peer !== undefined && !isString(peer, 1, 100)) ||
    (peerFetchedAt !== undefined && !isString(peerFetchedAt, 1, 40)) ||
    statusBase === null ||
    issuerUrl === null
  ) {
    return undefined;
  }
  const keys = readArray(jwks.keys, readKey, 1);
  const types = licenceTypes === undefined ? undefined : readArray(licenceTypes, readLicenceType, 0, 200);
  const batch = batchKeys === undefined ? undefined : readArray(batchKeys, readBatchKey, 0, 100_000);
  if (
    keys === undefined ||
    (licenceTypes !== undefined && types === undefined) ||
    (batchKeys !== undefined && batch === undefined)
  ) {
    return undefined;
  }
  return {
    id,
    name,
    creditCode,
    region,
    status,
    jwks: { keys },
    ...(types !== undefined && { licenceTypes: types }),
    ...(statusLists !== undefined && { statusLists }),
    ...(peer !== undefined && { peer }),
    ...(peerFetchedAt !== undefined && { peerFetchedAt }),
    ...(statusBase !== undefined && { statusBase }),
    ...(issuerUrl !== undefined && { issuerUrl }),
    ...(batch !== undefined && { batchKeys: batch }),
  };
}

/**
 * An entry's `statusBase`: an absolute https URL (http only to this machine), without query or
 * fragment, trailing slashes removed; `undefined` when absent, `null` when present but not one.
 */
function readStatusBase(value: unknown): string | undefined | null {
  if (value === undefined) return undefined;
  if (!isString(value, 1, 300)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) return null;
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return null;
  return value.replace(/\/+$/, '');
}

/**
 * An entry's `issuerUrl`: an absolute https URL (http only to this machine) naming the entry's own id
 * (`…/issuers/<id>`), without query or fragment; `undefined` when absent, `null` when present but not one.
 */
function readIssuerUrl(value: unknown, id: unknown): string | undefined | null {
  if (value === undefined) return undefined;
  if (!isString(value, 1, maxIssuerUrlLength) || typeof id !== 'string' || issuerIdOf(value) !== id)
    return null;
  return readStatusBase(value) === value ? value : null;
}

/**
 * The trust list's claims, for verifiers to check after the signature (`typ: 'trust-list+jwt'`, ES256,
 * a platform key): any key but ES256 on P-256 is refused, and only the public members of a key are kept.
 * `parse` throws {@link FormatError} `invalid_claims`; `safeParse` answers `{ success, data | error }`.
 *
 * @example
 * ```ts
 * const { payload } = await jwtVerify(token, platformJwks, { typ: 'trust-list+jwt', algorithms: ['ES256'] });
 * const trustList = trustListPayload.parse(payload);
 * ```
 */
export const trustListPayload = guard('the claims of a trust list', (value): TrustListPayload | undefined => {
  if (!isObject(value)) return undefined;
  const { iss, iat, exp, ttl } = value;
  if (!isString(iss) || !isInteger(iat) || !isInteger(exp) || !isInteger(ttl, 1)) return undefined;
  const issuers = readArray(value.issuers, readIssuer);
  if (value.presentationKeys === undefined) return issuers && { iss, iat, exp, ttl, issuers };
  // Named but unreadable fails the whole list: never a quiet fall back to the platform keys.
  const named = value.presentationKeys;
  const keys = isObject(named) ? readArray(named.keys, readKey, 1, 16) : undefined;
  return issuers && keys && { iss, iat, exp, ttl, issuers, presentationKeys: { keys } };
});
