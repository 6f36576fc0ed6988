/**
 * The verifier: one function from whatever a scanner read to a verdict. Used alone in apps (offline with
 * an {@link OfflineTrustStore}, or online) and by the service's `POST /verify`.
 *
 * Order of checks, each ending the verification when it fails:
 * 1. size (4 KiB) and shape (credential or presentation, bare or in a link) → `malformed`;
 * 2. `alg` must be ES256 (nothing else is ever tried: not `none`, not HMAC) → `invalid_signature`;
 *    `typ` must be ours → `malformed`;
 * 3. the signer: the issuer in the trust list (credentials) or the platform's presentation key (one of
 *    the trust list's `presentationKeys`; the platform keys only for a list that names none), and a key
 *    published for it → `unknown_issuer` (`key_not_trusted`);
 * 4. the signature, low-S only (the high-S twin of a valid signature is refused) → `invalid_signature`;
 * 5. the claims, strictly → `malformed`; the issuer of a presentation's licence must be trusted too;
 *    and trusted for this licence: its type among the issuer's, the id's type code that type's and the
 *    id's credit code the issuer's → `unknown_issuer` (a trusted key signing what it may not);
 * 6. the status: `revoked`, then `suspended`, win over everything after them (a presentation's: the one
 *    the platform signed into it, or its list's where that was signed later or says revoked; see
 *    `presentationAnswer`);
 * 7. the periods, with the clock skew tolerated: a presentation's own, then the licence's →
 *    `expired` / `not_yet_valid`;
 * 8. what could not be confirmed: a trust list past its `exp` (`trust_list_expired`), or a credential
 *    whose status the status source cannot give (`status_unknown`) → `unknown`, never `valid` (a
 *    presentation falls back on the status the platform signed into it, bounded by its lifetime of
 *    minutes, step 7); else `valid`.
 *
 * @packageDocumentation
 */
import { issuerIdOf, licenceCredentialType, readLicenceClaims } from './claims.js';
import { clockSkewSecondsOf, DEFAULT_CLOCK_SKEW_SECONDS } from './clock-skew.js';
import { coseEs256 } from './cose.js';
import { isLowS, type Es256Verifier, type PublicJwk, type VerifierCodec } from './crypto.js';
import { FormatError } from './errors.js';
import { readScan } from './input.js';
import { portableCodec, readCompactJws } from './jws.js';
import { KeyCache } from './key-cache.js';
import { base64urlEncode } from './base64url.js';
import { isoFromMillis, isoFromSeconds as iso } from './iso-time.js';
import { licenceIdPattern } from './licence-id.js';
import { afterAnswer as thenOf, isThenable } from './maybe-promise.js';
import {
  cwtContentFormat,
  presentationJwksKid,
  presentationLifetime,
  readPresentationClaims,
  readPresentationEnvelope,
} from './presentation-format.js';
import { batchKeyCertificateType } from './trust-list.js';
import type {
  BatchKey,
  Freshness,
  StatusAnswer,
  StatusQuery,
  StatusSource,
  TrustAnchors,
  TrustedIssuer,
} from './trust.js';
import type {
  DisclosedLicence,
  LicenceStatusValue,
  StatusCheck,
  VerdictReason,
  VerificationResult,
  Verdict,
} from './verdict.js';

export { DEFAULT_CLOCK_SKEW_SECONDS };

export interface VerifierOptions {
  /** ES256: `nodeEs256` in Node (fast), `webCryptoEs256()` anywhere. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each implementation has its own key type
  crypto: Es256Verifier<any>;
  /** Byte conversions: plain JavaScript unless given (`nodeCodec` in Node is faster). */
  codec?: VerifierCodec;
  trust: TrustAnchors;
  /** Where statuses come from; without one, only a presentation's own status is known. */
  status?: StatusSource;
  /** Milliseconds since the epoch. */
  clock?: () => number;
  clockSkewSeconds?: number;
}

