import { attr, html, type SafeHtml } from '../kit/html.js';
import { translator, type Lang, type Translate } from '../kit/i18n.js';
import { fieldErrorText, labelledFieldError, type CodedFieldError } from '../kit/field-messages.js';
import { errorSummary } from '../kit/error-summary.js';
import { renderPage } from '../kit/layout.js';
import { labelledInput } from '../kit/labelled-input.js';
import {
  codeRequestedText,
  sendCodeButton,
  smsCountdownPolicy,
  smsCountdownScripts,
  waitInWords,
  type CodeTiming,
} from './interaction-phone-pages.js';
import { assuranceLevelOf } from '../../identity/assurance.js';
import type { Assurance } from '../../identity/person-account.js';
import type { SendLimit } from '../../identity/sms-codes.js';
import { assuranceName } from './assurance-words.js';
import { pageHeaders } from './interaction-html.js';

type Field = 'idNumber' | 'name' | 'phone' | 'code' | 'password' | 'passwordConfirm';
/** Where an error may point: an input, or the consent box under the privacy notice. */
type ErrorField = Field | 'consent';

/** What the form shows: the values typed (never the password), the errors by field, or the result. */
export interface RegisterPageState {
  values?: { idNumber?: string; name?: string; phone?: string };
  /** `field` is one of the form's input names, or absent for a form-wide message. */
  errors?: ReadonlyArray<{ field?: ErrorField; message: string }>;
  registered?: { masked: string; name: string; assurance: Assurance };
  /**
   * A code was asked for (获取验证码): the same notice whether or not one went out, with the server's
   * timing (its wait before the next code is what the button counts down).
   */
  codeRequested?: CodeTiming;
  /** An ask for a code refused as too soon: the seconds the server said to wait, counted down too. */
  resendAfterSeconds?: number;
  /** The limit that refused an ask for a code: a day's cap is never counted down. */
  sendLimit?: SendLimit;
}

const labels: Record<Field, (t: Translate) => string> = {
  idNumber: (t) => t('公民身份号码', 'Resident ID number'),
  name: (t) => t('姓名', 'Name'),
  phone: (t) => t('手机号码（选填）', 'Mobile number (optional)'),
  code: (t) =>
    t('短信验证码（填写手机号码时必填）', 'Code from the text message (needed with a mobile number)'),
  password: (t) => t('密码', 'Password'),
  passwordConfirm: (t) => t('确认密码', 'Confirm password'),
};

const isField = (name: string): name is Field => Object.hasOwn(labels, name);

/** The input of each field: what browsers and password managers need to fill it, and its bounds. */
const inputs: Record<
  Field,
  {
    type: 'text' | 'password' | 'tel';
    attributes: Record<string, string | number>;
    hint?: (t: Translate) => string;
    optional?: true;
  }
> = {
  idNumber: {
    type: 'text',
    attributes: {
      autocomplete: 'username',
      autocapitalize: 'characters',
      spellcheck: 'false',
      minlength: 15,
      maxlength: 18,
      pattern: '[0-9]{17}[0-9Xx]|[A-Za-z]{3}[0-9]{12}',
    },
    hint: (t) =>
      t(
        '18 位，末位可为 X（2017 版外国人永久居留证 15 位）',
        '18 characters; the last may be X (15 on a 2017 foreigner’s permanent residence card)',
      ),
  },
  name: {
    type: 'text',
    attributes: { autocomplete: 'name', maxlength: 50 },
    hint: (t) => t('与身份证件一致', 'As on your identity card'),
  },
  phone: {
    type: 'tel',
    attributes: { autocomplete: 'tel-national', inputmode: 'tel', maxlength: 20 },
    hint: (t) =>
      t(
        '11 位手机号，例如 13912345678；须为本人实名登记的号码',
        'An 11-digit mobile number, such as 13912345678; it must be registered to you under your real name',
      ),
    optional: true,
  },
  code: {
    type: 'text',
    attributes: { autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: 6 },
    hint: (t) =>
      t(
        '先点击“获取验证码”；验证码只发送到运营商登记在您名下的号码',
        'Press “Send code” first; a code goes only to a number registered to you with its carrier',
      ),
    optional: true,
  },
  password: {
    type: 'password',
    attributes: { autocomplete: 'new-password', minlength: 8, maxlength: 128 },
    hint: (t) =>
      t('8 至 128 个字符，不得包含身份证号码', '8 to 128 characters, not containing your ID number'),
  },
  passwordConfirm: { type: 'password', attributes: { autocomplete: 'new-password', maxlength: 128 } },
};

/**
 * The level an account registered at, in the words every page uses for levels (./assurance-words.ts).
 * Levels 1 and 2 cannot read licences (level 3 by default): the page says so, so that an empty wallet is
 * no surprise.
 */
