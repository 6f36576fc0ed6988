import { createHash } from 'node:crypto';
import type { Assurance } from './person-account.js';

/** What the form shows: the values typed (never the password), the errors by field, or the result. */
export interface RegisterPageState {
  values?: { idNumber?: string; name?: string };
  /** `field` is one of the form's input names, or absent for a form-wide message. */
  errors?: ReadonlyArray<{ field?: 'idNumber' | 'name' | 'password' | 'passwordConfirm'; message: string }>;
  registered?: { masked: string; name: string; assurance: Assurance };
}

const style = `
:root { color-scheme: light dark; font-family: system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
body { margin: 0; line-height: 1.6; background: Canvas; color: CanvasText; }
main { max-width: 32rem; margin: 0 auto; padding: 2rem 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
.en { display: block; font-size: .9em; opacity: .85; }
label { display: block; font-weight: 600; margin-top: 1.25rem; }
.hint { display: block; font-size: .875rem; opacity: .85; }
input { display: block; box-sizing: border-box; width: 100%; margin-top: .25rem; padding: .6rem; font-size: 1rem;
  border: 2px solid #555; border-radius: 4px; background: Field; color: FieldText; }
input[aria-invalid="true"] { border-color: #b00020; }
input:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 2px; }
.error { color: #b00020; font-weight: 600; }
@media (prefers-color-scheme: dark) { .error, input[aria-invalid="true"] { color: #ff8a80; border-color: #ff8a80; } }
.summary { border: 3px solid #b00020; padding: .75rem 1rem; margin: 1rem 0; }
.summary h2, .done h2 { font-size: 1.125rem; margin: 0 0 .5rem; }
.done { border: 3px solid #2e7d32; padding: .75rem 1rem; margin: 1rem 0; }
button { margin-top: 1.5rem; padding: .7rem 1.5rem; font-size: 1rem; font-weight: 600; border: 0; border-radius: 4px;
  background: #1a5fb4; color: #fff; cursor: pointer; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; } dt { font-weight: 600; } dd { margin: 0; }
`;

/** The CSP source of the one inline style: no external assets, no script at all. */
const styleHash = `'sha256-${createHash('sha256').update(style).digest('base64')}'`;

/** Response headers of the page: no caching, no framing, nothing loaded from elsewhere. */
export const registerPageHeaders: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': `default-src 'none'; style-src ${styleHash}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

const fields = {
  idNumber: { zh: '公民身份号码', en: 'Resident ID number' },
  name: { zh: '姓名', en: 'Name' },
  password: { zh: '密码', en: 'Password' },
  passwordConfirm: { zh: '确认密码', en: 'Confirm password' },
} as const;
type Field = keyof typeof fields;

const assuranceText: Record<Assurance, string> = {
  'registry-verified': '已通过人口信息核验 <span lang="en">Checked against the population registry</span>',
  'self-asserted':
    '本人声明，未经人口信息核验 <span lang="en">Self-asserted, not checked against the population registry</span>',
};

function bilingual(label: { zh: string; en: string }): string {
  return `${label.zh} <span class="en" lang="en">${label.en}</span>`;
}

function input(
  field: Field,
  attributes: string,
  hint: string | undefined,
  value: string | undefined,
  errors: readonly string[],
): string {
  const described = [hint ? `${field}-hint` : '', errors.length > 0 ? `${field}-error` : '']
    .filter(Boolean)
    .join(' ');
  return `
      <label for="${field}">${bilingual(fields[field])}</label>
      ${hint ? `<span class="hint" id="${field}-hint">${hint}</span>` : ''}
      ${
        errors.length > 0
          ? `<span class="error" id="${field}-error">${errors.map(escapeHtml).join('<br>')}</span>`
          : ''
      }
      <input id="${field}" name="${field}" ${attributes}${value !== undefined ? ` value="${escapeHtml(value)}"` : ''}${
        described ? ` aria-describedby="${described}"` : ''
      }${errors.length > 0 ? ' aria-invalid="true"' : ''} required>`;
}

/**
 * The registration page (`GET /register`, and the answer to `POST /register`): a plain HTML form in
 * Simplified Chinese with English, every input labelled, errors listed in a summary that links to each
 * field and repeated beside it (`aria-describedby`), the typed ID number and name kept, the password
 * never echoed. No script, no external asset.
 *
 * @example
 * ```ts
 * renderRegisterPage({ values: { idNumber: '1101', name: '王小明' }, errors: [{ field: 'idNumber', message: '…' }] });
 * ```
 */
