import type { HttpResult } from '../../http/types.js';
import { attr, html, SafeHtml } from './html.js';
import { htmlLang, translator, type Lang, type Translate } from './i18n.js';

/**
 * Every page's security headers. Scripts, styles and workers come only from this service (no CDN, no
 * inline code); nothing frames the pages; forms post only here; nothing is cached, since pages show
 * personal data.
 */
export const pageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'camera=(self), microphone=(), geolocation=()',
} as const;

export type Section = 'home' | 'wallet' | 'verifier' | 'demo' | 'console' | 'supervision';

export interface PageInput {
  lang: Lang;
  /** The path of this page, for the language switch. */
  path: string;
  title: string;
  section: Section;
  body: SafeHtml;
  /** Our own scripts under `/assets/`, loaded as deferred modules. */
  scripts?: readonly string[];
  /**
   * Where the language switch leads, when `path?lang=…` would not show the same page again (a page
   * answering a form post, or one whose query matters). Default: `${path}?lang=<the other language>`.
   */
  langSwitchHref?: string;
  /** Leaves out the site navigation, for pages that are a step of a flow (signing in). */
  hideNavigation?: boolean;
}

const sections: ReadonlyArray<{ id: Section; href: string; zh: string; en: string }> = [
  { id: 'home', href: '/', zh: '首页', en: 'Home' },
  { id: 'wallet', href: '/wallet', zh: '我的证照', en: 'My licences' },
  { id: 'verifier', href: '/verifier', zh: '扫码核验', en: 'Verify' },
  { id: 'demo', href: '/demo', zh: '演示平台', en: 'Demo platform' },
  { id: 'console', href: '/console', zh: '发证机关', en: 'Issuer console' },
  { id: 'supervision', href: '/supervision', zh: '电子监察', en: 'Supervision' },
];

/**
 * A complete page: Simplified Chinese unless English was chosen, one stylesheet, a skip link, the site
 * navigation with the current section marked, and the language switch.
 *
 * @example
 * ```ts
 * return htmlPage(200, renderPage({ lang, path: '/wallet', title: t('我的证照', 'My licences'), section: 'wallet', body }));
 * ```
 */
export function renderPage(input: PageInput): string {
  const t = translator(input.lang);
  const other: Lang = input.lang === 'en' ? 'zh' : 'en';
  return html`<!doctype html>
    <html lang="${htmlLang(input.lang)}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>${input.title} · ${t('电子证照与统一身份认证', 'E-licences and unified identity')}</title>
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/app.css" />
        ${(input.scripts ?? []).map((src) => html`<script type="module" src="/assets/${src}"></script>`)}
      </head>
      <body>
        <a class="skip" href="#main">${t('跳到正文', 'Skip to content')}</a>
        <header class="site">
          <a class="brand" href="/">${t('电子证照 · 统一身份认证', 'E-licences · Unified identity')}</a>
          ${
            input.hideNavigation
              ? html``
              : html`<nav aria-label="${t('主导航', 'Main')}">
                  <ul>
                    ${sections.map(
                      (s) =>
                        html`<li>
                          <a href="${s.href}" ${attr('aria-current', s.id === input.section && 'page')}
                            >${t(s.zh, s.en)}</a
                          >
                        </li>`,
                    )}
                  </ul>
                </nav>`
          }
          <a
            class="lang"
            href="${input.langSwitchHref ?? `${input.path}?lang=${other}`}"
            lang="${htmlLang(other)}"
            hreflang="${htmlLang(other)}"
            >${other === 'en' ? 'English' : '中文'}</a
          >
        </header>
        <main id="main" tabindex="-1" ${attr('class', input.hideNavigation && 'step')}>${input.body}</main>
      </body>
    </html>`.value;
}

/** An HTML answer with {@link pageHeaders}. */
export function htmlPage(statusCode: number, body: string, cookies: string[] = []): HttpResult {
  return { statusCode, headers: { ...pageHeaders }, body, ...(cookies.length > 0 ? { cookies } : {}) };
}

/** `303 See Other`: after a form post, and into and out of sign-in. */
export function redirect(location: string, cookies: string[] = []): HttpResult {
  return {
    statusCode: 303,
    headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    ...(cookies.length > 0 ? { cookies } : {}),
  };
}

/** A notice box for errors (`role="alert"`, announced by screen readers) or confirmations. */
export function notice(
  kind: 'error' | 'warn' | 'success' | 'info',
  message: string | SafeHtml,
  id?: string,
): SafeHtml {
  return html`<div class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}" ${attr('id', id)}>
    ${message}
  </div>`;
}

export { attr, html, SafeHtml, type Translate };
