import type { SendLimit } from '../../identity/sms-codes.js';
import { errorSummary } from '../kit/error-summary.js';
import type { Translate } from '../kit/i18n.js';
import { fieldErrorAttributes, fieldErrorsOf } from '../kit/labelled-input.js';
import { labelledFieldError } from '../kit/field-messages.js';
import { html, page, registerLink, type PageScripts, type PageView } from './interaction-html.js';

/** The fields of the SMS pages' forms, by the name (and id) they post. */
export type PhoneField = 'idNumber' | 'phone' | 'code' | 'password';

/** Each field's label, as the form shows it and as its error (and the summary) names it. */
const phoneFieldLabels: Record<PhoneField, (t: Translate) => string> = {
  idNumber: (t) => t('身份证号', 'Resident ID number'),
  phone: (t) => t('手机号', 'Mobile number'),
  code: (t) => t('短信验证码', 'Code from the text message'),
  password: (t) => t('新密码', 'New password'),
};

/**
 * A notice (role status) or an error (role alert) above a form. An error of one field is the forms'
 * error summary (shared/web/kit/error-summary.ts: focused when the page loads, its item a link to the
 * field, whose own message sits at it: {@link fieldError}); `id="form-error"` either way.
 */
function notice(t: Translate, message: PageMessage | undefined) {
  if (!message) return html``;
  if (message.error && message.field) {
    const label = phoneFieldLabels[message.field](t);
    return errorSummary(t, 'form-error', [
      { target: message.field, message: labelledFieldError(t, label, message.text) },
    ]);
  }
  return message.error
    ? html`<div class="notice error" role="alert" id="form-error">${message.text}</div>`
    : html`<div class="notice" role="status" id="form-notice">${message.text}</div>`;
}

/** The message at `field` when the page's error is its own, and the input's attributes that point to it. */
function fieldError(message: PageMessage | undefined, field: PhoneField) {
  const errors = message?.error === true && message.field === field ? [message.text] : [];
  return { message: fieldErrorsOf(field, errors), attributes: fieldErrorAttributes(field, errors) };
}

/**
 * A notice or error above a form; `resendAfterSeconds` when it answers 获取验证码 (a send the server
 * counted): the wait before the next code, which the 获取验证码 button counts down ({@link sendCodeButton}).
 */
export type PageMessage = {
  text: string;
  error?: boolean;
  /**
   * The field an error is about: the page lists it in its error summary, says it at the field, and
   * keeps what was typed in the others (never a code or a password).
   */
  field?: PhoneField;
  resendAfterSeconds?: number;
  /** The limit that refused a send, when one did: the button names it ({@link sendCodeButton}). */
  sendLimit?: SendLimit;
};

/**
 * How long a code lives and the wait between two codes to one phone: the server's own policy
 * (`smsCodePolicy` in shared/identity/sms-codes.ts), passed in by the handler so that the page never
 * says a number of its own.
 */
export interface CodeTiming {
  ttlSeconds: number;
  phoneIntervalSeconds: number;
}

/**
 * The answer to 获取验证码, the same whether or not the phone belongs to the person and whether or not
 * the SMS provider took the text: the form is no oracle (docs/security.md, "SMS codes"). So it promises
 * nothing it cannot know, and says what to do when no text comes: ask again once the wait between two
 * codes has passed (the page keeps the phone and its button, which counts the wait down).
 */
export const codeRequestedText = (
  t: Translate,
  timing: CodeTiming,
  /** Which phone the code goes to, in both languages: for a reset, the account's ({@link resetCodeRequested}). */
  recipient: readonly [zh: string, en: string] = [
    '运营商登记在您名下的号码',
    'registered to you with its carrier',
  ],
): string => {
  const minutes = Math.ceil(timing.ttlSeconds / 60);
  const wait = timing.phoneIntervalSeconds;
  const [zhWait, enWait] =
    wait % 60 === 0
      ? [`${wait / 60} 分钟`, `${wait / 60} minute${wait === 60 ? '' : 's'}`]
      : [`${wait} 秒`, `${wait} seconds`];
  return t(
    `如果该手机号是${recipient[0]}，验证码将以短信发送到该号码，${minutes} 分钟内有效。如未收到短信，请在 ${zhWait}后重新获取验证码。`,
    `If this mobile number is ${recipient[1]}, a code is sent to it by text message, valid for ${minutes} minutes. If no text arrives, ask for a new code in ${enWait}.`,
  );
};

