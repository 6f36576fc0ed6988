import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { expectProblem, postJson, scanItems } from '../../support/http-api.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { newIdNumber } from '../../support/in-memory-identity.js';
import { idNumberCheckCharacter } from '../../../shared/identifiers/id-number.js';

/** A body with the privacy notice agreed to (`consent`), unless it says otherwise or is not an object. */
const withConsent = (body: unknown) =>
  body !== null && typeof body === 'object' && !Array.isArray(body) && !('consent' in body)
    ? { ...body, consent: true }
    : body;

let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

const register = (body: unknown, headers: Record<string, string> = {}) =>
  postJson(runtime, '/accounts', undefined, withConsent(body), headers);

/** Every registered number and password the tests used: none may appear in an answer or in the table. */
const secrets = new Set<string>();

async function registered(body: { idNumber: string; name: string; password: string }) {
  secrets.add(body.idNumber);
  secrets.add(body.password);
  const response = await register(body);
  const text = await response.text();
  expect(response.status, text).toBe(201);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  for (const secret of secrets) expect(text).not.toContain(secret);
  return JSON.parse(text) as Record<string, unknown>;
}

const masked = (id: string) => `${id.slice(0, 6)}********${id.slice(14)}`;

describe('POST /accounts', () => {
  it('registers a person the population registry knows: 201, registry-verified, the number masked', async () => {
    const person = registryPeople[0]!;
    const body = await registered({ ...person, password: 'Li-Na-2026!' });
    expect(body).toEqual({
      masked: masked(person.idNumber),
      name: person.name,
      assurance: 'registry-verified',
    });
  });

  it('registers a person the registry does not know as self-asserted', async () => {
    const idNumber = newIdNumber();
    expect(await registered({ idNumber, name: '赵六', password: 'Zhao-Liu-2026' })).toEqual({
      masked: masked(idNumber),
      name: '赵六',
      assurance: 'self-asserted',
    });
  });

  it('accepts a lower-case x and a minority name spelled with another separator dot', async () => {
    const person = registryPeople.find((p) => p.name.includes('·'))!;
    const body = await registered({
      idNumber: person.idNumber.toLowerCase(),
      name: person.name.replace('·', '・'),
      password: 'Ayiguli-2026',
    });
    expect(body).toMatchObject({ name: person.name, assurance: 'registry-verified' });
  });

  it('refuses a second account for the same number: 409 account_exists', async () => {
    const person = registryPeople[1]!;
    await registered({ ...person, password: 'Zhang-Wei-1' });
    const problem = await expectProblem(
      await register({ ...person, password: 'Other-pass-2' }),
      409,
      'account_exists',
    );
    expect(JSON.stringify(problem)).not.toContain(person.idNumber);
  });

  it('answers a wrong name as an unknown number: 201 self-asserted, the name as given (privacy review R9, M6)', async () => {
    // Refusing a wrong name told anyone, for free and without a trace, whether a name is the population
    // registry's for a number. Now the answer is the one an unknown number gets.
    const person = registryPeople[2]!;
    const wrongName = await registered({ ...person, name: '刘海', password: 'Liu-Hai-2026' });
    const unknown = newIdNumber();
    const unknownNumber = await registered({ idNumber: unknown, name: '刘海', password: 'Liu-Hai-2026' });
    expect(wrongName).toEqual({ masked: masked(person.idNumber), name: '刘海', assurance: 'self-asserted' });
    expect(Object.keys(wrongName)).toEqual(Object.keys(unknownNumber));
    expect(unknownNumber).toEqual({ masked: masked(unknown), name: '刘海', assurance: 'self-asserted' });
  });

  it('refuses a registration without the privacy notice agreed to: 400 naming consent (R9 M4)', async () => {
    const problem = await expectProblem(
      await register({ idNumber: newIdNumber(), name: '吴同意', password: 'Wu-Agree-2026', consent: false }),
      400,
      'invalid_request',
    );
    expect(problem.errors).toEqual([
      {
        path: 'consent',
        message: 'must be true: agree to the privacy notice (GET /register shows it)',
        code: 'consent_required',
      },
    ]);
    const missing = await postJson(runtime, '/accounts', undefined, {
      idNumber: newIdNumber(),
      name: '吴同意',
      password: 'Wu-Agree-2026',
    });
    expect((await expectProblem(missing, 400, 'invalid_request')).errors).toEqual([
      expect.objectContaining({ path: 'consent', code: 'consent_required' }),
    ]);
  });

  it('refuses to register a child under 14 themselves: 400 guardian_required naming idNumber (R9 M4)', async () => {
    const china = new Date(Date.now() + 8 * 3_600_000);
    const birth = (yearsAgo: number, days: number) => {
      const date = new Date(
        Date.UTC(china.getUTCFullYear() - yearsAgo, china.getUTCMonth(), china.getUTCDate() + days),
      );
      return date.toISOString().slice(0, 10).replaceAll('-', '');
    };
    const idOf = (birthDate: string) => {
      const first17 = `310104${birthDate}123`;
      return `${first17}${idNumberCheckCharacter(first17)}`;
    };
    // 14 tomorrow: still a child.
    const child = idOf(birth(14, 1));
    const problem = await expectProblem(
      await register({ idNumber: child, name: '小明', password: 'Xiao-Ming-2026' }),
      400,
      'guardian_required',
    );
    expect(problem.errors).toEqual([
      expect.objectContaining({ path: 'idNumber', code: 'guardian_required' }),
    ]);
    expect(problem.detail).toMatch(/guardian/);
    expect(JSON.stringify(problem)).not.toContain(child);
    // 14 today: registers.
    await registered({ idNumber: idOf(birth(14, 0)), name: '小红', password: 'Xiao-Hong-2026' });
  });

  it('names each broken rule: 400 invalid_request with the failing fields', async () => {
    const problem = await expectProblem(
      await register({ idNumber: '110105199013071239', name: ' ', password: '1234567' }),
      400,
      'invalid_request',
    );
    expect(problem.errors).toEqual([
      {
        path: 'idNumber',
        message: 'birth date 19901307 is not a date',
        code: 'invalid_birth_date',
        params: { birthDate: '19901307' },
      },
      { path: 'name', message: 'must be 1 to 50 characters', code: 'required' },
      {
        path: 'password',
        message: 'must be 8 to 128 characters',
        code: 'too_short',
        params: { minimum: 8, maximum: 128 },
      },
    ]);
    const wrongCheck = await expectProblem(
      await register({ idNumber: '110105199003071230', name: '王', password: 'long-enough-1' }),
      400,
    );
    expect(wrongCheck.errors).toEqual([
      {
        path: 'idNumber',
        message: 'check character should be 9',
        code: 'invalid_check_character',
        params: { expected: '9' },
      },
    ]);
  });

  it('refuses a body that is not the JSON it expects', async () => {
    await expectProblem(await register({ idNumber: 1, name: '王' }), 400, 'invalid_request');
    await expectProblem(
      await register({ idNumber: newIdNumber(), name: '王', password: 'long-enough-1', admin: true }),
      400,
      'invalid_request',
    );
    await expectProblem(await register('{'), 400, 'malformed_json');
    await expectProblem(await register('a=b', { 'content-type': 'text/plain' }), 415);
  });

  it('keeps no registered number and no password in clear anywhere in the table', async () => {
    const table = JSON.stringify(await scanItems(''));
    expect(secrets.size).toBeGreaterThan(4);
    for (const secret of secrets) expect(table).not.toContain(secret);
    // Nor the demo citizen's and the demo clerk's, whose accounts the seed made.
    for (const person of [runtime.credentials.citizen, runtime.credentials.clerk]) {
      expect(table).not.toContain(person.idNumber);
      expect(table).not.toContain(person.password);
    }
    // The accounts are there, each under its id, and each number's claim under its lookup key.
    const accounts =
      2 /* the demo citizen and clerk */ + [...secrets].filter((s) => /^\d{17}/.test(s)).length;
    const items = await scanItems('account#');
    expect(items.filter((item) => item['sk'] === 'account')).toHaveLength(accounts);
    expect(items.filter((item) => item['sk'] === 'person')).toHaveLength(accounts);
  });
});

