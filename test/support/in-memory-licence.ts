import { randomUUID } from 'node:crypto';
import { credentialKid } from '../../shared/issuers/credential-key.js';
import { epochSeconds, type Clock } from '../../shared/clock.js';
import { ConflictError, InvalidInputError } from '../../shared/errors.js';
import {
  idempotencyRetentionSeconds,
  IdempotencyLockLostError,
  type IdempotencyRecord,
  type IdempotencyStore,
} from '../../shared/licence/idempotency-store.js';
import type {
  CarriedAudit,
  PendingPointer,
  PendingWorkIndex,
  Trace,
} from '../../shared/pending-work/pending-work.js';
import { effectiveStatus, type LicenceRecord } from '../../shared/licence/licence.js';
import type {
  LicenceCount,
  LicenceFilter,
  LicencePage,
  LicenceQuery,
  LicenceStore,
} from '../../shared/licence/licence-store.js';
import {
  allocationFor,
  LIST_SIZE,
  parseListId,
  type SignedStatusList,
  type StatusListAllocation,
  type StatusListSnapshot,
  type StatusListStore,
} from '../../shared/licence/status-list-store.js';
import type { SignedTrustList, TrustListStore } from '../../shared/licence/trust-list-store.js';
import {
  createStatusBytes,
  readStatus,
  statusListFromCompressed,
  StatusType,
  writeStatus,
  type StatusValue,
} from '../../packages/verifier/src/status-list.js';
import { deflateStatusBytes } from '../../packages/verifier/src/status-list-zlib.js';

/**
 * The {@link LicenceStore} contract in memory: the same conflict codes, the same order (newest first by
 * issuance time, then id) and cursors that, like the table's, only continue the query they came from.
 * Records are copied in and out, as a table would.
 */
export class InMemoryLicenceStore implements LicenceStore {
  readonly byId = new Map<string, LicenceRecord>();

  async create(licence: LicenceRecord): Promise<LicenceRecord> {
    if (this.byId.has(licence.id))
      throw new ConflictError(`Licence ${licence.id} already exists`, 'licence_exists');
    const created = { ...structuredClone(licence), version: 1 };
    this.byId.set(licence.id, created);
    return structuredClone(created);
  }

  async get(id: string): Promise<LicenceRecord | undefined> {
    const found = this.byId.get(id);
    return found && structuredClone(found);
  }

  async save(licence: LicenceRecord): Promise<LicenceRecord> {
    if (this.byId.get(licence.id)?.version !== licence.version) {
      throw new ConflictError('The licence changed meanwhile; read it again and retry', 'licence_changed');
    }
    const saved = { ...structuredClone(licence), version: licence.version + 1 };
    this.byId.set(licence.id, saved);
    return structuredClone(saved);
  }

  async clearPending(id: string, version: number): Promise<LicenceRecord | undefined> {
    const found = this.byId.get(id);
    if (found?.version !== version) return undefined;
    const { pending: _pending, ...cleared } = found;
    this.byId.set(id, cleared);
    return structuredClone(cleared);
  }

  async listByIssuer(issuerId: string, query: LicenceQuery): Promise<LicencePage> {
    const oldest = query.order === 'oldest';
    // As the table's: a cursor continues its partition, issue-date range and direction only.
    const scope = JSON.stringify([
      query.holderLookupKey ? `holder:${query.holderLookupKey}` : `issuer:${issuerId}`,
      query.issuedFrom ?? null,
      query.issuedBefore ?? null,
      oldest,
    ]);
    const ordered = oldest ? this.#newestFirst().reverse() : this.#newestFirst();
    const matching = ordered.filter((licence) => matches(licence, issuerId, query));
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, scope);
    const rest =
      after === undefined
        ? matching
        : matching.filter((licence) => (oldest ? sortKey(licence) > after : sortKey(licence) < after));
    const items = rest.slice(0, query.limit);
    const last = items.at(-1);
    return {
      items: items.map((licence) => structuredClone(licence)),
      ...(rest.length > query.limit && last ? { cursor: encodeCursor(scope, sortKey(last)) } : {}),
    };
  }

  async countByIssuer(issuerId: string, filter: LicenceFilter, cap: number): Promise<LicenceCount> {
    const count = [...this.byId.values()].filter((licence) => matches(licence, issuerId, filter)).length;
    return count >= cap ? { count: cap, capped: true } : { count, capped: false };
  }

  async listByHolder(holderLookupKey: string): Promise<LicenceRecord[]> {
    return this.#newestFirst()
      .filter((licence) => licence.holder.lookupKey === holderLookupKey)
      .map((licence) => structuredClone(licence));
  }

  #newestFirst(): LicenceRecord[] {
    return [...this.byId.values()].sort((a, b) => (sortKey(a) < sortKey(b) ? 1 : -1));
  }
}

