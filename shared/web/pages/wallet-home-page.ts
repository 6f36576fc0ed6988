import { html, notice, type SafeHtml } from '../kit/layout.js';
import type { Translate } from '../kit/i18n.js';
import type { WalletLicence } from '../wallet/holder-api.js';
import { calendarDate } from '../kit/china-time.js';
import { lastValidDay } from '../../validity-dates.js';
import {
  langOfTranslate,
  licenceNumber,
  licenceTypeName,
  statusBadge,
  statusWarning,
  walletOrder,
} from '../wallet/licence-format.js';
import type { WalletSession } from '../wallet/session.js';
import { stepUpHref } from '../wallet/step-up.js';
import { levelOfAcr } from '../../identity/assurance.js';

/** The link to a licence's page in the wallet. */
export const licenceHref = (id: string) => `/wallet/licences/${encodeURIComponent(id)}`;

/**
 * `/wallet` signed out: what the wallet is for, and the two ways in: as oneself, or as an enterprise's
 * agent (which adds scope `entity`, so the sign-in asks whom to act for). `ended` explains why a
 * session that the API no longer accepts was closed.
 *
 * @example
 * ```ts
 * renderPage({ ...context, section: 'wallet', title: t('我的证照', 'My licences'), body: signedOutBody(t) });
 * ```
 */
export function signedOutBody(t: Translate, ended = false): SafeHtml {
  return html`<h1>${t('我的证照', 'My licences')}</h1>
    ${
      ended
        ? notice(
            'info',
            t('登录已结束，请重新登录。', 'Your sign-in has ended: please sign in again.'),
            'wallet-ended',
          )
        : html``
    }
    <p class="lead">
      ${t(
        '用统一身份认证登录，即可查看名下的电子证照，并在办事窗口出示会自动刷新的亮证二维码。',
        'Sign in with the unified identity to see the electronic licences you hold and show them at a counter as a self-refreshing QR code.',
      )}
    </p>
    <ul class="wallet-points">
      <li>
        ${t(
          '二维码只在短时间内有效，截图无法长期冒用。',
          'Each QR code is valid for a short time only, so a screenshot cannot be reused for long.',
        )}
      </li>
      <li>
        ${t(
          '由您选择出示哪些信息；默认只出示证照类型、姓名、遮蔽后的证件号码、状态和有效期。',
          'You choose what to show; by default only the licence type, the holder’s name, the masked ID number, the status and the validity.',
        )}
      </li>
      <li>
        ${t(
          '企业的法定代表人或经办人可以代表企业登录，出示企业的证照。',
          'An enterprise’s legal representative or appointed agent can sign in for it and show its licences.',
        )}
      </li>
    </ul>
    <p class="wallet-actions">
      <a class="button" href="/wallet/login" id="wallet-sign-in">${t('登录', 'Sign in')}</a>
      <a class="button secondary" href="/wallet/login?as=entity" id="wallet-sign-in-entity"
        >${t('以企业经办人身份登录', 'Sign in as an enterprise agent')}</a
      >
    </p>`;
}

/**
 * `/wallet` signed in: who is signed in (and for which enterprise), the wallet's pairwise `sub`, sign
 * out, and one card per licence linking to its page.
 *
 * @example
 * ```ts
 * const { licences, stepUpTo } = await api.holding();
 * signedInBody(t, session, licences, stepUpTo);
 * ```
 */
export function signedInBody(
  t: Translate,
  session: WalletSession,
  licences: readonly WalletLicence[],
  stepUpTo?: string,
  options: { stepUpUnmet?: boolean } = {},
): SafeHtml {
  return html`<h1>${t('我的证照', 'My licences')}</h1>
    ${
      options.stepUpUnmet && stepUpTo
        ? notice(
            'error',
            t(
              '未能提升认证等级，您仍以原等级登录。可稍后用本人手机号重试，或持居民身份证到政务服务窗口当面核验。',
              'Your level was not raised; you are still signed in at your previous level. Try again later with your own mobile number, or have your identity checked in person at a service counter.',
            ),
            'wallet-step-up-unmet',
          )
        : html``
    }
    ${identityCard(t, session)}
    <h2 id="wallet-licences">${t('证照', 'Licences')}</h2>
    ${
      stepUpTo
        ? html`<p class="notice" id="wallet-step-up" role="status">
              ${t(
                '您当前的登录未达到三级身份认证，部分电子证照不会显示。可用本人手机号的短信验证码提升认证等级，或持居民身份证到政务服务窗口当面核验。',
                'This sign-in is below assurance level 3, so some licences are not shown. Raise your level with an SMS code sent to your own mobile number, or have your identity checked in person at a government service counter.',
              )}
            </p>
            <p>
              <a
                class="button"
                id="wallet-step-up-link"
                href="${stepUpHref('/wallet', { level: levelOfAcr(stepUpTo) ?? 3, entity: Boolean(session.entity) })}"
                >${t('提升认证等级', 'Raise your level')}</a
              >
            </p>`
        : ''
    }
    ${
      licences.length === 0
        ? html`<p class="muted" id="wallet-empty">
            ${
              stepUpTo
                ? t('当前认证等级下暂无可显示的电子证照。', 'No licences can be shown at this level.')
                : t('当前登录身份名下暂无电子证照。', 'No electronic licences are held under this sign-in.')
            }
          </p>`
        : session.entity
          ? licenceGroups(t, licences)
          : html`<ul class="cards wallet-cards" role="list" aria-labelledby="wallet-licences">
              ${walletOrder(licences).map((licence) => html`<li>${licenceCard(t, licence)}</li>`)}
            </ul>`
    }`;
}

