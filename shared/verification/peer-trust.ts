/**
 * `POST /verify` for licences of peer platforms (跨地区互认, docs/peers.md): their issuers as our trust
 * list names them (the peers' records, kept per container), and their statuses from the peers' own
 * status lists, fetched, checked against the peer issuer's keys and cached.
 *
 * @packageDocumentation
 */
import type { Clock } from '../clock.js';
import type { PeerRecord, PeerStore } from '../issuers/peer-store.js';
import {
  onPeerChange,
  PEER_CLOCK_SKEW_SECONDS,
  peerTrustListIssuers,
  type PeerSettings,
} from '../issuers/peers.js';
import { logger } from '../logger.js';
import { nodeEs256, zlibCompression } from '../../packages/verifier/src/node.js';
import { afterAnswer } from '../../packages/verifier/src/maybe-promise.js';
import { OfflineTrustStore } from '../../packages/verifier/src/offline-store.js';
import type {
  StatusAnswer,
  StatusQuery,
  StatusSource,
  TrustAnchors,
  TrustedIssuer,
} from '../../packages/verifier/src/trust.js';

/** Who vouches for a peer issuer, for the verdict: the peer, where, and how fresh its copy is. */
export interface PeerOfIssuer {
  id: string;
  region: string;
  fetchedAt: string;
  /** The copy is older than the stale age (`PEER_STALE_SECONDS`). */
  stale: boolean;
}

interface Loaded {
  until: number;
  byId: Map<string, { issuer: TrustedIssuer; peer: PeerRecord }>;
  byCreditCode: Map<string, TrustedIssuer>;
}

/**
 * The peers' issuers and status lists as one container sees them: the peer records are read (one query)
 * at most once per `lifetimeMs` and at once after a peer write in this process; each peer's status
 * lists are held by an {@link OfflineTrustStore} on the peer's pinned keys and last good trust list,
 * made anew whenever the peer is refreshed (a refresh drops what was cached of its lists; a failed one
 * keeps them, as the peer may be down).
 *
 * @example
 * ```ts
 * const peers = new PeerTrust(deps.peers, config, clock, 30_000);
 * const issuer = await peers.issuerById('iss_b');
 * ```
 */
export class PeerTrust implements StatusSource {
  private loaded: Loaded | undefined;
  private loading: Promise<Loaded> | undefined;
  private readonly stores = new Map<string, { copy: string; store: Promise<OfflineTrustStore> }>();

  constructor(
    private readonly peers: Pick<PeerStore, 'list'>,
    private readonly config: PeerSettings,
    private readonly clock: Clock,
    private readonly lifetimeMs: number,
    private readonly fetcher: typeof fetch = (input, init) => globalThis.fetch(input, init),
  ) {
    onPeerChange(this);
  }

  /** Forgets the peers read (a peer was written in this process). */
  invalidate(): void {
    this.loaded = undefined;
    this.loading = undefined;
  }

