import {
  sharingGrantOf,
  type ClientNames,
  type SharingGrant,
  type SharingGrants,
  type StoredGrant,
  type WithdrawnGrants,
} from '../../shared/sharing/authorizations.js';
import type { CarriedAudit } from '../../shared/pending-work/pending-work.js';
import { InMemoryPendingWork } from './in-memory-licence.js';
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

  constructor(
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
    /** Where `withdraw` queues the notices (the table's `notices` partition in the Dynamo adapter). */
    readonly notices: InMemoryNoticeQueue = new InMemoryNoticeQueue(),
    /** Where `withdraw` saves a withdrawal's audit entry (the table's `pending-audit#` shards in the Dynamo adapter). */
    readonly pendingAudit: InMemoryPendingWork = new InMemoryPendingWork(),
  ) {}

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
      const grant = sharingGrantOf(id, stored, this.nowSeconds());
      return grant ? [grant] : [];
    });
  }

  async find(grantId: string): Promise<SharingGrant | undefined> {
    const stored = this.grants.get(grantId);
    return stored ? sharingGrantOf(grantId, stored, this.nowSeconds()) : undefined;
  }

  async withdraw(
    grantIds: readonly string[],
    notice?: WithdrawalNotice,
    pending?: (deleted: readonly string[]) => CarriedAudit,
  ): Promise<WithdrawnGrants> {
    for (const id of grantIds) this.tokens.delete(id);
    const left = grantIds.filter((id) => this.grants.has(id));
    if (left.length === 0) return { deleted: [] };
    const carried = pending?.(left);
    if (carried && this.pendingAudit.pointers.has(carried.id)) throw new Error('withdrawal not written');
    // As one write: a notice that cannot be queued leaves the grants where they were.
    if (notice) await this.notices.enqueue(notice, this.nowSeconds() * 1000);
    for (const id of left) this.grants.delete(id);
    return { deleted: left, ...(carried ? { claim: this.pendingAudit.keep(carried) } : {}) };
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