/**
 * Acting for an enterprise, the list holds the enterprise's licences and the person's own: two labelled
 * groups, the enterprise's first (it is what the agent signed in to show), each valid first as in the
 * plain list. A group with nothing in it says so, so that an agent sees the enterprise holds none here
 * rather than wondering whether the list failed.
 */
function licenceGroups(t: Translate, licences: readonly WalletLicence[]): SafeHtml {
  const groups = [
    {
      id: 'wallet-group-entity',
      kind: 'entity',
      title: t('企业证照', 'Enterprise licences'),
      none: t(
        '该企业在当前认证等级下暂无电子证照。',
        'The enterprise holds no licences that can be shown here.',
      ),
    },
    {
      id: 'wallet-group-person',
      kind: 'person',
      title: t('个人证照', 'Personal licences'),
      none: t(
        '您本人在当前认证等级下暂无电子证照。',
        'You hold no personal licences that can be shown here.',
      ),
    },
  ] as const;
  return html`${groups.map((group) => {
    const members = walletOrder(licences.filter((licence) => licence.holder.kind === group.kind));
    return html`<section class="wallet-group" aria-labelledby="${group.id}" data-group="${group.kind}">
      <h3 id="${group.id}">${group.title} <span class="wallet-group-count">(${members.length})</span></h3>
      ${
        members.length === 0
          ? html`<p class="muted">${group.none}</p>`
          : html`<ul class="cards wallet-cards" role="list" aria-labelledby="${group.id}">
              ${members.map((licence) => html`<li>${licenceCard(t, licence, 4)}</li>`)}
            </ul>`
      }
    </section>`;
  })}`;
}

function identityCard(t: Translate, session: WalletSession): SafeHtml {
  const entity = session.entity;
  return html`<section class="card wallet-identity" aria-labelledby="wallet-who">
    <h2 id="wallet-who">${t('当前登录', 'Signed in')}</h2>
    <dl class="fields">
      ${
        session.name || !entity
          ? html`<dt>${t('姓名', 'Name')}</dt>
              <dd id="wallet-name">${session.name ?? t('（未提供）', '(not given)')}</dd>`
          : html``
      }
      ${
        entity
          ? html`<dt>${t('代表企业', 'Acting for')}</dt>
              <dd id="wallet-entity">
                ${entity.name}<br /><small
                  >${t('统一社会信用代码', 'Unified social credit code')}
                  <span class="mono">${entity.creditCode}</span></small
                >
              </dd>`
          : html``
      }
    </dl>
    <details class="wallet-technical">
      <summary>${t('技术信息', 'Technical details')}</summary>
      <p>
        ${t(
          '您在本应用中的匿名标识如下。每个应用看到的标识都不相同，应用之间无法据此把您关联起来。',
          'Your anonymous identifier in this app is below. Each app sees a different one, so apps cannot link you by it.',
        )}
      </p>
      <p><code id="wallet-sub">${session.sub}</code></p>
    </details>
    <div class="wallet-actions">
      <a class="button secondary" href="/wallet/passkeys" id="wallet-passkeys"
        >${t('通行密钥', 'Passkeys')}</a
      >
      <a class="button secondary" href="/wallet/usage" id="wallet-usage">${t('用证记录', 'Licence usage')}</a>
      <a class="button secondary" href="/wallet/authorizations" id="wallet-authorizations"
        >${t('已授权的平台', 'Authorized platforms')}</a
      >
      <a class="button secondary" href="/wallet/account" id="wallet-account"
        >${t('我的账号', 'My account')}</a
      >
      ${
        entity
          ? html`<a class="button secondary" href="/wallet/agents" id="wallet-agents"
                >${t('经办人', 'Agents')}</a
              >
              <a class="button secondary" href="/wallet/login"
                >${t('切换为个人身份', 'Switch to personal use')}</a
              >`
          : html`<a class="button secondary" href="/wallet/login?as=entity"
              >${t('以企业经办人身份登录', 'Sign in as an enterprise agent')}</a
            >`
      }
      <form method="post" action="/wallet/logout" class="inline wallet-sign-out">
        <button type="submit" class="link" id="wallet-sign-out">${t('退出登录', 'Sign out')}</button>
      </form>
    </div>
  </section>`;
}