/** Options of one verification. */
export interface VerifyOptions {
  /**
   * The status source of this verification alone, in place of the verifier's: e.g. one that keeps the
   * record it read, for the caller to check the token against that same record afterwards.
   */
  status?: StatusSource;
  /**
   * The trust anchors of this verification alone, in place of the verifier's (since 0.6.0): e.g. one
   * that keeps the issuer entry it handed over, for the caller to check more against that same entry
   * afterwards (the service checks a presentation's licence was signed by a key still published).
   */
  trust?: TrustAnchors;
}

export interface Verifier {
  /**
   * The verdict on a scan. Whatever the input, the promise resolves to a verdict; it rejects only when
   * one of the ports fails (an online store that cannot be reached), since no honest verdict exists then.
   */
  verify(scan: unknown, options?: VerifyOptions): Promise<VerificationResult>;
}

/** A verdict reached before the end: thrown, so that each check reads as one line. */
class EarlyVerdict extends Error {
  constructor(
    readonly verdict: Verdict,
    readonly reason: VerdictReason,
  ) {
    super(reason);
  }
}
const stop = (verdict: Verdict, reason: VerdictReason) => new EarlyVerdict(verdict, reason);

/**
 * Whether `issuer` may have issued licence `id` of `type`: the trust list gives it that type, and the id
 * names that type's code and the issuer's own credit code. A signature proves who signed; this, that the
 * signer had the authority (one issuer's key must not vouch for another's licences, nor for a type it was
 * never given). Throws the verdict when not.
 */
function checkAuthority(issuer: TrustedIssuer, type: string, id: string): void {
  const parts = licenceIdPattern.exec(id);
  if (!parts) throw stop('malformed', 'invalid_claims');
  let grant: TrustedIssuer['licenceTypes'][number] | undefined;
  for (const candidate of issuer.licenceTypes) if (candidate.code === type) grant = candidate;
  if (!grant) throw stop('unknown_issuer', 'licence_type_not_allowed');
  if (parts[2] !== issuer.creditCode) throw stop('unknown_issuer', 'licence_id_issuer_mismatch');
  if (parts[1] !== grant.typeCode) throw stop('unknown_issuer', 'licence_id_type_mismatch');
}

/**
 * Whether a credential's `iss` names `issuer` the way its platform does: exactly the URL the trust source
 * gives it, or, for one of the listing platform's own issuers, the bare id of a credential issued before
 * 2026-12. The issuer is found by the id alone (the last segment of `iss`), so without this a platform
 * could sign as `https://<another platform>/issuers/<id>` and the verdict would read as the other's. A
 * peer's issuer whose URL the trust source does not say is refused (fail closed); an issuer of ours
 * without one is found by id alone, as before 0.4.0.
 */
function issuerUrlHolds(issuer: TrustedIssuer, iss: string): boolean {
  if (issuer.issuerUrl !== undefined) {
    return iss === issuer.issuerUrl || (issuer.peer === undefined && iss === issuer.id);
  }
  return issuer.peer === undefined;
}

/** The key with this `kid`: a loop, not `find`, since this runs on every verification. */
function keyWithKid(keys: readonly PublicJwk[], kid: string): PublicJwk | undefined {
  for (const key of keys) if (key?.kid === kid) return key;
  return undefined;
}

/** Keys a trust port gave: an array, else none (a port's mistake trusts no key). */
function keysOrNone(keys: readonly PublicJwk[] | undefined): readonly PublicJwk[] {
  return Array.isArray(keys) ? keys : [];
}

/**
 * Whether a trust port's answer has the shape of a {@link TrustedIssuer} where the verifier reads it (a
 * port written in JavaScript, or a thenable's wrapper, could hand back anything).
 */