  /** The peers' issuers now: synchronously while the last read is within its lifetime. */
  private current(): Loaded | Promise<Loaded> {
    const now = this.clock.now();
    if (this.loaded && now < this.loaded.until) return this.loaded;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<Loaded> {
    const records = await this.peers.list();
    const now = this.clock.now();
    const byPeer = new Map(records.map((peer) => [peer.id, peer]));
    const byId = new Map<string, { issuer: TrustedIssuer; peer: PeerRecord }>();
    const byCreditCode = new Map<string, TrustedIssuer>();
    // The same entries our trust list names (usable peers, no duplicates, none in our region).
    for (const entry of peerTrustListIssuers(records, [], now, this.config)) {
      const peer = byPeer.get(entry.peer);
      if (!peer) continue;
      const issuer: TrustedIssuer = {
        id: entry.id,
        name: entry.name,
        creditCode: entry.creditCode,
        region: entry.region,
        status: entry.status,
        keys: entry.jwks.keys,
        licenceTypes: entry.licenceTypes ?? [],
        ...(entry.statusLists !== undefined && { statusLists: entry.statusLists }),
        // Its certified batch keys, as our trust list names them (the verifier checks each certificate
        // against the issuer's own keys): without them a peer's bulk-issued licences verified
        // `key_not_trusted` online here while offline verifiers took them (review R36 M1).
        ...(entry.batchKeys !== undefined && { batchKeys: entry.batchKeys }),
        statusBase: entry.statusBase,
        peer: entry.peer,
        // Its credentials name the peer's own URL: one naming another platform is not this issuer's.
        issuerUrl: entry.issuerUrl,
      };
      byId.set(issuer.id, { issuer, peer });
      byCreditCode.set(issuer.creditCode, issuer);
    }
    // A peer removed or refreshed: its status lists go with its old copy. A failed refresh keeps them.
    for (const [id, held] of this.stores) {
      const peer = byPeer.get(id);
      if (!peer || copyOf(peer) !== held.copy) this.stores.delete(id);
    }
    const loaded = { until: now + this.lifetimeMs, byId, byCreditCode };
    this.loaded = loaded;
    return loaded;
  }

  issuerById(id: string): TrustedIssuer | undefined | Promise<TrustedIssuer | undefined> {
    const current = this.current();
    if (current instanceof Promise) return current.then((loaded) => loaded.byId.get(id)?.issuer);
    return current.byId.get(id)?.issuer;
  }

  issuerByCreditCode(creditCode: string): TrustedIssuer | undefined | Promise<TrustedIssuer | undefined> {
    const current = this.current();
    if (current instanceof Promise) return current.then((loaded) => loaded.byCreditCode.get(creditCode));
    return current.byCreditCode.get(creditCode);
  }

  /** The peer behind one of its issuers, as last read (after a verification, so without a read). */
  peerOf(issuerId: string): PeerOfIssuer | undefined {
    const found = this.loaded?.byId.get(issuerId);
    if (!found) return undefined;
    const { peer } = found;
    return {
      id: peer.id,
      region: peer.region,
      fetchedAt: peer.fetchedAt,
      stale: this.clock.now() - Date.parse(peer.fetchedAt) > this.config.peers.staleSeconds * 1000,
    };
  }

  /** Whether `issuerId` is a peer's issuer (as last read). */
  isPeerIssuer(issuerId: string): boolean {
    return this.loaded?.byId.has(issuerId) ?? false;
  }

  /**
   * A peer licence's status from its peer's status list: the copy held while within its `ttl`, else
   * fetched again from the peer (bounded by the fetch timeout); if that fails, the copy held, stale. A
   * copy held past its `exp` answers only `revoked` (revocation is final; its freshness says `expired`).
   * Nothing when no list can be had (or the expired copy says valid or suspended): the library's verdict
   * is then `unknown`, which `POST /verify` answers as `502 peer_unreachable` (`verify-scan.ts`), never
   * `valid`.
   */
  async status(query: StatusQuery): Promise<StatusAnswer | undefined> {
    const found = (await this.current()).byId.get(query.issuerId);
    if (!found || !query.list) return undefined;
    let store: OfflineTrustStore;
    try {
      store = await this.storeFor(found.peer);
    } catch (error) {
      // A copy the store refuses (its trust list past its `exp`, say) vouches for no status: none, not a 500.
      logger.warn('peer trust list copy not usable: no status', {
        peer: found.peer.id,
        error: String(error),
      });
      return undefined;
    }
    const held = store.status(query);
    if (held && !held.freshness?.stale) return held;
    try {
      await store.refreshStatusList(query.list.uri, {
        signal: AbortSignal.timeout(this.config.peers.fetchTimeoutMs),
      });
    } catch (error) {
      logger.warn('peer status list not refreshed: the copy held, if any, answers', {
        peer: found.peer.id,
        error: String(error),
      });
    }
    return store.status(query) ?? held;
  }

  private storeFor(peer: PeerRecord): Promise<OfflineTrustStore> {
    const held = this.stores.get(peer.id);
    if (held?.copy === copyOf(peer)) return held.store;
    const store = (async () => {
      const offline = new OfflineTrustStore({
        baseUrl: peer.baseUrl,
        crypto: nodeEs256,
        compression: zlibCompression,
        platformKeys: peer.jwks.keys,
        fetch: this.fetcher,
        clock: () => this.clock.now(),
        // As for the peer's trust list: a status list signed further ahead of our clock is refused
        // (`clock_skew`), never held, so that it cannot make the peer's genuine later lists look older.
        clockSkewSeconds: PEER_CLOCK_SKEW_SECONDS,
      });
      // The last good copy, verified again against the pinned keys.
      await offline.restore({
        version: 1,
        platformKeys: { keys: peer.jwks.keys, fetchedAt: Date.parse(peer.fetchedAt) },
        trustList: { jws: peer.trustList.jws, fetchedAt: Date.parse(peer.fetchedAt) },
        statusLists: [],
      });
      return offline;
    })();
    // A store that failed to restore is not kept: the next verification tries again.
    store.catch(() => this.stores.delete(peer.id));
    this.stores.set(peer.id, { copy: copyOf(peer), store });
    return store;
  }
}

/** Which fetch of a peer's trust list a record holds: a successful refresh changes it, a failed one not. */
function copyOf(peer: PeerRecord): string {
  return `${peer.trustList.iat}@${peer.fetchedAt}`;
}

/**
 * Our issuers first (`ours`), then the peers': an issuer of ours always wins over a peer's claim.
 *
 * @example
 * ```ts
 * const trust = withPeers(storeTrust(deps), peerTrust);
 * ```
 */
export function withPeers(ours: TrustAnchors, peers: PeerTrust): TrustAnchors {
  const presentationKeys = ours.presentationKeys?.bind(ours);
  // Any thenable a store answers with, not only this realm's Promise (see maybe-promise.ts).
  const then = <T>(value: T | Promise<T>, next: (value: T) => T | Promise<T>): T | Promise<T> =>
    afterAnswer(value, next);
  return {
    issuerById: (id) => then(ours.issuerById(id), (found) => found ?? peers.issuerById(id)),
    issuerByCreditCode: (creditCode) =>
      then(ours.issuerByCreditCode(creditCode), (found) => found ?? peers.issuerByCreditCode(creditCode)),
    platformKeys: () => ours.platformKeys(),
    // Presentations are ours alone: a peer's are not accepted here (nor were they before).
    ...(presentationKeys && { presentationKeys }),
  };
}
