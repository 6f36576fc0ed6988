import * as z from 'zod';
import { levelOfAcr } from '../../identity/assurance.js';
import { assuranceName } from './assurance-words.js';
import { calendarDate } from '../kit/china-time.js';
import { errorSummary } from '../kit/error-summary.js';
import type { FieldLabels, ShownRefusal } from '../kit/form.js';
import type { Translate } from '../kit/i18n.js';
import { fieldErrorAttributes, fieldErrorsOf } from '../kit/labelled-input.js';
import { html, notice, type SafeHtml } from '../kit/layout.js';
import type { WalletAccount } from '../wallet/account-api.js';
import { stepUpHref } from '../wallet/step-up.js';

/** Where closing starts: a sign-in made now at the account's level, back to the confirmation. */
export function closeAccountHref(account: Pick<WalletAccount, 'acr'>): string {
  return stepUpHref('/wallet/account/close', { level: levelOfAcr(account.acr) ?? 3, fresh: true });
}

/**
 * Where exporting starts: a personal sign-in made now at the account's level (the API asks for one, as
 * closing does), back to the export page.
 */
export function exportDataHref(account: Pick<WalletAccount, 'acr'>): string {
  return stepUpHref('/wallet/account/export', { level: levelOfAcr(account.acr) ?? 3, fresh: true });
}

/**
 * Which phone proved the account (review R28 M1), the one that alone resets its password or steps up: masked,
 * or said in words when none did or it was proven before its mask was kept.
 */
function provenPhoneText(t: Translate, account: WalletAccount): string {
  if (account.provenPhoneMasked) return account.provenPhoneMasked;
  return account.phoneProven
    ? t('已验证（号码未保存）', 'Proven (number not kept)')
    : t('尚未验证', 'None yet');
}

/** What the account holds, as a list of fields (the account page and the confirmation both show it). */
function holdings(t: Translate, account: WalletAccount): SafeHtml {
  return html`<dl class="fields" id="account-holdings">
    <dt>${t('姓名', 'Name')}</dt>
    <dd>${account.name}</dd>
    <dt>${t('身份证号', 'ID number')}</dt>
    <dd id="account-masked">${account.masked}</dd>
    <dt>${t('认证等级', 'Assurance level')}</dt>
    <dd id="account-level">${assuranceName(t, account.acr)}</dd>
    <dt>${t('手机号', 'Phone')}</dt>
    <dd>${account.phone ? account.phone.masked : t('未保存', 'None kept')}</dd>
    <dt>${t('已验证手机号', 'Proven phone')}</dt>
    <dd id="account-proven-phone">${provenPhoneText(t, account)}</dd>
    <dt>${t('通行密钥', 'Passkeys')}</dt>
    <dd>${String(account.passkeys)}</dd>
    <dt>${t('注册时间', 'Registered')}</dt>
    <dd><time datetime="${account.createdAt}">${calendarDate(account.createdAt)}</time></dd>
  </dl>`;
}

/**
 * `/wallet/account` (我的账号): what the account holds of the person (masked), where the rest is (passkeys,
 * authorized platforms, usage record), and the way to close the account (注销账号), which starts with a
 * sign-in made now.
 *
 * @example
 * ```ts
 * renderPage({ ...context, section: 'wallet', title, body: accountBody(t, await api.read()) });
 * ```
 */
export function accountBody(t: Translate, account: WalletAccount): SafeHtml {
  return html`<p><a href="/wallet">← ${t('返回我的证照', 'Back to my licences')}</a></p>
    <h1>${t('我的账号', 'My account')}</h1>
    <p class="lead">
      ${t('本平台为您的账号保存了以下信息。', 'This is what the service keeps in your account.')}
    </p>
    ${holdings(t, account)}
    <p>
      <a href="/wallet/passkeys">${t('通行密钥', 'Passkeys')}</a> ·
      <a href="/wallet/authorizations">${t('已授权的平台', 'Authorized platforms')}</a> ·
      <a href="/wallet/usage">${t('用证记录', 'Licence usage')}</a>
    </p>
    <h2 id="account-export-heading">${t('导出我的数据', 'Export my data')}</h2>
    <p>
      ${t(
        '下载一份包含您的账号信息、电子证照（含可在别处出示的签名凭证）、授权、企业身份、通行密钥和用证记录的 JSON 文件。下载前需要重新登录确认身份。',
        'Download one JSON file with your account, your licences (with the signed credentials you can present elsewhere), your authorizations, the enterprises you act for, your passkeys and your usage record. You will be asked to sign in again first.',
      )}
    </p>
    <p>
      <a class="button secondary" id="account-export-link" href="${exportDataHref(account)}"
        >${t('导出我的数据…', 'Export my data…')}</a
      >
    </p>
    <h2 id="account-close-heading">${t('注销账号', 'Close the account')}</h2>
    <p>
      ${t(
        '注销后，您的账号及其中的个人信息将被删除，所有登录和授权立即失效。注销前需要重新登录确认身份。',
        'Closing deletes your account and the personal information in it, and ends every sign-in and authorization at once. You will be asked to sign in again first.',
      )}
    </p>
    <p>
      <a class="button secondary" id="account-close-link" href="${closeAccountHref(account)}"
        >${t('注销账号…', 'Close the account…')}</a
      >
    </p>`;
}

