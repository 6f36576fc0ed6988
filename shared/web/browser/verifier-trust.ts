/**
 * The verifier page's trust data: an {@link OfflineTrustStore} saved in `localStorage` after every sync,
 * so the page verifies with no network at all after one online visit, and re-synced before each verdict
 * while online, so a licence revoked a moment ago reads as revoked (the status lists' `ttl` of minutes is
 * fine for an offline app, not for a counter that is online).
 *
 * @packageDocumentation
 */
import {
  createVerifier,
  OfflineTrustStore,
  SyncError,
  webCryptoEs256,
  type OfflineSnapshot,
  type VerificationResult,
  type Verifier,
} from '../../verify/index.js';
import type { VerdictContext } from './verifier-words.js';

export const snapshotKey = 'elicence.verifier.snapshot.v1';

/** A request that hangs this long counts as unreachable: the saved data answers instead. */
const requestTimeout = 6000;

/** When the saved data was fetched, for the freshness line. */
export interface DataSummary {
  trustListAt: number;
  /** The oldest status list's fetch time; undefined when no issuer publishes one yet. */
  statusListsAt: number | undefined;
  statusLists: number;
}

/**
 * The freshness line's figures from a snapshot.
 *
 * @example
 * ```ts
 * summarise(store.snapshot()); // { trustListAt: 1740000000000, statusListsAt: 1740000000000, statusLists: 1 }
 * ```
 */
export function summarise(snapshot: OfflineSnapshot | undefined): DataSummary | undefined {
  if (!snapshot) return undefined;
  const times = snapshot.statusLists.map((list) => list.fetchedAt);
  return {
    trustListAt: snapshot.trustList.fetchedAt,
    statusListsAt: times.length > 0 ? Math.min(...times) : undefined,
    statusLists: times.length,
  };
}

/** How a sync went: see {@link TrustData.refresh}. */
export type RefreshOutcome = 'ok' | 'unreachable' | 'failed';

export interface Verification {
  result: VerificationResult;
  context: VerdictContext;
}

/**
 * The page's verifier over saved and refreshed trust data.
 *
 * @example
 * ```ts
 * const trust = new TrustData(location.origin, localStorage);
 * await trust.load();
 * const { result, context } = await trust.verify(scannedText);
 * ```
 */
export class TrustData {
  private readonly store: OfflineTrustStore;
  private readonly verifier: Verifier;
  private saved: OfflineSnapshot | undefined;
  private syncing: Promise<RefreshOutcome> | undefined;

  constructor(
    baseUrl: string,
    private readonly storage: Storage | undefined,
    private readonly isOnline: () => boolean = () => navigator.onLine,
  ) {
    const crypto = webCryptoEs256();
    this.store = new OfflineTrustStore({
      baseUrl,
      crypto,
      // The lists are served `max-age=ttl`: revalidating skips the HTTP cache, which would hide a revocation.
      fetch: (input, init) =>
        fetch(input, { ...init, cache: 'no-cache', signal: AbortSignal.timeout(requestTimeout) }),
    });
    this.verifier = createVerifier({ crypto, trust: this.store, status: this.store });
  }

  /** Restores the saved snapshot (each token is verified again); a damaged one is dropped. */
  async load(): Promise<void> {
    let text: string | null | undefined;
    try {
      text = this.storage?.getItem(snapshotKey);
    } catch {
      return;
    }
    if (!text) return;
    try {
      const snapshot = JSON.parse(text) as OfflineSnapshot;
      await this.store.restore(snapshot);
      this.saved = snapshot;
    } catch {
      this.forget();
    }
  }

  /** Whether there is a trust list to verify against. */
  get ready(): boolean {
    return this.saved !== undefined;
  }

  summary(): DataSummary | undefined {
    return summarise(this.saved);
  }

  /**
   * Syncs now and saves what came: `ok` only when the trust list and every status list were refreshed;
   * `unreachable` when the network failed (the saved data stands); `failed` when the service answered
   * but something could not be refreshed (a list that did not verify keeps its previous copy). Calls
   * made while a sync runs share it.
   */
  refresh(): Promise<RefreshOutcome> {
    this.syncing ??= (async (): Promise<RefreshOutcome> => {
      try {
        const report = await this.store.sync();
        this.saved = this.store.snapshot();
        this.save(this.saved);
        if (report.failures.length === 0) return 'ok';
        return report.failures.every((failure) => failure.code === 'unreachable') ? 'unreachable' : 'failed';
      } catch (error) {
        return error instanceof SyncError && error.code === 'unreachable' ? 'unreachable' : 'failed';
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /**
   * The verdict on `scan`: after a sync when the browser is online (so statuses are current), from the
   * saved data otherwise, with what the page needs to say about freshness.
   */
  async verify(scan: string): Promise<Verification> {
    const outcome = this.isOnline() ? await this.refresh() : 'unreachable';
    const result = await this.verifier.verify(scan);
    return { result, context: { refreshed: outcome === 'ok', offline: outcome === 'unreachable' } };
  }

  private save(snapshot: OfflineSnapshot): void {
    try {
      this.storage?.setItem(snapshotKey, JSON.stringify(snapshot));
    } catch {
      // Storage full or refused (private browsing): the page still works while open, just not offline.
    }
  }

  private forget(): void {
    try {
      this.storage?.removeItem(snapshotKey);
    } catch {
      // Nothing to forget where storage is refused.
    }
  }
}
