import { html, notice, type SafeHtml } from '../kit/layout.js';
import type { Lang, Translate } from '../kit/i18n.js';
import type { WalletLicence } from '../wallet/holder-api.js';
import { dateTime } from '../kit/china-time.js';
import { licenceTypeName, shownFields, statusBadge, statusWarning } from '../wallet/licence-format.js';
import { licenceHref, validity } from './wallet-home-page.js';

/**
 * `/wallet/licences/{id}`: everything the API says of the licence, with the catalogue's labels, and
 * the form that shows it as a QR code. No box is ticked at first: the least a presentation can show
 * (type, holder's name, masked number, status, validity) is also the default.
 *
 * @example
 * ```ts
 * renderPage({ ...context, section: 'wallet', title, body: licenceBody(t, lang, licence) });
 * ```
 */
export function licenceBody(t: Translate, lang: Lang, licence: WalletLicence): SafeHtml {
  const badge = statusBadge(licence.status, t);
  const fields = shownFields(licence, lang);
  const typeName = licenceTypeName(licence.type, t);
  return html`<p><a href="/wallet">← ${t('我的证照', 'My licences')}</a></p>
    <h1>${typeName}</h1>
    ${licence.status === 'valid' ? html`` : statusNotice(t, licence.status)}
    ${pdfSigned(licence) ? html`` : unsignedNotice(t, licence)}
    <section class="card" aria-labelledby="licence-summary">
      <h2 id="licence-summary">${t('基本信息', 'Summary')}</h2>
      <dl class="fields">
        <dt>${t('状态', 'Status')}</dt>
        <dd>
          <span class="badge ${badge.className}" id="licence-status">${badge.text}</span>
          ${licence.statusReason ? html`<br /><small>${licence.statusReason}</small>` : html``}
        </dd>
        <dt>${t('持证人', 'Holder')}</dt>
        <dd>${licence.holder.name}</dd>
        <dt>${t('证件号码', 'ID number')}</dt>
        <dd class="mono">${licence.holder.masked}</dd>
        <dt>${t('发证机关', 'Issuer')}</dt>
        <dd>
          ${licence.issuer.name}<br /><small
            >${t('统一社会信用代码', 'Unified social credit code')}
            <span class="mono">${licence.issuer.creditCode}</span></small
          >
        </dd>
        <dt>${t('有效期', 'Valid')}</dt>
        <dd>${validity(t, licence)}</dd>
        <dt>${t('签发时间', 'Issued')}</dt>
        <dd><time datetime="${licence.issuedAt}">${dateTime(licence.issuedAt)}</time></dd>
        <dt>${t('证照标识', 'Licence identifier')}</dt>
        <dd class="mono">${licence.id}</dd>
      </dl>
    </section>
    <section class="card" aria-labelledby="licence-fields">
      <h2 id="licence-fields">${t('证照信息', 'Details')}</h2>
      ${
        fields.length === 0
          ? html`<p class="muted">${t('此证照没有其他信息。', 'This licence has no further details.')}</p>`
          : html`<dl class="fields">
              ${fields.map(
                (field) =>
                  html`<dt>${field.label}</dt>
                    <dd>${field.value}</dd>`,
              )}
            </dl>`
      }
      ${
        licence.credential
          ? html`<details class="wallet-credential">
              <summary>
                ${t('数字签名凭证（供技术核验）', 'Signed credential (for technical checks)')}
              </summary>
              <code>${licence.credential}</code>
            </details>`
          : html``
      }
    </section>
    <section class="card" aria-labelledby="licence-present">
      <h2 id="licence-present">${t('亮证', 'Show this licence')}</h2>
      <form method="get" action="${licenceHref(licence.id)}/qr" id="disclose-form">
        <fieldset>
          <legend>${t('除基本信息外，还要出示', 'Besides the summary, also show')}</legend>
          <p class="hint" id="disclose-hint">
            ${t(
              '核验方总能看到证照类型、持证人姓名、遮蔽后的证件号码、状态和有效期。只勾选办事所需的项目。',
              'The verifier always sees the licence type, the holder’s name, the masked ID number, the status and the validity. Tick only what the counter needs.',
            )}
          </p>
          ${fields.map(
            (field) =>
              html`<label for="disclose-${field.name}"
                ><input
                  type="checkbox"
                  name="disclose"
                  value="${field.name}"
                  id="disclose-${field.name}"
                  aria-describedby="disclose-hint"
                />
                <span>${field.label}</span></label
              >`,
          )}
        </fieldset>
        ${
          licence.status === 'valid' && pdfSigned(licence)
            ? html`<button type="submit" id="show-qr">${t('出示二维码', 'Show QR code')}</button>`
            : licence.status === 'valid'
              ? // Its issuer or its key withdrawn: the code verifies `unknown_issuer` at the counter; said before it is shown.
                html`<p class="licence-present-warning" id="show-qr-warning">
                    ${
                      licence.keyWithdrawn && licence.issuer.status === 'active'
                        ? t(
                            '签发此证照的发证机关密钥已被撤回：出示后，核验方会看到“发证机关未知”，不会把它当作有效证照接受。',
                            'The key its issuing authority signed it with has been withdrawn: if you show it, the verifier will see an unknown issuer and will not accept it as valid.',
                          )
                        : t(
                            '发证机关已被撤销：出示后，核验方会看到“发证机关未知”，不会把它当作有效证照接受。',
                            'Its issuing authority has been withdrawn: if you show it, the verifier will see an unknown issuer and will not accept it as valid.',
                          )
                    }
                  </p>
                  <button type="submit" class="secondary" id="show-qr" aria-describedby="show-qr-warning">
                    ${t('仍要出示', 'Show it anyway')}
                  </button>`
              : html`<p class="licence-present-warning" id="show-qr-warning">
                    ${t(
                      `出示后，核验方会看到此证照“${badge.text}”，不会把它当作有效证照接受。`,
                      `If you show it, the verifier will see that it is “${badge.text}” and will not accept it as valid.`,
                    )}
                  </p>
                  <button type="submit" class="secondary" id="show-qr" aria-describedby="show-qr-warning">
                    ${t(`仍要出示（显示为“${badge.text}”）`, `Show it anyway (as “${badge.text}”)`)}
                  </button>`
        }
      </form>
    </section>
    ${printableSection(t, licence)}`;
}