export const codeRequested = (t: Translate, timing: CodeTiming): PageMessage => ({
  text: codeRequestedText(t, timing),
  resendAfterSeconds: timing.phoneIntervalSeconds,
});

/**
 * The answer to 获取验证码 on the reset page, the same whatever the account (none, proven by this phone or
 * another, proven by none): the request reads no account, the sender decides (docs/security.md,
 * "Timing"). It says the one rule instead: the code goes to the account's verified phone only, or for an
 * account no phone verified yet to the carrier's.
 */
export const resetCodeRequested = (t: Translate, timing: CodeTiming): PageMessage => ({
  text: codeRequestedText(t, timing, [
    '您账号已验证的手机号（账号尚未验证过手机号的，为运营商登记在您名下的号码）',
    'your account’s verified number (for an account no number has verified yet, one registered to you with its carrier)',
  ]),
  resendAfterSeconds: timing.phoneIntervalSeconds,
});

/**
 * The part of a refused send's wait (`Retry-After`) that the 获取验证码 button counts down: the wait
 * between two codes to the phone only, as the server says which limit refused it ({@link SendLimit}). A
 * daily cap's wait (the phone's codes of the day, or the source address's, which another number typed in
 * would not free) is said in words and never counted down, even in its last minute, when it is as short
 * as an interval's.
 */
export const countedWait = (retryAfterSeconds: number, limit: SendLimit): number | undefined =>
  limit === 'interval' && retryAfterSeconds > 0 ? retryAfterSeconds : undefined;

/** A wait said in words: seconds up to two minutes, then minutes, then hours (rounded up). */
export function waitInWords(t: Translate, seconds: number): string {
  if (seconds >= 3600) {
    const hours = Math.ceil(seconds / 3600);
    return t(`${hours} 小时`, `${hours} hour${hours === 1 ? '' : 's'}`);
  }
  if (seconds >= 120) return t(`${Math.ceil(seconds / 60)} 分钟`, `${Math.ceil(seconds / 60)} minutes`);
  return t(`${seconds} 秒`, `${seconds} seconds`);
}

/**
 * The scripts of a page whose 获取验证码 button waits `resendAfterSeconds`: the countdown's
 * (`shared/web/browser/sms-countdown.ts`), and none while there is nothing to count down.
 */
export const smsCountdownScripts = (resendAfterSeconds: number | undefined): readonly string[] =>
  resendAfterSeconds !== undefined && resendAfterSeconds > 0 ? ['sms-countdown.js'] : [];

/**
 * What the CSP of a page with a 获取验证码 button allows ({@link pageHeaders}): our own script while the
 * button counts down ({@link smsCountdownScripts}; the countdown fetches nothing), none otherwise.
 */
export const smsCountdownPolicy = (resendAfterSeconds: number | undefined): PageScripts =>
  smsCountdownScripts(resendAfterSeconds).length > 0 ? 'self' : 'none';

/**
 * The 获取验证码 button. After a send the server counted, it carries the seconds until the server
 * allows the next one (`data-resend-after`, the phone's interval only: {@link countedWait}), the limit
 * they are of (`data-limit="interval"`; a send refused by a day's cap is `data-limit="daily"` and never
 * counted down) and the
 * words of the countdown in the page's language; the page's script marks it `aria-disabled` (it stays
 * in the tab order, its clicks are held) and counts down, and a polite live region, empty until then,
 * says when the wait has ended (the notice above, role status, already says it began). Without the
 * script the button stays usable and the notice says when to ask again (an early ask gets the server's
 * own 请在 N 秒后重试), so the countdown is an enhancement only. It starts on every counted ask,
 * whatever the phone: the page may not tell a confirmed phone from another.
 */
