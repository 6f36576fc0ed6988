import { AsyncSlot } from '../async-context.js';
import type { Trace } from '../pending-work/pending-work.js';

/** The trace a save under way is to write with one put of the provider's storage, until that put takes it. */
interface TracedPut {
  model: string;
  id: string;
  trace: Trace;
  taken: boolean;
}

const tracedPuts = new AsyncSlot<TracedPut>('traced put');

/**
 * Runs `save` (a save of the provider's model `model`, whose id `id` is set before it: a grant's consent)
 * so that the provider's storage writes its put together with `trace`, the pointer that carries the
 * change's audit entry, in one all-or-nothing write (`saveWithTrace`, shared/pending-work/pending-work.ts):
 * the storage takes it with {@link traceOfPut}. A storage that took no trace (it writes none) is an error,
 * thrown once saved: nothing is answered as traced that was not.
 *
 * @example
 * ```ts
 * await saveWithTrace(key, entry, (trace) => savedWithTrace('Grant', grant.jti, trace, () => grant.save()), deps);
 * ```
 */
export async function savedWithTrace<T>(
  model: string,
  id: string,
  trace: Trace,
  save: () => Promise<T>,
): Promise<T> {
  const slot: TracedPut = { model, id, trace, taken: false };
  const answer = await tracedPuts.run(slot, save);
  if (!slot.taken) throw new Error(`the ${model} was saved without its trace: its storage wrote none`);
  return answer;
}

/**
 * For the provider's storage: the trace to write with its put of `model` `id` (in the same transaction),
 * once; undefined when the save under way has none for it.
 */
export function traceOfPut(model: string, id: string): Trace | undefined {
  const slot = tracedPuts.getStore();
  if (!slot || slot.taken || slot.model !== model || slot.id !== id) return undefined;
  slot.taken = true;
  return slot.trace;
}
