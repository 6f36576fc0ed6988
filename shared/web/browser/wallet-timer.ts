/**
 * The QR page's timing rules, apart from the DOM so that they read (and test) as plain functions.
 *
 * @packageDocumentation
 */

/** Remaining seconds at which the live region speaks: coarse, so a screen reader is not flooded. */
export const announceAt = [60, 10] as const;

/**
 * The announcement mark crossed between two readings of the remaining time, if any: the page speaks
 * once per mark, never every second.
 *
 * @example
 * ```ts
 * crossedMark(61, 59.5); // 60
 * crossedMark(59, 58);   // undefined
 * ```
 */
export function crossedMark(before: number, after: number): number | undefined {
  return announceAt.find((mark) => before > mark && after <= mark);
}

/**
 * Whether to ask for a new QR now: inside the lead time before expiry (or past it), no request under
 * way, and the wait after the last attempt over (it grows after failures, so an unreachable server is
 * not called every second).
 *
 * @example
 * ```ts
 * shouldRefresh({ remaining: 14, lead: 15, sinceLastAttempt: Infinity, failures: 0, busy: false }); // true
 * ```
 */
export function shouldRefresh(state: {
  remaining: number;
  lead: number;
  sinceLastAttempt: number;
  failures: number;
  busy: boolean;
}): boolean {
  if (state.busy || state.remaining > state.lead) return false;
  return state.sinceLastAttempt >= retryDelaySeconds(state.failures);
}

/** 5 s after a success or the first failure, doubling with each further failure, at most a minute. */
export function retryDelaySeconds(failures: number): number {
  return Math.min(60, 5 * 2 ** Math.max(0, failures - 1));
}

/**
 * `m:ss` of the seconds left, rounded up so that the display reaches 0:00 only when the code expires.
 *
 * @example
 * ```ts
 * countdown(119.2); // '2:00'
 * ```
 */
export function countdown(seconds: number): string {
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}