export function sendCodeButton(
  t: Translate,
  wait: { resendAfterSeconds?: number | undefined; sendLimit?: SendLimit | undefined } = {},
) {
  const { resendAfterSeconds, sendLimit } = wait;
  const waiting =
    resendAfterSeconds !== undefined && resendAfterSeconds > 0 && sendLimit !== 'daily'
      ? html` data-limit="interval" data-resend-after="${String(Math.ceil(resendAfterSeconds))}"
        data-wait-label="${t('重新获取（{s} 秒）', 'Send again ({s} s)')}"
        data-ready-announce="${t('现在可以重新获取验证码', 'You can ask for a new code now')}"`
      : sendLimit === 'daily'
        ? html` data-limit="daily"`
        : html``;
  return html`<button
      type="submit"
      name="send"
      value="1"
      class="secondary"
      id="send-code"
      formnovalidate
      ${waiting}
    >
      ${t('获取验证码', 'Send code')}
    </button>
    <span class="visually-hidden" id="send-code-status" role="status" aria-live="polite"></span>`;
}

/**
 * A code not accepted: wrong, or none to check against (expired, used, tried too often, never stored).
 * One message for both, so that a guess cannot tell whether a code was stored (review R18 H1).
 */
export const wrongOrExpiredCode = (t: Translate): PageMessage => ({
  text: t('验证码不正确或已失效，请重新获取。', 'The code is wrong or has expired; ask for a new one.'),
  error: true,
  field: 'code',
});

/**
 * A send refused (`Retry-After` `seconds`) by `limit`, as the server says: too soon after the last code to
 * this phone (the button counts it down), or a daily cap reached (said in words, no countdown:
 * {@link countedWait}).
 */
export const codeThrottled = (t: Translate, seconds: number, limit: SendLimit): PageMessage => {
  const counted = countedWait(seconds, limit);
  const wait = waitInWords(t, seconds);
  return {
    text:
      counted === undefined
        ? t(
            `今天获取验证码的次数已达上限，请在 ${wait}后重试。`,
            `No more codes can be sent for now (a daily limit): try again in ${wait}.`,
          )
        : t(`发送过于频繁，请在 ${wait}后重试。`, `Too many codes: try again in ${wait}.`),
    error: true,
    sendLimit: limit,
    ...(counted === undefined ? {} : { resendAfterSeconds: counted }),
  };
};

/** The person's wrong codes for today are used up (shared/identity/sms-codes.ts `checkSmsCode`). */
export const checksThrottled = (t: Translate, seconds: number): PageMessage => ({
  text: t(
    `今天输错验证码的次数过多，请在 ${Math.ceil(seconds / 3600)} 小时后重试。`,
    `Too many wrong codes today: try again in ${Math.ceil(seconds / 3600)} hours.`,
  ),
  error: true,
});

/**
 * A reset's right code typed for a phone other than the one that proved the account (a code sent before
 * another phone proved it): shown only once the code is right, so only to whoever holds that code, never
 * to a guess (which gets the wrong-code answer, whatever the account). It names no phone, not even masked.
 */
export const notProvenPhone = (t: Translate): PageMessage => ({
  text: t(
    '该账号已由另一手机号验证，重置密码的验证码只发送到该手机号。请使用该手机号；如已不再使用，请持身份证到政务服务窗口办理。',
    'This account was proven by another mobile number: reset codes go to that number only. Use it; if you no longer have it, bring your ID card to a service counter.',
  ),
  error: true,
  field: 'phone',
});

/**
 * A step-up with a number other than the account's proven phone (review R28 M1): only the proven phone
 * proves the account again; a new one is set at a service counter. The person is signed in, so the page
 * names the proven phone, masked, when the account kept it.
 */
export const stepUpNotProvenPhone = (t: Translate, provenPhoneMasked: string | undefined): PageMessage => ({
  text:
    provenPhoneMasked === undefined
      ? t(
          '您的账号已由另一手机号验证，请使用该手机号获取验证码。如已不再使用该手机号，请持身份证到政务服务窗口更换。',
          'Your account was proven by another mobile number: ask for the code with that number. If you no longer have it, bring your ID card to a service counter to change it.',
        )
      : t(
          `您的账号已由手机号 ${provenPhoneMasked} 验证，请使用该手机号获取验证码。如已不再使用该手机号，请持身份证到政务服务窗口更换。`,
          `Your account was proven by the mobile number ${provenPhoneMasked}: ask for the code with that number. If you no longer have it, bring your ID card to a service counter to change it.`,
        ),
  error: true,
  field: 'phone',
});

/**
 * A reset's right code for an account proven in person that no phone proved (review R28 M1): no phone
 * resets it (a code sent before the rule); the person goes to a service counter. Shown only after a right
 * code, as {@link notProvenPhone} is.
 */
