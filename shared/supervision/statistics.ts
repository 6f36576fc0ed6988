import * as z from 'zod';
import { InvalidInputError } from '../errors.js';
import { addDays, chinaDay, type SupervisionEvent } from './events.js';

/** The counts of one day, issuer and licence type (or of a day summed over several). */
export interface Counts {
  issued: number;
  suspended: number;
  reinstated: number;
  revoked: number;
  shared: number;
  /** Verifications by verdict (`valid`, `revoked`, `invalid_signature`, …). */
  verified: Record<string, number>;
}

/** What one batch adds to one counter: a day, an issuer and a licence type. */
export interface CounterIncrement {
  day: string;
  issuerId: string;
  licenceType: string;
  counts: Counts;
}

/** A stored counter as read back (every shard of it summed or not: the store says). */
export type CounterRow = CounterIncrement;

export const emptyCounts = (): Counts => ({
  issued: 0,
  suspended: 0,
  reinstated: 0,
  revoked: 0,
  shared: 0,
  verified: {},
});

/** Adds `more` into `into` (mutates it). */
export function addCounts(into: Counts, more: Counts): Counts {
  into.issued += more.issued;
  into.suspended += more.suspended;
  into.reinstated += more.reinstated;
  into.revoked += more.revoked;
  into.shared += more.shared;
  for (const [verdict, n] of Object.entries(more.verified)) {
    into.verified[verdict] = (into.verified[verdict] ?? 0) + n;
  }
  return into;
}

/** A supervised event with the id of the audit entry it was read from: what {@link StatisticsStore.addOnce} counts once. */
export interface CountedEvent {
  /** The audit entry's own id (its chain and position): the same entry always has the same. */
  id: string;
  event: SupervisionEvent;
}

/**
 * How long an entry's mark of having been counted is kept, from the entry's time: longer than any replay
 * can come (the stream's 24 hours, then the on-failure queue's 14 days), with margin.
 */
export const countedMarkRetentionSeconds = 30 * 86_400;

/**
 * The counters (`STATISTICS` of the supervising office): each day (China time), issuer and licence type
 * has its counts, added atomically and read back summed.
 */
export interface StatisticsStore {
  /** Adds each increment to its counter, atomically (concurrent batches never lose a count). */
  add(increments: readonly CounterIncrement[]): Promise<void>;
  /**
   * Counts each event once however often it is given (a retried stream batch, a replay): each counted
   * entry's id is marked in the same atomic write as its counts, and an id already marked (for
   * {@link countedMarkRetentionSeconds} after its entry) is skipped. Events that count nothing (exports)
   * are skipped. Answers how many were counted now.
   */
  addOnce(events: readonly CountedEvent[]): Promise<number>;
  /**
   * Every counter of the days `from`..`to` (inclusive), of `issuerId`/`licenceType` when given. With
   * `issuedOnly`, only the `issued` count is read and every other reads as 0 (the stream consumer's
   * issuance rule: it may read no more of the index, `functions/grants.ts`).
   */
  read(query: {
    from: string;
    to: string;
    issuerId?: string;
    licenceType?: string;
    issuedOnly?: true;
  }): Promise<CounterRow[]>;
}

/**
 * A batch of events aggregated in memory: one increment per (day, issuer, type), so that a batch of a
 * hundred verifications of one type is one atomic update, not a hundred.
 *
 * @example
 * ```ts
 * aggregate([{ at, action: 'issued', actor, issuerId: 'iss_1', licenceType: 'driving-licence' }]);
 * // [{ day: '2026-03-01', issuerId: 'iss_1', licenceType: 'driving-licence', counts: { issued: 1, … } }]
 * ```
 */
