import type { LicenceRecord, LicenceStatus } from './licence.js';

export interface LicencePage {
  items: LicenceRecord[];
  /** Opaque; absent on the last page. */
  cursor?: string;
}

/** What narrows an issuer's list (and its count): every condition given must hold. */
export interface LicenceFilter {
  holderLookupKey?: string;
  status?: LicenceStatus;
  /** A licence type code, exactly. */
  type?: string;
  /** A part of the holder's name, as stored (case-sensitive: names are Chinese, mostly). */
  holderName?: string;
  /** A part of the licence number (its id). */
  number?: string;
  /** Issued at or after this instant (RFC 3339, UTC `…Z`). */
  issuedFrom?: string;
  /** Issued strictly before this instant (RFC 3339, UTC `…Z`). */
  issuedBefore?: string;
  /**
   * Only licences whose credential's protected header names one of these `kid`s (the keys withdrawn
   * after a compromise, `withdrawnCredentialKids`). No index holds the kid: the store reads the issuer's
   * index entries (which carry the credential) and keeps the matching ones, within its bounded reads per
   * page. An empty list matches nothing.
   */
  signedBy?: readonly string[];
  /** For the derived `expired` status. */
  now: Date;
}

export interface LicenceQuery extends LicenceFilter {
  limit: number;
  cursor?: string;
  /** By issue time: newest first (the default) or oldest first. */
  order?: 'newest' | 'oldest';
}

/** How many licences match a filter, counted up to a cap. */
export interface LicenceCount {
  /** The number counted: exact when `capped` is false, else the cap (there are at least this many). */
  count: number;
  capped: boolean;
}

/**
 * Where licences are kept. Contract: `create` is one conditional write that fails with `ConflictError`
 * if the id exists; `save` replaces under optimistic concurrency on `version`; lists are newest first
 * (an issuer's list oldest first on request); `clearPending` changes no `version`;
 * a cursor is only valid for the query that produced it: its holder or issuer, issue-date range and
 * direction (else an `InvalidInputError` `invalid_cursor` naming `cursor`, never a store's own error).
 */
export interface LicenceStore {
  create(licence: LicenceRecord): Promise<LicenceRecord>;
  get(id: string): Promise<LicenceRecord | undefined>;
  save(licence: LicenceRecord): Promise<LicenceRecord>;
  /**
   * Removes the record's pending work (`PendingWork`, ./licence.ts) if it is still at `version`, without
   * a new version (bookkeeping, not a change: a concurrent change is not refused for it). Answers the record
   * without it, or `undefined` when the version moved on.
   */
  clearPending(id: string, version: number): Promise<LicenceRecord | undefined>;
  listByIssuer(issuerId: string, query: LicenceQuery): Promise<LicencePage>;
  /**
   * How many of an issuer's licences match `filter`, counting no further than `cap` (then `capped`).
   * The count reads every matching index entry up to the cap: its cost grows with the issuer's
   * licences in the filter's issue-date range, which is why it stops at the cap.
   */
  countByIssuer(issuerId: string, filter: LicenceFilter, cap: number): Promise<LicenceCount>;
  listByHolder(holderLookupKey: string): Promise<LicenceRecord[]>;
}
