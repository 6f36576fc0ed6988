import { randomInt } from 'node:crypto';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  emptyCounts,
  type CounterIncrement,
  type CounterRow,
  type StatisticsStore,
} from '../../supervision/statistics.js';
import { queryAll } from './query-all.js';
import { indexKeys, keys } from './keys.js';
import { projectionOf } from './projections.js';

/**
 * Shards per counter: each batch adds to one of them at random, so a busy day, issuer and type is this
 * many items (partitions) rather than one hot key. Reading sums them. Changing it orphans nothing: reads
 * query every shard up to this number, so it may grow, never shrink.
 */
export const statisticsShards = 8;

/** Queries in flight at once when reading a range: a year is 13 months × 8 shards, 104 queries. */
const readConcurrency = 16;

/** `map` over `items` with at most `limit` calls in flight, answers in the order of `items`. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const countNames = ['issued', 'suspended', 'reinstated', 'revoked', 'shared'] as const;
/** Verdicts are stored as top-level attributes `verified_<verdict>` (an `ADD` cannot create a map entry). */
const verdictPrefix = 'verified_';
const safeVerdict = (verdict: string) => verdict.replace(/[^a-z_]/g, '_').slice(0, 40);

/** The months (`YYYY-MM`) from `from`'s to `to`'s. */
function monthsOf(from: string, to: string): string[] {
  const months: string[] = [];
  let [year, month] = [Number(from.slice(0, 4)), Number(from.slice(5, 7))];
  const last = to.slice(0, 7);
  for (;;) {
    const current = `${year}-${String(month).padStart(2, '0')}`;
    months.push(current);
    if (current >= last) return months;
    month += 1;
    if (month > 12) [year, month] = [year + 1, 1];
  }
}

/**
 * {@link StatisticsStore} on the single table: one item per China-time day, issuer, licence type and
 * shard (`stats#<day>#<issuer>#<type>#<shard>`), each increment one `UpdateItem` with `ADD` (atomic, no
 * read), on a shard chosen at random. gsi1 lists a month's counters per shard (`stats-month#<YYYY-MM>#<shard>`,
 * sorted by day, issuer, type), so a range is read with one query per month and shard, and the shards
 * spread the index's writes as the table's.
 *
 * @example
 * ```ts
 * const statistics = new DynamoStatisticsStore(doc, 'elicence');
 * await statistics.add([{ day: '2026-03-01', issuerId: 'iss_1', licenceType: 'driving-licence', counts }]);
 * ```
 */
export class DynamoStatisticsStore implements StatisticsStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly shardOf: () => number = () => randomInt(statisticsShards),
  ) {}

  async add(increments: readonly CounterIncrement[]): Promise<void> {
    await Promise.all(increments.map((increment) => this.addOne(increment)));
  }

  private async addOne({ day, issuerId, licenceType, counts }: CounterIncrement): Promise<void> {
    const shard = this.shardOf();
    const names: Record<string, string> = {
      '#day': 'day',
      '#issuer': 'issuerId',
      '#type': 'licenceType',
      '#g': 'gsi1pk',
      '#gs': 'gsi1sk',
    };
    const values: Record<string, unknown> = {
      ':day': day,
      ':issuer': issuerId,
      ':type': licenceType,
      ':g': indexKeys.statisticsMonth(day.slice(0, 7), shard),
      ':gs': indexKeys.statisticsOf(day, issuerId, licenceType),
    };
    const adds: string[] = [];
    const addCount = (attribute: string, n: number) => {
      if (n === 0) return;
      const i = adds.length;
      names[`#c${i}`] = attribute;
      values[`:c${i}`] = n;
      adds.push(`#c${i} :c${i}`);
    };
    for (const name of countNames) addCount(name, counts[name]);
    for (const [verdict, n] of Object.entries(counts.verified)) {
      addCount(`${verdictPrefix}${safeVerdict(verdict)}`, n);
    }
    if (adds.length === 0) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.statistics(day, issuerId, licenceType, shard),
        UpdateExpression: `SET #day = :day, #issuer = :issuer, #type = :type, #g = :g, #gs = :gs ADD ${adds.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async read(query: {
    from: string;
    to: string;
    issuerId?: string;
    licenceType?: string;
    issuedOnly?: true;
  }): Promise<CounterRow[]> {
    const filters: string[] = [];
    const values: Record<string, unknown> = { ':from': query.from, ':to': `${query.to}$` };
    if (query.issuerId) {
      filters.push('issuerId = :issuer');
      values[':issuer'] = query.issuerId;
    }
    if (query.licenceType) {
      filters.push('licenceType = :type');
      values[':type'] = query.licenceType;
    }
    const partitions = monthsOf(query.from, query.to).flatMap((month) =>
      Array.from({ length: statisticsShards }, (_, shard) => indexKeys.statisticsMonth(month, shard)),
    );
    const pages = await mapLimited(partitions, readConcurrency, (partition) =>
      queryAll(this.doc, {
        TableName: this.tableName,
        IndexName: 'gsi1',
        // `$` sorts after `#`: every counter of the last day is included.
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
        ...(filters.length > 0 && { FilterExpression: filters.join(' AND ') }),
        ExpressionAttributeValues: { ...values, ':pk': partition },
        // The stream consumer may ask the index for these attributes alone (functions/grants.ts).
        ...(query.issuedOnly && projectionOf('issuedCounters')),
      }),
    );
    return pages.flat().map(toRow);
  }
}

function toRow(item: Record<string, unknown>): CounterRow {
  const counts = emptyCounts();
  for (const name of countNames) counts[name] = Number(item[name] ?? 0);
  for (const [attribute, value] of Object.entries(item)) {
    if (attribute.startsWith(verdictPrefix))
      counts.verified[attribute.slice(verdictPrefix.length)] = Number(value);
  }
  return {
    day: String(item.day),
    issuerId: String(item.issuerId),
    licenceType: String(item.licenceType),
    counts,
  };
}
