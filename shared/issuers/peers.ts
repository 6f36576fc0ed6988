/**
 * Peer platforms (跨地区互认): another region's platform registered with its pinned public keys, whose
 * trust list we fetch, verify, keep fresh and merge into ours (docs/peers.md).
 *
 * @packageDocumentation
 */
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import * as z from 'zod';
import type { PublicJwk } from '../../packages/verifier/src/crypto.js';
import {
  trustListPayload,
  trustListTokenType,
  type TrustListIssuer,
  type TrustListPayload,
} from '../../packages/verifier/src/trust-list.js';
import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { isHttpsOrLoopback } from '../config.js';
import {
  ConflictError,
  DependencyError,
  InvalidInputError,
  NotFoundError,
  UnprocessableError,
} from '../errors.js';
import { logger } from '../logger.js';
import {
  peerAuditPrefix,
  saveWithTrace,
  type PendingWorkIndex,
  type Trace,
} from '../pending-work/pending-work.js';
import { randomId } from '../random-id.js';
import type { IssuerStore } from './issuer-store.js';
import type { PeerError, PeerIssuer, PeerRecord, PeerStore } from './peer-store.js';

/** A P-256 public key as a peer pins it (public members only; anything else is refused). */
const pinnedKey = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    y: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    kid: z.string().min(1).max(100),
    alg: z.literal('ES256').optional(),
    use: z.literal('sig').optional(),
  })
  .transform(({ kty, crv, x, y, kid }): PublicJwk => ({ kty, crv, x, y, kid }));

/** `POST /admin/peers`. */
export const registerPeerInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  region: z.string().regex(/^\d{6}$/, 'must be a six-digit administrative division code (GB/T 2260)'),
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .max(300)
    .refine((url) => isHttpsOrLoopback(new URL(url)), 'must be an https URL (http only to localhost)')
    .refine((url) => {
      const parsed = new URL(url);
      return parsed.search === '' && parsed.hash === '' && parsed.username === '' && parsed.password === '';
    }, 'must have no query, fragment or credentials')
    .transform((url) => url.replace(/\/+$/, '')),
  jwks: z.object({ keys: z.array(pinnedKey).min(1).max(10) }),
});
export type RegisterPeerInput = z.output<typeof registerPeerInput>;

/** `ok`: fresh; `stale`: older than the stale age; `untrusted`: its last fetch did not verify. */
export type PeerStatus = 'ok' | 'stale' | 'untrusted';

/** A peer as `GET /admin/peers` lists it (without the copy of its trust list). */
export const peerViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    region: z.string(),
    baseUrl: z.string(),
    status: z.enum(['ok', 'stale', 'untrusted']),
    fetchedAt: z.string().meta({ description: 'When its trust list was last fetched and verified' }),
    trustListIat: z.string().meta({ description: 'The `iat` of the copy in use (RFC 3339)' }),
    issuers: z.number().int().meta({ description: 'Its issuers we accepted (active, within its region)' }),
    lastError: z.object({ at: z.string(), code: z.string(), detail: z.string() }).optional(),
  })
  .meta({ title: 'Peer' });
export type PeerView = z.output<typeof peerViewSchema>;

export interface PeerSettings {
  /** The division this platform serves: no peer may add an issuer within it. */
  platformRegion: string;
  peers: { staleSeconds: number; maxAgeSeconds: number; fetchTimeoutMs: number };
}

export interface PeerDependencies {
  peers: PeerStore;
  issuers: Pick<IssuerStore, 'listAll'>;
  audit: AuditTrail;
  /**
   * The pending work of operators' changes: a peer registered or removed is saved with its audit entry
   * there ({@link savePeerChange}), never untraced.
   */
  operatorAudit: PendingWorkIndex;
  clock: Clock;
  config: PeerSettings;
  /** The HTTP client peers are fetched with (`globalThis.fetch`; a fake in unit tests). */
  fetch?: typeof fetch;
}

