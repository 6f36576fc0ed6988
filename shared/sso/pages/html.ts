import { html, SafeHtml } from '../../web/html.js';

export { escapeHtml, html, SafeHtml } from '../../web/html.js';

const style = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --brand: #b3261e; --line: #d0d0d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; color: var(--ink); background: #f5f5f5; }
header { background: var(--brand); color: #fff; padding: 12px 16px; font-weight: 600; }
main { max-width: 28rem; margin: 24px auto; background: #fff; padding: 24px; border: 1px solid var(--line); border-radius: 8px; }
h1 { font-size: 1.4rem; margin: 0 0 8px; }
p.lead { color: var(--muted); margin-top: 0; }
label { display: block; font-weight: 600; margin: 16px 0 4px; }
input[type=text], input[type=password] { width: 100%; padding: 10px; font-size: 1rem; border: 1px solid #767676; border-radius: 4px; }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin: 16px 0; }
fieldset label { font-weight: 400; margin: 8px 0; display: flex; gap: 8px; align-items: flex-start; }
button, a.button { display: inline-block; margin-top: 20px; padding: 10px 20px; font-size: 1rem; border-radius: 4px; border: 1px solid var(--brand); background: var(--brand); color: #fff; cursor: pointer; text-decoration: none; }
button.secondary, a.secondary { background: #fff; color: var(--brand); }
:focus-visible { outline: 3px solid #1565c0; outline-offset: 2px; }
.error { border-left: 4px solid var(--brand); background: #fdecea; padding: 8px 12px; margin: 16px 0; }
ul.claims { padding-left: 1.2rem; }
small { color: var(--muted); }
`;

/** Security headers for every page we render: no scripts, no framing, nothing cached. */
export const pageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** A complete page: Simplified Chinese first, with English alongside, readable on a phone. */
export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="zh-CN">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <link rel="icon" href="/assets/icon.svg" type="image/svg+xml" />
        <style>
          ${new SafeHtml(style)}
        </style>
      </head>
      <body>
        <header>统一身份认证 <span lang="en">Unified identity</span></header>
        <main>${body}</main>
      </body>
    </html>`.value;
}
