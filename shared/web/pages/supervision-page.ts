import { onlineVerdicts } from '../../../packages/verifier/src/verdict.js';
import { attr, html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { dateTime } from '../kit/china-time.js';
import type { LicenceTypeEntry } from '../console/issuer-api.js';
import {
  maxAlertsPerRule,
  type Alert,
  type IssuerChoice,
  type StatsDay,
  type TrailEntry,
} from '../supervision/supervision-api.js';
import { trendChart } from '../supervision/trend-chart.js';
import type { TrailResult } from '../supervision/check-licence-trail.js';

/**
 * The bar above every signed-in supervision page: who is signed in (a supervisor client), the way back to
 * the overview, and signing out.
 */
export function supervisionBar(t: Translate, clientId: string): SafeHtml {
  return html`<div class="console-bar">
    <p class="console-who">
      ${t('已登录监察客户端', 'Signed in as supervisor client')} <code>${clientId}</code>
    </p>
    <nav class="console-nav" aria-label="${t('电子监察', 'Supervision')}">
      <a href="/supervision">${t('监察概览', 'Overview')}</a>
      <form method="post" action="/supervision/logout" class="inline">
        <button type="submit" class="secondary">${t('退出登录', 'Sign out')}</button>
      </form>
    </nav>
  </div>`;
}

const verdictOrder: readonly string[] = onlineVerdicts;
const verdictRank = (verdict: string) => {
  const rank = verdictOrder.indexOf(verdict);
  return rank < 0 ? verdictOrder.length : rank;
};

/** The words of a verdict, as the verifier page says them. */
export function verdictLabel(verdict: string, t: Translate): string {
  const words: Record<string, [string, string]> = {
    valid: ['有效', 'Valid'],
    suspended: ['已暂扣', 'Suspended'],
    revoked: ['已吊销', 'Revoked'],
    expired: ['已过期', 'Expired'],
    not_yet_valid: ['尚未生效', 'Not yet valid'],
    invalid_signature: ['签名无效', 'Invalid signature'],
    unknown_issuer: ['发证机关未知', 'Unknown issuer'],
    malformed: ['无法识别', 'Unreadable'],
  };
  const pair = words[verdict];
  return pair ? t(...pair) : verdict;
}

/** A rule of the alerts in words; a rule this page does not know yet is shown by its id. */
export function ruleLabel(rule: string, t: Translate): string {
  const words: Record<string, [string, string]> = {
    'scan-failures-licence': ['同一证照反复出现无效扫码', 'Repeated invalid scans of one licence'],
    'scan-failures-verifier': ['同一核验应用反复出现无效扫码', 'Repeated invalid scans by one verifier app'],
    'bulk-status-change': ['发证机关批量吊销或暂扣', 'An issuer revoking or suspending in bulk'],
    'bulk-status-change-daily': [
      '发证机关当日吊销或暂扣过多',
      'An issuer revoking or suspending many in a day',
    ],
    'issuance-volume': ['发证机关签发量异常', 'Issuance outside an issuer’s usual volume'],
    'revoked-verified': ['已吊销证照被核验', 'A revoked licence was verified'],
    'verification-flood-licence': ['同一证照短时间内被大量核验', 'One licence verified unusually often'],
    'bulk-export': ['发证机关短时间内大量导出证照', 'An issuer exporting licences in bulk'],
    'bulk-export-daily': ['发证机关当日导出证照过多', 'An issuer exporting many licences in a day'],
  };
  const pair = words[rule];
  return pair ? t(...pair) : rule;
}

function severityBadge(severity: string, t: Translate): SafeHtml {
  const words: Record<string, [string, string]> = {
    high: ['高', 'High'],
    medium: ['中', 'Medium'],
    low: ['低', 'Low'],
  };
  const pair = words[severity];
  return html`<span class="badge severity-${severity.replace(/[^a-z]/g, '')}"
    >${pair ? t(...pair) : severity}</span
  >`;
}

/** All verifications of a day, whatever their verdict. */
export const verifiedTotal = (day: StatsDay) => Object.values(day.verified).reduce((a, b) => a + b, 0);

export interface SupervisionOverviewInput {
  clientId: string;
  /** China time's today, `YYYY-MM-DD`. */
  today: string;
  /** The 30 days up to today, oldest first, of the filter's issuer and type. */
  days: readonly StatsDay[];
  /** Newest first: each rule's newest (`SupervisionApi.alerts`). */
  alerts: readonly Alert[];
  /** The rules of which older alerts are not shown (more than `maxAlertsPerRule` in the days). */
  alertsCut: readonly string[];
  /** The days the alerts cover, for the heading. */
  alertDays: number;
  issuers: readonly IssuerChoice[];
  types: readonly LicenceTypeEntry[];
  filters: { issuer?: string; type?: string };
}

/**
 * `/supervision` signed in: today's figures, the 30-day trend of the chosen issuer and type as a chart
 * and a table, the alerts of the last days, and the way to a licence's chained audit trail.
 *
 * @example
 * ```ts
 * supervisionOverviewBody(t, { clientId, today: '2026-12-05', days, alerts, alertDays: 7, issuers, types, filters: {} });
 * ```
 */
export function supervisionOverviewBody(t: Translate, input: SupervisionOverviewInput): SafeHtml {
  const today = input.days.find((day) => day.date === input.today);
  const issuerName = input.issuers.find((issuer) => issuer.id === input.filters.issuer)?.name;
  const typeEntry = input.types.find((type) => type.code === input.filters.type);
  const typeName = typeEntry ? t(typeEntry.name, typeEntry.nameEn ?? typeEntry.name) : undefined;
  const scope = [
    issuerName ?? t('全部发证机关', 'All issuers'),
    typeName ?? t('全部证照类型', 'All licence types'),
  ].join(t('，', ', '));
  const figures: Array<[string, number, string?]> = today
    ? [
        [t('签发', 'Issued'), today.issued],
        [t('核验', 'Verified'), verifiedTotal(today)],
        [t('暂扣', 'Suspended'), today.suspended],
        [t('恢复', 'Reinstated'), today.reinstated],
        [t('吊销', 'Revoked'), today.revoked],
        [t('授权用证', 'Shared'), today.shared],
      ]
    : [];
  // In the verifier's order (valid first), whatever order the API's object has.
  const verdictsToday = today
    ? Object.entries(today.verified)
        .filter(([, n]) => n > 0)
        .sort(([a], [b]) => verdictRank(a) - verdictRank(b))
    : [];

  return html`${supervisionBar(t, input.clientId)}
    <h1>${t('电子监察', 'Supervision')}</h1>
    <p class="lead">
      ${t(
        '发证、状态变更、核验和授权用证的统计与预警；每条审计记录都在签名的哈希链中，可以独立验证。',
        'Statistics and alerts over issuance, status changes, verification and sharing; every audit entry is in a signed hash chain that anyone can check.',
      )}
    </p>
    <form
      method="get"
      action="/supervision"
      class="card supervision-filter"
      aria-label="${t('筛选', 'Filter')}"
    >
      <div class="field">
        <label for="issuer">${t('发证机关', 'Issuer')}</label>
        <select id="issuer" name="issuer">
          <option value="">${t('全部发证机关', 'All issuers')}</option>
          ${input.issuers.map(
            (issuer) =>
              html`<option
                value="${issuer.id}"
                ${attr('selected', issuer.id === input.filters.issuer && 'selected')}
              >
                ${issuer.name}${issuer.status === 'withdrawn' ? t('（已撤销）', ' (withdrawn)') : ''}
              </option>`,
          )}
        </select>
      </div>
      <div class="field">
        <label for="type">${t('证照类型', 'Licence type')}</label>
        <select id="type" name="type">
          <option value="">${t('全部证照类型', 'All licence types')}</option>
          ${input.types.map(
            (type) =>
              html`<option
                value="${type.code}"
                ${attr('selected', type.code === input.filters.type && 'selected')}
              >
                ${t(type.name, type.nameEn ?? type.name)}
              </option>`,
          )}
        </select>
      </div>
      <button type="submit">${t('查看', 'Show')}</button>
    </form>

    <section aria-labelledby="today-title">
      <h2 id="today-title">${t(`今日（${input.today}）`, `Today (${input.today})`)}</h2>
      <p class="hint">${scope}</p>
      <dl class="figures">
        ${figures.map(
          ([label, value]) =>
            html`<div class="figure">
              <dt>${label}</dt>
              <dd>${value}</dd>
            </div>`,
        )}
      </dl>
      ${
        verdictsToday.length > 0
          ? html`<p class="hint">
              ${t('核验结论：', 'Verdicts: ')}${verdictsToday
                .map(([verdict, n]) => `${verdictLabel(verdict, t)} ${n}`)
                .join(t('，', ', '))}
            </p>`
          : ''
      }
    </section>

    <section aria-labelledby="trend-title">
      <h2 id="trend-title">${t('近 30 天趋势', 'The last 30 days')}</h2>
      ${trendChart(t, {
        id: 'trend-chart',
        title: t(
          `每日签发、核验与状态变更（${scope}）`,
          `Issued, verified and status changes per day (${scope})`,
        ),
        dates: input.days.map((day) => day.date),
        series: [
          { label: t('签发', 'Issued'), kind: 'issued', values: input.days.map((day) => day.issued) },
          { label: t('核验', 'Verified'), kind: 'verified', values: input.days.map(verifiedTotal) },
          {
            label: t('暂扣与吊销', 'Suspended and revoked'),
            kind: 'status-changed',
            values: input.days.map((day) => day.suspended + day.revoked),
          },
        ],
      })}
    </section>

    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title">
        ${t(`预警（近 ${input.alertDays} 天）`, `Alerts (last ${input.alertDays} days)`)}
      </h2>
      ${input.alertsCut.map(
        (rule) =>
          html`<p class="notice alerts-cut" role="status">
            ${t(
              `「${ruleLabel(rule, t)}」预警过多：只列出最新的 ${maxAlertsPerRule} 条，更早的未显示。`,
              `Too many alerts of “${ruleLabel(rule, t)}”: only the newest ${maxAlertsPerRule} are listed; older ones are not shown.`,
            )}
          </p>`,
      )}
      ${
        input.alerts.length === 0
          ? html`<p>${t('没有预警。', 'No alerts.')}</p>`
          : html`<ul class="alerts">
              ${input.alerts.map(
                (alert) =>
                  html`<li class="card alert">
                    <p class="alert-head">
                      ${severityBadge(alert.severity, t)}
                      <strong>${ruleLabel(alert.rule, t)}</strong>
                      <time datetime="${alert.at}">${dateTime(alert.at)}</time>
                    </p>
                    <p>${t('对象：', 'Subject: ')}<code>${alert.subject}</code></p>
                    <p class="hint">${alert.detail}</p>
                  </li>`,
              )}
            </ul>`
      }
    </section>

    <section aria-labelledby="trail-title" class="card">
      <h2 id="trail-title">${t('查看证照的审计链', 'A licence’s chained audit trail')}</h2>
      <form method="get" action="/supervision/trail" class="supervision-trail-form">
        <label for="licence">${t('证照标识', 'Licence id')}</label>
        <input id="licence" name="licence" required spellcheck="false" autocapitalize="off" maxlength="200" />
        <button type="submit">${t('查看并验证', 'Show and check')}</button>
      </form>
    </section>`;
}

export interface TrailInput {
  clientId: string;
  licenceId: string;
  entries: readonly TrailEntry[];
  result: TrailResult;
  /** Entries written before chains existed: listed, not provable. */
  unchained: number;
  /** The days whose chains were recomputed; days beyond the limit are counted, not checked. */
  daysChecked: readonly string[];
  daysSkipped: number;
  /**
   * The links to other pages of a long trail (a page holds the API page of `trailPageSize` entries): the
   * first page's when this one is not, the next page's when more entries follow.
   */
  pages?: {
    first?: string;
    next?: string;
    /** When the page continues a list: the time (ISO 8601) of the place it continues after. */
    after?: string;
  };
}

/** An audit action in words. */
export function actionLabel(action: string, t: Translate): string {
  const words: Record<string, [string, string]> = {
    'licence.issued': ['签发', 'Issued'],
    'licence.suspended': ['暂扣', 'Suspended'],
    'licence.reinstated': ['恢复', 'Reinstated'],
    'licence.revoked': ['吊销', 'Revoked'],
    'licence.reissue_given_up': ['放弃重新签发', 'Re-issue given up'],
    'licence.verified': ['核验', 'Verified'],
    'licence.presented': ['出示', 'Presented'],
    'licence.shared': ['授权用证', 'Shared'],
  };
  const pair = words[action];
  return pair ? t(...pair) : action;
}

/**
 * `/supervision/trail?licence=`: a licence's audit entries, each with its place on a hash chain, and
 * whether those chains recompute and reach the heads a verified checkpoint signs. The result comes first
 * and in words; the hashes are there for whoever wants to check by hand (docs/supervision.md).
 *
 * @example
 * ```ts
 * supervisionTrailBody(t, { clientId, licenceId, entries, result: { kind: 'intact', chains: 3, unsigned: 0 }, unchained: 0, daysChecked, daysSkipped: 0 });
 * ```
 */
export function supervisionTrailBody(t: Translate, input: TrailInput): SafeHtml {
  const { result } = input;
  const pages = input.pages ?? {};
  const paged = pages.first !== undefined || pages.next !== undefined;
  const summary =
    result.kind === 'intact'
      ? html`<section class="card trail-result intact" role="status" aria-labelledby="trail-result-title">
          <h2 id="trail-result-title">✓ ${t('审计链完整', 'The trail is intact')}</h2>
          <p>
            ${t(
              `本证照的 ${input.entries.length - input.unchained} 条链上记录所在的 ${result.chains} 条哈希链已逐条重新计算，无篡改、删除或调换。`,
              `The ${result.chains} hash chains holding this licence's ${input.entries.length - input.unchained} chained entries were recomputed entry by entry: nothing was changed, removed or reordered.`,
            )}
          </p>
          <p>
            ${
              result.checkpointAt
                ? t(
                    `链头与 ${dateTime(result.checkpointAt)} 签名的检查点一致（签名已用平台公钥验证）。`,
                    `The chains reach the heads of the checkpoint signed at ${dateTime(result.checkpointAt)} (its signature verified with the platform's public key).`,
                  )
                : t('这些日期还没有签名的检查点。', 'No signed checkpoint covers these days yet.')
            }
            ${
              result.unsigned > 0
                ? t(
                    ` 其中 ${result.unsigned} 条记录晚于该检查点：链接完整，下一个检查点签名后即可证明。`,
                    ` ${result.unsigned} entries are newer than that checkpoint: their links hold, and the next checkpoint will sign them.`,
                  )
                : ''
            }
          </p>
        </section>`
      : result.kind === 'broken'
        ? html`<section class="card trail-result broken" role="alert" aria-labelledby="trail-result-title">
            <h2 id="trail-result-title">✕ ${t('审计链被破坏', 'The trail is broken')}</h2>
            <p>${t('第一处问题：', 'The first bad entry: ')}<code>${result.chain}</code> #${result.seq}</p>
            <p>${result.problem}</p>
          </section>`
        : result.kind === 'unverifiable' && result.unclosedDay !== undefined
          ? html`<section class="card trail-result" role="status" aria-labelledby="trail-result-title">
              <h2 id="trail-result-title">${t('无法验证', 'Cannot be checked')}</h2>
              <p>
                ${t(
                  `${result.unclosedDay} 没有收盘检查点（当天结束后签名、列出这一天的检查点），当天的链可能被整段截断或改写而不被发现：无法证明完整（未发现问题）。请签名该日的检查点后再查看。`,
                  `${result.unclosedDay} has no closing checkpoint (one signed after the day ended that names it), so its chains could have been cut or rewritten whole unseen: the trail cannot be proven intact (nothing wrong was found). Sign that day's checkpoint, then look again.`,
                )}
              </p>
            </section>`
          : result.kind === 'unverifiable'
            ? html`<section class="card trail-result" role="status" aria-labelledby="trail-result-title">
                <h2 id="trail-result-title">${t('无法验证', 'Cannot be checked')}</h2>
                <p>
                  ${t(
                    '服务正在更新，接口未返回本页起点的记录，本页无法证明完整（未发现问题）。请几分钟后刷新。',
                    'The service is being updated and the API did not answer the entry this page starts after: this page cannot be proven intact (nothing wrong was found). Reload it in a few minutes.',
                  )}
                </p>
              </section>`
            : html`<section class="card trail-result" role="status" aria-labelledby="trail-result-title">
                <h2 id="trail-result-title">${t('无法验证', 'Cannot be checked')}</h2>
                <p>
                  ${t(
                    '本证照的记录都写于哈希链启用之前，没有可重新计算的链。',
                    'Every entry of this licence was written before chains existed: there is no chain to recompute.',
                  )}
                </p>
              </section>`;

  return html`${supervisionBar(t, input.clientId)}
    <h1>${t('证照审计链', 'A licence’s audit trail')}</h1>
    <p class="lead">${t('证照标识：', 'Licence id: ')}<code>${input.licenceId}</code></p>
    ${summary}
    ${
      input.unchained > 0
        ? html`<p class="hint">
            ${t(
              `${input.unchained} 条记录写于哈希链启用之前，只列出，无法证明其完整性。`,
              `${input.unchained} entries were written before chains existed: listed, but they cannot be proven intact.`,
            )}
          </p>`
        : ''
    }
    ${
      input.daysSkipped > 0
        ? html`<p class="hint">
            ${t(
              `只检查了最近 ${input.daysChecked.length} 天的哈希链；更早的 ${input.daysSkipped} 天请用 npm run audit:verify 检查。`,
              `Only the chains of the latest ${input.daysChecked.length} days were checked; check the ${input.daysSkipped} earlier days with npm run audit:verify.`,
            )}
          </p>`
        : ''
    }
    <div class="table-scroll">
      <table class="trail-table">
        <caption>
          ${
            paged
              ? t(
                  `本页 ${input.entries.length} 条记录，按时间先后`,
                  `${input.entries.length} entries on this page, oldest first`,
                )
              : t(
                  `共 ${input.entries.length} 条记录，按时间先后`,
                  `${input.entries.length} entries, oldest first`,
                )
          }
        </caption>
        <thead>
          <tr>
            <th scope="col">${t('时间', 'Time')}</th>
            <th scope="col">${t('事项', 'Action')}</th>
            <th scope="col">${t('操作方', 'By')}</th>
            <th scope="col">${t('链与序号', 'Chain and seq')}</th>
            <th scope="col">${t('哈希', 'Hash')}</th>
          </tr>
        </thead>
        <tbody>
          ${input.entries.map(
            (entry) =>
              html`<tr>
                <td><time datetime="${entry.at}">${dateTime(entry.at)}</time></td>
                <td>
                  ${actionLabel(entry.action, t)}${entry.verdict ? html` · ${verdictLabel(entry.verdict, t)}` : ''}
                  ${entry.reason ? html`<br /><span class="hint">${entry.reason}</span>` : ''}
                </td>
                <td>
                  <code>${entry.actor}</code>${
                    entry.clerk
                      ? html`<br /><span class="hint"
                            >${t('经办人', 'Clerk')} <code>${entry.clerk}</code></span
                          >`
                      : ''
                  }
                </td>
                <td>
                  ${entry.chain ? html`<code>${entry.chain}</code> #${entry.seq}` : t('（链前）', '(before chains)')}
                </td>
                <td>
                  ${entry.hash ? html`<code title="${entry.hash}">${entry.hash.slice(0, 16)}…</code>` : ''}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${
      paged
        ? html`${
              pages.after
                ? html`<p class="trail-stretch">
                    ${t(
                      `本页列出并核对 ${pages.after} 之后的记录；更早的记录在第一页起的各页。`,
                      `This page lists and checks the entries after ${pages.after}; earlier entries are on the pages from the first.`,
                    )}
                  </p>`
                : ''
            }
            <nav class="trail-pager" aria-label="${t('审计记录分页', 'Pages of the trail')}">
              ${pages.first ? html`<a href="${pages.first}">${t('第一页', 'First page')}</a>` : ''}
              ${pages.next ? html`<a href="${pages.next}" rel="next">${t('下一页', 'Next page')}</a>` : ''}
            </nav>`
        : ''
    }
    <p><a href="/supervision">${t('返回监察概览', 'Back to the overview')}</a></p>`;
}