/** The caches of this process that hold peers' data: told of every peer write made here. */
const listeners = new Set<WeakRef<{ invalidate(): void }>>();

/**
 * Registers a cache of peer data (the `/verify` container's view): {@link announcePeerChange} empties it,
 * so a refresh or removal made in this process counts at once (elsewhere within the cache's lifetime).
 */
export function onPeerChange(cache: { invalidate(): void }): void {
  listeners.add(new WeakRef(cache));
}

/** Says that a peer was written or removed; every registered cache of this process forgets its peers. */
export function announcePeerChange(): void {
  for (const ref of listeners) {
    const cache = ref.deref();
    if (cache) cache.invalidate();
    else listeners.delete(ref);
  }
}

/**
 * Whether division `region` lies within division `area` (GB/T 2260: `310000` is the province, `310100`
 * a city of it, `310104` a district): trailing `00` pairs of `area` are its wildcard.
 *
 * @example
 * ```ts
 * withinRegion('310104', '310000'); // true
 * withinRegion('110105', '310000'); // false
 * ```
 */
export function withinRegion(region: string, area: string): boolean {
  const prefix = area.replace(/(00)+$/, '');
  return prefix.length > 0 && region.startsWith(prefix);
}

/**
 * How far ahead of our clock a peer's trust list, or one of its issuers' status lists (`PeerTrust`), may be
 * signed: the two platforms' clocks differ a little.
 */
export const PEER_CLOCK_SKEW_SECONDS = 300;

/** Why a fetched list is refused. */
class PeerFetchError extends Error {
  constructor(
    readonly code: 'unreachable' | 'bad_response' | 'untrusted' | 'expired' | 'clock_skew',
    message: string,
  ) {
    super(message);
    this.name = 'PeerFetchError';
  }
}

/**
 * Fetches `<baseUrl>/trust-list` (one request, bounded by the timeout and in size) and verifies it with
 * the pinned keys only: ES256, `typ: trust-list+jwt`, `iss` the peer's base URL, not expired, claims
 * as the verifier package reads them.
 */
async function fetchPeerTrustList(
  peer: Pick<PeerRecord, 'baseUrl' | 'jwks'>,
  deps: Pick<PeerDependencies, 'fetch' | 'clock' | 'config'>,
): Promise<{ jws: string; payload: TrustListPayload }> {
  const fetcher = deps.fetch ?? globalThis.fetch;
  let text: string;
  try {
    const response = await fetcher(`${peer.baseUrl}/trust-list`, {
      headers: { accept: 'application/trust-list+jwt' },
      redirect: 'error',
      signal: AbortSignal.timeout(deps.config.peers.fetchTimeoutMs),
    });
    if (!response.ok)
      throw new PeerFetchError(
        response.status >= 500 ? 'unreachable' : 'bad_response',
        `HTTP ${response.status}`,
      );
    text = (await response.text()).trim();
  } catch (error) {
    if (error instanceof PeerFetchError) throw error;
    throw new PeerFetchError('unreachable', String(error instanceof Error ? error.message : error));
  }
  if (text.length > 4 * 1024 * 1024) throw new PeerFetchError('bad_response', 'trust list too large');
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(text, createLocalJWKSet(peer.jwks as JSONWebKeySet), {
      typ: trustListTokenType,
      algorithms: ['ES256'],
      issuer: peer.baseUrl,
      currentDate: new Date(deps.clock.now()),
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired)
      throw new PeerFetchError('expired', 'the trust list has expired');
    throw new PeerFetchError(
      'untrusted',
      `the pinned keys do not verify its trust list (${String((error as Error).message)})`,
    );
  }
  const parsed = trustListPayload.safeParse(payload);
  if (!parsed.success) throw new PeerFetchError('bad_response', 'the trust list claims are malformed');
  // jose checks a future `iat` only with `maxTokenAge`. A list signed ahead of our clock would, once held,
  // refuse every later list as older (`rolled_back`) until real time caught up: refused instead.
  const ahead = parsed.data.iat - Math.floor(deps.clock.now() / 1000);
  if (ahead > PEER_CLOCK_SKEW_SECONDS) {
    throw new PeerFetchError(
      'clock_skew',
      `signed ${ahead} s ahead of this platform's clock (more than ${PEER_CLOCK_SKEW_SECONDS} s)`,
    );
  }
  return { jws: text, payload: parsed.data };
}

