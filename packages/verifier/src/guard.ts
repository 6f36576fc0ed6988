/**
 * Checks for the JSON a verifier reads after a signature verified (token claims, the trust list), written
 * by hand so that the package depends on nothing: a schema library would be most of a browser bundle.
 * A reader returns a fresh value holding only the members it names, each checked for type and bounds
 * (other members are dropped, so a private JWK member in a trust list never reaches the verifier), or
 * `undefined` when anything is off.
 *
 * @packageDocumentation
 */
import { FormatError } from './errors.js';

/** Reads `value` as a `T`, or answers undefined. */
export type Reader<T> = (value: unknown) => T | undefined;

/** The outcome of {@link Guard.safeParse}. */
export type GuardResult<T> = { success: true; data: T } | { success: false; error: FormatError };

/** A {@link Reader} that either answers or explains: `parse` throws, `safeParse` returns the failure. */
export interface Guard<T> {
  /** The value read; throws {@link FormatError} `invalid_claims` when it is not a `T`. */
  parse(value: unknown): T;
  /** The value read, or the {@link FormatError} `parse` would have thrown. */
  safeParse(value: unknown): GuardResult<T>;
}

/**
 * A {@link Guard} over `read`; `what` names the value in the error.
 *
 * @example
 * ```ts
 * const point = guard('a point', (value) =>
 *   isObject(value) && isInteger(value.x) ? { x: value.x } : undefined,
 * );
 * point.parse({ x: 1, y: 2 }); // { x: 1 }
 * point.safeParse('nope').success; // false
 * ```
 */
export function guard<T>(what: string, read: Reader<T>): Guard<T> {
  const safeParse = (value: unknown): GuardResult<T> => {
    const data = read(value);
    return data === undefined
      ? { success: false, error: new FormatError('invalid_claims', `Not ${what}`) }
      : { success: true, data };
  };
  return {
    parse(value) {
      const result = safeParse(value);
      if (!result.success) throw result.error;
      return result.data;
    },
    safeParse,
  };
}

/** A JSON object: not null, not an array. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A string of `min` to `max` characters, counted in code points (an emoji is one), as the schemas these
 * checks replaced counted them. A code point is one or two UTF-16 units, so the units settle most cases
 * and the points are counted only when they cannot.
 */
export function isString(value: unknown, min = 0, max = Infinity): value is string {
  if (typeof value !== 'string') return false;
  const units = value.length;
  if (units < min) return false;
  if (units <= max && units >= 2 * min) return true;
  let points = 0;
  for (const _ of value) points++;
  return points >= min && points <= max;
}

/** A safe integer from `min` to `max`. */
export const isInteger = (value: unknown, min = -Infinity, max = Infinity): value is number =>
  Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;

/**
 * Each element of an array read by `read`, if there are `min` to `max` of them and every one reads.
 *
 * @example
 * ```ts
 * readArray([1, 2], (value) => (isInteger(value) ? value : undefined), 1); // [1, 2]
 * ```
 */
export function readArray<T>(value: unknown, read: Reader<T>, min = 0, max = Infinity): T[] | undefined {
  if (!Array.isArray(value) || value.length < min || value.length > max) return undefined;
  const out: T[] = [];
  for (const element of value) {
    const item = read(element);
    if (item === undefined) return undefined;
    out.push(item);
  }
  return out;
}
