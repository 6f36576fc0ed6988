import type { Licence, LicenceStatus, LicenceTypeEntry } from '../console/issuer-api.js';
import { chinaDate, chinaDateTime, statusBadge, typeName, validity } from '../console/labels.js';
import { statusReason, statusReasons, type StatusReason } from '../../licence/status-reasons.js';
import { schemaFormModel, schemaFields, type SchemaNode } from '../console/schema-form.js';
import { attr, html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { errorSummary, type SummaryItem } from '../kit/error-summary.js';
import { notice } from '../kit/layout.js';
import { consoleBar, type ConsoleWho } from './console-common.js';
import { isSensitiveFieldName, withoutSensitiveFields } from '../../identifiers/sensitive-field-names.js';

/** The status changes an issuer may ask for (`POST /licences/{id}/status`). */
export type TargetStatus = 'suspended' | 'valid' | 'revoked';

/**
 * The actions that make sense from a status: a suspended licence can come back, a revoked one never
 * (revocation is final), and any live or lapsed one can be revoked.
 *
 * @example
 * ```ts
 * actionsFor('suspended'); // ['valid', 'revoked']
 * ```
 */
export function actionsFor(status: LicenceStatus): TargetStatus[] {
  switch (status) {
    case 'valid':
      return ['suspended', 'revoked'];
    case 'suspended':
      return ['valid', 'revoked'];
    case 'expired':
      return ['revoked'];
    case 'revoked':
      return [];
  }
}

export interface LicencePageInput {
  /** Who is signed in (the bar above the page). */
  who: ConsoleWho;
  licence: Licence;
  types: readonly LicenceTypeEntry[];
  /** The QR code of the credential, as a `data:` URL (the page loads nothing from the API itself). */
  qrDataUrl?: string;
  notice?: { kind: 'error' | 'success' | 'info'; text: string };
  /** A refused status change: its form shows the errors and keeps the chosen reason and the text. */
  action?: {
    status: TargetStatus;
    reasonCode?: string;
    reason?: string;
    errors: Partial<Record<'reasonCode' | 'reason' | 'confirm', string>>;
  };
  /** A refused re-issue (its confirmation not ticked): the form shows why. */
  reissue?: { errors: Partial<Record<'confirm', string>> };
}

const actionWords = (
  t: Translate,
): Record<TargetStatus, { heading: string; button: string; hint: string }> => ({
  suspended: {
    heading: t('暂停证照', 'Suspend the licence'),
    button: t('暂停', 'Suspend'),
    hint: t(
      '暂停后核验结果为“已暂停”，之后可以恢复。',
      'Verifiers will see “suspended”; it can be reinstated later.',
    ),
  },
  valid: {
    heading: t('恢复证照', 'Reinstate the licence'),
    button: t('恢复', 'Reinstate'),
    hint: t('恢复后证照重新有效。', 'The licence becomes valid again.'),
  },
  revoked: {
    heading: t('吊销证照', 'Revoke the licence'),
    button: t('吊销', 'Revoke'),
    hint: t('吊销是最终的，无法恢复。', 'Revocation is final and cannot be undone.'),
  },
});

/**
 * `/console/licences/{id}`: everything the API says of one licence, its QR code, its history when the
 * API gives one, and the status changes valid from its current status, each asking for a reason
 * (revocation also for a confirmation, being final).
 *
 * @example
 * ```ts
 * licenceBody(t, { who, licence: await api.get(id), types, qrDataUrl });
 * ```
 */
export function licenceBody(t: Translate, input: LicencePageInput): SafeHtml {
  const { licence } = input;
  const type = input.types.find((entry) => entry.code === licence.type);
  const nodes = type ? schemaFormModel(type.fields, 'fields', t) : [];
  const actions = actionsFor(licence.status);
  return html`${consoleBar(t, input.who)}
    <h1>${typeName(licence.type, input.types, t)} ${statusBadge(licence.status, t)}</h1>
    ${input.notice ? notice(input.notice.kind, input.notice.text) : ''}
    ${errorSummary(t, 'action-error-summary', refusedItems(t, input))}
    <div class="console-licence">
      <section class="card" aria-labelledby="licence-facts">
        <h2 id="licence-facts">${t('证照信息', 'Licence')}</h2>
        <dl class="fields">
          <dt>${t('证照编号', 'Licence number')}</dt>
          <dd class="mono" id="licence-id">${licence.id}</dd>
          <dt>${t('状态', 'Status')}</dt>
          <dd id="licence-status">${statusBadge(licence.status, t)}</dd>
          ${
            licence.statusReason
              ? html`<dt>${t('状态原因', 'Reason for status')}</dt>
                  <dd>${licence.statusReason}</dd>`
              : ''
          }
          <dt>${t('持证人', 'Holder')}</dt>
          <dd>${licence.holder.name} <span class="mono">${licence.holder.masked}</span></dd>
          <dt>${t('发证机关', 'Issuer')}</dt>
          <dd>${licence.issuer.name}</dd>
          <dt>${t('签发时间', 'Issued')}</dt>
          <dd>${chinaDate(licence.issuedAt) ?? licence.issuedAt}</dd>
          <dt>${t('有效期', 'Validity')}</dt>
          <dd>${validity(licence.validFrom, licence.validUntil, t).text}</dd>
          ${licence.replaces ? linkRow(t('重新签发自', 'Re-issued in place of'), 'licence-replaces', licence.replaces) : ''}
          ${licence.replacedBy ? linkRow(t('已重新签发为', 'Re-issued as'), 'licence-replaced-by', licence.replacedBy) : ''}
        </dl>
        <h3>${t('证照内容', 'Fields')}</h3>
        <dl class="fields">${fieldRows(licence.fields, nodes)}</dl>
      </section>
      ${
        input.qrDataUrl
          ? html`<section class="card console-qr" aria-labelledby="licence-qr">
              <h2 id="licence-qr">${t('证照二维码', 'Licence QR code')}</h2>
              <img
                src="${input.qrDataUrl}"
                alt="${t('此证照凭证的二维码', 'QR code of this licence’s credential')}"
                width="480"
                height="480"
              />
              <p class="hint">
                ${t('可打印在纸质证照上，供任何核验应用离线核验。', 'Printable on a paper licence; any verifier app can check it offline.')}
              </p>
              ${printableLinks(t, licence.id, licence.keyWithdrawn === true)}
            </section>`
          : ''
      }
    </div>
    ${historySection(t, licence.history ?? [])}
    ${licence.status === 'valid' ? reissueForm(t, licence, input.reissue) : ''}
    ${
      actions.length > 0
        ? html`<h2>${t('变更状态', 'Change the status')}</h2>
            <div class="console-actions">
              ${actions.map((status) => actionForm(t, licence.id, status, input.action))}
            </div>`
        : html`<p class="muted">
            ${t('此证照已吊销，状态不能再变更。', 'This licence is revoked; its status can no longer change.')}
          </p>`
    }`;
}

/** A fact that names another licence, linked to its page. */
function linkRow(label: string, id: string, licenceId: string): SafeHtml {
  return html`<dt>${label}</dt>
    <dd class="mono">
      <a id="${id}" href="/console/licences/${encodeURIComponent(licenceId)}">${licenceId}</a>
    </dd>`;
}

/**
 * The refused fields of a status change or a re-issue, for the summary at the top of the page: the forms
 * are far down it, where their errors alone were neither seen nor announced (review R62-2).
 */
function refusedItems(t: Translate, input: LicencePageInput): SummaryItem[] {
  const items: SummaryItem[] = [];
  const reissueError = input.reissue?.errors.confirm;
  if (reissueError)
    items.push({ target: 'confirm-reissue', message: `${t('重新签发', 'Re-issue')} · ${reissueError}` });
  const action = input.action;
  if (action) {
    const heading = actionWords(t)[action.status].heading;
    const fields = [
      ['reasonCode', `reason-code-${action.status}`],
      ['reason', `reason-${action.status}`],
      ['confirm', `confirm-${action.status}`],
    ] as const;
    for (const [field, target] of fields) {
      const message = action.errors[field];
      if (message) items.push({ target, message: `${heading} · ${message}` });
    }
  }
  return items;
}

/**
 * Re-issue (重新签发, `POST /licences/{id}/reissue`): offered for a valid licence, first among the
 * actions when its key was withdrawn. The same licence again under the issuer's current key, and this one
 * revoked (`reissued`); final, so it asks for a confirmation as a revocation does.
 */
function reissueForm(t: Translate, licence: Licence, refused: LicencePageInput['reissue']): SafeHtml {
  const error = refused?.errors.confirm;
  const describedBy = ['reissue-hint', error ? 'confirm-reissue-error' : undefined].filter(Boolean).join(' ');
  return html`<section class="card console-action reissue" aria-labelledby="reissue-heading" id="reissue">
    <h2 id="reissue-heading">${t('重新签发', 'Re-issue')}</h2>
    <p class="hint" id="reissue-hint">
      ${
        licence.keyWithdrawn
          ? t(
              '签发此证照所用的密钥已被撤回。重新签发会以本机关当前的密钥签发一张内容相同的新证照（新的证照编号），并以“证照已换发或补发”吊销本证照。',
              'The key this licence was signed with has been withdrawn. Re-issuing signs a new licence with the same content under this issuer’s current key (a new licence number), and revokes this one as replaced by a reissued licence.',
            )
          : t(
              '以本机关当前的密钥签发一张内容相同的新证照（新的证照编号），并以“证照已换发或补发”吊销本证照，例如证照遗失、旧二维码须作废时。内容有误时请签发新证照并以“证照信息有误”吊销本证照。',
              'Signs a new licence with the same content under this issuer’s current key (a new licence number) and revokes this one as replaced by a reissued licence, e.g. when a lost licence’s QR code must stop working. To correct its content, issue a new licence and revoke this one as “information is wrong”.',
            )
      }
    </p>
    <form
      method="post"
      action="/console/licences/${encodeURIComponent(licence.id)}/reissue"
      id="reissue-form"
      novalidate
    >
      <div class="field check">
        <input
          type="checkbox"
          id="confirm-reissue"
          name="confirm"
          value="yes"
          required
          ${attr('aria-invalid', error ? 'true' : undefined)}
          aria-describedby="${describedBy}"
        />
        <label for="confirm-reissue"
          >${t('我确认重新签发，并吊销此证照', 'I confirm re-issuing, and revoking this licence')}</label
        >
        ${error ? html`<p class="field-error" id="confirm-reissue-error">${error}</p>` : ''}
      </div>
      <button type="submit" class="${licence.keyWithdrawn ? '' : 'secondary'}">
        ${t('重新签发', 'Re-issue')}
      </button>
    </form>
  </section>`;
}

function actionForm(
  t: Translate,
  id: string,
  status: TargetStatus,
  refused: LicencePageInput['action'],
): SafeHtml {
  const words = actionWords(t)[status];
  const errors = refused?.status === status ? refused.errors : {};
  const reason = refused?.status === status ? (refused.reason ?? '') : '';
  const reasonId = `reason-${status}`;
  const codeId = `reason-code-${status}`;
  const code = refused?.status === status ? refused.reasonCode : undefined;
  const confirmId = `confirm-${status}`;
  const describe = (fieldId: string, error: string | undefined, hint?: string) =>
    [hint, error ? `${fieldId}-error` : undefined].filter(Boolean).join(' ') || undefined;
  return html`<section class="card console-action ${status}" aria-labelledby="action-${status}">
    <h3 id="action-${status}">${words.heading}</h3>
    <p class="hint" id="action-${status}-hint">${words.hint}</p>
    <form
      method="post"
      action="/console/licences/${encodeURIComponent(id)}/status"
      id="action-form-${status}"
      novalidate
    >
      <input type="hidden" name="status" value="${status}" />
      <label for="${codeId}">${t('原因', 'Reason')}<span class="required" aria-hidden="true">*</span></label>
      <select
        id="${codeId}"
        name="reasonCode"
        required
        ${attr('aria-invalid', errors.reasonCode ? 'true' : undefined)}
        ${attr('aria-describedby', errors.reasonCode ? `${codeId}-error` : undefined)}
      >
        <option value="">${t('请选择', 'Choose a reason')}</option>
        ${(statusReasons[status] as readonly StatusReason[]).map(
          (preset) =>
            html`<option
              value="${preset.code}"
              ${attr('selected', preset.code === code ? 'selected' : undefined)}
            >
              ${t(preset.zh, preset.en)}
            </option>`,
        )}
      </select>
      ${errors.reasonCode ? html`<p class="field-error" id="${codeId}-error">${errors.reasonCode}</p>` : ''}
      <label for="${reasonId}">${t('补充说明', 'Details')}</label>
      <span class="hint" id="${reasonId}-hint"
        >${t('选择“其他”时必填；最多 500 字。', 'Required when the reason is “Other”; at most 500 characters.')}</span
      >
      <textarea
        id="${reasonId}"
        name="reason"
        maxlength="500"
        rows="2"
        ${attr('aria-invalid', errors.reason ? 'true' : undefined)}
        ${attr('aria-describedby', describe(reasonId, errors.reason, `${reasonId}-hint`))}
      >
${reason}</textarea>
      ${errors.reason ? html`<p class="field-error" id="${reasonId}-error">${errors.reason}</p>` : ''}
      ${
        status === 'revoked'
          ? html`<div class="field check">
              <input
                type="checkbox"
                id="${confirmId}"
                name="confirm"
                value="yes"
                required
                ${attr('aria-invalid', errors.confirm ? 'true' : undefined)}
                ${attr('aria-describedby', describe(confirmId, errors.confirm, `action-${status}-hint`))}
              />
              <label for="${confirmId}">${t('我确认吊销此证照', 'I confirm revoking this licence')}</label>
              ${errors.confirm ? html`<p class="field-error" id="${confirmId}-error">${errors.confirm}</p>` : ''}
            </div>`
          : ''
      }
      <button
        type="submit"
        class="${status === 'revoked' ? 'danger' : status === 'valid' ? '' : 'secondary'}"
      >
        ${words.button}
      </button>
    </form>
  </section>`;
}

const historyStatus: Record<string, TargetStatus | undefined> = {
  suspended: 'suspended',
  reinstated: 'valid',
  revoked: 'revoked',
};

function historyAction(action: string, t: Translate): string {
  const words: Record<string, string> = {
    issued: t('签发', 'Issued'),
    suspended: t('暂停', 'Suspended'),
    reinstated: t('恢复', 'Reinstated'),
    revoked: t('吊销', 'Revoked'),
  };
  return words[action] ?? action;
}

/**
 * Why, in the page's language: a preset reason by its code (the record keeps its Chinese words, with
 * the clerk's note after "："), else the words as recorded.
 */
function historyReason(event: NonNullable<Licence['history']>[number], t: Translate): string {
  const status = historyStatus[event.action];
  const preset =
    status && event.reasonCode && event.reasonCode !== 'other'
      ? statusReason(status, event.reasonCode)
      : undefined;
  if (!preset) return event.reason ?? '';
  const note = event.reason?.startsWith(`${preset.zh}：`) ? event.reason.slice(preset.zh.length + 1) : '';
  return note ? t(`${preset.zh}：${note}`, `${preset.en}: ${note}`) : t(preset.zh, preset.en);
}

/**
 * The status history (变更记录): when, what, who (the issuer's client that made the change) and why,
 * oldest first, as the API's record of the licence keeps it.
 */
function historySection(t: Translate, history: NonNullable<Licence['history']>): SafeHtml {
  if (history.length === 0) return html``;
  return html`<section aria-labelledby="licence-history" class="console-history-section">
    <h2 id="licence-history">${t('状态变更记录', 'Status history')}</h2>
    <div class="table-scroll" role="region" aria-labelledby="licence-history" tabindex="0">
      <table class="console-history" id="licence-history-table">
        <thead>
          <tr>
            <th scope="col">${t('时间', 'When')}</th>
            <th scope="col">${t('操作', 'Change')}</th>
            <th scope="col">${t('操作人', 'By')}</th>
            <th scope="col">${t('原因', 'Reason')}</th>
          </tr>
        </thead>
        <tbody>
          ${history.map(
            (event) =>
              html`<tr>
                <td class="nowrap" data-label="${t('时间', 'When')}">
                  <time datetime="${event.at}">${chinaDateTime(event.at)}</time>
                </td>
                <td class="nowrap" data-label="${t('操作', 'Change')}">${historyAction(event.action, t)}</td>
                <td class="mono nowrap" data-label="${t('操作人', 'By')}">${actorOf(event, t)}</td>
                <td data-label="${t('原因', 'Reason')}">${historyReason(event, t)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <p class="hint">
      ${t(
        '操作人为发起变更的发证机关客户端；每次变更同时写入审计链。',
        'By: the issuer’s client that made the change; each change is also written to the audit trail.',
      )}
    </p>
  </section>`;
}

/**
 * The licence's fields under their schema titles. A third person's number is stored only masked
 * (`…IdMasked` for the schema's `…IdNumber`), shown under its title; lookup keys are for the service's
 * own matching and mean nothing to a reader, so they are left out.
 */
function fieldRows(fields: Record<string, unknown>, nodes: readonly SchemaNode[]): SafeHtml {
  const all = schemaFields(nodes);
  const titleOf = (key: string): string => {
    const node =
      nodes.find((n) => n.key === key) ?? nodes.find((n) => n.key === key.replace(/IdMasked$/, 'IdNumber'));
    return node?.label ?? key;
  };
  const show = (value: unknown, key: string): string => {
    if (value !== null && typeof value === 'object') {
      return Object.entries(value as Record<string, unknown>)
        .map(
          ([inner, v]) =>
            `${all.find((f) => f.name === `fields.${key}.${inner}`)?.label ?? inner}: ${String(v)}`,
        )
        .join('，');
    }
    if (typeof value === 'boolean') return value ? '✓' : '✗';
    // A choice under its name in the page's language (学士 for `bachelor`).
    const field = all.find((f) => f.name === `fields.${key}`);
    const option = field?.options?.indexOf(String(value)) ?? -1;
    return (option >= 0 ? field?.optionLabels?.[option] : undefined) ?? String(value);
  };
  return html`${Object.entries(fields)
    // Fail-safe by the name (a clear number too, should a type forget its marking), not the catalogue.
    .filter(([key]) => !isSensitiveFieldName(key))
    .map(
      ([key, value]) =>
        html`<dt>${titleOf(key)}</dt>
          <dd>${show(withoutSensitiveFields(value), key)}</dd>`,
    )}`;
}

/**
 * The printable licence (电子证照版式文件, docs/printable-licence.md): its PDF in A4 and card size, and
 * the PDF's signature file, to send with it; no signature once the key that signed the licence's
 * credential was withdrawn (the API refuses it: its QR code verifies `unknown_issuer`), and a notice
 * saying to issue it again.
 */
function printableLinks(t: Translate, id: string, keyWithdrawn: boolean): SafeHtml {
  const base = `/console/licences/${encodeURIComponent(id)}`;
  const pdfs = html`<li>
      <a href="${base}/pdf?layout=a4" download>${t('下载 A4 版 PDF', 'Download A4 PDF')}</a>
    </li>
    <li><a href="${base}/pdf?layout=card" download>${t('下载卡片版 PDF', 'Download card-size PDF')}</a></li>`;
  if (keyWithdrawn) {
    return html`<h3>${t('版式文件（可打印）', 'Printable licence (PDF)')}</h3>
      ${notice(
        'warn',
        t(
          '签发此证照所用的密钥已被撤回：它的二维码核验结果为“发证机关未知”，版式文件不再签名。请用下方的“重新签发”为持证人签发新证照（本证照随之以“证照已换发或补发”吊销）。',
          'The key this licence was signed with has been withdrawn: its QR code verifies as an unknown issuer, and its PDF is no longer signed. Use “Re-issue” below to issue it to the holder again (this one is then revoked as replaced by a reissued licence).',
        ),
        'licence-key-withdrawn',
      )}
      <ul class="console-downloads">
        ${pdfs}
      </ul>`;
  }
  return html`<h3>${t('版式文件（可打印）', 'Printable licence (PDF)')}</h3>
    <ul class="console-downloads">
      ${pdfs}
      <li>
        <a href="${base}/pdf.jws?layout=a4" download>${t('A4 版文件签名', 'Signature of the A4 PDF')}</a>
      </li>
      <li>
        <a href="${base}/pdf.jws?layout=card" download>${t('卡片版文件签名', 'Signature of the card PDF')}</a>
      </li>
    </ul>
    <p class="hint">
      ${t(
        '文件签名用于确认 PDF 未被改动；证照是否仍然有效，以扫描二维码的核验结果为准。',
        'The signature shows the PDF was not altered; whether the licence is still valid is what scanning its QR code says.',
      )}
    </p>`;
}

/**
 * Who made a change, as the history names them: the clerk (their reference's first characters, the whole
 * in a tooltip, as the console's bar shows a clerk their own) or else the OAuth client.
 */
function actorOf(
  event: { actor?: string | undefined; clerk?: string | undefined },
  t: Translate,
): SafeHtml | string {
  if (!event.clerk) return event.actor ?? '';
  return html`<span title="${event.clerk}">${t('经办人', 'Clerk')} ${event.clerk.slice(0, 8)}</span>`;
}
