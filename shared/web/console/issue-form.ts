import { dayHint, readDay } from '../kit/day-input.js';
import { fieldErrorText, type CodedFieldError } from '../kit/field-messages.js';
import type { Translate } from '../kit/i18n.js';
import type { IssueRequest, LicenceTypeEntry } from './issuer-api.js';
import { validUntilAfter } from '../../validity-dates.js';
import {
  parseField,
  parseSchemaFields,
  schemaFields,
  schemaFormModel,
  type FieldErrors,
  type FormValues,
  type SchemaField,
  type SchemaNode,
} from './schema-form.js';

/** The issuance form of one licence type: the console's own inputs, then the type's generated fields. */
export interface IssueFormModel {
  type: LicenceTypeEntry;
  holderNumber: SchemaField;
  holderName: SchemaField;
  validFrom: SchemaField;
  validUntil: SchemaField;
  fields: SchemaNode[];
}

/**
 * Licences take effect and end on calendar days in China: a day typed in the form is read in Beijing
 * time (UTC+8, no daylight saving), from the start of `validFrom` to the end of `validUntil`, sent as
 * the API takes an end: the exclusive instant, 00:00 of the next day (`shared/validity-dates.ts`,
 * review R60 F1).
 */
const chinaOffset = '+08:00';

/**
 * The model of the issuance form of `type`: holder number (ID number or credit code by the type's holder
 * kind), holder name, validity dates, and the inputs generated from the type's JSON Schema.
 *
 * @example
 * ```ts
 * const model = issueFormModel(drivingLicence, t);
 * model.holderNumber.label; // '持证人身份证号码'
 * ```
 */
export function issueFormModel(type: LicenceTypeEntry, t: Translate): IssueFormModel {
  const person = type.holderKind === 'person';
  const validity =
    type.defaultValidityYears === null || type.defaultValidityYears === undefined
      ? t('留空则长期有效。', 'Leave blank for no expiry.')
      : t(
          `留空则按此类证照的默认有效期（${type.defaultValidityYears} 年，至届满当年的同月同日）。`,
          `Leave blank for this type’s default validity (${type.defaultValidityYears} years, through the same day of the last year).`,
        );
  // The validity's days are typed as text (day-input.ts): their hints say the format too.
  const withFormat = (hint: string) => `${hint}${t('', ' ')}${dayHint(t)}`;
  return {
    type,
    holderNumber: {
      kind: 'text',
      name: 'holderNumber',
      key: 'holderNumber',
      label: person
        ? t('持证人公民身份号码', 'Holder’s resident ID number')
        : t('统一社会信用代码', 'Unified social credit code'),
      hint: person
        ? t(
            '18 位，末位可为 X（2017 版外国人永久居留证：15 位，3 个字母加 12 位数字）；只以掩码形式保存。',
            '18 characters, the last may be X (a 2017 foreigner’s permanent residence card: 15, three letters and 12 digits); stored masked only.',
          )
        : t('18 位字母数字。', '18 letters and digits.'),
      required: true,
      minLength: person ? 15 : 18,
      maxLength: 18,
      pattern: person ? '^(?:\\d{17}[\\dXx]|[A-Za-z]{3}\\d{12})$' : '^[0-9A-HJ-NPQRTUWXY]{18}$',
      writeOnly: true,
    },
    holderName: {
      kind: 'text',
      name: 'holderName',
      key: 'holderName',
      label: person ? t('持证人姓名', 'Holder’s name') : t('持证单位名称', 'Holder’s name (entity)'),
      required: true,
      maxLength: 100,
      writeOnly: false,
    },
    validFrom: {
      kind: 'date',
      name: 'validFrom',
      key: 'validFrom',
      label: t('生效日期', 'Valid from'),
      hint: withFormat(t('留空则立即生效。', 'Leave blank to take effect now.')),
      required: false,
      writeOnly: false,
    },
    validUntil: {
      kind: 'date',
      name: 'validUntil',
      key: 'validUntil',
      label: t('有效期至', 'Valid until'),
      hint: withFormat(validity),
      required: false,
      writeOnly: false,
    },
    fields: schemaFormModel(type.fields, 'fields', t),
  };
}

/**
 * The posted issuance form as the request of `POST /licences`, or a message per field. Days are typed as
 * text (`2026-03-05`, `2026/3/5`, `2026年3月5日`, `20260305`: `shared/web/kit/day-input.ts`) and read as
 * `YYYY-MM-DD`, the form the licence's schema has; validity days become RFC 3339 instants in Beijing
 * time; a blank date is left out, so the API's defaults apply and a second submission of the same form is
 * the same request (idempotency compares bodies). `values` is the form as read, each day in that
 * canonical form: what the review shows and carries on.
 *
 * @example
 * ```ts
 * const parsed = parseIssueForm(model, posted, t);
 * if ('request' in parsed) await api.issue(parsed.request, posted.idempotencyKey);
 * ```
 */
export function parseIssueForm(
  model: IssueFormModel,
  posted: FormValues,
  t: Translate,
): { request: IssueRequest; values: FormValues } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const take = (field: SchemaField): string | undefined => {
    const result = parseField(field, posted[field.name], t);
    if ('error' in result) {
      errors[field.name] = result.error;
      return undefined;
    }
    return result.value as string | undefined;
  };
  const number = take(model.holderNumber)?.toUpperCase();
  const holderName = take(model.holderName);
  const validFrom = take(model.validFrom);
  const validUntil = take(model.validUntil);
  // Both read as `YYYY-MM-DD` (or undefined): compared as text, as days.
  if (validFrom && validUntil && validUntil < validFrom) {
    errors.validUntil = t('有效期至不能早于生效日期。', 'The end of validity cannot be before its start.');
  }
  const fields = parseSchemaFields(model.fields, posted, t);
  Object.assign(errors, fields.errors);
  if (Object.keys(errors).length > 0 || !number || !holderName) return { errors };
  const values = { ...posted };
  for (const field of [model.validFrom, model.validUntil, ...schemaFields(model.fields)]) {
    const typed = posted[field.name];
    if (field.kind === 'date' && typed !== undefined) values[field.name] = readDay(typed.trim()) ?? typed;
  }
  return {
    values,
    request: {
      type: model.type.code,
      holder: model.type.holderKind === 'person' ? { idNumber: number } : { creditCode: number },
      holderName,
      fields: fields.value,
      ...(validFrom ? { validFrom: `${validFrom}T00:00:00${chinaOffset}` } : {}),
      ...(validUntil ? { validUntil: validUntilAfter(validUntil) } : {}),
    },
  };
}

/**
 * The API's validation errors (`errors[].path`, e.g. `fields.vehicleClass`, `holder.idNumber`) by the
 * form field that shows them, each said from its `code` in the page's language (the API's English
 * `message` is for developers); an error at a path no field has goes under `''`, for the form's summary.
 *
 * @example
 * ```ts
 * apiFieldErrors([{ path: 'holder.idNumber', message: 'check character should be X', code: 'invalid_check_character', params: { expected: 'X' } }], names, t);
 * // { holderNumber: '校验码应为 X' }
 * ```
 */
export function apiFieldErrors(
  errors: ReadonlyArray<{ path: string; message: string } & CodedFieldError>,
  names: ReadonlySet<string>,
  t: Translate,
): FieldErrors {
  const byField: FieldErrors = {};
  for (const error of errors) {
    const name = error.path.startsWith('holder.') ? 'holderNumber' : error.path;
    const key = names.has(name) ? name : '';
    const message = fieldErrorText(t, error);
    byField[key] = byField[key] ? `${byField[key]}; ${message}` : message;
  }
  return byField;
}
