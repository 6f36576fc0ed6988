import type { PublicJwk } from '../../packages/verifier/src/crypto.js';
import type { TrustListIssuer } from '../../packages/verifier/src/trust-list.js';
import type { Trace } from '../pending-work/pending-work.js';

/**
 * An issuer of a peer platform as we accepted it from that peer's trust list (跨地区互认): the peer's
 * entry as it was signed, plus `peer` (our id of the peer) and `statusBase` (the peer's base URL, where
 * its status lists stay).
 */
export type PeerIssuer = TrustListIssuer & { peer: string; statusBase: string };

/** The last trust list of a peer that its pinned keys verified and that moved time forward. */
export interface PeerTrustListCopy {
  jws: string;
  /** Its `iat` (seconds). */
  iat: number;
  /** Its `exp` (seconds): past it, the copy is not used, whatever the configured ages say. */
  exp: number;
}

/** The last failure of a refresh: the last good copy stays in use. */
export interface PeerError {
  at: string;
  /** `unreachable`, `bad_response`, `untrusted` (the pinned keys do not verify it), `rolled_back`, `expired`, `clock_skew` (signed ahead of our clock). */
  code: string;
  detail: string;
}

/** A registered peer platform (`POST /admin/peers`). */
export interface PeerRecord {
  id: string;
  name: string;
  /** The administrative division (GB/T 2260) the peer serves: its issuers must be within it. */
  region: string;
  /** The peer's public base URL (its `ISSUER_URL`): its `/trust-list` and `/status-lists/…` are under it. */
  baseUrl: string;
  /** The peer platform's public keys, pinned at registration: only they may sign its trust list. */
  jwks: { keys: PublicJwk[] };
  createdAt: string;
  /** When its trust list was last fetched and verified (RFC 3339). */
  fetchedAt: string;
  trustList: PeerTrustListCopy;
  /** Its active issuers we accepted from that copy (see `acceptPeerIssuers`). */
  issuers: PeerIssuer[];
  /** Set when the last refresh failed: the last good copy stays in use until it is too old. */
  lastError?: PeerError;
  /** Bumped by every write (optimistic concurrency); a change tells caches to drop the peer's status lists. */
  version: number;
}

/**
 * Where peer platforms are kept: one record each, with the last good copy of its trust list.
 *
 * `save` stores only if the stored version is still `expectedVersion` (0: a new peer) and throws a
 * `ConflictError` otherwise; `remove` deletes, answering whether the peer was there (absent: nothing
 * happens, false). Given a `trace` (an operator's registration or removal), each writes with the peer, all
 * or nothing, the pointer that carries its audit entry (shared/pending-work/pending-work.ts, in the index
 * of operators' changes): never one without the other.
 */
export interface PeerStore {
  get(id: string): Promise<PeerRecord | undefined>;
  list(): Promise<PeerRecord[]>;
  save(peer: Omit<PeerRecord, 'version'>, expectedVersion: number, trace?: Trace): Promise<PeerRecord>;
  remove(id: string, trace?: Trace): Promise<boolean>;
}
