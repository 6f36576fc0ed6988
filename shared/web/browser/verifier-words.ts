/**
 * The words and tones of the verifier page, kept apart from the DOM so that they can be tested in Node:
 * what each verdict is called and what it means, how dates, ages and the data's freshness read, and which
 * licence fields are shown under which label.
 *
 * @packageDocumentation
 */
import type { VerificationResult, Verdict, VerdictReason } from '@elicence/verifier';
import { isSensitiveFieldName, withoutSensitiveFields } from '../../identifiers/sensitive-field-names.js';
import { chinaTimeFormatter } from '../kit/china-time.js';

export type PageLang = 'zh' | 'en';

/** The page's language, from `<html lang>`: English only when the server rendered it in English. */
export function pageLang(htmlLang: string | null | undefined): PageLang {
  return htmlLang?.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

/**
 * ok: green; warn: amber (the licence is genuine but not usable now); bad: red (do not accept); unknown:
 * grey, neither (the saved data cannot confirm it: connect and scan again).
 */
export type Tone = 'ok' | 'warn' | 'bad' | 'unknown';

export interface VerdictWords {
  tone: Tone;
  /** A glyph beside the words, so that colour is never the only signal. */
  icon: string;
  /** The verdict in a word or two: 有效, 已吊销… */
  title: string;
  /** What the verifier should make of it, in one sentence. */
  advice: string;
}

const verdictTable: Record<Verdict, { tone: Tone; zh: [string, string]; en: [string, string] }> = {
  valid: {
    tone: 'ok',
    zh: ['有效', '签名正确，证照在有效期内，状态正常。'],
    en: ['Valid', 'The signature checks out, the licence is in force and its status is good.'],
  },
  suspended: {
    tone: 'warn',
    zh: ['已暂停', '发证机关已暂停此证照，目前不能作为有效证照使用。'],
    en: ['Suspended', 'The issuer has suspended this licence: it cannot be relied on for now.'],
  },
  expired: {
    tone: 'warn',
    zh: ['已过期', '证照或亮证二维码已过有效期，请持证人更新或重新出示。'],
    en: ['Expired', 'The licence or the QR code shown has expired: ask the holder for a current one.'],
  },
  not_yet_valid: {
    tone: 'warn',
    zh: ['尚未生效', '证照尚未到生效日期；若刚刚签发，请检查本机时间。'],
    en: [
      'Not yet valid',
      'The licence is not in force yet; if it was just issued, check this device’s clock.',
    ],
  },
  revoked: {
    tone: 'bad',
    zh: ['已吊销', '发证机关已吊销此证照，不能接受。'],
    en: ['Revoked', 'The issuer has revoked this licence: do not accept it.'],
  },
  invalid_signature: {
    tone: 'bad',
    zh: ['签名无效', '数字签名不正确，证照可能被篡改或伪造，不能接受。'],
    en: ['Invalid signature', 'The digital signature does not verify: the licence may be forged or altered.'],
  },
  unknown_issuer: {
    tone: 'bad',
    zh: ['未知发证机关', '签发者不在信任列表中（或已被撤销信任），或无权签发此证照，不能接受。'],
    en: [
      'Unknown issuer',
      'The signer is not (or no longer) on the trust list, or may not issue this licence: do not accept it.',
    ],
  },
  malformed: {
    tone: 'bad',
    zh: ['不是电子证照', '读到的内容不是电子证照或亮证二维码。'],
    en: ['Not an e-licence', 'What was read is not an e-licence or a licence QR code.'],
  },
  // The saved status list or trust list has expired (or was never had): the signature held, the status
  // cannot be confirmed. Not green (it may be revoked), not red (it may be fine): connect and scan again.
  unknown: {
    tone: 'unknown',
    zh: [
      '无法确认：请联网更新',
      '签名正确，但本机保存的状态数据已过期，无法确认证照是否已被吊销或暂停。请联网后重新扫描；在此之前不要作为有效证照接受。',
    ],
    en: [
      'Cannot confirm: connect to refresh',
      'The signature checks out, but the saved status data has expired, so whether the licence was revoked or suspended cannot be confirmed. Connect and scan again; until then do not accept it as valid.',
    ],
  },
};

const icons: Record<Tone, string> = { ok: '✓', warn: '!', bad: '✕', unknown: '?' };

/**
 * The tone, icon and words of a verdict in the page's language.
 *
 * @example
 * ```ts
 * verdictWords('revoked', 'zh'); // { tone: 'bad', icon: '✕', title: '已吊销', advice: '发证机关已吊销此证照，不能接受。' }
 * ```
 */
export function verdictWords(verdict: Verdict, lang: PageLang): VerdictWords {
  const entry = verdictTable[verdict];
  const [title, advice] = entry[lang];
  return { tone: entry.tone, icon: icons[entry.tone], title, advice };
}

/**
 * Words of the reasons that change what a clerk should do under one verdict: an expired QR code (ask for
 * a fresh one: the licence may be fine) is not an expired licence (do not accept); a QR code dated in the
 * future points at this device's clock.
 */
const reasonTable: Partial<
  Record<VerdictReason, { tone: Tone; zh: [string, string]; en: [string, string] }>
> = {
  presentation_expired: {
    tone: 'warn',
    zh: [
      '二维码已超时',
      '这个亮证二维码的有效时间已过，证照本身不一定有问题。请持证人在手机上刷新，出示新的二维码后再扫。',
    ],
    en: [
      'QR code timed out',
      'This QR code’s time ran out; the licence itself may be fine. Ask the holder to refresh it on their phone and scan the new code.',
    ],
  },
  licence_expired: {
    tone: 'bad',
    zh: ['证照已过期', '证照本身已过有效期，不能作为有效证照接受。请持证人向发证机关申请换领。'],
    en: [
      'Licence expired',
      'The licence itself has expired: do not accept it as valid. The holder must ask the issuer for a new one.',
    ],
  },
  trust_list_expired: {
    tone: 'unknown',
    zh: [
      '无法确认：请联网更新',
      '本机保存的信任列表（可信发证机关的名单）已过期，无法确认发证机关和证照状态。请联网后重新扫描；在此之前不要作为有效证照接受。',
    ],
    en: [
      'Cannot confirm: connect to refresh',
      'The saved trust list (the trusted issuers) has expired, so neither the issuer nor the licence’s status can be confirmed. Connect and scan again; until then do not accept it as valid.',
    ],
  },
  presentation_not_yet_valid: {
    tone: 'warn',
    zh: ['二维码时间异常', '二维码的出示时间晚于本机时间。请检查本机的日期和时间，然后重新扫描。'],
    en: [
      'QR code from the future',
      'The QR code was made later than this device’s time. Check this device’s date and time, then scan again.',
    ],
  },
};

/**
 * The tone, icon and words of a verification result: by its reason where the reason changes what to
 * do (an expired QR code versus an expired licence), else by its verdict.
 *
 * @example
 * ```ts
 * resultWords({ verdict: 'expired', reason: 'presentation_expired' }, 'zh').title; // '二维码已超时'
 * resultWords({ verdict: 'expired', reason: 'licence_expired' }, 'zh').title; // '证照已过期'
 * ```
 */
export function resultWords(
  result: Pick<VerificationResult, 'verdict' | 'reason'>,
  lang: PageLang,
): VerdictWords {
  const entry = reasonTable[result.reason];
  if (!entry) return verdictWords(result.verdict, lang);
  const [title, advice] = entry[lang];
  return { tone: entry.tone, icon: icons[entry.tone], title, advice };
}

/**
 * What kind of QR code was scanned, for the clerk: a live presentation (亮证码: made on the holder's phone
 * moments ago, expiring in minutes) or the licence's static code (a printout or a copy, which anyone
 * holding the paper can show). Undefined when the input was not recognised.
 *
 * @example
 * ```ts
 * codeKind('credential', 'zh'); // { kind: 'static', label: '静态证照码', note: '…请核对持证人的身份证件。' }
 * ```
 */
export function codeKind(
  format: VerificationResult['format'],
  lang: PageLang,
): { kind: 'live' | 'static'; label: string; note: string } | undefined {
  if (format === 'presentation') {
    return lang === 'en'
      ? {
          kind: 'live',
          label: 'Live code shown from the wallet',
          note: 'Made on the holder’s phone when shown, valid for a few minutes.',
        }
      : { kind: 'live', label: '实时亮证码', note: '持证人在手机上出示时生成，几分钟内有效。' };
  }
  if (format === 'credential') {
    return lang === 'en'
      ? {
          kind: 'static',
          label: 'Static licence code (printout or copy)',
          note: 'Not a live code: anyone holding a copy can show it. Check the holder’s identity document.',
        }
      : {
          kind: 'static',
          label: '静态证照码（打印件或复制件）',
          note: '这不是实时亮证码，任何持有复制件的人都能出示。请核对出示人的身份证件。',
        };
  }
  return undefined;
}

/** The page's own sentences, by key. */
const messages = {
  scanStart: ['扫描', 'Scan'],
  scanStop: ['停止扫描', 'Stop scanning'],
  scanning: ['正在扫描：把二维码放在取景框内。', 'Scanning: hold the QR code inside the frame.'],
  scanAnother: ['再扫一个', 'Scan another'],
  verifyAnother: ['核验下一个', 'Verify another'],
  scanningNext: [
    '连续扫描中：下一个二维码会替换当前结果。',
    'Scanning continuously: the next QR code replaces this result.',
  ],
  cameraDenied: [
    '无法使用摄像头（未获授权或没有摄像头）。可以改为上传照片或粘贴内容。',
    'The camera cannot be used (no permission or no camera). Upload a photo or paste the text instead.',
  ],
  cameraUnsupported: [
    '此浏览器不支持摄像头扫码。可以改为上传照片或粘贴内容。',
    'This browser cannot scan with the camera. Upload a photo or paste the text instead.',
  ],
  reading: ['正在识别图片中的二维码…', 'Looking for a QR code in the photo…'],
  noQrInImage: [
    '图片中没有找到二维码。请拍得更近、更清楚，或改为粘贴内容。',
    'No QR code was found in the photo. Take it closer and sharper, or paste the text instead.',
  ],
  imageUnreadable: ['无法打开这张图片。', 'This image cannot be opened.'],
  emptyPaste: ['请先粘贴二维码内容。', 'Paste the QR text first.'],
  verifying: ['正在核验…', 'Verifying…'],
  noTrustData: [
    '还没有信任列表（可信发证机关的名单），无法核验。请联网后打开本页一次，之后断网也能核验。',
    'There is no trust list yet, so nothing can be verified. Open this page once while online; it then works offline.',
  ],
  trustListExpired: [
    '无法确认：本机保存的信任列表已过期，不能再用于核验。请联网更新后再扫描。',
    'Cannot confirm: the saved trust list has expired and can no longer be used. Connect to refresh, then scan again.',
  ],
  verifyFailed: ['核验未能完成，请重试。', 'The verification could not be completed. Try again.'],
  refreshing: ['正在更新信任列表和状态列表…', 'Updating the trust list and status lists…'],
  refreshFailed: [
    '未能更新全部数据，继续使用已保存的数据。',
    'Not all the data could be updated; the saved data is used.',
  ],
  online: [
    '在线：每次核验前都会获取最新的证照状态。',
    'Online: the latest statuses are fetched before each verification.',
  ],
  offline: [
    '离线（无法连接服务）：使用已保存的数据核验。',
    'Offline (the service cannot be reached): verifying with the saved data.',
  ],
  // Card labels.
  licenceType: ['证照类型', 'Licence type'],
  holder: ['持证人', 'Holder'],
  holderNumber: ['证件号码', 'ID / credit code'],
  issuer: ['发证机关', 'Issuer'],
  validity: ['有效期', 'Validity'],
  licenceId: ['证照编号', 'Licence number'],
  presentedAt: ['出示时间', 'Shown at'],
  codeKind: ['二维码类型', 'Kind of code'],
  revokedAt: ['吊销时间', 'Revoked on'],
  revokedAtUnknown: [
    '核验数据不含吊销时间（状态列表只标明“已吊销”），如需请向发证机关查询。',
    'Not in the verification data (the status list says only “revoked”); ask the issuer if needed.',
  ],
  fields: ['证照信息', 'Licence details'],
  noExpiry: ['长期有效', 'no expiry'],
  checkedAt: ['核验时间', 'Checked at'],
  personHolder: ['个人', 'person'],
  entityHolder: ['单位', 'entity'],
} as const satisfies Record<string, readonly [string, string]>;

export type MessageKey = keyof typeof messages;

/**
 * A sentence of the page in its language.
 *
 * @example
 * ```ts
 * message('scanStart', 'en'); // 'Scan'
 * ```
 */
export function message(key: MessageKey, lang: PageLang): string {
  return messages[key][lang === 'en' ? 1 : 0];
}

/**
 * How long ago, in words: 刚刚 / just now under a minute, then minutes, hours, days.
 *
 * @example
 * ```ts
 * formatAge(150, 'zh'); // '2 分钟前'
 * formatAge(7200, 'en'); // '2 hours ago'
 * ```
 */
export function formatAge(seconds: number, lang: PageLang): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return lang === 'en' ? 'just now' : '刚刚';
  const [n, zh, en] =
    s < 3600
      ? [Math.floor(s / 60), '分钟', 'minute']
      : s < 86_400
        ? [Math.floor(s / 3600), '小时', 'hour']
        : [Math.floor(s / 86_400), '天', 'day'];
  return lang === 'en' ? `${n} ${en}${n === 1 ? '' : 's'} ago` : `${n} ${zh}前`;
}

