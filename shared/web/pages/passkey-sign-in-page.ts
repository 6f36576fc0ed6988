import { html, type SafeHtml } from '../kit/html.js';
import type { PageView } from './interaction-html.js';

/** The sign-in page's one script: the passkey button's (`shared/web/browser/passkey-sign-in.ts`). */
export const passkeySignInScripts = ['passkey-sign-in.js'] as const;

/**
 * The passkey part of the sign-in page: a button 使用通行密钥登录 that the page's script reveals when the
 * browser has WebAuthn (without script, or without WebAuthn, it stays hidden and the password form is all
 * there is), and a message area for a refusal. The script posts to `/interaction/{uid}/passkeyoptions` and
 * `/interaction/{uid}/passkey` (`shared/sso/passkey-interaction.ts`); its words come from here, in the
 * page's language.
 */
export function passkeySection(view: PageView, uid: string): SafeHtml {
  const { t } = view;
  return html`<section
    class="card"
    id="passkey-sign-in"
    hidden
    data-uid="${uid}"
    data-failed="${t('通行密钥验证失败，请重试或使用密码登录。', 'The passkey could not be verified: try again, or sign in with your password.')}"
    data-cancelled="${t('已取消通行密钥登录。', 'Passkey sign-in was cancelled.')}"
    aria-labelledby="passkey-heading"
  >
    <h2 id="passkey-heading">${t('通行密钥', 'Passkey')}</h2>
    <p>
      ${t('已在“我的证照”中添加通行密钥？无需输入密码。', 'Added a passkey in your wallet? No password needed.')}
    </p>
    <p class="notice error" id="passkey-error" hidden></p>
    <button type="button" class="secondary" id="passkey-button">
      ${t('使用通行密钥登录', 'Sign in with a passkey')}
    </button>
  </section>`;
}
