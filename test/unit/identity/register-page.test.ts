import { describe, expect, it } from 'vitest';
import { registerPageErrors, renderRegisterPage } from '../../../shared/web/pages/register-page.js';
import { translator } from '../../../shared/web/kit/i18n.js';
import { assuranceName } from '../../../shared/web/pages/assurance-words.js';

const zh = translator('zh');
const en = translator('en');

describe('the registration page', () => {
  it('is a labelled form in the site layout, in Simplified Chinese only, posting to /register', () => {
    const html = renderRegisterPage('zh');
    expect(html).toMatch(/<html lang="zh-CN">/);
    expect(html).toContain('<link rel="stylesheet" href="/assets/app.css" />');
    expect(html).not.toMatch(/<style|style=|<script/);
    // A sign-in step: the narrow card, no site navigation, the switch to English.
    expect(html).toMatch(/<main id="main" tabindex="-1" class="step">/);
    expect(html).not.toContain('<nav');
    expect(html).toMatch(/<a\s+class="lang"\s+href="\/register\?lang=en"/);
    expect(html).toMatch(/<form method="post" action="\/register" novalidate>/);
    for (const field of ['idNumber', 'name', 'password', 'passwordConfirm']) {
      expect(html).toMatch(new RegExp(`<label for="${field}">`));
      expect(html).toMatch(new RegExp(`<input\\s+id="${field}"\\s+name="${field}"`));
    }
    expect(html).toContain('<label for="idNumber">公民身份号码</label>');
    // A resident's 18 characters, or a 2017 foreigner's permanent residence card's 15 (3 letters, 12 digits).
    expect(html).toMatch(
      /id="idNumber"[^>]*autocomplete="username"[^>]*minlength="15"[^>]*pattern="\[0-9\]\{17\}\[0-9Xx\]\|\[A-Za-z\]\{3\}\[0-9\]\{12\}"/,
    );
    expect(html).toMatch(
      /id="password"[^>]*type="password"[^>]*autocomplete="new-password"[^>]*minlength="8"/,
    );
    expect(html).toMatch(/id="passwordConfirm"[^>]*autocomplete="new-password"/);
    expect(html).toContain(
      '<span class="hint" id="idNumber-hint">18 位，末位可为 X（2017 版外国人永久居留证 15 位）</span>',
    );
    // Every attribute apart from the next one.
    expect(html).not.toMatch(/="[^"]*"[a-z]/);
    expect(html).not.toMatch(/Resident ID number|Register/);
  });

  it('speaks English alone when asked, switching back to Chinese', () => {
    const html = renderRegisterPage('en');
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toContain('<label for="idNumber">Resident ID number</label>');
    expect(html).toContain(
      '<span class="hint" id="password-hint">8 to 128 characters, not containing your ID number</span>',
    );
    expect(html).toMatch(/<a\s+class="lang"\s+href="\/register\?lang=zh"/);
    expect(html).not.toMatch(/公民身份号码|注册统一/);
  });

  it('keeps the typed values, escaped, but never a password, and ties each error to its field', () => {
    const html = renderRegisterPage('zh', {
      values: { idNumber: '"><script>alert(1)</script>', name: '王<小>明' },
      errors: registerPageErrors(zh, {
        code: 'invalid_request',
        errors: [
          {
            path: 'idNumber',
            message: 'check character should be 9',
            code: 'invalid_check_character',
            params: { expected: '9' },
          },
          {
            path: 'password',
            message: 'must be 8 to 128 characters',
            code: 'too_short',
            params: { minimum: 8, maximum: 128 },
          },
        ],
      }),
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).toContain('value="王&lt;小&gt;明"');
    expect(html).toMatch(/<input\s+id="password"[^>]*aria-invalid="true"/);
    expect(html).not.toMatch(/<input\s+id="password"[^>]*value=/);
    expect(html).not.toMatch(/<input\s+id="name"[^>]*aria-invalid/);
    // The kit's summary: an alert, focused as the page loads (autofocus on a tabindex="-1" container).
    const summary = /<div[^>]*id="error-summary"[^>]*>/.exec(html)?.[0];
    expect(summary).toMatch(/class="notice error"\s+role="alert"/);
    expect(summary).toMatch(/tabindex="-1"\s+autofocus/);
    expect(html).toContain('<li><a href="#idNumber">公民身份号码：校验码应为 9</a></li>');
    expect(html).toContain('<li><a href="#password">密码：应为 8 至 128 个字符</a></li>');
    expect(html).toMatch(/<p class="field-error" id="idNumber-error">\s*公民身份号码：校验码应为 9\s*<\/p>/);
    expect(html).toMatch(/aria-describedby="idNumber-hint idNumber-error"\s+aria-invalid="true"/);
    expect(html).toMatch(/<title>错误：/);
  });

  it('says each rule from its code in the page’s language, never the API’s English message', () => {
    const errors = registerPageErrors(en, {
      code: 'invalid_request',
      errors: [
        {
          path: 'idNumber',
          message: 'check character should be 9',
          code: 'invalid_check_character',
          params: { expected: '9' },
        },
        { path: 'somethingElse', message: 'is odd', code: 'a_code_from_a_newer_api' },
        { path: 'name', message: 'must be 1 to 50 characters', code: 'too_long', params: { maximum: 50 } },
      ],
    });
    expect(errors).toEqual([
      { field: 'idNumber', message: 'Resident ID number: The check character should be 9.' },
      { message: 'This value is not accepted; please check it.' },
      { field: 'name', message: 'Name: At most 50 characters.' },
    ]);
    // In Chinese, an unknown code is a generic Chinese message, not the English one.
    const chinese = registerPageErrors(zh, {
      code: 'invalid_request',
      errors: [
        { path: 'password', message: 'must not contain the ID number', code: 'contains_id_number' },
        { path: 'phone', message: 'is odd', code: 'a_code_from_a_newer_api' },
      ],
    });
    expect(chinese).toEqual([
      { field: 'password', message: '密码：不得包含身份证号码' },
      { field: 'phone', message: '手机号码（选填）：填写的内容不被接受，请检查。' },
    ]);
    for (const error of chinese) expect(error.message).not.toMatch(/[A-Za-z]{3}/);
    expect(renderRegisterPage('en', { errors })).toMatch(/<title>Error: /);
  });

  it('explains a duplicate, a registry mismatch and a wait in the page’s language', () => {
    expect(registerPageErrors(zh, { code: 'account_exists', errors: [] })).toEqual([
      { field: 'idNumber', message: expect.stringMatching(/^该号码已注册/) },
    ]);
    expect(registerPageErrors(en, { code: 'registry_mismatch', errors: [] })).toEqual([
      { field: 'name', message: 'The name does not match the population registry.' },
    ]);
    expect(registerPageErrors(zh, { code: 'too_many_requests', errors: [], retryAfterSeconds: 42 })).toEqual([
      { message: '尝试次数过多，请在 42 秒后重试。' },
    ]);
    expect(registerPageErrors(en, { code: 'server_error', errors: [] })).toEqual([
      { message: expect.stringMatching(/could not be completed/) },
    ]);
  });

  it('shows the outcome with the masked number and the assurance level, and no form', () => {
    const registered = {
      masked: '110105********1239',
      name: '王小明',
      assurance: 'registry-verified',
    } as const;
    const html = renderRegisterPage('zh', { registered });
    expect(html).toContain('注册成功');
    expect(html).toContain('<dd>110105********1239</dd>');
    expect(html).toContain(`<dd>${assuranceName(zh, 2)}；查看电子证照需${assuranceName(zh, 3)}</dd>`);
    expect(html).not.toContain('<form');
    expect(renderRegisterPage('en', { registered })).toContain(
      `<dd>${assuranceName(en, 2)}; reading licences needs ${assuranceName(en, 3)}</dd>`,
    );
  });

  // Review finding: the page worded levels with its own text (二级（已通过人口信息核验）), apart from the
  // one table every other page uses.
  it('words each level it can register at as the assurance table does', () => {
    const levels = {
      'self-asserted': 1,
      'registry-verified': 2,
      'possession-verified': 3,
      'in-person-verified': 3,
    } as const;
    for (const [assurance, level] of Object.entries(levels)) {
      for (const [lang, t] of [
        ['zh', zh],
        ['en', en],
      ] as const) {
        const html = renderRegisterPage(lang, {
          registered: {
            masked: '110105********1239',
            name: '王小明',
            assurance: assurance as keyof typeof levels,
          },
        });
        const said = /<dt>(?:认证级别|Assurance)<\/dt>\s*<dd>([^<]*)<\/dd>/.exec(html)?.[1];
        expect(said?.split(/；|; /)[0]).toBe(assuranceName(t, level));
      }
    }
  });
});
