/**
 * `POST /verify` (API.md), the use case: the verdict on what a scanner read, with live statuses, the
 * disclosure the caller is entitled to, and one audit entry.
 *
 * @packageDocumentation
 */
import * as z from 'zod';
import { onlineVerdicts } from '../../packages/verifier/src/verdict.js';
import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import { DependencyError, InternalError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Signer } from '../crypto/signer.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { findLicenceType, publicFields } from '../licence/catalogue.js';
import { parseLicenceId } from '../identifiers/licence-id.js';
import type { LicenceStore } from '../licence/licence-store.js';
import { logger } from '../logger.js';
import { createNodeVerifier } from '../../packages/verifier/src/node.js';
import { readScan } from '../../packages/verifier/src/input.js';
import { licenceRecordOnce, storeTrust } from './online.js';
import { PeerTrust, withPeers } from './peer-trust.js';
import type { PeerStore } from '../issuers/peer-store.js';
import type { PeerSettings } from '../issuers/peers.js';
import { IssuerCache } from '../issuers/issuer-cache.js';
import type { Config } from '../config.js';
import type { LicenceRecord } from '../licence/licence.js';
import type { OnlineVerdict, VerificationResult } from '../../packages/verifier/src/verdict.js';
import type { StatusSource, TrustAnchors, TrustedIssuer } from '../../packages/verifier/src/trust.js';
import { afterAnswer } from '../../packages/verifier/src/maybe-promise.js';
import { credentialKeyPublished } from '../issuers/credential-key.js';
import { maskPersonName } from '../identifiers/person-name.js';
import type { PeerOfIssuer } from './peer-trust.js';
import type { Verifier } from '../../packages/verifier/src/verifier.js';

/** Masking a person's name lives with the identifiers now; re-exported for the verifier's callers. */
export { maskPersonName };

/** The body of `POST /verify`; the text is bounded by the verifier itself (a longer scan is `malformed`). */
export const verifyRequest = z.strictObject({ qr: z.string() });

/** Largest `POST /verify` body: a scan is at most 4 KiB, so 16 KiB leaves room for JSON escapes. */
export const maxVerifyBodyBytes = 16 * 1024;

export interface VerifyScanDependencies {
  issuers: Pick<IssuerStore, 'findById' | 'findByCreditCode'>;
  licences: Pick<LicenceStore, 'get'>;
  platformSigner: Pick<Signer, 'publicJwk'>;
  platformPreviousSigners: ReadonlyArray<Pick<Signer, 'publicJwk'>>;
  /** The keys presentations are signed with (the current one, then those being retired). */
  presentationSigner: Pick<Signer, 'publicJwk'>;
  presentationPreviousSigners: ReadonlyArray<Pick<Signer, 'publicJwk'>>;
  audit: AuditTrail;
  clock: Clock;
  /** With it, issuer records are kept per container for `issuerCacheSeconds`; without, read each time. */
  config?: Pick<Config, 'issuerCacheSeconds'> & Partial<PeerSettings> & Partial<Pick<Config, 'issuerUrl'>>;
  /** Peer platforms (跨地区互认): their issuers' licences verify too, statuses from their status lists. */
  peers?: Pick<PeerStore, 'list'>;
}

/** Who asked: a verifier client (scope `licences:verify`) sees the disclosed fields; anyone else does not. */
export interface VerifyCaller {
  clientId: string;
}

/**
 * What `POST /verify` answers: {@link verifyScan} is typed by it; the OpenAPI document publishes it.
 * `licence` and `issuer` come only with a verdict reached after the signature verified.
 */