function isTrustedIssuer(value: unknown): value is TrustedIssuer {
  if (typeof value !== 'object' || value === null) return false;
  const issuer = value as Partial<Record<keyof TrustedIssuer, unknown>>;
  return (
    typeof issuer.id === 'string' &&
    typeof issuer.name === 'string' &&
    typeof issuer.creditCode === 'string' &&
    (issuer.status === 'active' || issuer.status === 'withdrawn') &&
    Array.isArray(issuer.keys) &&
    Array.isArray(issuer.licenceTypes) &&
    (issuer.batchKeys === undefined || Array.isArray(issuer.batchKeys))
  );
}

/** Whether a port's freshness is one: an object with a finite `issuedAt`. */
function isFreshness(value: unknown): value is Freshness {
  return (
    typeof value === 'object' && value !== null && Number.isFinite((value as Partial<Freshness>).issuedAt)
  );
}

/** A verification's outcome: at once when every port answered at once, else later. */
type Answer = VerificationResult | Promise<VerificationResult>;

/**
 * Continues with `next` at once when `value` is there, or once it is: ports may answer synchronously (an
 * offline store, `nodeEs256`), and then the verification completes without a single promise in between.
 * Each needless `await` costs a microtask, measurable on the offline hot path next to an 80 µs signature
 * check. Any thenable is waited for, not only this realm's `Promise` (see `maybe-promise.ts`: before
 * 0.6.0 a Dexie or other-realm promise, or any promise under zone.js, was taken for the answer). A throw
 * inside `next` ends the verification either way (see `ended`).
 */
function then<T>(value: T | PromiseLike<T>, next: (value: T) => Answer): Answer {
  return thenOf(value, next);
}

/** What one verification has learnt so far, for the verdict whenever it ends. */
interface Run {
  now: number;
  checkedAt: string;
  format?: 'credential' | 'presentation';
  /** The age of each piece of data consulted. */
  data: Array<Freshness | undefined>;
  /** The trust list consulted is past its `exp`: no verdict may rest on it as `valid`. */
  trustExpired: boolean;
  status: StatusSource | undefined;
  trust: TrustAnchors;
}

