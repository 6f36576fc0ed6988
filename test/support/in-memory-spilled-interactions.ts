import type { SpilledInteractionStore } from '../../shared/sso/interaction-cookies.js';

/**
 * The {@link SpilledInteractionStore} contract in memory: one seal per uid, replaced by a save, absent
 * from its expiry on (as the Dynamo adapter reads an item its TTL has not removed yet). `calls` counts
 * what was asked of it, so that a test can tell a state kept in its cookie cost nothing.
 */
export class InMemorySpilledInteractions implements SpilledInteractionStore {
  readonly items = new Map<string, { sealed: string; expiresAt: number }>();
  readonly calls: Array<['put' | 'get' | 'delete', string]> = [];

  async put(uid: string, sealed: string, expiresAt: number): Promise<void> {
    this.calls.push(['put', uid]);
    this.items.set(uid, { sealed, expiresAt });
  }

  async get(uid: string, nowSeconds: number): Promise<string | undefined> {
    this.calls.push(['get', uid]);
    const item = this.items.get(uid);
    return item && item.expiresAt > nowSeconds ? item.sealed : undefined;
  }

  async delete(uid: string): Promise<void> {
    this.calls.push(['delete', uid]);
    this.items.delete(uid);
  }
}