export function aggregate(events: readonly SupervisionEvent[]): CounterIncrement[] {
  const byCounter = new Map<string, CounterIncrement>();
  for (const event of events) {
    // Exports are for the bulk-export alert rule only, not a count of what happened to licences.
    if (event.action === 'exported') continue;
    const day = chinaDay(event.at);
    const id = `${day}\u0000${event.issuerId}\u0000${event.licenceType}`;
    let increment = byCounter.get(id);
    if (!increment) {
      increment = { day, issuerId: event.issuerId, licenceType: event.licenceType, counts: emptyCounts() };
      byCounter.set(id, increment);
    }
    const counts = increment.counts;
    if (event.action === 'verified') {
      const verdict = event.verdict ?? 'unknown';
      counts.verified[verdict] = (counts.verified[verdict] ?? 0) + 1;
    } else {
      counts[event.action] += 1;
    }
  }
  return [...byCounter.values()];
}

/** The longest range `GET /supervision/stats` answers, in days (a year, leap years included). */
export const maxStatisticsDays = 366;

/** A date `YYYY-MM-DD` that exists (China time, as the supervision routes take them). */
export const chinaDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(
    (value) =>
      !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) &&
      new Date(`${value}T00:00:00Z`).toISOString().startsWith(value),
    'must be a real date',
  );

/** `GET /supervision/stats?from=&to=&issuer=&type=`: dates in China time, both days included. */
export const statisticsQuery = z.strictObject({
  from: chinaDate,
  to: chinaDate,
  issuer: z.string().min(1).max(100).optional(),
  type: z.string().min(1).max(100).optional(),
});
export type StatisticsQuery = z.output<typeof statisticsQuery>;

const countsSchema = {
  issued: z.number().int(),
  suspended: z.number().int(),
  reinstated: z.number().int(),
  revoked: z.number().int(),
  verified: z.record(z.string(), z.number().int()).meta({ description: 'Verifications by verdict' }),
  shared: z.number().int(),
};

/** What `GET /supervision/stats` answers: every day of the range, in order, zeros included. */
export const statisticsSchema = z
  .object({ days: z.array(z.object({ date: z.string(), ...countsSchema })) })
  .meta({
    title: 'SupervisionStatistics',
    examples: [
      {
        days: [
          {
            date: '2026-03-01',
            issued: 12,
            suspended: 1,
            reinstated: 0,
            revoked: 2,
            verified: { valid: 40, revoked: 1, invalid_signature: 3 },
            shared: 4,
          },
        ],
      },
    ],
  });
export type Statistics = z.output<typeof statisticsSchema>;

/**
 * The figures of `query`'s days: each day from `from` to `to` (China time), its counters summed over the
 * issuers and types asked for (all when none), zeros for a day without any. Refuses a range that ends
 * before it starts or spans more than {@link maxStatisticsDays} days, naming the field.
 *
 * @example
 * ```ts
 * const { days } = await readStatistics({ from: '2026-03-01', to: '2026-03-30' }, { statistics });
 * ```
 */
export async function readStatistics(
  query: StatisticsQuery,
  deps: { statistics: StatisticsStore },
): Promise<Statistics> {
  const dates = daysOf(query.from, query.to);
  const rows = await deps.statistics.read({
    from: query.from,
    to: query.to,
    ...(query.issuer ? { issuerId: query.issuer } : {}),
    ...(query.type ? { licenceType: query.type } : {}),
  });
  const byDay = new Map(dates.map((date) => [date, emptyCounts()]));
  for (const row of rows) {
    const counts = byDay.get(row.day);
    if (!counts) continue;
    if (query.issuer && row.issuerId !== query.issuer) continue;
    if (query.type && row.licenceType !== query.type) continue;
    addCounts(counts, row.counts);
  }
  return { days: dates.map((date) => ({ date, ...(byDay.get(date) ?? emptyCounts()) })) };
}

/** Every day from `from` to `to`, both included, or a field error. */
export function daysOf(from: string, to: string): string[] {
  const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  if (span < 1) {
    throw new InvalidInputError('The range ends before it starts', 'invalid_range', {
      errors: [{ path: 'to', message: 'must not be before from', code: 'before_start' }],
    });
  }
  if (span > maxStatisticsDays) {
    throw new InvalidInputError(`The range spans ${span} days`, 'invalid_range', {
      errors: [
        { path: 'to', message: `must be at most ${maxStatisticsDays} days from from (both included)` },
      ],
    });
  }
  return Array.from({ length: span }, (_, i) => addDays(from, i));
}
