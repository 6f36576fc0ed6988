/**
 * Times as people read them on the pages: in China Standard Time (the licences' own time zone) whatever
 * the server's or the browser's zone. One formatter per form, built on first use and kept: building an
 * `Intl.DateTimeFormat` costs far more than formatting with one.
 */
const chinaTimeZone = 'Asia/Shanghai';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The formatter for `locale` and `options`, in China Standard Time unless `options` names a zone. */
export function chinaTimeFormatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let built = formatters.get(key);
  if (!built) {
    built = new Intl.DateTimeFormat(locale, { timeZone: chinaTimeZone, ...options });
    formatters.set(key, built);
  }
  return built;
}

const ymd = { year: 'numeric', month: '2-digit', day: '2-digit' } as const;

/**
 * A timestamp as a calendar date, `YYYY-MM-DD` in both languages; the text itself if it is not a date.
 *
 * @example
 * ```ts
 * calendarDate('2030-05-31T16:00:00Z'); // '2030-06-01'
 * ```
 */
export function calendarDate(value: string): string {
  const at = Date.parse(value);
  if (Number.isNaN(at)) return value;
  return chinaTimeFormatter('en-CA', ymd).format(at);
}

/** A timestamp with minutes (`YYYY-MM-DD HH:mm`), for "issued at" and expiry moments. */
export function dateTime(value: string): string {
  const at = Date.parse(value);
  if (Number.isNaN(at)) return value;
  return chinaTimeFormatter('en-CA', { ...ymd, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(at)
    .replace(',', '');
}

/** `HH:mm:ss`, for a presentation QR code's expiry. */
export function clockTime(value: string): string {
  return chinaTimeFormatter('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(Date.parse(value));
}
