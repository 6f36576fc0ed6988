import {
  sharingGrantOf,
  type ClientNames,
  type SharingGrant,
  type SharingGrants,
  type StoredGrant,
  type WithdrawnGrants,
  withdrawalParts,
  withdrawalRoom,
} from '../../shared/sharing/authorizations.js';
import type { CarriedAudit } from '../../shared/pending-work/pending-work.js';
import { InMemoryPendingWork } from './in-memory-licence.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { parseAccountId } from '../../shared/identifiers/account-id.js';
import type {
  NoticeQueue,
  PendingNotice,
  WithdrawalNotice,
} from '../../shared/sharing/withdrawal-notices.js';

/**
 * {@link SharingGrants} in memory, with what the provider would write (grants, and tokens under a grant)
 * arranged through {@link saveGrant} and {@link saveToken}.
 */
export class InMemorySharingGrants implements SharingGrants {
  readonly grants = new Map<string, StoredGrant>();
  /** Token ids by grant id. */
  readonly tokens = new Map<string, Set<string>>();
  /**
   * Called before each write of grants `withdraw` makes (one per part): a test makes one fail by throwing
   * here (throttled, a conflict), before anything of that write is done, as DynamoDB's transaction would.
   */
  beforeWrite?: () => void;

  constructor(
    /** The time of the writes (the claims' leases run from it) and of the grants' expiry. */
    private readonly clock: Clock = systemClock,
    /** Where `withdraw` queues the notices (the table's `notices` partition in the Dynamo adapter). */
    readonly notices: InMemoryNoticeQueue = new InMemoryNoticeQueue(),
    /** Where `withdraw` saves a withdrawal's audit entry (the table's `pending-audit#` shards in the Dynamo adapter). */
    readonly pendingAudit: InMemoryPendingWork = new InMemoryPendingWork(),
  ) {}

  private get nowSeconds(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  saveGrant(id: string, grant: StoredGrant): void {
    this.grants.set(id, { ...grant });
  }

  saveToken(tokenId: string, grantId: string): void {
    const set = this.tokens.get(grantId) ?? new Set<string>();
    set.add(tokenId);
    this.tokens.set(grantId, set);
  }

  tokenExists(tokenId: string): boolean {
    return [...this.tokens.values()].some((set) => set.has(tokenId));
  }

  async listOf(personId: string): Promise<SharingGrant[]> {
    return [...this.grants.entries()].flatMap(([id, stored]) => {
      if (typeof stored.accountId !== 'string') return [];
      if (parseAccountId(stored.accountId).personId !== personId) return [];
      const grant = sharingGrantOf(id, stored, this.nowSeconds);
      return grant ? [grant] : [];
    });
  }

  async find(grantId: string): Promise<SharingGrant | undefined> {
    const stored = this.grants.get(grantId);
    return stored ? sharingGrantOf(grantId, stored, this.nowSeconds) : undefined;
  }

  /**
   * As DynamoDB's: tokens first, then the grants in writes of at most 100 items ({@link withdrawalParts},
   * {@link withdrawalRoom}), each all or nothing with the notice it queues and the entry it saves, both of
   * the grants it deletes.
   */
  async withdraw(
    grantIds: readonly string[],
    notice?: (deleted: readonly string[]) => WithdrawalNotice,
    pending?: (deleted: readonly string[], part: number, parts: number) => CarriedAudit,
  ): Promise<WithdrawnGrants> {
    for (const id of grantIds) this.tokens.delete(id);
    const room = withdrawalRoom(notice !== undefined, pending !== undefined);
    const withdrawn: WithdrawnGrants = { deleted: [], saved: [] };
    const parts = withdrawalParts(grantIds, room);
    for (const { part, ids } of parts) {
      const left = ids.filter((id) => this.grants.has(id));
      if (left.length === 0) continue;
      this.beforeWrite?.();
      const carried = pending?.(left, part, parts.length);
      if (carried && this.pendingAudit.pointers.has(carried.id)) throw new Error('withdrawal not written');
      // As one write: a notice that cannot be queued leaves the grants where they were.
      if (notice) await this.notices.enqueue(notice(left), this.clock.now());
      for (const id of left) this.grants.delete(id);
      withdrawn.deleted.push(...left);
      if (carried)
        withdrawn.saved.push({ carried, claim: this.pendingAudit.keep(carried, new Date(this.clock.now())) });
    }
    return withdrawn;
  }
}

/** {@link ClientNames} from a map. */
export class InMemoryClientNames implements ClientNames {
  constructor(private readonly names: Record<string, string> = {}) {}

  async nameOf(clientId: string): Promise<string | undefined> {
    return this.names[clientId];
  }
}

/** {@link NoticeQueue} in memory: `pending` by id, `abandoned` kept apart as the table keeps them. */
export class InMemoryNoticeQueue implements NoticeQueue {
  readonly pending = new Map<string, PendingNotice>();
  readonly abandoned = new Map<string, PendingNotice>();

  enqueue(notice: WithdrawalNotice, now: number): Promise<void> {
    this.pending.set(notice.id, { ...notice, attempts: 0, dueAt: now });
    return Promise.resolve();
  }

  due(now: number, limit: number): Promise<PendingNotice[]> {
    const due = [...this.pending.values()].filter((notice) => notice.dueAt <= now);
    due.sort((a, b) => a.dueAt - b.dueAt || a.id.localeCompare(b.id));
    return Promise.resolve(due.slice(0, limit).map((notice) => ({ ...notice })));
  }

  delivered(notice: PendingNotice): Promise<void> {
    if (this.pending.get(notice.id)?.dueAt === notice.dueAt) this.pending.delete(notice.id);
    return Promise.resolve();
  }

  retry(notice: PendingNotice, dueAt: number, error: string): Promise<void> {
    if (this.pending.get(notice.id)?.dueAt === notice.dueAt) {
      this.pending.set(notice.id, { ...notice, attempts: notice.attempts + 1, dueAt, lastError: error });
    }
    return Promise.resolve();
  }

  abandon(notice: PendingNotice, error: string): Promise<void> {
    if (this.pending.get(notice.id)?.dueAt === notice.dueAt) {
      this.pending.delete(notice.id);
      this.abandoned.set(notice.id, { ...notice, lastError: error });
    }
    return Promise.resolve();
  }
}