/** Ids and credit codes already taken: our own issuers', and other peers' accepted ones. */
interface Taken {
  ids: Set<string>;
  creditCodes: Set<string>;
}

async function takenBy(
  deps: Pick<PeerDependencies, 'issuers' | 'peers'>,
  exceptPeer: string,
): Promise<Taken> {
  const [ours, peers] = await Promise.all([deps.issuers.listAll(), deps.peers.list()]);
  const taken: Taken = { ids: new Set(), creditCodes: new Set() };
  for (const issuer of ours) {
    taken.ids.add(issuer.id);
    taken.creditCodes.add(issuer.creditCode);
  }
  for (const peer of peers) {
    if (peer.id === exceptPeer) continue;
    for (const issuer of peer.issuers) {
      taken.ids.add(issuer.id);
      taken.creditCodes.add(issuer.creditCode);
    }
  }
  return taken;
}

/**
 * The entries of a peer's verified trust list we accept, each marked with the peer: only its own
 * (`peer` unset: trust is not transitive), active issuers, within the region the peer was registered
 * for and not within ours, whose id and credit code no issuer of ours, no other peer's and no earlier
 * entry of the same list has. Everything else is dropped and logged.
 *
 * @example
 * ```ts
 * const { accepted, dropped } = acceptPeerIssuers(payload.issuers, peer, '110000', taken);
 * ```
 */
export function acceptPeerIssuers(
  entries: readonly TrustListIssuer[],
  peer: Pick<PeerRecord, 'id' | 'region' | 'baseUrl'>,
  platformRegion: string,
  taken: Taken,
): { accepted: PeerIssuer[]; dropped: Array<{ id: string; reason: string }> } {
  const accepted: PeerIssuer[] = [];
  const dropped: Array<{ id: string; reason: string }> = [];
  const ids = new Set(taken.ids);
  const creditCodes = new Set(taken.creditCodes);
  for (const entry of entries) {
    const reason =
      entry.peer !== undefined || entry.statusBase !== undefined
        ? 'listed_by_peer_from_another_platform'
        : entry.status !== 'active'
          ? 'not_active'
          : withinRegion(entry.region, platformRegion)
            ? 'claims_our_region'
            : !withinRegion(entry.region, peer.region)
              ? 'outside_peer_region'
              : ids.has(entry.id)
                ? 'issuer_id_taken'
                : creditCodes.has(entry.creditCode)
                  ? 'credit_code_taken'
                  : undefined;
    if (reason) {
      dropped.push({ id: entry.id, reason });
      continue;
    }
    ids.add(entry.id);
    creditCodes.add(entry.creditCode);
    const { peerFetchedAt: _fetched, ...own } = entry;
    accepted.push({ ...own, peer: peer.id, statusBase: peer.baseUrl });
  }
  if (dropped.length > 0) logger.warn('peer trust list entries dropped', { peer: peer.id, dropped });
  return { accepted, dropped };
}

function errorOf(error: PeerFetchError | { code: string; message: string }, at: string): PeerError {
  return { at, code: error.code, detail: error.message.slice(0, 300) };
}

/**
 * `POST /admin/peers`: registers a peer platform with its pinned keys, after a first fetch of its trust
 * list that those keys verify (else `422 peer_untrusted`, nothing stored; a peer that cannot be reached
 * is `502 peer_unreachable`). Audited as `peer.registered`.
 *
 * @example
 * ```ts
 * const { id } = await registerPeer(input, { clientId }, deps);
 * ```
 */
