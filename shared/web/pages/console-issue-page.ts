import type { IssueFormModel } from '../console/issue-form.js';
import type { LicenceTypeEntry } from '../console/issuer-api.js';
import {
  fieldId,
  renderField,
  renderSchemaFields,
  type FieldErrors,
  type FormValues,
} from '../console/schema-form.js';
import { attr, html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { notice } from '../kit/layout.js';
import { consoleBar } from './console-common.js';

/** The licence types the console offers an issuer, and whether they were narrowed to its own. */
export interface TypeOffer {
  /** The whole catalogue. */
  all: readonly LicenceTypeEntry[];
  /** What to offer: the types the issuer's trust-list entry lists, or all when it could not be read. */
  types: readonly LicenceTypeEntry[];
  /** Whether {@link types} are the issuer's own (false: all are offered and the API decides). */
  restricted: boolean;
}

/**
 * `/console/licences/new` without a type: the licence types this issuer may issue (its trust-list
 * entry's), and why there are none when it may issue none. Should its entry not be readable, all types
 * are offered and the API refuses the others with a clear message.
 *
 * @example
 * ```ts
 * chooseTypeBody(t, session.clientId, { all, types: mine, restricted: true });
 * ```
 */
export function chooseTypeBody(t: Translate, clientId: string, offer: TypeOffer, error?: string): SafeHtml {
  const { types } = offer;
  return html`${consoleBar(t, clientId)}
    <h1>${t('签发新证照', 'Issue a licence')}</h1>
    ${error ? notice('error', error) : ''}
    ${
      types.length === 0
        ? html`<div class="notice info" id="no-licence-types" role="status">
            <p>
              ${t(
                '本机关目前没有获准签发的证照类型，因此不能签发证照。',
                'This issuer is not allowed to issue any licence type at present, so it cannot issue licences.',
              )}
            </p>
            <p>
              ${t(
                '可签发的证照类型由平台管理员在登记发证机关时设定，并公布在信任列表中。如需签发，请联系平台管理员。',
                'The types an issuer may issue are set by the platform administrator when the issuer is registered, and published in the trust list. Ask the administrator to add them.',
              )}
            </p>
          </div>`
        : html`<form method="get" action="/console/licences/new" class="card">
            <fieldset>
              <legend>${t('证照类型', 'Licence type')}</legend>
              ${
                offer.restricted
                  ? html`<p class="hint" id="licence-types-hint">
                      ${t(
                        `只列出本机关获准签发的证照类型（共 ${types.length} 种）。`,
                        `Only the types this issuer may issue are listed (${types.length}).`,
                      )}
                    </p>`
                  : html``
              }
              ${types.map(
                (type, i) =>
                  html`<label class="choice">
                    <input
                      type="radio"
                      name="type"
                      value="${type.code}"
                      ${attr('checked', i === 0 ? 'checked' : undefined)}
                    />
                    <span
                      >${t(type.name, type.nameEn ?? type.name)}
                      <span class="hint"
                        >${type.holderKind === 'person' ? t('持证人：自然人', 'Holder: a person') : t('持证人：法人或其他组织', 'Holder: an entity')}</span
                      ></span
                    >
                  </label>`,
              )}
            </fieldset>
            <button type="submit">${t('下一步', 'Next')}</button>
          </form>`
    }`;
}

export interface IssueFormInput {
  clientId: string;
  model: IssueFormModel;
  values: FormValues;
  errors: FieldErrors;
  /** A fresh UUID per form: a second submission of the same form is the same issuance. */
  idempotencyKey: string;
  /** A refusal that is not about one field (type not allowed, a conflict). */
  message?: string;
}

/**
 * The issuance form of one type, generated from its JSON Schema: holder, validity, then the type's
 * fields. Errors (ours or the API's) sit under their fields, and a summary at the top links to each.
 *
 * @example
 * ```ts
 * issueFormBody(t, { clientId, model: issueFormModel(type, t), values: {}, errors: {}, idempotencyKey: randomUUID() });
 * ```
 */
export function issueFormBody(t: Translate, input: IssueFormInput): SafeHtml {
  const { model, values, errors } = input;
  const type = model.type;
  const fieldErrors = Object.entries(errors).filter(([name]) => name !== '');
  const general = [input.message, errors['']].filter(Boolean).join(' ');
  return html`${consoleBar(t, input.clientId)}
    <h1>${t('签发', 'Issue')}：${t(type.name, type.nameEn ?? type.name)}</h1>
    <p><a href="/console/licences/new">${t('换一种证照类型', 'Choose another type')}</a></p>
    ${general ? notice('error', general, 'issue-error') : ''}
    ${
      fieldErrors.length > 0
        ? html`<div class="notice error" role="alert" id="issue-error-summary">
            <p>${t('请更正以下各项：', 'Please correct the following:')}</p>
            <ul>
              ${fieldErrors.map(([name, message]) => html`<li><a href="#${fieldId(name)}">${labelOf(input, name)}</a>：${message}</li>`)}
            </ul>
          </div>`
        : ''
    }
    <form method="post" action="/console/licences" class="card console-issue" id="issue-form" novalidate>
      <input type="hidden" name="type" value="${type.code}" />
      <input type="hidden" name="idempotencyKey" value="${input.idempotencyKey}" />
      <p class="hint">${t('带 * 的为必填项。', 'Fields marked * are required.')}</p>
      <fieldset>
        <legend>${t('持证人', 'Holder')}</legend>
        ${renderField(model.holderNumber, values.holderNumber, errors.holderNumber, t)}
        ${renderField(model.holderName, values.holderName, errors.holderName, t)}
      </fieldset>
      <fieldset>
        <legend>${t('有效期', 'Validity')}</legend>
        ${renderField(model.validFrom, values.validFrom, errors.validFrom, t)}
        ${renderField(model.validUntil, values.validUntil, errors.validUntil, t)}
      </fieldset>
      <fieldset>
        <legend>${t('证照内容', 'Licence fields')}</legend>
        ${renderSchemaFields(model.fields, values, errors, t)}
      </fieldset>
      <button type="submit">${t('签发', 'Issue')}</button>
    </form>`;
}

function labelOf(input: IssueFormInput, name: string): string {
  const own = [
    input.model.holderNumber,
    input.model.holderName,
    input.model.validFrom,
    input.model.validUntil,
  ];
  const find = (nodes: IssueFormInput['model']['fields']): string | undefined => {
    for (const node of nodes) {
      if (node.name === name) return node.label;
      if (node.kind === 'group') {
        const inner = find(node.children);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  return own.find((f) => f.name === name)?.label ?? find(input.model.fields) ?? name;
}