export const verifyResponseSchema = z
  .object({
    // API.md's eight: the library's `unknown` (a status that cannot be had) is never answered here.
    verdict: z.enum(onlineVerdicts),
    reason: z.string().meta({
      description: 'The stable reason behind the verdict (`ok`, `status_revoked`, `signature_mismatch`, …)',
    }),
    format: z.enum(['credential', 'presentation']).optional(),
    checkedAt: z.string().meta({ description: 'RFC 3339' }),
    licence: z
      .object({
        id: z.string(),
        type: z.string(),
        holder: z.object({
          kind: z.enum(['person', 'entity']),
          name: z.string().meta({ description: 'A person’s name is masked for anonymous callers' }),
          masked: z.string(),
        }),
        fields: z
          .record(z.string(), z.unknown())
          .optional()
          .meta({ description: 'Only for a verifier client’s token (scope `licences:verify`)' }),
        validFrom: z.string(),
        validUntil: z.string().optional(),
      })
      .optional(),
    issuer: z
      .object({
        id: z.string(),
        name: z.string(),
        creditCode: z.string(),
        region: z.string().optional().meta({ description: 'The administrative division it serves' }),
        peer: z.object({ id: z.string(), region: z.string(), fetchedAt: z.string() }).optional().meta({
          description:
            'For an issuer of a peer platform (跨地区互认): the peer, and when its trust list was last fetched',
        }),
      })
      .optional(),
    stale: z.boolean().optional().meta({
      description:
        'True when the verdict rests on a peer platform’s copy older than the configured stale age, on its status list past its ttl (the peer could not be reached to refresh it), or on that list past its exp (a revocation, which is final; docs/peers.md)',
    }),
  })
  .meta({
    title: 'VerifyAnswer',
    examples: [
      {
        verdict: 'valid',
        reason: 'ok',
        format: 'credential',
        checkedAt: '2026-03-01T09:30:00.000Z',
        licence: {
          id: '1.2.156.3005.2.003.11110000000021135M.0001.1.3',
          type: 'driving-licence',
          holder: { kind: 'person', name: '张*', masked: '110105********002X' },
          validFrom: '2026-01-05T08:00:00.000Z',
          validUntil: '2032-01-05T08:00:00.000Z',
        },
        issuer: { id: 'iss_3kq9x', name: '北京市公安局公安交通管理局', creditCode: '11110000000021135M' },
      },
      { verdict: 'malformed', reason: 'not_a_credential', checkedAt: '2026-03-01T09:30:00.000Z' },
    ],
  });
export type VerifyResponse = z.output<typeof verifyResponseSchema> & {
  reason: VerificationResult['reason'];
};

/** Fields a verifier client may see: all the token discloses except lookup keys (pseudonyms, not data). */
function visibleFields(type: string, fields: Record<string, unknown>): Record<string, unknown> {
  return publicFields(findLicenceType(type), fields);
}

/** One verifier per set of dependencies: its imported keys are kept across requests. */
const verifiers = new WeakMap<
  VerifyScanDependencies,
  { verifier: Verifier; trust: TrustAnchors; peers?: PeerTrust }
>();

function verifierFor(deps: VerifyScanDependencies): {
  verifier: Verifier;
  trust: TrustAnchors;
  peers?: PeerTrust;
} {
  let made = verifiers.get(deps);
  if (!made) {
    const lifetime = (deps.config?.issuerCacheSeconds ?? 0) * 1000;
    const ours = storeTrust({
      ...deps,
      ...(deps.config?.issuerUrl !== undefined && { issuerUrl: deps.config.issuerUrl }),
      ...(lifetime > 0 && { cache: new IssuerCache(lifetime, deps.clock) }),
    });
    const { platformRegion, peers: peerSettings } = deps.config ?? {};
    const peers =
      deps.peers && platformRegion !== undefined && peerSettings !== undefined
        ? new PeerTrust(deps.peers, { platformRegion, peers: peerSettings }, deps.clock, lifetime)
        : undefined;
    const trust = peers ? withPeers(ours, peers) : ours;
    const verifier = createNodeVerifier({ trust, clock: () => deps.clock.now() });
    made = { verifier, trust, ...(peers && { peers }) };
    verifiers.set(deps, made);
  }
  return made;
}