/**
 * `/wallet/account/close`: the confirmation, saying what goes and what stays, with the password to type
 * again (a token left in the browser closes nothing alone), a box to tick and the button that closes the
 * account (a form posted to the same path).
 */
export function closeConfirmBody(
  t: Translate,
  account: WalletAccount,
  options: {
    unconfirmed?: boolean;
    wrongPassword?: boolean;
    retryAfterSeconds?: number;
    /** The form as its schema refused it: each field's message (nothing typed is kept: a password). */
    refused?: ShownRefusal['errors'];
  } = {},
): SafeHtml {
  const refused = options.refused ?? [];
  const inputId = (field: string) =>
    field === 'confirm' ? 'account-close-confirm' : 'account-close-password';
  const messagesOf = (field: string) => refused.filter((e) => e.field === field).map((e) => e.message);
  const passwordErrors = messagesOf('password');
  const confirmErrors = messagesOf('confirm');
  return html`<p><a href="/wallet/account">← ${t('返回我的账号', 'Back to my account')}</a></p>
    <h1>${t('注销账号', 'Close the account')}</h1>
    ${errorSummary(t, 'account-close-error-summary', [
      ...refused.map((e) => ({
        target: e.field === 'confirm' || e.field === 'password' ? inputId(e.field) : undefined,
        message: e.message,
      })),
      // The answers of the service to a well-formed form, in the same focused summary (the kit's), each a
      // link to the field to change.
      ...(options.unconfirmed
        ? [
            {
              target: inputId('confirm'),
              message: t('请勾选确认后再注销。', 'Please tick the box to confirm before closing.'),
            },
          ]
        : []),
      ...(options.wrongPassword
        ? [
            {
              target: inputId('password'),
              message: options.retryAfterSeconds
                ? t(
                    `密码错误次数过多，请 ${options.retryAfterSeconds} 秒后再试。`,
                    `Too many wrong passwords: try again in ${options.retryAfterSeconds} seconds.`,
                  )
                : t('密码不正确，账号未注销。', 'The password is not right: the account was not closed.'),
            },
          ]
        : []),
    ])}
    ${holdings(t, account)}
    <h2>${t('将被删除', 'What goes')}</h2>
    <ul id="account-close-goes">
      <li>
        ${t('账号本身：姓名、加密保存的身份证号和手机号、密码', 'The account: your name, the encrypted ID number and phone, the password')}
      </li>
      <li>${t('全部通行密钥', 'Every passkey')}</li>
      <li>
        ${t('所有登录状态、令牌，以及对各平台的授权（含授权用证）', 'Every sign-in and token, and every authorization you gave platforms (shared licences included)')}
      </li>
      <li>
        ${t('他人委托您作为企业经办人的授权（撤回）', 'Appointments of you as an enterprise’s agent (withdrawn)')}
      </li>
    </ul>
    <h2>${t('将被保留', 'What stays')}</h2>
    <ul id="account-close-stays">
      <li>
        ${t(
          '您的电子证照：它们是发证机关的档案，由发证机关保存和管理，不随账号删除。重新注册同一身份证号后仍可看到。',
          'Your licences: they are the issuing agencies’ records, kept and managed by them, not deleted with the account. Register the same ID number again and you will see them.',
        )}
      </li>
      <li>
        ${t(
          '审计记录和用证记录：依法留存，不含明文身份证号（见隐私说明）。',
          'The audit trail and the usage record: kept as the law requires, with no ID number in clear (see the privacy notes).',
        )}
      </li>
      <li>
        ${t(
          '您作为法定代表人委托的经办人：这是企业的授权，仍以企业登记信息为准。',
          'Agents you appointed as an enterprise’s legal representative: those are the enterprise’s, and stand as the business registry says.',
        )}
      </li>
    </ul>
    <p>
      ${t('注销后可以用同一身份证号重新注册，但旧账号无法恢复。', 'You may register the same ID number again afterwards, but this account cannot be restored.')}
    </p>
    <form method="post" action="/wallet/account/close" id="account-close-form">
      <p>
        <label for="account-close-password">${closeAccountLabels.password(t)}</label>
        ${fieldErrorsOf('account-close-password', passwordErrors)}
        <input
          type="password"
          name="password"
          id="account-close-password"
          autocomplete="current-password"
          required
          maxlength="1024"
          ${fieldErrorAttributes('account-close-password', passwordErrors)}
        />
      </p>
      <p>
        ${fieldErrorsOf('account-close-confirm', confirmErrors)}
        <label>
          <input
            type="checkbox"
            name="confirm"
            value="yes"
            required
            id="account-close-confirm"
            ${fieldErrorAttributes('account-close-confirm', confirmErrors)}
          />
          ${closeAccountLabels.confirm(t)}
        </label>
      </p>
      <button type="submit" id="account-close-submit">${t('注销账号', 'Close the account')}</button>
    </form>`;
}

