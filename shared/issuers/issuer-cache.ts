/**
 * Issuer records kept per container for `POST /verify`: issuers change rarely (a withdrawal, a key
 * rotation), and every verification needs one, so re-reading it each time was a round trip per scan.
 *
 * Two ways a change reaches a cache: the **lifetime** (`ISSUER_CACHE_SECONDS`, default 30 s), after which
 * the record is read again, which bounds how long a change made in another container (the admin
 * function's, in Lambda) takes to count; and **invalidation**, at once, for the caches of the process
 * that made the change (the issuer store announces every write it makes through {@link announceIssuerChange}:
 * the local runtime, where every function shares one process, and any container that both changes and
 * verifies).
 *
 * @packageDocumentation
 */
import type { Clock } from '../clock.js';
import type { Issuer } from './issuer.js';

/** The caches of this process, told of every issuer write made here. Few: one per `/verify` container. */
const caches = new Set<WeakRef<IssuerCache>>();

/**
 * Says that the issuer with this credit code was written (saved, withdrawn, its keys rotated): every
 * cache of this process forgets it, so the next verification reads it again. The issuer store calls it
 * after each write.
 *
 * @example
 * ```ts
 * await putVersioned(doc, tableName, toItem(issuer), issuer.version);
 * announceIssuerChange(issuer.creditCode);
 * ```
 */
export function announceIssuerChange(creditCode: string): void {
  for (const ref of caches) {
    const cache = ref.deref();
    if (cache) cache.invalidate(creditCode);
    else caches.delete(ref);
  }
}

/**
 * Issuers by credit code, each kept for `lifetimeMs` from when it was read (by `clock`). Only issuers that
 * exist are kept (an unknown credit code in a hostile scan adds nothing), at most `maxEntries` of them.
 *
 * @example
 * ```ts
 * const cache = new IssuerCache(30_000, systemClock);
 * const issuer = cache.get(creditCode) ?? cache.put(await store.findByCreditCode(creditCode));
 * ```
 */
export class IssuerCache {
  private readonly entries = new Map<string, { issuer: Issuer; until: number }>();
  /**
   * Bumped by every invalidation. A read that began before one may carry the record as it was before the
   * change: {@link put} refuses it, so a change made in this process is never undone by a read that was
   * already in flight (security review). Invalidations are rare, so one counter for all issuers will do.
   */
  #epoch = 0;

  /** The moment a read begins, to hand back to {@link put} with what it read. */
  get epoch(): number {
    return this.#epoch;
  }

  constructor(
    private readonly lifetimeMs: number,
    private readonly clock: Clock,
    private readonly maxEntries = 10_000,
  ) {
    caches.add(new WeakRef(this));
  }

  /** The issuer read less than the lifetime ago, if any. */
  get(creditCode: string): Issuer | undefined {
    const entry = this.entries.get(creditCode);
    if (!entry) return undefined;
    if (this.clock.now() < entry.until) return entry.issuer;
    this.entries.delete(creditCode);
    return undefined;
  }

  /**
   * Keeps `issuer` (just read) for the lifetime; returns it, to read as one expression. With `readSince`
   * (the {@link epoch} when the read began), a record read across an invalidation is returned but not kept.
   */
  put(issuer: Issuer | undefined, readSince?: number): Issuer | undefined {
    if (!issuer || this.lifetimeMs <= 0) return issuer;
    if (readSince !== undefined && readSince !== this.#epoch) return issuer;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(issuer.creditCode, { issuer, until: this.clock.now() + this.lifetimeMs });
    return issuer;
  }

  /** Forgets one issuer, or all of them. */
  invalidate(creditCode?: string): void {
    this.#epoch += 1;
    if (creditCode === undefined) this.entries.clear();
    else this.entries.delete(creditCode);
  }
}