/**
 * Verdicts reached only after the signature and the signer's trust were checked. `unknown` among them:
 * the record gave no status (none on record, or another issuer's), which the record check names.
 */
const trustedVerdicts: ReadonlySet<VerificationResult['verdict']> = new Set([
  'unknown',
  'valid',
  'suspended',
  'revoked',
  'expired',
  'not_yet_valid',
]);

/**
 * Online, the licence record is the truth (issue 12, finding 3). The library has already refused a type
 * the signer is not given and a licence id naming another credit code or type (from the issuer record,
 * read by `storeTrust`). Then a validly signed token is not `valid` unless the service issued that
 * licence, to that issuer, of that type — and, for a credential, unless it is the very credential on
 * record (so an id can never have two credentials that verify). Anything else is `unknown_issuer`: the
 * signer is not known to have issued this licence. Verdicts that did not get that far (`malformed`,
 * `invalid_signature`, `unknown_issuer`) stand as they are.
 */
async function onRecord(
  qr: string,
  result: VerificationResult,
  read: (licenceId: string) => Promise<LicenceRecord | undefined>,
  trusted: (issuerId: string) => TrustedIssuer | undefined,
): Promise<VerificationResult & { holderKey?: string }> {
  const { licence, issuer } = result;
  if (!trustedVerdicts.has(result.verdict) || !licence || !issuer) return result;
  // The record the status came from (read once per verification), or read now if none was asked.
  const record = await read(licence.id);
  const refuse = (
    reason: VerificationResult['reason'],
    why = 'verified token does not match the licence record',
  ): VerificationResult => {
    logger.warn(why, { reason });
    // Nothing the token claims is shown: it is a claim the service cannot stand behind.
    const { licence: _licence, issuer: _issuer, ...rest } = result;
    return { ...rest, verdict: 'unknown_issuer', reason, status: { source: 'online' } };
  };
  if (!record) return refuse('licence_not_on_record');
  if (record.issuerId !== issuer.id || record.type !== licence.type) return refuse('record_mismatch');
  let parsed: ReturnType<typeof parseLicenceId>;
  try {
    parsed = parseLicenceId(licence.id);
  } catch {
    return refuse('record_mismatch');
  }
  // The library checked these against the trust it was given; checked again here against the record's
  // own id, as cheap as it is, so that no change there can open this door.
  if (parsed.issuerCreditCode !== issuer.creditCode) return refuse('licence_id_issuer_mismatch');
  if (parsed.typeCode !== findLicenceType(licence.type)?.typeCode) return refuse('licence_id_type_mismatch');
  // The very credential on record, compared whole: the text the verifier read, not any text the scan
  // contains (a link could carry the recorded credential in its query and another in its fragment).
  if (result.format === 'credential' && readScan(qr).text !== record.credential) {
    return refuse('record_mismatch');
  }
  // A presentation vouches for the licence's credential, which it does not carry: the key that signed
  // that credential must still be one the trust list publishes for its issuer, as the credential's own
  // verification requires. A key withdrawn after a compromise vouches for nothing (docs/security.md), so
  // its licences' presentations are `unknown_issuer` (`key_not_trusted`) like their QR codes, until the
  // issuer issues them again. Judged by the issuer entry this very verification was given (the
  // per-container issuer cache): no read of its own.
  const entry = result.format === 'presentation' ? trusted(issuer.id) : undefined;
  if (
    result.format === 'presentation' &&
    (!entry ||
      !credentialKeyPublished(record.credential, { keys: entry.keys, batchKeys: entry.batchKeys ?? [] }))
  ) {
    return refuse('key_not_trusted', 'presentation of a licence whose credential key is not published');
  }
  // Whose usage record (用证记录) this verification belongs to, from the record just read.
  return { ...result, holderKey: record.holder.lookupKey };
}