export function registeredLevelText(t: Translate, assurance: Assurance): string {
  const level = assuranceLevelOf({ assurance });
  return level >= 3
    ? assuranceName(t, level)
    : t(
        `${assuranceName(t, level)}；查看电子证照需${assuranceName(t, 3)}`,
        `${assuranceName(t, level)}; reading licences needs ${assuranceName(t, 3)}`,
      );
}

/** The seconds the 获取验证码 button counts down: after a counted ask, or a refused one's interval. */
const countdownOf = (state: RegisterPageState) =>
  state.codeRequested?.phoneIntervalSeconds ?? state.resendAfterSeconds;

/**
 * The security headers of the page showing `state`: the identity pages' own ({@link pageHeaders}), with
 * our own script only while its button counts down, and no fetch (the countdown talks to no one).
 */
export const registerPageHeaders = (state: RegisterPageState): Record<string, string> =>
  pageHeaders(undefined, { scripts: smsCountdownPolicy(countdownOf(state)) });

function field(name: Field, t: Translate, value: string | undefined, errors: readonly string[]): SafeHtml {
  const { type, attributes, hint, optional } = inputs[name];
  return labelledInput({
    name,
    label: labels[name](t),
    type,
    value,
    hint: hint?.(t),
    errors,
    attributes,
    ...(optional ? { optional } : {}),
  });
}

/**
 * The registration page (`GET /register`, and the answer to `POST /register`): a step of signing in
 * (reached from the login page), so in the site's layout without its navigation, in one language with
 * the switch. Every input is labelled; errors are listed in a summary that links to each field and
 * repeated beside it (`aria-describedby`); the typed ID number and name are kept, the password never
 * echoed. Its one script counts down the wait before the next code; the form works without it.
 *
 * @example
 * ```ts
 * renderRegisterPage('zh', { values: { idNumber: '1101', name: '王小明' }, errors: [{ field: 'idNumber', message: '…' }] });
 * ```
 */
export function renderRegisterPage(lang: Lang, state: RegisterPageState = {}): string {
  const t = translator(lang);
  const errors = state.errors ?? [];
  const errorsOf = (name: ErrorField) => errors.filter((e) => e.field === name).map((e) => e.message);
  // The kit's summary (focused on load, no script), each item a link to its field's input (ids as fields).
  const summary = errorSummary(
    t,
    'error-summary',
    errors.map((e) => ({ target: e.field, message: e.message })),
  );
  const registered = state.registered;
  const resendAfter = countdownOf(state);
  const content = registered
    ? html`<section class="notice success" role="status" aria-labelledby="done-title">
          <h2 id="done-title">${t('注册成功', 'Registration complete')}</h2>
          <dl class="fields">
            <dt>${labels.idNumber(t)}</dt>
            <dd>${registered.masked}</dd>
            <dt>${labels.name(t)}</dt>
            <dd>${registered.name}</dd>
            <dt>${t('认证级别', 'Assurance')}</dt>
            <dd>${registeredLevelText(t, registered.assurance)}</dd>
          </dl>
        </section>
        <p>
          ${t(
            '现在可以使用身份证号码和密码登录各政务服务平台。',
            'You can now sign in to government service platforms with your ID number and password.',
          )}
        </p>
        <p><a class="button" href="/wallet">${t('查看我的证照', 'Go to my licences')}</a></p>`
    : html`<form method="post" action="/register" novalidate>
        ${field('idNumber', t, state.values?.idNumber, errorsOf('idNumber'))}
        ${field('name', t, state.values?.name, errorsOf('name'))}
        ${field('phone', t, state.values?.phone, errorsOf('phone'))}
        ${sendCodeButton(t, { resendAfterSeconds: resendAfter, sendLimit: state.sendLimit })}
        ${field('code', t, undefined, errorsOf('code'))}
        ${field('password', t, undefined, errorsOf('password'))}
        ${field('passwordConfirm', t, undefined, errorsOf('passwordConfirm'))}
        ${privacyNotice(t, errorsOf('consent'))}
        <button type="submit">${t('注册', 'Register')}</button>
      </form>`;
  const title = t('注册统一身份认证账号', 'Register for unified identity sign-in');
  return renderPage({
    lang,
    path: '/register',
    // The title says first that something went wrong: it is what a screen reader announces on load.
    title: errors.length > 0 ? `${t('错误：', 'Error: ')}${title}` : title,
    section: 'home',
    hideNavigation: true,
    scripts: smsCountdownScripts(resendAfter),
    body: html`<h1>${title}</h1>
      <p class="lead">
        ${t('一个账号，登录所有政务服务平台。', 'One account for every government service platform.')}
      </p>
      ${summary} ${state.codeRequested ? requestedNotice(t, state.codeRequested) : ''} ${content}`,
  });
}

/**
 * The privacy notice (个人信息处理规则, PIPL Art. 17) and the box that agrees to it, required before 注册
 * and before 获取验证码: what is collected, why, who receives it, how long it is kept, the person's rights
 * (closing the account among them), and that children under 14 cannot register themselves.
 */
