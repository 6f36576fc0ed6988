import { isSensitiveFieldName, withoutSensitiveFields } from '../../identifiers/sensitive-field-names.js';
import { catalogueView, findLicenceType, lookupKeyFields } from '../../licence/catalogue.js';
import type { Lang, Translate } from '../kit/i18n.js';
import type { WalletLicence } from './holder-api.js';

interface FieldOrder {
  /** Stored field names in the catalogue's order, masked forms where the issuer sent a clear number. */
  names: string[];
  /** Titles by stored field name: the catalogue's Chinese `title` and its English `x-title-en`. */
  titles: Map<string, { zh: string; en?: string }>;
  /** Lookup keys: keyed hashes for the service's own use, neither readable nor disclosable. */
  hidden: Set<string>;
}

const orders = new Map<string, FieldOrder>();

function fieldOrder(typeCode: string): FieldOrder {
  const cached = orders.get(typeCode);
  if (cached) return cached;
  const type = findLicenceType(typeCode);
  const view = catalogueView().find((entry) => entry.code === typeCode);
  type Titled = Record<string, { title?: unknown; 'x-title-en'?: unknown }>;
  const properties = (view?.fields.properties ?? {}) as Titled;
  // Titled in both languages as licences return them (a masked number under its clear field's title).
  const returned = (view?.licenceFields.properties ?? {}) as Titled;
  const sensitive = new Map((type?.sensitiveFields ?? []).map((field) => [field.field, field]));
  const order: FieldOrder = { names: [], titles: new Map(), hidden: new Set(lookupKeyFields(type)) };
  for (const name of Object.keys(properties)) {
    const stored = sensitive.get(name)?.maskedAs ?? name;
    const schema = returned[stored] ?? {};
    order.names.push(stored);
    if (typeof schema.title === 'string') {
      const en = schema['x-title-en'];
      order.titles.set(stored, { zh: schema.title, ...(typeof en === 'string' ? { en } : {}) });
    }
  }
  orders.set(typeCode, order);
  return order;
}

/** The licence type's name in the page's language; the code itself for a type this build does not know. */
export function licenceTypeName(typeCode: string, t: Translate): string {
  const type = findLicenceType(typeCode);
  return type ? t(type.name.zh, type.name.en) : typeCode;
}

/** One field as the wallet shows it. */
export interface ShownField {
  name: string;
  label: string;
  value: string;
}

/**
 * The licence's fields with human labels, in the catalogue's order (fields the catalogue does not name
 * follow, under their own names). Lookup keys are left out: they are keyed hashes for the service's
 * matching, meaningless to a person and never disclosable.
 *
 * @example
 * ```ts
 * shownFields(licence, 'zh'); // [{ name: 'vehicleClass', label: '准驾车型', value: 'C1' }, …]
 * ```
 */
export function shownFields(licence: Pick<WalletLicence, 'type' | 'fields'>, lang: Lang): ShownField[] {
  const order = fieldOrder(licence.type);
  const present = Object.keys(licence.fields).filter((name) => !hiddenIn(order, name));
  const known = order.names.filter((name) => present.includes(name));
  const rest = present.filter((name) => !order.names.includes(name));
  return [...known, ...rest].map((name) => ({
    name,
    label: fieldLabel(licence.type, name, lang),
    value: formatValue(licence.type, name, withoutSensitiveFields(licence.fields[name]), lang),
  }));
}

/** The fields a holder may choose to show in a presentation: every shown field (API: no lookup key). */
export function disclosableFields(licence: Pick<WalletLicence, 'type' | 'fields'>): Set<string> {
  const { hidden } = fieldOrder(licence.type);
  return new Set(Object.keys(licence.fields).filter((name) => !hiddenIn({ hidden }, name)));
}

/** Hidden by the catalogue's marking or, fail-safe, by its name ({@link isSensitiveFieldName}). */
function hiddenIn(order: Pick<FieldOrder, 'hidden'>, name: string): boolean {
  return order.hidden.has(name) || isSensitiveFieldName(name);
}

/** A field's label in the page's language, from the catalogue; its own name where the catalogue has none. */
export function fieldLabel(typeCode: string, name: string, lang: Lang): string {
  const title = fieldOrder(typeCode).titles.get(name);
  if (!title) return name;
  return lang === 'en' ? (title.en ?? name) : title.zh;
}

const degrees: Record<string, [string, string]> = {
  bachelor: ['学士', 'Bachelor'],
  master: ['硕士', 'Master'],
  doctor: ['博士', 'Doctor'],
};

