import { logger } from '../logger.js';
import { chainIdPattern } from './audit-chain.js';

/**
 * How long after its instant `SUPERVISION_HISTORY_BEFORE` still applies: a move of the audit trail takes
 * hours, and a forgotten variable must not leave a permanent blind spot in which whoever can write the
 * trail hides entries dated before it from the statistics and the alerts (security review L6).
 */
export const historyBeforeWindowMs = 7 * 86_400_000;

/**
 * The cut-over in epoch milliseconds while it applies: from its instant to {@link historyBeforeWindowMs}
 * after. Outside that window (older, or not yet reached: a cut-over in the future would hide every entry
 * written until then) it is ignored, with a warning so that the operator removes it.
 */
function activeHistoryBefore(historyBefore: string | undefined, now: number): number | undefined {
  if (historyBefore === undefined) return undefined;
  const instant = Date.parse(historyBefore);
  const age = now - instant;
  if (age >= 0 && age <= historyBeforeWindowMs) return instant;
  logger.warn('supervision: SUPERVISION_HISTORY_BEFORE ignored: remove it from the deployment', {
    historyBefore,
    reason: age > historyBeforeWindowMs ? 'older than 7 days' : 'in the future',
  });
  return undefined;
}

/**
 * Whether an entry is a copy of history: its `at` and its chain's day (an entry of before chains has
 * none) both before the cut-over. A chain id that names no day places the entry nowhere: counted, never
 * hidden.
 */
function copiedHistory(entry: { at: string; chain?: unknown }, historyBefore: number): boolean {
  if (!(Date.parse(entry.at) < historyBefore)) return false;
  if (typeof entry.chain !== 'string') return true;
  const day = chainIdPattern.exec(entry.chain)?.[1];
  return day !== undefined && Date.parse(`${day}T00:00:00.000Z`) < historyBefore;
}

/**
 * The entries supervision counts, without the copies of history while the operator moves the audit trail
 * (docs/supervision.md, "Moving the audit trail"): with `historyBefore` (`SUPERVISION_HISTORY_BEFORE`, the
 * instant of the deployment that created the audit table) at most 7 days old at `now`, an entry whose `at`
 * and whose chain's day are both before it was counted when first written, in the service table, and is
 * skipped rather than counted twice or raising alerts for windows long past; their number is logged (no
 * entry, no personal data). Without it nothing is skipped: a rule keyed on how late an entry arrives would
 * let whoever can write the trail hide entries by back-dating them (security review L1).
 *
 * The one rule of both readers of the trail that count: the stream consumer (`now` the batch's processing)
 * and the replay of a batch it gave up (`now` the batch's arrival, so the batch is judged as the consumer
 * would have judged it, however much later it is replayed). `place` gives each item's `at` and stored
 * `chain`.
 *
 * @example
 * ```ts
 * const counted = withoutCopiedHistory(entries, (entry) => entry, { historyBefore, now: Date.now() });
 * ```
 */
export function withoutCopiedHistory<T>(
  items: readonly T[],
  place: (item: T) => { at: string; chain?: unknown },
  options: { historyBefore: string | undefined; now: number },
): T[] {
  const historyBefore = activeHistoryBefore(options.historyBefore, options.now);
  if (historyBefore === undefined) return [...items];
  const kept = items.filter((item) => !copiedHistory(place(item), historyBefore));
  const skipped = items.length - kept.length;
  // A count and the cut-over only: the operator sees the move at work, and that nothing is skipped once
  // the variable is removed.
  if (skipped > 0) {
    logger.warn('supervision: audit entries skipped as copies of history', {
      skipped,
      historyBefore: options.historyBefore ?? '-',
    });
  }
  return kept;
}
