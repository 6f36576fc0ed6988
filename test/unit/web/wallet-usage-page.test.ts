import { describe, expect, it } from 'vitest';
import { translator } from '../../../shared/web/kit/i18n.js';
import { usageBody } from '../../../shared/web/pages/wallet-usage-page.js';
import { walletUsageEntry, walletUsageKinds } from '../../../shared/web/wallet/holder-api.js';

const zh = translator('zh');
const en = translator('en');

/** What every entry below shares: when, and the licence it is about. */
const aboutALicence = {
  at: '2026-12-05T08:00:00Z',
  licenceId: '1.2.156.3005.2.x',
  licenceType: 'driving-licence',
} as const;

/** The `href` of the link with this id, its `&amp;` read back. */
function hrefOf(html: string, id: string): string | undefined {
  const tag = [...html.matchAll(/<a\s[^>]*>/g)].map((m) => m[0]).find((a) => a.includes(`id="${id}"`));
  return tag ? /href="([^"]*)"/.exec(tag)![1]!.replace(/&amp;/g, '&') : undefined;
}

describe('the wallet’s usage page, filtered by kind', () => {
  it('says a short filtered page found none of the kind here, and offers the older entries of that kind', () => {
    // A page filtered by kind that read its bounded stretch of the record and found none (the store's cursor).
    const body = usageBody(
      zh,
      { items: [], cursor: 'MjAyNi0xMi0wNQ' },
      { older: false, action: 'shared' },
    ).value;
    expect(body).toContain('这段记录中没有此类记录，请查看更早的记录。');
    expect(body).not.toContain('您的证照尚未被使用');
    expect(hrefOf(body, 'usage-older')).toBe('/wallet/usage?action=shared&cursor=MjAyNi0xMi0wNQ');
    expect(hrefOf(body, 'usage-newest')).toBeUndefined();
  });

  it('says when no entry of the kind exists, in both languages, and links every kind', () => {
    const body = usageBody(en, { items: [] }, { older: false, action: 'presented' }).value;
    expect(body).toContain('No entries of this kind.');
    expect(hrefOf(body, 'usage-older')).toBeUndefined();
    expect(hrefOf(body, 'usage-filter-all')).toBe('/wallet/usage');
    expect(hrefOf(body, 'usage-filter-presented')).toBe('/wallet/usage?action=presented');
    for (const words of ['>All<', '>Shares<', '>Verifications<', '>Showings<'])
      expect(body.replace(/\s+/g, ''), words).toContain(words);
    const older = usageBody(zh, { items: [] }, { older: true, action: 'verified' }).value;
    expect(older).toContain('没有更早的记录。');
    expect(hrefOf(older, 'usage-newest')).toBe('/wallet/usage?action=verified');
  });
});

describe('the wallet’s usage page, a check of the printed copy', () => {
  it('says a verification was of the printed copy (PDF), and says nothing of the kind for a scanned QR code', () => {
    const entry = { ...aboutALicence, action: 'verified' as const, verdict: 'valid' };
    const page = (lang: typeof zh, format?: 'pdf') =>
      usageBody(lang, { items: [{ ...entry, ...(format && { format }) }] }, { older: false }).value;
    expect(page(zh, 'pdf')).toContain('（打印件）');
    expect(page(en, 'pdf')).toContain('(printed copy)');
    expect(page(zh)).not.toContain('打印件');
    expect(page(en)).not.toContain('printed copy');
  });
});

describe('the wallet’s usage page, an issuing agency’s read (privacy review L4)', () => {
  it('names the agency that read the licence, in both languages, and links the kind', () => {
    const entry = {
      ...aboutALicence,
      action: 'issuer_read' as const,
      issuer: { id: 'iss_1', name: '北京市公安局交通管理局' },
    };
    const page = (lang: typeof zh) => usageBody(lang, { items: [entry] }, { older: false }).value;
    const text = (html: string) => html.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
    expect(text(page(zh))).toContain('北京市公安局交通管理局 查阅了其签发给您的 机动车驾驶证');
    expect(text(page(en))).toContain('北京市公安局交通管理局 read the');
    expect(text(page(en))).toContain('it issued to you');
    expect(hrefOf(page(zh), 'usage-filter-issuer-read')).toBe('/wallet/usage?action=issuer_read');
  });
});

