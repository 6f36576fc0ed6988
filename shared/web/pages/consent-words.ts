import type { Translate } from '../kit/i18n.js';
import { html, type SafeHtml } from '../kit/html.js';

/**
 * The scope whose claim is the person's resident ID number (`id_number`, at userinfo): sensitive
 * personal information (PIPL Art. 28), released only with a consent of its own (Art. 29), which the
 * consent pages ask with {@link idNumberChoice} and the grant records (shared/sso/id-number-consent.ts).
 */
export const idNumberScope = 'idcard';

/** The form field of {@link idNumberChoice}: present (`yes`) when the person ticked it, absent otherwise. */
export const idNumberField = 'idcard';

const claimDescriptions: Record<string, (t: Translate) => string> = {
  openid: (t) => t('一个只供该平台使用的匿名标识', 'an identifier for this platform only'),
  profile: (t) => t('姓名或企业名称', 'your name, or the enterprise’s name'),
  entity: (t) =>
    t('企业名称、统一社会信用代码、经办人标识', 'the enterprise’s credit code, and that you act for it'),
  offline_access: (t) => t('在您离开后继续访问', 'keep access when you are away'),
};

/**
 * The words of what the asked scopes release (those a consent page lists, and the wallet's 已授权的平台),
 * in the page's language. Not the ID number, which is never one line of a list: {@link idNumberChoice}
 * asks for it apart, {@link idNumberHeld} names it once given. Not `licences`, which no platform's
 * consent page can ask for (first-party apps only, which meet no consent page).
 */
export function scopeDescriptions(t: Translate, scopes: readonly string[]): string[] {
  return scopes.flatMap((scope) => {
    const describe = Object.hasOwn(claimDescriptions, scope) ? claimDescriptions[scope] : undefined;
    return describe ? [describe(t)] : [];
  });
}

/** The ID number as the wallet lists what a platform holds. */
export function idNumberHeld(t: Translate): string {
  return t('身份证号（敏感个人信息）', 'your resident ID number (sensitive personal information)');
}

/**
 * The separate consent to release the ID number (PIPL Art. 29): a checkbox of the consent form, unticked
 * by default, that names who receives it, what it is, that signing in goes on without it, that each
 * release is recorded, and where it is withdrawn. No script: the form posts it or not.
 *
 * @example
 * ```ts
 * html`<form …>${idNumberChoice(t, '交管业务平台')}<button type="submit">同意</button></form>`;
 * ```
 */
export function idNumberChoice(t: Translate, clientName: string): SafeHtml {
  return html`<fieldset class="sensitive-consent" aria-describedby="idcard-notice">
    <legend>
      ${t('身份证号（敏感个人信息）', 'Your resident ID number (sensitive personal information)')}
    </legend>
    <p id="idcard-notice" class="hint">
      ${t(
        `${clientName} 还请求获得您的完整身份证号。身份证号属于敏感个人信息，需要您单独同意：不勾选也可以继续，${clientName} 将得不到您的身份证号。接收方：${clientName}，其用途和保存期限以该平台的说明为准；本服务每次提供都会记入您的“用证记录”。同意后，您可以随时在钱包的“已授权的平台”中撤回。`,
        `${clientName} also asks for your full resident ID number. It is sensitive personal information and needs your separate consent: you can go on without ticking it, and ${clientName} then gets no ID number. Recipient: ${clientName}, which says what it uses it for and how long it keeps it; every time this service gives it, your usage record says so. Once given, you can withdraw it at any time under “Authorized platforms” in your wallet.`,
      )}
    </p>
    <label for="consent-idcard">
      <input type="checkbox" id="consent-idcard" name="${idNumberField}" value="yes" />
      <span>${t(`同意向 ${clientName} 提供我的身份证号`, `Give ${clientName} my resident ID number`)}</span>
    </label>
  </fieldset>`;
}
