/**
 * Answers that may come at once or later. Ports (a trust store, a status source, an ES256 implementation)
 * may answer synchronously or with a promise, and "a promise" must mean any thenable: one of another realm
 * (an iframe, `node:vm`), a library's (Dexie, Bluebird, a jQuery Deferred), or a native one while the
 * global `Promise` is another (zone.js, as Angular apps load it; bluebird as the global). `instanceof
 * Promise` recognises none of these, and a pending promise taken for the answer itself is truthy: a
 * signature that "holds", a status answer without a status. So the test is the `then` method, never the
 * class.
 *
 * @packageDocumentation
 */

/** Whether `value` is a thenable: an object or function with a `then` method, whoever made it. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * `next(value)` at once when `value` is there, else once it settles (any thenable, adopted through
 * `Promise.resolve`): synchronous ports keep a verification free of microtasks. (Not named `then`: a
 * module exporting `then` is itself a thenable to `await import(…)`.)
 */
export function afterAnswer<T, R>(
  value: T | PromiseLike<T>,
  next: (value: T) => R | Promise<R>,
): R | Promise<R> {
  if (isThenable(value)) return Promise.resolve(value as PromiseLike<T>).then(next);
  return next(value as T);
}