/**
 * Verifies a scan online: signature and trust as the library does, the status from the licence record
 * (so a revocation counts at once, for credentials and presentations alike), the token checked against
 * that record (see {@link onRecord}: it fails closed; the record is read once, for both), then what the
 * caller may see: anonymous callers the type, issuer, masked holder, validity and verdict; verifier
 * clients the holder's name and the disclosed fields too. Audited as `licence.verified` with the caller, the licence
 * (only when its signature verified: anything else is a claim nobody made), its type, the verdict and the
 * time, and of the holder only the lookup key of the licence on record (whose usage record it is: stored,
 * never answered). The answer comes only once its entry is written: if it cannot be, the call fails (no
 * verdict goes unrecorded). `caller` may be a promise (the bearer check, run alongside the verification
 * so that its reads and the licence's go out together): it is awaited before anything is disclosed or
 * recorded, and its failure is the call's.
 *
 * @example
 * ```ts
 * const answer = await verifyScan(body.qr, caller, { requestId }, deps); // { verdict: 'valid', … }
 * ```
 */
export async function verifyScan(
  qr: string,
  asking: VerifyCaller | undefined | Promise<VerifyCaller | undefined>,
  context: { requestId?: string },
  deps: VerifyScanDependencies,
): Promise<VerifyResponse> {
  const record = licenceRecordOnce(deps.licences);
  const { verifier, trust, peers } = verifierFor(deps);
  const seen = issuersSeen(trust);
  // A peer's licence has no record here: its status comes from the peer's status list (docs/peers.md).
  const status: StatusSource = peers
    ? {
        status: (query) =>
          peers.isPeerIssuer(query.issuerId) ? peers.status(query) : record.status.status(query),
      }
    : record.status;
  const verified = verifier.verify(qr, { status, trust: seen.trust });
  // Both settle before either's failure is raised: nothing is left running unobserved.
  const [caller, checked] = await Promise.allSettled([asking, verified]);
  if (caller.status === 'rejected') throw caller.reason;
  if (checked.status === 'rejected') throw checked.reason;
  const peer = checked.value.issuer && peers?.peerOf(checked.value.issuer.id);
  // Online, our licences are checked against their record; a peer's stand on its signature, its peer's
  // trust list and status list (there is no record of it here).
  const result = peer ? checked.value : await onRecord(qr, checked.value, record.read, seen.issuer);
  return answer(qr, caller.value, result, context, deps, peer);
}

/**
 * `trust` for one verification, keeping each issuer entry it hands over (by id): what the record check
 * judges a presentation's credential key by, the entry the verdict rested on. Answers as `trust` does
 * (synchronously on a cache hit, so the licence read still goes out in the same tick).
 */
function issuersSeen(trust: TrustAnchors): {
  trust: TrustAnchors;
  issuer(id: string): TrustedIssuer | undefined;
} {
  const seen = new Map<string, TrustedIssuer>();
  const keep = (found: TrustedIssuer | undefined) => {
    if (found) seen.set(found.id, found);
    return found;
  };
  return {
    trust: {
      issuerById: (id) => afterAnswer(trust.issuerById(id), keep),
      issuerByCreditCode: (creditCode) => afterAnswer(trust.issuerByCreditCode(creditCode), keep),
      platformKeys: () => trust.platformKeys(),
      ...(trust.presentationKeys && { presentationKeys: () => trust.presentationKeys!() }),
      ...(trust.freshness && { freshness: () => trust.freshness!() }),
    },
    issuer: (id) => seen.get(id),
  };
}

/**
 * The library's verdict as `POST /verify` answers it: one of API.md's eight. The library says `unknown`
 * when no status can be had; online, our licence's status is its record's (a licence with no record is
 * `unknown_issuer` by {@link onRecord}), so only a peer's licence whose status list the peer cannot give
 * (unreachable, or every copy held past its `exp` and not saying revoked) gets here: no honest verdict exists then, and the
 * call fails (`502 peer_unreachable`, unaudited as no verdict went out) rather than answer `valid`.
 */
