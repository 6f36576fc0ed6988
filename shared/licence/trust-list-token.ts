import { createHash } from 'node:crypto';
import { trustListTokenType, type TrustListKey } from '../../packages/verifier/src/trust-list.js';
import { epochSeconds, type Clock } from '../clock.js';
import { signCompactJws } from '../crypto/compact-jws.js';
import { InternalError } from '../errors.js';
import type { Signer } from '../crypto/signer.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import type { PeerStore } from '../issuers/peer-store.js';
import { peerTrustListIssuers, type PeerSettings } from '../issuers/peers.js';
import { findLicenceType } from './catalogue.js';
import { canonicalJson, trustListIssuers } from './trust-list.js';
import { LIST_SIZE, type StatusListStore } from './status-list-store.js';
import type { TrustListStore } from './trust-list-store.js';

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
  const { platformRegion, peers: peerSettings } = deps.config;
  if (peers.length > 0 && platformRegion !== undefined && peerSettings !== undefined) {
    // The peers' active issuers, after ours (docs/peers.md): a peer changing, or going stale past the
    // hard maximum age, changes the content, so the list is signed again.
    const now = deps.clock.now();
    issuers.push(
      ...peerTrustListIssuers(peers, all, now, { platformRegion, peers: peerSettings })
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        // Their status lists are read from us (relayed unchanged, functions/status-lists.ts): the
        // verifier page may fetch from its own origin only, and a peer need not be reachable by apps.
        .map((entry) => ({ ...entry, statusBase: iss })),
    );
  }
  // The platform key's kid too: after a rotation the list is signed again by the new key.
  const [kid, presentationKeys] = await Promise.all([
    deps.platformSigner.kid(),
    presentationJwks([deps.presentationSigner, ...deps.presentationPreviousSigners]),
  ]);
  const contentHash = createHash('sha256')
    .update(canonicalJson({ iss, kid, ttl: TRUST_LIST_TTL_SECONDS, issuers, presentationKeys }))
    .digest('base64url');
  const now = epochSeconds(deps.clock);

  const cached = await deps.trustList.find();
  if (
    cached?.contentHash === contentHash &&
    cached.iat <= now &&
    now - cached.iat < TRUST_LIST_RESIGN_AGE_SECONDS &&
    cached.exp - now > TRUST_LIST_REFRESH_SECONDS
  ) {
    // What is left of its ttl: no cache should hand out a list verifiers would find stale.
    return { jws: cached.jws, ttl: cached.iat + TRUST_LIST_TTL_SECONDS - now };
  }

  const exp = now + TRUST_LIST_LIFETIME_SECONDS;
  const jws = await signCompactJws(
    { typ: trustListTokenType },
    { iss, iat: now, exp, ttl: TRUST_LIST_TTL_SECONDS, issuers, presentationKeys },
    deps.platformSigner,
  );
  await deps.trustList.save({ jws, contentHash, iat: now, exp }, cached?.version ?? 0);
  return { jws, ttl: TRUST_LIST_TTL_SECONDS };
}

/** The presentation keys as the list names them: public members only, a key given twice named once. */
async function presentationJwks(
  signers: ReadonlyArray<Pick<Signer, 'publicJwk'>>,
): Promise<{ keys: TrustListKey[] }> {
  const keys = new Map<string, TrustListKey>();
  for (const { kty, crv, x, y, kid } of await Promise.all(signers.map((signer) => signer.publicJwk()))) {
    if (kty !== 'EC' || crv !== 'P-256' || !x || !y || !kid) {
      // A misconfigured PRESENTATION_KEY_ID: no list rather than one naming a key no verifier can use.
      throw new InternalError(
        `A presentation key must be ES256 on P-256 (got ${String(kty)} ${String(crv)})`,
        'unsupported_key',
      );
    }
    if (!keys.has(kid)) keys.set(kid, { kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256', use: 'sig' });
  }
  return { keys: [...keys.values()] };
}
