import { expect, it } from 'vitest';
import { DynamoStatisticsStore, statisticsShards } from '../../shared/adapters/dynamo/statistics-store.js';
import { emptyCounts } from '../../shared/supervision/statistics.js';
import { InMemoryStatistics } from '../support/in-memory-supervision.js';
import { statisticsStoreContract } from './statistics-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

statisticsStoreContract('InMemoryStatistics', async () => ({
  store: new InMemoryStatistics(),
  cleanup: nothingToClean,
}));

statisticsStoreContract('DynamoStatisticsStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoStatisticsStore(doc, tableName), cleanup: nothingToClean };
});

it('DynamoStatisticsStore spreads a counter over its shards, and reads every shard back', async () => {
  const { doc, tableName } = await dynamo.newTable();
  let next = 0;
  const store = new DynamoStatisticsStore(doc, tableName, () => next++ % statisticsShards);
  const one = { day: '2026-03-01', issuerId: 'iss_shards', licenceType: 'driving-licence' };
  for (let i = 0; i < 2 * statisticsShards; i += 1) {
    await store.add([{ ...one, counts: { ...emptyCounts(), issued: 1, verified: { valid: i } } }]);
  }
  const rows = await store.read({ from: '2026-03-01', to: '2026-03-01' });
  // One row per shard, each its own item: no single hot key took every update.
  expect(rows).toHaveLength(statisticsShards);
  expect(rows.every((row) => row.counts.issued === 2)).toBe(true);
  const valid = rows.reduce((sum, row) => sum + (row.counts.verified.valid ?? 0), 0);
  expect(valid).toBe(((2 * statisticsShards - 1) * 2 * statisticsShards) / 2);
});