/**
 * The closing form as posted (`POST /wallet/account/close` parses it): the box ticked (`confirm=yes`;
 * absent is asked again, not refused) and the password. Beside the form and its labels, so that a
 * field added to one is seen missing from the others (test/unit/web/refusal-words.test.ts).
 */
export const closeAccountForm = z.strictObject({
  confirm: z.literal('yes').optional(),
  password: z.string().max(1024).optional(),
});

/** The closing form's labels: rendered by {@link closeConfirmBody}, and what a refusal names. */
export const closeAccountLabels = {
  password: (t: Translate) =>
    t('请再次输入登录密码以确认是您本人', 'Type your password again to confirm it is you'),
  confirm: (t: Translate) =>
    t('我已了解以上内容，确认注销账号。', 'I understand the above and want to close the account.'),
} satisfies FieldLabels;

/** After closing: the account is gone, the browser signed out. */
export function closedBody(t: Translate): SafeHtml {
  return html`<h1>${t('账号已注销', 'The account is closed')}</h1>
    ${notice(
      'success',
      t(
        '您的账号已注销，所有登录和授权均已失效。您的电子证照仍由发证机关保存。',
        'Your account is closed and every sign-in and authorization has ended. Your licences stay with the agencies that issued them.',
      ),
      'account-closed',
    )}
    <p><a href="/">${t('返回首页', 'Back to the home page')}</a></p>`;
}

/**
 * `/wallet/account/export` (导出我的数据): what the file holds, who it is for, and the button that
 * downloads it (a form posted to the same path, which answers the file). Shown after the fresh sign-in
 * its link asks for.
 */
export function exportDataBody(t: Translate): SafeHtml {
  return html`<p><a href="/wallet/account">← ${t('返回我的账号', 'Back to my account')}</a></p>
    <h1>${t('导出我的数据', 'Export my data')}</h1>
    <p class="lead">
      ${t(
        '依据《个人信息保护法》第四十五条，您可以获取您的个人信息副本。文件为 JSON 格式，可用公开的 JSON Schema 校验：',
        'Under Article 45 of the Personal Information Protection Law you may have a copy of your personal information. The file is JSON, and a published JSON Schema validates it:',
      )}
      <a href="/schemas/data-export-1.json" id="account-export-schema"
        >${t('文件格式说明（JSON Schema）', 'the file’s format (JSON Schema)')}</a
      >
    </p>
    <h2>${t('文件包含', 'What the file holds')}</h2>
    <ul id="account-export-holds">
      <li>${t('账号信息（身份证号和手机号已脱敏）', 'Your account (the ID number and phone masked)')}</li>
      <li>
        ${t('您的电子证照，及其签名凭证：可在其他核验方出示', 'Your licences, with their signed credentials: present them to other verifiers')}
      </li>
      <li>
        ${t('您对各平台的授权（含授权用证）', 'The authorizations you gave platforms (shared licences included)')}
      </li>
      <li>
        ${t('您代表的企业，以及委托您为经办人的记录', 'The enterprises you act for, and your appointments as their agent')}
      </li>
      <li>${t('通行密钥的名称和使用时间（不含密钥）', 'Your passkeys’ names and dates (no key)')}</li>
      <li>${t('用证记录', 'Your usage record')}</li>
    </ul>
    ${notice(
      'info',
      t(
        '文件含有您的个人信息，请妥善保管。本次导出会记入您的用证记录。',
        'The file holds your personal information: keep it safe. This export is recorded in your usage record.',
      ),
      'account-export-keep-safe',
    )}
    <form method="post" action="/wallet/account/export" id="account-export-form">
      <button type="submit" id="account-export-submit">${t('下载我的数据', 'Download my data')}</button>
    </form>
    <div class="notice warn" role="alert" id="account-export-cut" tabindex="-1" hidden>
      <p>
        <strong>${t('文件不完整：', 'The file is not complete:')}</strong>
        ${t(
          '您的用证记录太多，无法全部放入一个文件。已下载的文件包含上面列出的全部其他内容，以及最近的',
          'your usage record is too long for one file. The file you downloaded holds everything else listed above, and your newest',
        )}
        <span id="account-export-included"></span>
        ${t('条用证记录。', 'usage entries.')}
      </p>
      <p>
        ${t('更早的用证记录不在文件中：请', 'The older entries are not in the file:')}
        <a id="account-export-rest" href="/wallet/usage"
          >${t('在“用证记录”中从文件结束处接着查看', 'read them in your usage record, from where the file stops')}</a
        >${t('，可逐页翻阅。', ', page by page.')}
      </p>
    </div>`;
}

/**
 * The export page's script (`shared/web/browser/wallet-export.ts`): it downloads the file itself, so
 * that it can show `#account-export-cut` when the file says it was cut at its budget.
 */
export const exportDataScripts = ['wallet-export.js'] as const;