function onlineVerdict(result: VerificationResult, peer: PeerOfIssuer | undefined): OnlineVerdict {
  if (result.verdict !== 'unknown') return result.verdict;
  if (peer) {
    throw new DependencyError('The peer licence’s status list cannot be had', 'peer_unreachable');
  }
  throw new InternalError(`A verdict of ours without a status: ${result.reason}`);
}

/**
 * The licence id a credential whose signature failed claims to be (its unverified `jti`), when it is a
 * well-formed licence id: supervision counts forged or tampered scans per licence by it
 * (shared/supervision/alert-rules.ts). Never the licence's own audit entry: nobody made that claim.
 */
function claimedLicenceId(qr: string, result: VerificationResult): string | undefined {
  if (result.verdict !== 'invalid_signature') return undefined;
  try {
    const [, payload] = readScan(qr).text.split('.');
    if (!payload) return undefined;
    const jti = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti?: unknown }).jti;
    return typeof jti === 'string' ? parseLicenceId(jti).id : undefined;
  } catch {
    return undefined;
  }
}

/** What the caller may see of a verdict, released once its audit entry is written. */
async function answer(
  qr: string,
  caller: VerifyCaller | undefined,
  result: VerificationResult & { holderKey?: string },
  context: { requestId?: string },
  deps: VerifyScanDependencies,
  peer?: PeerOfIssuer,
): Promise<VerifyResponse> {
  const response: VerifyResponse = {
    verdict: onlineVerdict(result, peer),
    reason: result.reason,
    ...(result.format ? { format: result.format } : {}),
    checkedAt: result.checkedAt,
  };
  const { licence, issuer } = result;
  if (licence) {
    const holder = licence.holder;
    response.licence = {
      id: licence.id,
      type: licence.type,
      holder: {
        kind: holder.kind,
        name: caller || holder.kind === 'entity' ? holder.name : maskPersonName(holder.name),
        masked: holder.masked,
      },
      ...(caller ? { fields: visibleFields(licence.type, licence.fields) } : {}),
      validFrom: licence.validFrom,
      ...(licence.validUntil ? { validUntil: licence.validUntil } : {}),
    };
  }
  if (issuer) {
    response.issuer = {
      id: issuer.id,
      name: issuer.name,
      creditCode: issuer.creditCode,
      ...(issuer.region !== undefined && { region: issuer.region }),
      ...(peer && { peer: { id: peer.id, region: peer.region, fetchedAt: peer.fetchedAt } }),
    };
    // A peer's status read from its list held past its `ttl` (the refresh failed) is said stale, as is its
    // revocation read from a list held past its `exp` (which stands: revocation is final).
    if (peer && (peer.stale || result.status.stale || result.status.expired)) response.stale = true;
  }

  // Durable before the answer is released: a verdict whose entry cannot be written is an error instead.
  const claimed = licence ? undefined : claimedLicenceId(qr, result);
  const entry: AuditEntry & { claimedLicenceId?: string } = {
    // A peer's licence: which peer vouched for its issuer.
    ...(peer && issuer ? { peerId: peer.id } : {}),
    at: result.checkedAt,
    actor: caller?.clientId ?? 'anonymous',
    action: 'licence.verified',
    ...(licence ? { licenceId: licence.id, licenceType: licence.type } : {}),
    ...(issuer ? { issuerId: issuer.id } : {}),
    ...(result.holderKey ? { holderKey: result.holderKey } : {}),
    // Not the licence's entry (nobody made this claim): what supervision counts forged scans of.
    ...(claimed ? { claimedLicenceId: claimed } : {}),
    verdict: result.verdict,
    reason: result.reason,
    requestId: context.requestId,
  };
  await deps.audit.record(entry).catch((error: unknown) => {
    logger.error('audit entry not written: no verdict is given', { error: String(error) });
    throw error;
  });
  return response;
}
