import { describe, expect, it } from 'vitest';
import { translator } from '../../../shared/web/kit/i18n.js';
import {
  agentsBody,
  appointRefusal,
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
      today: '2026-12-06',
      defaultExpiry: '2027-12-06',
      latestExpiry: '2029-12-05',
    }).toString();
    expect(body).toContain('110102********0316');
    expect(body).toContain('办理发证');
    expect(body).toContain('href="/wallet/agents/agt_1/withdraw"');
    expect(body).not.toContain('<b>示范</b>');
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
      today: '2026-12-06',
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
