/**
 * ISO 8601 timestamps as `Date#toISOString` writes them, computed in JavaScript. A verdict carries up to
 * five of them (checked at, a licence's period, a presentation's); `new Date(ms).toISOString()` costs
 * about 0.7 µs each in Node (a call into the runtime's date code), a few percent of an offline
 * verification next to its 80 µs signature check. This is about 4× faster and gives the same text.
 *
 * @packageDocumentation
 */

/** `00`…`99`. */
const twoDigits: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));
/** 9999-12-31T23:59:59.999Z: beyond it (and before 1970) `Date` writes signed six-digit years. */
const lastFourDigitYear = 253_402_300_799_999;

/**
 * `new Date(ms).toISOString()`, the same text (and the same `RangeError` for an invalid time), without a
 * `Date`: days to a civil date by H. Hinnant's `civil_from_days`.
 *
 * @example
 * ```ts
 * isoFromMillis(0); // '1970-01-01T00:00:00.000Z'
 * ```
 */
export function isoFromMillis(ms: number): string {
  // Fractions, negatives, far futures and NaN: rare, and Date's own rules (truncation, ±YYYYYY, RangeError).
  if (!(ms >= 0 && ms <= lastFourDigitYear) || Math.floor(ms) !== ms) return new Date(ms).toISOString();
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const fraction = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : `${millis}`;
  return `${year}-${twoDigits[month]}-${twoDigits[day]}T${twoDigits[hours]}:${twoDigits[minutes]}:${twoDigits[seconds]}.${fraction}Z`;
}

/**
 * `new Date(seconds * 1000).toISOString()`, see {@link isoFromMillis}.
 *
 * @example
 * ```ts
 * isoFromSeconds(1_767_225_600); // '2026-01-01T00:00:00.000Z'
 * ```
 */
export function isoFromSeconds(seconds: number): string {
  return isoFromMillis(seconds * 1000);
}
