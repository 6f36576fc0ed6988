import { describe, expect, it } from 'vitest';
import { DynamoAuditChainStore } from '../../../shared/adapters/dynamo/audit-chain-store.js';
import { DynamoAuditTrail } from '../../../shared/adapters/dynamo/audit-trail.js';
import { replayFailedBatch } from '../../../shared/supervision/replay.js';
import { useDynamo } from '../../contract/subject.js';
import { InMemoryStatistics } from '../../support/in-memory-supervision.js';

const dynamo = useDynamo();

/**
 * `npm run supervision:replay` of a batch that carried an entry written late (R24 L1): a pending status
 * change the reconciler finished 20 minutes after it happened. The entry's `at` is the change's, its
 * stream record arrived at its write: a replay choosing entries by `at` near the arrivals skipped it.
 */
describe('the replay of a batch holding a late-written entry', () => {
  it('counts the revocation whose entry was written 20 minutes after the change', async () => {
    const { doc, tableName } = await dynamo.newTable();
    // Written at 10:20 that day: the writer's clock says which day's chain it joins (docs/supervision.md).
    const trail = new DynamoAuditTrail(doc, tableName, { now: () => Date.parse('2026-03-01T10:20:00.000Z') });
    await trail.record(
      {
        at: '2026-03-01T10:00:00.000Z',
        actor: 'cl_iss',
        action: 'licence.revoked',
        licenceId: 'lic-a',
        issuerId: 'iss_1',
        licenceType: 'driving-licence',
      },
      { key: 'lic-a#2#0', writtenAt: '2026-03-01T10:20:00.000Z' },
    );
    const statistics = new InMemoryStatistics();
    const batch = {
      shardId: 's',
      startSequenceNumber: '1',
      endSequenceNumber: '1',
      batchSize: 1,
      streamArn: 'arn',
      approximateArrivalOfFirstRecord: '2026-03-01T10:20:00.100Z',
      approximateArrivalOfLastRecord: '2026-03-01T10:20:00.100Z',
    };
    const deps = {
      auditChains: new DynamoAuditChainStore(doc, tableName),
      statistics,
      historyBefore: undefined,
    };
    expect(await replayFailedBatch(batch, deps)).toEqual({ read: 1, counted: 1 });
    // Once: a second replay of the same record finds the entry's mark.
    expect(await replayFailedBatch(batch, deps)).toEqual({ read: 1, counted: 0 });
  });
});