export const noProvenPhone = (t: Translate): PageMessage => ({
  text: t(
    '该账号已在政务服务窗口当面核验，但尚未验证手机号，不能通过短信验证码重置密码。请持身份证到政务服务窗口办理。',
    'This account was proven in person at a service counter and no mobile number has proven it: its password cannot be reset by text message. Bring your ID card to a service counter.',
  ),
  error: true,
});

/** An error of one field (`field`), said in the page's words: summarised at the top, and at the field. */
export const fieldProblem = (field: PhoneField, text: string): PageMessage => ({ text, error: true, field });

/** A mobile number that is none (not 11 digits starting 1, with or without +86). */
export const invalidPhone = (t: Translate): PageMessage =>
  fieldProblem('phone', t('请输入正确的 11 位手机号。', 'Enter a valid 11-digit mobile number.'));

/**
 * The first field of `paths` (a form's fields that were not UTF-8 text) that the SMS pages show, said
 * there with `text`; a general error when none is theirs.
 */
export const unreadableField = (paths: readonly string[], text: string): PageMessage => {
  const field = paths.find((path): path is PhoneField => Object.hasOwn(phoneFieldLabels, path));
  return field ? fieldProblem(field, text) : { text, error: true };
};

/**
 * The phone and code inputs. The phone comes back as typed; the code never does (a code, like a
 * password, is not echoed into a page that may be cached, shared or read over a shoulder).
 */
function phoneAndCode(t: Translate, phone: string | undefined, message: PageMessage | undefined) {
  const phoneError = fieldError(message, 'phone');
  const codeError = fieldError(message, 'code');
  return html`<label for="phone">${phoneFieldLabels.phone(t)}</label>
    ${phoneError.message}
    <input
      type="tel"
      id="phone"
      name="phone"
      autocomplete="tel-national"
      inputmode="tel"
      maxlength="20"
      value="${phone ?? ''}"
      ${phoneError.attributes}
    />
    ${sendCodeButton(t, message ?? {})}
    <label for="code">${phoneFieldLabels.code(t)}</label>
    ${codeError.message}
    <input
      type="text"
      id="code"
      name="code"
      autocomplete="one-time-code"
      inputmode="numeric"
      pattern="[0-9]{6}"
      maxlength="6"
      ${codeError.attributes}
    />`;
}

/**
 * The step-up of a sign-in (API.md, "Identity assurance (v2)"): the platform asks for level 3, the person
 * proves it with a code sent to their own mobile number. A server-rendered form; its one script only
 * counts down the wait before the next code ({@link sendCodeButton}).
 */
export function stepUpPage(
  view: PageView,
  input: {
    uid: string;
    clientName: string;
    phone?: string;
    message?: PageMessage;
    /** The enterprise the person chose to act for, when that is what needs the level (entity-step-up.ts). */
    entityName?: string;
  },
): string {
  const { t } = view;
  const why =
    input.entityName === undefined
      ? t(
          `${input.clientName} 要求更高的身份认证等级（三级）。`,
          `${input.clientName} asks for a higher assurance level (3).`,
        )
      : t(
          `以“${input.entityName}”的身份办事需要三级身份认证。`,
          `Acting for ${input.entityName} needs assurance level 3.`,
        );
  return page(
    view,
    t('验证本人手机', 'Confirm it is you'),
    html`<h1>${t('验证本人手机', 'Confirm it is you')}</h1>
      <p class="lead">
        ${why}${t(
          '请输入运营商登记在您本人名下的手机号，获取短信验证码。',
          ' Enter the mobile number registered to you with its carrier and ask for a code.',
        )}
      </p>
      ${notice(t, input.message)}
      <form class="card" method="post" action="/interaction/${input.uid}/stepup" novalidate>
        ${phoneAndCode(t, input.phone, input.message)}
        <button type="submit">${t('验证', 'Confirm')}</button>
        <a class="button secondary" href="/interaction/${input.uid}/unmet"
          >${t('无法验证，返回', 'I cannot, go back')}</a
        >
      </form>`,
    smsCountdownScripts(input.message?.resendAfterSeconds),
  );
}

/**
 * Password reset (忘记密码): ID number and mobile number, a code to that phone, a new password. It proves
 * level 3 and signs the person in. The page says up front what a reset ends (every other sign-in, every
 * passkey, the platforms' authorizations: phone-proof.ts) and where the code goes (the account's verified
 * phone only): its answers never say whether the ID number has an account or which phone proved it.
 */
