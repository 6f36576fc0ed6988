import * as z from 'zod';
import { attr, SafeHtml } from './html.js';
import type { Translate } from './i18n.js';

/**
 * A calendar day typed as text, the same in every browser: `<input type="date">` shows the browser's
 * locale (`mm/dd/yyyy` in a Chromium set to English, on a clerk's machine in China too) whatever the
 * page's language, and a text input says one format, the page's own. Accepted: `YYYY-MM-DD`, with `/`,
 * `.` or 年/月/日 between the parts, one-digit months and days, or eight digits (`20260305`, what a phone's
 * numeric keypad, which has no `-`, can type). {@link calendarDayText} checks and normalises it on the
 * server; the input's `pattern` only matches the same shapes, for the browser's own styling.
 */
const dayShape = /^\s*(\d{4})(?:(\d{2})(\d{2})|\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?)\s*$/;

/**
 * The `pattern` attribute of {@link dayShape} (anchored by the browser; `v`-flag safe), with the full-width
 * digits and separators the server reads through NFKC ({@link normaliseDay}).
 */
const dayPattern = String.raw`\s*[\d０-９]{4}(?:[\d０-９]{4}|\s*[\-\/.－／．年]\s*[\d０-９]{1,2}\s*[\-\/.－／．月]\s*[\d０-９]{1,2}\s*日?)\s*`;

/**
 * The typed day as `YYYY-MM-DD`, or the text unchanged when it has no day's shape (zod then refuses it).
 *
 * @example
 * ```ts
 * normaliseDay('2026年3月5日'); // '2026-03-05'
 * normaliseDay('20260305'); // '2026-03-05'
 * ```
 */
export function normaliseDay(text: string): string {
  // NFKC first: a Chinese input method set to full width types ２０２６－０３－０５ or ２０２６年３月５日, digits
  // and separators that `\d` and `[-/.]` do not match; their compatibility forms are the ASCII ones.
  const match = dayShape.exec(text.normalize('NFKC'));
  if (!match) return text;
  const [, year, month = match[4]!, day = match[5]!] = match;
  return `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
}

/** A typed calendar day ({@link normaliseDay}), then a real one (`2026-02-30` is refused). */
export const calendarDayText = z.preprocess(
  (value) => (typeof value === 'string' ? normaliseDay(value) : value),
  z.iso.date(),
);

/**
 * The typed day as `YYYY-MM-DD` ({@link calendarDayText}), or `undefined` when it names no day: what a
 * form's server side stores or sends, whatever separators were typed.
 *
 * @example
 * ```ts
 * readDay('2026年3月5日'); // '2026-03-05'
 * readDay('2026-02-30'); // undefined
 * ```
 */
export function readDay(text: string): string | undefined {
  const read = calendarDayText.safeParse(text);
  return read.success ? read.data : undefined;
}

/** What a day that is none is told, beside its field: the format and an example (the label is the page's). */
export const dayError = (t: Translate): string =>
  t('请按“年-月-日”填写有效日期，如 2026-03-05。', 'Enter a real date as YYYY-MM-DD, such as 2026-03-05.');

/** The format, as the page says it: in the placeholder and the hint. */
export const dayFormat = (t: Translate): string => t('年-月-日', 'YYYY-MM-DD');

/** The hint under a day input: the format with an example, and the short form a phone can type. */
export const dayHint = (t: Translate): string =>
  t('按“年-月-日”填写，如 2026-03-05（也可填 20260305）', 'As YYYY-MM-DD, such as 2026-03-05 (or 20260305)');

/**
 * The attributes of a day's text input but its `type` (`text`): a numeric keypad on phones, the shape, the
 * format shown. For a page that builds its inputs from a record ({@link dayInputAttributes} otherwise).
 */
export function dayInputProperties(t: Translate): Record<string, string> {
  return {
    inputmode: 'numeric',
    pattern: dayPattern,
    placeholder: dayFormat(t),
    maxlength: '16',
    // A day's width, not a text input's default 20 characters: two fit side by side in a narrow column.
    size: '10',
    autocomplete: 'off',
    spellcheck: 'false',
  };
}

/** The attributes of a day's text input: `type="text"` and {@link dayInputProperties}. */
export function dayInputAttributes(t: Translate): SafeHtml {
  return new SafeHtml(
    Object.entries({ type: 'text', ...dayInputProperties(t) })
      .map(([name, value]) => attr(name, value).value)
      .join(' '),
  );
}