/**
 * A licence that is not valid, said first and in its colour: what its status means for the person and
 * that a verifier will see it.
 */
export function statusNotice(t: Translate, status: string): SafeHtml {
  const warning = statusWarning(status, t);
  const words = statusBadge(status, t).text;
  return notice(
    warning?.kind ?? 'warn',
    html`<p class="notice-title">${t(`此证照${words}`, `This licence is ${words.toLowerCase()}`)}</p>
      <p>${warning?.text ?? ''}</p>`,
    'licence-status-notice',
  );
}

/**
 * Whether the platform still signs this licence's PDF: only while its issuer is active and the key that
 * signed its credential is not withdrawn, as `cachedPdfSignature` decides (shared/licence/licence-pdf.ts).
 * An issuer status the API did not give counts as not signed (fail closed: no link that can only be
 * refused).
 */
function pdfSigned(licence: Pick<WalletLicence, 'issuer' | 'keyWithdrawn'>): boolean {
  return licence.issuer.status === 'active' && licence.keyWithdrawn !== true;
}

/** Why its PDF is not signed: the issuer's key withdrawn (the issuer standing), else the issuer itself. */
function keyWithdrawnOnly(licence: Pick<WalletLicence, 'issuer' | 'keyWithdrawn'>): boolean {
  return licence.keyWithdrawn === true && licence.issuer.status === 'active';
}

/**
 * A licence whose issuer, or the key that signed it, was withdrawn: said on the licence page itself,
 * before the person reaches for a signature that would be refused or a QR code that verifies
 * `unknown_issuer`.
 */
