/**
 * The `iat` of a list signed again (a status list, the trust list): strictly after the one signed before
 * it (review R32 M1). Verifiers hold the latest copy and refuse one signed earlier, so that no one who
 * answers their requests can bring back a list from before a revocation; two lists signed in the same
 * second would carry the same `iat`, and the earlier could be served in place of the later. So a list
 * re-signed within the second of the one before it is dated a second after it.
 *
 * @packageDocumentation
 */

/**
 * How far ahead of the clock a list may be dated to stay after its predecessor: a burst of changes, each
 * re-signing the list within one second, pushes `iat` ahead by a second each, and the lead melts away at
 * one second per second once the burst is over. Verifiers refuse a list signed further ahead than their
 * clock skew (60 s by default), so no list is dated past this lead, half of it: when it is used up, the
 * trust list already signed is served until the clock catches up, and a status list whose last token
 * predates a change answers 503 with `Retry-After` instead (status-list-token.ts: served, that token would
 * be held as fresh for its whole `ttl`). Only a burst of more than 30 changes of one list faster than one
 * a second delays what is served, by seconds.
 */
export const MAX_IAT_LEAD_SECONDS = 30;

/**
 * The `iat` (seconds) of a list signed at `now` after one signed at `previous` (undefined: none held):
 * `now`, or `previous + 1` when that is not before `now`. `undefined` when that would be more than
 * {@link MAX_IAT_LEAD_SECONDS} ahead of `now`: sign nothing until the clock catches up.
 *
 * @example
 * ```ts
 * nextIat(1_800_000_000, 1_799_999_000); // 1_800_000_000
 * nextIat(1_800_000_000, 1_800_000_000); // 1_800_000_001: the same second, so one after
 * ```
 */
export function nextIat(now: number, previous: number | undefined): number | undefined {
  if (previous === undefined || previous < now) return now;
  const iat = previous + 1;
  return iat - now > MAX_IAT_LEAD_SECONDS ? undefined : iat;
}
