import { randomInt } from 'node:crypto';
import { UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  aggregate,
  countedMarkRetentionSeconds,
  emptyCounts,
  type CountedEvent,
  type CounterIncrement,
  type CounterRow,
  type StatisticsStore,
} from '../../supervision/statistics.js';
import { writeAllButRefused } from './conditional.js';
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
 * read), on a shard chosen at random; {@link DynamoStatisticsStore.addOnce} adds them with each audit
 * entry's mark (`stats-counted#<entry id>`, TTL 30 days after the entry) in one transaction. gsi1 lists a month's counters per shard (`stats-month#<YYYY-MM>#<shard>`,
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
    await Promise.all(
      increments.map(async (increment) => {
        const update = this.updateOf(increment);
        if (update) await this.doc.send(new UpdateCommand({ TableName: this.tableName, ...update }));
      }),
    );
  }

  /**
   * One TransactWriteItems per group of up to {@link transactionItems} operations: a conditional put of
   * each entry's mark (`stats-counted#<id>`, absent before) and the group's increments, aggregated. When
   * marks are already there (a retried batch), the transaction is cancelled, names them, and is written
   * again without them: nothing is counted twice, nothing of the others lost.
   */
  async addOnce(events: readonly CountedEvent[]): Promise<number> {
    const unique = new Map<string, CountedEvent>();
    for (const counted of events) {
      if (aggregate([counted.event]).length > 0 && !unique.has(counted.id)) unique.set(counted.id, counted);
    }
    let added = 0;
    for (const group of transactionGroups([...unique.values()])) added += await this.addGroup(group);
    return added;
  }

  private async addGroup(group: readonly CountedEvent[]): Promise<number> {
    // Only the marks are conditional: the events refused are those already counted. Anything else (a
    // conflict with a concurrent write, throttling) is thrown: the caller's to retry.
    const counted = await writeAllButRefused(this.doc, {
      members: group,
      itemOf: ({ id, event }) => ({
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.statisticsCounted(id),
            expiresAt: Math.floor(Date.parse(event.at) / 1000) + countedMarkRetentionSeconds,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      }),
      // The increments of the events left, aggregated anew each time.
      alongside: (pending) =>
        aggregate(pending.map(({ event }) => event)).flatMap((increment) => {
          const update = this.updateOf(increment);
          return update ? [{ Update: { TableName: this.tableName, ...update } }] : [];
        }),
      what: 'statistics',
    });
    return counted.length;
  }

  /** The update adding `increment` to one shard of its counter, or `undefined` when it adds nothing. */
  private updateOf({ day, issuerId, licenceType, counts }: CounterIncrement): CounterUpdate | undefined {
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
    if (adds.length === 0) return undefined;
    return {
      Key: keys.statistics(day, issuerId, licenceType, shard),
      UpdateExpression: `SET #day = :day, #issuer = :issuer, #type = :type, #g = :g, #gs = :gs ADD ${adds.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
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
        // The stream consumer, and the supervisor's API, ask the index for these attributes alone
        // (functions/grants.ts).
        ...projectionOf(query.issuedOnly ? 'issuedCounters' : 'statisticsCounters'),
      }),
    );
    return pages.flat().map(toRow);
  }
}

/** One counter's update, as an `UpdateItem` or an `Update` of a transaction takes it. */
type CounterUpdate = Required<
  Pick<
    UpdateCommandInput,
    'Key' | 'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  >
>;

/** DynamoDB's limit of operations in one TransactWriteItems. */
const transactionItems = 100;

/**
 * `events` in groups whose marks and distinct counters fit one transaction: greedy, in order (a group of
 * verifications of one type is 99 marks and one update).
 */
function transactionGroups(events: readonly CountedEvent[]): CountedEvent[][] {
  const groups: CountedEvent[][] = [];
  let group: CountedEvent[] = [];
  let counters = new Set<string>();
  for (const counted of events) {
    const [increment] = aggregate([counted.event]);
    const counter = `${increment!.day}\u0000${increment!.issuerId}\u0000${increment!.licenceType}`;
    const more = counters.has(counter) ? 0 : 1;
    if (group.length + 1 + counters.size + more > transactionItems) {
      groups.push(group);
      group = [];
      counters = new Set();
    }
    group.push(counted);
    counters.add(counter);
  }
  if (group.length > 0) groups.push(group);
  return groups;
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