export function resetPage(
  view: PageView,
  input: { uid: string; idNumber?: string; phone?: string; message?: PageMessage },
): string {
  const { t } = view;
  const idNumberError = fieldError(input.message, 'idNumber');
  const passwordError = fieldError(input.message, 'password');
  return page(
    view,
    t('找回密码', 'Reset your password'),
    html`<h1>${t('找回密码', 'Reset your password')}</h1>
      <p class="lead">
        ${t(
          '输入身份证号和手机号，获取验证码后设置新密码。验证码只会发送到已验证的手机号：验证过您账号的手机号；账号尚未验证过手机号的，为运营商登记在您名下的号码（在政务服务窗口当面核验、尚未验证手机号的账号除外，请到窗口办理）。如已不再使用该手机号，请持身份证到政务服务窗口办理。',
          'Enter your ID number and mobile number, ask for a code, then set a new password. The code goes only to the verified number: the one that verified your account, or for an account no number has verified yet, one registered to you with its carrier (except an account proven in person at a service counter: reset it there). If you no longer have that number, bring your ID card to a service counter.',
        )}
      </p>
      <p id="reset-ends">
        ${t(
          '重设密码后，其他设备和浏览器上的登录将全部退出，您对各平台的授权将被撤回（各平台将收到通知，删除通过授权取得的信息）。',
          'Resetting the password signs you out on every other device and browser and withdraws your authorizations of platforms (each is told to delete what it received).',
        )}
      </p>
      <p id="reset-consequences">
        ${t(
          '重设密码后，其他设备上的登录将全部退出，已添加的通行密钥将全部删除，各平台的授权将被撤回。',
          'Resetting the password signs you out everywhere else, removes every passkey you added, and withdraws your authorizations to platforms.',
        )}
      </p>
      ${notice(t, input.message)}
      <form class="card" method="post" action="/interaction/${input.uid}/reset" novalidate>
        <label for="idNumber">${phoneFieldLabels.idNumber(t)}</label>
        ${idNumberError.message}
        <input
          type="text"
          id="idNumber"
          name="idNumber"
          autocomplete="username"
          maxlength="18"
          value="${input.idNumber ?? ''}"
          ${idNumberError.attributes}
        />
        ${phoneAndCode(t, input.phone, input.message)}
        <label for="password">${phoneFieldLabels.password(t)}</label>
        ${passwordError.message}
        <input
          type="password"
          id="password"
          name="password"
          autocomplete="new-password"
          maxlength="128"
          ${passwordError.attributes}
        />
        <button type="submit">${t('重设密码并登录', 'Reset and sign in')}</button>
        <a class="button secondary" href="/interaction/${input.uid}">${t('返回登录', 'Back to sign-in')}</a>
      </form>
      ${registerLink(t)}`,
    smsCountdownScripts(input.message?.resendAfterSeconds),
  );
}

/**
 * The answer to a reset that changed the password but could not take its clean-up's mark off (the
 * account's write failed twice: shared/identity/phone-proof.ts, `cleanedUp`): the password IS changed, so
 * the page says so and sends the person to sign in with it, rather than an error page that leaves them
 * guessing whether it was. No sign-in is made here: the reconciler finishes the owed clean-up, ending
 * every sign-in of the mark's second (review R54-1), so one made now would be ended; the person's own,
 * a moment later, is spared.
 */
export function passwordChangedPage(view: PageView, input: { uid: string }): string {
  const { t } = view;
  return page(
    view,
    t('密码已重设', 'Password changed'),
    html`<h1>${t('密码已重设', 'Password changed')}</h1>
      <div class="notice" role="status" id="form-notice">
        ${t('您的新密码已生效。请使用新密码登录。', 'Your new password is set. Sign in with it.')}
      </div>
      <p id="reset-ends">
        ${t(
          '其他设备和浏览器上的登录将退出，您对各平台的授权将被撤回，这可能需要几分钟完成。',
          'Your sign-ins on other devices and browsers end and your authorizations of platforms are withdrawn; this may take a few minutes to complete.',
        )}
      </p>
      <a class="button" id="sign-in" href="/interaction/${input.uid}"
        >${t('使用新密码登录', 'Sign in with the new password')}</a
      >`,
  );
}
