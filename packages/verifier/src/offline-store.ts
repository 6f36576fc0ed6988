/**
 * Offline mode: the trust list, the platform keys and every status list, fetched while online, checked,
 * and kept with the time they were fetched, so that a verifier goes on giving verdicts with the network
 * gone, and says how old its data is (`stale` past each token's `ttl`) rather than pretending.
 *
 * Everything kept is verified when it arrives: the trust list against the platform keys
 * (`typ: trust-list+jwt`), each status list against the keys the trust list gives its issuer
 * (`typ: statuslist+jwt`, `iss` = that issuer); ES256 only. A failed sync leaves what was there.
 *
 * Time runs forward only: a trust list or status list signed earlier (`iat`) than the copy held, or in
 * the same second with other claims (which is later cannot be told), is refused (`rolled_back`) and the
 * held copy stays, so that no one who can answer the store's requests (a
 * network attacker, a stale cache) can bring back a list from before a revocation or a withdrawal. Age and
 * staleness count from each token's `iat`, never from when it was fetched: an old token fetched now is
 * old data. Nor is a list signed ahead of the store's clock (beyond the clock skew) ever held: it would
 * make every genuine later list look older (`rolled_back`) until real time caught up with it, so it is
 * refused (`clock_skew`).
 *
 * An app that is online can keep its data current without syncing everything before each verdict:
 * {@link OfflineTrustStore.refreshStatusList} fetches the one list a verdict rests on, and
 * {@link OfflineTrustStore.refreshTrustList} the trust list (and platform keys), with the same checks.
 *
 * @packageDocumentation
 */
import {
  DEFAULT_MAX_STATUS_LIST_BYTES,
  decodeStatusList,
  readStatus,
  StatusType,
  type Compression,
  type StatusBits,
} from './status-list.js';
import { streamCompression } from './status-list-streams.js';
import { BodyReadError, readBoundedText } from './bounded-body.js';
import { clockSkewSecondsOf } from './clock-skew.js';
import { numberOption } from './number-option.js';
import { issuerUrlOf, statusListTokenClaims, statusListTokenType } from './claims.js';
import type { Es256Verifier, PublicJwk } from './crypto.js';
import { readCompactJws } from './jws.js';
import { KeyCache } from './key-cache.js';
import type {
  Freshness,
  StatusAnswer,
  StatusQuery,
  StatusSource,
  TrustAnchors,
  TrustedIssuer,
} from './trust.js';
import { trustListPayload, trustListTokenType, type TrustListPayload } from './trust-list.js';

export interface OfflineTrustStoreOptions {
  /** The service's public base URL, e.g. `https://elicence.example.gov.cn`. */
  baseUrl: string;
  /** ES256: `nodeEs256` in Node, `webCryptoEs256()` in browsers. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each implementation has its own key type
  crypto: Es256Verifier<any>;
  /** ZLIB for status lists: Compression Streams unless given (`zlibCompression` in Node is faster). */
  compression?: Compression;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. */
  clock?: () => number;
  /**
   * How far ahead of {@link clock} a trust list or status list may be signed (its `iat`), in seconds:
   * `DEFAULT_CLOCK_SKEW_SECONDS` (60) unless told. One signed further ahead is refused
   * (`clock_skew`): held, it would refuse every later list as older until real time caught up with it.
   */
  clockSkewSeconds?: number;
  /**
   * The platform's public keys, pinned (shipped with the app): then `/.well-known/jwks.json` is never
   * fetched, and a network attacker cannot substitute a trust list. Fetched over HTTPS otherwise.
   */
  platformKeys?: readonly PublicJwk[];
  /**
   * Bound on a decompressed status list, in bytes (1 MiB unless given; ours are 32 KiB): a whole number,
   * 1 or more, else the store is not made (`RangeError`). It bounds the fetched token too: a status list
   * answer is read no further than the token such a list makes at most ({@link statusListTokenMaxBytes}:
   * about 4/3 of it and 16 KiB), and refused past it (`too_large`).
   */
  maxStatusListBytes?: number;
  /**
   * Bound on a fetched trust list, and on the platform keys (`/.well-known/jwks.json`), in bytes:
   * {@link DEFAULT_MAX_TRUST_LIST_BYTES} (1 MiB) unless given (the service's is 350 KiB at most). The
   * answer is read as a stream and given up past it (`too_large`), the held copy kept. A whole number, 1
   * or more, else the store is not made (`RangeError`).
   */
  maxTrustListBytes?: number;
  /**
   * Lists fetched per issuer at most (each holds 131,072 licences; 64 unless given): a whole number, 1 or
   * more, else the store is not made (`RangeError`).
   */
  maxListsPerIssuer?: number;
  /**
   * The most one request may take, answer read whole, in milliseconds: {@link DEFAULT_REQUEST_TIMEOUT_MS}
   * (15 s) unless given (since 0.6.0). Past it the request is abandoned (`SyncError` `unreachable`, the
   * held copy kept), whatever `fetch` does: an endpoint that answers a byte at a time would otherwise keep
   * a sync pending for ever. A caller's own `signal` still gives up sooner. A whole number, 1 or more,
   * else the store is not made (`RangeError`).
   */
  requestTimeoutMs?: number;
}