/**
 * A moment as people there read it: `2025年3月1日 14:05` / `1 Mar 2025, 14:05`; `dateOnly` drops the time.
 * Beijing time unless another zone is given, as the wallet and the console show it and as licences are
 * dated, whatever zone the verifying device is set to.
 *
 * @example
 * ```ts
 * formatTime('2025-03-01T06:05:00Z', 'en', { timeZone: 'Asia/Shanghai' }); // '1 Mar 2025, 14:05'
 * ```
 */
export function formatTime(
  iso: string | number,
  lang: PageLang,
  options: { dateOnly?: boolean; timeZone?: string } = {},
): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return chinaTimeFormatter(lang === 'en' ? 'en-GB' : 'zh-CN', {
    dateStyle: lang === 'en' ? 'medium' : 'long',
    ...(options.dateOnly ? {} : { timeStyle: 'short' }),
    ...(options.timeZone && { timeZone: options.timeZone }),
    hourCycle: 'h23',
  }).format(date);
}

/** What the page knows of each licence type, rendered by the server from the catalogue. */
export interface CatalogueEntry {
  name: { zh: string; en: string };
  /** Field labels (Chinese, as the catalogue titles them), by field name. */
  labels: Record<string, string>;
  /** The same in English (the catalogue's `x-title-en`); a field without one is named from its key. */
  labelsEn?: Record<string, string>;
  /** Fields that mean nothing to a person (keyed lookup hashes): never shown. */
  hidden: string[];
}
export type PageCatalogue = Record<string, CatalogueEntry>;

