import { html, type SafeHtml } from '../html.js';
import type { Lang, Translate } from '../i18n.js';

export const verifierScripts = ['verifier.js'] as const;

/** `/verifier`: the page the verifier script brings to life (scan, upload, paste → verdict card). */
export function verifierBody(t: Translate, lang: Lang): SafeHtml {
  return html`<h1>${t('扫码核验', 'Verify a licence')}</h1>
    <div id="verifier" data-lang="${lang}"></div>`;
}
