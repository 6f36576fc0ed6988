import { describe, expect, it } from 'vitest';
import {
  registerPageErrors,
  registerPageHeaders,
  renderRegisterPage,
} from '../../../shared/identity/register-page.js';

describe('the registration page', () => {
  it('is a labelled form in Simplified Chinese with English, posting to /register, with no external asset or script', () => {
    const html = renderRegisterPage();
    expect(html).toMatch(/<html lang="zh-CN">/);
    expect(html).toMatch(/<form method="post" action="\/register"/);
    for (const field of ['idNumber', 'name', 'password', 'passwordConfirm']) {
      expect(html).toMatch(new RegExp(`<label for="${field}">`));
      expect(html).toMatch(new RegExp(`<input id="${field}" name="${field}"`));
    }
    expect(html).toContain('公民身份号码');
    expect(html).toContain('lang="en">Resident ID number');
    expect(html).not.toMatch(/<script|\bsrc=|<link|https?:\/\//);
    expect(registerPageHeaders['content-security-policy']).toMatch(/default-src 'none'/);
  });

  it('keeps the typed values, escaped, but never a password, and ties each error to its field', () => {
    const html = renderRegisterPage({
      values: { idNumber: '"><script>alert(1)</script>', name: '王<小>明' },
      errors: registerPageErrors({
        code: 'invalid_request',
        errors: [
          { path: 'idNumber', message: 'check character should be 9' },
          { path: 'password', message: 'must be 8 to 128 characters' },
        ],
      }),
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).toContain('value="王&lt;小&gt;明"');
    expect(html).toMatch(/<input id="password" name="password" type="password"[^>]*aria-invalid="true"/);
    expect(html).not.toMatch(/<input id="password"[^>]*value=/);
    expect(html).toMatch(/role="alert"/);
    expect(html).toMatch(
      /<li><a href="#idNumber">公民身份号码有误 · Resident ID number: check character should be 9<\/a><\/li>/,
    );
    expect(html).toMatch(/aria-describedby="idNumber-hint idNumber-error" aria-invalid="true"/);
    expect(html).toContain('check character should be 9');
    expect(html).toMatch(/<title>错误：/);
  });

  it('explains a duplicate and a registry mismatch in both languages', () => {
    expect(registerPageErrors({ code: 'account_exists', errors: [] })).toEqual([
      { field: 'idNumber', message: expect.stringMatching(/已注册.*already exists/) },
    ]);
    expect(registerPageErrors({ code: 'registry_mismatch', errors: [] })).toEqual([
      { field: 'name', message: expect.stringMatching(/不符.*does not match the population registry/) },
    ]);
  });

  it('shows the outcome with the masked number and the assurance level, and no form', () => {
    const html = renderRegisterPage({
      registered: { masked: '110105********1239', name: '王小明', assurance: 'registry-verified' },
    });
    expect(html).toContain('注册成功');
    expect(html).toContain('110105********1239');
    expect(html).toContain('Checked against the population registry');
    expect(html).not.toContain('<form');
  });
});
