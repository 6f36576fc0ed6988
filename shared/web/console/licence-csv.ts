import type { Translate } from '../kit/i18n.js';
import type { Licence, LicenceTypeEntry } from './issuer-api.js';
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
 * One CSV cell (RFC 4180), guarded against formula injection: a spreadsheet runs a cell that starts with
 * `=`, `+`, `-` or `@` (or a tab or carriage return, which some read past) as a formula, so such a cell
 * gets a leading apostrophe and is read as text. A holder's name is typed by a clerk, or comes from a
 * batch file: it is not trusted.
 *
 * @example
 * ```ts
 * csvCell('=HYPERLINK("http://evil")'); // '"\'=HYPERLINK(""http://evil"")"'
 * ```
 */
export function csvCell(value: string): string {
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
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
    chinaDate(licence.validUntil) ?? t('长期', 'No expiry'),
  ]);
}