/**
 * A verifier over the given trust, statuses and crypto.
 *
 * @example
 * ```ts
 * import { createVerifier, OfflineTrustStore, webCryptoEs256 } from '@elicence/verifier';
 *
 * const crypto = webCryptoEs256();
 * const store = new OfflineTrustStore({ baseUrl: 'https://elicence.example.gov.cn', crypto });
 * await store.sync(); // while online: trust list, platform keys, status lists
 * const verifier = createVerifier({ crypto, trust: store, status: store });
 * const result = await verifier.verify(scannedText); // later, offline too
 * if (result.verdict === 'valid' && !result.stale) showGreen(result.licence);
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const clock = options.clock ?? (() => Date.now());
  const skew = clockSkewSecondsOf(options.clockSkewSeconds);
  const keys = new KeyCache(options.crypto);
  const codec = options.codec ?? portableCodec;
  const { trust, status: statusSource } = options;
  /** Each JWK kid's {@link presentationJwksKid}, computed once per kid rather than on every verification. */
  const presentationKids = new Map<string, string>();

  /**
   * Batch keys whose certificate verified, each with the issuer entry it verified under: a trust store
   * hands out the same objects until its trust changes, and a new trust list (a key withdrawn, an entry
   * changed) brings new objects, checked again. Never by the certificate's text alone: the same text in
   * an entry with another window, or under an issuer whose certifying key was withdrawn, proves nothing.
   */
  const certified = new WeakMap<BatchKey, TrustedIssuer>();

  /**
   * The batch key `kid` of `issuer`, for a credential issued at `iat` (docs/batch-issuance.md): listed for
   * this issuer, `iat` within its window, and its certificate a `batch-key+jwt` signed by one of the
   * issuer's own (published) keys that names this issuer, this kid, this public key and this window.
   * Anything else throws the verdict: a batch key is never trusted as the list hands it over.
   */
  function batchKeyFor(issuer: TrustedIssuer, kid: string, iat: unknown): PublicJwk | Promise<PublicJwk> {
    let entry: BatchKey | undefined;
    for (const candidate of issuer.batchKeys ?? []) if (candidate.kid === kid) entry = candidate;
    if (!entry) throw stop('unknown_issuer', 'key_not_trusted');
    if (typeof iat !== 'number' || !Number.isInteger(iat) || iat < entry.nbf || iat > entry.exp) {
      throw stop('unknown_issuer', 'batch_key_window');
    }
    const found = entry;
    if (certified.get(found) === issuer) return found.jwk;
    const refuse = () => stop('unknown_issuer', 'batch_key_not_certified');
    let certificate;
    try {
      certificate = readCompactJws(found.certificate, codec);
    } catch {
      throw refuse();
    }
    const { header, payload } = certificate;
    if (header.alg !== 'ES256' || header.typ !== batchKeyCertificateType || header.crit !== undefined) {
      throw refuse();
    }
    const signer = typeof header.kid === 'string' ? keyWithKid(issuer.keys, header.kid) : undefined;
    const jwk = payload.jwk as Record<string, unknown> | null | undefined;
    if (
      !signer ||
      typeof payload.iss !== 'string' ||
      issuerIdOf(payload.iss) !== issuer.id ||
      payload.kid !== found.kid ||
      payload.nbf !== found.nbf ||
      payload.exp !== found.exp ||
      typeof jwk !== 'object' ||
      jwk === null ||
      jwk.kty !== 'EC' ||
      jwk.crv !== 'P-256' ||
      jwk.x !== found.jwk.x ||
      jwk.y !== found.jwk.y ||
      !isLowS(certificate.signature)
    ) {
      throw refuse();
    }
    const accept = (holds: unknown): PublicJwk => {
      // Only `true` is a signature that holds: anything else a port hands back is not (fail closed).
      if (holds !== true) throw refuse();
      certified.set(found, issuer);
      return found.jwk;
    };
    const holds = keys.verify(signer, certificate.signature, certificate.signingInput);
    return thenOf<unknown, PublicJwk>(holds, accept);
  }

  /** The first key whose thumbprint kid starts with the COSE kid (`coseKid`, in base64url), if any. */
  function keyWithPresentationKid(
    platformKeys: readonly PublicJwk[],
    coseKid: string,
  ): PublicJwk | undefined {
    for (const key of platformKeys) {
      if (key.kid === undefined) continue;
      let short = presentationKids.get(key.kid);
      if (short === undefined) {
        // Bounded like the key cache: a long-lived verifier sees few platform keys, but never grows without end.
        if (presentationKids.size >= 1024) presentationKids.clear();
        short = presentationJwksKid(key.kid);
        presentationKids.set(key.kid, short);
      }
      // base64url is one-to-one on bytes, so equal text is equal key id bytes (and equal length).
      if (short === coseKid) return key;
    }
    return undefined;
  }

  /**
   * Status, then periods (in seconds), the skew tolerated, then what could not be confirmed: the verdict
   * on a verified token. `unconfirmed` is why the token cannot be `valid` (no status to be had, a trust
   * list past its `exp`): bad news known still wins, since it holds whatever is unknown.
   */
  function judge(
    status: LicenceStatusValue | undefined,
    periods: Array<{ from: number; until: number | undefined; expired: VerdictReason; early: VerdictReason }>,
    now: number,
    unconfirmed: VerdictReason | undefined,
  ): { verdict: Verdict; reason: VerdictReason } {
    if (status === 'revoked') return { verdict: 'revoked', reason: 'status_revoked' };
    if (status === 'suspended') return { verdict: 'suspended', reason: 'status_suspended' };
    for (const period of periods) {
      if (period.until !== undefined && period.until + skew <= now) {
        return { verdict: 'expired', reason: period.expired };
      }
      if (period.from - skew > now) return { verdict: 'not_yet_valid', reason: period.early };
    }
    if (unconfirmed) return { verdict: 'unknown', reason: unconfirmed };
    return { verdict: 'valid', reason: 'ok' };
  }

  /**
   * The signer of a licence or of a presentation's licence: trusted, or the verdict says why. What the
   * trust port handed back is checked for the shape the verifier reads (not an issuer: not trusted), and
   * freshness that is not one counts as expired: a port's mistake never reads as trust.
   */
  function trustedIssuer(run: Run, issuer: TrustedIssuer | undefined): TrustedIssuer {
    const given: unknown = run.trust.freshness?.();
    const freshness = given === undefined || isFreshness(given) ? given : undefined;
    run.data.push(freshness);
    if (given !== freshness || freshness?.expired) run.trustExpired = true;
    if (!isTrustedIssuer(issuer)) throw stop('unknown_issuer', 'issuer_not_trusted');
    return issuer;
  }

  function verifyCredential(run: Run, text: string): Answer {
    const jws = readCompactJws(text, codec);
    if (jws.header.alg !== 'ES256') throw stop('invalid_signature', 'alg_not_allowed');
    if (jws.header.typ !== licenceCredentialType) throw stop('malformed', 'unexpected_type');
    if (jws.header.crit !== undefined) throw stop('malformed', 'invalid_jws');
    const { kid } = jws.header;
    const { iss } = jws.payload;
    // The issuer's URL, or the bare id of a credential issued before 2026-12: both name it by id.
    const issuerId = typeof iss === 'string' ? issuerIdOf(iss) : undefined;
    if (typeof kid !== 'string' || issuerId === undefined) throw stop('malformed', 'invalid_claims');

    return then(run.trust.issuerById(issuerId), (found) => {
      const issuer = trustedIssuer(run, found);
      if (!issuerUrlHolds(issuer, iss as string)) throw stop('unknown_issuer', 'issuer_url_mismatch');
      // An issuer key, else one of its certified batch keys (docs/batch-issuance.md).
      const jwk = keyWithKid(issuer.keys, kid) ?? batchKeyFor(issuer, kid, jws.payload.iat);
      return then(jwk, (key) => verifyCredentialWith(run, jws, issuer, key));
    });
  }

  function verifyCredentialWith(
    run: Run,
    jws: ReturnType<typeof readCompactJws>,
    issuer: TrustedIssuer,
    jwk: PublicJwk,
  ): Answer {
    if (!isLowS(jws.signature)) throw stop('invalid_signature', 'signature_high_s');
    return then(keys.verify(jwk, jws.signature, jws.signingInput), (holds) => {
      if (holds !== true) throw stop('invalid_signature', 'signature_mismatch');
      const claims = readLicenceClaims(jws.payload);
      if (issuer.status !== 'active') {
        const out = result(run, 'unknown_issuer', 'issuer_withdrawn');
        out.issuer = issuerView(issuer);
        return out;
      }
      const refused = authorityRefused(run, issuer, claims.lt, claims.jti);
      if (refused) return refused;
      const asked = run.status?.status({
        licenceId: claims.jti,
        issuerId: issuer.id,
        list: claims.status.status_list,
      });
      return then(asked, (given) => {
        const answer = usable(given);
        run.data.push(answer?.freshness);
        const judged = judge(
          answer?.status,
          [
            {
              from: claims.nbf,
              until: claims.exp,
              expired: 'licence_expired',
              early: 'licence_not_yet_valid',
            },
          ],
          run.now / 1000,
          // A credential's status is only what its list (or the record) says: none had, none assumed.
          run.trustExpired ? 'trust_list_expired' : answer ? undefined : 'status_unknown',
        );
        // Built by assignment rather than spreads: this is the hot path of offline verification.
        const out = result(run, judged.verdict, judged.reason);
        out.licence = licenceView(
          claims.jti,
          claims.lt,
          { kind: claims.hol.k === 'p' ? 'person' : 'entity', name: claims.hol.n, masked: claims.hol.m },
          claims.f,
          claims.nbf,
          claims.exp,
        );
        out.issuer = issuerView(issuer);
        out.status = statusCheck(answer);
        return out;
      });
    });
  }

  /**
   * The keys a presentation may be signed with: the trust list's `presentationKeys` whenever the trust
   * source names them, and then only those (a platform key signs ID tokens, and whoever holds it must not
   * be able to make presentations); the platform keys only while it names none (a list signed before).
   */
  function signingKeysOf(trust: TrustAnchors): readonly PublicJwk[] | Promise<readonly PublicJwk[]> {
    const named = trust.presentationKeys?.();
    const chosen = (keys: readonly PublicJwk[] | undefined) =>
      keys === undefined ? thenOf(trust.platformKeys(), keysOrNone) : keysOrNone(keys);
    return thenOf(named, chosen);
  }

  function verifyPresentation(run: Run, text: string): Answer {
    const envelope = readPresentationEnvelope(text);
    if (envelope.alg !== coseEs256) throw stop('invalid_signature', 'alg_not_allowed');
    if (envelope.typ !== cwtContentFormat) throw stop('malformed', 'unexpected_type');

    return then(signingKeysOf(run.trust), (signingKeys) => {
      // The JWK whose kid is the COSE kid in base64url (the JWKS published that short form before the
      // presentation keys), else the one whose full thumbprint kid it prefixes (the trust list's form).
      const coseKid = base64urlEncode(envelope.kid);
      const jwk = keyWithKid(signingKeys, coseKid) ?? keyWithPresentationKid(signingKeys, coseKid);
      if (!jwk) throw stop('unknown_issuer', 'key_not_trusted');
      if (!isLowS(envelope.signature)) throw stop('invalid_signature', 'signature_high_s');
      return then(keys.verify(jwk, envelope.signature, envelope.signedBytes), (holds) => {
        if (holds !== true) throw stop('invalid_signature', 'signature_mismatch');
        const { claims, issuerCreditCode } = readPresentationClaims(envelope.payload);
        const lifetime = claims.expiresAt - claims.issuedAt;
        if (lifetime < presentationLifetime.min || lifetime > presentationLifetime.max) {
          throw stop('malformed', 'presentation_lifetime');
        }
        return then(run.trust.issuerByCreditCode(issuerCreditCode), (found) => {
          const issuer = trustedIssuer(run, found);
          if (issuer.status !== 'active') {
            const out = result(run, 'unknown_issuer', 'issuer_withdrawn');
            out.issuer = issuerView(issuer);
            return out;
          }
          const { licence } = claims;
          const refused = authorityRefused(run, issuer, licence.type, licence.id);
          if (refused) return refused;
          // The licence's status now where the source knows it (the record online, or the status list entry
          // the presentation points to); otherwise the status the platform signed in when it was shown.
          const entry = licence.statusList;
          const query: StatusQuery = { licenceId: licence.id, issuerId: issuer.id };
          if (entry) query.list = { uri: `/status-lists/${issuer.id}.${entry.list}`, idx: entry.idx };
          return then(run.status?.status(query), (given) => {
            // The list's answer only where it is the later word (or says revoked): see `presentationAnswer`.
            const answer = presentationAnswer(usable(given), licence.status, claims.issuedAt);
            run.data.push(answer?.freshness);
            const judged = judge(
              answer?.status ?? licence.status,
              [
                {
                  from: claims.issuedAt,
                  until: claims.expiresAt,
                  expired: 'presentation_expired',
                  early: 'presentation_not_yet_valid',
                },
                {
                  from: licence.validFrom,
                  until: licence.validUntil,
                  expired: 'licence_expired',
                  early: 'licence_not_yet_valid',
                },
              ],
              run.now / 1000,
              // The signed-in status stands without a list (bounded by the presentation's own period,
              // checked above); a trust list past its `exp` vouches for no issuer, though.
              run.trustExpired ? 'trust_list_expired' : undefined,
            );
            const out = result(run, judged.verdict, judged.reason);
            out.licence = licenceView(
              licence.id,
              licence.type,
              licence.holder,
              licence.fields,
              licence.validFrom,
              licence.validUntil,
            );
            out.issuer = issuerView(issuer);
            out.presentation = {
              id: claims.id,
              issuedAt: iso(claims.issuedAt),
              expiresAt: iso(claims.expiresAt),
              statusAtPresentation: licence.status,
            };
            out.status = statusCheck(answer, licence.status);
            return out;
          });
        });
      });
    });
  }

  /** The verdict when `issuer` had no authority for this licence (naming the signer), else undefined. */
  function authorityRefused(
    run: Run,
    issuer: TrustedIssuer,
    type: string,
    id: string,
  ): VerificationResult | undefined {
    try {
      checkAuthority(issuer, type, id);
      return undefined;
    } catch (error) {
      if (!(error instanceof EarlyVerdict)) throw error;
      const out = result(run, error.verdict, error.reason);
      if (error.verdict === 'unknown_issuer') out.issuer = issuerView(issuer);
      return out;
    }
  }

  /** The verdict an early end (a verdict thrown, or input we cannot read) stands for; anything else is a port's failure. */
  function ended(run: Run, error: unknown): VerificationResult {
    if (error instanceof EarlyVerdict) return result(run, error.verdict, error.reason);
    // The parsers throw nothing else, whatever the input (property-tested): it was not ours to read.
    if (error instanceof FormatError) return result(run, 'malformed', error.code);
    throw error;
  }

  return {
    verify(scan: unknown, verifyOptions?: VerifyOptions): Promise<VerificationResult> {
      const now = clock();
      const run: Run = {
        now,
        checkedAt: isoFromMillis(now),
        data: [],
        trustExpired: false,
        status: verifyOptions?.status ?? statusSource,
        trust: verifyOptions?.trust ?? trust,
      };
      try {
        const { format, text } = readScan(scan);
        run.format = format;
        const answer = format === 'credential' ? verifyCredential(run, text) : verifyPresentation(run, text);
        return isThenable(answer)
          ? Promise.resolve(answer).catch((error: unknown) => ended(run, error))
          : Promise.resolve(answer);
      } catch (error) {
        try {
          return Promise.resolve(ended(run, error));
        } catch (failure) {
          return Promise.reject(failure);
        }
      }
    },
  };
}

