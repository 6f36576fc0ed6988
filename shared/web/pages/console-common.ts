import { html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';

/**
 * The bar above every signed-in console page: who is signed in (the client id, not a person), the way
 * back to the list, and signing out (a form, since it changes state: it revokes the token).
 *
 * @example
 * ```ts
 * html`${consoleBar(t, session.clientId)}<h1>…</h1>`;
 * ```
 */
export function consoleBar(t: Translate, clientId: string): SafeHtml {
  return html`<div class="console-bar">
    <p class="console-who">${t('已登录客户端', 'Signed in as client')} <code>${clientId}</code></p>
    <nav class="console-nav" aria-label="${t('控制台', 'Console')}">
      <a href="/console">${t('已签发证照', 'Issued licences')}</a>
      <a href="/console/licences/new">${t('签发新证照', 'Issue a licence')}</a>
      <form method="post" action="/console/logout" class="inline">
        <button type="submit" class="secondary">${t('退出登录', 'Sign out')}</button>
      </form>
    </nav>
  </div>`;
}
