import { attr, html, notice, type SafeHtml } from '../kit/layout.js';
import type { Lang, Translate } from '../kit/i18n.js';
import type { WalletLicence, WalletPresentation } from '../wallet/holder-api.js';
import { calendarDate, clockTime } from '../kit/china-time.js';
import { lastValidDay } from '../../validity-dates.js';
import { licenceTypeName, shownFields, statusBadge, statusWarning } from '../wallet/licence-format.js';
import { countdown } from '../browser/wallet-timer.js';
import { licenceHref } from './wallet-home-page.js';

export const walletScripts = ['wallet.js'] as const;

/**
 * An SVG as an `<img>` source: the page's CSP allows `data:` images, and an image cannot run or style
 * anything in the page, whatever the SVG holds.
 */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

export interface QrPageInput {
  licence: WalletLicence;
  presentation: WalletPresentation;
  disclose: readonly string[];
  /** Seconds until the presentation expires, by the server's clock (the phone's may be off). */
  expiresIn: number;
  refreshLeadSeconds: number;
  /** Where to send the person when the refresh finds the sign-in expired. */
  signInUrl: string;
}

/**
 * `/wallet/licences/{id}/qr`: the presentation QR, large on a white quiet zone, with a countdown to its
 * expiry and what it discloses. `wallet.js` fetches a new one before this one runs out; the page's
 * messages for that script travel as data attributes, in the page's language.
 *
 * @example
 * ```ts
 * renderPage({ ...context, section: 'wallet', title, body: qrBody(t, lang, input), scripts: walletScripts });
 * ```
 */
export function qrBody(t: Translate, lang: Lang, input: QrPageInput): SafeHtml {
  const { licence, presentation } = input;
  const typeName = licenceTypeName(licence.type, t);
  const chosen = shownFields(licence, lang).filter((field) => input.disclose.includes(field.name));
  const badge = statusBadge(licence.status, t);
  return html`<p><a href="${licenceHref(licence.id)}">← ${t('返回证照详情', 'Back to the licence')}</a></p>
    <h1>${t('亮证二维码', 'Licence QR code')}</h1>
    <p class="lead">${typeName} · ${licence.holder.name}</p>
    ${licence.status === 'valid' ? html`` : qrStatusNotice(t, licence.status)}
    <section
      class="wallet-qr"
      id="wallet-qr"
      aria-labelledby="qr-heading"
      data-refresh-url="${licenceHref(licence.id)}/presentations"
      data-disclose="${JSON.stringify(input.disclose)}"
      data-expires-in="${input.expiresIn}"
      data-expires-at="${presentation.expiresAt}"
      data-refresh-lead="${input.refreshLeadSeconds}"
      data-sign-in-url="${input.signInUrl}"
      data-msg-remaining="${t('剩余', 'Expires in')}"
      data-msg-refreshed="${t('二维码已刷新。', 'The QR code was refreshed.')}"
      data-msg-expired="${t('二维码已过期。', 'The QR code has expired.')}"
      data-msg-minutes="${t('二维码还剩约 {n} 分钟。', 'About {n} min left on the QR code.')}"
      data-msg-seconds="${t('二维码还剩 {n} 秒。', '{n} seconds left on the QR code.')}"
      data-msg-failed="${t(
        '无法刷新二维码，请检查网络后重新加载页面。',
        'The QR code could not be refreshed. Check the connection and reload the page.',
      )}"
      data-msg-signed-out="${t('登录已结束，请重新登录后再出示。', 'Your sign-in has ended: sign in again to show the licence.')}"
    >
      <h2 id="qr-heading" class="wallet-sr-only">${t('二维码', 'QR code')}</h2>
      <figure id="presentation-qr">
        <img
          src="${svgDataUrl(presentation.svg)}"
          alt="${t(`${typeName}的亮证二维码`, `QR code of the ${typeName}`)}"
          width="320"
          height="320"
        />
        <figcaption>
          ${t('请核验人员扫描此二维码，它会自动刷新。', 'Ask the clerk to scan this code; it refreshes by itself.')}
        </figcaption>
      </figure>
      <p class="wallet-countdown">
        <span id="qr-countdown-label">${t('剩余', 'Expires in')}</span>
        <span
          id="qr-countdown"
          role="timer"
          aria-labelledby="qr-countdown-label"
          data-seconds="${input.expiresIn}"
          >${countdown(input.expiresIn)}</span
        >
        <small>
          (${t('有效至', 'until')}
          <time id="qr-expires-at" datetime="${presentation.expiresAt}"
            >${clockTime(presentation.expiresAt)}</time
          >)
        </small>
      </p>
      <p id="qr-announce" class="wallet-sr-only" aria-live="polite"></p>
      <div id="qr-problem" class="notice error" hidden>
        <p id="qr-problem-text" role="alert"></p>
        <a class="button" id="qr-reload" href="${licenceHref(licence.id)}/qr${queryOf(input.disclose)}"
          >${t('重新加载', 'Reload')}</a
        >
      </div>
    </section>
    <section class="card" aria-labelledby="qr-disclosed">
      <h2 id="qr-disclosed">${t('此二维码出示的信息', 'What this QR code shows')}</h2>
      <dl class="fields" id="disclosed-fields">
        <dt>${t('证照类型', 'Licence type')}</dt>
        <dd>${typeName}</dd>
        <dt>${t('持证人', 'Holder')}</dt>
        <dd>${licence.holder.name}</dd>
        <dt>${t('证件号码', 'ID number')}</dt>
        <dd class="mono">${licence.holder.masked}</dd>
        <dt>${t('状态', 'Status')}</dt>
        <dd><span class="badge ${badge.className}">${badge.text}</span></dd>
        <dt>${t('有效期', 'Valid')}</dt>
        <dd>
          ${calendarDate(licence.validFrom)}
          ${licence.validUntil ? html`${t('至', 'to')} ${lastValidDay(licence.validUntil)}` : t('起长期有效', 'onwards')}
        </dd>
        ${chosen.map(
          (field) =>
            html`<dt>${field.label}</dt>
              <dd ${attr('data-field', field.name)}>${field.value}</dd>`,
        )}
      </dl>
      ${
        chosen.length === 0
          ? html`<p class="muted">${t('未选择额外出示的项目。', 'No further details were chosen.')}</p>`
          : html``
      }
      <p><a href="${licenceHref(licence.id)}">${t('更改出示的信息', 'Change what is shown')}</a></p>
    </section>`;
}