describe('the wallet’s usage page, a counter’s lookup and proof (review R45 F2)', () => {
  it('names the agency whose counter looked the person up or proved them, refused or not, in both languages', () => {
    const issuer = { id: 'iss_1', name: '北京市公安局交通管理局' };
    const at = '2026-12-05T08:00:00Z';
    const page = (lang: typeof zh) =>
      usageBody(
        lang,
        {
          items: [
            { at, action: 'counter_proof' as const, issuer },
            { at, action: 'counter_lookup' as const, issuer },
            { at, action: 'counter_lookup' as const, issuer, refused: true as const },
          ],
        },
        { older: false },
      ).value;
    const text = (html: string) => html.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
    expect(text(page(zh))).toContain('北京市公安局交通管理局 在窗口当面核验了您的身份');
    expect(text(page(zh))).toContain('北京市公安局交通管理局 在窗口查询了您的账户');
    expect(text(page(zh))).toContain('北京市公安局交通管理局 在窗口查询您的账户，未获通过');
    expect(text(page(en))).toContain('looked up your account at its counter');
    expect(text(page(en))).toContain('tried to look up your account at its counter, and was refused');
    // The wallet reads such entries as `GET /me/usage` answers them (an unknown kind would fail the page).
    expect(walletUsageEntry.parse({ at, action: 'counter_lookup', issuer, refused: true })).toMatchObject({
      refused: true,
    });
  });

  it('links each counter kind as a filter, marked when shown, its older page keeping it (R45 F2’s leftover)', () => {
    const issuer = { id: 'iss_1', name: '北京市公安局交通管理局' };
    const body = usageBody(
      zh,
      { items: [{ at: '2026-12-05T08:00:00Z', action: 'counter_lookup', issuer }], cursor: 'abc' },
      { older: false, action: 'counter_lookup' },
    ).value;
    expect(hrefOf(body, 'usage-filter-counter-lookup')).toBe('/wallet/usage?action=counter_lookup');
    expect(hrefOf(body, 'usage-filter-counter-proof')).toBe('/wallet/usage?action=counter_proof');
    expect(body).toMatch(/id="usage-filter-counter-lookup"\s+aria-current="page"/);
    expect(hrefOf(body, 'usage-older')).toBe('/wallet/usage?action=counter_lookup&cursor=abc');
    expect(walletUsageKinds).toContain('counter_proof');
  });
});

describe('the wallet’s usage page, a change of an enterprise’s legal representative', () => {
  it('says which side the person is on, naming the enterprise, never the other person, in both languages', () => {
    const entity = { creditCode: '91110105MA01DEM078', name: '北京示范科技有限公司' };
    const at = '2026-12-05T08:00:00Z';
    const page = (lang: typeof zh) =>
      usageBody(
        lang,
        {
          items: [
            { at, action: 'representative_changed' as const, entity, role: 'new' as const },
            { at, action: 'representative_changed' as const, entity, role: 'former' as const },
          ],
        },
        { older: false, action: 'representative_changed' },
      ).value;
    const text = (html: string) => html.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
    expect(text(page(zh))).toContain('登记机关将您登记为 北京示范科技有限公司的法定代表人');
    expect(text(page(zh))).toContain('登记机关已变更 北京示范科技有限公司的法定代表人，您不再是其法定代表人');
    expect(text(page(en))).toContain(
      'The registry recorded you as the legal representative of 北京示范科技有限公司',
    );
    expect(text(page(en))).toContain(
      'The registry recorded another legal representative of 北京示范科技有限公司: you no longer represent it',
    );
    expect(hrefOf(page(zh), 'usage-filter-representative-changed')).toBe(
      '/wallet/usage?action=representative_changed',
    );
    expect(walletUsageEntry.parse({ at, action: 'representative_changed', entity, role: 'former' })).toEqual({
      at,
      action: 'representative_changed',
      entity,
      role: 'former',
    });
  });
});
