import { randomBytes } from 'node:crypto';
import { listPlace, type AuditEntry, type AuditTrail } from '../../shared/audit/audit-trail.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { InvalidInputError } from '../../shared/errors.js';
import type {
  AuditChainStore,
  AuditPage,
  HeadsPage,
  NewCheckpoint,
  OnDemandClaim,
  RegisteredChain,
  StoredCheckpoint,
} from '../../shared/supervision/audit-chain-store.js';
import { link, type ChainHead, type ChainLink } from '../../shared/supervision/audit-chain.js';
import { daysFrom } from '../../shared/supervision/checkpoints.js';

type Chained = AuditEntry & ChainLink;

/**
 * The audit chains in memory: {@link InMemoryAuditChains.writer} hands out trails that each append to
 * their own chain (as each `DynamoAuditTrail` instance does), and the object itself is the
 * {@link AuditChainStore} over all of them.
 */
export class InMemoryAuditChains implements AuditChainStore {
  readonly written: Chained[] = [];
  readonly #chains = new Map<string, RegisteredChain & { day: string }>();
  readonly #checkpoints: StoredCheckpoint[] = [];
  /** Each checkpoint's heads, in pages of {@link headsPerPage}. */
  readonly heads = new Map<string, ChainHead[][]>();

  /** When the on-demand checkpoint slot frees (epoch ms). */
  #onDemandUntil: number | undefined;

  /** `headsPerPage`: how many heads a stored page holds (the table's pages hold about 2,100 to 2,400). */
  constructor(private readonly headsPerPage = 1_000) {}

  /** The keys entries were recorded once under. */
  readonly #onceKeys = new Set<string>();

  /**
   * A trail of its own writer: a new chain per UTC day. As `DynamoAuditTrail`, an entry goes on a chain of
   * the later of its `at`'s day, the day it is written by `clock`, and a `RecordOnce`'s `writtenAt` day.
   */
  writer(clock: Clock = systemClock): AuditTrail {
    const writer = Array.from(randomBytes(12), (b) => 'abcdefghijklmnopqrstuvwxyz234567'[b & 31]).join('');
    let head: Chained | undefined;
    return {
      record: async (entry, once) => {
        // As DynamoAuditTrail: once under a key, never on a chain of a day that has ended.
        if (once && this.#onceKeys.has(once.key)) return;
        if (once) this.#onceKeys.add(once.key);
        const today = new Date(clock.now()).toISOString().slice(0, 10);
        const day = [entry.at.slice(0, 10), once?.writtenAt.slice(0, 10) ?? '', today].reduce((later, one) =>
          one > later ? one : later,
        );
        const chain = `${day}.${writer}`;
        if (head?.chain !== chain) {
          head = undefined;
          this.#chains.set(chain, { chain, shard: 0, day });
        }
        head = link(entry, chain, head);
        this.written.push(head);
      },
    };
  }

  async chainsOf(day: string): Promise<RegisteredChain[]> {
    return [...this.#chains.values()]
      .filter((chain) => chain.day === day)
      .map(({ chain, shard }) => ({ chain, shard }));
  }

  async headOf({ chain }: RegisteredChain): Promise<ChainHead | undefined> {
    const head = this.written.filter((entry) => entry.chain === chain).at(-1);
    return head && { chain, seq: head.seq, hash: head.hash };
  }

  async entries(query: {
    from: string;
    to: string;
    issuerId?: string;
    limit: number;
    cursor?: string;
  }): Promise<AuditPage> {
    const days = new Set(daysFrom(query.from, query.to));
    const all = this.written
      .filter((entry) => days.has(entry.chain.slice(0, 10)))
      .filter((entry) => query.issuerId === undefined || entry.issuerId === query.issuerId)
      .sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : a.seq - b.seq));
    let start = 0;
    if (query.cursor !== undefined) {
      // Bound to its range, as the table's cursor is to its days.
      const match = /^m(\d{4}-\d{2}-\d{2})\.(\d{4}-\d{2}-\d{2})\.([0-9]{1,9})$/.exec(query.cursor);
      const own = match && match[1]! >= query.from && match[1]! <= query.to;
      start = own ? Number(match[3]) : -1;
      if (start < 0 || start > all.length) {
        throw new InvalidInputError(
          'Invalid request: cursor: not a cursor of this listing',
          'invalid_cursor',
          {
            errors: [{ path: 'cursor', message: 'not a cursor of this listing' }],
          },
        );
      }
    }
    const items = all.slice(start, start + query.limit).map((entry) => ({ ...entry }));
    const next = start + query.limit;
    const day = all[next]?.chain.slice(0, 10) ?? query.from;
    // Places of its own making (no licence list reads them here): time, then chain and seq.
    const positions = items.map((entry) =>
      entry.licenceId === undefined
        ? null
        : listPlace(`${entry.at}#${entry.chain}#${String(entry.seq).padStart(10, '0')}`),
    );
    // No index to change here: every licence entry is on its list.
    const listed = items.map((entry) => (entry.licenceId === undefined ? null : true));
    return {
      items,
      positions,
      listed,
      ...(next < all.length ? { cursor: `m${day}.${query.to}.${next}` } : {}),
    };
  }

  async saveCheckpoint({ id, at, jws }: NewCheckpoint, heads: readonly ChainHead[]): Promise<void> {
    const pages: ChainHead[][] = [];
    for (let i = 0; i === 0 || i < heads.length; i += this.headsPerPage) {
      pages.push(heads.slice(i, i + this.headsPerPage).map(({ chain, seq, hash }) => ({ chain, seq, hash })));
    }
    this.heads.set(id, pages);
    this.#checkpoints.push({ at, jws });
  }

  async checkpointHeads(id: string, cursor?: string): Promise<HeadsPage> {
    const page = cursor === undefined ? 0 : /^h[1-9][0-9]{0,4}$/.test(cursor) ? Number(cursor.slice(1)) : -1;
    if (page < 0) {
      throw new InvalidInputError('Invalid request: cursor: not a cursor of this listing', 'invalid_cursor', {
        errors: [{ path: 'cursor', message: 'not a cursor of this listing' }],
      });
    }
    const pages = this.heads.get(id) ?? [];
    const items = (pages[page] ?? []).map((head) => ({ ...head }));
    return { items, ...(page + 1 < pages.length ? { cursor: `h${page + 1}` } : {}) };
  }

  async checkpoints(limit: number, cursor?: string): Promise<{ items: StoredCheckpoint[]; cursor?: string }> {
    const all = [...this.#checkpoints].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
    let start = 0;
    if (cursor !== undefined) {
      start = /^c[0-9]{1,9}$/.test(cursor) ? Number(cursor.slice(1)) : -1;
      if (start < 0 || start > all.length) {
        throw new InvalidInputError(
          'Invalid request: cursor: not a cursor of this listing',
          'invalid_cursor',
          {
            errors: [{ path: 'cursor', message: 'not a cursor of this listing' }],
          },
        );
      }
    }
    return {
      items: all.slice(start, start + limit),
      ...(start + limit < all.length ? { cursor: `c${start + limit}` } : {}),
    };
  }

  async claimOnDemand(now: number, until: number): Promise<OnDemandClaim> {
    if (this.#onDemandUntil !== undefined && this.#onDemandUntil > now) {
      return { claimed: false, until: this.#onDemandUntil };
    }
    this.#onDemandUntil = until;
    return { claimed: true };
  }
}