const noStatus: StatusCheck = Object.freeze({ source: 'none' });

/** A result with no licence data yet, marked with the format and the age of the data consulted. */
function result(run: Run, verdict: Verdict, reason: VerdictReason): VerificationResult {
  const out: VerificationResult = {
    verdict,
    reason,
    checkedAt: run.checkedAt,
    status: noStatus,
    stale: false,
  };
  if (run.format) out.format = run.format;
  let oldest = Infinity;
  for (const piece of run.data) {
    if (!piece) continue;
    // Counted from when the data was signed, not fetched: an old token fetched now is old data.
    if (piece.issuedAt < oldest) oldest = piece.issuedAt;
    if (piece.stale) out.stale = true;
  }
  if (oldest !== Infinity) out.dataAge = Math.max(0, Math.floor((run.now - oldest) / 1000));
  return out;
}

function licenceView(
  id: string,
  type: string,
  holder: DisclosedLicence['holder'],
  fields: Record<string, unknown>,
  validFrom: number,
  validUntil: number | undefined,
): DisclosedLicence {
  const licence: DisclosedLicence = { id, type, holder, fields, validFrom: iso(validFrom) };
  if (validUntil !== undefined) licence.validUntil = iso(validUntil);
  return licence;
}

function issuerView(issuer: TrustedIssuer) {
  // By assignment, not a spread of a fresh object: it runs on every verification.
  const view: { id: string; name: string; creditCode: string; region?: string } = {
    id: issuer.id,
    name: issuer.name,
    creditCode: issuer.creditCode,
  };
  if (issuer.region !== undefined) view.region = issuer.region;
  return view;
}

