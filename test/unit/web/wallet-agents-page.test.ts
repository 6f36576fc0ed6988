import { describe, expect, it } from 'vitest';
import { translator } from '../../../shared/web/kit/i18n.js';
import {
  agentsBody,
  appointRefusal,
  readAppointForm,
  type AgentsPageState,
} from '../../../shared/web/pages/wallet-agents-page.js';

const zh = translator('zh');
const en = translator('en');

/**
 * The agents page's words for the API's refusals of an appointment: each names the field it is about, in
 * the page's language, never the API's English message.
 */
describe('the wallet’s agents page: refusals named by field', () => {
  it('says each field error with its label, from its code', () => {
    expect(
      appointRefusal(zh, 400, {
        code: 'registry_mismatch',
        errors: [
          { path: 'name', code: 'registry_mismatch', message: 'does not match the population registry' },
        ],
      }),
    ).toEqual([{ field: 'name', message: '姓名：与人口信息登记不符。' }]);
    expect(
      appointRefusal(en, 400, {
        code: 'invalid_request',
        errors: [
          { path: 'idNumber', code: 'invalid_check_character', params: { expected: '9' }, message: 'x' },
          { path: 'expiresAt', code: 'invalid', message: 'must be in the future, at most 1098 days ahead' },
        ],
      }),
    ).toEqual([
      { field: 'idNumber', message: 'Resident ID number: The check character should be 9.' },
      { field: 'expiresAt', message: 'Appointed until: Must be after today and at most three years ahead.' },
    ]);
  });

  it('says a person already appointed, and the representative’s own number, against the ID number', () => {
    expect(appointRefusal(zh, 409, { code: 'agent_exists' })[0]).toMatchObject({
      field: 'idNumber',
      message: expect.stringMatching(/^身份证号码：此人已是本企业的经办人/),
    });
    expect(
      appointRefusal(zh, 400, {
        code: 'self_appointment',
        errors: [{ path: 'idNumber', code: 'invalid', message: 'is the representative’s own' }],
      })[0],
    ).toMatchObject({ field: 'idNumber', message: expect.stringMatching(/^身份证号码：这是您本人的号码/) });
  });

  it('says something in the page’s language when the refusal names no field it knows', () => {
    expect(appointRefusal(zh, 400, { code: 'invalid_request' })).toEqual([
      { message: '委托未能完成，请稍后再试。' },
    ]);
  });

  it('shows an appointment’s last day, as a licence’s: the day before the exclusive end, or the day of one stored at 23:59:59 (review R60)', () => {
    const agent = (agentId: string, expiresAt: string) => ({
      agentId,
      masked: '110102********0316',
      scope: ['licences:issue' as const],
      expiresAt,
      status: 'active' as const,
      appointedAt: '2026-12-06T04:00:00.000Z',
    });
    const body = agentsBody(zh, {
      entity: { name: '示范', creditCode: '91110105MA01DEM078' },
      agents: [agent('agt_new', '2027-12-06T16:00:00.000Z'), agent('agt_old', '2027-12-06T15:59:59.000Z')],
      defaultExpiry: '2027-12-06',
      latestExpiry: '2029-12-05',
    }).toString();
    const untilDays = [
      ...body.matchAll(/<dt>有效期至<\/dt>\s*<dd><time datetime="([^"]*)">([^<]*)<\/time>/g),
    ].map((match) => [match[1], match[2]]);
    expect(untilDays).toEqual([
      ['2027-12-06', '2027-12-06'],
      ['2027-12-06', '2027-12-06'],
    ]);
  });

  it('lists agents by masked number only, and escapes what the API answers', () => {
    const body = agentsBody(zh, {
      entity: { name: '<b>示范</b>', creditCode: '91110105MA01DEM078' },
      agents: [
        {
          agentId: 'agt_1',
          masked: '110102********0316',
          scope: ['licences:issue'],
          expiresAt: '2027-12-06T15:59:59.000Z',
          status: 'active',
          appointedAt: '2026-12-06T04:00:00.000Z',
        },
      ],
      defaultExpiry: '2027-12-06',
      latestExpiry: '2029-12-05',
    }).toString();
    expect(body).toContain('110102********0316');
    expect(body).toContain('办理发证');
    expect(body).toContain('href="/wallet/agents/agt_1/withdraw"');
    expect(body).not.toContain('<b>示范</b>');
  });

  // Review finding: the end day was `<input type="date">` (mm/dd/yyyy in an English Chromium, whatever
  // the page's language), and the server took any text Date.parse took: `2027-02-30` went on to the API
  // as `2027-02-30T23:59:59+08:00`. It is typed as text now, read as the console reads its days.
  describe('the end day, typed as text', () => {
    const form = { idNumber: '110105199003071239', name: '赵立新', scope: ['licences:issue'] };

    it('reads 年月日, slashes and eight digits as YYYY-MM-DD', () => {
      for (const typed of ['2027-03-05', '2027年3月5日', '2027/3/5', '20270305', ' 2027.3.5 ']) {
        expect(readAppointForm(zh, { ...form, expiresAt: typed })).toEqual({
          errors: [],
          expiresOn: '2027-03-05',
        });
      }
    });

    it('refuses a day that is none, naming the field, and a blank one as missing', () => {
      for (const typed of ['2027-02-30', '3/5/2027', '2027-3', 'next year']) {
        expect(readAppointForm(zh, { ...form, expiresAt: typed })).toEqual({
          errors: [
            { field: 'expiresAt', message: '委托有效期至：请按“年-月-日”填写有效日期，如 2026-03-05。' },
          ],
          expiresOn: undefined,
        });
      }
      expect(readAppointForm(en, { ...form, expiresAt: '2027-02-30' }).errors).toEqual([
        {
          field: 'expiresAt',
          message: 'Appointed until: Enter a real date as YYYY-MM-DD, such as 2026-03-05.',
        },
      ]);
      expect(readAppointForm(zh, { ...form, expiresAt: ' ' }).errors).toEqual([
        { field: 'expiresAt', message: '委托有效期至：请填写此项。' },
      ]);
    });

    it('is a text input in the page’s format, the latest day in its hint, a refused day kept as typed', () => {
      const body = agentsBody(en, {
        entity: { name: '示范', creditCode: '91110105MA01DEM078' },
        agents: [],
        defaultExpiry: '2027-12-06',
        latestExpiry: '2029-12-05',
        values: { name: '赵立新', scope: ['licences:issue'], expiresAt: '2027-02-30' },
        errors: [
          {
            field: 'expiresAt',
            message: 'Appointed until: Enter a real date as YYYY-MM-DD, such as 2026-03-05.',
          },
        ],
      }).toString();
      const input = /<input\s+id="expiresAt"[^>]*>/s.exec(body)?.[0] ?? '';
      expect(input).toMatch(/type="text"/);
      expect(input).toMatch(/inputmode="numeric"/);
      expect(input).toMatch(/placeholder="YYYY-MM-DD"/);
      expect(input).toMatch(/value="2027-02-30"/);
      expect(input).toMatch(/aria-invalid="true"/);
      expect(body).not.toContain('type="date"');
      expect(body).toContain('At most three years (by 2029-12-05); it lapses on that day. As YYYY-MM-DD');
      expect(body).toMatch(
        /<p class="field-error" id="expiresAt-error">\s*Appointed until: Enter a real date/,
      );
    });
  });

  it('offers signing in as the enterprise at other platforms as a scope of its own, unticked, and names it in the list', () => {
    const state: AgentsPageState = {
      entity: { name: '示范', creditCode: '91110105MA01DEM078' },
      agents: [
        {
          agentId: 'agt_2',
          masked: '110102********0316',
          scope: ['licences', 'sign-in'],
          expiresAt: '2027-12-06T15:59:59.000Z',
          status: 'active',
          appointedAt: '2026-12-06T04:00:00.000Z',
        },
      ],
      defaultExpiry: '2027-12-06',
      latestExpiry: '2029-12-05',
    };
    const body = agentsBody(zh, state).toString();
    const box = /<input[^>]*value="sign-in"[^>]*>/.exec(body)?.[0];
    expect(box).toBeDefined();
    expect(box).not.toContain('checked');
    expect(body).toContain('代表企业登录其他平台（');
    // The list names both scopes of the appointment.
    expect(body).toContain('使用企业证照、代表企业登录其他平台');
    expect(agentsBody(en, { ...state, agents: [] }).toString()).toContain(
      'Sign in as the enterprise at other platforms',
    );
  });
});
