import { describe, expect, it } from 'vitest';
import { verdicts } from '../../../packages/verifier/src/verdict.js';
import { decodeSizes, maxDecodeSide } from '../../../shared/web/browser/verifier-qr.js';
import { summarise } from '../../../shared/web/browser/verifier-trust.js';
import {
  dataFreshnessLine,
  fieldRows,
  formatAge,
  formatTime,
  freshnessNote,
  licenceTypeName,
  message,
  pageLang,
  codeKind,
  resultWords,
  verdictWords,
  type PageCatalogue,
} from '../../../shared/web/browser/verifier-words.js';
import { verifierCatalogue } from '../../../shared/web/pages/verifier-page.js';

describe('verdict words', () => {
  it('gives each verdict its tone, icon and the agreed words in both languages', () => {
    const expected = {
      valid: ['ok', '有效', 'Valid'],
      suspended: ['warn', '已暂停', 'Suspended'],
      expired: ['warn', '已过期', 'Expired'],
      not_yet_valid: ['warn', '尚未生效', 'Not yet valid'],
      revoked: ['bad', '已吊销', 'Revoked'],
      invalid_signature: ['bad', '签名无效', 'Invalid signature'],
      unknown_issuer: ['bad', '未知发证机关', 'Unknown issuer'],
      malformed: ['bad', '不是电子证照', 'Not an e-licence'],
      // Neither green nor red: the saved data cannot confirm it.
      unknown: ['unknown', '无法确认：请联网更新', 'Cannot confirm: connect to refresh'],
    } as const;
    expect(Object.keys(expected).sort()).toEqual([...verdicts].sort());
    for (const verdict of verdicts) {
      const [tone, zh, en] = expected[verdict];
      expect(verdictWords(verdict, 'zh')).toMatchObject({ tone, title: zh });
      expect(verdictWords(verdict, 'en')).toMatchObject({ tone, title: en });
      expect(verdictWords(verdict, 'zh').advice).not.toBe(verdictWords(verdict, 'en').advice);
    }
  });

  it('never lets colour alone tell the tones apart: each tone has its own icon', () => {
    const icons = new Map(verdicts.map((v) => [verdictWords(v, 'zh').tone, verdictWords(v, 'zh').icon]));
    expect(new Set(icons.values()).size).toBe(4);
  });

  it('says what cannot be confirmed, status or trust list, as neither green nor red', () => {
    for (const reason of ['status_unknown', 'trust_list_expired'] as const) {
      for (const lang of ['zh', 'en'] as const) {
        const words = resultWords({ verdict: 'unknown', reason }, lang);
        expect(words.tone).toBe('unknown');
        expect(words.icon).toBe('?');
      }
    }
    expect(resultWords({ verdict: 'unknown', reason: 'trust_list_expired' }, 'zh').advice).toContain(
      '信任列表',
    );
    expect(resultWords({ verdict: 'unknown', reason: 'status_unknown' }, 'en').advice).toContain(
      'Connect and scan again',
    );
  });

  it('tells an expired QR code (amber: show a fresh one) from an expired licence (red: refuse)', () => {
    const code = resultWords({ verdict: 'expired', reason: 'presentation_expired' }, 'zh');
    const licence = resultWords({ verdict: 'expired', reason: 'licence_expired' }, 'zh');
    expect(code).toMatchObject({ tone: 'warn', title: '二维码已超时' });
    expect(licence).toMatchObject({ tone: 'bad', title: '证照已过期' });
    expect(resultWords({ verdict: 'expired', reason: 'licence_expired' }, 'en').title).toBe(
      'Licence expired',
    );
    // Other reasons keep their verdict's words.
    expect(resultWords({ verdict: 'revoked', reason: 'status_revoked' }, 'zh')).toEqual(
      verdictWords('revoked', 'zh'),
    );
  });

  it('names a static (printable) code and a live presentation apart', () => {
    expect(codeKind('credential', 'zh')?.kind).toBe('static');
    expect(codeKind('presentation', 'en')?.kind).toBe('live');
    expect(codeKind(undefined, 'zh')).toBeUndefined();
  });

  it('reads the page language from <html lang>, Chinese unless English', () => {
    expect(pageLang('en')).toBe('en');
    expect(pageLang('en-GB')).toBe('en');
    expect(pageLang('zh-CN')).toBe('zh');
    expect(pageLang('')).toBe('zh');
    expect(pageLang(null)).toBe('zh');
    expect(message('scanStart', 'zh')).toBe('扫描');
    expect(message('scanStart', 'en')).toBe('Scan');
  });
});

describe('times and ages', () => {
  it('says how long ago in words', () => {
    expect(formatAge(0, 'zh')).toBe('刚刚');
    expect(formatAge(59, 'en')).toBe('just now');
    expect(formatAge(60, 'en')).toBe('1 minute ago');
    expect(formatAge(150, 'zh')).toBe('2 分钟前');
    expect(formatAge(7200, 'en')).toBe('2 hours ago');
    expect(formatAge(3 * 86_400 + 5, 'zh')).toBe('3 天前');
    expect(formatAge(-5, 'en')).toBe('just now');
  });

  it('formats moments in the reader’s language, and leaves what is no date as it is', () => {
    const at = '2025-03-01T06:05:00Z';
    expect(formatTime(at, 'en', { timeZone: 'Asia/Shanghai' })).toBe('1 Mar 2025, 14:05');
    expect(formatTime(at, 'zh', { timeZone: 'Asia/Shanghai' })).toBe('2025年3月1日 14:05');
    expect(formatTime(at, 'zh', { timeZone: 'Asia/Shanghai', dateOnly: true })).toBe('2025年3月1日');
    expect(formatTime('not a date', 'en')).toBe('not a date');
    // Beijing time by default, whatever zone the device is set to (as the wallet and console show times).
    expect(formatTime(at, 'zh')).toBe('2025年3月1日 14:05');
    expect(formatTime('2025-02-28T16:30:00Z', 'zh', { dateOnly: true })).toBe('2025年3月1日');
  });
});

