import { describe, expect, it } from 'vitest';
import { translator } from '../../../shared/web/kit/i18n.js';
import { authorizationsBody } from '../../../shared/web/pages/wallet-authorizations-page.js';

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
