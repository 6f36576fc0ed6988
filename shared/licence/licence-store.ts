import type { LicenceRecord, LicenceStatus } from './licence.js';

export interface LicencePage {
  items: LicenceRecord[];
  /** Opaque; absent on the last page. */
  cursor?: string;
}

export interface LicenceQuery {
  holderLookupKey?: string;
  status?: LicenceStatus;
  limit: number;
  cursor?: string;
  /** For the derived `expired` status. */
  now: Date;
}

/**
 * Where licences are kept. Contract: `create` is one conditional write that fails with `ConflictError`
 * if the id exists; `save` replaces under optimistic concurrency on `version`; lists are newest first;
 * a cursor is only valid for the query that produced it (else an `InvalidInputError` `invalid_cursor`).
 */
export interface LicenceStore {
  create(licence: LicenceRecord): Promise<LicenceRecord>;
  get(id: string): Promise<LicenceRecord | undefined>;
  save(licence: LicenceRecord): Promise<LicenceRecord>;
  listByIssuer(issuerId: string, query: LicenceQuery): Promise<LicencePage>;
  listByHolder(holderLookupKey: string): Promise<LicenceRecord[]>;
}
