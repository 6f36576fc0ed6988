import { createHash } from 'node:crypto';
import { trustListTokenType, type TrustListKey } from '../../packages/verifier/src/trust-list.js';
import { epochSeconds, type Clock } from '../clock.js';
import { signCompactJws } from '../crypto/compact-jws.js';
import { signingKeySet, type PublishedKey } from '../crypto/key-set.js';
import { InternalError } from '../errors.js';
import type { Signer } from '../crypto/signer.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import {
  jsonBytes,
  peersThatFit,
  peerTrustListLimits,
  signedListChars,
  TRUST_LIST_MAX_PAYLOAD_BYTES,
} from '../issuers/peer-limits.js';
import type { PeerStore } from '../issuers/peer-store.js';
import { listedPeerIssuers, type PeerSettings } from '../issuers/peers.js';
import { alarmedLines, logger } from '../logger.js';
import { findLicenceType } from './catalogue.js';
import { MAX_IAT_LEAD_SECONDS, nextIat } from './signed-at.js';
import { canonicalJson, trustListIssuers } from './trust-list.js';
import { LIST_SIZE, type StatusListStore } from './status-list-store.js';
import type { SignedTrustList, TrustListStore } from './trust-list-store.js';

/** `ttl`: a new or withdrawn issuer reaches verifiers that follow it within the hour. */
export const TRUST_LIST_TTL_SECONDS = 3_600;
/** `exp`: a week, so that an offline verifier keeps its trust anchors through a long disconnection. */
export const TRUST_LIST_LIFETIME_SECONDS = 7 * 86_400;
/** Re-signed once less than a day remains, so every trust list served is good for at least six days. */
export const TRUST_LIST_REFRESH_SECONDS = 86_400;
/**
 * Re-signed once this old: verifiers count its freshness from its `iat` (an old list replayed must not
 * pass for news), so every trust list served has at least half its `ttl` left. One signature per 30 min.
 */
export const TRUST_LIST_RESIGN_AGE_SECONDS = TRUST_LIST_TTL_SECONDS / 2;

export interface TrustListDependencies {
  issuers: Pick<IssuerStore, 'listAll'>;
  statusLists: Pick<StatusListStore, 'allocated'>;
  trustList: TrustListStore;
  platformSigner: Signer;
  /**
   * The presentation key and the generations being retired: their public keys are the list's
   * `presentationKeys`, the only keys verifiers accept a presentation from (never in the OpenID JWKS).
   */
  presentationSigner: Pick<Signer, 'publicJwk'>;
  presentationPreviousSigners: ReadonlyArray<Pick<Signer, 'publicJwk'>>;
  clock: Clock;
  /** Peer platforms (跨地区互认): their accepted issuers are listed too, each with `peer`. */
  peers?: Pick<PeerStore, 'list'>;
  config: { issuerUrl: string } & Partial<PeerSettings>;
}

/**
 * Logged (WARN, at any `LOG_LEVEL`: {@link alarmedLines}) each time a list is signed whose own issuers
 * alone (signed, without the peers') are over {@link peerTrustListLimits}' bytes, the most a peer running
 * this service reads of our list (review R40 L1): every such peer now refuses our list whole
 * (`too_large`), keeps its last copy and drops our issuers at its `PEER_MAX_AGE_SECONDS`. Batch keys
 * are what fills it (about 1,290 characters each): see docs/batch-issuance.md, "How many batch keys".
 */
export const trustListOverPeerLimitLine =
  'trust list over a peer’s limit: peers running this service refuse it';

