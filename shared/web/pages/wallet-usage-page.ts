import { clientDisplayName } from '../../identifiers/client-ids.js';
import { dateTime } from '../kit/china-time.js';
import type { Translate } from '../kit/i18n.js';
import { attr } from '../kit/html.js';
import { html, type SafeHtml } from '../kit/layout.js';
import type { WalletUsageEntry, WalletUsageKind, WalletUsagePage } from '../wallet/holder-api.js';
import { licenceTypeName } from '../wallet/licence-format.js';

/** The usage record's page. */
export const usageHref = '/wallet/usage';

/** The page of one kind of entry (all of them without one), from `cursor` on if given. */
function usageLink(action: WalletUsageKind | undefined, cursor?: string): string {
  const query = new URLSearchParams({ ...(action ? { action } : {}), ...(cursor ? { cursor } : {}) });
  const text = query.toString();
  return text ? `${usageHref}?${text}` : usageHref;
}

/** The filter links, in order: all entries, then each kind by the words people know it by. */
const filters: Array<[WalletUsageKind | undefined, string, [string, string]]> = [
  [undefined, 'all', ['全部', 'All']],
  ['shared', 'shared', ['授权用证', 'Shares']],
  ['verified', 'verified', ['核验', 'Verifications']],
  ['presented', 'presented', ['出示', 'Showings']],
  ['released', 'released', ['身份证号', 'ID number']],
  ['issuer_read', 'issuer-read', ['发证机关查阅', 'Issuer reads']],
  // A counter's lookups and proofs of the person (review R45 F2), shown at level 3 only: below it, none.
  ['counter_lookup', 'counter-lookup', ['窗口查询', 'Counter lookups']],
  ['counter_proof', 'counter-proof', ['当面核验', 'Counter proofs']],
  // The registry naming the person an enterprise's legal representative, or no longer (level 3 only).
  ['representative_changed', 'representative-changed', ['法定代表人变更', 'Representative changes']],
];

/**
 * The filter links (全部 / 授权用证 / 核验 / 出示): so that a share stays one click away however many
 * anonymous verifications of a printed QR code follow it (security review r2). The current one is marked.
 */
function filterLinks(t: Translate, current: WalletUsageKind | undefined): SafeHtml {
  return html`<nav class="usage-filters" aria-label="${t('按类别查看', 'Show by kind')}">
    <ul class="usage-filter-list">
      ${filters.map(
        ([action, id, [zh, en]]) =>
          html`<li>
            <a
              href="${usageLink(action)}"
              id="usage-filter-${id}"
              ${attr('aria-current', action === current && 'page')}
              >${t(zh, en)}</a
            >
          </li>`,
      )}
    </ul>
  </nav>`;
}

/** The verdicts a verification of one's licence can have (a licence named only once its signature held). */
const verdictWords: Record<string, [string, string]> = {
  valid: ['有效', 'Valid'],
  suspended: ['已暂停', 'Suspended'],
  revoked: ['已吊销', 'Revoked'],
  expired: ['已过期', 'Expired'],
  not_yet_valid: ['尚未生效', 'Not yet valid'],
};

/** The badge of a verdict: its words and the badge class of app.css (wallet.css: `unknown`). */
function verdictBadge(t: Translate, verdict: string): SafeHtml {
  const words = verdictWords[verdict];
  const className = words ? verdict : 'unknown';
  return html`<span class="badge ${className}">${words ? t(words[0], words[1]) : verdict}</span>`;
}

/**
 * One use of a licence as a sentence a person understands: who (the platform or verifier app by its
 * registered name, the service's own in the page's language, 匿名 for an anonymous verification, 您 for their own presentation), what, why (a share's
 * purpose), then the verdict and when, in China time.
 */
function usageSentence(t: Translate, entry: WalletUsageEntry): SafeHtml {
  const type = html`<strong>${licenceTypeName(entry.licenceType ?? '', t)}</strong>`;
  const client = entry.client
    ? html`<strong class="usage-client">${clientDisplayName(entry.client.id, entry.client.name, t)}</strong>`
    : undefined;
  switch (entry.action) {
    case 'verified':
      return client
        ? html`${client} ${t('核验了您的', 'verified your')} ${type}${printed(t, entry)}`
        : html`${t('匿名核验', 'Anonymous verification')}${t('：您的', ' of your')}
          ${type}${printed(t, entry)}`;
    case 'presented':
      return html`${t('您出示了', 'You showed your')} ${type}`;
    case 'exported':
      return html`${t('您导出了您的数据副本', 'You downloaded a copy of your data')}`;
    case 'released':
      return html`${client ?? t('某平台', 'a platform')}
      ${t('获取了您的身份证号（经您单独同意）', 'received your resident ID number (with your separate consent)')}`;
    case 'issuer_read':
      // The agency, never which of its staff (the audit trail keeps that for supervision).
      return html`<strong class="usage-client"
          >${entry.issuer?.name ?? t('发证机关', 'The issuing agency')}</strong
        >
        ${t('查阅了其签发给您的', 'read the')} ${type}${t('', ' it issued to you')}`;
    case 'representative_changed': {
      // The registry's change (变更登记): the enterprise, and which side the person is on, never the other.
      const entity = html`<strong class="usage-client"
        >${entry.entity?.name ?? t('某企业', 'an enterprise')}</strong
      >`;
      return entry.role === 'new'
        ? html`${t('登记机关将您登记为', 'The registry recorded you as the legal representative of')}
          ${entity}${t('的法定代表人', '')}`
        : html`${t('登记机关已变更', 'The registry recorded another legal representative of')}
          ${entity}${t('的法定代表人，您不再是其法定代表人', ': you no longer represent it')}`;
    }
    case 'counter_lookup':
    case 'counter_proof':
      // At an agency's counter (当面核验): the agency, never which of its clerks (review R45 F2).
      return html`<strong class="usage-client"
          >${entry.issuer?.name ?? t('发证机关', 'An issuing agency')}</strong
        >
        ${counterWords(t, entry)}`;
    case 'shared':
      return html`${t('您授权', 'You allowed')} ${client ?? t('某平台', 'a platform')}
      ${t('使用您的', 'to use your')}
      ${type}${
        entry.purpose
          ? html`${t('，用途：', ', for: ')}<q class="usage-purpose">${entry.purpose}</q>`
          : html``
      }`;
  }
}

