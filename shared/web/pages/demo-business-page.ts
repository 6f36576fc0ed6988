import type { BusinessOutcome } from '../demo/demo-business.js';
import { demoBusinessPurpose } from '../demo/demo-business.js';
import { html, type SafeHtml } from '../kit/html.js';
import type { Lang, Translate } from '../kit/i18n.js';
import { notice } from '../kit/layout.js';
import { licenceTypeName, shownFields, statusBadge } from '../wallet/licence-format.js';

/** The verdicts of `POST /verify` in words. */
const verdictWords: Record<string, [string, string]> = {
  valid: ['有效：签名正确，证照状态有效', 'Valid: the signature verifies and the licence is in force'],
  suspended: ['已暂停', 'Suspended'],
  revoked: ['已吊销', 'Revoked'],
  expired: ['已过期', 'Expired'],
  not_yet_valid: ['尚未生效', 'Not yet valid'],
  invalid_signature: ['签名无效', 'Invalid signature'],
  unknown_issuer: ['发证机关不可信', 'Unknown issuer'],
  malformed: ['无法识别', 'Malformed'],
};

/**
 * `/demo` 办理业务: the section that starts the example (asks for a driving licence, stating why).
 *
 * @example
 * ```ts
 * html`${demoBusinessStart(t)}`;
 * ```
 */
export function demoBusinessStart(t: Translate): SafeHtml {
  return html`<section class="card demo-business" aria-labelledby="demo-business-title">
    <h2 id="demo-business-title">${t('办理业务（授权用证）', 'Do business here (share a licence)')}</h2>
    <p>
      ${t(
        '本平台办理驾驶证相关业务时，不再要求您上传证照复印件：经您同意，它从证照库读取您的机动车驾驶证，并在线核验。',
        'To handle driving-licence business, this platform no longer asks for a copy: with your consent, it reads your driving licence from the licence repository and verifies it online.',
      )}
    </p>
    <p class="hint">${t('本平台说明的用途：', 'The purpose this platform states:')} ${demoBusinessPurpose}</p>
    <form method="get" action="/demo/business">
      <button type="submit" id="demo-business-start">${t('办理业务', 'Start')}</button>
    </form>
  </section>`;
}

/**
 * What the platform received in the 办理业务 example: the authorization details granted, each licence
 * with its fields, and the verdict of verifying its credential.
 *
 * @example
 * ```ts
 * renderPage({ ...context, section: 'demo', title, body: demoBusinessBody(t, lang, outcome) });
 * ```
 */
export function demoBusinessBody(t: Translate, lang: Lang, outcome: BusinessOutcome): SafeHtml {
  return html`<h1>${t('办理业务', 'Doing business')}</h1>
    ${
      outcome.licences.length === 0
        ? notice(
            'info',
            t(
              '您同意了授权，但您没有机动车驾驶证，本平台没有收到证照。',
              'You consented, but you hold no driving licence: this platform received none.',
            ),
            'demo-business-none',
          )
        : notice(
            'success',
            t('本平台已收到并核验您的证照。', 'This platform received and verified your licence.'),
          )
    }
    ${outcome.licences.map(({ licence, verdict, checkedAt }, i) => {
      const status = statusBadge(licence.status, t);
      const words = verdictWords[verdict];
      return html`<section class="card demo-licence" aria-labelledby="demo-licence-${i}">
        <h2 id="demo-licence-${i}">${licenceTypeName(licence.type, t)}</h2>
        <p>
          <strong>${t('核验结果：', 'Verdict:')}</strong>
          <span class="badge ${verdict === 'valid' ? 'valid' : 'revoked'}" id="demo-verdict-${i}"
            >${words ? t(words[0], words[1]) : verdict}</span
          >
          <small> (<code>${verdict}</code>, <time datetime="${checkedAt}">${checkedAt}</time>)</small>
        </p>
        <dl class="fields">
          <dt>${t('持证人', 'Holder')}</dt>
          <dd>${licence.holder.name} <span class="mono">${licence.holder.masked}</span></dd>
          <dt>${t('发证机关', 'Issuer')}</dt>
          <dd>${licence.issuer.name}</dd>
          <dt>${t('状态', 'Status')}</dt>
          <dd><span class="badge ${status.className}">${status.text}</span></dd>
          <dt>${t('证照编号', 'Licence number')}</dt>
          <dd class="mono">${licence.id}</dd>
          ${shownFields(licence, lang).map(
            (field) =>
              html`<dt>${field.label}</dt>
                <dd>${field.value}</dd>`,
          )}
        </dl>
      </section>`;
    })}
    <details class="card">
      <summary>
        ${t('令牌响应中的 authorization_details', 'authorization_details in the token response')}
      </summary>
      <pre><code id="demo-authorization-details">${JSON.stringify(outcome.authorizationDetails, null, 2)}</code></pre>
    </details>
    <p>
      ${t(
        '您可以随时在钱包的“已授权的平台”中撤回这项授权，撤回后本平台立即无法再读取；每次读取都记录在您的用证记录中。',
        'You can withdraw this authorization at any time under “Authorized platforms” in your wallet; this platform then loses access at once. Every read is in your usage record.',
      )}
    </p>
    <p><a class="button secondary" href="/demo">${t('返回演示平台', 'Back to the demo platform')}</a></p>`;
}