/**
 * The trust list (互通互认): a JWT signed by the platform key (`typ: trust-list+jwt`) naming every issuer
 * with its status and public keys, what offline verifiers and other regions' platforms need to check
 * licences. Payload `{ iss, iat, exp, ttl, issuers: [{ id, name, creditCode, region, status, jwks,
 * licenceTypes: [{ code, typeCode }], statusLists }], presentationKeys: { keys } }`, `statusLists` (how many
 * lists an active issuer has) re-signing the list when it grows. `presentationKeys` is a JWKS of the keys
 * that sign presentations (the presentation key, then those being retired; each under its RFC 7638
 * thumbprint kid, whose first 8 bytes a presentation's COSE `kid` carries): under the list's signature
 * rather than in `/.well-known/jwks.json`, where a relying party would accept them for ID tokens.
 *
 * Signed lazily: the stored token is served while the content it was signed over (issuers, issuer URL,
 * ttl, platform key, presentation keys) hashes the same, it is younger than {@link TRUST_LIST_RESIGN_AGE_SECONDS} and more
 * than {@link TRUST_LIST_REFRESH_SECONDS} from `exp`; otherwise a new
 * one is signed (one KMS call) and stored with a conditional write, so concurrent requests do not fight.
 * Answers the token, and `ttl`: the seconds a consumer may cache it (what is left of its `ttl` from its
 * `iat`).
 *
 * The peers' issuers come after ours, each peer whole or not at all while the signed list stays within
 * `TRUST_LIST_MAX_CHARS` (oldest registration first; a peer left out is logged when signing): the peers'
 * registrations and refreshes keep to that room already, so this bites only when our own issuers grew
 * since. A token signed but not stored (the table refused or failed the write) is answered all the same
 * and kept by this container, which answers it again rather than signing anew while it would be served
 * if stored: a store that keeps failing costs one signature per change of content per container and
 * {@link TRUST_LIST_RESIGN_AGE_SECONDS}, never one per request (review R23: each anonymous
 * `GET /trust-list` used to sign, then fail with a 503).
 *
 * @example
 * ```ts
 * const { jws, ttl } = await trustListToken(dependencies());
 * ```
 */
