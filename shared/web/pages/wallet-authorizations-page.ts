import { clientDisplayName } from '../../identifiers/client-ids.js';
import { calendarDate } from '../kit/china-time.js';
import { lastValidDay } from '../../validity-dates.js';
import type { Translate } from '../kit/i18n.js';
import { html, notice, type SafeHtml } from '../kit/layout.js';
import type { WalletAuthorization } from '../wallet/authorizations-api.js';
import { licenceTypeName } from '../wallet/licence-format.js';
import { idNumberHeld, idNumberScope, scopeDescriptions } from './consent-words.js';

/**
 * The last day of an authorization ending at `expiresAt` (exclusive), by the licences' rule
 * ({@link lastValidDay}): a share ending at 00:00 Beijing time covers none of that day.
 */
const lastDay = (expiresAt: string) => lastValidDay(expiresAt) ?? expiresAt;

/**
 * What a platform holds from the person's sign-in, in words: the consent page's (`scopeDescriptions`),
 * the ID number named as the sensitive information it is.
 */
function heldAtSignIn(t: Translate, scopes: readonly string[]): string[] {
  return scopeDescriptions(t, scopes).concat(scopes.includes(idNumberScope) ? [idNumberHeld(t)] : []);
}

/**
 * What a share gives its platform besides the licences, as its sign-in would list it (the ID number when
 * ticked on the share's page, access while the person is away…): every scope its grant holds is on its
 * card, so that nothing a platform holds is out of the person's sight (review R34 M1). Nothing when it
 * holds none with words.
 */
function sharedBesides(t: Translate, scopes: readonly string[]): SafeHtml {
  const held = heldAtSignIn(t, scopes);
  return held.length > 0
    ? html`<dt>${t('同时获得', 'Also given')}</dt>
        <dd>${held.join('；')}</dd>`
    : html``;
}

/**
 * `/wallet/authorizations` (已授权的平台): each platform the person let in, with since when and until when,
 * and a button (a server-rendered form) that withdraws it, its tokens (refresh tokens too) ending at once:
 * a share of licences (授权用证) with the licence types, the purpose in the platform's words and what else
 * its grant gives (`sharedBesides`), and a
 * platform's sign-in with what it holds (the ID number, access while the person is away; privacy review
 * R9 H1).
 *
 * @example
 * ```ts
 * renderPage({ ...context, section: 'wallet', title, body: authorizationsBody(t, { items }) });
 * ```
 */
export function authorizationsBody(
  t: Translate,
  input: { items: readonly WalletAuthorization[]; withdrawn?: boolean },
): SafeHtml {
  return html`<p><a href="/wallet">← ${t('返回我的证照', 'Back to my licences')}</a></p>
    <h1>${t('已授权的平台', 'Authorized platforms')}</h1>
    <p class="lead">
      ${t(
        '这些平台经您同意，登录时获得了您的信息，或可以读取您的电子证照。撤回后，平台立即无法再获取。',
        'With your consent, these platforms received your information at sign-in, or can read your electronic licences. Once you withdraw, a platform loses access at once.',
      )}
    </p>
    ${
      input.withdrawn
        ? notice('success', t('已撤回授权。', 'The authorization was withdrawn.'), 'authorization-withdrawn')
        : html``
    }
    ${
      input.items.length === 0
        ? html`<p class="muted" id="authorizations-empty">
            ${t('您还没有授权任何平台。', 'You have not authorized any platform.')}
          </p>`
        : html`<ul
            class="cards wallet-cards"
            role="list"
            aria-label="${t('已授权的平台', 'Authorized platforms')}"
          >
            ${input.items.map(
              (item, i) =>
                html`<li>
                  <article class="card authorization">
                    <h2 id="authorization-${i}">${clientDisplayName(item.client.id, item.client.name, t)}</h2>
                    <dl class="fields">
                      ${
                        item.kind === 'licence_access'
                          ? html`<dt>${t('证照', 'Licences')}</dt>
                              <dd>${item.licenceTypes.map((code) => licenceTypeName(code, t)).join('、')}</dd>
                              <dt>${t('用途', 'Purpose')}</dt>
                              <dd>${item.purpose ?? ''}</dd>
                              ${sharedBesides(t, item.scopes)}`
                          : html`<dt>${t('登录时获得', 'At sign-in')}</dt>
                              <dd>${heldAtSignIn(t, item.scopes).join('；')}</dd>`
                      }
                      <dt>${t('授权时间', 'Granted')}</dt>
                      <dd><time datetime="${item.grantedAt}">${calendarDate(item.grantedAt)}</time></dd>
                      <dt>${t('有效期至', 'Until')}</dt>
                      <dd>
                        ${
                          item.expiresAt
                            ? html`<time datetime="${lastDay(item.expiresAt)}"
                                >${lastDay(item.expiresAt)}</time
                              >`
                            : t('撤回为止', 'Until withdrawn')
                        }
                      </dd>
                    </dl>
                    <form
                      method="post"
                      action="/wallet/authorizations/${encodeURIComponent(item.id)}/withdraw"
                      class="inline"
                    >
                      <button type="submit" class="secondary" aria-describedby="authorization-${i}">
                        ${t('撤回授权', 'Withdraw')}
                      </button>
                    </form>
                  </article>
                </li>`,
            )}
          </ul>`
    }`;
}