export async function registerPeer(
  input: RegisterPeerInput,
  context: { clientId: string; requestId?: string },
  deps: PeerDependencies,
): Promise<{ id: string }> {
  if (
    withinRegion(input.region, deps.config.platformRegion) ||
    withinRegion(deps.config.platformRegion, input.region)
  ) {
    throw new InvalidInputError('A peer serves another region than ours', 'invalid_request', {
      errors: [{ path: 'region', message: 'must be another region than this platform’s' }],
    });
  }
  const existing = await deps.peers.list();
  if (existing.some((peer) => peer.baseUrl === input.baseUrl)) {
    throw new ConflictError('A peer with this base URL is already registered', 'peer_exists');
  }
  let fetched: Awaited<ReturnType<typeof fetchPeerTrustList>>;
  try {
    fetched = await fetchPeerTrustList(input, deps);
  } catch (error) {
    if (!(error instanceof PeerFetchError)) throw error;
    if (error.code === 'untrusted' || error.code === 'expired') {
      throw new UnprocessableError(`The peer is not trusted: ${error.message}`, 'peer_untrusted');
    }
    throw new DependencyError(`The peer could not be fetched: ${error.message}`, 'peer_unreachable');
  }
  const id = randomId('peer');
  const now = new Date(deps.clock.now()).toISOString();
  const taken = await takenBy(deps, id);
  const { accepted } = acceptPeerIssuers(
    fetched.payload.issuers,
    { ...input, id },
    deps.config.platformRegion,
    taken,
  );
  const peer = {
    id,
    ...input,
    createdAt: now,
    fetchedAt: now,
    trustList: { jws: fetched.jws, iat: fetched.payload.iat, exp: fetched.payload.exp },
    issuers: accepted,
  };
  await savePeerChange(
    id,
    'registered',
    {
      at: now,
      actor: context.clientId,
      action: 'peer.registered',
      peerId: id,
      reason: `${input.name} (${input.region}) ${input.baseUrl}`,
      requestId: context.requestId,
    },
    (trace) => deps.peers.save(peer, 0, trace),
    deps,
  );
  announcePeerChange();
  return { id };
}

/**
 * Fetches a peer's trust list again (the schedule, or `POST /admin/peers/{id}/refresh`). A list its
 * pinned keys verify and whose `iat` is newer than the copy held replaces it (its issuers accepted
 * anew: a withdrawn or vanished issuer leaves); the same `iat` confirms the copy (`fetchedAt` moves);
 * an older one is refused (`rolled_back`) and recorded, as is any failure (`unreachable`,
 * `untrusted`, …): the last good copy stays in use until it is too old (docs/peers.md).
 *
 * @example
 * ```ts
 * const view = await refreshPeer('peer_x', deps);
 * ```
 */
export async function refreshPeer(
  id: string,
  deps: Omit<PeerDependencies, 'audit' | 'operatorAudit'>,
): Promise<PeerView> {
  const peer = await deps.peers.get(id);
  if (!peer) throw new NotFoundError(`No peer ${id}`, 'peer_not_found');
  const { version, ...record } = peer;
  const now = new Date(deps.clock.now()).toISOString();
  let next: Omit<PeerRecord, 'version'>;
  try {
    const fetched = await fetchPeerTrustList(peer, deps);
    if (fetched.payload.iat < peer.trustList.iat) {
      next = {
        ...record,
        lastError: errorOf(
          {
            code: 'rolled_back',
            message: `signed at ${fetched.payload.iat}, before the copy held (${peer.trustList.iat})`,
          },
          now,
        ),
      };
    } else {
      const taken = await takenBy(deps, peer.id);
      const payload = fetched.payload.iat === peer.trustList.iat ? undefined : fetched.payload;
      const { lastError: _cleared, ...rest } = record;
      next = {
        ...rest,
        fetchedAt: now,
        ...(payload && {
          trustList: { jws: fetched.jws, iat: payload.iat, exp: payload.exp },
        }),
        // Accepted again even from the same copy: an issuer of ours registered since takes precedence.
        issuers: acceptPeerIssuers(
          (payload ?? fetched.payload).issuers,
          peer,
          deps.config.platformRegion,
          taken,
        ).accepted,
      };
    }
  } catch (error) {
    if (!(error instanceof PeerFetchError)) throw error;
    next = { ...record, lastError: errorOf(error, now) };
  }
  if (next.lastError)
    logger.warn('peer refresh failed: the last good copy stays', { peer: id, error: next.lastError });
  const saved = await deps.peers.save(next, version);
  announcePeerChange();
  return peerView(saved, deps.clock.now(), deps.config);
}