function unsignedNotice(t: Translate, licence: Pick<WalletLicence, 'issuer' | 'keyWithdrawn'>): SafeHtml {
  if (keyWithdrawnOnly(licence)) {
    return notice(
      'warn',
      html`<p class="notice-title">
          ${t('发证机关的签发密钥已被撤回', 'The issuing authority’s signing key has been withdrawn')}
        </p>
        <p>
          ${t(
            '签发此证照所用的发证机关密钥已被撤回：扫码核验不会通过，平台也不再为其版式文件签名。请联系发证机关重新签发。PDF 仍可下载，作为记录保存。',
            'The key the issuing authority signed this licence with has been withdrawn: its QR code no longer verifies, and its PDF is no longer signed. Ask the issuing authority to issue it again. The PDF can still be downloaded as a record.',
          )}
        </p>`,
      'licence-key-withdrawn',
    );
  }
  return notice(
    'warn',
    html`<p class="notice-title">${t('发证机关已被撤销', 'The issuing authority has been withdrawn')}</p>
      <p>
        ${t(
          '此证照的发证机关已被撤销：扫码核验不会通过，平台也不再为其版式文件签名。PDF 仍可下载，作为记录保存。',
          'This licence’s issuing authority has been withdrawn: its QR code no longer verifies, and its PDF is no longer signed. The PDF can still be downloaded as a record.',
        )}
      </p>`,
    'licence-issuer-withdrawn',
  );
}

/**
 * The printable licence (电子证照版式文件, docs/printable-licence.md): the PDF in A4 and card size, and
 * its signature file to send along with it, while its issuer is active (else the PDF alone, and the
 * notice at the top of the page says why). A licence that is not valid prints as such. The signature
 * links carry no `download` attribute: the answer's `content-disposition: attachment` saves the file all
 * the same, and a refusal (the issuer withdrawn since the page was shown) shows as the wallet's page saying
 * why, where a `download` link would end in a failed download with no words.
 */
function printableSection(
  t: Translate,
  licence: Pick<WalletLicence, 'id' | 'status' | 'issuer' | 'keyWithdrawn'>,
): SafeHtml {
  const base = `${licenceHref(licence.id)}/pdf`;
  return html`<section class="card" aria-labelledby="licence-print">
    <h2 id="licence-print">${t('下载打印', 'Download and print')}</h2>
    <p class="hint">
      ${
        licence.status === 'valid' && pdfSigned(licence)
          ? t(
              '版式文件可保存、打印或发给办事窗口；纸上的二维码可扫码核验。',
              'Keep, print or send the PDF to a service counter; the QR code on paper can be scanned to verify it.',
            )
          : licence.status === 'valid' && keyWithdrawnOnly(licence)
            ? t(
                '版式文件可作为记录保存；签发它的密钥已被撤回，纸上的二维码不再能核验通过。',
                'Keep the PDF as a record; the key it was signed with has been withdrawn, so the QR code on paper no longer verifies.',
              )
            : licence.status === 'valid'
              ? t(
                  '版式文件可作为记录保存；发证机关已被撤销，纸上的二维码不再能核验通过。',
                  'Keep the PDF as a record; its issuing authority has been withdrawn, so the QR code on paper no longer verifies.',
                )
              : t(
                  '此证照不是有效状态，版式文件上会醒目标明。',
                  'This licence is not valid, and the PDF says so prominently.',
                )
      }
    </p>
    <ul class="wallet-downloads">
      <li><a href="${base}?layout=a4" download>${t('A4 版 PDF', 'A4 PDF')}</a></li>
      <li><a href="${base}?layout=card" download>${t('卡片版 PDF', 'Card-size PDF')}</a></li>
      ${
        pdfSigned(licence)
          ? html`<li><a href="${base}.jws?layout=a4">${t('A4 版文件签名', 'Signature of the A4 PDF')}</a></li>
              <li>
                <a href="${base}.jws?layout=card">${t('卡片版文件签名', 'Signature of the card PDF')}</a>
              </li>`
          : html``
      }
    </ul>
    ${
      pdfSigned(licence)
        ? html``
        : html`<p class="hint" id="licence-unsigned">
            ${
              keyWithdrawnOnly(licence)
                ? t(
                    '签发它的密钥已被撤回，版式文件不再附签名文件。',
                    'The key it was signed with has been withdrawn, so the PDF comes without a signature file.',
                  )
                : t(
                    '发证机关已被撤销，版式文件不再附签名文件。',
                    'The issuing authority has been withdrawn, so the PDF comes without a signature file.',
                  )
            }
          </p>`
    }
  </section>`;
}
