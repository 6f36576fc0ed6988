import { findLicenceType } from '../../licence/catalogue.js';
import {
  accessSeconds,
  grantedLicenceTypes,
  sharedFieldNames,
  type LicenceAccessDetail,
} from '../../sharing/licence-access.js';
import { fieldLabel } from '../wallet/licence-format.js';
import { idNumberChoice } from './consent-words.js';
import { html, page, type PageView } from './interaction-html.js';

export interface SharingConsentInput {
  uid: string;
  clientName: string;
  details: readonly LicenceAccessDetail[];
  /** What the sign-in part of the request releases besides (the consent page's usual list), as words. */
  alsoReleased: readonly string[];
  /** Whether the request also asks for the ID number: a checkbox of its own (`idNumberChoice`). */
  asksIdNumber?: boolean;
  /** The enterprise the person acts for, when they do. */
  entityName?: string;
  /** Why the person may not approve (an agent whose appointment does not cover licences): no approve button. */
  refusal?: string;
  now: Date;
}

/** A licence type's name: Chinese, and on English pages English with the Chinese beside it. */
function typeName(view: PageView, code: string): string {
  const type = findLicenceType(code);
  if (!type) return code;
  return view.lang === 'en' ? `${type.name.en} (${type.name.zh})` : type.name.zh;
}

/**
 * The consent page of a request to share licences (授权用证): which platform asks, for whom, each licence
 * type and exactly what of it goes (its fields as the catalogue names them, the holder's name and masked
 * number, the validity, the signed credential), the purpose in the platform's own words, and how long
 * the access lasts. Approving and refusing are the form's two submit buttons; no script.
 *
 * @example
 * ```ts
 * sharingConsentPage(view, { uid, clientName: '交管业务平台', details, alsoReleased: [], now: new Date() });
 * ```
 */
export function sharingConsentPage(view: PageView, input: SharingConsentInput): string {
  const { t } = view;
  const seconds = accessSeconds(input.details, input.now);
  const until = new Date(input.now.getTime() + seconds * 1000);
  const days = Math.max(1, Math.round(seconds / 86_400));
  // The last day it covers, by the licences' rule (shared/validity-dates.ts): an end at 00:00 Beijing
  // time is the end of the day before.
  const untilText = new Date(until.getTime() - 1).toLocaleDateString(view.lang === 'en' ? 'en-GB' : 'zh-CN', {
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    timeZone: 'Asia/Shanghai',
  });
  const types = grantedLicenceTypes(input.details).map((code, i) => {
    const type = findLicenceType(code)!;
    const fields = sharedFieldNames(type).map((name) => fieldLabel(code, name, view.lang));
    return html`<section class="card" aria-labelledby="shared-type-${i}">
      <h2 id="shared-type-${i}">${typeName(view, code)}</h2>
      <p>
        ${t(
          '将提供您现有的此类证照（有效、暂停或已过期的；已吊销或已被换发的不提供），每张包括：',
          'What goes: each licence of this type you hold now (valid, suspended or expired; none revoked or replaced by a re-issue), with:',
        )}
      </p>
      <ul>
        <li>
          ${t(
            '持证人姓名、证件号（部分隐藏）、发证机关、有效期和状态（不含暂停的原因）',
            'the holder’s name and masked number, the issuer, the validity and the status (not the reason for a suspension)',
          )}
        </li>
        ${fields.map((label) => html`<li>${label}</li>`)}
        <li>
          ${t('证照的电子签名（平台可自行核验）', 'the licence’s signature (the platform can verify it)')}
        </li>
      </ul>
    </section>`;
  });
  const purposes = input.details.map((detail) => html`<blockquote><p>${detail.purpose}</p></blockquote>`);
  const title = t('授权用证', 'Share your licences');
  return page(
    view,
    title,
    html`<h1>${title}</h1>
      <p class="lead">
        ${
          input.entityName
            ? t(
                `${input.clientName} 请求使用 ${input.entityName} 的以下电子证照：`,
                `${input.clientName} asks to use these electronic licences of ${input.entityName}:`,
              )
            : t(
                `${input.clientName} 请求使用您的以下电子证照：`,
                `${input.clientName} asks to use these electronic licences of yours:`,
              )
        }
      </p>
      ${types}
      <h2>${t('用途（平台的说明）', 'Purpose (in the platform’s words)')}</h2>
      ${purposes}
      <h2>${t('授权期限', 'How long')}</h2>
      <p>
        ${t(
          `至 ${untilText}（${days} 天）。您可以随时在钱包的“已授权的平台”中撤回授权，撤回后平台立即无法再读取。`,
          `Until ${untilText} (${days} days). You can withdraw it at any time under “Authorized platforms” in your wallet; the platform then loses access at once.`,
        )}
      </p>
      ${
        input.alsoReleased.length > 0
          ? html`<h2>${t('同时提供', 'Also')}</h2>
              <ul>
                ${input.alsoReleased.map((item) => html`<li>${item}</li>`)}
              </ul>`
          : html``
      }
      ${input.refusal ? html`<div class="notice error" role="alert">${input.refusal}</div>` : html``}
      <form method="post" action="/interaction/${input.uid}/confirm">
        ${
          input.refusal
            ? html``
            : html`${input.asksIdNumber ? idNumberChoice(t, input.clientName) : html``}
                <button type="submit">${t('同意授权', 'Allow')}</button>`
        }
        <button type="submit" class="secondary" formaction="/interaction/${input.uid}/abort">
          ${t('拒绝', 'Refuse')}
        </button>
      </form>`,
  );
}