/**
 * The answer a verdict may rest on: one from a list past its `exp` only when it says `revoked`
 * (revocation is final, so that is still known); its `valid` or `suspended` is not known now, whatever a
 * status source hands back. Only an answer of the documented shape is one (a `status` of `valid`,
 * `suspended` or `revoked`, a `source` of `online` or `status-list`, a `freshness` that is one or none):
 * anything else a port hands back (an object without a status, a pending promise's wrapper) is no answer,
 * so a credential is `unknown`, never `valid`.
 */
function usable(given: unknown): StatusAnswer | undefined {
  if (typeof given !== 'object' || given === null) return undefined;
  const answer = given as StatusAnswer;
  const { status, source, freshness } = answer;
  if (status !== 'valid' && status !== 'suspended' && status !== 'revoked') return undefined;
  if (source !== 'online' && source !== 'status-list') return undefined;
  if (freshness !== undefined && !isFreshness(freshness)) return undefined;
  return freshness?.expired && status !== 'revoked' ? undefined : answer;
}

/**
 * The answer of a status source a presentation is judged by, or `undefined` when the status the platform
 * signed into it (`carried`, at `presentedAt`, in seconds) stands instead. Both are signed statements of
 * the licence's status at a moment (the list's `iat`, the presentation's), so offline the later one
 * holds, except that revocation is final, so a `revoked` from either holds whatever the other says (the
 * list's answer as {@link usable} leaves it: a list past its `exp` answers `revoked` or nothing):
 *
 * | the list's answer      | the presentation's     | signed later     | judged by                     |
 * | ---------------------- | ---------------------- | ---------------- | ----------------------------- |
 * | none                   | any                    | —                | the presentation              |
 * | read live (`online`)   | any                    | —                | the answer (the record, now)  |
 * | `revoked`              | any                    | either           | the list: `revoked`           |
 * | `valid` or `suspended` | `revoked`              | either           | the presentation: `revoked`   |
 * | `valid` or `suspended` | `valid` or `suspended` | the list         | the list                      |
 * | `valid` or `suspended` | `valid` or `suspended` | the presentation | the presentation              |
 * | `valid` or `suspended` | `valid` or `suspended` | the same second  | `suspended` if either says so |
 *
 * A list signed before the presentation says nothing about the moment the presentation was made: it
 * predates a suspension, a revocation or a reinstatement the platform's signature already reflects (a
 * list held from before a revocation must not turn the presentation made after it green). In the same
 * second neither is known to be later, and the worse of the two is taken.
 */
function presentationAnswer(
  answer: StatusAnswer | undefined,
  carried: LicenceStatusValue,
  presentedAt: number,
): StatusAnswer | undefined {
  // Online (`POST /verify`) the answer is the licence record now, the truth there: as before.
  if (!answer?.freshness) return answer;
  if (answer.status === 'revoked') return answer;
  if (carried === 'revoked') return undefined;
  const listedAt = Math.floor(answer.freshness.issuedAt / 1000);
  if (listedAt !== presentedAt) return listedAt > presentedAt ? answer : undefined;
  return carried === 'suspended' && answer.status !== 'suspended' ? undefined : answer;
}

function statusCheck(answer: StatusAnswer | undefined, carried?: LicenceStatusValue): StatusCheck {
  if (answer) {
    const check: StatusCheck = { source: answer.source, status: answer.status };
    if (answer.freshness) check.stale = answer.freshness.stale;
    if (answer.freshness?.expired) check.expired = true;
    return check;
  }
  return carried ? { source: 'presentation', status: carried } : { source: 'none' };
}