/**
 * The licence type's name; the code itself when the catalogue does not know it (a newer type).
 *
 * @example
 * ```ts
 * licenceTypeName('driving-licence', catalogue, 'zh'); // '机动车驾驶证'
 * ```
 */
export function licenceTypeName(code: string, catalogue: PageCatalogue, lang: PageLang): string {
  return catalogue[code]?.name[lang] ?? code;
}

/** `vehicleClass` → `Vehicle class`: an English label where the catalogue has only Chinese titles. */
function humanise(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function displayValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(displayValue).join('、');
  if (typeof value === 'object') return Object.values(value).map(displayValue).join(' ');
  return String(value);
}

/**
 * The disclosed fields as label/value rows, in the order the token lists them, without the hidden ones
 * (lookup keys, and any field named as an ID number or lookup key). In English a field's label is its
 * humanised name, since the catalogue titles are Chinese.
 *
 * @example
 * ```ts
 * fieldRows('driving-licence', { vehicleClass: 'C1' }, catalogue, 'zh'); // [{ label: '准驾车型', value: 'C1' }]
 * ```
 */
export function fieldRows(
  type: string,
  fields: Record<string, unknown>,
  catalogue: PageCatalogue,
  lang: PageLang,
): Array<{ label: string; value: string }> {
  const entry = catalogue[type];
  // By the catalogue's marking and, fail-safe, by the name: a type that forgot it, or one unknown here.
  const shown = (key: string) => !entry?.hidden.includes(key) && !isSensitiveFieldName(key);
  return Object.entries(fields)
    .filter(([key]) => shown(key))
    .map(([key, value]) => ({
      label: lang === 'en' ? (entry?.labelsEn?.[key] ?? humanise(key)) : (entry?.labels[key] ?? key),
      value: displayValue(withoutSensitiveFields(value)),
    }));
}

