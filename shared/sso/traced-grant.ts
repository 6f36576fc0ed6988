import { AsyncSlot } from '../async-context.js';
import type { Trace } from '../pending-work/pending-work.js';

/**
 * The trace a save (`put`) or a deletion (`delete`) under way is to write with one write of the provider's
 * storage, until that write takes it.
 */
interface TracedPut {
  op: 'put' | 'delete';
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
  return runTraced({ op: 'put', model, id, trace, taken: false }, save);
}

/**
 * For the provider's storage: the trace to write with its put of `model` `id` (in the same transaction),
 * once; undefined when the save under way has none for it.
 */
export function traceOfPut(model: string, id: string): Trace | undefined {
  return taken('put', model, id);
}

/**
 * Runs `destroy` (the deletion of the provider's model `model` `id`: a grant the provider ends itself,
 * provider.ts `providerAdapter`) so that the provider's storage deletes it together with `trace` in one
 * all-or-nothing write, as {@link savedWithTrace} does for a put: the storage takes it with
 * {@link traceOfDelete}, and throws when the item is gone already (nothing ended, nothing to trace). A
 * storage that took no trace is an error, thrown once deleted.
 *
 * @example
 * ```ts
 * await saveWithTrace(key, entry, (trace) => destroyedWithTrace('Grant', id, trace, () => super.destroy(id)), deps);
 * ```
 */
export async function destroyedWithTrace(
  model: string,
  id: string,
  trace: Trace,
  destroy: () => Promise<void>,
): Promise<void> {
  await runTraced({ op: 'delete', model, id, trace, taken: false }, destroy);
}

/** Runs `write` with `slot` for the storage to take: its write with no trace taken is an error, thrown after. */
async function runTraced<T>(slot: TracedPut, write: () => Promise<T>): Promise<T> {
  const answer = await tracedPuts.run(slot, write);
  if (!slot.taken) {
    const done = slot.op === 'put' ? 'saved' : 'deleted';
    throw new Error(`the ${slot.model} was ${done} without its trace: its storage wrote none`);
  }
  return answer;
}

/**
 * For the provider's storage: the trace to write with its deletion of `model` `id` (in the same
 * transaction), once; undefined when the deletion under way has none for it.
 */
export function traceOfDelete(model: string, id: string): Trace | undefined {
  return taken('delete', model, id);
}

function taken(op: TracedPut['op'], model: string, id: string): Trace | undefined {
  const slot = tracedPuts.getStore();
  if (!slot || slot.taken || slot.op !== op || slot.model !== model || slot.id !== id) return undefined;
  slot.taken = true;
  return slot.trace;
}