/**
 * Refreshes every peer (the schedule): one failing peer does not stop the others.
 *
 * @example
 * ```ts
 * const results = await refreshAllPeers(deps); // [{ id, status }]
 * ```
 */
export async function refreshAllPeers(
  deps: Omit<PeerDependencies, 'audit' | 'operatorAudit'>,
): Promise<Array<{ id: string; status: PeerStatus | 'failed'; fetchedAt: string }>> {
  const peers = await deps.peers.list();
  const results: Array<{ id: string; status: PeerStatus | 'failed'; fetchedAt: string }> = [];
  for (const peer of peers) {
    try {
      const { status, fetchedAt } = await refreshPeer(peer.id, deps);
      results.push({ id: peer.id, status, fetchedAt });
    } catch (error) {
      logger.error('peer refresh failed', { peer: peer.id, error: String(error) });
      results.push({ id: peer.id, status: 'failed', fetchedAt: peer.fetchedAt });
    }
  }
  return results;
}

/** The line the schedule logs after each round, with `stalePeers`, the count the stack alarms on. */
export const peersRefreshedLine = 'peers refreshed';

/**
 * The peers whose copy in use was last fetched and verified longer ago than the stale age
 * (`PEER_STALE_SECONDS`): served marked stale now, dropped at `PEER_MAX_AGE_SECONDS`. Whatever the reason
 * (unreachable, untrusted, rolled back), this is what the schedule counts and the stack alarms on
 * (`stalePeers` of its line), so that someone acts before the peer's licences stop verifying.
 *
 * @example
 * ```ts
 * stalePeers(await refreshAllPeers(deps), clock.now(), config); // ['peer_x']
 * ```
 */
export function stalePeers(
  peers: ReadonlyArray<{ id: string; fetchedAt: string }>,
  now: number,
  config: PeerSettings,
): string[] {
  return peers
    .filter((peer) => now - Date.parse(peer.fetchedAt) > config.peers.staleSeconds * 1000)
    .map((peer) => peer.id);
}

/**
 * `DELETE /admin/peers/{id}`: removes a peer; its issuers leave our trust list (and `/verify` in this
 * process) at once. Audited as `peer.removed`.
 *
 * @example
 * ```ts
 * await removePeer('peer_x', { clientId }, deps);
 * ```
 */
export async function removePeer(
  id: string,
  context: { clientId: string; requestId?: string },
  deps: Pick<PeerDependencies, 'peers' | 'audit' | 'operatorAudit' | 'clock'>,
): Promise<void> {
  const peer = await deps.peers.get(id);
  if (!peer) throw new NotFoundError(`No peer ${id}`, 'peer_not_found');
  await savePeerChange(
    id,
    'removed',
    {
      at: new Date(deps.clock.now()).toISOString(),
      actor: context.clientId,
      action: 'peer.removed',
      peerId: id,
      requestId: context.requestId,
    },
    async (trace) => {
      // Removed meanwhile by another operator: theirs is the removal, and its trace.
      if (!(await deps.peers.remove(id, trace))) throw new NotFoundError(`No peer ${id}`, 'peer_not_found');
    },
    deps,
  );
  announcePeerChange();
}

