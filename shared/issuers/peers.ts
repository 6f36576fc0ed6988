/**
 * Peer platforms (跨地区互认): another region's platform registered with its pinned public keys, whose
 * trust list we fetch, verify, keep fresh and merge into ours (docs/peers.md).
 *
 * @packageDocumentation
 */
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import * as z from 'zod';
import { issuerUrlOf } from '../../packages/verifier/src/claims.js';
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
import { readBoundedText } from '../http/bounded-body.js';
import { parseCreditCode } from '../identifiers/credit-code.js';
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
import type { IssuerListing } from './issuer.js';
import type { IssuerStore } from './issuer-store.js';
import {
  jsonBytes,
  peersThatFit,
  peerTrustListLimits,
  peerTrustListOverLimit,
  TRUST_LIST_MAX_CHARS,
  TRUST_LIST_MAX_PAYLOAD_BYTES,
} from './peer-limits.js';
import type { PeerError, PeerIssuer, PeerRecord, PeerStore } from './peer-store.js';
import { trustListIssuers } from './trust-list-entries.js';

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
  /** With our base URL (`ISSUER_URL`): the peers' entries in our trust list name it, and weigh with it. */
  config: PeerSettings & { issuerUrl: string };
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

/**
 * Why a fetched list is refused: `too_large` when it breaks {@link peerTrustListLimits}, `trust_list_full`
 * when our trust list would have no room for its issuers.
 */
class PeerFetchError extends Error {
  constructor(
    readonly code:
      | 'unreachable'
      | 'bad_response'
      | 'untrusted'
      | 'expired'
      | 'clock_skew'
      | 'too_large'
      | 'trust_list_full',
    message: string,
  ) {
    super(message);
    this.name = 'PeerFetchError';
  }
}

/**
 * Fetches `<baseUrl>/trust-list` (one request, bounded by the timeout, read as a stream and given up on
 * past {@link peerTrustListLimits}' bytes) and verifies it with the pinned keys only: ES256,
 * `typ: trust-list+jwt`, `iss` the peer's base URL, not expired, claims as the verifier package reads
 * them, within the limits of a peer's list (`too_large` otherwise).
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
    const body = await readBoundedText(response, peerTrustListLimits.bytes);
    if (body === undefined) {
      throw new PeerFetchError(
        'too_large',
        `its trust list is over ${peerTrustListLimits.bytes} bytes (the limit of a peer's list)`,
      );
    }
    text = body.trim();
  } catch (error) {
    if (error instanceof PeerFetchError) throw error;
    throw new PeerFetchError('unreachable', String(error instanceof Error ? error.message : error));
  }
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
  const over = peerTrustListOverLimit(parsed.data);
  if (over) throw new PeerFetchError('too_large', `its trust list is over a limit of a peer's list: ${over}`);
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

/** Ids and credit codes of our own issuers: ours always win a clash with a peer's. */
interface Taken {
  ids: Set<string>;
  creditCodes: Set<string>;
}

function takenBy(ours: ReadonlyArray<{ id: string; creditCode: string }>): Taken {
  return {
    ids: new Set(ours.map((issuer) => issuer.id)),
    creditCodes: new Set(ours.map((issuer) => issuer.creditCode)),
  };
}

/**
 * The administrative division (GB/T 2260) a unified social credit code was registered in: its
 * characters 3 to 8 (GB 32100). `undefined` for anything that is not a valid credit code as written
 * (check characters, upper case).
 *
 * @example
 * ```ts
 * creditCodeDivision('91330100716105852F'); // '330100'
 * creditCodeDivision('CC_1'); // undefined
 * ```
 */
export function creditCodeDivision(creditCode: string): string | undefined {
  try {
    return parseCreditCode(creditCode) === creditCode ? creditCode.slice(2, 8) : undefined;
  } catch {
    return undefined;
  }
}

/** A peer's entry clashing with another peer's accepted issuer: both are left out of our trust list. */
export interface PeerCollision {
  id: string;
  creditCode: string;
  /** The other peer. */
  with: string;
}

/**
 * The entries of a peer's verified trust list we accept, each marked with the peer: only its own
 * (`peer` unset: trust is not transitive), active issuers, within the region the peer was registered
 * for and not within ours, whose credit code is valid and was registered within the peer's region (its
 * characters 3 to 8), and whose id and credit code no issuer of ours and no earlier entry of the same list
 * has. Everything else is dropped and logged. An entry whose id or credit code another peer's accepted
 * issuer has is accepted but reported as a collision (logged as an error): {@link peerTrustListIssuers}
 * leaves both out of our trust list for as long as both peers list them (no first-come wins).
 *
 * @example
 * ```ts
 * const { accepted, dropped, collisions } = acceptPeerIssuers(payload.issuers, peer, '110000', taken, others);
 * ```
 */
