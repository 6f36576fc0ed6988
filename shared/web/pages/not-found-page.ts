import { html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';

/**
 * The page a person's browser gets for an address the service does not have: in the site's layout and
 * language, with the ways on (home, wallet, verifier), never the API's JSON.
 *
 * @example
 * ```ts
 * htmlPage(404, renderPage({ ...context, section: 'home', title, body: notFoundBody(t) }));
 * ```
 */
export function notFoundBody(t: Translate): SafeHtml {
  return html`<h1 id="not-found">${t('找不到此页面', 'Page not found')}</h1>
    <p class="lead">
      ${t(
        '您访问的网址不存在，可能输入有误，或页面已经移动。',
        'There is no page at this address: it may be mistyped, or the page has moved.',
      )}
    </p>
    <ul class="not-found-ways">
      <li><a href="/">${t('返回首页', 'Go to the home page')}</a></li>
      <li><a href="/wallet">${t('我的证照', 'My licences')}</a></li>
      <li><a href="/verifier">${t('扫码核验', 'Verify a licence')}</a></li>
    </ul>`;
}
