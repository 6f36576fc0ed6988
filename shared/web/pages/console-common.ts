import { html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';

/**
 * Who is signed in to the console: a counter clerk acting for their agency (their reference, as the audit
 * trail names them, and the agency's name), or, on a deployment still migrating, the agency's OAuth
 * client id (`CONSOLE_CLIENT_SECRET_SIGN_IN`, docs/console.md).
 */
export type ConsoleWho = string | { agency: string; clerk: string };

/**
 * The bar above every signed-in console page: who is signed in, the way back to the list, and signing
 * out (a form, since it changes state: it ends the session).
 *
 * @example
 * ```ts
 * html`${consoleBar(t, { agency: '北京市政务服务管理局', clerk: 'Qm3x9Lp0…' })}<h1>…</h1>`;
 * ```
 */
export function consoleBar(t: Translate, who: ConsoleWho): SafeHtml {
  return html`<div class="console-bar">
    ${
      typeof who === 'string'
        ? html`<p class="console-who">${t('已登录客户端', 'Signed in as client')} <code>${who}</code></p>`
        : html`<p class="console-who">
            ${who.agency} · ${t('经办人编号', 'Clerk')}
            <code title="${who.clerk}">${who.clerk.slice(0, 8)}</code>
          </p>`
    }
    <nav class="console-nav" aria-label="${t('控制台', 'Console')}">
      <a href="/console">${t('已签发证照', 'Issued licences')}</a>
      <a href="/console/licences/new">${t('签发新证照', 'Issue a licence')}</a>
      <a href="/console/counter">${t('当面核验', 'Prove in person')}</a>
      <form method="post" action="/console/logout" class="inline">
        <button type="submit" class="secondary">${t('退出登录', 'Sign out')}</button>
      </form>
    </nav>
  </div>`;
}
