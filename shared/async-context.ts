import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The one AsyncLocalStorage behind every {@link AsyncSlot}. On Node 20 each AsyncLocalStorage that has
 * ever run adds its own step to every promise the process makes (its `_propagate` in the init hook), for
 * the life of the process: with a store per concern, a single sign-on's ~1,300 promises paid that once per
 * store (issue 16). The slots share one: a scope is a small frozen record, one entry per slot.
 */
const context = new AsyncLocalStorage<Readonly<Record<symbol, unknown>>>();

/**
 * A value that follows an asynchronous call chain (its awaits, timers and callbacks), as an
 * AsyncLocalStorage's store does, with the same `run` and `getStore`: {@link run} sets it for `fn` and
 * everything `fn` starts, and other slots keep the values they had where `run` was called.
 *
 * @example
 * ```ts
 * const current = new AsyncSlot<{ requestId: string }>('request');
 * await current.run({ requestId: 'r1' }, async () => {
 *   await somethingElse();
 *   current.getStore(); // { requestId: 'r1' }
 * });
 * current.getStore(); // undefined
 * ```
 */
export class AsyncSlot<T> {
  private readonly key: symbol;

  constructor(name: string) {
    this.key = Symbol(name);
  }

  /** Calls `fn` with this slot set to `value` for it and what it starts; returns what `fn` returns. */
  run<R>(value: T, fn: () => R): R {
    return context.run(Object.freeze({ ...context.getStore(), [this.key]: value }), fn);
  }

  /** This slot's value in the call chain under way, or undefined outside any {@link run} of it. */
  getStore(): T | undefined {
    return context.getStore()?.[this.key] as T | undefined;
  }
}
