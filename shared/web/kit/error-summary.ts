import { html, type SafeHtml } from './html.js';
import type { Translate } from './i18n.js';

/** One refused field in an {@link errorSummary}: where its input is, and the message (its label in it). */
export interface SummaryItem {
  /**
   * The id of the field's input (or its first choice), which the item links to; none for a refusal of
   * the whole form (the API's, naming no field), listed without a link.
   */
  target?: string | undefined;
  message: string;
}

/**
 * The summary of a refused form at the top of its page (review R62-2): `role="alert"`, so that it is
 * announced, focused when the page loads (`autofocus` on a `tabindex="-1"` container: no script), each
 * item a link to its field, whose own error sits beside it. A form far down the page is then no longer
 * refused silently with the focus on `<body>`.
 *
 * @example
 * ```ts
 * errorSummary(t, 'counter-error-summary', [{ target: 'name', message: '姓名：请填写。' }]);
 * ```
 */
export function errorSummary(t: Translate, id: string, items: readonly SummaryItem[]): SafeHtml {
  if (items.length === 0) return html``;
  return html`<div
    class="notice error"
    role="alert"
    id="${id}"
    tabindex="-1"
    autofocus
    aria-labelledby="${id}-title"
  >
    <p id="${id}-title">${t('请更正以下各项：', 'Please correct the following:')}</p>
    <ul>
      ${items.map((item) =>
        item.target === undefined
          ? html`<li>${item.message}</li>`
          : html`<li><a href="#${item.target}">${item.message}</a></li>`,
      )}
    </ul>
  </div>`;
}
