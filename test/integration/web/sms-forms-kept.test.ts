import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { CarrierOfNumbers, outbox } from '../../support/in-memory-sms.js';
import { authorizationRequest, demoPlatform, runFlow, type RelyingParty } from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import { registerPerson, startRuntimeWithCarrier, uidOf } from '../../support/sharing-flows.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * The sign-in's SMS forms (the step-up to level 3, 找回密码) refused over real HTTP: the same page again,
 * 400, what was typed kept but the code and the password, the error summary at the top (focused when the
 * page loads, `autofocus`) and the message at the field, in Chinese. A field that is not UTF-8 text (a
 * browser set to GBK) gets the same page, not a bare error page.
 */

let runtime: TestRuntime;
let platform: RelyingParty;
const carrier = new CarrierOfNumbers();
const browser = () => new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/demo/callback`]);
const person = {
  idNumber: newIdNumber(),
  name: '李保留',
  phone: '+8613912340077',
  password: 'kept-pass-1-secret',
};

beforeAll(async () => {
  runtime = await startRuntimeWithCarrier(carrier);
  platform = await demoPlatform(runtime);
  await registerPerson(runtime, carrier, person);
});
afterAll(async () => {
  await runtime?.close();
});

/** The value of the input `name` on `html`, or undefined when it has none. */
function valueOf(html: string, name: string): string | undefined {
  const input = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html)?.[0];
  expect(input, `an input ${name}`).toBeDefined();
  return /\svalue="([^"]*)"/.exec(input!)?.[1];
}

/** The refused form's summary (focused) and the message at `field`, its input marked and pointing to it. */
function expectRefusedAt(html: string, field: string, label: string, message: string) {
  const summary = /<div[^>]*id="form-error"[^>]*>([\s\S]*?)<\/div>/.exec(html);
  expect(summary?.[0], 'the error summary').toMatch(/autofocus/);
  expect(summary?.[0]).toMatch(/tabindex="-1"/);
  expect(summary?.[1]).toContain('请更正以下各项：');
  expect(summary?.[1]).toContain(`<a href="#${field}">${label}：${message}`);
  expect(html).toMatch(new RegExp(`<p class="field-error" id="${field}-error">\\s*${message}`));
  const input = new RegExp(`<input[^>]*id="${field}"[^>]*>`).exec(html)?.[0];
  expect(input).toContain('aria-invalid="true"');
  expect(input).toContain(`aria-describedby="${field}-error"`);
}

async function resetPageOf(ua: UserAgent): Promise<URL> {
  const atLogin = await runFlow(ua, (await authorizationRequest(platform)).url, {});
  return new URL(`/interaction/${uidOf(atLogin.page!.html)}/reset`, runtime.baseUrl);
}

describe('找回密码 refused', () => {
  it('a wrong code: the page again, the ID number and phone kept, neither code nor new password', async () => {
    const ua = browser();
    const reset = await resetPageOf(ua);
    const answered = await ua.request(reset, {
      form: { idNumber: person.idNumber, phone: '13912340077', code: '123456', password: 'new-secret-77x' },
    });
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(html).toContain('<title>找回密码');
    expect(valueOf(html, 'idNumber')).toBe(person.idNumber);
    expect(valueOf(html, 'phone')).toBe('13912340077');
    expect(valueOf(html, 'code')).toBeUndefined();
    expect(valueOf(html, 'password')).toBeUndefined();
    expect(html).not.toContain('123456');
    expect(html).not.toContain('new-secret-77x');
    expectRefusedAt(html, 'code', '短信验证码', '验证码不正确或已失效，请重新获取。');
  });

  it('a phone that is none: named at the phone, kept as typed', async () => {
    const ua = browser();
    const reset = await resetPageOf(ua);
    const answered = await ua.request(reset, {
      form: { idNumber: person.idNumber, phone: '12345', send: '1' },
    });
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(valueOf(html, 'idNumber')).toBe(person.idNumber);
    expect(valueOf(html, 'phone')).toBe('12345');
    expectRefusedAt(html, 'phone', '手机号', '请输入正确的 11 位手机号。');
  });

  it('a new password against the rule: named at the password, which is not echoed', async () => {
    const ua = browser();
    const reset = await resetPageOf(ua);
    const answered = await ua.request(reset, {
      form: { idNumber: person.idNumber, phone: '13912340077', code: '654321', password: 'short' },
    });
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(html).not.toContain('654321');
    expect(valueOf(html, 'password')).toBeUndefined();
    expect(html).toMatch(/<a href="#password">新密码：/);
    expect(html).toContain('id="password-error"');
  });

  it('a field that is not UTF-8 text: the same page, the rest kept, not an error page', async () => {
    const ua = browser();
    const reset = await resetPageOf(ua);
    // A browser set to GBK posts the phone's full-width digits as GBK bytes.
    const answered = await ua.request(reset, {
      body: `idNumber=${person.idNumber}&phone=%A3%B1%A3%B3&code=111222&password=gbk-secret-9`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(html).toContain('<title>找回密码');
    expect(html).toContain('action="/interaction/');
    expect(valueOf(html, 'idNumber')).toBe(person.idNumber);
    expect(valueOf(html, 'phone')).toBe('');
    expect(html).not.toContain('111222');
    expect(html).not.toContain('gbk-secret-9');
    expectRefusedAt(
      html,
      'phone',
      '手机号',
      '提交的内容含有乱码（不是 UTF-8 编码的文字），请重新输入后提交。',
    );
    // Nothing was sent for it.
    expect((await outbox(runtime)).filter((m) => m.to === person.phone)).toEqual([]);
  });
});

describe('the step-up (验证本人手机) refused', () => {
  it('a wrong code: the page again, the phone kept, the code not', async () => {
    const ua = browser();
    const request = await authorizationRequest(platform, { acr_values: 'urn:elicence:loa:3' });
    const atStepUp = await runFlow(ua, request.url, { username: person.idNumber, password: person.password });
    const action = new URL(`/interaction/${uidOf(atStepUp.page!.html)}/stepup`, runtime.baseUrl);
    const answered = await ua.request(action, { form: { phone: '13912340077', code: '000999' } });
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(html).toContain('<title>验证本人手机');
    expect(valueOf(html, 'phone')).toBe('13912340077');
    expect(valueOf(html, 'code')).toBeUndefined();
    expect(html).not.toContain('000999');
    expectRefusedAt(html, 'code', '短信验证码', '验证码不正确或已失效，请重新获取。');
  });

  it('a phone that is not UTF-8 text: the step-up page again, not an error page', async () => {
    const ua = browser();
    const request = await authorizationRequest(platform, { acr_values: 'urn:elicence:loa:3' });
    const atStepUp = await runFlow(ua, request.url, { username: person.idNumber, password: person.password });
    const action = new URL(`/interaction/${uidOf(atStepUp.page!.html)}/stepup`, runtime.baseUrl);
    const answered = await ua.request(action, {
      body: 'phone=%C0%EE&send=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(html).toContain('<title>验证本人手机');
    expectRefusedAt(
      html,
      'phone',
      '手机号',
      '提交的内容含有乱码（不是 UTF-8 编码的文字），请重新输入后提交。',
    );
  });
});