/**
 * Saves a peer's registration or removal with its audit entry (`peer.registered`, `peer.removed`) as one
 * write (`saveWithTrace`): the entry saved as pending work in the peer's own write, keyed by the peer and
 * what happened to it (`peer-changed#<peer id>#registered|removed`: each happens once to a peer id), so
 * that no peer is trusted, nor dropped, untraced. An entry that cannot be written now stays saved and the
 * change stands: the reconciler writes it a minute later (it used to answer 5xx with the change made and
 * no entry).
 */
function savePeerChange<T>(
  peerId: string,
  change: 'registered' | 'removed',
  entry: AuditEntry,
  save: (trace: Trace) => Promise<T>,
  deps: Pick<PeerDependencies, 'audit' | 'operatorAudit' | 'clock'>,
): Promise<T> {
  return saveWithTrace(`${peerAuditPrefix}${peerId}#${change}`, entry, save, {
    ...deps,
    pendingAudit: deps.operatorAudit,
  });
}

/** How a peer stands now: `untrusted` if its last fetch did not verify, `stale` past the stale age. */
export function peerStatus(peer: PeerRecord, now: number, config: PeerSettings): PeerStatus {
  if (peer.lastError?.code === 'untrusted') return 'untrusted';
  return now - Date.parse(peer.fetchedAt) > config.peers.staleSeconds * 1000 ? 'stale' : 'ok';
}

/** `GET /admin/peers`'s view of a peer. */
export function peerView(peer: PeerRecord, now: number, config: PeerSettings): PeerView {
  return {
    id: peer.id,
    name: peer.name,
    region: peer.region,
    baseUrl: peer.baseUrl,
    status: peerStatus(peer, now, config),
    fetchedAt: peer.fetchedAt,
    trustListIat: new Date(peer.trustList.iat * 1000).toISOString(),
    issuers: peer.issuers.length,
    ...(peer.lastError && { lastError: peer.lastError }),
  };
}

/**
 * Whether a peer's copy may still be used: fetched within the hard maximum age and not past its own
 * `exp`. Past either, its issuers are no longer trusted (fail closed).
 */
export function peerUsable(peer: PeerRecord, now: number, config: PeerSettings): boolean {
  return (
    now - Date.parse(peer.fetchedAt) <= config.peers.maxAgeSeconds * 1000 && peer.trustList.exp * 1000 > now
  );
}

/**
 * The peers' issuers our trust list names (and `/verify` trusts), each with `peer`, `peerFetchedAt` and
 * `statusBase`: those of every usable peer (oldest registration first), without any whose id or credit
 * code one of `ours` or an earlier peer's has (checked again here: an issuer of ours registered after
 * the peer's last refresh wins at once).
 *
 * @example
 * ```ts
 * const entries = peerTrustListIssuers(await peers.list(), await issuers.listAll(), Date.now(), config);
 * ```
 */
export function peerTrustListIssuers(
  peers: readonly PeerRecord[],
  ours: ReadonlyArray<{ id: string; creditCode: string }>,
  now: number,
  config: PeerSettings,
): Array<PeerIssuer & { peerFetchedAt: string }> {
  const ids = new Set(ours.map((issuer) => issuer.id));
  const creditCodes = new Set(ours.map((issuer) => issuer.creditCode));
  const entries: Array<PeerIssuer & { peerFetchedAt: string }> = [];
  const ordered = [...peers].sort((a, b) =>
    a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1,
  );
  for (const peer of ordered) {
    if (!peerUsable(peer, now, config)) continue;
    for (const issuer of peer.issuers) {
      if (ids.has(issuer.id) || creditCodes.has(issuer.creditCode)) continue;
      if (withinRegion(issuer.region, config.platformRegion)) continue;
      ids.add(issuer.id);
      creditCodes.add(issuer.creditCode);
      entries.push({ ...issuer, peer: peer.id, statusBase: peer.baseUrl, peerFetchedAt: peer.fetchedAt });
    }
  }
  return entries;
}