function formatValue(typeCode: string, name: string, value: unknown, lang: Lang): string {
  const pick = (pair: [string, string]) => (lang === 'en' ? pair[1] : pair[0]);
  if (typeCode === 'degree-certificate' && name === 'degree' && typeof value === 'string' && degrees[value]) {
    return pick(degrees[value]);
  }
  if (typeCode === 'professional-qualification' && name === 'level' && typeof value === 'number') {
    return lang === 'en' ? `Level ${value}` : `${value} 级`;
  }
  if (typeCode === 'real-estate-title' && name === 'area' && typeof value === 'number') {
    return lang === 'en' ? `${value} m²` : `${value} 平方米`;
  }
  if (isMoney(value)) {
    try {
      return new Intl.NumberFormat(lang === 'en' ? 'en' : 'zh-CN', {
        style: 'currency',
        currency: value.currency,
      }).format(value.amount);
    } catch {
      return `${value.amount} ${value.currency}`;
    }
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .map(([key, inner]) => `${key}: ${typeof inner === 'object' ? JSON.stringify(inner) : String(inner)}`)
      .join('; ');
  }
  return String(value);
}

function isMoney(value: unknown): value is { amount: number; currency: string } {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { amount?: unknown }).amount === 'number' &&
    typeof (value as { currency?: unknown }).currency === 'string'
  );
}

const statusWords: Record<string, [string, string]> = {
  valid: ['有效', 'Valid'],
  suspended: ['已暂停', 'Suspended'],
  revoked: ['已吊销', 'Revoked'],
  expired: ['已过期', 'Expired'],
};

/** The status's words and the badge class of app.css (`valid`, `suspended`, `revoked`, `expired`). */
export function statusBadge(status: string, t: Translate): { text: string; className: string } {
  const words = statusWords[status];
  return words ? { text: t(words[0], words[1]), className: status } : { text: status, className: 'unknown' };
}

/** Valid first, then what may soon be usable again (suspended), then what never will be. */
const statusRank: Record<string, number> = { valid: 0, suspended: 1, expired: 2, revoked: 3 };

/**
 * The wallet's order: valid licences first (what a person came to show), then the others by how far
 * they are from usable; within a status, the newest first, so a reissued licence tops its old one.
 *
 * @example
 * ```ts
 * walletOrder([revoked, valid]).map((l) => l.status); // ['valid', 'revoked']
 * ```
 */
export function walletOrder<T extends Pick<WalletLicence, 'status' | 'issuedAt'>>(
  licences: readonly T[],
): T[] {
  const rank = (status: string) => statusRank[status] ?? 4;
  return [...licences].sort(
    (a, b) => rank(a.status) - rank(b.status) || b.issuedAt.localeCompare(a.issuedAt),
  );
}

/** Fields that number a licence of their type (证书编号, 许可证编号…), by preference. */
const numberFields = ['certificateNumber', 'permitNumber', 'cardNumber', 'archiveNumber'] as const;

/**
 * What tells two licences of one type apart on a card: the type's own number when it has one (证书编号,
 * 档案编号…), else the licence identifier; and the label to show it under.
 *
 * @example
 * ```ts
 * licenceNumber(drivingLicence, t); // { label: '档案编号', value: '110100123456' }
 * ```
 */
export function licenceNumber(
  licence: Pick<WalletLicence, 'id' | 'type' | 'fields'>,
  lang: Lang,
): { label: string; value: string } {
  for (const name of numberFields) {
    const value = licence.fields[name];
    if (typeof value === 'string' && value) return { label: fieldLabel(licence.type, name, lang), value };
  }
  return { label: lang === 'en' ? 'Licence identifier' : '证照标识', value: licence.id };
}

/**
 * What a status that is not valid means for the person, in one sentence, and how loudly to say it:
 * revoked and expired licences cannot be relied on at all (`error`), a suspended one not for now
 * (`warn`). Undefined for a valid licence.
 *
 * @example
 * ```ts
 * statusWarning('revoked', t); // { kind: 'error', text: '此证照已被发证机关吊销，不能再作为有效证照使用。' }
 * ```
 */
export function statusWarning(
  status: string,
  t: Translate,
): { kind: 'error' | 'warn'; text: string } | undefined {
  switch (status) {
    case 'valid':
      return undefined;
    case 'revoked':
      return {
        kind: 'error',
        text: t(
          '此证照已被发证机关吊销，不能再作为有效证照使用。',
          'The issuer has revoked this licence: it can no longer be used as a valid licence.',
        ),
      };
    case 'suspended':
      return {
        kind: 'warn',
        text: t(
          '此证照已被发证机关暂停，暂停期间不能作为有效证照使用。',
          'The issuer has suspended this licence: while suspended it cannot be used as a valid licence.',
        ),
      };
    case 'expired':
      return {
        kind: 'error',
        text: t(
          '此证照已过有效期，不能再作为有效证照使用，请向发证机关申请换领。',
          'This licence has expired and can no longer be used as a valid licence: ask the issuer for a new one.',
        ),
      };
    default:
      return {
        kind: 'warn',
        text: t('此证照当前不是有效状态。', 'This licence is not currently valid.'),
      };
  }
}

/** The page's language, read back from its translator. */
export const langOfTranslate = (t: Translate): Lang => (t('zh', 'en') === 'en' ? 'en' : 'zh');
