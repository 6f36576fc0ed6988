import { randomUUID } from 'node:crypto';
import type { PendingPointer, Trace } from '../../shared/pending-work/pending-work.js';

/**
 * A change's trace as `saveWithTrace` hands it to a store: the pointer `key` carrying one entry of
 * `action` by `actor`, claimed now (at `at`).
 *
 * @example
 * ```ts
 * await store.appoint(appointment, now, traceFor('agent-changed#agt_1#1', 'agent.appointed', now));
 * ```
 */
export function traceFor(key: string, action: string, at: Date, actor = 'acc_rep'): Trace {
  const when = at.toISOString();
  return {
    carried: { id: key, owner: actor, since: when, audit: [{ key, entry: { at: when, actor, action } }] },
    claim: randomUUID(),
    at,
  };
}

/** The pointer a store's write put for `trace`, as the index lists it (`olderThan`). */
export const listedPointer = (trace: Trace): PendingPointer => ({
  id: trace.carried.id,
  since: trace.carried.since,
  audit: trace.carried.audit,
});