describe('freshness', () => {
  it('adds nothing when the data was refreshed just before the verdict', () => {
    expect(freshnessNote({ stale: false }, { refreshed: true, offline: false }, 'zh')).toBeUndefined();
  });

  it('says a verdict is offline, from data of what age, and warns when the data is past its ttl', () => {
    const offline = freshnessNote({ stale: false, dataAge: 30 }, { refreshed: false, offline: true }, 'zh');
    expect(offline).toBe('离线核验，依据 刚刚更新的数据。');
    const stale = freshnessNote({ stale: true, dataAge: 3600 }, { refreshed: false, offline: true }, 'en');
    expect(stale).toContain('Offline verdict from saved data updated 1 hour ago.');
    expect(stale).toContain('older than its time to live');
    const failed = freshnessNote({ stale: false, dataAge: 120 }, { refreshed: false, offline: false }, 'zh');
    expect(failed).toBe('未能更新数据，依据 2 分钟前更新的数据核验。');
    // Refreshed yet stale cannot happen with a working service, but if it did it must still be said.
    expect(freshnessNote({ stale: true }, { refreshed: true, offline: false }, 'zh')).toContain('超过');
  });

  it('summarises the saved data by its oldest status list', () => {
    const snapshot = {
      version: 1 as const,
      platformKeys: { keys: [], fetchedAt: 1 },
      trustList: { jws: 'x', fetchedAt: 5000 },
      statusLists: [
        { jws: 'a', fetchedAt: 4000 },
        { jws: 'b', fetchedAt: 3000 },
      ],
    };
    expect(summarise(snapshot)).toEqual({ trustListAt: 5000, statusListsAt: 3000, statusLists: 2 });
    expect(summarise({ ...snapshot, statusLists: [] })?.statusListsAt).toBeUndefined();
    expect(summarise(undefined)).toBeUndefined();
  });

  it('writes the freshness line of the saved data', () => {
    const now = Date.parse('2025-03-01T06:10:00Z');
    const data = { trustListAt: now - 5 * 60_000, statusListsAt: now - 90 * 60_000, statusLists: 2 };
    expect(dataFreshnessLine(data, now, 'zh', 'Asia/Shanghai')).toBe(
      '信任列表更新于 2025年3月1日 14:05（5 分钟前）；状态列表（2 个）更新于 2025年3月1日 12:40（1 小时前）。',
    );
    expect(dataFreshnessLine(data, now, 'en', 'Asia/Shanghai')).toBe(
      'Trust list updated 1 Mar 2025, 14:05 (5 minutes ago); status lists (2) updated 1 Mar 2025, 12:40 (1 hour ago).',
    );
    expect(dataFreshnessLine(undefined, now, 'zh')).toBe('尚未保存信任列表。');
  });
});

describe('licence data on the card', () => {
  const catalogue = JSON.parse(verifierCatalogue()) as PageCatalogue;

  it('names licence types from the catalogue the page carries, and unknown ones by their code', () => {
    expect(licenceTypeName('driving-licence', catalogue, 'zh')).toBe('机动车驾驶证');
    expect(licenceTypeName('driving-licence', catalogue, 'en')).toBe('Driving licence');
    expect(licenceTypeName('space-licence', catalogue, 'zh')).toBe('space-licence');
  });

  it('labels fields, shows nested values, and hides lookup keys', () => {
    const business = catalogue['business-licence'];
    expect(business?.hidden.length).toBeGreaterThan(0);
    const hidden = business?.hidden[0] ?? '';
    const rows = fieldRows(
      'business-licence',
      { entityType: '有限责任公司', registeredCapital: { amount: 500000, currency: 'CNY' }, [hidden]: 'mac' },
      catalogue,
      'zh',
    );
    expect(rows).toEqual([
      { label: '类型', value: '有限责任公司' },
      { label: '注册资本', value: '500000 CNY' },
    ]);
    expect(fieldRows('driving-licence', { vehicleClass: 'C1' }, catalogue, 'en')).toEqual([
      { label: 'Permitted vehicle class', value: 'C1' },
    ]);
    // The catalogue's English titles; a field it does not title is named from its key.
    expect(fieldRows('driving-licence', { colour: 'red' }, catalogue, 'en')).toEqual([
      { label: 'Colour', value: 'red' },
    ]);
    expect(fieldRows('space-licence', { orbit: ['LEO', 'GEO'] }, catalogue, 'zh')).toEqual([
      { label: 'orbit', value: 'LEO、GEO' },
    ]);
  });

  it('labels a masked number with the title of the number it masks', () => {
    const business = catalogue['business-licence'];
    const maskedLabels = Object.entries(business?.labels ?? {}).filter(([key]) => /masked/i.test(key));
    expect(maskedLabels.length).toBeGreaterThan(0);
    for (const [, label] of maskedLabels) expect(label).toContain('身份证件号码');
  });
});

describe('photo decoding sizes', () => {
  it('tries a large photo capped, then smaller, keeping its shape', () => {
    expect(decodeSizes(4032, 3024)).toEqual([
      [maxDecodeSide, 1536],
      [1200, 900],
      [800, 600],
      [480, 360],
    ]);
  });

  it('never enlarges a small image, and tries it at its own size first', () => {
    expect(decodeSizes(330, 330)).toEqual([[330, 330]]);
    expect(decodeSizes(1000, 500)).toEqual([
      [1000, 500],
      [800, 400],
      [480, 240],
    ]);
    expect(decodeSizes(0, 0)).toEqual([]);
  });
});
