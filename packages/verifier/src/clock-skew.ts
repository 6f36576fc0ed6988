/**
 * How far apart the verifier's clock and a signer's may be, in seconds: one value for the whole package.
 *
 * @packageDocumentation
 */

/**
 * Tolerated difference between the verifier's clock and the signer's: one minute unless told. A token's
 * periods are judged with it (a presentation made up to this far ahead is not `not_yet_valid`), and an
 * `OfflineTrustStore` refuses a trust list or status list signed (`iat`) further ahead of its clock
 * than this (`clock_skew`).
 */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
