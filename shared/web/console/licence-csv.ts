import type { Translate } from '../kit/i18n.js';
import type { Licence, LicenceTypeEntry } from './issuer-api.js';
import { lastValidDay } from '../../validity-dates.js';
import { chinaDate, statusLabel, typeName } from './labels.js';

/** Excel reads a CSV file as UTF-8 (and so Chinese correctly) only when it starts with this mark. */
export const utf8Bom = '\uFEFF';

/** How many licences one export holds at most: the rest of a larger filter is left out, and said so. */
export const maxExportRows = 5000;

/**
 * A holder's number as an export shows it: the first four and last four characters, the rest starred,
 * whatever the API gave (a masked ID number, or an entity's credit code, public by law but not the
 * export's business). A short value is starred whole.
 *
 * @example
 * ```ts
 * maskHolderNumber('110105********002X'); // '1101**********002X'
 * maskHolderNumber('91110000100000000X'); // '9111**********000X'
 * ```
 */
export function maskHolderNumber(value: string): string {
  if (value.length <= 8) return '*'.repeat(value.length);
  return `${value.slice(0, 4)}${'*'.repeat(value.length - 8)}${value.slice(-4)}`;
}

/**
 * The first characters that make a cell a formula, or may: `=`, `+`, `-`, `@`, a tab or carriage return
 * (which some spreadsheets read past), and their full-width forms `＝` `＋` `－` `＠` (U+FF1D, U+FF0B,
 * U+FF0D, U+FF20), small forms `﹦` `﹢` `﹣` `﹫` (U+FE66, U+FE62, U+FE63, U+FE6B: NFKC folds them into the ASCII
 * signs) and the minus sign `−` (U+2212, which some spreadsheets accept for `-`). Whether a CJK edition of Excel or WPS, or an input method's width conversion on
 * opening, turns a full-width sign into a formula is unverified; the people this export serves type
 * Chinese with full-width punctuation, so a name starting with one is plausible and guarding it costs
 * one apostrophe. Conservative on purpose: an apostrophe too many is harmless, a formula run is not.
 */
const formulaStart = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20\uFE66\uFE62\uFE63\uFE6B\u2212]/;

/**
 * One CSV cell (RFC 4180), guarded against formula injection: a spreadsheet runs a cell that starts with
 * `=`, `+`, `-` or `@` (or a tab or carriage return, which some read past; or, perhaps, their full-width
 * forms, see {@link formulaStart}) as a formula, so such a cell gets a leading apostrophe and is read as
 * text. A holder's name is typed by a clerk, or comes from a batch file: it is not trusted.
 *
 * @example
 * ```ts
 * csvCell('=HYPERLINK("http://evil")'); // '"\'=HYPERLINK(""http://evil"")"'
 * ```
 */
export function csvCell(value: string): string {
  const guarded = formulaStart.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

/** One CSV line of cells, CRLF-terminated as RFC 4180 and Excel expect. */
export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The header line of the export, in the page's language. */
export function licenceCsvHeader(t: Translate): string {
  return csvLine([
    t('证照编号', 'Licence number'),
    t('证照类型', 'Licence type'),
    t('持证人', 'Holder'),
    t('证件号码（已脱敏）', 'Holder number (masked)'),
    t('状态', 'Status'),
    t('状态原因', 'Reason for status'),
    t('签发日期', 'Issued on'),
    t('生效日期', 'Valid from'),
    t('有效期至', 'Valid until'),
  ]);
}

/**
 * One licence as a CSV line: dates are China calendar days, the holder's number masked
 * ({@link maskHolderNumber}), every cell guarded ({@link csvCell}).
 *
 * @example
 * ```ts
 * licenceCsvHeader(t) + licences.map((l) => licenceCsvLine(l, types, t)).join('');
 * ```
 */
export function licenceCsvLine(licence: Licence, types: readonly LicenceTypeEntry[], t: Translate): string {
  return csvLine([
    licence.id,
    typeName(licence.type, types, t),
    licence.holder.name,
    maskHolderNumber(licence.holder.masked),
    statusLabel(licence.status, t),
    licence.statusReason ?? '',
    chinaDate(licence.issuedAt) ?? licence.issuedAt,
    chinaDate(licence.validFrom) ?? licence.validFrom,
    lastValidDay(licence.validUntil) ?? t('长期', 'No expiry'),
  ]);
}

/**
 * What bounds one export besides its rows: the API calls it makes (a filter that matches little pages
 * through the whole index, a call per page, mostly empty), the time it takes (well inside the console
 * function's 10-second timeout) and the body's size (Lambda answers at most 6 MB).
 */
export interface ExportLimits {
  rows: number;
  calls: number;
  /** Milliseconds from the start. */
  deadlineMs: number;
  /** The rows' UTF-8 bytes. */
  bytes: number;
}

/** The console's bounds: 5,000 rows, 50 API calls, 6 seconds, 5 MB. */
export const exportLimits: ExportLimits = {
  rows: maxExportRows,
  calls: 50,
  deadlineMs: 6_000,
  bytes: 5 * 1024 * 1024,
};

/**
 * Reads a search page by page into CSV lines until it ends or any of `limits` is reached; `cut` says
 * the file holds less than the search (its last line should say so). Whatever cut it, the lines are
 * whole rows.
 *
 * @example
 * ```ts
 * const { lines, cut } = await collectCsvLines((cursor) => api.list({ ...query, cursor }), line, exportLimits, clock);
 * ```
 */
const utf8 = new TextEncoder();

export async function collectCsvLines<T>(
  page: (cursor: string | undefined) => Promise<{ items: readonly T[]; cursor?: string }>,
  line: (item: T) => string,
  limits: ExportLimits,
  clock: { now(): number },
): Promise<{ lines: string[]; cut: boolean; calls: number }> {
  const started = clock.now();
  const lines: string[] = [];
  let bytes = 0;
  let calls = 0;
  let cursor: string | undefined;
  do {
    if (calls >= limits.calls || clock.now() - started >= limits.deadlineMs)
      return { lines, cut: true, calls };
    calls += 1;
    const listed = await page(cursor);
    for (const item of listed.items) {
      if (lines.length >= limits.rows) return { lines, cut: true, calls };
      const text = line(item);
      bytes += utf8.encode(text).byteLength;
      if (bytes > limits.bytes) return { lines, cut: true, calls };
      lines.push(text);
    }
    cursor = listed.cursor;
  } while (cursor);
  return { lines, cut: false, calls };
}
