import {
  alertPosition,
  type AlertListQuery,
  type AlertPage,
  type AlertPublisher,
  type AlertStore,
  type StoredAlert,
} from '../../shared/supervision/alert-rules.js';
import type { Alert } from '../../shared/supervision/alert-rules.js';
import {
  addCounts,
  aggregate,
  emptyCounts,
  type CountedEvent,
  type CounterIncrement,
  type CounterRow,
  type StatisticsStore,
} from '../../shared/supervision/statistics.js';

/** {@link StatisticsStore} in memory: one counter per day, issuer and type (no shards to sum). */
export class InMemoryStatistics implements StatisticsStore {
  readonly counters = new Map<string, CounterRow>();
  /** The ids of the entries counted by `addOnce`. */
  readonly counted = new Set<string>();

  async addOnce(events: readonly CountedEvent[]): Promise<number> {
    const fresh = events.filter(
      ({ id, event }) => aggregate([event]).length > 0 && !this.counted.has(id) && this.counted.add(id),
    );
    await this.add(aggregate(fresh.map(({ event }) => event)));
    return fresh.length;
  }

  add(increments: readonly CounterIncrement[]): Promise<void> {
    for (const { day, issuerId, licenceType, counts } of increments) {
      const id = `${day}#${issuerId}#${licenceType}`;
      const row = this.counters.get(id) ?? { day, issuerId, licenceType, counts: emptyCounts() };
      addCounts(row.counts, counts);
      this.counters.set(id, row);
    }
    return Promise.resolve();
  }

  read(query: {
    from: string;
    to: string;
    issuerId?: string;
    licenceType?: string;
    issuedOnly?: true;
  }): Promise<CounterRow[]> {
    return Promise.resolve(
      [...this.counters.values()]
        .filter((row) => row.day >= query.from && row.day <= query.to)
        .filter((row) => !query.issuerId || row.issuerId === query.issuerId)
        .filter((row) => !query.licenceType || row.licenceType === query.licenceType)
        .map((row) => ({
          ...row,
          counts: query.issuedOnly
            ? { ...emptyCounts(), issued: row.counts.issued }
            : addCounts(emptyCounts(), row.counts),
        })),
    );
  }
}

/** {@link AlertStore} in memory. */
export class InMemoryAlerts implements AlertStore {
  readonly counters = new Map<string, number>();
  readonly stored = new Map<string, StoredAlert>();

  count(key: string, n: number): Promise<number> {
    const total = (this.counters.get(key) ?? 0) + n;
    this.counters.set(key, total);
    return Promise.resolve(total);
  }

  readonly outcomes = new Map<string, 'published' | 'suppressed'>();

  create(alert: StoredAlert): Promise<boolean> {
    if (this.stored.has(alert.id)) return Promise.resolve(false);
    this.stored.set(alert.id, { ...alert });
    return Promise.resolve(true);
  }

  pending(id: string): Promise<boolean> {
    return Promise.resolve(this.stored.has(id) && !this.outcomes.has(id));
  }

  settle(id: string, outcome: 'published' | 'suppressed'): Promise<void> {
    if (!this.stored.has(id)) return Promise.reject(new Error(`no alert ${id}`));
    this.outcomes.set(id, outcome);
    return Promise.resolve();
  }

  list(query: AlertListQuery): Promise<AlertPage> {
    const sign = query.newestFirst ? -1 : 1;
    const all = [...this.stored.values()]
      .filter((alert) => alert.at >= query.from && alert.at < query.to)
      .filter((alert) => !query.rule || alert.rule === query.rule)
      .map(({ id, ...alert }) => ({ ...alert, position: alertPosition({ at: alert.at, id }) }))
      .filter((alert) => !query.after || alert.position > query.after === !query.newestFirst)
      .filter((alert) => alert.position !== query.after)
      .sort((a, b) => (a.position < b.position ? -sign : sign));
    return Promise.resolve({ items: all.slice(0, query.limit), more: all.length > query.limit });
  }
}

/** The licences the supervision consumer finds on record: those `add`ed. */
export class KnownLicences {
  readonly ids = new Set<string>();
  readonly reads: string[] = [];
  add(id: string): this {
    this.ids.add(id);
    return this;
  }
  get(id: string): Promise<{ id: string } | undefined> {
    this.reads.push(id);
    return Promise.resolve(this.ids.has(id) ? { id } : undefined);
  }
}

/** {@link AlertPublisher} that keeps what it was handed. */
export class RecordingPublisher implements AlertPublisher {
  readonly published: Alert[] = [];
  /** How many of the next publishes fail (as SNS can). */
  failing = 0;
  publish(alert: Alert): Promise<void> {
    if (this.failing > 0) {
      this.failing -= 1;
      return Promise.reject(new Error('publish failed'));
    }
    this.published.push(alert);
    return Promise.resolve();
  }
}