/** How fresh the data behind a verdict was, and whether the page could refresh it first. */
export interface VerdictContext {
  /** The store was synced just before this verdict. */
  refreshed: boolean;
  /** The service could not be reached (the browser is offline, or the network failed). */
  offline: boolean;
}

/**
 * The sentence under a verdict about the data it rests on: nothing to add when the statuses were fetched
 * just now; otherwise how old they are, whether that is past their time to live, and why no fresh copy
 * was had (offline, or the service could not be reached). The caveat that a recent suspension or
 * revocation may not show is left out under a `revoked` verdict (an expired status list still answers
 * `revoked`): revocation is final, so newer data cannot change it, and the caveat would only cast doubt
 * on a verdict that holds.
 *
 * @example
 * ```ts
 * freshnessNote({ verdict: 'valid', stale: true, dataAge: 3600 }, { refreshed: false, offline: true }, 'en');
 * // 'Offline verdict from saved data updated 1 hour ago. The data is older than its time to live: …'
 * ```
 */
export function freshnessNote(
  result: Pick<VerificationResult, 'stale' | 'dataAge'> & { verdict?: Verdict },
  context: VerdictContext,
  lang: PageLang,
): string | undefined {
  if (context.refreshed && !result.stale) return undefined;
  const age = result.dataAge === undefined ? undefined : formatAge(result.dataAge, lang);
  const parts: string[] = [];
  if (context.offline) {
    parts.push(
      lang === 'en'
        ? `Offline verdict from saved data${age ? ` updated ${age}` : ''}.`
        : `离线核验，依据${age ? ` ${age}更新的` : '已保存的'}数据。`,
    );
  } else if (!context.refreshed) {
    parts.push(
      lang === 'en'
        ? `The data could not be updated: verdict from saved data${age ? ` updated ${age}` : ''}.`
        : `未能更新数据，依据${age ? ` ${age}更新的` : '已保存的'}数据核验。`,
    );
  }
  if (result.stale && result.verdict !== 'revoked') {
    parts.push(
      lang === 'en'
        ? 'The data is older than its time to live: a recent suspension or revocation may not show. Verify again online.'
        : '数据已超过有效缓存时间，最近的暂停或吊销可能未反映，请联网后重新核验。',
    );
  }
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/**
 * The line about the saved data: when the trust list and the oldest status list were fetched.
 *
 * @example
 * ```ts
 * dataFreshnessLine({ trustListAt: t, statusListsAt: t, statusLists: 2 }, now, 'zh');
 * // '信任列表更新于 2025年3月1日 14:05（刚刚）；状态列表（2 个）更新于 …'
 * ```
 */
export function dataFreshnessLine(
  data: { trustListAt: number; statusListsAt: number | undefined; statusLists: number } | undefined,
  now: number,
  lang: PageLang,
  timeZone?: string,
): string {
  if (!data) return lang === 'en' ? 'No trust list saved yet.' : '尚未保存信任列表。';
  const when = (at: number) =>
    `${formatTime(at, lang, timeZone ? { timeZone } : {})} (${formatAge((now - at) / 1000, lang)})`;
  const whenZh = (at: number) =>
    `${formatTime(at, lang, timeZone ? { timeZone } : {})}（${formatAge((now - at) / 1000, lang)}）`;
  if (lang === 'en') {
    const lists =
      data.statusListsAt === undefined
        ? 'no status lists'
        : `status lists (${data.statusLists}) updated ${when(data.statusListsAt)}`;
    return `Trust list updated ${when(data.trustListAt)}; ${lists}.`;
  }
  const lists =
    data.statusListsAt === undefined
      ? '没有状态列表'
      : `状态列表（${data.statusLists} 个）更新于 ${whenZh(data.statusListsAt)}`;
  return `信任列表更新于 ${whenZh(data.trustListAt)}；${lists}。`;
}