/**
 * The deadline of one request of the store unless `requestTimeoutMs` says another: 15 s (our trust list,
 * 350 KiB at most, comes in under 12 s at 30 KB/s).
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** Everything a store holds, as the signed tokens it came in: what an app persists between runs. */
export interface OfflineSnapshot {
  version: 1;
  platformKeys: { keys: PublicJwk[]; fetchedAt: number };
  /** `issuedAt` (the token's `iat`, ms) is for display; {@link OfflineTrustStore.restore} reads it from the token. */
  trustList: { jws: string; fetchedAt: number; issuedAt?: number };
  statusLists: Array<{ jws: string; fetchedAt: number; issuedAt?: number }>;
}

export interface SyncReport {
  issuers: number;
  statusLists: number;
  /** Lists that could not be refreshed (their previous copy, if any, is kept). */
  failures: Array<{ url: string; code: SyncErrorCode }>;
}

/**
 * The bound on a fetched trust list and the platform keys unless `maxTrustListBytes` says another: 1 MiB.
 * The service signs its trust list into one stored item, 350 KiB at most.
 */
export const DEFAULT_MAX_TRUST_LIST_BYTES = 1024 * 1024;

/** Room in a status list token for all but its list: the JOSE header, the other claims, the signature. */
const STATUS_LIST_TOKEN_FRAME_BYTES = 16 * 1024;

/**
 * The largest status list token (bytes of its compact JWS) that can carry a list of `maxStatusListBytes`
 * decompressed: the list ZLIB-compressed at worst (stored blocks: 5 bytes per 16 KiB block, and the header
 * and checksum), in base64url, and {@link STATUS_LIST_TOKEN_FRAME_BYTES} for the rest. A fetched status list
 * is read no further: anything longer could not decode within the bound anyway.
 *
 * @example
 * ```ts
 * statusListTokenMaxBytes(1024 * 1024); // 1,414,940: a list of 1 MiB, incompressible, and its frame
 * ```
 */
export function statusListTokenMaxBytes(maxStatusListBytes: number): number {
  const compressed = maxStatusListBytes + 5 * Math.ceil(maxStatusListBytes / 16_383) + 16;
  return Math.ceil((compressed * 4) / 3) + STATUS_LIST_TOKEN_FRAME_BYTES;
}

/**
 * `too_large`: the answer is larger than the store reads (`maxTrustListBytes` for the trust list and the
 * platform keys, the token of a list of `maxStatusListBytes` for a status list): announced so
 * (`Content-Length`) or found so while it streamed in; the store stopped reading it. `rolled_back`: the
 * token was signed before the copy already held (an older `iat`), or in the same second with other claims
 * (which is later cannot be told): refused, the held copy kept. `expired_token`: the token is past its `exp` (fetched, or in a snapshot given to
 * {@link OfflineTrustStore.restore}). `clock_skew`: the token was signed (`iat`) further ahead of the
 * store's clock than its `clockSkewSeconds` (a signer's clock, or this device's, is wrong): refused, the
 * held copy kept.
 */
export type SyncErrorCode =
  | 'unreachable'
  | 'bad_response'
  | 'too_large'
  | 'invalid_token'
  | 'expired_token'
  | 'rolled_back'
  | 'clock_skew';

/** A sync that could not get a usable trust list or platform keys; the store keeps what it had. */
export class SyncError extends Error {
  constructor(
    readonly code: SyncErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SyncError';
  }
}

interface KeptTrustList {
  jws: string;
  fetchedAt: number;
  /** Its `iat`, in seconds. */
  iat: number;
  ttl: number;
  exp: number;
  fresh: Freshness;
  stale: Freshness;
  /** Past its `exp`: verdicts resting on it are `unknown` (`trust_list_expired`). */
  expired: Freshness;
  byId: Map<string, TrustedIssuer>;
  byCreditCode: Map<string, TrustedIssuer>;
  /** The keys presentations are signed with, when the list names them (`presentationKeys`). */
  presentationKeys: readonly PublicJwk[] | undefined;
  /** Whether a status list verified earlier still holds: its issuer active, with the key that signed it. */
  vouchesFor(list: KeptStatusList): boolean;
}

interface KeptStatusList {
  jws: string;
  fetchedAt: number;
  /** Its `iat`, in seconds. */
  iat: number;
  iss: string;
  sub: string;
  ttl: number;
  exp: number;
  /** The issuer key that signed it: the list is dropped when a new trust list no longer has that key. */
  key: PublicJwk;
  bits: StatusBits;
  bytes: Uint8Array;
  /** The answer for each status value, within the `ttl` and past it. */
  freshAnswers: Array<StatusAnswer | undefined>;
  staleAnswers: Array<StatusAnswer | undefined>;
  /** Past its `exp`: an answer for `revoked` alone (see {@link answersPastExp}). */
  expiredAnswers: Array<StatusAnswer | undefined>;
}

const statusOf: Record<number, StatusAnswer['status'] | undefined> = {
  [StatusType.VALID]: 'valid',
  [StatusType.INVALID]: 'revoked',
  [StatusType.SUSPENDED]: 'suspended',
};

function answersFor(issuedAt: number, fetchedAt: number, stale: boolean): Array<StatusAnswer | undefined> {
  const freshness = Object.freeze({ issuedAt, fetchedAt, stale });
  return [0, 1, 2, 3].map((value) => {
    const status = statusOf[value];
    return status && Object.freeze({ status, source: 'status-list' as const, freshness });
  });
}

