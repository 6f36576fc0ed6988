import { langCookie, langCookieHeader, translator, type Lang, type Translate } from '../kit/i18n.js';
import { renderPage } from '../kit/layout.js';
import { html, type SafeHtml } from '../kit/html.js';

export { escapeHtml, html, SafeHtml } from '../kit/html.js';

/**
 * What a page of the unified identity runs: nothing (the default), our own script files only (the
 * 获取验证码 countdown, which talks to no one), or our own files that also fetch from us (the sign-in
 * page's passkey button and scan-to-login code).
 */
export type PageScripts = 'none' | 'self' | 'self-and-fetch';

/**
 * Security headers of the unified identity's pages: the site's stylesheet and icon, no script unless the
 * page asks for its own ({@link PageScripts}), no framing, nothing cached. Forms post only here, and may end where the request being answered is
 * going: `redirectTo` (the client's validated `redirect_uri`, or the logout's `post_logout_redirect_uri`)
 * is a form target too, since `form-action` also governs the redirects that follow a form post, and the
 * provider answers a finished sign-in or logout with a redirect to the platform.
 */
export function pageHeaders(
  redirectTo?: string,
  options: { scripts?: PageScripts } = {},
): Record<string, string> {
  const target = redirectTo ? formTarget(redirectTo) : undefined;
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': [
      "default-src 'none'",
      "style-src 'self'",
      "img-src 'self' data:",
      `form-action 'self'${target ? ` ${target}` : ''}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
      // Our own files only, and a fetch only for the page whose script makes one (the sign-in page's).
      ...(options.scripts === 'self' || options.scripts === 'self-and-fetch' ? ["script-src 'self'"] : []),
      ...(options.scripts === 'self-and-fetch' ? ["connect-src 'self'"] : []),
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

/** The CSP source of a redirect URI: its origin, for http(s) only (registration allows nothing else). */
function formTarget(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The little the provider's Koa context offers to find the visitor's language. */
export interface LangRequest {
  query: Record<string, string | string[] | undefined>;
  cookies: { get(name: string, options?: { signed?: boolean }): string | undefined };
  append(field: string, value: string): void;
}

/**
 * The visitor's language as the rest of the site finds it (`langOf`): `?lang=`, else the `lang` cookie,
 * else Simplified Chinese. A `?lang=` choice is remembered in the same cookie the site sets, so the
 * form posts that follow (which carry no query) answer in it too. The cookie is read unsigned: the
 * provider signs its own cookies, and Koa would otherwise look for a `lang.sig` the site never sets.
 */
export function pageLang(ctx: LangRequest, secure: boolean): Lang {
  const asked = ctx.query['lang'];
  const chosen = asked === 'en' || asked === 'zh' ? asked : undefined;
  if (chosen) {
    ctx.append('set-cookie', langCookieHeader(chosen, secure));
    return chosen;
  }
  return ctx.cookies.get(langCookie, { signed: false }) === 'en' ? 'en' : 'zh';
}

/** `pathAndQuery` with its `lang` parameter set to `lang`, the rest of the query kept. */
export function withLang(pathAndQuery: string, lang: Lang): string {
  const url = new URL(pathAndQuery, 'http://localhost');
  url.searchParams.set('lang', lang);
  return `${url.pathname}${url.search}`;
}

/** How a page of the unified identity is shown: its language and where the language switch leads. */
export interface PageView {
  lang: Lang;
  t: Translate;
  /** This same page (or step) in the other language. */
  langSwitchHref: string;
}

/** A {@link PageView} in `lang`, switching through `switchTo(otherLang)`. */
export function pageView(lang: Lang, switchTo: (other: Lang) => string): PageView {
  return { lang, t: translator(lang), langSwitchHref: switchTo(lang === 'en' ? 'zh' : 'en') };
}

/**
 * A complete page in the site's layout and stylesheet. The site navigation is left out: these pages are
 * a step of a platform's sign-in or logout, often a platform of another organisation, and links to the
 * wallet, verifier or console would only lead away from the step (and from its interaction) half way.
 */
export function page(view: PageView, title: string, body: SafeHtml, scripts?: readonly string[]): string {
  return renderPage({
    ...(scripts ? { scripts } : {}),
    lang: view.lang,
    path: '/',
    title,
    section: 'home',
    body,
    langSwitchHref: view.langSwitchHref,
    hideNavigation: true,
  });
}

/**
 * The way to registration under a sign-in form (还没有账号？注册): on the login page and the reset page. On
 * the reset page it tells nothing new: registration itself answers 409 for a number with an account.
 */
export function registerLink(t: Translate): SafeHtml {
  return html`<p>
    <small>${t('还没有账号？', 'No account yet?')} <a href="/register">${t('注册', 'Register')}</a></small>
  </p>`;
}
