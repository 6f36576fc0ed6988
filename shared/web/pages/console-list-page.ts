import type { LicencePage, LicenceTypeEntry } from '../console/issuer-api.js';
import { maxExportRows } from '../console/licence-csv.js';
import {
  maxBackCursors,
  searchFilters,
  totalField,
  type ConsoleSearch,
  type DayFilter,
  type ListSort,
} from '../console/licence-search.js';
import { dayHint, dayInputAttributes } from '../kit/day-input.js';
import { chinaDate, statusBadge, statusLabel, typeName, validity } from '../console/labels.js';
import { attr, html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { notice } from '../kit/layout.js';
import { consoleBar, type ConsoleWho } from './console-common.js';

export interface ConsoleListInput {
  /** Who is signed in (the bar above the page). */
  who: ConsoleWho;
  page: LicencePage;
  types: readonly LicenceTypeEntry[];
  search: ConsoleSearch;
  /** Licences shown per page, to number the rows shown. */
  pageSize: number;
  notice?: { kind: 'error' | 'success' | 'info'; text: string };
  /** Search fields the API refused, with the message to show under each. */
  errors?: Partial<Record<'holder' | 'issuedTo' | 'issuedFrom', string>>;
  /** Day fields typed unreadable, shown again as typed (with their error) to correct. */
  typed?: Partial<Record<DayFilter, string>>;
  /**
   * The API asked which holder the number is (400 `ambiguous_holder`): a person and an enterprise under
   * the same number both hold this issuer's licences. The page asks the clerk, with a button for each.
   */
  askHolderKind?: boolean;
}

/** A day field's name as the page labels it: the legend and the field's own label. */
export const dayFilterName = (t: Translate, field: DayFilter): string =>
  field === 'issuedFrom' ? t('签发日期（起）', 'Issued from') : t('签发日期（止）', 'Issued to');

/** The error of a day field that is no day, naming it by its label and saying the format. */
export const dayFilterError = (t: Translate, field: DayFilter): string =>
  t(
    `${dayFilterName(t, field)}：请按“年-月-日”填写有效日期，如 2026-03-05。`,
    `${dayFilterName(t, field)}: enter a real date as YYYY-MM-DD, such as 2026-03-05.`,
  );

const statuses = ['valid', 'suspended', 'revoked', 'expired'] as const;

/**
 * `/console` signed in: this issuer's licences, searched by holder name or number, licence number, type,
 * status and issue day; sorted by issue date or number; a total for the search; previous and next pages
 * (the API's keyset cursors, the earlier ones carried in the posted pager); and an export of the search
 * to CSV. The search is posted, so a holder's name or number never lands in a URL. Holders appear
 * masked, as the API gives them.
 *
 * @example
 * ```ts
 * consoleListBody(t, { who, page: await api.list(listQueryOf(search, 20)), types, search, pageSize: 20 });
 * ```
 */
export function consoleListBody(t: Translate, input: ConsoleListInput): SafeHtml {
  const { page, search, types } = input;
  const errors = input.errors ?? {};
  const typed = input.typed ?? {};
  const filtered = Object.keys(searchFilters(search)).length > 0;
  return html`${consoleBar(t, input.who)}
    <h1>${t('已签发证照', 'Issued licences')}</h1>
    ${input.notice ? notice(input.notice.kind, input.notice.text) : ''}
    ${input.askHolderKind ? holderKindQuestion(t, search) : ''}
    <p><a class="button" href="/console/licences/new">${t('签发新证照', 'Issue a licence')}</a></p>
    <form
      method="post"
      action="/console"
      class="console-filters card"
      id="console-search"
      role="search"
      aria-label="${t('查询证照', 'Search licences')}"
      novalidate
    >
      ${textField('filter-holder-name', 'holderName', t('持证人姓名', 'Holder’s name'), search.holderName, {
        maxlength: 50,
        hint: t('可只填姓名的一部分。', 'Part of the name will do.'),
      })}
      ${textField('filter-number', 'number', t('证照编号', 'Licence number'), search.number, {
        maxlength: 100,
        hint: t('可只填编号的一部分，如流水号。', 'Part of the number will do, such as its serial.'),
        mono: true,
      })}
      ${textField('filter-holder', 'holder', t('持证人证件号码', 'Holder’s ID number'), search.holder, {
        maxlength: 32,
        hint: t(
          '完整的身份证号码或统一社会信用代码。',
          'A full resident ID number or unified social credit code.',
        ),
        mono: true,
        error: errors.holder,
      })}
      ${holderKindField(t, search, input.askHolderKind === true)}
      <div class="field">
        <label for="filter-type">${t('证照类型', 'Licence type')}</label>
        <select id="filter-type" name="type">
          <option value="">${t('全部', 'All')}</option>
          ${types.map(
            (type) =>
              html`<option
                value="${type.code}"
                ${attr('selected', search.type === type.code ? 'selected' : undefined)}
              >
                ${t(type.name, type.nameEn ?? type.name)}
              </option>`,
          )}
        </select>
      </div>
      <div class="field">
        <label for="filter-status">${t('状态', 'Status')}</label>
        <select id="filter-status" name="status">
          <option value="">${t('全部', 'All')}</option>
          ${statuses.map(
            (s) =>
              html`<option value="${s}" ${attr('selected', search.status === s ? 'selected' : undefined)}>
                ${statusLabel(s, t)}
              </option>`,
          )}
        </select>
      </div>
      <fieldset class="field console-dates">
        <legend>${t('签发日期', 'Issued between')}</legend>
        ${dateField(t, 'filter-issued-from', 'issuedFrom', t('起', 'From'), typed.issuedFrom ?? search.issuedFrom, errors.issuedFrom)}
        ${dateField(t, 'filter-issued-to', 'issuedTo', t('止', 'To'), typed.issuedTo ?? search.issuedTo, errors.issuedTo)}
        <span class="hint" id="filter-dates-hint">${dayHint(t)}</span>
      </fieldset>
      <div class="field check">
        <input
          type="checkbox"
          id="filter-key-withdrawn"
          name="keyWithdrawn"
          value="true"
          aria-describedby="filter-key-withdrawn-hint"
          ${attr('checked', search.keyWithdrawn ? 'checked' : undefined)}
        />
        <label for="filter-key-withdrawn"
          >${t('仅显示签发密钥已撤回的证照', 'Only licences of a withdrawn key')}</label
        >
        <span class="hint" id="filter-key-withdrawn-hint"
          >${t(
            '这些证照的二维码已无法通过核验，需重新签发（配合状态“有效”查找尚未重新签发的）。',
            'Their QR codes no longer verify: re-issue them (with the status “valid”: those not yet re-issued).',
          )}</span
        >
      </div>
      <input type="hidden" name="sort" value="${search.sort}" />
      <div class="console-filter-actions">
        <button type="submit">${t('查询', 'Search')}</button>
        <button type="submit" class="secondary" formaction="/console/export" aria-describedby="export-hint">
          ${t('导出 CSV', 'Export CSV')}
        </button>
        ${filtered ? html`<a href="/console">${t('清除条件', 'Clear the search')}</a>` : ''}
        <p class="hint" id="export-hint">
          ${t(
            `导出当前查询的全部结果（最多 ${maxExportRows.toLocaleString('en')} 条），证件号码已脱敏。`,
            `Exports every result of this search (at most ${maxExportRows.toLocaleString('en')}), holder numbers masked.`,
          )}
        </p>
      </div>
    </form>
    ${summary(t, input)}
    ${
      page.items.length === 0
        ? html`<p class="console-empty">
            ${
              filtered || search.cursor
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
                  ${sortHeader(t, t('证照编号', 'Licence number'), 'number', search.sort)}
                  <th scope="col">${t('类型', 'Type')}</th>
                  <th scope="col">${t('持证人', 'Holder')}</th>
                  <th scope="col">${t('状态', 'Status')}</th>
                  ${sortHeader(t, t('签发日期', 'Issued on'), 'issuedAt', search.sort)}
                  <th scope="col">${t('有效期', 'Validity')}</th>
                </tr>
              </thead>
              <tbody>
                ${page.items.map((licence) => {
                  const href = `/console/licences/${encodeURIComponent(licence.id)}`;
                  return html`<tr>
                    <td data-label="${t('证照编号', 'Licence number')}">
                      <a class="mono licence-number" href="${href}">${breakableNumber(licence.id)}</a>
                    </td>
                    <td data-label="${t('类型', 'Type')}" class="nowrap">
                      ${typeName(licence.type, types, t)}
                    </td>
                    <td data-label="${t('持证人', 'Holder')}">
                      <a href="${href}" tabindex="-1">${licence.holder.name}</a><br /><span
                        class="mono muted nowrap"
                        >${licence.holder.masked}</span
                      >
                    </td>
                    <td data-label="${t('状态', 'Status')}">
                      ${statusBadge(licence.status, t)}${
                        licence.keyWithdrawn
                          ? html`<br /><span class="muted nowrap key-withdrawn"
                                >${t('密钥已撤回', 'Key withdrawn')}</span
                              >`
                          : ''
                      }
                    </td>
                    <td data-label="${t('签发日期', 'Issued on')}" class="nowrap">
                      ${chinaDate(licence.issuedAt) ?? licence.issuedAt}
                    </td>
                    <td data-label="${t('有效期', 'Validity')}">
                      ${validity(licence.validFrom, licence.validUntil, t).cell}
                    </td>
                  </tr>`;
                })}
              </tbody>
            </table>
          </div>`
    }
    <nav class="console-pager" aria-label="${t('翻页', 'Pages')}">${pager(t, input)}</nav>`;
}

/** "共 123 条，第 2 页（第 21–40 条）": the total the API counted (capped: "1,000+"), and where this page sits. */
function summary(t: Translate, input: ConsoleListInput): SafeHtml {
  const { page, search, pageSize } = input;
  const total = page.total;
  const count = total ? `${total.count.toLocaleString('en')}${total.capped ? '+' : ''}` : undefined;
  const first = (search.page - 1) * pageSize + 1;
  const last = first + page.items.length - 1;
  const where =
    page.items.length === 0
      ? ''
      : t(`第 ${search.page} 页（第 ${first}–${last} 条）`, `page ${search.page} (${first}–${last})`);
  return html`<p class="console-summary" id="console-summary" role="status">
    ${count === undefined ? '' : html`<strong>${t(`共 ${count} 条`, `${count} licences`)}</strong>`}
    ${count !== undefined && where ? t('，', ', ') : ''}${where}
    ${
      total?.capped
        ? html`<span class="hint"
            >${t('（计数到上限即停止，请缩小查询条件以得到精确总数。）', '(Counting stops at its limit: narrow the search for an exact total.)')}</span
          >`
        : ''
    }
  </p>`;
}

/**
 * A sortable column's header: a button of the search form (`form=`), so a sort keeps the search and
 * starts again at its first page. `aria-sort` tells a screen reader the current order.
 */
function sortHeader(t: Translate, label: string, column: 'number' | 'issuedAt', sort: ListSort): SafeHtml {
  const current = sort === column ? 'ascending' : sort === `-${column}` ? 'descending' : undefined;
  const next: ListSort = current === 'descending' ? column : `-${column}`;
  const arrow = current === 'ascending' ? '↑' : current === 'descending' ? '↓' : '↕';
  const action = next.startsWith('-')
    ? t('按降序排列', 'sort descending')
    : t('按升序排列', 'sort ascending');
  return html`<th scope="col" ${attr('aria-sort', current)}>
    <button
      type="submit"
      form="console-search"
      name="sort"
      value="${next}"
      class="sort-button"
      aria-label="${label}，${action}"
    >
      ${label} <span aria-hidden="true">${arrow}</span>
    </button>
  </th>`;
}

/**
 * A licence number that stays whole within each dot-separated part: where the table or a phone's card is
 * too narrow it may break after a dot (`<wbr>`), never inside a part (CSS keeps it from wrapping elsewhere).
 */
function breakableNumber(id: string): SafeHtml {
  const parts = id.split('.');
  return html`${parts.map((part, i) => (i < parts.length - 1 ? html`${part}.<wbr />` : html`${part}`))}`;
}

/**
 * Previous and next: posted forms carrying the search, the cursor of the page to show, and the cursors
 * of the pages before it (keyset paging cannot go back by itself). Beyond {@link maxBackCursors} pages
 * the oldest are dropped, and "first page" remains.
 */
function pager(t: Translate, input: ConsoleListInput): SafeHtml {
  const { page, search } = input;
  const back = [...search.back];
  const previousCursor = back.pop();
  const targets: PageTarget[] = [];
  if (search.page > 1 && previousCursor === undefined) {
    targets.push({ label: t('第一页', 'First page'), back: [], page: 1 });
  }
  if (previousCursor !== undefined) {
    targets.push({
      label: t('上一页', 'Previous page'),
      ...(previousCursor === '-' ? {} : { cursor: previousCursor }),
      back,
      page: Math.max(1, search.page - 1),
    });
  }
  if (page.cursor) {
    const trail = [...search.back, search.cursor ?? '-'].slice(-maxBackCursors);
    targets.push({
      label: t('下一页', 'Next page'),
      cursor: page.cursor,
      back: trail,
      page: search.page + 1,
    });
  }
  // Every page carries the search's total, so it is counted once a search, not once a page.
  return html`${targets.map((target) => pageForm(search, target, page.total))}`;
}

/** One button of the pager: the page it shows, and the cursors it needs (`-`: the first page's). */
interface PageTarget {
  label: string;
  cursor?: string;
  back: string[];
  page: number;
}

function pageForm(
  search: ConsoleSearch,
  to: PageTarget,
  total: { count: number; capped: boolean } | undefined,
): SafeHtml {
  const fields: Record<string, string | undefined> = {
    ...searchFilters(search),
    sort: search.sort,
    cursor: to.cursor || undefined,
    back: to.back.length > 0 ? to.back.join(' ') : undefined,
    page: String(to.page),
    total: total ? totalField(total) : undefined,
  };
  return html`<form method="post" action="/console" class="inline">
    ${Object.entries(fields).map(([name, value]) =>
      value === undefined ? '' : html`<input type="hidden" name="${name}" value="${value}" />`,
    )}
    <button type="submit" class="secondary">${to.label}</button>
  </form>`;
}

const holderKinds = ['person', 'entity'] as const;

/** A holder kind as the search names it: the kind of holder and the number it reads. */
const holderKindLabel = (t: Translate, kind: (typeof holderKinds)[number]): string =>
  kind === 'person'
    ? t('自然人（按身份证号码）', 'A person (as a resident ID number)')
    : t('法人或其他组织（按统一社会信用代码）', 'An entity (as a unified social credit code)');

/**
 * 证件类型: how the number is read. Left at 自动识别, the API reads it as whichever kind it can be; when it
 * asks which ({@link holderKindQuestion}), the field says so too.
 */
function holderKindField(t: Translate, search: ConsoleSearch, asked: boolean): SafeHtml {
  const describedBy = ['filter-holder-kind-hint', asked ? 'filter-holder-kind-error' : undefined]
    .filter(Boolean)
    .join(' ');
  return html`<div class="field">
    <label for="filter-holder-kind">${t('证件类型', 'Kind of number')}</label>
    <select
      id="filter-holder-kind"
      name="holderKind"
      aria-describedby="${describedBy}"
      ${attr('aria-invalid', asked ? 'true' : undefined)}
    >
      <option value="">${t('自动识别', 'Either (detect)')}</option>
      ${holderKinds.map(
        (kind) =>
          html`<option
            value="${kind}"
            ${attr('selected', search.holderKind === kind ? 'selected' : undefined)}
          >
            ${holderKindLabel(t, kind)}
          </option>`,
      )}
    </select>
    <span class="hint" id="filter-holder-kind-hint"
      >${t(
        '同一号码既可能是身份证号码，也可能是统一社会信用代码时，可指定按哪一种查询。',
        'When a number could be both a resident ID number and a credit code, say which to search by.',
      )}</span
    >
    ${
      asked
        ? html`<p class="field-error" id="filter-holder-kind-error">
            ${t('请选择按哪一种证件查询。', 'Choose which kind of number to search by.')}
          </p>`
        : ''
    }
  </div>`;
}

/**
 * The API's question when a number is both a person's ID number and an enterprise's credit code, each
 * holding this issuer's licences: asked in words, with a button for each answer (a posted form carrying
 * the search, so the number stays out of the URL), never a bare refusal.
 */
function holderKindQuestion(t: Translate, search: ConsoleSearch): SafeHtml {
  const filters = searchFilters({ ...search, holderKind: undefined });
  return html`<div class="notice info" role="status" id="holder-kind-question">
    <p>
      <strong>${t('您要查询哪一方的证照？', 'Whose licences do you mean?')}</strong>
      ${t(
        '该号码既是某位自然人的身份证号码，也是某个法人或其他组织的统一社会信用代码，两者都持有本机关签发的证照。请选择要查询的一方：',
        'This number is both a person’s resident ID number and an entity’s unified social credit code, and both hold licences of this issuer. Choose whose to search:',
      )}
    </p>
    ${holderKinds.map(
      (kind) =>
        html`<form method="post" action="/console" class="inline">
          ${Object.entries({ ...filters, holderKind: kind, sort: search.sort }).map(
            ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`,
          )}
          <button type="submit" class="secondary" id="holder-kind-${kind}">
            ${
              kind === 'person'
                ? t('查询自然人的证照（按身份证号码）', 'A person’s licences (as a resident ID number)')
                : t(
                    '查询法人或其他组织的证照（按统一社会信用代码）',
                    'An entity’s licences (as a unified social credit code)',
                  )
            }
          </button>
        </form>`,
    )}
  </div>`;
}

function textField(
  id: string,
  name: string,
  label: string,
  value: string | undefined,
  options: { maxlength: number; hint: string; mono?: boolean; error?: string },
): SafeHtml {
  const describedBy = [`${id}-hint`, options.error ? `${id}-error` : undefined].filter(Boolean).join(' ');
  return html`<div class="field">
    <label for="${id}">${label}</label>
    <input
      id="${id}"
      name="${name}"
      type="text"
      value="${value ?? ''}"
      maxlength="${String(options.maxlength)}"
      autocomplete="off"
      spellcheck="false"
      ${attr('class', options.mono ? 'mono' : undefined)}
      ${attr('aria-invalid', options.error ? 'true' : undefined)}
      aria-describedby="${describedBy}"
    />
    <span class="hint" id="${id}-hint">${options.hint}</span>
    ${options.error ? html`<p class="field-error" id="${id}-error">${options.error}</p>` : ''}
  </div>`;
}

/**
 * A day of the search as a text input ({@link dayInputAttributes}), not `type="date"`: that one shows the
 * browser's locale (`mm/dd/yyyy` in an English Chromium) whatever the page's language.
 */
function dateField(
  t: Translate,
  id: string,
  name: DayFilter,
  label: string,
  value: string | undefined,
  error: string | undefined,
): SafeHtml {
  const describedBy = ['filter-dates-hint', error ? `${id}-error` : undefined].filter(Boolean).join(' ');
  return html`<div class="console-date">
    <label for="${id}">${label}</label>
    <input
      id="${id}"
      name="${name}"
      ${dayInputAttributes(t)}
      value="${value ?? ''}"
      ${attr('aria-invalid', error ? 'true' : undefined)}
      aria-describedby="${describedBy}"
    />
    ${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
  </div>`;
}
