import * as z from 'zod';
import { calendarDate } from '../kit/china-time.js';
import { errorSummary } from '../kit/error-summary.js';
import type { FieldLabels } from '../kit/form.js';
import { attr } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { fieldErrorsOf } from '../kit/labelled-input.js';
import { html, notice, type SafeHtml } from '../kit/layout.js';
import type { WalletPasskey } from '../wallet/passkeys-api.js';
import { stepUpHref } from '../wallet/step-up.js';

/** The passkeys page's script (`shared/web/browser/wallet-passkeys.ts`). */
export const walletPasskeyScripts = ['wallet-passkeys.js'] as const;

/**
 * The sign-in that adding or removing a passkey needs (one made in the last ten minutes, at level 3): the
 * wallet's login with `max_age=0`, back to this page.
 */
export const passkeysFreshHref = stepUpHref('/wallet/passkeys', { level: 3, fresh: true });

/** A remove button's form as posted (`POST /wallet/passkeys/{id}/remove`): the password typed again. */
export const removePasskeyForm = z.strictObject({ password: z.string().max(1024).optional() });

/** The passkey forms' labels: rendered by {@link passkeysBody}, and what a refusal names. */
export const removePasskeyLabels = {
  password: (t: Translate) => t('登录密码', 'Your password'),
} satisfies FieldLabels;

/**
 * `/wallet/passkeys` (通行密钥): the person's passkeys, each with a remove button (a server-rendered form),
 * and the button 添加通行密钥, which the page's script reveals when the browser has WebAuthn; or, below level
 * 3, why passkeys cannot be managed yet.
 *
 * @example
 * ```ts
 * renderPage({ ...context, section: 'wallet', title, body: passkeysBody(t, { passkeys }), scripts: walletPasskeyScripts });
 * ```
 */