/** On the QR of a licence that is not valid: plainly, what the person scanning it will see. */
function qrStatusNotice(t: Translate, status: string): SafeHtml {
  const words = statusBadge(status, t).text;
  return notice(
    statusWarning(status, t)?.kind ?? 'warn',
    html`<p class="notice-title" id="qr-status-warning">
        ${t(`核验方扫描此二维码时会看到：${words}`, `Whoever scans this code will see: ${words}`)}
      </p>
      <p>
        ${t(
          '此二维码不能证明您持有有效证照，核验方不会把它当作有效证照接受。',
          'This code does not prove that you hold a valid licence; the verifier will not accept it as one.',
        )}
      </p>`,
    'licence-status-notice',
  );
}

function queryOf(disclose: readonly string[]): string {
  const query = new URLSearchParams(disclose.map((name) => ['disclose', name])).toString();
  return query ? `?${query}` : '';
}

/**
 * `/wallet/licences/{id}/qr` reached from another site (a link, a redirect, a frame there): nothing is
 * signed or audited; the person is asked whether to show the QR code, and the button is a link to the
 * same page, so following it is a navigation from this site. No script.
 *
 * @example
 * ```ts
 * if (!sameSiteNavigation(event)) return htmlPage(200, renderPage({ ...context, body: qrConfirmBody(t, id, href) }));
 * ```
 */
export function qrConfirmBody(t: Translate, licenceId: string, qrHref: string): SafeHtml {
  return html`<p><a href="${licenceHref(licenceId)}">← ${t('返回证照详情', 'Back to the licence')}</a></p>
    <h1>${t('亮证二维码', 'Licence QR code')}</h1>
    <section class="card" aria-labelledby="qr-confirm-heading">
      <h2 id="qr-confirm-heading">${t('要出示此证照吗？', 'Show this licence?')}</h2>
      <p>
        ${t(
          '此页面可能是从其他网站打开的。二维码会向扫描它的人出示您的证照（不含任何可选字段），请仅在您本人要出示时继续。',
          'This page may have been opened from another site. The QR code shows your licence (without any optional field) to whoever scans it: go on only if you mean to show it.',
        )}
      </p>
      <p><a class="button" id="qr-confirm" href="${qrHref}">${t('出示二维码', 'Show QR code')}</a></p>
    </section>`;
}