export function acceptPeerIssuers(
  entries: readonly TrustListIssuer[],
  peer: Pick<PeerRecord, 'id' | 'region' | 'baseUrl'>,
  platformRegion: string,
  taken: Taken,
  others: ReadonlyArray<Pick<PeerRecord, 'id' | 'issuers'>> = [],
): { accepted: PeerIssuer[]; dropped: Array<{ id: string; reason: string }>; collisions: PeerCollision[] } {
  const accepted: PeerIssuer[] = [];
  const dropped: Array<{ id: string; reason: string }> = [];
  const collisions: PeerCollision[] = [];
  const ids = new Set(taken.ids);
  const creditCodes = new Set(taken.creditCodes);
  const othersById = new Map<string, string>();
  const othersByCreditCode = new Map<string, string>();
  for (const other of others) {
    if (other.id === peer.id) continue;
    for (const issuer of other.issuers) {
      othersById.set(issuer.id, other.id);
      othersByCreditCode.set(issuer.creditCode, other.id);
    }
  }
  for (const entry of entries) {
    const division = creditCodeDivision(entry.creditCode);
    const reason =
      entry.peer !== undefined || entry.statusBase !== undefined
        ? 'listed_by_peer_from_another_platform'
        : entry.status !== 'active'
          ? 'not_active'
          : withinRegion(entry.region, platformRegion)
            ? 'claims_our_region'
            : !withinRegion(entry.region, peer.region)
              ? 'outside_peer_region'
              : division === undefined
                ? 'credit_code_invalid'
                : !withinRegion(division, peer.region)
                  ? 'credit_code_outside_peer_region'
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
    const other = othersById.get(entry.id) ?? othersByCreditCode.get(entry.creditCode);
    if (other !== undefined) collisions.push({ id: entry.id, creditCode: entry.creditCode, with: other });
    // Our own marks only: where its credentials come from is the peer's base URL, whatever the entry says.
    const { peerFetchedAt: _fetched, issuerUrl: _url, ...own } = entry;
    accepted.push({ ...own, peer: peer.id, statusBase: peer.baseUrl });
  }
  if (dropped.length > 0) logger.warn('peer trust list entries dropped', { peer: peer.id, dropped });
  if (collisions.length > 0) {
    logger.error(peerCollisionLine, { peer: peer.id, collisions });
  }
  return { accepted, dropped, collisions };
}

/**
 * The line an accepted peer issuer clashing with another peer's is logged with (an error): both are out
 * of our trust list until an operator removes the peer at fault (docs/peers.md).
 */
