/**
 * The verifier page's trust data: an {@link OfflineTrustStore} saved in `localStorage` after every
 * refresh, so the page verifies with no network at all after one online visit. A full sync (platform keys,
 * trust list, every status list of every issuer) runs when the page opens and on demand; before each
 * verdict while online, only what that verdict rests on is fetched again, so a licence revoked a moment ago
 * reads as revoked (the status lists' `ttl` of minutes is fine for an offline app, not for a counter that
 * is online) at the cost of one request, not one per list of every issuer.
 *
 * @packageDocumentation
 */
import {
  createVerifier,
  OfflineTrustStore,
  SyncError,
  webCryptoEs256,
  type Freshness,
  type OfflineSnapshot,
  type StatusSource,
  type VerificationResult,
  type Verifier,
} from '@elicence/verifier';
import type { VerdictContext } from './verifier-words.js';

export const snapshotKey = 'elicence.verifier.snapshot.v1';

/** A request that hangs this long counts as unreachable: the saved data answers instead. */
const requestTimeout = 6000;

/**
 * How old the saved data is, for the freshness line: when each token was signed (its `iat`), which is how
 * old what it says is, whenever this page fetched it.
 */
export interface DataSummary {
  trustListAt: number;
  /** The oldest status list's signing time; undefined when no issuer publishes one yet. */
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
  // Snapshots saved before they carried `issuedAt` fall back to the fetch time.
  const times = snapshot.statusLists.map((list) => list.issuedAt ?? list.fetchedAt);
  return {
    trustListAt: snapshot.trustList.issuedAt ?? snapshot.trustList.fetchedAt,
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

/** The outcome of a failed refresh, from what it threw. */
function failureOf(error: unknown): RefreshOutcome {
  return error instanceof SyncError && error.code === 'unreachable' ? 'unreachable' : 'failed';
}

/** Several refreshes as one: any unreachable makes the verdict an offline one, else any failure counts. */
function combined(outcomes: readonly RefreshOutcome[]): RefreshOutcome {
  if (outcomes.includes('unreachable')) return 'unreachable';
  return outcomes.includes('failed') ? 'failed' : 'ok';
}

/**
 * How old the saved trust list may be at a counter that is online. Its `ttl` (an hour) suits an offline
 * app; a counter should learn within minutes that an issuer was withdrawn or a key taken out after a
 * compromise, at the cost of two requests every few minutes.
 */
export const onlineTrustMaxAgeMs = 5 * 60_000;

/**
 * Whether a verdict may change with a newer trust list (and platform keys): a signer the saved list does
 * not know (a newly registered issuer, a rotated key), or a trust list older than `onlineTrustMaxAgeMs`.
 */
function trustMayHelp(result: VerificationResult, trust: Freshness | undefined, now: number): boolean {
  return (
    !trust ||
    trust.stale ||
    now - trust.fetchedAt > onlineTrustMaxAgeMs ||
    result.reason === 'issuer_not_trusted' ||
    // A peer's issuer of a saved list signed before lists gave peers' issuers their URL.
    result.reason === 'issuer_url_mismatch' ||
    result.reason === 'key_not_trusted' ||
    // A type given to the issuer since the saved list was signed (or a list from before types were listed).
    result.reason === 'licence_type_not_allowed'
  );
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
  /** The saved snapshot's trust list is past its `exp`: kept in storage, but it backs no verdict. */
  private savedExpired = false;
  private syncing: Promise<RefreshOutcome> | undefined;
  /**
   * The status list each licence verified last was looked up in, by licence id: the list a verdict rests
   * on, which is the one to fetch again. Recorded as the verifier asks (only for a licence whose signature
   * held), so a forged scan never makes the page fetch anything.
   */
  private readonly listsAsked = new Map<string, string>();

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
      // A caller's own `cache` (the refresh before a verdict asks for `no-store`) wins.
      fetch: (input, init) =>
        fetch(input, { cache: 'no-cache', ...init, signal: AbortSignal.timeout(requestTimeout) }),
    });
    const status: StatusSource = {
      status: (query) => {
        if (query.list) {
          // Bounded: entries are removed once read, but a verification that throws leaves one behind.
          if (this.listsAsked.size >= 64) this.listsAsked.clear();
          this.listsAsked.set(query.licenceId, query.list.uri);
        }
        return this.store.status(query);
      },
    };
    this.verifier = createVerifier({ crypto, trust: this.store, status });
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
    } catch (error) {
      // Expired is not damaged: the page says so (connect to refresh) rather than "no trust list yet".
      if (error instanceof SyncError && error.code === 'expired_token') this.savedExpired = true;
      else this.forget();
    }
  }

  /** Whether there is a trust list to verify against. */
  get ready(): boolean {
    return this.saved !== undefined;
  }

  /** Whether the only trust list saved is past its `exp` (not {@link ready}: a refresh is needed). */
  get expired(): boolean {
    return !this.ready && this.savedExpired;
  }

  summary(): DataSummary | undefined {
    return summarise(this.saved);
  }

  /**
   * Syncs everything now and saves what came: `ok` only when the trust list and every status list were
   * refreshed; `unreachable` when the network failed (the saved data stands); `failed` when the service
   * answered but something could not be refreshed (a list that did not verify keeps its previous copy).
   * Calls made while a sync runs share it. Each issuer's lists are probed up to a 404: for the page's
   * opening and the "update data" button, not for every verdict (see {@link verify}).
   */
  refresh(): Promise<RefreshOutcome> {
    this.syncing ??= (async (): Promise<RefreshOutcome> => {
      try {
        const report = await this.store.sync();
        this.keep();
        if (report.failures.length === 0) return 'ok';
        return report.failures.every((failure) => failure.code === 'unreachable') ? 'unreachable' : 'failed';
      } catch (error) {
        return failureOf(error);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /**
   * The verdict on `scan`, with what the page needs to say about freshness. Offline, from the saved data.
   * Online, with nothing saved yet, after a full sync. Online otherwise, with the saved data first, and
   * then again after fetching just what that verdict rests on: the trust list (and platform keys) when the
   * signer is unknown or the saved list is older than {@link onlineTrustMaxAgeMs}; the licence's status list (past any HTTP
   * cache) when it has one. A credential scan so costs one request, and never a 404.
   */
  async verify(scan: string): Promise<Verification> {
    if (!this.isOnline()) return this.verdict(await this.check(scan), 'unreachable');
    // The page's opening sync may still run: wait for it (it may be what makes the data ready); the list is
    // fetched again below all the same, since the sync's copy may predate a revocation.
    if (this.syncing) await this.syncing;
    if (!this.ready) {
      const outcome = await this.refresh();
      return this.verdict(await this.check(scan), outcome);
    }

    const outcomes: RefreshOutcome[] = [];
    let checked = await this.check(scan);
    if (trustMayHelp(checked.result, this.store.freshness(), Date.now())) {
      outcomes.push(await this.attempt(() => this.store.refreshTrustList({ cache: 'no-store' })));
      checked = await this.check(scan);
    }
    const { list } = checked;
    // With the service just found unreachable, a second request would only add another timeout's wait.
    if (list !== undefined && !outcomes.includes('unreachable')) {
      outcomes.push(await this.attempt(() => this.store.refreshStatusList(list, { cache: 'no-store' })));
      checked = await this.check(scan);
    }
    return this.verdict(checked, combined(outcomes));
  }

  /** A verification with the data held now, and the status list it looked the licence up in, if any. */
  private async check(scan: string): Promise<{ result: VerificationResult; list: string | undefined }> {
    const result = await this.verifier.verify(scan);
    const id = result.licence?.id;
    const list = id === undefined ? undefined : this.listsAsked.get(id);
    if (id !== undefined) this.listsAsked.delete(id);
    return { result, list };
  }

  private verdict(checked: { result: VerificationResult }, outcome: RefreshOutcome): Verification {
    return {
      result: checked.result,
      context: { refreshed: outcome === 'ok', offline: outcome === 'unreachable' },
    };
  }

  /** One targeted refresh, saved when it succeeds; its outcome, never a throw. */
  private async attempt(refresh: () => Promise<unknown>): Promise<RefreshOutcome> {
    try {
      await refresh();
      this.keep();
      return 'ok';
    } catch (error) {
      return failureOf(error);
    }
  }

  /** Saves what the store holds now, for the next visit (offline, perhaps). */
  private keep(): void {
    this.saved = this.store.snapshot();
    this.savedExpired = false;
    this.save(this.saved);
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
