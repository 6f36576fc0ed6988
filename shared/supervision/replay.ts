import * as z from 'zod';
import type { AuditChainStore } from './audit-chain-store.js';
import { withoutCopiedHistory } from './copied-history.js';
import { auditEntryId } from './process-events.js';
import { supervisedEntryOf, toSupervisionEvent } from './events.js';
import type { StatisticsStore } from './statistics.js';

/**
 * What the event source mapping's on-failure destination (the stream consumer's dead-letter queue)
 * records of a batch that failed every retry, or outlived the stream's 24 hours: where the batch was,
 * never its records (AWS's `DDBStreamBatchInfo`).
 */
export const streamBatchInfo = z.object({
  shardId: z.string(),
  startSequenceNumber: z.string(),
  endSequenceNumber: z.string(),
  approximateArrivalOfFirstRecord: z.iso.datetime({ offset: true }),
  approximateArrivalOfLastRecord: z.iso.datetime({ offset: true }),
  batchSize: z.number().int(),
  streamArn: z.string(),
});
export type StreamBatchInfo = z.output<typeof streamBatchInfo>;

/** An on-failure record as the queue holds it: the batch's pointers, among the invocation's details. */
export const streamFailureRecord = z.object({ DDBStreamBatchInfo: streamBatchInfo });

/**
 * How far the replay widens the batch's arrivals before choosing the days it reads: an entry is stamped
 * before its write and the stream's clock is approximate (to the second), so a batch that arrived just
 * after midnight may carry entries of the day before.
 */
export const replayMarginMs = 5 * 60_000;

/** UTC days from `from` to `to` (`YYYY-MM-DD`, both included): the audit trail's day partitions. */
function utcDays(from: number, to: number): string[] {
  const days: string[] = [];
  for (let t = Date.parse(new Date(from).toISOString().slice(0, 10)); t <= to; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/**
 * Replays a stream batch that was given up (SRE review M6): the stream's records are gone after 24 hours,
 * so the audit entries are read again from the audit table itself, every entry of the UTC days the batch
 * arrived on (its first and last arrival, widened by {@link replayMarginMs}) in full, and counted into the
 * statistics once (`addOnce`: entries the failed batch, or any other, did count already are skipped by
 * their marks). Whole days, not the entries whose `at` lies near the arrivals: an entry written late (a
 * pending change the reconciler finished, a retry) carries the `at` of its change, maybe hours before its
 * write, but sits on the chain of the day it was written (`RecordOnce.writtenAt`), the day its stream
 * record arrived: selecting by `at` skipped it for good (R24 L1). Reading more than the batch is harmless
 * for the marks' reason. Alerts are not raised again (an entry's window
 * counter would count twice; a day-old alert helps no one): the statistics are what the replay restores.
 * Copies of history are skipped by the consumer's own rule (`withoutCopiedHistory`, with `historyBefore`,
 * `SUPERVISION_HISTORY_BEFORE`), as of the batch's arrival: a batch the consumer gave up during a move
 * of the audit trail is counted as it would have counted it, not twice.
 *
 * 1. the days, from the failure record's arrivals;
 * 2. every entry of those UTC days, page by page (the supervision listing's own read), less copies of
 *    history;
 * 3. counted once.
 *
 * @example
 * ```ts
 * const { read, counted } = await replayFailedBatch(record.DDBStreamBatchInfo, {
 *   auditChains,
 *   statistics,
 *   historyBefore: config.supervisionHistoryBefore,
 * });
 * ```
 */
export async function replayFailedBatch(
  batch: StreamBatchInfo,
  deps: { auditChains: AuditChainStore; statistics: StatisticsStore; historyBefore: string | undefined },
): Promise<{ read: number; counted: number }> {
  // 1.
  const from = Date.parse(batch.approximateArrivalOfFirstRecord) - replayMarginMs;
  const to = Date.parse(batch.approximateArrivalOfLastRecord) + replayMarginMs;
  const days = utcDays(from, to);
  let read = 0;
  let counted = 0;
  let cursor: string | undefined;
  // 2.
  do {
    const page = await deps.auditChains.entries({
      from: days[0]!,
      to: days.at(-1)!,
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    cursor = page.cursor;
    const ofDays = page.items.flatMap((item) => {
      // Read as the stream's records are: the same fields, so the same id.
      const entry = supervisedEntryOf(item as Record<string, unknown>);
      return entry ? [{ entry, chain: item.chain }] : [];
    });
    const kept = withoutCopiedHistory(ofDays, ({ entry, chain }) => ({ at: entry.at, chain }), {
      historyBefore: deps.historyBefore,
      now: Date.parse(batch.approximateArrivalOfLastRecord),
    });
    const events = kept.flatMap(({ entry }) => {
      const event = toSupervisionEvent(entry);
      return event ? [{ id: auditEntryId(entry), event }] : [];
    });
    read += events.length;
    // 3.
    counted += await deps.statistics.addOnce(events);
  } while (cursor);
  return { read, counted };
}
