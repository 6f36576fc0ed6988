/**
 * A licence's validity in calendar days in China (Beijing time, UTC+8 all year, no daylight saving),
 * one rule for every part of the service (review R60 F1):
 *
 * - a licence is valid through the END of its last day: `validUntil` is the exclusive instant at which
 *   it stops being valid, 00:00 Beijing time of the day after its last valid day
 *   (`2032-03-05T16:00:00.000Z` for a licence valid through 2032-03-05);
 * - every page, CSV, PDF and verifier prints the last valid day, the Beijing date of `validUntil` less
 *   one millisecond ({@link lastValidDay}): a licence stored before the rule, ending at 23:59:59 Beijing
 *   time, still prints the same day;
 * - a type's default validity counts calendar years from the Beijing date of `validFrom`, as the Civil
 *   Code counts a period (民法典 art. 201–203: the first day is not counted, the period ends on the
 *   corresponding day of its last month, or that month's last day where there is none): six years from
 *   2026-03-05 is valid through 2032-03-05 (as a driving licence prints "2026-03-05 至 2032-03-05"), from
 *   2028-02-29 through 2034-02-28.
 *
 * Pure functions of text and numbers: the browser's verifier page imports them too.
 */

const beijingOffsetMs = 8 * 3_600_000;
const dayMs = 86_400_000;

/** The Beijing date (`YYYY-MM-DD`) of an instant in epoch milliseconds. */
export function beijingDate(ms: number): string {
  return new Date(ms + beijingOffsetMs).toISOString().slice(0, 10);
}

/**
 * The last day a licence ending at `validUntil` is valid, `YYYY-MM-DD` in Beijing time: the date of the
 * instant one millisecond before it. `undefined` for no end date or text that is no instant.
 *
 * @example
 * ```ts
 * lastValidDay('2032-03-05T16:00:00.000Z'); // '2032-03-05' (00:00 Beijing on 03-06, exclusive)
 * lastValidDay('2032-03-05T15:59:59.000Z'); // '2032-03-05' (a licence stored ending at 23:59:59)
 * ```
 */
export function lastValidDay(validUntil: string | number | undefined): string | undefined {
  if (validUntil === undefined) return undefined;
  const ms = typeof validUntil === 'number' ? validUntil : Date.parse(validUntil);
  return Number.isNaN(ms) ? undefined : beijingDate(ms - 1);
}

/**
 * The `validUntil` of a licence valid through `day` (`YYYY-MM-DD`): 00:00 Beijing time of the next day,
 * as an ISO instant in UTC.
 *
 * @example
 * ```ts
 * validUntilAfter('2032-03-05'); // '2032-03-05T16:00:00.000Z'
 * ```
 */
export function validUntilAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00+08:00`) + dayMs).toISOString();
}

/**
 * An end given as any instant, as stored: the end of the Beijing day it falls in (the instant itself
 * when it is already 00:00 Beijing time). A licence is valid through the whole of the day it is printed
 * to end on, so an issuer's `2030-01-01T23:59:59+08:00` or `2030-01-01T12:00:00+08:00` is stored as
 * `2030-01-01T16:00:00.000Z`.
 *
 * @example
 * ```ts
 * validUntilOf('2030-01-01T23:59:59+08:00'); // '2030-01-01T16:00:00.000Z'
 * validUntilOf('2030-01-02T00:00:00+08:00'); // '2030-01-01T16:00:00.000Z'
 * ```
 */
export function validUntilOf(instant: string): string {
  // By arithmetic, not through the date's text: an end in Beijing's year 10000 (`9999-12-31T23:59:59Z`)
  // has a six-digit year, which `YYYY-MM-DD` text cannot hold (review R64-1).
  const day = Math.floor((Date.parse(instant) - 1 + beijingOffsetMs) / dayMs);
  return new Date((day + 1) * dayMs - beijingOffsetMs).toISOString();
}

/**
 * The default `validUntil` of a licence valid for `years` calendar years from `validFrom`: through the
 * day in the last year with the same month and day as the Beijing date of `validFrom`, or the last day
 * of that month where it has none (29 February in a common year).
 *
 * @example
 * ```ts
 * defaultValidUntil('2026-03-04T16:00:00.000Z', 6); // '2032-03-05T16:00:00.000Z': through 2032-03-05
 * defaultValidUntil('2028-02-28T16:00:00.000Z', 6); // '2034-02-28T16:00:00.000Z': through 2034-02-28
 * ```
 */
export function defaultValidUntil(validFrom: string, years: number): string {
  const start = new Date(Date.parse(validFrom) + beijingOffsetMs);
  const endYear = start.getUTCFullYear() + years;
  const month = start.getUTCMonth();
  // `setUTCFullYear`, not `Date.UTC`: the latter reads a year below 100 as 19xx. Past 9999 it still counts
  // (the caller refuses such an end, review R64-1) rather than making text no parser reads.
  const last = new Date(0);
  last.setUTCFullYear(endYear, month + 1, 0);
  last.setUTCFullYear(endYear, month, Math.min(start.getUTCDate(), last.getUTCDate()));
  return new Date(last.getTime() + dayMs - beijingOffsetMs).toISOString();
}

/**
 * The latest `validUntil` the service stores: the end of 9999-12-31 in Beijing time, the last day a
 * four-digit year prints. An end given later (`9999-12-31T23:59:59Z`, a "no expiry" stand-in some back
 * offices send, 07:59:59 on 10000-01-01 in Beijing) is stored as this; a type's default that would end
 * later is refused (review R64-1).
 */
export const latestValidUntil = '9999-12-31T16:00:00.000Z';