describe('the /register page', () => {
  const postForm = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${runtime.baseUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ consent: 'yes', ...fields }),
    });

  it('serves an HTML form with labelled inputs in the site layout, in Chinese unless English is chosen', async () => {
    const response = await fetch(`${runtime.baseUrl}/register`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    // The site's headers: its own stylesheet only, no inline style, no framing.
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('set-cookie')).toBeNull();
    const html = await response.text();
    expect(html).toMatch(/<html lang="zh-CN">/);
    expect(html).toContain('<label for="idNumber">公民身份号码</label>');
    expect(html).not.toContain('Resident ID number');
    expect(html).toContain('href="/assets/app.css"');
    expect(html).not.toMatch(/<script|<style/);

    const english = await fetch(`${runtime.baseUrl}/register?lang=en`);
    expect(english.status).toBe(200);
    expect(english.headers.get('set-cookie')).toMatch(/^lang=en;/);
    const englishHtml = await english.text();
    expect(englishHtml).toMatch(/<html lang="en">/);
    expect(englishHtml).toContain('<label for="idNumber">Resident ID number</label>');
    expect(englishHtml).not.toContain('公民身份号码');
  });

  it('shows the privacy notice, with a required box, and refuses a form without it ticked (R9 M4)', async () => {
    for (const [lang, words] of [
      ['zh', ['个人信息处理说明', '人口信息库', '运营商', '注销账号', '14 周岁']],
      [
        'en',
        [
          'How your personal information is handled',
          'population registry',
          'carrier',
          'close the account',
          'under 14',
        ],
      ],
    ] as const) {
      const html = await (await fetch(`${runtime.baseUrl}/register?lang=${lang}`)).text();
      const notice = /<section class="privacy-notice"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
      for (const word of words) expect(notice).toContain(word);
      expect(notice).toMatch(
        /<input\s+id="consent"\s+name="consent"\s+type="checkbox"\s+value="yes"\s+required/,
      );
    }
    const fields = {
      idNumber: newIdNumber(),
      name: '郑未同意',
      password: 'Zheng-2026-pass',
      passwordConfirm: 'Zheng-2026-pass',
    };
    const refused = await fetch(`${runtime.baseUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain('id="consent-error"');
    expect(html).toContain('请阅读并同意个人信息处理说明');
    expect((await postForm(fields)).status).toBe(201);
  });

  it('shows the errors and keeps the typed number and name, never the password', async () => {
    const response = await postForm({
      idNumber: '110105199003071230',
      name: '王小明',
      password: 'short',
      passwordConfirm: 'short',
    });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('value="110105199003071230"');
    expect(html).toContain('value="王小明"');
    expect(html).not.toContain('value="short"');
    expect(html).toContain('公民身份号码：校验码应为 9');
    expect(html).toContain('密码：应为 8 至 128 个字符');
    expect(html).toMatch(/role="alert"/);

    // The remembered choice of English answers the post in English.
    const english = await postForm(
      { idNumber: '110105199003071230', name: '王小明', password: 'short', passwordConfirm: 'short' },
      { cookie: 'lang=en' },
    );
    expect(english.status).toBe(400);
    const englishHtml = await english.text();
    // Said from the errors' codes, in English words of the page's own (not the API's message).
    expect(englishHtml).toContain('Resident ID number: The check character should be 9.');
    expect(englishHtml).toContain('Password: Must be 8 to 128 characters.');
    expect(englishHtml).not.toContain('校验码');
  });

  it('says when the two passwords differ, and when the number already has an account', async () => {
    const mismatch = await postForm({
      idNumber: newIdNumber(),
      name: '孙八',
      password: 'Sun-Ba-2026',
      passwordConfirm: 'Sun-Ba-2025',
    });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain('两次输入的密码不一致');

    const duplicate = await postForm({
      idNumber: runtime.credentials.citizen.idNumber,
      name: runtime.credentials.citizen.name,
      password: 'Another-pass-3',
      passwordConfirm: 'Another-pass-3',
    });
    expect(duplicate.status).toBe(409);
    expect(await duplicate.text()).toContain('该号码已注册账号');
  });

  it('registers and shows the outcome with the masked number', async () => {
    const person = registryPeople[3]!;
    secrets.add(person.idNumber);
    const response = await postForm({
      ...person,
      // No phone: one given here needs a code (test/integration/http/register-phone-code.test.ts).
      phone: '',
      password: 'Chen-Jing-2026',
      passwordConfirm: 'Chen-Jing-2026',
    });
    expect(response.status).toBe(201);
    const html = await response.text();
    expect(html).toContain('注册成功');
    expect(html).toContain(masked(person.idNumber));
    expect(html).not.toContain(person.idNumber);
    expect(html).toContain('<dd>二级（实名）；查看电子证照需三级（实名并核验本人）</dd>');
  });

  it('refuses what is not its form: too large (413), another media type (415), a cross-site fetch (403)', async () => {
    const large = await postForm({
      idNumber: 'x'.repeat(70_000),
      name: '',
      password: '',
      passwordConfirm: '',
    });
    expect(large.status).toBe(413);
    expect(await large.text()).toContain('提交的内容过大');
    const json = await fetch(`${runtime.baseUrl}/register?lang=en`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    expect(json.headers.get('content-security-policy')).toMatch(/style-src 'self'/);
    expect(await json.text()).toContain('Please submit the registration form.');
    const crossSite = await postForm(
      { ...registryPeople[5]!, password: 'Zhao-Min-2026', passwordConfirm: 'Zhao-Min-2026' },
      { 'sec-fetch-site': 'cross-site' },
    );
    expect(crossSite.status).toBe(403);
  });

  it('refuses a form posted from another site', async () => {
    const person = registryPeople[4]!;
    const response = await postForm(
      { ...person, password: 'Yang-Fan-2026', passwordConfirm: 'Yang-Fan-2026' },
      { origin: 'https://evil.example' },
    );
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('请从本站注册页面提交');
    expect(await scanItems('account#')).not.toContainEqual(expect.objectContaining({ name: person.name }));
  });
});
