import { describe, expect, it } from 'vitest';
import { translator } from '../../../shared/web/kit/i18n.js';
import { authorizationsBody } from '../../../shared/web/pages/wallet-authorizations-page.js';
import { pageView } from '../../../shared/web/pages/interaction-html.js';
import { sharingConsentPage } from '../../../shared/web/pages/sharing-consent-page.js';

const zh = translator('zh');
const en = translator('en');

const share = {
  id: 'g_share',
  kind: 'licence_access' as const,
  client: { id: 'cl_8Hk2mQ0xV3', name: '交管业务平台' },
  licenceTypes: ['driving-licence'],
  purpose: '办理车辆登记',
  grantedAt: '2026-12-01T09:30:00.000Z',
  expiresAt: '2026-12-31T09:30:00.000Z',
};

/** The text of the page's one card, tags dropped. */
const cardText = (html: string) =>
  /<article[\s\S]*?<\/article>/
    .exec(html)![0]
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');

describe('the wallet’s card of a share (review R34 M1)', () => {
  it('lists what its grant gives besides the licences: the ID number, access while away', () => {
    const text = cardText(
      authorizationsBody(zh, {
        items: [{ ...share, scopes: ['openid', 'profile', 'idcard', 'offline_access'] }],
      }).value,
    );
    expect(text).toContain('同时获得');
    expect(text).toContain('姓名或企业名称');
    expect(text).toContain('身份证号（敏感个人信息）');
    expect(text).toContain('在您离开后继续访问');
  });

  it('names no ID number when the share holds none, in either language', () => {
    const zhText = cardText(
      authorizationsBody(zh, { items: [{ ...share, scopes: ['openid', 'profile'] }] }).value,
    );
    expect(zhText).toContain('同时获得');
    expect(zhText).not.toContain('身份证号');
    const enText = cardText(
      authorizationsBody(en, { items: [{ ...share, scopes: ['openid', 'profile'] }] }).value,
    );
    expect(enText).toContain('Also given');
    expect(enText).not.toContain('ID number');
  });
});

/**
 * A share ends at an instant; the wallet and the consent page print the last day it covers by the
 * licences' rule (review R60, shared/validity-dates.ts): a share asked to end at 00:00 Beijing time on
 * 04-01 covers none of 04-01, and reads "至 03-31" on both pages, where it read 04-01 before.
 */
describe('a share’s last day, as a licence’s (review R60)', () => {
  it('the wallet lists a share ending at 00:00 Beijing time until the day before, and one ending later that day until it', () => {
    const untilOf = (expiresAt: string) =>
      /有效期至 (\S+)/.exec(
        cardText(authorizationsBody(zh, { items: [{ ...share, scopes: ['openid'], expiresAt }] }).value),
      )?.[1];
    expect(untilOf('2026-03-31T16:00:00.000Z')).toBe('2026-03-31');
    expect(untilOf('2026-03-31T15:59:59.000Z')).toBe('2026-03-31');
    expect(untilOf('2026-03-31T09:30:00.000Z')).toBe('2026-03-31');
  });

  it('the consent page says the same last day for a platform’s expires_at at 00:00 Beijing time', () => {
    const consent = (lang: 'zh' | 'en') =>
      sharingConsentPage(
        pageView(lang, () => '#'),
        {
          uid: 'u1',
          clientName: '交管业务平台',
          details: [
            {
              type: 'licence_access',
              licence_types: ['driving-licence'],
              actions: ['read'],
              purpose: '办理车辆登记',
              expires_at: '2026-04-01T00:00:00+08:00',
            },
          ],
          alsoReleased: [],
          now: new Date('2026-03-01T16:00:00.000Z'),
        },
      );
    expect(consent('zh')).toContain('至 2026年3月31日（30 天）');
    expect(consent('en')).toContain('Until 31 March 2026 (30 days)');
  });
});