/**
 * One licence, linking to its page: its status first (a licence that is not valid says so in its
 * colour and in words), then what tells it from another of its type: its number, issuer and dates.
 * Its title is an `h<level>`: `h4` inside a group's `h3` when the list is grouped.
 */
export function licenceCard(t: Translate, licence: WalletLicence, level: 3 | 4 = 3): SafeHtml {
  const badge = statusBadge(licence.status, t);
  const warning = statusWarning(licence.status, t);
  const number = licenceNumber(licence, langOfTranslate(t));
  return html`<article class="card licence-card status-${badge.className}" data-status="${licence.status}">
    <p class="licence-card-status"><span class="badge ${badge.className}">${badge.text}</span></p>
    ${
      level === 4
        ? html`<h4><a href="${licenceHref(licence.id)}">${licenceTypeName(licence.type, t)}</a></h4>`
        : html`<h3><a href="${licenceHref(licence.id)}">${licenceTypeName(licence.type, t)}</a></h3>`
    }
    ${warning ? html`<p class="licence-card-warning ${warning.kind}">${warning.text}</p>` : html``}
    <dl class="fields">
      <dt>${number.label}</dt>
      <dd class="mono">${number.value}</dd>
      <dt>${t('持证人', 'Holder')}</dt>
      <dd>${licence.holder.name}</dd>
      <dt>${t('发证机关', 'Issuer')}</dt>
      <dd>${licence.issuer.name}</dd>
      <dt>${t('签发日期', 'Issued on')}</dt>
      <dd><time datetime="${licence.issuedAt}">${calendarDate(licence.issuedAt)}</time></dd>
      <dt>${t('有效期', 'Valid')}</dt>
      <dd>${validity(t, licence)}</dd>
    </dl>
  </article>`;
}

/** "2024-01-01 至 2030-01-01", or open-ended. */
export function validity(t: Translate, licence: Pick<WalletLicence, 'validFrom' | 'validUntil'>): SafeHtml {
  const from = html`<time datetime="${licence.validFrom}">${calendarDate(licence.validFrom)}</time>`;
  return licence.validUntil
    ? html`${from} ${t('至', 'to')}
        <time datetime="${lastValidDay(licence.validUntil)}">${lastValidDay(licence.validUntil)}</time>`
    : html`${t('自', 'From')} ${from} ${t('起长期有效', 'with no expiry')}`;
}

/**
 * A licence page the sign-in's level does not open (the licence list hides types above it, so the
 * licence is not found among the person's): not a dead end but the way up, coming back to this page.
 * Shown whether or not such a licence exists, so it tells a low-level sign-in nothing about the holder.
 *
 * @example
 * ```ts
 * licenceStepUpBody(t, session, '/wallet/licences/1.2.156…', 'urn:elicence:loa:3');
 * ```
 */
export function licenceStepUpBody(
  t: Translate,
  session: WalletSession,
  returnTo: string,
  stepUpTo: string,
): SafeHtml {
  return html`<p><a href="/wallet">← ${t('返回我的证照', 'Back to my licences')}</a></p>
    <h1>${t('需要更高的认证等级', 'A higher level is needed')}</h1>
    ${notice(
      'info',
      t(
        '查看这张电子证照需要三级身份认证。可用本人手机号的短信验证码提升认证等级，或持居民身份证到政务服务窗口当面核验。',
        'This licence can be seen only at assurance level 3. Raise your level with an SMS code sent to your own mobile number, or have your identity checked in person at a government service counter.',
      ),
      'wallet-licence-step-up',
    )}
    <p>
      <a
        class="button"
        id="wallet-step-up-link"
        href="${stepUpHref(returnTo, { level: levelOfAcr(stepUpTo) ?? 3, entity: Boolean(session.entity) })}"
        >${t('提升认证等级', 'Raise your level')}</a
      >
    </p>`;
}