export const peerCollisionLine = 'peer issuers collide: left out at both peers';

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
    if (error.code === 'too_large') {
      throw new UnprocessableError(`The peer cannot be taken: ${error.message}`, 'peer_trust_list_too_large');
    }
    throw new DependencyError(`The peer could not be fetched: ${error.message}`, 'peer_unreachable');
  }
  const id = randomId('peer');
  const now = new Date(deps.clock.now()).toISOString();
  const [ours, peers] = await Promise.all([deps.issuers.listAll(), deps.peers.list()]);
  const { accepted } = acceptPeerIssuers(
    fetched.payload.issuers,
    { ...input, id },
    deps.config.platformRegion,
    takenBy(ours),
    peers,
  );
  const peer = {
    id,
    ...input,
    createdAt: now,
    fetchedAt: now,
    trustList: { jws: fetched.jws, iat: fetched.payload.iat, exp: fetched.payload.exp },
    issuers: accepted,
  };
  // Our trust list must still fit with its issuers, else every `GET /trust-list` would fail to store it.
  const full = noRoomInTrustList({ ...peer, version: 0 }, ours, peers, deps);
  if (full) throw new ConflictError(`The peer cannot be taken: ${full}`, 'trust_list_full');
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
      const [ours, peers] = await Promise.all([deps.issuers.listAll(), deps.peers.list()]);
      const payload = fetched.payload.iat === peer.trustList.iat ? undefined : fetched.payload;
      const { lastError: _cleared, ...rest } = record;
      const candidate = {
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
          takenBy(ours),
          peers,
        ).accepted,
      };
      // A list that would leave our trust list no room is refused as any bad list is: the copy stays.
      const full = noRoomInTrustList({ ...candidate, version }, ours, peers, deps);
      next = full
        ? { ...record, lastError: errorOf({ code: 'trust_list_full', message: full }, now) }
        : candidate;
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
 * The peers' issuers our trust list names (and `/verify` trusts), each with `peer`, `peerFetchedAt`,
 * `statusBase` (the peer's base URL) and `issuerUrl` (the `iss` its credentials carry: the peer's base URL
 * and `/issuers/<id>`, never another's): those of every usable peer (oldest registration first), without
 * any whose id or credit code one of `ours` has (checked again here: an issuer of ours registered after
 * the peer's last refresh wins at once), any in our region, any whose credit code was not registered
 * within its peer's region (records accepted before that check), and **both** of any two peers' issuers
 * that share an id or a credit code (neither peer can take the other's; {@link acceptPeerIssuers} logs
 * it).
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
): Array<PeerIssuer & { peerFetchedAt: string; issuerUrl: string }> {
  const taken = takenBy(ours);
  const ordered = [...peers].sort((a, b) =>
    a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1,
  );
  // 1. Each usable peer's issuers that may be its own at all.
  const candidates: Array<{ peer: PeerRecord; issuer: PeerIssuer }> = [];
  for (const peer of ordered) {
    if (!peerUsable(peer, now, config)) continue;
    for (const issuer of peer.issuers) {
      if (taken.ids.has(issuer.id) || taken.creditCodes.has(issuer.creditCode)) continue;
      if (withinRegion(issuer.region, config.platformRegion)) continue;
      const division = creditCodeDivision(issuer.creditCode);
      if (division === undefined || !withinRegion(division, peer.region)) continue;
      candidates.push({ peer, issuer });
    }
  }
  // 2. An id or credit code two peers name is neither's.
  const peersOf = new Map<string, Set<string>>();
  const note = (key: string, peer: string) => peersOf.set(key, (peersOf.get(key) ?? new Set()).add(peer));
  for (const { peer, issuer } of candidates) {
    note(`id:${issuer.id}`, peer.id);
    note(`cc:${issuer.creditCode}`, peer.id);
  }
  const clash = (key: string) => (peersOf.get(key)?.size ?? 0) > 1;
  const entries: Array<PeerIssuer & { peerFetchedAt: string; issuerUrl: string }> = [];
  const ids = new Set<string>();
  const creditCodes = new Set<string>();
  for (const { peer, issuer } of candidates) {
    if (clash(`id:${issuer.id}`) || clash(`cc:${issuer.creditCode}`)) continue;
    if (ids.has(issuer.id) || creditCodes.has(issuer.creditCode)) continue;
    ids.add(issuer.id);
    creditCodes.add(issuer.creditCode);
    entries.push({
      ...issuer,
      peer: peer.id,
      statusBase: peer.baseUrl,
      issuerUrl: issuerUrlOf(peer.baseUrl, issuer.id),
      peerFetchedAt: peer.fetchedAt,
    });
  }
  return entries;
}

/**
 * The peers' issuers as our trust list names them ({@link peerTrustListIssuers}, oldest registration
 * first), with `statusBase` our own base URL: their status lists are read from us (relayed unchanged,
 * `functions/status-lists.ts`), since the verifier page may fetch from its own origin only and a peer
 * need not be reachable by apps.
 *
 * @example
 * ```ts
 * const entries = listedPeerIssuers(peers, ours, Date.now(), { ...settings, issuerUrl });
 * ```
 */
export function listedPeerIssuers(
  peers: readonly PeerRecord[],
  ours: ReadonlyArray<{ id: string; creditCode: string }>,
  now: number,
  config: PeerSettings & { issuerUrl: string },
): Array<PeerIssuer & { peerFetchedAt: string; issuerUrl: string }> {
  return peerTrustListIssuers(peers, ours, now, config).map((entry) => ({
    ...entry,
    statusBase: config.issuerUrl,
  }));
}

/** Room for the presentation keys our trust list names (16 at most, about 190 bytes each). */
const PRESENTATION_KEYS_RESERVE_BYTES = 4 * 1024;

/**
 * Why our trust list would have no room for `candidate`'s issuers beside our own and the other peers'
 * (its signed JWS past {@link TRUST_LIST_MAX_CHARS}), in words; `undefined` when it fits. Weighed as
 * `trust-list-token.ts` weighs it when signing ({@link peersThatFit}), with our issuers' status-list
 * counts and type codes at their longest and room for the presentation keys, so that a peer taken here
 * is never the one left out there.
 */
function noRoomInTrustList(
  candidate: PeerRecord,
  ours: readonly IssuerListing[],
  peers: readonly PeerRecord[],
  deps: Pick<PeerDependencies, 'clock' | 'config'>,
): string | undefined {
  const now = deps.clock.now();
  const seconds = Math.floor(now / 1000);
  const own = trustListIssuers(ours, new Map(ours.map((issuer) => [issuer.id, 10_000])), () => '000');
  const ownBytes =
    jsonBytes({ iss: deps.config.issuerUrl, iat: seconds, exp: seconds, ttl: 3600, issuers: own }) +
    PRESENTATION_KEYS_RESERVE_BYTES;
  const records = [...peers.filter((peer) => peer.id !== candidate.id), candidate];
  const listed = listedPeerIssuers(records, ours, now, deps.config);
  const { leftOut } = peersThatFit(listed, TRUST_LIST_MAX_PAYLOAD_BYTES - ownBytes);
  const out = leftOut.find((peer) => peer.peer === candidate.id);
  if (!out) return undefined;
  return (
    `our trust list has no room for its issuers (${out.bytes} bytes): with ours and the other peers' ` +
    `it would pass its limit of ${TRUST_LIST_MAX_CHARS} characters (signed, it is stored as one item)`
  );
}
