import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agencyHead } from '../../../infra/local/demo-data.js';
import { provenAccount } from '../../support/clerks.js';
import { runFlow } from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * The wallet's agents forms (经办人) refused by their schema, over real HTTP: a name longer than the form
 * takes, or typed in another encoding than UTF-8, used to answer a bare error page naming the field; the
 * person lost what they typed. Now the same page again, 400, the name, the scopes and the day kept (the ID
 * number never: typed again), the error summary at the top (focused) and the message at the field.
 */
let runtime: TestRuntime;
const head = { ...agencyHead, password: 'Head-Kept-2026!' };

beforeAll(async () => {
  runtime = await startTestRuntime();
  await provenAccount(runtime, head);
});
afterAll(() => runtime?.close());

/** The head, signed in to the wallet for the demo agency, in a browser of their own. */
async function headInWallet(): Promise<UserAgent> {
  const ua = new UserAgent(runtime.baseUrl);
  const creditCode = runtime.credentials.clerk.creditCode;
  const outcome = await runFlow(ua, '/wallet/login?as=entity&returnTo=%2Fwallet%2Fagents', {
    username: head.idNumber,
    password: head.password,
    entity: creditCode,
  });
  expect(outcome.page?.url.pathname).toBe('/wallet/agents');
  return ua;
}

const post = (ua: UserAgent, path: string, body: string) =>
  ua.request(path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });

function inputOf(html: string, id: string): string {
  const input = new RegExp(`<input[^>]*id="${id}"[^>]*>`).exec(html)?.[0];
  expect(input, `an input #${id}`).toBeDefined();
  return input!;
}

function expectSummaryFocused(html: string) {
  const summary = /<div[^>]*id="error-summary"[^>]*>/.exec(html)?.[0];
  expect(summary, 'the error summary').toBeDefined();
  expect(summary).toContain('autofocus');
  expect(summary).toContain('tabindex="-1"');
  expect(summary).toContain('role="alert"');
}

describe('the appointment form refused by its schema', () => {
  it('a name too long: the page again, the name, scopes and day kept, the name named at its field', async () => {
    const ua = await headInWallet();
    const longName = '欧阳'.repeat(51);
    const idNumber = '110105199003071239';
    const answered = await post(
      ua,
      '/wallet/agents',
      new URLSearchParams([
        ['idNumber', idNumber],
        ['name', longName],
        ['scope[]', 'sign-in'],
        ['expiresAt', '2027-03-05'],
      ]).toString(),
    );
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(html).toContain('<h1>经办人</h1>');
    expect(html).toContain('action="/wallet/agents"');
    // The ID number's hint says the 15-character 2017 foreigner's card too (review R70 F4).
    expect(html).toContain('身份证号码：18 位，末位可为 X（2017 版外国人永久居留证 15 位）。');
    expect(html).not.toContain('18 位居民身份证号码');
    expectSummaryFocused(html);
    expect(html).toContain('<a href="#name">姓名：最多 100 个字符。</a>');
    expect(html).toMatch(/<p class="field-error" id="name-error">\s*姓名：最多 100 个字符。/);
    expect(inputOf(html, 'name')).toContain(`value="${longName}"`);
    expect(inputOf(html, 'name')).toContain('aria-invalid="true"');
    expect(inputOf(html, 'expiresAt')).toContain('value="2027-03-05"');
    expect(inputOf(html, 'scope-sign-in')).toContain('checked');
    expect(inputOf(html, 'scope-licences-issue')).not.toContain('checked');
    // The ID number is typed again, never shown back.
    expect(html).not.toContain(idNumber);
  });

  it('a name that is not UTF-8 text (GBK): the page again, the rest kept, not an error page', async () => {
    const ua = await headInWallet();
    const answered = await post(
      ua,
      '/wallet/agents',
      'idNumber=110105199003071239&name=%C0%EE%CB%C4&scope%5B%5D=licences%3Aissue&expiresAt=2027-04-01',
    );
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(html).toContain('<h1>经办人</h1>');
    expectSummaryFocused(html);
    expect(html).toContain('<a href="#name">姓名：不得包含控制字符、&lt; &gt; 或乱码（请以 UTF-8 提交）</a>');
    expect(html).toContain('id="name-error"');
    expect(inputOf(html, 'expiresAt')).toContain('value="2027-04-01"');
    expect(html).not.toContain('110105199003071239');
  });
});

describe('the withdrawal form refused by its schema', () => {
  it('a confirmation that is not the box’s value: the confirmation again, its summary focused', async () => {
    const ua = await headInWallet();
    const list = await ua.navigate('/wallet/agents');
    const withdraw = /href="(\/wallet\/agents\/[^/"]+\/withdraw)"/.exec(list.page!.html)?.[1];
    expect(withdraw, 'the seeded clerk’s withdrawal link').toBeDefined();
    const answered = await post(ua, withdraw!, 'confirm=no');
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(html).toContain('<h1>撤销委托</h1>');
    expectSummaryFocused(html);
    expect(html).toContain('<a href="#withdraw-confirm">确认撤销：请勾选后再撤销。</a>');
  });
});

describe('the password forms refused by their schema: the page again, the password never echoed', () => {
  const garbled = 'password=%C0%EE-secret-tail';

  it('closing the account: the confirmation again, the password named at its field', async () => {
    const ua = await headInWallet();
    const answered = await post(ua, '/wallet/account/close', `${garbled}&confirm=yes`);
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(html).toContain('<h1>注销账号</h1>');
    expect(html).toContain('id="account-close-form"');
    const summary = /<div[^>]*id="account-close-error-summary"[^>]*>/.exec(html)?.[0];
    expect(summary).toContain('autofocus');
    expect(html).toContain(
      '<a href="#account-close-password">请再次输入登录密码以确认是您本人：不得包含控制字符、&lt; &gt; 或乱码（请以 UTF-8 提交）</a>',
    );
    expect(html).toContain('id="account-close-password-error"');
    expect(inputOf(html, 'account-close-password')).toContain('aria-invalid="true"');
    expect(inputOf(html, 'account-close-password')).not.toContain('value=');
    expect(html).not.toContain('secret-tail');
  });

  it('removing a passkey: the passkeys page again, the password named at its field', async () => {
    const ua = await headInWallet();
    const answered = await post(ua, '/wallet/passkeys/pk-none/remove', `password=${'x'.repeat(1025)}`);
    expect(answered.status).toBe(400);
    const html = await answered.text();
    expect(html).toContain('<h1>通行密钥</h1>');
    const summary = /<div[^>]*id="passkeys-error-summary"[^>]*>/.exec(html)?.[0];
    expect(summary).toContain('autofocus');
    expect(html).toContain('登录密码：最多 1024 个字符。');
    expect(html).not.toContain('x'.repeat(1025));
  });
});

describe('the sign-in’s entity choice with a field that is not UTF-8 text', () => {
  it('gets the chooser again, the choice refused, not a bare error page', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    const atChooser = await runFlow(ua, '/wallet/login?as=entity', {
      username: head.idNumber,
      password: head.password,
    });
    expect(atChooser.stoppedAt).toBe('entity');
    const action = /action="(\/interaction\/[^"]+\/entity)"/.exec(atChooser.page!.html)?.[1];
    expect(action).toBeDefined();
    const answered = await post(ua, action!, 'entity=%C0%EE');
    expect(answered.status).toBe(403);
    const html = await answered.text();
    expect(html).toContain(`action="${action}"`);
    expect(html).toContain('role="alert"');
    expect(html).not.toContain('invalid_characters');
  });
});
