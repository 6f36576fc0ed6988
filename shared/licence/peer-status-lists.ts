/**
 * A peer platform's status lists served from our `/status-lists/{listId}` (跨地区互认, docs/peers.md):
 * the verifier page (CSP `connect-src 'self'`) and verifier apps that ignore `statusBase` can then read a
 * peer licence's status from us. The peer's token is relayed byte for byte: it is signed by the peer
 * issuer's key, so verifiers check it exactly as if fetched from the peer, and relaying adds no trust.
 *
 * @packageDocumentation
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { statusListTokenClaims, statusListTokenType } from '../../packages/verifier/src/claims.js';
import type { Clock } from '../clock.js';
import { DependencyError, NotFoundError } from '../errors.js';
import { readBoundedText } from '../http/bounded-body.js';
import { parseListId, statusListUri } from './status-list-store.js';
import { logger } from '../logger.js';
import type { PeerIssuer, PeerStore } from '../issuers/peer-store.js';
import {
  onPeerChange,
  PEER_CLOCK_SKEW_SECONDS,
  peerTrustListIssuers,
  type PeerSettings,
} from '../issuers/peers.js';

/** How long a relayed token is kept per container: a revocation at the peer shows here within a minute. */
export const PEER_STATUS_LIST_CACHE_SECONDS = 60;
/**
 * How long a peer's 404, or its failure, is kept per container: an anonymous caller asking again (or for
 * the same missing list) within it gets the same answer without our fetching from the peer again.
 */
export const PEER_STATUS_LIST_FAILURE_SECONDS = 60;
/**
 * A status list token larger than this is no list to relay (ours are a few KiB; a full list of 2^17
 * two-bit entries that compress badly is 64 KiB, 86 KiB in base64url): read no further.
 */
const MAX_TOKEN_BYTES = 4 * 1024 * 1024;
/** Lists remembered per container (tokens held, failures kept): bounded, whatever peers' lists say. */
const MAX_LISTS_HELD = 10_000;

export interface PeerStatusListDependencies {
  peers: Pick<PeerStore, 'list'>;
  clock: Clock;
  config: PeerSettings & { issuerCacheSeconds: number };
  /** The HTTP client peers are fetched with (`globalThis.fetch`; a fake in unit tests). */
  fetch?: typeof fetch;
}

interface Relayed {
  jws: string;
  /** Its `iat + ttl` (ms): what a consumer may cache is counted from there. */
  freshUntil: number;
  /** Kept in this container until then (ms); past it, fetched again. */
  keptUntil: number;
  /** Its `exp` (ms): until then it is the last good copy, served while the peer cannot be reached. */
  expiresAt: number;
  /** Its `iat` (s): a token fetched later that was signed earlier is not relayed in its place. */
  iat: number;
}

/**
 * Relays peer issuers' Status List Tokens. Only for an issuer our trust list names as a usable peer's
 * (the peer records are read, one query, at most once per `issuerCacheSeconds`, and at once after a
 * peer write in this process); the URL is built from the peer's registered base URL and the validated
 * list id, never from the request (no open proxy); the answer is relayed only if it verifies as a
 * status list of that very issuer and list (its keys from the peer's verified trust list), not expired.
 * Each token is kept {@link PEER_STATUS_LIST_CACHE_SECONDS} at most; concurrent requests share a fetch.
 * While the peer cannot be reached (or answers garbage), the last good token is served until its own
 * `exp`, with a `ttl` of 0 so that no one caches it further: the same rule as the peer's trust list (the
 * last good copy, with its age), and no weaker, since verifiers check the token's signature and `exp`.
 *
 * @example
 * ```ts
 * const relay = new PeerStatusListRelay({ peers, clock, config });
 * const found = await relay.token('iss_b.0'); // undefined: not a peer issuer's list
 * ```
 */
export class PeerStatusListRelay {
  private issuers: { until: number; byId: Map<string, PeerIssuer> } | undefined;
  private readonly held = new Map<string, Relayed>();
  private readonly inFlight = new Map<string, Promise<Relayed>>();
  /** The peer's last 404 or failure per list, kept {@link PEER_STATUS_LIST_FAILURE_SECONDS}. */
  private readonly failed = new Map<string, { error: NotFoundError | DependencyError; until: number }>();

