import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { agencyHeadToken, appointClerk, clerkConsole } from '../../support/clerks.js';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { buildDependencies } from '../../../functions/composition/dependencies.js';
import { counterClerkDailyCaps } from '../../../shared/config.js';
import { postJson, scanItems } from '../../support/http-api.js';
import { outbox } from '../../support/in-memory-sms.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import type { UserAgent } from '../../support/user-agent.js';

/**
 * The console's counter page (当面核验, `/console/counter`: review R28 M2) over HTTP: a clerk appointed
 * with `accounts:prove-in-person` finds a person's account by ID number and name, sees it masked, and
 * proves them in person with a new proven phone; each refusal named by its field, in Chinese or English.
 */
/** The `<input>` element whose id is `id`, as served. */
function inputOf(page: string, id: string): string {
  const found = new RegExp(`<input\\s[^>]*\\bid="${id}"[^>]*>`, 's').exec(page);
  expect(found, id).not.toBeNull();
  return found![0];
}

describe('the counter page of the issuer console', () => {
  let runtime: TestRuntime;
  let counter: UserAgent;
  let issueOnly: UserAgent;
  const person = registryPeople[12]!;
  const masked = `${person.idNumber.slice(0, 6)}********${person.idNumber.slice(14)}`;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    const head = await agencyHeadToken(runtime);
    const creditCode = runtime.credentials.issuer.creditCode;
    const clerk = await appointClerk(runtime, head, creditCode, registryPeople[16]!, [
      'licences:issue',
      'accounts:prove-in-person',
    ]);
    // Clerks the population registry knows (an appointment's name is checked against it).
    const other = await appointClerk(runtime, head, creditCode, registryPeople[17]!);
    counter = (await clerkConsole(runtime, clerk)).ua;
    issueOnly = (await clerkConsole(runtime, other)).ua;
    const registered = await postJson(runtime, '/accounts', undefined, {
      consent: true,
      idNumber: person.idNumber,
      name: person.name,
      password: 'Counter-Person-2026',
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
  });
  afterAll(() => runtime?.close());

  it('finds the account masked, refuses a wrong name naming it, and proves the person with a new phone', async () => {
    const blank = await counter.request('/console/counter');
    expect(blank.status).toBe(200);
    const form = await blank.text();
    expect(form).toContain('<h1>当面核验</h1>');
    expect(form).toContain('href="/console/counter"');

    const wrongName = await counter.request('/console/counter', {
      form: { step: 'find', idNumber: person.idNumber, name: '别人' },
    });
    expect(wrongName.status).toBe(400);
    const wrongNamePage = await wrongName.text();
    expect(wrongNamePage).toContain('姓名：与人口库中该身份证号的姓名不符。');
    // The kit's labelled input, as the other pages' (labelledInput): the error between the label and the
    // input, which it describes; the name kept, and marked required.
    const nameField = inputOf(wrongNamePage, 'name');
    expect(nameField).toMatch(/aria-describedby="name-error"/);
    expect(nameField).toMatch(/aria-invalid="true"/);
    expect(nameField).toMatch(/value="别人"/);
    expect(nameField).toMatch(/\brequired\b/);
    expect(wrongNamePage.indexOf('id="name-error"')).toBeLessThan(wrongNamePage.indexOf('id="name"'));
    expect(inputOf(wrongNamePage, 'idNumber')).not.toMatch(/aria-invalid/);
    const badNumber = await counter.request('/console/counter', {
      form: { step: 'find', idNumber: '110105199003071238', name: person.name },
    });
    expect(badNumber.status).toBe(400);
    expect(await badNumber.text()).toContain(
      '身份证号：号码有误，应为 18 位，末位可为 X（2017 版外国人永久居留证 15 位）。',
    );

    const found = await counter.request('/console/counter', {
      form: { step: 'find', idNumber: person.idNumber, name: person.name },
    });
    expect(found.status).toBe(200);
    const shown = await found.text();
    expect(shown).toMatch(new RegExp(`id="counter-masked">${masked.replace(/\*/g, '\\*')}<`));
    expect(shown).toContain('二级');
    // The optional fields' hints describe them (before, a paragraph under the input no reader tied to it).
    expect(inputOf(shown, 'phone')).toMatch(/aria-describedby="phone-hint"/);
    expect(inputOf(shown, 'phone')).not.toMatch(/\brequired\b/);
    expect(inputOf(shown, 'password')).toMatch(/aria-describedby="password-hint"/);
    expect(inputOf(shown, 'password')).toMatch(/type="password"/);

    // Not ticked: the box is named; the password not typed and no new phone: the choice is named.
    const unticked = await counter.request('/console/counter', {
      form: { step: 'prove', idNumber: person.idNumber, name: person.name, provenPhone: 'keep' },
    });
    expect(unticked.status).toBe(400);
    const untickedPage = await unticked.text();
    expect(untickedPage).toContain('核对身份证：请先当面核对本人与居民身份证，再勾选。');
    expect(untickedPage).toContain('id="counter-masked"');

    // A new phone: first a code texted to it, the form again with the code's field (review R30 H1).
    const setPhone = {
      step: 'prove',
      idNumber: person.idNumber,
      name: person.name,
      checkedIdCard: 'yes',
      provenPhone: 'set',
      phone: person.phone,
    };
    const phoneMasked = `${person.phone.slice(3, 6)}****${person.phone.slice(-4)}`;
    const sent = await counter.request('/console/counter', { form: setPhone });
    expect(sent.status).toBe(200);
    const sentPage = await sent.text();
    expect(sentPage).toContain(`已向 ${phoneMasked} 发送短信验证码`);
    expect(sentPage).toContain('id="code"');
    expect(sentPage).not.toContain('已完成当面核验');
    const code = (await outbox(runtime)).filter((m) => m.to === person.phone).at(-1)?.code;
    expect(code).toMatch(/^\d{6}$/);
    const wrong = await counter.request('/console/counter', {
      form: { ...setPhone, code: code === '000000' ? '111111' : '000000' },
    });
    expect(wrong.status).toBe(400);
    const wrongPage = await wrong.text();
    expect(wrongPage).toContain('短信验证码：错误或已过期，请重新发送。');
    expect(wrongPage).not.toContain('已完成当面核验');
    const proved = await counter.request('/console/counter', { form: { ...setPhone, code: code! } });
    expect(proved.status).toBe(200);
    const done = await proved.text();
    expect(done).toContain('已完成当面核验');
    expect(done).toContain(
      `已将 ${phoneMasked} 设为已验证手机号：已经运营商核验登记在本人名下，本人已输入发送到该号码的短信验证码。`,
    );
    expect(done).toContain('id="counter-done-took-over"');
    expect(done).not.toContain(person.idNumber);
    expect(done).not.toContain(person.phone);
  });

  it('says so to a clerk whose appointment does not include it, in English too', async () => {
    const refused = await issueOnly.request('/console/counter?lang=en', {
      form: { step: 'find', idNumber: person.idNumber, name: person.name },
    });
    expect(refused.status).toBe(403);
    const page = await refused.text();
    expect(page).toContain('<h1>Prove a person in person</h1>');
    expect(page).toContain('Your appointment does not include “Prove in person”');
  });
  it("tells a clerk at the day's cap to come back tomorrow, in their language (review R30 L1)", async () => {
    const head = await agencyHeadToken(runtime);
    const busy = (
      await clerkConsole(
        runtime,
        await appointClerk(runtime, head, runtime.credentials.issuer.creditCode, registryPeople[18]!, [
          'licences:issue',
          'accounts:prove-in-person',
        ]),
      )
    ).ua;
    const find = { form: { step: 'find', idNumber: person.idNumber, name: person.name } };
    const before = new Set((await scanItems('login-attempts#counter-day#lookups#')).map((i) => i.pk));
    expect((await busy.request('/console/counter', find)).status).toBe(200);
    // The clerk's day filled, as 300 lookups would.
    const [day] = (await scanItems('login-attempts#counter-day#lookups#'))
      .map((i) => i.pk)
      .filter((pk) => !before.has(pk));
    const deps = buildDependencies(runtime.config);
    try {
      await deps.doc.send(
        new UpdateCommand({
          TableName: runtime.config.tableName,
          Key: { pk: day, sk: 'login-attempts' },
          UpdateExpression: 'SET failures = :cap',
          ExpressionAttributeValues: { ':cap': counterClerkDailyCaps.lookups },
        }),
      );
    } finally {
      deps.doc.destroy();
      deps.kms.destroy();
    }
    const refused = await busy.request('/console/counter', find);
    expect(refused.status).toBe(429);
    expect(await refused.text()).toContain('您今日的当面核验已达上限');
    const english = await busy.request('/console/counter?lang=en', find);
    expect(english.status).toBe(429);
    expect(await english.text()).toContain('You reached today’s limit at the counter');
  });
});
