import { assuranceName } from './assurance-words.js';
import type { CounterAccount, CounterProof } from '../console/issuer-api.js';
import { html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { errorSummary } from '../kit/error-summary.js';
import { notice } from '../kit/layout.js';
import { fieldErrorsOf, labelledInput } from '../kit/labelled-input.js';
import { consoleBar, type ConsoleWho } from './console-common.js';

/** The fields of the counter's forms, as the clerk types them (the ID number only ever posted). */
export interface CounterValues {
  idNumber?: string;
  name?: string;
  provenPhone?: string;
  phone?: string;
}

/** The counter page (当面核验, `/console/counter`): find the person, then prove them; or what was done. */
export interface CounterPageInput {
  who: ConsoleWho;
  values: CounterValues;
  /** A message per field (`idNumber`, `name`, `checkedIdCard`, `provenPhone`, `phone`, `password`). */
  errors: Record<string, string>;
  /** The account found: the proof's form is shown under it. */
  account?: CounterAccount;
  /** What the proof did. */
  proof?: CounterProof;
  /** A refusal of the whole step (the clerk's appointment, no account). */
  error?: string;
  /**
   * A code went to the new phone (masked; empty when a wrong code was typed): the form again, with the
   * code's field, for the person to read from their phone (review R30 H1).
   */
  codeSentTo?: string;
}

/** The label of each field, as the page names it in its errors. */
export const counterLabels = {
  idNumber: (t: Translate) => t('身份证号', 'Resident ID number'),
  name: (t: Translate) => t('姓名', 'Name'),
  checkedIdCard: (t: Translate) => t('核对身份证', 'ID card checked'),
  provenPhone: (t: Translate) => t('已验证手机号', 'Proven phone'),
  phone: (t: Translate) => t('新手机号', 'New mobile number'),
  password: (t: Translate) => t('账号密码', 'Account password'),
  code: (t: Translate) => t('短信验证码', 'Text-message code'),
} as const;

/**
 * The message of a field the issuer API refused (`errors[].path`, `code`), in the page's language: the
 * field's label, then what is wrong with it.
 */
export function counterFieldMessage(t: Translate, path: string, code: string | undefined): string {
  const label = path in counterLabels ? counterLabels[path as keyof typeof counterLabels](t) : path;
  // Bytes that were not UTF-8 (a GBK name from a browser set to another encoding), whichever field.
  if (code === 'invalid_characters') {
    return `${label}：${t('含有乱码或控制字符，请重新输入。', 'holds garbled text or control characters: type it again.')}`;
  }
  const why: Record<string, () => string> = {
    idNumber: () =>
      t(
        '号码有误，应为 18 位，末位可为 X（2017 版外国人永久居留证 15 位）。',
        'not a valid number: 18 characters, the last may be X (15 on a 2017 foreigner’s permanent residence card).',
      ),
    name: () =>
      code === 'registry_mismatch'
        ? t('与人口库中该身份证号的姓名不符。', 'does not match the population registry for this ID number.')
        : t('请填写。', 'is required.'),
    checkedIdCard: () =>
      t('请先当面核对本人与居民身份证，再勾选。', 'compare the person with their ID card, then tick it.'),
    provenPhone: () =>
      t(
        '未输入账号密码时，须为本人设置新的已验证手机号。',
        'set a new proven phone when the account password is not typed.',
      ),
    phone: () =>
      code === 'phone_required'
        ? t('设置新手机号时请填写。', 'is required to set a new proven phone.')
        : t(
            '须为运营商登记在本人名下的 11 位手机号（如 13912345678）。',
            'must be an 11-digit mobile number registered to the person with its carrier (such as 13912345678).',
          ),
    password: () =>
      code === 'required'
        ? t(
            '请本人输入账号密码；如已忘记，请设置新的已验证手机号。',
            'the person types it; if forgotten, set a new proven phone.',
          )
        : t('不是该账号的密码。', 'is not the account’s password.'),
    code: () => t('错误或已过期，请重新发送。', 'is wrong or has expired: send a new one.'),
  };
  return `${label}：${(why[path] ?? (() => t('请检查。', 'check it.')))()}`;
}

function fieldError(errors: Record<string, string>, field: string): SafeHtml {
  const message = errors[field];
  return fieldErrorsOf(field, message === undefined ? [] : [message]);
}

/**
 * One of the counter's text inputs, as the other console and wallet pages render theirs (the kit's
 * {@link labelledInput}: the label, the hint, the error between them and the input, which both describe).
 */
function counterInput(
  t: Translate,
  errors: Record<string, string>,
  field: { name: Exclude<keyof typeof counterLabels, 'checkedIdCard' | 'provenPhone'>; type: string },
  more: { value?: string; hint?: string; optional?: boolean; attributes: Record<string, string | number> },
): SafeHtml {
  const message = errors[field.name];
  return labelledInput({
    name: field.name,
    label: counterLabels[field.name](t),
    type: field.type,
    value: more.value,
    hint: more.hint,
    errors: message === undefined ? [] : [message],
    attributes: more.attributes,
    ...(more.optional ? { optional: true } : {}),
  });
}

function invalid(errors: Record<string, string>, field: string): SafeHtml {
  return errors[field] ? html`aria-invalid="true" aria-describedby="${field}-error"` : html``;
}

/** The account as the clerk sees it: masked. */
function accountFields(t: Translate, account: CounterAccount): SafeHtml {
  return html`<dl class="fields" id="counter-account">
    <dt>${t('姓名', 'Name')}</dt>
    <dd>${account.name}</dd>
    <dt>${t('身份证号', 'ID number')}</dt>
    <dd id="counter-masked">${account.masked}</dd>
    <dt>${t('认证等级', 'Assurance level')}</dt>
    <dd id="counter-level">${assuranceName(t, account.acr)}</dd>
    <dt>${t('已验证手机号', 'Proven phone')}</dt>
    <dd id="counter-proven-phone">
      ${
        account.provenPhoneMasked ??
        (account.phoneProven ? t('已验证（号码未保存）', 'Proven (number not kept)') : t('无', 'None'))
      }
    </dd>
  </dl>`;
}

/** What the proof did, in words the clerk reads to the person. */
function doneNotice(t: Translate, proof: CounterProof): SafeHtml {
  const phone =
    proof.provenPhone === 'set'
      ? t(
          `已将 ${proof.account.provenPhoneMasked ?? ''} 设为已验证手机号：已经运营商核验登记在本人名下，本人已输入发送到该号码的短信验证码。`,
          `${proof.account.provenPhoneMasked ?? ''} is now the proven phone: confirmed by the carrier as registered to the person, who typed the code texted to it.`,
        )
      : proof.provenPhone === 'cleared'
        ? t(
            '已清除已验证手机号：今后须本人登录后用手机验证码重新验证。',
            'The proven phone was cleared: the person proves a phone again after signing in.',
          )
        : t('已验证手机号未变。', 'The proven phone is unchanged.');
  return html`<div class="notice success" role="status" id="counter-done">
    <p>
      ${t('已完成当面核验：账号达到三级身份认证（当面核验）。', 'Proven in person: the account is at assurance level 3 (in person).')}
    </p>
    <p id="counter-done-phone">${phone}</p>
    ${
      proof.tookOver
        ? html`<p id="counter-done-took-over">
            ${t(
              '未输入账号密码：原密码已失效，其他设备上的登录、通行密钥和对各平台的授权已全部结束（各平台已收到通知）。请本人使用“找回密码”，以新手机号接收验证码设置新密码。',
              'The account password was not typed: the old password no longer works, and every other sign-in, passkey and platform authorization was ended (each platform told). The person sets a new password with “Reset your password” and a code to the new phone.',
            )}
          </p>`
        : html``
    }
  </div>`;
}

/**
 * The counter page (当面核验): the clerk types the person's ID number and name from their ID card, sees
 * the account masked, and proves them in person, keeping, setting or clearing the proven phone; the
 * person types the account's password themselves if they know it. Forms only, posted, never a URL with
 * the number.
 */
export function counterBody(t: Translate, input: CounterPageInput): SafeHtml {
  const { values, errors, account, proof } = input;
  const choice = values.provenPhone ?? 'keep';
  return html`${consoleBar(t, input.who)}
    <h1>${t('当面核验', 'Prove a person in person')}</h1>
    <p class="lead">
      ${t(
        '群众持居民身份证到窗口：核对本人与证件后，输入身份证号和姓名查找账号，为其完成当面核验（三级），并可为其更换或清除已验证手机号（找回密码和提升认证等级只使用该手机号）。',
        'The person brings their resident ID card: compare them with it, find their account by its number and name, prove them in person (level 3), and change or clear their proven phone (the only one that resets their password or steps up).',
      )}
    </p>
    ${input.error ? notice('error', input.error, 'counter-error') : html``}
    ${errorSummary(
      t,
      'counter-error-summary',
      Object.entries(errors).map(([field, message]) => ({
        target: field === 'provenPhone' ? 'provenPhone-keep' : field,
        message,
      })),
    )}
    ${proof ? doneNotice(t, proof) : html``}
    ${
      account && !proof
        ? html`${accountFields(t, account)}
            <form method="post" action="/console/counter" class="card" novalidate>
              <input type="hidden" name="step" value="prove" />
              <input type="hidden" name="idNumber" value="${values.idNumber ?? ''}" />
              <input type="hidden" name="name" value="${values.name ?? ''}" />
              <label class="choice">
                <input
                  type="checkbox"
                  id="checkedIdCard"
                  name="checkedIdCard"
                  value="yes"
                  ${invalid(errors, 'checkedIdCard')}
                />
                ${t('我已当面核对本人与其居民身份证。', 'I compared the person with their resident ID card.')}
              </label>
              ${fieldError(errors, 'checkedIdCard')}
              <fieldset>
                <legend>${counterLabels.provenPhone(t)}</legend>
                ${(
                  [
                    ['keep', t('不变', 'Keep it')],
                    ['set', t('设为本人的新手机号', 'Set the person’s new number')],
                    ['clear', t('清除', 'Clear it')],
                  ] as const
                ).map(
                  ([value, label]) =>
                    html`<label class="choice">
                      <input
                        type="radio"
                        id="provenPhone-${value}"
                        name="provenPhone"
                        value="${value}"
                        ${choice === value ? html`checked` : html``}
                      />
                      ${label}
                    </label>`,
                )}
                ${fieldError(errors, 'provenPhone')}
              </fieldset>
              ${counterInput(
                t,
                errors,
                { name: 'phone', type: 'tel' },
                {
                  value: values.phone ?? '',
                  hint: t(
                    '本人的 11 位手机号，须为运营商登记在其名下的号码，例如 13912345678。',
                    'The person’s own 11-digit mobile number, registered to them with its carrier, such as 13912345678.',
                  ),
                  optional: true,
                  attributes: { inputmode: 'tel', maxlength: 20, autocomplete: 'tel-national' },
                },
              )}
              ${counterInput(
                t,
                errors,
                { name: 'password', type: 'password' },
                {
                  hint: t(
                    '请本人输入。如已忘记或账号并非本人注册，可留空并设置新手机号：账号将由本人收回，原密码、其他登录、通行密钥和平台授权全部失效。',
                    'Typed by the person. If forgotten, or the account was not registered by them, leave it empty and set a new number: the account is taken back for them, and its old password, other sign-ins, passkeys and platform authorizations all end.',
                  ),
                  optional: true,
                  attributes: { autocomplete: 'off', maxlength: 128 },
                },
              )}
              ${
                input.codeSentTo !== undefined
                  ? html`${
                      input.codeSentTo
                        ? notice(
                            'info',
                            t(
                              `已向 ${input.codeSentTo} 发送短信验证码（5 分钟内有效）：请本人查看手机后输入；如账号密码已知，请本人再次输入。`,
                              `A code was texted to ${input.codeSentTo} (valid 5 minutes): the person reads it from their phone and types it; and the account password again, if they know it.`,
                            ),
                            'counter-code-sent',
                          )
                        : html``
                    }
                    ${counterInput(
                      t,
                      errors,
                      { name: 'code', type: 'text' },
                      { attributes: { inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6 } },
                    )}`
                  : html`<p class="hint">
                      ${t(
                        '设置新手机号时，将先向该号码发送短信验证码，本人输入后才会保存。',
                        'Setting a new number first texts a code to it: nothing is saved until the person types it.',
                      )}
                    </p>`
              }
              <button type="submit">${t('确认当面核验', 'Prove in person')}</button>
              <a class="button secondary" href="/console/counter">${t('重新查找', 'Find another')}</a>
            </form>`
        : html`<form method="post" action="/console/counter" class="card" novalidate>
            <input type="hidden" name="step" value="find" />
            ${counterInput(
              t,
              errors,
              { name: 'idNumber', type: 'text' },
              {
                value: proof ? '' : (values.idNumber ?? ''),
                attributes: { maxlength: 18, autocomplete: 'off' },
              },
            )}
            ${counterInput(
              t,
              errors,
              { name: 'name', type: 'text' },
              {
                value: proof ? '' : (values.name ?? ''),
                attributes: { maxlength: 100, autocomplete: 'off' },
              },
            )}
            <button type="submit">${t('查找账号', 'Find the account')}</button>
          </form>`
    }`;
}