  constructor(private readonly deps: PeerStatusListDependencies) {
    onPeerChange(this);
  }

  /**
   * A peer was written in this process: its issuers and lists are read again. The tokens held stay as
   * last good copies (a refresh that found the peer down writes it too, which is exactly when they are
   * needed); an issuer no longer a usable peer's is refused before any of them is looked at.
   */
  invalidate(): void {
    this.issuers = undefined;
    for (const relayed of this.held.values()) relayed.keptUntil = 0;
    this.failed.clear();
  }

  /**
   * The token of a peer issuer's list and the seconds a consumer may cache it; `undefined` when the list
   * id names no usable peer's issuer, or a list beyond the count the peer's signed trust list gives that
   * issuer (`statusLists`; none when it gives none): nothing is fetched for those. A peer's 404 is a
   * `NotFoundError` (`status_list_not_found`); a peer that cannot be reached or answers anything but that
   * list, a `DependencyError` (`peer_unreachable`, `peer_bad_response`: 502). Either is kept
   * {@link PEER_STATUS_LIST_FAILURE_SECONDS} and answered again without a fetch (with the last good token,
   * when one is held, for a failure).
   */
  async token(listId: string): Promise<{ jws: string; ttl: number } | undefined> {
    const parsed = parseListId(listId);
    if (!parsed) return undefined;
    const issuer = (await this.peerIssuers()).get(parsed.issuerId);
    if (!issuer) return undefined;
    // The peer's trust list says how many lists the issuer has: any other number is not asked of the peer.
    if (parsed.list >= (issuer.statusLists ?? 0)) return undefined;
    const now = this.deps.clock.now();
    let relayed = this.held.get(listId);
    if (!relayed || relayed.keptUntil <= now) {
      try {
        relayed = await this.fetchOrRecall(listId, issuer, now);
      } catch (error) {
        const lastGood = this.held.get(listId);
        if (!(error instanceof DependencyError) || !lastGood || lastGood.expiresAt <= this.deps.clock.now()) {
          this.held.delete(listId);
          throw error;
        }
        logger.warn('peer status list: serving the last good copy', {
          peer: issuer.peer,
          listId,
          code: error.code,
          expiresAt: new Date(lastGood.expiresAt).toISOString(),
        });
        return { jws: lastGood.jws, ttl: 0 };
      }
      const held = this.held.get(listId);
      if (held && held !== relayed && held.expiresAt > now && rolledBack(relayed, held)) {
        // Whoever answers our requests to the peer (a cache, a network attacker) must not bring back a list
        // from before a revocation through us: the copy held stays, as a verifier's store keeps its own
        // (R32 M1). Kept another minute, so that the peer is not asked on every request meanwhile.
        logger.warn('peer status list signed before the copy held: the held copy stays', {
          peer: issuer.peer,
          listId,
          iat: relayed.iat,
          heldIat: held.iat,
        });
        held.keptUntil = now + PEER_STATUS_LIST_CACHE_SECONDS * 1000;
        relayed = held;
      }
      remember(this.held, listId, relayed);
    }
    return {
      jws: relayed.jws,
      ttl: Math.max(0, Math.floor((relayed.freshUntil - this.deps.clock.now()) / 1000)),
    };
  }

  /**
   * The token fetched now (one fetch for concurrent callers), or the peer's 404 or failure of the last
   * {@link PEER_STATUS_LIST_FAILURE_SECONDS} thrown again without a fetch.
   */
  private async fetchOrRecall(listId: string, issuer: PeerIssuer, now: number): Promise<Relayed> {
    const failure = this.failed.get(listId);
    if (failure && failure.until > now) throw failure.error;
    let pending = this.inFlight.get(listId);
    if (!pending) {
      pending = this.fetchToken(listId, issuer)
        .then(
          (relayed) => {
            this.failed.delete(listId);
            return relayed;
          },
          (error: unknown) => {
            if (error instanceof NotFoundError || error instanceof DependencyError) {
              const until = this.deps.clock.now() + PEER_STATUS_LIST_FAILURE_SECONDS * 1000;
              remember(this.failed, listId, { error, until });
            }
            throw error;
          },
        )
        .finally(() => this.inFlight.delete(listId));
      this.inFlight.set(listId, pending);
    }
    return pending;
  }