/**
 * The answers of a list past its `exp`: `revoked` only, marked stale and expired. Revocation is final
 * (a revoked licence never becomes valid again, and a list entry is never given to another licence), so
 * an expired list that says revoked is still known bad news; its `valid` or `suspended` (a suspension can
 * be lifted) says nothing about now, and is no answer: the verdict is then `unknown` (`status_unknown`).
 */
function answersPastExp(issuedAt: number, fetchedAt: number): Array<StatusAnswer | undefined> {
  const freshness = Object.freeze({ issuedAt, fetchedAt, stale: true, expired: true });
  return [0, 1, 2, 3].map((value) =>
    value === StatusType.INVALID
      ? Object.freeze({ status: 'revoked' as const, source: 'status-list' as const, freshness })
      : undefined,
  );
}

/**
 * The trust list's issuers as the verifier reads them. Each says the `iss` its credentials carry
 * (`issuerUrl`): a peer platform's issuer as the list gives it (none given: it accepts no credential), the
 * listing platform's own under the list's `iss`, the platform's base URL.
 */
function issuersOf(payload: TrustListPayload): TrustedIssuer[] {
  const ownBase = /^https?:\/\//.test(payload.iss) ? payload.iss : undefined;
  return payload.issuers.map((entry) => ({
    id: entry.id,
    name: entry.name,
    creditCode: entry.creditCode,
    region: entry.region,
    status: entry.status,
    keys: entry.jwks.keys,
    // A list signed before it named the types grants none: fail closed rather than trust any type.
    licenceTypes: entry.licenceTypes ?? [],
    ...(entry.statusLists !== undefined && { statusLists: entry.statusLists }),
    ...(entry.statusBase !== undefined && { statusBase: entry.statusBase }),
    ...(entry.peer !== undefined && { peer: entry.peer }),
    ...(entry.peer !== undefined
      ? entry.issuerUrl !== undefined && { issuerUrl: entry.issuerUrl }
      : ownBase !== undefined && { issuerUrl: entry.issuerUrl ?? issuerUrlOf(ownBase, entry.id) }),
    ...(entry.batchKeys !== undefined && { batchKeys: entry.batchKeys }),
  }));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyncError('bad_response', 'The JWKS is not JSON', { cause: error });
  }
}

function platformKeysOf(value: unknown): PublicJwk[] {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new SyncError('bad_response', 'The JWKS has no keys');
  return keys.filter(
    (key): key is PublicJwk =>
      typeof key === 'object' &&
      key !== null &&
      key.kty === 'EC' &&
      key.crv === 'P-256' &&
      typeof key.x === 'string' &&
      typeof key.y === 'string' &&
      typeof key.kid === 'string' &&
      (key.alg === undefined || key.alg === 'ES256'),
  );
}

/**
 * The list id (`<issuer id>.<n>`, decoded) a status list URI names, absolute (a credential's) or a path
 * (a presentation's entry); undefined for anything but `/status-lists/<list id>`.
 */
