/**
 * How far apart the verifier's clock and a signer's may be, in seconds: one value for the whole package.
 *
 * @packageDocumentation
 */

import { numberOption } from './number-option.js';

/**
 * Tolerated difference between the verifier's clock and the signer's: one minute unless told. A token's
 * periods are judged with it (a presentation made up to this far ahead is not `not_yet_valid`), and an
 * `OfflineTrustStore` refuses a trust list or status list signed (`iat`) further ahead of its clock
 * than this (`clock_skew`).
 */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

/**
 * The skew an app passed, or {@link DEFAULT_CLOCK_SKEW_SECONDS}. A value that is not a finite number of
 * seconds, zero or more, is refused when the verifier or store is made: `NaN` would make every
 * comparison with it false, which switches the checks that use it off (fail closed: no verifier).
 */
export function clockSkewSecondsOf(value: number | undefined): number {
  return numberOption('clockSkewSeconds', value, DEFAULT_CLOCK_SKEW_SECONDS, { min: 0 });
}
