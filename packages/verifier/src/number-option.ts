/**
 * Reads the numeric options apps pass to the verifier and the offline store: one reader, so every bound
 * is checked the same way when the verifier or store is made.
 *
 * @packageDocumentation
 */

/**
 * The number an app passed for option `name`, or `fallback` when it passed none. Anything else than a
 * finite number of at least `min` (an integer when `integer` is set) throws a `RangeError` naming the
 * option: `NaN` makes every comparison with it false, which would switch off the check the option bounds
 * (a skew check, a decompression limit), and `Infinity` is no bound at all. Fail closed: no verifier.
 *
 * @example
 * ```ts
 * const maxBytes = numberOption('maxStatusListBytes', options.maxStatusListBytes, 1 << 18, { min: 1, integer: true });
 * ```
 */
export function numberOption(
  name: string,
  value: number | undefined,
  fallback: number,
  rule: { min: number; integer?: boolean },
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < rule.min ||
    (rule.integer === true && !Number.isInteger(value))
  ) {
    const what = rule.integer === true ? 'an integer' : 'a finite number';
    throw new RangeError(`${name} must be ${what}, ${rule.min} or more (got ${String(value)})`);
  }
  return value;
}
