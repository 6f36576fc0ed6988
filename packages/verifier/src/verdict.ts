import type { FormatErrorCode } from './errors.js';

/**
 * What a verification answers: one of the verdicts of API.md, a stable reason, and the data that may be
 * shown. Only a verdict reached after the signature verified carries licence data; nothing read from an
 * unverified token is ever returned.
 *
 * @packageDocumentation
 */

/**
 * The verdicts of API.md, in no particular order: what `POST /verify` answers. Online the status is the
 * licence record's, so the service never has to say {@link Verdict} `unknown`.
 */
export const onlineVerdicts = [
  'valid',
  'suspended',
  'revoked',
  'expired',
  'not_yet_valid',
  'invalid_signature',
  'unknown_issuer',
  'malformed',
] as const;
export type OnlineVerdict = (typeof onlineVerdicts)[number];

/**
 * Every verdict the library gives: those of API.md ({@link onlineVerdicts}) and `unknown`, a genuine
 * licence whose status (or whose issuer's trust) cannot be confirmed with the data held: an offline
 * store without an unexpired copy of its status list, or whose trust list is past its `exp`. Neither
 * green nor red: not to be accepted until the data is refreshed.
 */
export const verdicts = [...onlineVerdicts, 'unknown'] as const;
export type Verdict = (typeof verdicts)[number];

/**
 * Why the verdict is what it is, stable for apps and logs:
 * - `valid`: `ok`;
 * - `malformed`: the input could not be read (`too_large`, `not_a_credential`, `invalid_url`,
 *   `invalid_base64url`, `invalid_base45`, `invalid_cbor`, `invalid_cose`, `invalid_jws`) or is not ours
 *   (`unexpected_type`, `invalid_claims`, `presentation_lifetime`);
 * - `invalid_signature`: `alg_not_allowed` (anything but ES256: `none`, HS256, …), `signature_high_s`
 *   (an ECDSA signature whose `s` is above n/2: the malleable twin of a valid one, never what we sign) or
 *   `signature_mismatch`;
 * - `unknown_issuer`: `issuer_not_trusted`, `issuer_url_mismatch` (a credential whose `iss` is not the
 *   URL the trust list gives its issuer: another platform's URL, or a peer platform's issuer named by its
 *   bare id), `issuer_withdrawn`, `key_not_trusted` (kid not published,
 *   e.g. a withdrawn key), `batch_key_window` (a batch key's credential whose `iat` is outside the key's
 *   window), `batch_key_not_certified` (a batch key whose certificate does not verify with the issuer's
 *   keys or does not match it; docs/batch-issuance.md); and a signer trusted, but not for this licence: `licence_type_not_allowed`
 *   (the trust list does not give it this type), `licence_id_issuer_mismatch` (the GB/T 36904 id names
 *   another credit code than the signer's), `licence_id_type_mismatch` (the id's type code is not the
 *   type's). A licence id that is not one is `malformed` (`invalid_claims`). Online (`verify-scan.ts`) the
 *   licence record decides too: `licence_not_on_record` (validly signed, but the service never issued
 *   it), `record_mismatch` (another issuer, type or credential on record);
 * - `expired` / `not_yet_valid`: `licence_expired`, `presentation_expired`, `licence_not_yet_valid`,
 *   `presentation_not_yet_valid`;
 * - `revoked` / `suspended`: `status_revoked`, `status_suspended`;
 * - `unknown` (never online): `status_unknown` (a credential whose status list the status source cannot
 *   read: not held, or held only past its `exp` and not saying revoked; without a status source at all too),
 *   `trust_list_expired` (the trust list the signer was found in is past its `exp`: it vouches for
 *   nothing). Known bad news still wins: a licence revoked, suspended, expired or not yet valid by what
 *   is known is that, not `unknown`; revoked even by a status list past its `exp` (revocation is final;
 *   `status.expired`, `stale`). A presentation whose list is not held keeps the status the platform
 *   signed into it, within its own lifetime of minutes (past it, it is `expired`).
 */
export type VerdictReason =
  | 'ok'
  // Every way the input can fail to parse is a reason of its own (a `malformed` verdict).
  | FormatErrorCode
  | 'presentation_lifetime'
  | 'alg_not_allowed'
  | 'signature_high_s'
  | 'signature_mismatch'
  | 'issuer_not_trusted'
  | 'issuer_url_mismatch'
  | 'issuer_withdrawn'
  | 'key_not_trusted'
  | 'batch_key_window'
  | 'batch_key_not_certified'
  | 'licence_type_not_allowed'
  | 'licence_id_issuer_mismatch'
  | 'licence_id_type_mismatch'
  | 'licence_expired'
  | 'licence_not_yet_valid'
  | 'presentation_expired'
  | 'presentation_not_yet_valid'
  | 'status_revoked'
  | 'status_suspended'
  // Offline only: what the verdict rests on cannot be confirmed (an `unknown` verdict).
  | 'status_unknown'
  | 'trust_list_expired'
  // Online only (`verify-scan.ts`): the signed token does not match the licence record.
  | 'licence_not_on_record'
  | 'record_mismatch';

/** A licence status as statuses are stored and listed. */
export type LicenceStatusValue = 'valid' | 'suspended' | 'revoked';

/** The licence as the verified token discloses it. */
export interface DisclosedLicence {
  id: string;
  type: string;
  holder: { kind: 'person' | 'entity'; name: string; masked: string };
  /** The fields the token carries: all of a credential's, only the chosen ones of a presentation. */
  fields: Record<string, unknown>;
  validFrom: string;
  validUntil?: string;
}

/** Where the status behind the verdict came from, and how fresh it is. */
export interface StatusCheck {
  /**
   * `online`: the issuer's record, now; `status-list`: a signed status list (see `stale`);
   * `presentation`: the status the platform signed into the presentation when it was made;
   * `none`: no status could be had (an offline verifier without an unexpired copy of this licence's
   * list): a credential is then `unknown` (`status_unknown`) unless it is expired or not yet valid.
   */
  source: 'online' | 'status-list' | 'presentation' | 'none';
  status?: LicenceStatusValue;
  /** For a status list: older than its `ttl`. */
  stale?: boolean;
  /**
   * For a status list: past its `exp`. Only its `revoked` is kept then (revocation is final), so this
   * comes with `status: 'revoked'` and `stale: true`; an expired list's `valid` or `suspended` is no
   * status at all (`none`).
   */
  expired?: boolean;
}

export interface VerificationResult {
  verdict: Verdict;
  reason: VerdictReason;
  /** What was scanned, once recognised. */
  format?: 'credential' | 'presentation';
  checkedAt: string;
  licence?: DisclosedLicence;
  issuer?: { id: string; name: string; creditCode: string; region?: string };
  /** For presentations: its unique id, its validity, and the licence status it was made with. */
  presentation?: {
    id: string;
    issuedAt: string;
    expiresAt: string;
    statusAtPresentation: LicenceStatusValue;
  };
  status: StatusCheck;
  /**
   * True when any data the verdict rests on (trust list, status list) is older than its `ttl`, counted
   * from the token's `iat`: the
   * verdict is what that data said, and the app should say so (and sync when it can).
   */
  stale: boolean;
  /**
   * Seconds since the oldest data the verdict rests on was signed (its `iat`, not when it was fetched);
   * absent when it was all live.
   */
  dataAge?: number;
}