export function renderRegisterPage(state: RegisterPageState = {}): string {
  const errors = state.errors ?? [];
  const errorsOf = (field: Field) => errors.filter((e) => e.field === field).map((e) => e.message);
  const summary =
    errors.length === 0
      ? ''
      : `
    <div class="summary" role="alert" aria-labelledby="summary-title" tabindex="-1">
      <h2 id="summary-title">请更正以下问题 <span class="en" lang="en">Please correct the following</span></h2>
      <ul>
        ${errors
          .map((e) =>
            e.field
              ? `<li><a href="#${e.field}">${escapeHtml(e.message)}</a></li>`
              : `<li>${escapeHtml(e.message)}</li>`,
          )
          .join('\n        ')}
      </ul>
    </div>`;
  const done = state.registered
    ? `
    <section class="done" role="status" aria-labelledby="done-title">
      <h2 id="done-title">注册成功 <span class="en" lang="en">Registration complete</span></h2>
      <dl>
        <dt>${fields.idNumber.zh}</dt><dd>${escapeHtml(state.registered.masked)}</dd>
        <dt>${fields.name.zh}</dt><dd>${escapeHtml(state.registered.name)}</dd>
        <dt>认证级别</dt><dd>${assuranceText[state.registered.assurance]}</dd>
      </dl>
      <p>现在可以使用身份证号码和密码登录各政务服务平台。<span class="en" lang="en">You can now sign in to government service platforms with your ID number and password.</span></p>
    </section>`
    : '';
  const form = state.registered
    ? ''
    : `
    <form method="post" action="/register" novalidate>
      ${input(
        'idNumber',
        'type="text" autocomplete="username" autocapitalize="characters" spellcheck="false" minlength="18" maxlength="18" pattern="[0-9]{17}[0-9Xx]"',
        '18 位，末位可为 X <span lang="en">18 characters; the last may be X</span>',
        state.values?.idNumber,
        errorsOf('idNumber'),
      )}
      ${input(
        'name',
        'type="text" autocomplete="name" maxlength="50"',
        '与身份证件一致 <span lang="en">As on your identity card</span>',
        state.values?.name,
        errorsOf('name'),
      )}
      ${input(
        'password',
        'type="password" autocomplete="new-password" minlength="8" maxlength="128"',
        '8 至 128 个字符，不得包含身份证号码 <span lang="en">8 to 128 characters, not containing your ID number</span>',
        undefined,
        errorsOf('password'),
      )}
      ${input('passwordConfirm', 'type="password" autocomplete="new-password" maxlength="128"', undefined, undefined, errorsOf('passwordConfirm'))}
      <button type="submit">注册 <span lang="en">Register</span></button>
    </form>`;
  return `<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${errors.length > 0 ? '错误：' : ''}注册统一身份认证账号 · Register</title>
  <style>${style}</style>
</head>
<body>
  <main>
    <h1>注册统一身份认证账号 <span class="en" lang="en">Register for unified identity sign-in</span></h1>
    <p>一个账号，登录所有政务服务平台。<span class="en" lang="en">One account for every government service platform.</span></p>${summary}${done}${form}
  </main>
</body>
</html>
`;
}

const fieldPrefix: Record<Field, string> = {
  idNumber: '公民身份号码有误',
  name: '姓名有误',
  password: '密码不符合要求',
  passwordConfirm: '确认密码有误',
};

/**
 * The page's errors for a refused registration: the `errors[]` of `registerPerson`'s 400, the registry
 * mismatch and the duplicate in both languages. Anything else gets one form-wide message.
 */
export function registerPageErrors(error: {
  code: string;
  errors: ReadonlyArray<{ path: string; message: string }>;
}): NonNullable<RegisterPageState['errors']> {
  switch (error.code) {
    case 'account_exists':
      return [
        {
          field: 'idNumber',
          message:
            '该号码已注册账号，请直接登录 · An account with this ID number already exists; sign in instead',
        },
      ];
    case 'registry_mismatch':
      return [
        {
          field: 'name',
          message: '姓名与人口信息登记不符 · The name does not match the population registry',
        },
      ];
    case 'invalid_request':
      return error.errors.map((e) => {
        const field = e.path in fields ? (e.path as Field) : undefined;
        return field
          ? { field, message: `${fieldPrefix[field]} · ${fields[field].en}: ${e.message}` }
          : { message: e.message };
      });
    default:
      return [
        { message: '注册未能完成，请稍后再试 · Registration could not be completed; please try again later' },
      ];
  }
}