const sortKey = (licence: LicenceRecord) => `${licence.issuedAt}#${licence.id}`;

/** Whether a licence is the issuer's and meets every condition of the filter. */
function matches(licence: LicenceRecord, issuerId: string, filter: LicenceFilter): boolean {
  return (
    licence.issuerId === issuerId &&
    (filter.holderLookupKey === undefined || licence.holder.lookupKey === filter.holderLookupKey) &&
    (filter.status === undefined || effectiveStatus(licence, filter.now) === filter.status) &&
    (filter.type === undefined || licence.type === filter.type) &&
    (filter.holderName === undefined || licence.holder.name.includes(filter.holderName)) &&
    (filter.number === undefined || licence.id.includes(filter.number)) &&
    (filter.issuedFrom === undefined || licence.issuedAt >= filter.issuedFrom) &&
    (filter.issuedBefore === undefined || licence.issuedAt < filter.issuedBefore) &&
    (filter.signedBy === undefined || filter.signedBy.includes(credentialKid(licence.credential) ?? ''))
  );
}

const encodeCursor = (scope: string, after: string) =>
  Buffer.from(JSON.stringify({ scope, after })).toString('base64url');

function decodeCursor(cursor: string, scope: string): string {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      typeof decoded === 'object' &&
      decoded !== null &&
      (decoded as { scope?: unknown }).scope === scope &&
      typeof (decoded as { after?: unknown }).after === 'string'
    ) {
      return (decoded as { after: string }).after;
    }
  } catch {
    // falls through to the refusal
  }
  throw new InvalidInputError('The cursor does not belong to this query', 'invalid_cursor', {
    errors: [{ path: 'cursor', message: 'not a cursor of this listing', code: 'invalid_format' }],
  });
}

/** Longer than a request may run, as `DynamoIdempotencyStore` locks. */
const lockSeconds = 30;

type StoredIdempotency = Omit<IdempotencyRecord, 'key'> & { key: string; expiresAt: number };

/**
 * The {@link IdempotencyStore} contract in memory: a 30 s lock and a 10-day record (or one kept until
 * `retainUntil`), on the given clock.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  readonly records = new Map<string, StoredIdempotency>();

  constructor(private readonly clock: Clock) {}

  async acquire(input: {
    issuerId: string;
    key: string;
    requestHash: string;
    retainUntil?: number;
  }): Promise<IdempotencyRecord | undefined> {
    const now = epochSeconds(this.clock);
    const { retainUntil, ...key } = input;
    const id = `${input.issuerId}#${input.key}`;
    const current = this.records.get(id);
    if (!current || (current.expiresAt <= now && current.lockedUntil < now)) {
      // A new record, or an expired one that stands for nothing any more and nobody holds (an expired
      // record still locked is its holder's until the lock lapses, as on the table: review R61 F1).
      const expiresAt = Math.max(now + idempotencyRetentionSeconds, retainUntil ?? 0);
      const fresh = { ...key, lockedUntil: now + lockSeconds, lockToken: randomUUID(), expiresAt };
      this.records.set(id, fresh);
      return withoutExpiry(fresh);
    }
    if (current.lockedUntil >= now) return undefined;
    current.lockedUntil = now + lockSeconds;
    current.lockToken = randomUUID();
    return withoutExpiry(current);
  }

  async recordAllocation(
    record: IdempotencyRecord,
    allocation: NonNullable<IdempotencyRecord['allocation']>,
  ): Promise<NonNullable<IdempotencyRecord['allocation']>> {
    const stored = this.#stored(record);
    stored.allocation ??= { ...allocation };
    return { ...stored.allocation };
  }

  async recordCredential(record: IdempotencyRecord, credential: string): Promise<string> {
    const stored = this.#stored(record);
    stored.credential ??= credential;
    return stored.credential;
  }

  async release(record: IdempotencyRecord, licenceId?: string): Promise<void> {
    const stored = this.#stored(record);
    stored.lockedUntil = 0;
    if (licenceId) stored.licenceId = licenceId;
  }

  /** The holder's stored record, fenced by its token as on the table. */
  #stored(record: IdempotencyRecord): StoredIdempotency {
    const stored = this.records.get(`${record.issuerId}#${record.key}`);
    if (!stored) throw new Error(`no idempotency record ${record.issuerId}/${record.key}`);
    if (stored.lockToken !== record.lockToken) throw new IdempotencyLockLostError();
    return stored;
  }
}