function statusListIdOf(uri: string): string | undefined {
  let pathname: string;
  try {
    // Only the path is used: lists are fetched from the store's own service, never from a host a scan names.
    pathname = new URL(uri, 'https://base.invalid').pathname;
  } catch {
    return undefined;
  }
  const match = /^\/status-lists\/([^/]+)$/.exec(pathname);
  if (!match?.[1]) return undefined;
  try {
    const listId = decodeURIComponent(match[1]);
    return /^[^/]+\.\d+$/.test(listId) ? listId : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a token's `sub` names the list with this id: the service encodes the id in its URIs. */
function namesList(sub: string, listId: string): boolean {
  return (
    sub.endsWith(`/status-lists/${encodeURIComponent(listId)}`) || sub.endsWith(`/status-lists/${listId}`)
  );
}

/** A fetch's options a caller may set: e.g. `{ cache: 'no-store' }`, or a `signal` to give up. */
export type RefreshInit = Pick<RequestInit, 'cache' | 'signal'>;

/**
 * Trust and statuses for offline verification; give it to {@link createVerifier} as both `trust` and
 * `status`.
 *
 * @example
 * ```ts
 * const store = new OfflineTrustStore({ baseUrl: 'https://elicence.example.gov.cn', crypto: nodeEs256 });
 * await store.sync();                                   // online
 * localStorage.setItem('elicence', JSON.stringify(store.snapshot()));
 * // … next start, maybe offline:
 * await store.restore(JSON.parse(localStorage.getItem('elicence')!));
 * const verifier = createVerifier({ crypto: nodeEs256, trust: store, status: store });
 * ```
 */
export class OfflineTrustStore implements TrustAnchors, StatusSource {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly clock: () => number;
  private readonly compression: Compression;
  private readonly keys: KeyCache;
  private readonly maxStatusListBytes: number;
  private readonly maxTrustListBytes: number;
  private readonly maxListsPerIssuer: number;
  private readonly clockSkewSeconds: number;
  private readonly requestTimeoutMs: number;
  private platform: { keys: PublicJwk[]; fetchedAt: number } | undefined;
  private trustList: KeptTrustList | undefined;
  private lists = new Map<string, KeptStatusList>();

  constructor(private readonly options: OfflineTrustStoreOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.clock = options.clock ?? (() => Date.now());
    this.compression = options.compression ?? streamCompression;
    this.keys = new KeyCache(options.crypto);
    this.maxStatusListBytes = numberOption(
      'maxStatusListBytes',
      options.maxStatusListBytes,
      DEFAULT_MAX_STATUS_LIST_BYTES / 4,
      { min: 1, integer: true },
    );
    this.maxTrustListBytes = numberOption(
      'maxTrustListBytes',
      options.maxTrustListBytes,
      DEFAULT_MAX_TRUST_LIST_BYTES,
      { min: 1, integer: true },
    );
    this.maxListsPerIssuer = numberOption('maxListsPerIssuer', options.maxListsPerIssuer, 64, {
      min: 1,
      integer: true,
    });
    this.clockSkewSeconds = clockSkewSecondsOf(options.clockSkewSeconds);
    this.requestTimeoutMs = numberOption(
      'requestTimeoutMs',
      options.requestTimeoutMs,
      DEFAULT_REQUEST_TIMEOUT_MS,
      { min: 1, integer: true },
    );
    if (options.platformKeys) this.platform = { keys: [...options.platformKeys], fetchedAt: this.clock() };
  }

  /**
   * Fetches and checks the platform keys (unless pinned), the trust list, and every status list of every
   * active issuer (`/status-lists/<issuer>.0`, `.1`, … as many as the trust list says; for a trust list
   * that does not say, until a 404). Throws {@link SyncError} when the trust list cannot be had; a status
   * list that fails is reported and its previous copy kept.
   *
   * Each list is one request: an app that verifies online should call this now and then (at start, on
   * demand) and {@link refreshStatusList} before a verdict.
   *
   * `init` goes with every request, as for {@link refreshStatusList}: the service's trust list and status
   * lists are HTTP-cacheable (`max-age`), so a browser app that wants what the service says now passes
   * `{ cache: 'no-store' }`; a `signal` gives up.
   *
   * @example
   * ```ts
   * const report = await store.sync({ cache: 'no-store' }); // past the browser's HTTP cache
   * if (report.failures.length) console.warn(report.failures);
   * ```
   */
  async sync(init?: RefreshInit): Promise<SyncReport> {
    const { platform, trustList } = await this.fetchTrust(init);
    this.refuseOlderTrustList(trustList);

    const lists = new Map<string, KeptStatusList>();
    const failures: SyncReport['failures'] = [];
    const active = [...trustList.byId.values()].filter((issuer) => issuer.status === 'active');
    await pool(active, 4, async (issuer) => {
      // The trust list says how many lists there are; one signed before it said so leaves a probe to a 404.
      const counted = issuer.statusLists !== undefined;
      const count = Math.min(issuer.statusLists ?? this.maxListsPerIssuer, this.maxListsPerIssuer);
      for (let n = 0; n < count; n++) {
        const listId = `${issuer.id}.${n}`;
        const path = `/status-lists/${encodeURIComponent(listId)}`;
        const base = issuer.statusBase ?? this.baseUrl;
        try {
          const list = await this.fetchStatusList(listId, trustList, init, !counted);
          if (list === undefined) break;
          lists.set(list.sub, list);
        } catch (error) {
          failures.push({
            url: base + path,
            code: error instanceof SyncError ? error.code : 'invalid_token',
          });
          // Keep what we had for this issuer: an old list says more than none, but only one signed by a key
          // the new trust list still publishes (a withdrawn key's list would say whatever that key chose).
          for (const [sub, kept] of this.lists)
            if (kept.iss === issuer.id && !lists.has(sub) && trustList.vouchesFor(kept)) lists.set(sub, kept);
          break;
        }
      }
    });
    // A list refreshed alone while this sync ran may be newer than the copy the sync fetched: it stays.
    for (const [sub, kept] of this.lists) {
      const fetched = lists.get(sub);
      if (fetched && newer(kept, fetched) && trustList.vouchesFor(kept)) lists.set(sub, kept);
    }
    // A refreshTrustList that completed meanwhile may hold a newer trust list than this sync's.
    this.refuseOlderTrustList(trustList);
    this.platform = platform;
    this.trustList = trustList;
    this.lists = lists;
    return { issuers: trustList.byId.size, statusLists: lists.size, failures };
  }

  /**
   * Fetches and checks the platform keys (unless pinned) and the trust list alone, as {@link sync} does,
   * and keeps the status lists already held whose issuer is still active with the key that signed them.
   * For an issuer the store does not know yet, or a trust list past its `ttl`, without fetching every
   * status list. Throws {@link SyncError} and keeps what it had when the trust list cannot be had.
   *
   * @example
   * ```ts
   * const result = await verifier.verify(scan);
   * if (result.verdict === 'unknown_issuer' && result.reason === 'issuer_not_trusted') {
   *   await store.refreshTrustList();          // a newly registered issuer, perhaps
   *   return verifier.verify(scan);
   * }
   * ```
   */
  async refreshTrustList(init?: RefreshInit): Promise<{ issuers: number }> {
    const { platform, trustList } = await this.fetchTrust(init);
    this.refuseOlderTrustList(trustList);
    const lists = new Map<string, KeptStatusList>();
    for (const [sub, kept] of this.lists) if (trustList.vouchesFor(kept)) lists.set(sub, kept);
    this.platform = platform;
    this.trustList = trustList;
    this.lists = lists;
    return { issuers: trustList.byId.size };
  }

  /**
   * Fetches, checks and keeps the one status list at `uri`: a credential's `status.status_list.uri`
   * (absolute) or a presentation's entry (`/status-lists/<issuer id>.<n>`, see {@link StatusQuery}). The
   * checks are those of {@link sync}: signed by a key the trust list gives its issuer, `typ`
   * `statuslist+jwt`, `sub` naming this list (the very `uri`, when absolute) of that issuer, not past its
   * `exp`; its `ttl` then governs staleness. The list is fetched from the issuer's `statusBase` when the
   * trust list gives one (a peer platform's issuer), else from this store's `baseUrl` (the path of
   * `uri`), never from a host a scan names. Needs a trust list (a {@link sync} or {@link restore} first).
   * Throws {@link SyncError} and keeps the previous copy when the list cannot be had, does not verify,
   * was signed before the copy held (`rolled_back`) or ahead of the clock beyond the skew (`clock_skew`).
   *
   * One request, and no 404 probe: the way to get a verdict that reflects a revocation of a moment ago.
   *
   * @example
   * ```ts
   * await store.refreshStatusList(
   *   'https://elicence.example.gov.cn/status-lists/iss_x.0',
   *   { cache: 'no-store' },                            // past the HTTP cache, which would hide a revocation
   * );
   * const result = await verifier.verify(scan);        // status from the list just fetched
   * ```
   */
  async refreshStatusList(uri: string, init?: RefreshInit): Promise<{ uri: string; fetchedAt: number }> {
    const listId = statusListIdOf(uri);
    if (listId === undefined) throw new SyncError('bad_response', `Not a status list URI: ${uri}`);
    const trustList = this.trustList;
    if (!trustList) throw new SyncError('bad_response', 'No trust list yet: sync first');
    const list = await this.fetchStatusList(listId, trustList, init, false);
    if (!list) throw new SyncError('bad_response', `No status list at ${uri}`);
    // A credential looks its list up by the exact URI it carries: a token naming another host will not do.
    if (!uri.startsWith('/') && list.sub !== uri) {
      throw new SyncError('invalid_token', 'The status list names another list');
    }
    // As in a sync, only an active issuer's lists are kept; and a sync may meanwhile have brought another
    // trust list, which must vouch for the list too.
    if (!(this.trustList ?? trustList).vouchesFor(list)) {
      throw new SyncError('invalid_token', 'The status list’s issuer is withdrawn or no longer has that key');
    }
    // Again after the fetch: a sync or another refresh may have brought a newer copy meanwhile.
    this.refuseOlderStatusList(listId, list);
    // One copy per list: an older copy under another host name would otherwise answer path lookups.
    for (const [sub, kept] of this.lists) if (kept !== list && namesList(sub, listId)) this.lists.delete(sub);
    this.lists.set(list.sub, list);
    return { uri: list.sub, fetchedAt: list.fetchedAt };
  }

  /** What the store holds, to persist; {@link restore} checks it all again. */
  snapshot(): OfflineSnapshot {
    if (!this.platform || !this.trustList) throw new SyncError('bad_response', 'Nothing synced yet');
    return {
      version: 1,
      platformKeys: { keys: [...this.platform.keys], fetchedAt: this.platform.fetchedAt },
      trustList: {
        jws: this.trustList.jws,
        fetchedAt: this.trustList.fetchedAt,
        issuedAt: this.trustList.iat * 1000,
      },
      statusLists: [...this.lists.values()].map((list) => ({
        jws: list.jws,
        fetchedAt: list.fetchedAt,
        issuedAt: list.iat * 1000,
      })),
    };
  }

  /**
   * Loads a {@link snapshot}, verifying every token again (against pinned platform keys when given),
   * with the times they were first fetched. Throws {@link SyncError} and keeps what it had when the
   * snapshot is not one or does not verify, when its trust list is past its `exp` (`expired_token`: a
   * trust list that old vouches for nothing; sync instead), or when its trust list was signed before the
   * one held (`rolled_back`), or when a token in it was signed ahead of the clock beyond the skew
   * (`clock_skew`: the device's clock is slow, or was fast when it synced); a status list the store holds
   * a newer copy of keeps that copy. Status lists past their `exp` are kept (they still bar a rollback)
   * but answer only `revoked` (revocation is final; see {@link status}): their `valid` or `suspended` is
   * no answer.
   */
  async restore(snapshot: OfflineSnapshot): Promise<void> {
    if (
      snapshot?.version !== 1 ||
      typeof snapshot.trustList?.jws !== 'string' ||
      !Number.isFinite(snapshot.trustList.fetchedAt) ||
      !Number.isFinite(snapshot.platformKeys?.fetchedAt) ||
      !Array.isArray(snapshot.statusLists)
    ) {
      throw new SyncError('bad_response', 'Not a snapshot of this store');
    }
    const platform = this.options.platformKeys
      ? { keys: [...this.options.platformKeys], fetchedAt: snapshot.platformKeys.fetchedAt }
      : { keys: platformKeysOf(snapshot.platformKeys), fetchedAt: snapshot.platformKeys.fetchedAt };
    const trustList = await this.readTrustList(
      snapshot.trustList.jws,
      platform.keys,
      snapshot.trustList.fetchedAt,
    );
    refuseExpiredTrustList(trustList, this.clock());
    this.refuseOlderTrustList(trustList);
    const lists = new Map<string, KeptStatusList>();
    for (const kept of snapshot.statusLists) {
      if (typeof kept?.jws !== 'string' || !Number.isFinite(kept.fetchedAt)) {
        throw new SyncError('bad_response', 'Not a snapshot of this store');
      }
      const list = await this.readStatusList(kept.jws, trustList, kept.fetchedAt);
      const held = this.lists.get(list.sub);
      lists.set(list.sub, held && newer(held, list) && trustList.vouchesFor(held) ? held : list);
    }
    this.refuseOlderTrustList(trustList);
    this.platform = platform;
    this.trustList = trustList;
    this.lists = lists;
  }

  issuerById(id: string): TrustedIssuer | undefined {
    return this.trustList?.byId.get(id);
  }

  issuerByCreditCode(creditCode: string): TrustedIssuer | undefined {
    return this.trustList?.byCreditCode.get(creditCode);
  }

  platformKeys(): readonly PublicJwk[] {
    return this.platform?.keys ?? [];
  }

  /**
   * The keys the trust list names for presentations (`presentationKeys`): then the only keys a
   * presentation verifies with. `undefined` while no list is held or the list names none (one signed
   * before they were published): presentations are then checked against {@link platformKeys}.
   */
  presentationKeys(): readonly PublicJwk[] | undefined {
    return this.trustList?.presentationKeys;
  }

  /**
   * The trust list's age; stale once older than its `ttl`, counted from its `iat`; `expired` once past its
   * `exp` (then no verdict resting on it is `valid`: the verifier answers `unknown`, `trust_list_expired`).
   */
  freshness(): Freshness | undefined {
    const kept = this.trustList;
    if (!kept) return undefined;
    const now = this.clock();
    if (kept.exp * 1000 <= now) return kept.expired;
    return now > (kept.iat + kept.ttl) * 1000 ? kept.stale : kept.fresh;
  }

  /**
   * The status a synced list gives a credential, with its age; nothing when the list is not held or names
   * another issuer: a credential's verdict is then `unknown` (`status_unknown`), not `valid`. A list past
   * its `exp` (the draft forbids relying on it then) still answers `revoked`, marked `stale` and
   * `expired` in its freshness, as revocation is final; its `valid` or `suspended` is no answer.
   */
  status(query: StatusQuery): StatusAnswer | undefined {
    if (!query.list) return undefined;
    const list = this.listAt(query.list.uri);
    if (!list || list.iss !== query.issuerId) return undefined;
    let value: number;
    try {
      value = readStatus(list.bytes, query.list.idx, list.bits);
    } catch {
      return undefined;
    }
    const now = this.clock();
    // Answers are made once per list (per value, fresh, stale or expired): nothing is allocated per
    // verification. Stale counted from when the list was signed: fetched now but signed long ago is old news.
    const answers =
      list.exp * 1000 <= now
        ? list.expiredAnswers
        : now > (list.iat + list.ttl) * 1000
          ? list.staleAnswers
          : list.freshAnswers;
    return answers[value];
  }

  /** The list published at `uri`, absolute or (a presentation's entry) a path on the service. */
  private listAt(uri: string): KeptStatusList | undefined {
    if (!uri.startsWith('/')) return this.lists.get(uri);
    const list = this.lists.get(this.baseUrl + uri);
    if (list) return list;
    // The service may sign list URIs under another host name than the one this store syncs from.
    for (const [sub, kept] of this.lists) if (sub.endsWith(uri)) return kept;
    return undefined;
  }

  /**
   * The body at `path`, read no further than `maxBytes` (`too_large` past it) and within the request's
   * deadline (`requestTimeoutMs`: `unreachable` past it); a 404 is `undefined` when `notFoundIsEnd`, any
   * other failure a {@link SyncError}.
   */
  private async fetchText(
    path: string,
    maxBytes: number,
    notFoundIsEnd: boolean,
    init?: RefreshInit,
    base: string = this.baseUrl,
  ): Promise<string | undefined> {
    const deadline = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new SyncError('unreachable', `${path}: no answer within ${this.requestTimeoutMs} ms`);
        deadline.abort(error);
        reject(error);
      }, this.requestTimeoutMs);
    });
    // Settled either way: a rejection that loses the race is not left unhandled.
    expired.catch(() => undefined);
    const signal = init?.signal ? eitherSignal(init.signal, deadline.signal) : deadline.signal;
    try {
      // Raced as well as aborted: a `fetch` (or a body stream) that ignores its signal is abandoned too.
      return await Promise.race([
        this.fetchTextWithin(path, maxBytes, notFoundIsEnd, { ...init, signal }, base),
        expired,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async fetchTextWithin(
    path: string,
    maxBytes: number,
    notFoundIsEnd: boolean,
    init: RefreshInit,
    base: string,
  ): Promise<string | undefined> {
    let response: Response;
    try {
      response = await this.fetch(base + path, { ...init, headers: { accept: '*/*' } });
    } catch (error) {
      throw new SyncError('unreachable', `${path}: ${String(error)}`, { cause: error });
    }
    if (notFoundIsEnd && response.status === 404) {
      await response.body?.cancel().catch(() => undefined);
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new SyncError('bad_response', `${path}: HTTP ${response.status}`);
    }
    try {
      return await readBoundedText(response, maxBytes);
    } catch (error) {
      if (!(error instanceof BodyReadError)) throw error;
      throw new SyncError(error.code, `${path}: ${error.message}`, { cause: error });
    }
  }

  private async get(path: string, init?: RefreshInit): Promise<string> {
    return (await this.fetchText(path, this.maxTrustListBytes, false, init)) ?? '';
  }

  /** The platform keys (fetched unless pinned) and the trust list they sign, checked and not expired. */
  private async fetchTrust(
    init: RefreshInit | undefined,
  ): Promise<{ platform: { keys: PublicJwk[]; fetchedAt: number }; trustList: KeptTrustList }> {
    const platform = this.options.platformKeys
      ? { keys: [...this.options.platformKeys], fetchedAt: this.clock() }
      : {
          keys: platformKeysOf(parseJson(await this.get('/.well-known/jwks.json', init))),
          fetchedAt: this.clock(),
        };
    const trustJws = await this.get('/trust-list', init);
    const trustList = await this.readTrustList(trustJws, platform.keys, this.clock());
    refuseExpiredTrustList(trustList, this.clock());
    return { platform, trustList };
  }

  /**
   * The status list `listId` (`<issuer id>.<n>`), fetched and checked: signed for its issuer, naming that
   * list, not expired. Undefined on a 404 when `notFoundIsEnd` (a sync's probe); a {@link SyncError} else.
   */
  private async fetchStatusList(
    listId: string,
    trustList: KeptTrustList,
    init: RefreshInit | undefined,
    notFoundIsEnd: boolean,
  ): Promise<KeptStatusList | undefined> {
    // The list is at least as fresh as the request: its start is the conservative age, and it orders a list
    // refreshed alone after a sync's copy requested earlier but answered later (see `sync`).
    const requestedAt = this.clock();
    // A peer platform's issuer (跨地区互认) publishes its lists at its own platform, which the signed trust
    // list names; any other issuer's are at this store's service. Never a host the scan names.
    const base = trustList.byId.get(listId.slice(0, listId.lastIndexOf('.')))?.statusBase ?? this.baseUrl;
    const jws = await this.fetchText(
      `/status-lists/${encodeURIComponent(listId)}`,
      statusListTokenMaxBytes(this.maxStatusListBytes),
      notFoundIsEnd,
      init,
      base,
    );
    if (jws === undefined) return undefined;
    const list = await this.readStatusList(jws, trustList, requestedAt);
    if (list.exp * 1000 <= this.clock()) throw new SyncError('expired_token', 'The status list has expired');
    // Signed by its issuer and naming the list asked for: no issuer can stand in for another's list.
    if (!listId.startsWith(`${list.iss}.`) || !namesList(list.sub, listId)) {
      throw new SyncError('invalid_token', 'The status list names another list');
    }
    this.refuseOlderStatusList(listId, list);
    return list;
  }

  /**
   * Refuses a trust list signed before the one held, or in the same second saying something else: a
   * rollback would undo withdrawals and key removals.
   */
  private refuseOlderTrustList(trustList: KeptTrustList): void {
    const held = this.trustList;
    if (held && notAfter(trustList, held)) {
      throw new SyncError(
        'rolled_back',
        `The trust list was signed at ${trustList.iat}, ${trustList.iat < held.iat ? 'before' : 'in the same second as, and unlike,'} the one held (${held.iat})`,
      );
    }
  }

  /**
   * Refuses a status list signed before the copy held of the same list, or in the same second saying
   * something else: it would undo revocations.
   */
  private refuseOlderStatusList(listId: string, list: KeptStatusList): void {
    for (const [sub, held] of this.lists) {
      if (held !== list && namesList(sub, listId) && notAfter(list, held)) {
        throw new SyncError(
          'rolled_back',
          `The status list ${listId} was signed at ${list.iat}, ${list.iat < held.iat ? 'before' : 'in the same second as, and unlike,'} the copy held (${held.iat})`,
        );
      }
    }
  }

  /**
   * Refuses a list signed (`iat`, in seconds) further ahead of this store's clock than the skew: fetched
   * or restored, whoever signed it. Held, it would be "newer" than every genuine list until real time
   * caught up with its `iat` (a year, for a signer whose clock was a year ahead), and each of those would
   * be refused as `rolled_back`: revocations would go unseen all that time.
   */
  private refuseSignedAhead(what: string, iat: number): void {
    const ahead = iat - Math.floor(this.clock() / 1000);
    if (ahead > this.clockSkewSeconds) {
      throw new SyncError(
        'clock_skew',
        `The ${what} was signed ${ahead} s ahead of this clock (more than ${this.clockSkewSeconds} s)`,
      );
    }
  }

  /** Verifies a compact JWS of type `typ` against `keys` (by `kid`, ES256 only); its payload and the key. */
  private async verified(
    jws: string,
    typ: string,
    keys: readonly PublicJwk[],
  ): Promise<{ payload: Record<string, unknown>; key: PublicJwk }> {
    let token;
    try {
      token = readCompactJws(jws.trim());
    } catch (error) {
      throw new SyncError('invalid_token', `Not a ${typ}`, { cause: error });
    }
    const jwk = keys.find((key) => key.kid === token.header.kid);
    if (token.header.alg !== 'ES256' || token.header.typ !== typ || !jwk) {
      throw new SyncError('invalid_token', `Not a ${typ} signed by a trusted key`);
    }
    if (!(await this.keys.verify(jwk, token.signature, token.signingInput))) {
      throw new SyncError('invalid_token', `The ${typ} signature does not verify`);
    }
    return { payload: token.payload, key: jwk };
  }

  private async readTrustList(
    jws: string,
    platformKeys: readonly PublicJwk[],
    fetchedAt: number,
  ): Promise<KeptTrustList> {
    const parsed = trustListPayload.safeParse(
      (await this.verified(jws, trustListTokenType, platformKeys)).payload,
    );
    if (!parsed.success) throw new SyncError('invalid_token', 'The trust list claims are malformed');
    this.refuseSignedAhead('trust list', parsed.data.iat);
    const issuers = issuersOf(parsed.data);
    const byId = new Map(issuers.map((issuer) => [issuer.id, issuer]));
    const issuedAt = parsed.data.iat * 1000;
    return {
      jws,
      fetchedAt,
      iat: parsed.data.iat,
      ttl: parsed.data.ttl,
      exp: parsed.data.exp,
      fresh: Object.freeze({ issuedAt, fetchedAt, stale: false }),
      stale: Object.freeze({ issuedAt, fetchedAt, stale: true }),
      expired: Object.freeze({ issuedAt, fetchedAt, stale: true, expired: true }),
      byId,
      byCreditCode: new Map(issuers.map((issuer) => [issuer.creditCode, issuer])),
      presentationKeys: parsed.data.presentationKeys?.keys,
      vouchesFor(list) {
        const issuer = byId.get(list.iss);
        return (
          issuer?.status === 'active' &&
          issuer.keys.some((key) => key.x === list.key.x && key.y === list.key.y)
        );
      },
    };
  }

  private async readStatusList(
    jws: string,
    trustList: KeptTrustList,
    fetchedAt: number,
  ): Promise<KeptStatusList> {
    let iss: unknown;
    try {
      iss = readCompactJws(jws.trim()).payload.iss;
    } catch (error) {
      throw new SyncError('invalid_token', 'Not a status list token', { cause: error });
    }
    const issuer = typeof iss === 'string' ? trustList.byId.get(iss) : undefined;
    if (!issuer) throw new SyncError('invalid_token', 'A status list of an issuer not in the trust list');
    const { payload, key } = await this.verified(jws, statusListTokenType, issuer.keys);
    const claims = statusListTokenClaims.safeParse(payload);
    if (!claims.success) throw new SyncError('invalid_token', 'The status list claims are malformed');
    this.refuseSignedAhead('status list', claims.data.iat);
    let decoded;
    try {
      decoded = await decodeStatusList(claims.data.status_list, this.compression, {
        maxBytes: this.maxStatusListBytes,
      });
    } catch (error) {
      throw new SyncError('invalid_token', 'The status list cannot be decoded', { cause: error });
    }
    const { iat } = claims.data;
    return {
      jws,
      fetchedAt,
      iat,
      iss: issuer.id,
      sub: claims.data.sub,
      ttl: claims.data.ttl,
      exp: claims.data.exp,
      key,
      bits: decoded.bits,
      bytes: decoded.bytes,
      freshAnswers: answersFor(iat * 1000, fetchedAt, false),
      staleAnswers: answersFor(iat * 1000, fetchedAt, true),
      expiredAnswers: answersPastExp(iat * 1000, fetchedAt),
    };
  }
}

/** Refuses a trust list past its `exp`: it vouches for no issuer and no key any more. */
function refuseExpiredTrustList(trustList: KeptTrustList, now: number): void {
  if (trustList.exp * 1000 <= now) {
    throw new SyncError('expired_token', `The trust list expired at ${trustList.exp}: sync again`);
  }
}

/** The signed claims of a compact JWS, as sent (its middle part): equal for the same content signed twice. */
function claimsPart(jws: string): string {
  const text = jws.trim();
  const first = text.indexOf('.');
  return text.slice(first + 1, text.indexOf('.', first + 1));
}

/**
 * Whether `token` may not replace `held`: signed earlier, or in the same second with other claims. Lists
 * are signed with `iat` in whole seconds, so two signed a moment apart (two revocations within one
 * second, from a signer before 2026-12 that did not date the second a second later) carry the same
 * `iat`, and which is later cannot be told: the copy held stands, rather than whichever an attacker
 * serves (review R32 M1). The same claims signed again (another signature) are the same list.
 */
function notAfter(token: { iat: number; jws: string }, held: { iat: number; jws: string }): boolean {
  return token.iat < held.iat || (token.iat === held.iat && claimsPart(token.jws) !== claimsPart(held.jws));
}

/**
 * Whether `held` stays rather than `other`: signed later, or at the same second and fetched later, or at
 * the same second saying something else (which of the two is later cannot be told: the one held stands,
 * as a fetch would refuse the other, see {@link notAfter}).
 */
function newer(held: KeptStatusList, other: KeptStatusList): boolean {
  return (
    held.iat > other.iat ||
    (held.iat === other.iat &&
      (held.fetchedAt > other.fetchedAt || claimsPart(held.jws) !== claimsPart(other.jws)))
  );
}

/** A signal aborted when either is (`AbortSignal.any` where the runtime has it). */
function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  const any = (AbortSignal as { any?: (signals: AbortSignal[]) => AbortSignal }).any;
  if (any) return any.call(AbortSignal, [a, b]);
  const both = new AbortController();
  for (const signal of [a, b]) {
    if (signal.aborted) both.abort(signal.reason);
    else signal.addEventListener('abort', () => both.abort(signal.reason), { once: true });
  }
  return both.signal;
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