function privacyNotice(t: Translate, errors: readonly string[]): SafeHtml {
  const errorId = errors.length > 0 ? 'consent-error' : undefined;
  return html`<section class="privacy-notice" id="privacy-notice" aria-labelledby="privacy-title">
    <h2 id="privacy-title">${t('个人信息处理说明', 'How your personal information is handled')}</h2>
    <ul>
      <li>
        ${t(
          '收集：公民身份号码、姓名、密码（仅保存其不可逆摘要），以及您选填的手机号码。',
          'What: your resident ID number, name, password (kept only as a one-way hash), and the mobile number if you give one.',
        )}
      </li>
      <li>
        ${t(
          '用途：核验您的身份、让您登录各政务服务平台并查看本人的电子证照。',
          'Why: to check who you are, sign you in to government service platforms and show you your own licences.',
        )}
      </li>
      <li>
        ${t(
          '提供给：公安人口信息库（核验号码与姓名）；填写手机号码时，提供给该号码的运营商（核验号码是否登记在您名下）。',
          'Who receives it: the population registry (to check the number and name); with a mobile number, its carrier (to check it is registered to you).',
        )}
      </li>
      <li>
        ${t(
          '保存期限：账号存续期间；注销后账号信息即删除，审计记录依法留存且不含明文身份证号。',
          'How long: while the account exists; closing it deletes the account, and audit records kept as the law requires hold no ID number in clear.',
        )}
      </li>
      <li>
        ${t(
          '您的权利：在“我的证照 › 我的账号”查阅账号信息、撤回对各平台的授权，并可随时注销账号。',
          'Your rights: see what the account holds, withdraw what you let platforms read, and close the account at any time, under My licences › My account.',
        )}
      </li>
      <li>
        ${t(
          '未满 14 周岁的未成年人不能自行注册，须由监护人代为办理（暂未开放）。',
          'Children under 14 cannot register themselves; a guardian must do it for them (not offered yet).',
        )}
      </li>
    </ul>
    ${
      errorId
        ? html`<p class="field-error" id="${errorId}">
            ${errors.map((e, i) => (i > 0 ? html`<br />${e}` : e))}
          </p>`
        : ''
    }
    <label for="consent" class="checkbox">
      <input
        id="consent"
        name="consent"
        type="checkbox"
        value="yes"
        required
        ${attr('aria-describedby', errorId)}
        ${attr('aria-invalid', errorId ? 'true' : undefined)}
      />
      ${t('我已阅读并同意上述个人信息处理说明', 'I have read and agree to the notice above')}
    </label>
  </section>`;
}

/** The same notice whether or not a code went out: the form is no oracle for the carrier registry. */
function requestedNotice(t: Translate, timing: CodeTiming): SafeHtml {
  return html`<p class="notice" role="status">
    ${codeRequestedText(t, timing)}
    ${t('请填写验证码和密码后注册。', 'Enter it and a password, then register.')}
  </p>`;
}

/**
 * The page's errors for a refused registration, in the page's language: the `errors[]` of
 * `registerPerson`'s 400 (said from each `errors[].code`), the registry mismatch, the duplicate and the wait after too many attempts.
 * Anything else gets one form-wide message.
 */
export function registerPageErrors(
  t: Translate,
  error: {
    code: string;
    errors: ReadonlyArray<{ path: string; message: string } & CodedFieldError>;
    retryAfterSeconds?: number;
  },
): NonNullable<RegisterPageState['errors']> {
  switch (error.code) {
    case 'account_exists':
      return [
        {
          field: 'idNumber',
          message: t(
            '该号码已注册账号，请直接登录。',
            'An account with this ID number already exists; sign in instead.',
          ),
        },
      ];
    case 'guardian_required':
      return [{ field: 'idNumber', message: fieldErrorText(t, { code: 'guardian_required' }) }];
    case 'registry_mismatch':
      return [
        {
          field: 'name',
          message: t('姓名与人口信息登记不符。', 'The name does not match the population registry.'),
        },
      ];
    case 'too_many_requests':
      return [
        {
          message:
            error.retryAfterSeconds === undefined
              ? t('尝试次数过多，请稍后再试。', 'Too many attempts: please try again later.')
              : t(
                  `尝试次数过多，请在 ${waitInWords(t, error.retryAfterSeconds)}后重试。`,
                  `Too many attempts: try again in ${waitInWords(t, error.retryAfterSeconds)}.`,
                ),
        },
      ];
    case 'invalid_request':
      // Said from each error's code: the API's English message is never shown.
      return error.errors.map((e) =>
        isField(e.path)
          ? { field: e.path, message: labelledFieldError(t, labels[e.path](t), e) }
          : e.path === 'consent'
            ? { field: 'consent', message: fieldErrorText(t, e) }
            : { message: fieldErrorText(t, e) },
      );
    default:
      return [
        {
          message: t(
            '注册未能完成，请稍后再试。',
            'Registration could not be completed; please try again later.',
          ),
        },
      ];
  }
}