function withoutExpiry({ expiresAt: _expiresAt, ...record }: StoredIdempotency): IdempotencyRecord {
  return structuredClone(record);
}

interface StoredList {
  bytes: Uint8Array;
  revision: number;
  token?: SignedStatusList;
  /** The `iat` of the last token signed, kept when a status change drops the token. */
  lastIat?: number;
}

/**
 * The {@link StatusListStore} contract in memory: one counter per issuer, lists of {@link LIST_SIZE}
 * entries whose revision counts changes, and a token kept only for the revision it was signed at.
 */
export class InMemoryStatusListStore implements StatusListStore {
  readonly counters = new Map<string, number>();
  readonly lists = new Map<string, StoredList>();

  async allocate(issuerId: string): Promise<StatusListAllocation> {
    allocationFor(issuerId, 0); // refuses an id that could not name a list
    const serial = this.counters.get(issuerId) ?? 0;
    this.counters.set(issuerId, serial + 1);
    return allocationFor(issuerId, serial);
  }

  async allocated(issuerId: string): Promise<number> {
    return this.counters.get(issuerId) ?? 0;
  }

  async setStatus(listId: string, idx: number, value: StatusValue): Promise<void> {
    parse(listId);
    if (!Number.isSafeInteger(idx) || idx < 0 || idx >= LIST_SIZE) {
      throw new RangeError(`Index ${idx} is outside a status list of ${LIST_SIZE} entries`);
    }
    if (!Object.values(StatusType).includes(value)) throw new RangeError(`Not a status value: ${value}`);
    const list = this.lists.get(listId);
    const bytes = list ? list.bytes.slice() : createStatusBytes(LIST_SIZE);
    const current = readStatus(bytes, idx);
    // Revocation is final: a revoked entry is never overwritten (the port's rule, as in the DynamoDB adapter).
    if (current === value || current === StatusType.INVALID) return;
    writeStatus(bytes, idx, value);
    // A new revision: the token signed at the old one is stale and dropped, its date kept (R32 M1).
    const lastIat = list?.token?.iat ?? list?.lastIat;
    this.lists.set(listId, {
      bytes,
      revision: (list?.revision ?? 0) + 1,
      ...(lastIat !== undefined && { lastIat }),
    });
  }

  async find(listId: string): Promise<StatusListSnapshot> {
    parse(listId);
    const list = this.lists.get(listId);
    return {
      listId,
      revision: list?.revision ?? 0,
      statusList: statusListFromCompressed(deflateStatusBytes(list?.bytes ?? createStatusBytes(LIST_SIZE))),
      token: list?.token && { ...list.token },
      stored: list !== undefined,
      ...(lastIat(list) !== undefined && { lastIat: lastIat(list) }),
    };
  }

  async saveToken(listId: string, token: SignedStatusList, seen: StatusListSnapshot): Promise<boolean> {
    parse(listId);
    const list = this.lists.get(listId);
    if (!seen.stored) {
      if (list) return false;
      this.lists.set(listId, { bytes: createStatusBytes(LIST_SIZE), revision: 0, token: { ...token } });
      return true;
    }
    if (!list || list.revision !== token.revision) return false;
    const unchanged =
      seen.token === undefined
        ? list.token === undefined
        : list.token?.iat === seen.token.iat && list.token.revision === seen.token.revision;
    if (!unchanged) return false;
    list.token = { ...token };
    return true;
  }
}

function lastIat(list: StoredList | undefined): number | undefined {
  return list?.token?.iat ?? list?.lastIat;
}

function parse(listId: string): void {
  if (!parseListId(listId)) throw new RangeError(`Not a status list id: ${JSON.stringify(listId)}`);
}

/** The {@link TrustListStore} contract in memory: one token, replaced under its version. */
export class InMemoryTrustListStore implements TrustListStore {
  stored: (SignedTrustList & { version: number }) | undefined;

