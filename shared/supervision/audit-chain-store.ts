import type { AuditEntry } from '../audit/audit-trail.js';
import type { ChainHead } from './audit-chain.js';

/** A chain started on a day, as registered by its first entry. */
export interface RegisteredChain {
  chain: string;
  /** The partition shard its entries are in. */
  shard: number;
}

/** A signed checkpoint as stored and listed. */
export interface StoredCheckpoint {
  /** RFC 3339: when it was signed (its `iat`). */
  at: string;
  /** The compact JWS (`typ: audit-checkpoint+jwt`). */
  jws: string;
}

/** A checkpoint to store: as listed, plus its id (the JWS payload's `jti`), under which its heads are kept. */
export interface NewCheckpoint extends StoredCheckpoint {
  /** `cp_<random>`. */
  id: string;
}

/** One page of a checkpoint's heads, in the order signed. */
export interface HeadsPage {
  items: ChainHead[];
  /** Opaque; absent on the last page. */
  cursor?: string;
}

/** What {@link AuditChainStore.claimOnDemand} answers: claimed, or taken until `until` (epoch ms). */
export type OnDemandClaim = { claimed: true } | { claimed: false; until: number };

/** One page of a day range's entries, in chain order. */
export interface AuditPage {
  items: AuditEntry[];
  /**
   * One per item, in order: where the entry stands in its licence's list (opaque, ordered as text as that
   * list is, as `LicenceAuditPages` answers it), taken from what the entry stores, so an entry taken off the
   * list has one too; `null` for an entry about no licence.
   */
  positions: Array<string | null>;
  /**
   * One per item, in order: whether the entry is on its licence's list at its place (`positions`), as the
   * item is stored (its own index keys, no second read); `null` for an entry about no licence. `false` is
   * an entry taken off its list (its index keys removed or changed), which no hash shows.
   */
  listed: Array<boolean | null>;
  /**
   * One per item, in order, when the store knows it: the shard of the day partition it was read from
   * (`misattributedEntries` of shared/audit/audit-writers.ts holds it to its chain's shard, R31 M1).
   */
  shards?: Array<number | null>;
  /**
   * One per item, in order, when the store knows it: for a chained entry about a holder (`holderKey`),
   * which of its holder's records its own index keys leave it out of, at its place: `usage record` (the
   * holder's whole record, gsi2 on DynamoDB) or `usage record by kind` (the record of its action, gsi3);
   * `null` when it is in both, or is about no holder. No hash shows an entry taken off either (review R52).
   */
  unfiled?: Array<'usage record' | 'usage record by kind' | null>;
  /** Opaque; absent on the last page. */
  cursor?: string;
}

/**
 * What supervision reads of the audit trail's chains, and where checkpoints are kept.
 *
 * Contract: `chainsOf(day)` lists the chains registered on `day`, each in the shard its id's writer names
 * (`shardOfWriter`), never as a registration's other attributes say (review R52); `headOf` answers a
 * chain's last entry (`undefined` for a chain with none; a last entry with no valid `seq` and `hash` is an
 * `UnprocessableError` `audit_chain_head_corrupt`, never a head nor a chain skipped); `entries` answers the entries of the days `from`..`to` (UTC days of
 * their partitions), each once across pages, a chain's entries in `seq` order, optionally only those of
 * one issuer, each page reading a bounded part of the range (a page may hold fewer than `limit` entries,
 * even none, while `cursor` says more may follow); a cursor this port did not make is an `InvalidInputError` (`invalid_cursor`);
 * `checkpoints(limit, cursor?)` answers them newest first, `cursor` present when older ones follow (passed
 * back, the next page; one it did not make is `invalid_cursor`). `saveCheckpoint(checkpoint, heads)`
 * stores the heads (in pages, each within the store's item limit) **before** the checkpoint, so that a
 * listed checkpoint's heads are all there unless removed since; `checkpointHeads(id, cursor?)` answers them
 * page by page in the order given, `cursor` present when more follow; an id with no heads (unknown, or a
 * checkpoint of the first format, whose JWS holds its heads) answers no items; a cursor it did not make is
 * `invalid_cursor`; a stored page that is not as written (tampered with) is an `UnprocessableError`
 * `checkpoint_heads_corrupt`, never heads read from it. `claimOnDemand(now, until)` (epoch ms) claims the
 * one on-demand checkpoint slot, shared by every caller of the store (across containers), until `until` if
 * it is free at `now` (never claimed, or its last claim's `until` is at or before `now`), atomically: of
 * two racing claims at most one succeeds while the slot is held; refused, it answers the held claim's
 * `until`.
 *
 * @example
 * ```ts
 * for (const { chain, shard } of await store.chainsOf('2026-12-05')) await store.headOf({ chain, shard });
 * ```
 */
export interface AuditChainStore {
  chainsOf(day: string): Promise<RegisteredChain[]>;
  headOf(chain: RegisteredChain): Promise<ChainHead | undefined>;
  entries(query: {
    from: string;
    to: string;
    issuerId?: string;
    limit: number;
    cursor?: string;
  }): Promise<AuditPage>;
  saveCheckpoint(checkpoint: NewCheckpoint, heads: readonly ChainHead[]): Promise<void>;
  checkpointHeads(id: string, cursor?: string): Promise<HeadsPage>;
  checkpoints(limit: number, cursor?: string): Promise<{ items: StoredCheckpoint[]; cursor?: string }>;
  claimOnDemand(now: number, until: number): Promise<OnDemandClaim>;
}
