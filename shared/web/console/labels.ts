import { html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { lastValidDay } from '../../validity-dates.js';
import type { LicenceStatus, LicenceTypeEntry } from './issuer-api.js';

/**
 * The words of a licence status. The badge repeats them in text, so the status never depends on
 * colour alone.
 *
 * @example
 * ```ts
 * statusLabel('revoked', t); // '已吊销'
 * ```
 */
export function statusLabel(status: LicenceStatus, t: Translate): string {
  switch (status) {
    case 'valid':
      return t('有效', 'Valid');
    case 'suspended':
      return t('已暂停', 'Suspended');
    case 'revoked':
      return t('已吊销', 'Revoked');
    case 'expired':
      return t('已过期', 'Expired');
  }
}

/** A status as a badge (the colours of app.css `.badge.<status>`). */
export function statusBadge(status: LicenceStatus, t: Translate): SafeHtml {
  return html`<span class="badge ${status}">${statusLabel(status, t)}</span>`;
}

/** The name of a licence type in the page's language, or its code when the catalogue lacks it. */
export function typeName(code: string, types: readonly LicenceTypeEntry[], t: Translate): string {
  const type = types.find((entry) => entry.code === code);
  return type ? t(type.name, type.nameEn ?? type.name) : code;
}

/**
 * The calendar day of an instant in Beijing time, the day printed on licences (UTC+8 all year).
 *
 * @example
 * ```ts
 * chinaDate('2026-03-01T16:30:00Z'); // '2026-03-02'
 * ```
 */
export function chinaDate(instant: string | undefined): string | undefined {
  if (!instant) return undefined;
  const ms = Date.parse(instant);
  return Number.isNaN(ms) ? undefined : new Date(ms + 8 * 3_600_000).toISOString().slice(0, 10);
}

/**
 * An instant in Beijing time to the minute, as a history line shows it.
 *
 * @example
 * ```ts
 * chinaDateTime('2026-03-01T16:30:00Z'); // '2026-03-02 00:30'
 * ```
 */
export function chinaDateTime(instant: string): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) return instant;
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * A licence's validity in words, in two forms from one sentence: `text`, plain ("2026-03-02 至
 * 2032-03-02", or "2026-03-02 起长期有效" without an end), and `cell`, the same words with each date kept
 * whole (a line may break between the dates, never inside one) for a narrow table column.
 *
 * @example
 * ```ts
 * validity('2026-03-01T16:00:00Z', undefined, t).text; // '2026-03-02 起长期有效'
 * html`<td>${validity(licence.validFrom, licence.validUntil, t).cell}</td>`;
 * ```
 */
export function validity(
  validFrom: string,
  validUntil: string | undefined,
  t: Translate,
): { text: string; cell: SafeHtml } {
  const from = chinaDate(validFrom) ?? validFrom;
  // The last valid day, the day before `validUntil`'s 00:00 (review R60 F1).
  const until = lastValidDay(validUntil);
  const sentence = until
    ? t('{from} 至 {until}', '{from} to {until}')
    : t('{from} 起长期有效', 'From {from}, no expiry');
  // The sentence's words and its dates, in order: the dates are the only parts the two forms differ in.
  const parts = sentence
    .split(/(\{from\}|\{until\})/)
    .map((part) => ({ part, date: part === '{from}' ? from : part === '{until}' ? until : undefined }));
  return {
    text: parts.map(({ part, date }) => date ?? part).join(''),
    cell: html`${parts.map(({ part, date }) => (date === undefined ? part : html`<span class="nowrap">${date}</span>`))}`,
  };
}
