import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { auditChains, statistics } from '../../../functions/composition/factories.js';
import { chinaDay } from '../../../shared/supervision/events.js';
import { replayFailedBatch } from '../../../shared/supervision/replay.js';
import type { StatisticsStore } from '../../../shared/supervision/statistics.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { supervisionGet } from '../../support/supervision.js';
import { demoTokens, issueDrivingLicence, verified } from '../verify/helpers.js';

/**
 * SRE review M6 through the local runtime's stream delivery (infra/local/streams.ts): a batch of the audit
 * table's stream that fails once is delivered again and must count nothing twice; a batch that fails every
 * attempt is recorded with its pointers (the on-failure record), and the replay counts its entries once.
 */
const faults = { afterWrite: 0, beforeWrite: 0 };

/** The statistics, failing as armed: before writing (the table unreachable), or after (its answer lost). */
function flaky(real: StatisticsStore): StatisticsStore {
  const around = async <T>(write: () => Promise<T>): Promise<T> => {
    if (faults.beforeWrite > 0) {
      faults.beforeWrite -= 1;
      throw new Error('injected: the table is unreachable');
    }
    const result = await write();
    if (faults.afterWrite > 0) {
      faults.afterWrite -= 1;
      throw new Error('injected: the write landed, its answer was lost');
    }
    return result;
  };
  return {
    add: (increments) => around(() => real.add(increments)),
    addOnce: (events) => around(() => real.addOnce(events)),
    read: (query) => real.read(query),
  };
}

let runtime: TestRuntime;
let supervisor: string;
let tokens: Awaited<ReturnType<typeof demoTokens>>;
const today = chinaDay(Date.now());

interface Day {
  issued: number;
  verified: Record<string, number>;
}
const counts = async () => {
  await runtime.drainStreams();
  const { days } = await supervisionGet<{ days: Day[] }>(
    runtime,
    `/supervision/stats?from=${today}&to=${today}&issuer=${runtime.credentials.issuer.id}`,
    supervisor,
  );
  return { issued: days[0]!.issued, valid: days[0]!.verified.valid ?? 0 };
};

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, {}, { statistics: (operator) => flaky(operator.statistics) });
  supervisor = await clientCredentialsToken(runtime, runtime.credentials.supervisor, 'supervision');
  tokens = await demoTokens(runtime);
}, 60_000);
afterAll(() => runtime?.close());

describe('the supervision stream consumer', () => {
  it('counts a batch retried after its write landed once, not twice', async () => {
    const before = await counts();
    faults.afterWrite = 1;
    const licence = await issueDrivingLicence(runtime, tokens.issuer);
    await verified(runtime, licence.credential, tokens.verifier);
    const after = await counts();
    expect(faults.afterWrite).toBe(0);
    expect(runtime.streamFailures()).toEqual([]);
    expect(after).toEqual({ issued: before.issued + 1, valid: before.valid + 1 });
  });

  it('records a batch given up with its pointers, and the replay counts its entries once', async () => {
    const before = await counts();
    // Every attempt of every batch fails while the table is unreachable.
    faults.beforeWrite = Number.POSITIVE_INFINITY;
    const licence = await issueDrivingLicence(runtime, tokens.issuer);
    await verified(runtime, licence.credential, tokens.verifier);
    await runtime.drainStreams();
    faults.beforeWrite = 0;
    expect(await counts()).toEqual(before);
    const failures = runtime.streamFailures();
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toMatchObject({
        error: expect.stringContaining('injected'),
        DDBStreamBatchInfo: {
          startSequenceNumber: expect.any(String),
          approximateArrivalOfFirstRecord: expect.any(String),
        },
      });
    }
    // Pointers only: nothing of the entries.
    expect(JSON.stringify(failures)).not.toContain(licence.id);

    const deps = {
      auditChains: auditChains(dependencies()),
      statistics: statistics(dependencies()),
      historyBefore: undefined,
    };
    const replay = async () => {
      let counted = 0;
      for (const failure of failures)
        counted += (await replayFailedBatch(failure.DDBStreamBatchInfo, deps)).counted;
      return counted;
    };
    // The windows hold the earlier entries too, already counted: only the lost batches' are counted now.
    expect(await replay()).toBe(2);
    expect(await counts()).toEqual({ issued: before.issued + 1, valid: before.valid + 1 });
    // Replayed again (the messages not deleted in time): nothing changes.
    expect(await replay()).toBe(0);
    expect(await counts()).toEqual({ issued: before.issued + 1, valid: before.valid + 1 });
  });
});
