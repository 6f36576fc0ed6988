import type { IssueFormModel } from '../console/issue-form.js';
import type { IssueRequest, LicenceTypeEntry } from '../console/issuer-api.js';
import {
  fieldId,
  schemaFields,
  type SchemaField,
  renderField,
  renderSchemaFields,
  type FieldErrors,
  type FormValues,
} from '../console/schema-form.js';
import { maskIdNumber, type IdNumber } from '../../identifiers/id-number.js';
import { attr, html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';
import { errorSummary } from '../kit/error-summary.js';
import { notice } from '../kit/layout.js';
import { consoleBar, type ConsoleWho } from './console-common.js';

/** The licence types the console offers an issuer, and whether they were narrowed to its own. */
export interface TypeOffer {
  /** The whole catalogue. */
  all: readonly LicenceTypeEntry[];
  /** What to offer: the types the issuer's trust-list entry lists, or all when it could not be read. */
  types: readonly LicenceTypeEntry[];
  /** Whether {@link types} are the issuer's own (false: all are offered and the API decides). */
  restricted: boolean;
  /** The issuer's jurisdiction (GB/T 2260 codes), when its entry could be read and names one. */
  jurisdiction?: readonly string[];
}

/**
 * `/console/licences/new` without a type: the licence types this issuer may issue (its trust-list
 * entry's), and why there are none when it may issue none. Should its entry not be readable, all types
 * are offered and the API refuses the others with a clear message.
 *
 * @example
 * ```ts
 * chooseTypeBody(t, whoOf(session), { all, types: mine, restricted: true });
 * ```
 */
export function chooseTypeBody(t: Translate, who: ConsoleWho, offer: TypeOffer, error?: string): SafeHtml {
  const { types } = offer;
  return html`${consoleBar(t, who)}
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
  /** Who is signed in (the bar above the page). */
  who: ConsoleWho;
  model: IssueFormModel;
  values: FormValues;
  errors: FieldErrors;
  /** A fresh UUID per form: a second submission of the same form is the same issuance. */
  idempotencyKey: string;
  /** A refusal that is not about one field (type not allowed, a conflict). */
  message?: string;
  /** The issuer's jurisdiction: a regional type says it goes only to holders there. */
  jurisdiction?: readonly string[];
}

/**
 * The issuance form of one type, generated from its JSON Schema: holder, validity, then the type's
 * fields. Errors (ours or the API's) sit under their fields, and a summary at the top links to each.
 *
 * @example
 * ```ts
 * issueFormBody(t, { who, model: issueFormModel(type, t), values: {}, errors: {}, idempotencyKey: randomUUID() });
 * ```
 */
export function issueFormBody(t: Translate, input: IssueFormInput): SafeHtml {
  const { model, values, errors } = input;
  const type = model.type;
  const fieldErrors = Object.entries(errors).filter(([name]) => name !== '');
  const general = [input.message, errors['']].filter(Boolean).join(' ');
  return html`${consoleBar(t, input.who)}
    <h1>${t('签发', 'Issue')}${t('：', ': ')}${t(type.name, type.nameEn ?? type.name)}</h1>
    <p><a href="/console/licences/new">${t('换一种证照类型', 'Choose another type')}</a></p>
    ${general ? notice('error', general, 'issue-error') : ''}
    ${errorSummary(
      t,
      'issue-error-summary',
      fieldErrors.map(([name, message]) => ({
        target: fieldId(name),
        message: `${labelOf(input, name)}${t('：', ': ')}${message}`,
      })),
    )}
    <form method="post" action="/console/licences" class="card console-issue" id="issue-form" novalidate>
      <input type="hidden" name="type" value="${type.code}" />
      <input type="hidden" name="idempotencyKey" value="${input.idempotencyKey}" />
      <p class="hint">${t('带 * 的为必填项。', 'Fields marked * are required.')}</p>
      <fieldset>
        <legend>${t('持证人', 'Holder')}</legend>
        ${
          type.regional && input.jurisdiction && input.jurisdiction.length > 0
            ? html`<p class="hint" id="issue-jurisdiction">
                ${t(
                  `此类证照只签发给本机关辖区（行政区划代码 ${input.jurisdiction.join('、')}）内的持证人。`,
                  `This type is issued only to holders in this issuer’s jurisdiction (division codes ${input.jurisdiction.join(', ')}).`,
                )}
              </p>`
            : ''
        }
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
      <p class="hint" id="issue-review-hint">
        ${t('提交后先核对信息，确认后才会签发。', 'You will review the licence before it is signed.')}
      </p>
      <button type="submit" aria-describedby="issue-review-hint">${t('下一步：核对', 'Next: review')}</button>
    </form>`;
}

export interface IssueReviewInput {
  /** Who is signed in (the bar above the page). */
  who: ConsoleWho;
  model: IssueFormModel;
  /**
   * The form as {@link parseIssueForm} read it (each day `YYYY-MM-DD`, however typed): shown, and carried
   * on in hidden fields, so the confirmation issues exactly this.
   */
  values: FormValues;
  /** The API request the form makes, as {@link parseIssueForm} read it. */
  request: IssueRequest;
  idempotencyKey: string;
}

/**
 * The review before signing (核对): exactly what the licence will say (type, holder with the number
 * masked, validity, every field) and two buttons: 确认签发 issues it, 返回修改 goes back to the filled
 * form. Both post the form again (hidden fields, with its idempotency key), so nothing is issued before
 * the confirmation, and a confirmation sent twice is the same issuance.
 *
 * @example
 * ```ts
 * issueReviewBody(t, { who, model, values, request: parsed.request, idempotencyKey });
 * ```
 */
export function issueReviewBody(t: Translate, input: IssueReviewInput): SafeHtml {
  const { model, values, request } = input;
  const type = model.type;
  const number = 'idNumber' in request.holder ? request.holder.idNumber : request.holder.creditCode;
  const validFrom = values.validFrom ? values.validFrom : t('签发即生效', 'From its issuance');
  const validUntil = values.validUntil
    ? values.validUntil
    : type.defaultValidityYears === null || type.defaultValidityYears === undefined
      ? t('长期有效', 'No expiry')
      : t(
          `按默认有效期（${type.defaultValidityYears} 年）`,
          `The type’s default (${type.defaultValidityYears} years)`,
        );
  const shown = schemaFields(model.fields).filter((field) => (values[field.name] ?? '') !== '');
  return html`${consoleBar(t, input.who)}
    <h1>${t('核对证照信息', 'Review the licence')}</h1>
    <div class="notice info" role="status" id="issue-review-notice">
      <p>
        ${t(
          '证照尚未签发。请核对以下信息，确认无误后点击“确认签发”；签发后内容不能修改，只能吊销后重新签发。',
          'The licence is not issued yet. Check what follows, then choose “Confirm and issue”; once signed it cannot be edited, only revoked and issued again.',
        )}
      </p>
    </div>
    <section class="card console-review" aria-labelledby="review-heading">
      <h2 id="review-heading">${t(type.name, type.nameEn ?? type.name)}</h2>
      <dl class="fields" id="issue-review">
        <dt>${t('证照类型', 'Licence type')}</dt>
        <dd>${t(type.name, type.nameEn ?? type.name)}</dd>
        <dt>${model.holderName.label}</dt>
        <dd>${request.holderName}</dd>
        <dt>${model.holderNumber.label}</dt>
        <dd class="mono nowrap" id="review-holder-number">${maskNumber(number)}</dd>
        <dt>${model.validFrom.label}</dt>
        <dd>${validFrom}</dd>
        <dt>${model.validUntil.label}</dt>
        <dd>${validUntil}</dd>
        ${shown.map(
          (field) =>
            html`<dt>${field.label}</dt>
              <dd>${reviewValue(field, values[field.name] ?? '', t)}</dd>`,
        )}
      </dl>
    </section>
    <form method="post" action="/console/licences" id="issue-review-form" class="console-review-actions">
      ${Object.entries(values)
        .filter(([name, value]) => !['step', 'idempotencyKey'].includes(name) && value !== undefined)
        .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value ?? ''}" />`)}
      <input type="hidden" name="idempotencyKey" value="${input.idempotencyKey}" />
      <button type="submit" name="step" value="confirm">${t('确认签发', 'Confirm and issue')}</button>
      <button type="submit" name="step" value="edit" class="secondary">
        ${t('返回修改', 'Go back and edit')}
      </button>
    </form>`;
}

/**
 * A number on the review as the licence will show it: an ID number as the API masks it (region code,
 * eight stars, last four), anything else its first and last four.
 */
function maskNumber(number: string): string {
  // An ID number as every licence shows it (a foreigner's without its nationality: review R64-3).
  if (/^(?:\d{17}[\dXx]|[A-Za-z]{3}\d{12})$/.test(number))
    return maskIdNumber(number.toUpperCase() as IdNumber);
  return number.length <= 8
    ? '*'.repeat(number.length)
    : `${number.slice(0, 4)}${'*'.repeat(number.length - 8)}${number.slice(-4)}`;
}

/** A posted value as the review shows it: a third person's number masked, a box ticked or not, a choice named. */
function reviewValue(field: SchemaField, value: string, t: Translate): string {
  if (field.writeOnly) return maskNumber(value.trim());
  if (field.kind === 'checkbox') return value ? t('是', 'Yes') : t('否', 'No');
  // A choice under its name in the page's language (学士 for `bachelor`), as the form offered it.
  const option = field.options?.indexOf(value) ?? -1;
  return (option >= 0 ? field.optionLabels?.[option] : undefined) ?? value;
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