/** What an agency's counter did with the person's account, refused or not. */
function counterWords(t: Translate, entry: WalletUsageEntry): string {
  if (entry.action === 'counter_lookup') {
    return entry.refused
      ? t('在窗口查询您的账户，未获通过', 'tried to look up your account at its counter, and was refused')
      : t('在窗口查询了您的账户', 'looked up your account at its counter');
  }
  return entry.refused
    ? t('在窗口当面核验您的身份，未获通过', 'tried to prove you in person at its counter, and was refused')
    : t('在窗口当面核验了您的身份', 'proved you in person at its counter');
}

/** A check of the printable licence (the PDF and its signature) rather than a scan of its QR code. */
function printed(t: Translate, entry: WalletUsageEntry): SafeHtml {
  return entry.format === 'pdf' ? html`${t('（打印件）', ' (printed copy)')}` : html``;
}

function usageItem(t: Translate, entry: WalletUsageEntry): SafeHtml {
  return html`<li class="usage-entry usage-${entry.action}">
    <p class="usage-what">${usageSentence(t, entry)}</p>
    <p class="usage-when muted">
      ${entry.verdict ? html`${verdictBadge(t, entry.verdict)} · ` : html``}<time datetime="${entry.at}"
        >${dateTime(entry.at)}</time
      >
    </p>
  </li>`;
}

/**
 * `/wallet/usage` (用证记录): every share, verification and presentation of the person's licences (and of
 * the enterprise's, when they act for one), newest first, a page at a time; what the record keeps and
 * who can read it in a sentence; links to show one kind of entry (全部 / 授权用证 / 核验 / 出示), to the older
 * entries and back to the newest, each keeping the kind shown.
 *
 * @example
 * ```ts
 * renderPage({ ...context, section: 'wallet', title, body: usageBody(t, await api.usage(cursor, action), { older: Boolean(cursor), action }) });
 * ```
 */
export function usageBody(
  t: Translate,
  page: WalletUsagePage,
  options: { older: boolean; action?: WalletUsageKind },
): SafeHtml {
  const { action } = options;
  // 'Older entries' and 'back to the newest' keep the filter.
  const next = page.cursor ? usageLink(action, page.cursor) : undefined;
  return html`<p><a href="/wallet">← ${t('返回我的证照', 'Back to my licences')}</a></p>
    <h1>${t('用证记录', 'Licence usage')}</h1>
    <p class="lead">
      ${t(
        '谁在何时、为何使用了您的证照：平台经您授权读取、核验方扫码核验、您本人出示，以及发证机关打开您的某一证照或按您的身份查找证照。发证机关浏览其所发全部证照的清单不逐一记录。只有您本人能查看这些记录。',
        'Who used your licences, when and why: platforms you allowed to read them, verifiers who scanned them, your own showings, and an issuing agency opening one of your licences or searching by your identity. An agency browsing the list of all it has issued is not recorded licence by licence. Only you can see this record.',
      )}
    </p>
    ${filterLinks(t, action)}
    ${options.older ? html`<p><a href="${usageLink(action)}" id="usage-newest">${t('回到最新记录', 'Back to the newest')}</a></p>` : html``}
    ${
      page.items.length === 0
        ? html`<p class="muted" id="usage-empty">
            ${
              next
                ? // A page filtered by kind reads a bounded stretch of the record: none here, more further back.
                  t(
                    '这段记录中没有此类记录，请查看更早的记录。',
                    'None of this kind here; see the older entries.',
                  )
                : options.older
                  ? t('没有更早的记录。', 'No older entries.')
                  : action
                    ? t('没有此类记录。', 'No entries of this kind.')
                    : t('您的证照尚未被使用。', 'Your licences have not been used yet.')
            }
          </p>`
        : html`<ol
            class="usage-list"
            id="usage-list"
            aria-label="${t('用证记录，最新的在前', 'Licence usage, newest first')}"
          >
            ${page.items.map((entry) => usageItem(t, entry))}
          </ol>`
    }
    ${next ? html`<p><a class="button secondary" href="${next}" id="usage-older" rel="next">${t('更早的记录', 'Older entries')}</a></p>` : html``}`;
}