export function passkeysBody(
  t: Translate,
  input: {
    passkeys?: readonly WalletPasskey[];
    stepUp?: boolean;
    added?: boolean;
    removed?: boolean;
    wrongPassword?: boolean;
    /** A remove form its schema refused: which passkey's, and the password's message (never the password). */
    refused?: { passkeyId: string; message: string };
  },
): SafeHtml {
  const heading = html`<p><a href="/wallet">← ${t('返回我的证照', 'Back to my licences')}</a></p>
    <h1>${t('通行密钥', 'Passkeys')}</h1>
    <p class="lead">
      ${t(
        '通行密钥让您用手机或电脑的指纹、面容或锁屏密码登录，无需输入密码，登录即达到三级身份认证。',
        'A passkey lets you sign in with your phone’s or computer’s fingerprint, face or screen lock, with no password, at assurance level 3.',
      )}
    </p>`;
  if (input.stepUp || !input.passkeys) {
    return html`${heading}
      ${notice(
        'info',
        t(
          '只有以三级身份认证登录时才能添加或管理通行密钥。',
          'Passkeys can be added and managed only when you are signed in at assurance level 3.',
        ),
        'passkeys-step-up',
      )}
      <p>
        <a class="button" id="passkeys-step-up-link" href="${stepUpHref('/wallet/passkeys')}"
          >${t('提升认证等级', 'Raise your level')}</a
        >
      </p>`;
  }
  const passkeys = input.passkeys;
  const refusedAt = input.refused ? passkeys.findIndex((p) => p.id === input.refused?.passkeyId) : -1;
  const refusedMessages = (i: number) => (i === refusedAt && input.refused ? [input.refused.message] : []);
  return html`${heading}
    ${
      input.refused
        ? errorSummary(t, 'passkeys-error-summary', [
            {
              target: refusedAt >= 0 ? `passkey-remove-password-${refusedAt}` : undefined,
              message: input.refused.message,
            },
          ])
        : html``
    }
    ${input.added ? notice('success', t('已添加通行密钥。', 'The passkey was added.'), 'passkeys-added') : html``}
    ${input.removed ? notice('success', t('已删除通行密钥。', 'The passkey was removed.'), 'passkeys-removed') : html``}
    ${
      input.wrongPassword
        ? notice(
            'error',
            t(
              '密码不正确（或错误次数过多），通行密钥未删除。',
              'The password is not right (or too many were wrong): the passkey was not removed.',
            ),
            'passkeys-wrong-password',
          )
        : html``
    }
    <p class="muted" id="passkeys-password-note">
      ${t(
        '添加或删除通行密钥需在 10 分钟内登录过，并再次输入登录密码。重置密码会删除全部通行密钥。',
        'Adding or removing a passkey needs a sign-in of the last 10 minutes and your password typed again. Resetting the password removes every passkey.',
      )}
    </p>
    <h2 id="passkeys-list">${t('已添加的通行密钥', 'Your passkeys')}</h2>
    ${
      passkeys.length === 0
        ? html`<p class="muted" id="passkeys-empty">${t('尚未添加通行密钥。', 'No passkeys yet.')}</p>`
        : html`<ul class="cards wallet-cards" role="list" aria-labelledby="passkeys-list">
            ${passkeys.map(
              (passkey, i) =>
                html`<li>
                  <article class="card passkey">
                    <h3 id="passkey-${i}">${passkey.name}</h3>
                    <dl class="fields">
                      <dt>${t('添加于', 'Added')}</dt>
                      <dd><time datetime="${passkey.createdAt}">${calendarDate(passkey.createdAt)}</time></dd>
                      <dt>${t('最近使用', 'Last used')}</dt>
                      <dd>
                        ${
                          passkey.lastUsedAt
                            ? html`<time datetime="${passkey.lastUsedAt}"
                                >${calendarDate(passkey.lastUsedAt)}</time
                              >`
                            : t('从未使用', 'Never')
                        }
                      </dd>
                    </dl>
                    <form
                      method="post"
                      action="/wallet/passkeys/${encodeURIComponent(passkey.id)}/remove"
                      class="inline"
                    >
                      <label for="passkey-remove-password-${i}">${removePasskeyLabels.password(t)}</label>
                      ${fieldErrorsOf(`passkey-remove-password-${i}`, refusedMessages(i))}
                      <input
                        type="password"
                        name="password"
                        id="passkey-remove-password-${i}"
                        autocomplete="current-password"
                        required
                        maxlength="1024"
                        aria-describedby="passkey-${i}${refusedMessages(i).length > 0 ? ` passkey-remove-password-${i}-error` : ''}"
                        ${attr('aria-invalid', refusedMessages(i).length > 0 ? 'true' : undefined)}
                      />
                      <button type="submit" class="secondary" aria-describedby="passkey-${i}">
                        ${t('删除', 'Remove')}
                      </button>
                    </form>
                  </article>
                </li>`,
            )}
          </ul>`
    }
    <section
      class="card"
      id="passkey-enrol"
      hidden
      data-failed="${t('未能添加通行密钥，请重试。', 'The passkey could not be added: please try again.')}"
      data-cancelled="${t('已取消添加。', 'Adding the passkey was cancelled.')}"
      data-ended="${t('登录已结束，请重新登录。', 'Your sign-in has ended: please sign in again.')}"
      data-password="${t('请输入登录密码。', 'Please type your password.')}"
      data-wrong="${t('密码不正确（或错误次数过多），未添加通行密钥。', 'The password is not right (or too many were wrong): no passkey was added.')}"
      data-owed="${t('您的账号刚重置过密码（或被找回），旧的登录和通行密钥仍在清除中，暂时不能添加通行密钥。清除会在几分钟内自动完成，请稍后再试；如果一直不能添加，请再次用手机验证码重置密码。', 'Your account’s password was just reset (or the account taken back): its old sign-ins and passkeys are still being removed, so no passkey can be added yet. This finishes by itself within a few minutes: please try again shortly. If it keeps failing, reset the password again with a code to your phone.')}"
      data-fresh-href="${passkeysFreshHref}"
      aria-labelledby="passkey-enrol-heading"
    >
      <h2 id="passkey-enrol-heading">${t('添加通行密钥', 'Add a passkey')}</h2>
      <label for="passkey-name">${t('名称（可选）', 'Name (optional)')}</label>
      <input type="text" id="passkey-name" name="name" maxlength="40" autocomplete="off" />
      <label for="passkey-password">${removePasskeyLabels.password(t)}</label>
      <input
        type="password"
        id="passkey-password"
        name="password"
        maxlength="1024"
        autocomplete="current-password"
        required
      />
      <p class="notice error" id="passkey-enrol-error" hidden></p>
      <button type="button" id="passkey-add">${t('添加通行密钥', 'Add a passkey')}</button>
    </section>`;
}