export async function trustListToken(deps: TrustListDependencies): Promise<{ jws: string; ttl: number }> {
  const iss = deps.config.issuerUrl;
  const [all, peers] = await Promise.all([deps.issuers.listAll(), deps.peers?.list() ?? []]);
  // Each active issuer's list count, so that verifiers fetch exactly its lists instead of probing to a 404.
  const counts = new Map(
    await Promise.all(
      all
        .filter((issuer) => issuer.status === 'active')
        .map(async (issuer) => {
          const allocated = await deps.statusLists.allocated(issuer.id);
          return [issuer.id, Math.ceil(allocated / LIST_SIZE)] as const;
        }),
    ),
  );
  const issuers = trustListIssuers(all, counts, (code) => findLicenceType(code)?.typeCode);
  // The platform key's kid too: after a rotation the list is signed again by the new key.
  const [kid, presentationKeys] = await Promise.all([
    deps.platformSigner.kid(),
    presentationJwks(deps.presentationSigner, deps.presentationPreviousSigners),
  ]);
  const now = epochSeconds(deps.clock);
  const { platformRegion, peers: peerSettings } = deps.config;
  let leftOut: Array<{ peer: string; bytes: number }> = [];
  // Our own part, sized as signed: the dates take the same room whichever second they name.
  const ownBytes = jsonBytes({
    iss,
    iat: now,
    exp: now + TRUST_LIST_LIFETIME_SECONDS,
    ttl: TRUST_LIST_TTL_SECONDS,
    issuers,
    presentationKeys,
  });
  if (peers.length > 0 && platformRegion !== undefined && peerSettings !== undefined) {
    // The peers' active issuers, after ours (docs/peers.md): a peer changing, or going stale past the
    // hard maximum age, changes the content, so the list is signed again. Only as many peers as the
    // stored item has room for (peer-limits.ts).
    const listed = listedPeerIssuers(peers, all, deps.clock.now(), {
      platformRegion,
      peers: peerSettings,
      issuerUrl: iss,
    });
    const fitting = peersThatFit(listed, TRUST_LIST_MAX_PAYLOAD_BYTES - ownBytes);
    leftOut = fitting.leftOut;
    issuers.push(...fitting.within.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  }
  const contentHash = createHash('sha256')
    .update(canonicalJson({ iss, kid, ttl: TRUST_LIST_TTL_SECONDS, issuers, presentationKeys }))
    .digest('base64url');
  /** Whether a token signed earlier says this content and is young enough to be served. */
  const servable = (token: SignedTrustList): boolean =>
    token.contentHash === contentHash &&
    token.iat <= now + MAX_IAT_LEAD_SECONDS &&
    now - token.iat < TRUST_LIST_RESIGN_AGE_SECONDS &&
    token.exp - now > TRUST_LIST_REFRESH_SECONDS;
  // What is left of its ttl: no cache should hand out a list verifiers would find stale.
  const served = (token: SignedTrustList) => ({
    jws: token.jws,
    ttl: Math.min(token.iat + TRUST_LIST_TTL_SECONDS - now, TRUST_LIST_TTL_SECONDS),
  });

  const cached = await deps.trustList.find();
  if (cached && servable(cached)) return served(cached);
  const unsaved = unsavedTokens.get(deps.trustList);
  if (unsaved && servable(unsaved)) return served(unsaved);
  // Strictly after the list signed before (R32 M1): one re-signed within the same second (two changes a
  // moment apart) is dated a second later, so that verifiers can tell it from the earlier (signed-at.ts).
  const previous = Math.max(cached?.iat ?? -Infinity, unsaved?.iat ?? -Infinity);
  const iat = nextIat(now, Number.isFinite(previous) ? previous : undefined);
  const latest = unsaved && (!cached || unsaved.iat > cached.iat) ? unsaved : cached;
  // Already a burst ahead of the clock: the latest list stands until the clock catches up (seconds).
  if (iat === undefined && latest) return served(latest);
  const signedAt = iat ?? now;
  const exp = signedAt + TRUST_LIST_LIFETIME_SECONDS;

  if (leftOut.length > 0) {
    logger.error('trust list full: peers left out', {
      leftOut,
      maxPayloadBytes: TRUST_LIST_MAX_PAYLOAD_BYTES,
    });
  }
  const jws = await signCompactJws(
    { typ: trustListTokenType },
    { iss, iat: signedAt, exp, ttl: TRUST_LIST_TTL_SECONDS, issuers, presentationKeys },
    deps.platformSigner,
  );
  // Past what a peer running this service reads (R40 L1): said once signed, by the function that signs
  // (a serving function hands the signature to the list signer: `list-signer.ts`), once per signature.
  const ownChars = signedListChars(ownBytes);
  if (ownChars > peerTrustListLimits.bytes) {
    const ownIssuers = issuers.filter((entry) => entry.peer === undefined);
    alarmedLines.warn(trustListOverPeerLimitLine, {
      ownChars,
      peerLimitBytes: peerTrustListLimits.bytes,
      issuers: ownIssuers.length,
      batchKeys: ownIssuers.reduce((sum, entry) => sum + (entry.batchKeys?.length ?? 0), 0),
    });
  }
  const token = { jws, contentHash, iat: signedAt, exp };
  try {
    await deps.trustList.save(token, cached?.version ?? 0);
    unsavedTokens.delete(deps.trustList);
  } catch (error) {
    // Signed and good: answered, and kept here so that the next requests do not sign it again.
    logger.error('trust list signed but not stored: this container answers it until it is due again', {
      chars: jws.length,
      error: { name: (error as Error).name, message: (error as Error).message },
    });
    unsavedTokens.set(deps.trustList, token);
  }
  return { jws, ttl: TRUST_LIST_TTL_SECONDS };
}

/** Per store (one per container): the last token signed that could not be stored (see {@link trustListToken}). */
const unsavedTokens = new WeakMap<TrustListStore, SignedTrustList>();

/** The presentation keys as the list names them: public members only, a key given twice named once. */
async function presentationJwks(
  signing: PublishedKey,
  previous: ReadonlyArray<PublishedKey>,
): Promise<{ keys: TrustListKey[] }> {
  const keys: TrustListKey[] = [];
  for (const { kty, crv, x, y, kid } of (await signingKeySet(signing, previous)).keys) {
    if (kty !== 'EC' || crv !== 'P-256' || !x || !y || !kid) {
      // A misconfigured PRESENTATION_KEY_ID: no list rather than one naming a key no verifier can use.
      throw new InternalError(
        `A presentation key must be ES256 on P-256 (got ${String(kty)} ${String(crv)})`,
        'unsupported_key',
      );
    }
    keys.push({ kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256', use: 'sig' });
  }
  return { keys };
}