  private async peerIssuers(): Promise<Map<string, PeerIssuer>> {
    const now = this.deps.clock.now();
    if (this.issuers && now < this.issuers.until) return this.issuers.byId;
    const records = await this.deps.peers.list();
    // The same peer issuers our trust list names (usable peers, none in our region, no duplicates); ours
    // were looked up first by the caller.
    const byId = new Map<string, PeerIssuer>(
      peerTrustListIssuers(records, [], now, this.deps.config).map((entry) => [entry.id, entry]),
    );
    this.issuers = { until: now + this.deps.config.issuerCacheSeconds * 1000, byId };
    return byId;
  }

  private async fetchToken(listId: string, issuer: PeerIssuer): Promise<Relayed> {
    // Built here from the registered base URL and a list id that parsed: nothing of the request's URL.
    const url = statusListUri(issuer.statusBase, listId);
    const fetcher = this.deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
    let text: string;
    try {
      const response = await fetcher(url, {
        headers: { accept: 'application/statuslist+jwt' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.deps.config.peers.fetchTimeoutMs),
      });
      if (response.status === 404) {
        await response.body?.cancel();
        throw new NotFoundError(`There is no status list ${JSON.stringify(listId)}`, 'status_list_not_found');
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new DependencyError(`The peer answered HTTP ${response.status}`, 'peer_unreachable');
      }
      const body = await readBoundedText(response, MAX_TOKEN_BYTES);
      if (body === undefined) throw badResponse('too large');
      text = body.trim();
    } catch (error) {
      if (error instanceof NotFoundError || error instanceof DependencyError) throw error;
      logger.warn('peer status list not fetched', { peer: issuer.peer, listId, error: String(error) });
      throw new DependencyError('The peer platform could not be reached', 'peer_unreachable', {
        cause: error,
      });
    }
    const now = this.deps.clock.now();
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(text, createLocalJWKSet(issuer.jwks as JSONWebKeySet), {
        typ: statusListTokenType,
        algorithms: ['ES256'],
        issuer: issuer.id,
        currentDate: new Date(now),
      }));
    } catch (error) {
      logger.warn('peer status list refused', { peer: issuer.peer, listId, error: String(error) });
      throw badResponse('it is not a status list token of that issuer');
    }
    const claims = statusListTokenClaims.safeParse(payload);
    if (!claims.success) throw badResponse('its claims are malformed');
    // Signed ahead of our clock beyond the peers' skew: verifiers refuse it (`clock_skew`), and relayed it
    // would go out with a max-age counted from its future `iat`, kept by HTTP caches all that time.
    const ahead = claims.data.iat - Math.floor(now / 1000);
    if (ahead > PEER_CLOCK_SKEW_SECONDS) throw badResponse(`it was signed ${ahead} s ahead of our clock`);
    // Naming this very list, as verifiers check (`sub` is the peer's URI of it).
    if (!claims.data.sub.endsWith(`/status-lists/${encodeURIComponent(listId)}`)) {
      throw badResponse('it names another list');
    }
    return {
      jws: text,
      freshUntil: (claims.data.iat + claims.data.ttl) * 1000,
      keptUntil: Math.min(now + PEER_STATUS_LIST_CACHE_SECONDS * 1000, claims.data.exp * 1000),
      expiresAt: claims.data.exp * 1000,
      iat: claims.data.iat,
    };
  }
}

/**
 * Whether `fetched` is older than `held`: signed earlier, or in the same second with other claims (which
 * is later cannot be told then; the held copy stands, as the offline store decides).
 */
function rolledBack(fetched: Relayed, held: Relayed): boolean {
  if (fetched.iat !== held.iat) return fetched.iat < held.iat;
  const claims = (jws: string) => jws.split('.')[1];
  return claims(fetched.jws) !== claims(held.jws);
}

/** Sets `key` in `map`, forgetting the oldest entry first when the map is full. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MAX_LISTS_HELD) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

const badResponse = (why: string) =>
  new DependencyError(`The peer's status list was refused: ${why}`, 'peer_bad_response');