  async find(): Promise<(SignedTrustList & { version: number }) | undefined> {
    return this.stored && { ...this.stored };
  }

  async save(token: SignedTrustList, expectedVersion: number): Promise<boolean> {
    if ((this.stored?.version ?? 0) !== expectedVersion) return false;
    this.stored = { ...token, version: expectedVersion + 1 };
    return true;
  }
}

/**
 * The {@link PendingWorkIndex} contract in memory: one pointer per licence (or, in a withdrawals' index,
 * per carried entry, put by {@link keep} as a change's transaction would), claims held for 60 s from their
 * taking, a live claim never taken over by `mark`, a pointer marked since its claim kept by `remove`.
 */
export class InMemoryPendingWork implements PendingWorkIndex {
  readonly pointers = new Map<
    string,
    {
      since: string;
      marked: string;
      claim?: string;
      claimedUntil?: number;
      claimedMark?: string;
      carried?: CarriedAudit;
    }
  >();

  /**
   * What the change's own write does with a pointer that carries its entries (DynamoDB: a put in it), put
   * already claimed by the change's request (its lease from `now`, the write's moment, as
   * `carriedAuditItem`), under `claim` (a new one unless given: a {@link Trace}'s): answers the claim.
   */
  keep(carried: CarriedAudit, now: Date, claim: string = randomUUID()): string {
    const marked = randomUUID();
    this.pointers.set(carried.id, {
      since: carried.since,
      marked,
      claim,
      claimedUntil: now.getTime() + 60_000,
      claimedMark: marked,
      carried: structuredClone(carried),
    });
    return claim;
  }

  /** What a store's write does with the {@link Trace} it is handed ({@link keep}, claimed as it says). */
  keepTrace(trace: Trace): void {
    this.keep(trace.carried, trace.at, trace.claim);
  }

  async carried(group: string): Promise<CarriedAudit[]> {
    return [...this.pointers].flatMap(([id, { carried }]) =>
      carried && id.slice(0, id.lastIndexOf('#') + 1) === group ? [structuredClone(carried)] : [],
    );
  }

  /** A claim held: one not past, nor later than one taken now could be (forged: lapsed, as on DynamoDB). */
  private held(pointer: { claim?: string; claimedUntil?: number }, now: Date): boolean {
    return (
      pointer.claim !== undefined &&
      pointer.claimedUntil! >= now.getTime() &&
      pointer.claimedUntil! <= now.getTime() + 60_000
    );
  }

  async mark(licenceId: string, now: Date): Promise<string | undefined> {
    const marked = randomUUID();
    const pointer = this.pointers.get(licenceId);
    if (pointer && this.held(pointer, now)) {
      this.pointers.set(licenceId, { ...pointer, since: now.toISOString(), marked });
      return undefined;
    }
    const claim = randomUUID();
    this.pointers.set(licenceId, {
      since: now.toISOString(),
      marked,
      claim,
      claimedUntil: now.getTime() + 60_000,
      claimedMark: marked,
    });
    return claim;
  }

  async claim(licenceId: string, now: Date): Promise<string | undefined> {
    const pointer = this.pointers.get(licenceId);
    if (!pointer || this.held(pointer, now)) return undefined;
    const claim = randomUUID();
    this.pointers.set(licenceId, {
      ...pointer,
      claim,
      claimedUntil: now.getTime() + 60_000,
      claimedMark: pointer.marked,
    });
    return claim;
  }

  async release(licenceId: string, claim: string): Promise<void> {
    const pointer = this.pointers.get(licenceId);
    if (pointer?.claim === claim) {
      const { claim: _claim, claimedUntil: _until, claimedMark: _mark, ...rest } = pointer;
      this.pointers.set(licenceId, rest);
    }
  }

  async remove(licenceId: string, claim: string): Promise<void> {
    const pointer = this.pointers.get(licenceId);
    if (pointer?.claim === claim && pointer.claimedMark === pointer.marked) this.pointers.delete(licenceId);
    else await this.release(licenceId, claim);
  }

  async olderThan(before: Date, limit: number): Promise<PendingPointer[]> {
    return [...this.pointers]
      .filter(([, pointer]) => pointer.since < before.toISOString())
      .slice(0, limit)
      .map(([id, { since, carried }]) => ({ id, since, ...(carried ? { audit: carried.audit } : {}) }));
  }
}
