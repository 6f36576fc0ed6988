import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { audit, auditChains, statistics } from '../../../functions/composition/factories.js';
import { chinaDay } from '../../../shared/supervision/events.js';
import { replayFailedBatch, type StreamBatchInfo } from '../../../shared/supervision/replay.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { supervisionGet } from '../../support/supervision.js';

/**
 * `npm run supervision:replay` during a move of the audit trail (`SUPERVISION_HISTORY_BEFORE`): a copy of
 * history, which the stream consumer skips (it was counted when first written, in the service table), is
 * skipped by the replay of a batch the consumer gave up too, by the same rule, not counted a second time.
 */
let runtime: TestRuntime;
let supervisor: string;
const cutOver = new Date(Date.now() - 30_000);
// An issuer of this test alone, so that its figures are this test's.
const issuerId = `iss_copy_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { SUPERVISION_HISTORY_BEFORE: cutOver.toISOString() });
  supervisor = await clientCredentialsToken(runtime, runtime.credentials.supervisor, 'supervision');
}, 60_000);
afterAll(() => runtime?.close());

async function issued(day: string): Promise<number> {
  await runtime.drainStreams();
  const { days } = await supervisionGet<{ days: Array<{ issued: number }> }>(
    runtime,
    `/supervision/stats?from=${day}&to=${day}&issuer=${issuerId}`,
    supervisor,
  );
  return days[0]!.issued;
}

describe('the replay of a given-up batch while the audit trail moves', () => {
  it('skips the copies of history as the stream consumer does, and counts the live entries once', async () => {
    const trail = audit(dependencies());
    const entry = (at: Date) => ({
      at: at.toISOString(),
      actor: 'cl_issuer',
      action: 'licence.issued',
      licenceId: `lic-${randomUUID()}`,
      issuerId,
      licenceType: 'driving-licence',
    });
    // A copy of an issuance of before the cut-over (its `at` and chain's day before it), and one live.
    const copy = entry(new Date(cutOver.getTime() - 60_000));
    const live = entry(new Date());
    await trail.record(copy);
    await trail.record(live);
    const day = chinaDay(copy.at);
    // The consumer counted the live one alone.
    expect(await issued(day)).toBe(1);

    // The consumer's batch given up, its pointers in the dead-letter queue: its window holds both.
    const arrived = new Date().toISOString();
    const batch: StreamBatchInfo = {
      shardId: 'shardId-1',
      startSequenceNumber: '1',
      endSequenceNumber: '2',
      approximateArrivalOfFirstRecord: arrived,
      approximateArrivalOfLastRecord: arrived,
      batchSize: 2,
      streamArn: 'arn:aws:dynamodb:local:000000000000:table/audit/stream/x',
    };
    const deps = {
      auditChains: auditChains(dependencies()),
      statistics: statistics(dependencies()),
      historyBefore: dependencies().config.supervisionHistoryBefore,
    };
    expect(deps.historyBefore).toBe(cutOver.toISOString());
    const run = await replayFailedBatch(batch, deps);
    expect(run.counted).toBe(0);
    expect(await issued(day)).toBe(1);

    // The rule is what keeps the copy out: without the cut-over the replay would count it again.
    expect((await replayFailedBatch(batch, { ...deps, historyBefore: undefined })).counted).toBe(1);
    expect(await issued(day)).toBe(2);
  });
});
