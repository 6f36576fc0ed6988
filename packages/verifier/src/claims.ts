/**
 * The claims of the JOSE tokens a verifier reads. Extra members are allowed and ignored; every member we
 * use is typed and bounded. (The trust list's are in `trust-list.ts`.)
 *
 * @packageDocumentation
 */
import { FormatError } from './errors.js';
import { guard, isInteger, isObject, isString } from './guard.js';

/** The JOSE `typ` of a licence credential (set by `shared/licence/issue-licence.ts`). */
export const licenceCredentialType = 'licence+jwt';
/** The JOSE `typ` of a Status List Token. */
export const statusListTokenType = 'statuslist+jwt';

/**
 * A licence credential's payload: `iss` (the issuer's URL `<baseUrl>/issuers/<issuer id>`; credentials
 * issued before 2026-12 carry the bare issuer id, read the same way, see {@link issuerIdOf}), `vct?` (the
 * type's URI `<baseUrl>/licence-types/<lt>`, absent from those older credentials), `jti` (licence id),
 * `iat`, `nbf`, `exp?`, `lt` (type), `hol` (holder kind, name, masked number; credentials issued before
 * 2026-12 also carry a lookup key `lk`, never read), `f` (fields), `status.status_list` (where its status
 * is listed). Other members are allowed and ignored.
 */
export interface LicenceCredentialClaims {
  iss: string;
  /** The issuer's id, from `iss`. */
  issuerId: string;
  vct?: string;
  jti: string;
  iat: number;
  nbf: number;
  exp?: number;
  lt: string;
  hol: { k: 'p' | 'e'; n: string; m: string };
  f: Record<string, unknown>;
  status: { status_list: { idx: number; uri: string } };
}

/** The longest `iss` read: an issuer URL under any reasonable base URL. */
export const maxIssuerUrlLength = 512;

const issuerUrlPattern = /^https?:\/\/[^/?#\s]+(?:\/[^?#\s]*)?\/issuers\/([^/?#\s]+)$/;

/**
 * The issuer id a credential's `iss` names: the last segment of an issuer URL
 * (`https://…/issuers/iss_8kq2`, the form since 2026-12), or the `iss` itself when it is no URL (the bare
 * id of older credentials, accepted until they expire). Undefined for a URL of any other shape. The id
 * finds the issuer in the trust list; the verifier then checks the whole `iss` against the URL the trust
 * source gives that issuer (`TrustedIssuer.issuerUrl`): a peer platform's issuer is named only by its own
 * platform's URL, so a credential naming one platform cannot pass for another's.
 *
 * @example
 * ```ts
 * issuerIdOf('https://elicence.example.gov.cn/issuers/iss_8kq2'); // 'iss_8kq2'
 * issuerIdOf('iss_8kq2'); // 'iss_8kq2' (a credential issued before 2026-12)
 * ```
 */
export function issuerIdOf(iss: string): string | undefined {
  if (iss.length === 0 || iss.length > maxIssuerUrlLength) return undefined;
  if (!iss.includes(':')) return iss.length <= 100 ? iss : undefined;
  const segment = issuerUrlPattern.exec(iss)?.[1];
  if (segment === undefined) return undefined;
  try {
    const id = decodeURIComponent(segment);
    return id.length > 0 && id.length <= 100 ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `iss` an issuer's credentials carry: its URL at the platform that issues for it,
 * `<baseUrl>/issuers/<issuer id>` (the id percent-encoded, as the service writes it).
 *
 * @example
 * ```ts
 * issuerUrlOf('https://elicence.example.gov.cn', 'iss_8kq2'); // 'https://elicence.example.gov.cn/issuers/iss_8kq2'
 * ```
 */
export function issuerUrlOf(baseUrl: string, issuerId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/issuers/${encodeURIComponent(issuerId)}`;
}

/** Non-empty and at most `max` UTF-16 units (not code points as {@link isString}: this check came first). */
const isText = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max;
const isSeconds = (value: unknown): value is number => isInteger(value, 0);

/**
 * Reads a verified credential's claims, checking each member used for type and bounds. Written by hand
 * rather than with zod: it runs once per offline verification, where zod's 2 µs was a tenth of all the
 * work besides the signature. Throws {@link FormatError} `invalid_claims`.
 *
 * @example
 * ```ts
 * const claims = readLicenceClaims(jws.payload); // after the signature verified
 * ```
 */
export function readLicenceClaims(payload: Record<string, unknown>): LicenceCredentialClaims {
  const { iss, vct, jti, iat, nbf, exp, lt, hol, f, status } = payload;
  const list = isObject(status) ? status.status_list : undefined;
  const issuerId = typeof iss === 'string' ? issuerIdOf(iss) : undefined;
  if (
    typeof iss !== 'string' ||
    issuerId === undefined ||
    !isText(jti, 64) ||
    !isSeconds(iat) ||
    !isSeconds(nbf) ||
    (exp !== undefined && !isSeconds(exp)) ||
    !isText(lt, 64) ||
    // The type's URI must name the same type as `lt`, which is what the trust list's grants are checked on.
    (vct !== undefined && (!isText(vct, maxIssuerUrlLength) || !vct.endsWith(`/licence-types/${lt}`))) ||
    !isObject(hol) ||
    (hol.k !== 'p' && hol.k !== 'e') ||
    !isText(hol.n, 200) ||
    !isText(hol.m, 64) ||
    !isObject(f) ||
    !isObject(list) ||
    !isSeconds(list.idx) ||
    !isText(list.uri, 2048)
  ) {
    throw new FormatError('invalid_claims', 'Not the claims of a licence credential');
  }
  return {
    iss,
    issuerId,
    ...(vct === undefined ? {} : { vct }),
    jti,
    iat,
    nbf,
    ...(exp === undefined ? {} : { exp }),
    lt,
    hol: { k: hol.k, n: hol.n, m: hol.m },
    f,
    status: { status_list: { idx: list.idx, uri: list.uri } },
  };
}

/** A Status List Token's payload (draft-ietf-oauth-status-list §5.1); `status_list` is decoded apart. */
export interface StatusListTokenClaims {
  iss: string;
  sub: string;
  iat: number;
  exp: number;
  ttl: number;
  /** Any value, if the member is there: `decodeStatusList` reads it. */
  status_list: unknown;
}

/**
 * Reads a verified Status List Token's payload: `parse` throws {@link FormatError} `invalid_claims`,
 * `safeParse` answers `{ success, data | error }`.
 *
 * @example
 * ```ts
 * const claims = statusListTokenClaims.safeParse(payload);
 * if (claims.success) await decodeStatusList(claims.data.status_list, compression);
 * ```
 */
export const statusListTokenClaims = guard(
  'the claims of a status list token',
  (value): StatusListTokenClaims | undefined => {
    if (!isObject(value)) return undefined;
    const { iss, sub, iat, exp, ttl, status_list } = value;
    return isString(iss, 1, 100) &&
      isString(sub, 1, 2048) &&
      isInteger(iat, 0) &&
      isInteger(exp, 0) &&
      isInteger(ttl, 1) &&
      'status_list' in value
      ? { iss, sub, iat, exp, ttl, status_list }
      : undefined;
  },
);
