import type { LicencePage, LicenceTypeEntry } from '../console/issuer-api.js';
import { statusBadge, statusLabel, typeName, validityText } from '../console/labels.js';
import { attr, html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { notice } from '../kit/layout.js';
import { consoleBar } from './console-common.js';

export interface ConsoleListInput {
  clientId: string;
  page: LicencePage;
  types: readonly LicenceTypeEntry[];
  filters: { status?: string; holder?: string; cursor?: string };
  notice?: { kind: 'error' | 'success' | 'info'; text: string };
}

const statuses = ['valid', 'suspended', 'revoked', 'expired'] as const;

/**
 * `/console` signed in: this issuer's licences, newest first, filtered by status and holder, a page at
 * a time (the API's cursor in the "next page" link). Holders appear masked, as the API gives them.
 *
 * @example
 * ```ts
 * consoleListBody(t, { clientId, page: await api.list(filters), types, filters });
 * ```
 */
export function consoleListBody(t: Translate, input: ConsoleListInput): SafeHtml {
  const { page, filters, types } = input;
  const filtered = Boolean(filters.status || filters.holder);
  return html`${consoleBar(t, input.clientId)}
    <h1>${t('已签发证照', 'Issued licences')}</h1>
    ${input.notice ? notice(input.notice.kind, input.notice.text) : ''}
    <p><a class="button" href="/console/licences/new">${t('签发新证照', 'Issue a licence')}</a></p>
    <form
      method="post"
      action="/console"
      class="console-filters"
      role="search"
      aria-label="${t('筛选', 'Filter')}"
    >
      <div class="field">
        <label for="filter-status">${t('状态', 'Status')}</label>
        <select id="filter-status" name="status">
          <option value="">${t('全部', 'All')}</option>
          ${statuses.map(
            (s) =>
              html`<option value="${s}" ${attr('selected', filters.status === s ? 'selected' : undefined)}>
                ${statusLabel(s, t)}
              </option>`,
          )}
        </select>
      </div>
      <div class="field">
        <label for="filter-holder">${t('持证人证件号码', 'Holder’s number')}</label>
        <input
          id="filter-holder"
          name="holder"
          type="text"
          value="${filters.holder ?? ''}"
          maxlength="32"
          autocomplete="off"
          spellcheck="false"
          aria-describedby="filter-holder-hint"
        />
        <span class="hint" id="filter-holder-hint"
          >${t('完整的身份证号码或统一社会信用代码。', 'A full resident ID number or unified social credit code.')}</span
        >
      </div>
      <button type="submit" class="secondary">${t('筛选', 'Filter')}</button>
      ${filtered ? html`<a href="/console">${t('清除筛选', 'Clear filters')}</a>` : ''}
    </form>
    ${
      page.items.length === 0
        ? html`<p class="console-empty">
            ${
              filtered || filters.cursor
                ? t('没有符合条件的证照。', 'No licences match.')
                : t('本机关尚未签发证照。', 'This issuer has not issued any licence yet.')
            }
          </p>`
        : html`<div class="table-scroll" role="region" aria-labelledby="console-table-caption" tabindex="0">
            <table class="console-table">
              <caption id="console-table-caption" class="visually-hidden">
                ${t('已签发证照', 'Issued licences')}
              </caption>
              <thead>
                <tr>
                  <th scope="col">${t('证照编号', 'Licence number')}</th>
                  <th scope="col">${t('类型', 'Type')}</th>
                  <th scope="col">${t('持证人', 'Holder')}</th>
                  <th scope="col">${t('状态', 'Status')}</th>
                  <th scope="col">${t('有效期', 'Validity')}</th>
                </tr>
              </thead>
              <tbody>
                ${page.items.map(
                  (licence) =>
                    html`<tr>
                      <td data-label="${t('证照编号', 'Licence number')}">
                        <a class="mono" href="/console/licences/${encodeURIComponent(licence.id)}"
                          >${licence.id}</a
                        >
                      </td>
                      <td data-label="${t('类型', 'Type')}">${typeName(licence.type, types, t)}</td>
                      <td data-label="${t('持证人', 'Holder')}">
                        ${licence.holder.name}<br /><span class="mono muted">${licence.holder.masked}</span>
                      </td>
                      <td data-label="${t('状态', 'Status')}">${statusBadge(licence.status, t)}</td>
                      <td data-label="${t('有效期', 'Validity')}">
                        ${validityText(licence.validFrom, licence.validUntil, t)}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
    }
    <div class="console-pager">
      ${filters.cursor ? pageForm(t('第一页', 'First page'), filters, undefined) : ''}
      ${page.cursor ? pageForm(t('下一页', 'Next page'), filters, page.cursor) : ''}
    </div>`;
}

/**
 * A pager button: the filters and the cursor travel as posted fields, so a holder's number never
 * appears in a URL, the history or a server log.
 */
function pageForm(label: string, filters: ConsoleListInput['filters'], cursor: string | undefined): SafeHtml {
  return html`<form method="post" action="/console" class="inline">
    ${filters.status ? html`<input type="hidden" name="status" value="${filters.status}" />` : ''}
    ${filters.holder ? html`<input type="hidden" name="holder" value="${filters.holder}" />` : ''}
    ${cursor ? html`<input type="hidden" name="cursor" value="${cursor}" />` : ''}
    <button type="submit" class="secondary">${label}</button>
  </form>`;
}
