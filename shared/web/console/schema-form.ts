import { dayError, dayHint, dayInputAttributes, readDay } from '../kit/day-input.js';
import { attr, html, type SafeHtml } from '../kit/html.js';
import type { Translate } from '../kit/i18n.js';

/** The kinds of input a JSON Schema property becomes. */
export type FieldKind = 'text' | 'textarea' | 'select' | 'date' | 'integer' | 'number' | 'checkbox';

/** One input of a generated form, named by its path (`fields.vehicleClass`), as the API names errors. */
export interface SchemaField {
  kind: FieldKind;
  /** The form field name and the API's error path, e.g. `fields.registeredCapital.amount`. */
  name: string;
  /** The property name in the JSON object. */
  key: string;
  label: string;
  hint?: string;
  required: boolean;
  options?: string[];
  /** What each option shows, in the page's language (`x-enum-titles`), beside `options`; else the value. */
  optionLabels?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  /** `writeOnly` in the schema (a third person's ID number): never prefilled from stored data. */
  writeOnly: boolean;
}

/** A nested object: a fieldset whose inputs are sent together or, when optional and all blank, not at all. */
export interface SchemaGroup {
  kind: 'group';
  name: string;
  key: string;
  label: string;
  hint?: string;
  required: boolean;
  children: SchemaNode[];
}

export type SchemaNode = SchemaField | SchemaGroup;

/** Posted or redisplayed values by field name; a checkbox is `'on'` when ticked. */
export type FormValues = Record<string, string | undefined>;

/** One message per field name. */
export type FieldErrors = Record<string, string>;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** Texts this long or longer get a multi-line box (a business scope is a paragraph, a name is not); catalogue.ts keeps line breaks in them alone. */
const textareaFrom = 250;

/**
 * The form model of an object's JSON Schema (as `GET /licence-types` publishes each type's `fields`):
 * one node per property, in the schema's order. Strings become text inputs (long ones text areas),
 * enums selects, `format: date` day inputs (text, `shared/web/kit/day-input.ts`), integers and numbers
 * number inputs, booleans checkboxes,
 * nested objects fieldsets. A property of a type it does not know becomes a text input, so that the
 * API, which validates everything anyway, can say what is wrong with it. Labels, hints and option names
 * are in the page's language (`t`): the schema's `title`/`description` in Chinese, `x-title-en`/
 * `x-description-en` in English (the catalogue publishes both); where the English is missing, the one
 * text there is.
 *
 * @example
 * ```ts
 * schemaFormModel({ type: 'object', properties: { level: { type: 'integer', minimum: 1, title: '等级' } }, required: ['level'] });
 * // [{ kind: 'integer', name: 'fields.level', key: 'level', label: '等级', required: true, minimum: 1, writeOnly: false }]
 * ```
 */
export function schemaFormModel(schema: unknown, prefix = 'fields', t: Translate = (zh) => zh): SchemaNode[] {
  if (!isObject(schema) || !isObject(schema.properties)) return [];
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : [],
  );
  return Object.entries(schema.properties).map(([key, property]) =>
    schemaNode(key, `${prefix}.${key}`, isObject(property) ? property : {}, required.has(key), t),
  );
}

/** Of a schema's text in Chinese and its `x-…-en` twin, the one of the page's language. */
const inLanguage = (t: Translate, zh: string | undefined, en: string | undefined) =>
  zh === undefined ? en : t(zh, en ?? zh);

function schemaNode(key: string, name: string, property: Json, required: boolean, t: Translate): SchemaNode {
  const label = inLanguage(t, str(property.title), str(property['x-title-en'])) ?? key;
  const hint = inLanguage(t, str(property.description), str(property['x-description-en']));
  if (property.type === 'object') {
    return {
      kind: 'group',
      name,
      key,
      label,
      ...(hint ? { hint } : {}),
      required,
      children: schemaFormModel(property, name, t),
    };
  }
  const options = Array.isArray(property.enum) ? property.enum.map(String) : undefined;
  const kind: FieldKind = options
    ? 'select'
    : property.type === 'boolean'
      ? 'checkbox'
      : property.type === 'integer'
        ? 'integer'
        : property.type === 'number'
          ? 'number'
          : property.format === 'date'
            ? 'date'
            : (num(property.maxLength) ?? 0) >= textareaFrom
              ? 'textarea'
              : 'text';
  const field: SchemaField = { kind, name, key, label, required, writeOnly: property.writeOnly === true };
  if (hint) field.hint = hint;
  if (options) {
    field.options = options;
    const titles = t('x-enum-titles', 'x-enum-titles-en');
    const labels = Array.isArray(property[titles]) ? property[titles].map(String) : undefined;
    if (labels?.length === options.length) field.optionLabels = labels;
  }
  for (const bound of [
    'minimum',
    'maximum',
    'exclusiveMinimum',
    'exclusiveMaximum',
    'minLength',
    'maxLength',
  ] as const) {
    const value = num(property[bound]);
    if (value !== undefined) field[bound] = value;
  }
  // A day input has its own shapes (day-input.ts: 年月日, slashes, eight digits): the long calendar regex
  // zod publishes, YYYY-MM-DD only, is not for it.
  const pattern = str(property.pattern);
  if (pattern && kind !== 'date') field.pattern = pattern;
  return field;
}

/** Every input of a model, nested ones included. */
export function schemaFields(nodes: readonly SchemaNode[]): SchemaField[] {
  return nodes.flatMap((node) => (node.kind === 'group' ? schemaFields(node.children) : [node]));
}

/** The DOM id of a field's input: dots would need escaping in CSS selectors. */
export const fieldId = (name: string) => `field-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/**
 * The HTML pattern attribute of a JSON Schema pattern. Browsers anchor it and compile it with the `v`
 * flag, where a few characters inside classes need escaping; an unsuitable pattern is left out (the
 * server still checks it) rather than making the browser refuse every value.
 */
export function htmlPattern(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'v');
    return pattern;
  } catch {
    return undefined;
  }
}

/**
 * The inputs of a model, each with its label, its hint and its error tied to it (`aria-describedby`,
 * `aria-invalid`), required fields marked, and `values` (as posted) filled in. All text is escaped.
 *
 * @example
 * ```ts
 * html`<form method="post">${renderSchemaFields(schemaFormModel(type.fields), posted, errors, t)}</form>`;
 * ```
 */
export function renderSchemaFields(
  nodes: readonly SchemaNode[],
  values: FormValues,
  errors: FieldErrors,
  t: Translate,
): SafeHtml {
  return html`${nodes.map((node) =>
    node.kind === 'group'
      ? renderGroup(node, values, errors, t)
      : renderField(node, values[node.name], errors[node.name], t),
  )}`;
}

function renderGroup(group: SchemaGroup, values: FormValues, errors: FieldErrors, t: Translate): SafeHtml {
  const hintId = `${fieldId(group.name)}-hint`;
  return html`<fieldset class="schema-group" ${attr('aria-describedby', group.hint && hintId)}>
    <legend>
      ${group.label}${group.required ? requiredMark(t) : html` <span class="optional">${t('（选填）', '(optional)')}</span>`}
    </legend>
    ${group.hint ? html`<p class="hint" id="${hintId}">${group.hint}</p>` : ''}
    ${group.required ? '' : html`<p class="hint">${t('不填则整组省略。', 'Leave all blank to omit this group.')}</p>`}
    ${renderSchemaFields(group.children, values, errors, t)}
  </fieldset>`;
}

const requiredMark = (t: Translate) =>
  html` <span class="required" aria-hidden="true">*</span
    ><span class="visually-hidden">${t('（必填）', '(required)')}</span>`;

/**
 * One labelled input. Exported for the console's own fields (holder, validity), so that every input
 * of the issuance form is built, labelled and linked to its error the same way. A day without a hint of
 * its own gets the format's ({@link dayHint}).
 *
 * @example
 * ```ts
 * renderField({ kind: 'text', name: 'holderName', key: 'holderName', label: '姓名', required: true, writeOnly: false }, posted.holderName, errors.holderName, t);
 * ```
 */
export function renderField(
  field: SchemaField,
  value: string | undefined,
  error: string | undefined,
  t: Translate,
): SafeHtml {
  const id = fieldId(field.name);
  const hintText = field.hint ?? (field.kind === 'date' ? dayHint(t) : undefined);
  const hintId = hintText ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  const common = html`id="${id}" name="${field.name}" ${attr('aria-describedby', describedBy)}
  ${attr('aria-invalid', error ? 'true' : undefined)}
  ${attr('required', field.required && field.kind !== 'checkbox' ? 'required' : undefined)}`;
  const hint = hintText ? html`<span class="hint" id="${hintId}">${hintText}</span>` : '';
  const errorText = error ? html`<p class="field-error" id="${errorId}">${error}</p>` : '';
  if (field.kind === 'checkbox') {
    return html`<div class="field check">
      <input
        type="checkbox"
        value="on"
        ${common}
        ${attr('checked', value === 'on' ? 'checked' : undefined)}
      />
      <label for="${id}">${field.label}</label>
      ${hint} ${errorText}
    </div>`;
  }
  const label = html`<label for="${id}">${field.label}${field.required ? requiredMark(t) : ''}</label>`;
  return html`<div class="field">
    ${label} ${hint} ${control(field, value ?? '', common, t)} ${errorText}
  </div>`;
}

function control(field: SchemaField, value: string, common: SafeHtml, t: Translate): SafeHtml {
  switch (field.kind) {
    case 'select':
      return html`<select ${common}>
        <option value="">${t('请选择', 'Choose')}</option>
        ${(field.options ?? []).map(
          (option, i) =>
            html`<option value="${option}" ${attr('selected', option === value ? 'selected' : undefined)}>
              ${field.optionLabels?.[i] ?? option}
            </option>`,
        )}
      </select>`;
    case 'textarea':
      return html`<textarea
        ${common}
        ${attr('maxlength', field.maxLength)}
        ${attr('minlength', field.minLength)}
        rows="4"
      >
${value}</textarea>`;
    case 'date':
      // Text in the page's format, not `type="date"`, which shows the browser's locale (`mm/dd/yyyy` in an
      // English Chromium, on a clerk's machine in China too) whatever the page's language.
      return html`<input ${dayInputAttributes(t)} ${common} value="${value}" />`;
    case 'integer':
    case 'number':
      return html`<input
        type="number"
        inputmode="${field.kind === 'integer' ? 'numeric' : 'decimal'}"
        ${common}
        step="${field.kind === 'integer' ? '1' : 'any'}"
        ${attr('min', field.minimum)}
        ${attr('max', field.maximum)}
        value="${value}"
      />`;
    default:
      return html`<input
        type="text"
        ${common}
        value="${value}"
        ${attr('maxlength', field.maxLength)}
        ${attr('minlength', field.minLength)}
        ${attr('pattern', field.pattern && htmlPattern(field.pattern))}
        ${attr('autocomplete', field.writeOnly ? 'off' : undefined)}
        ${attr('spellcheck', field.writeOnly ? 'false' : undefined)}
      />`;
  }
}

/**
 * The posted values of a model as the typed JSON object the API takes (numbers as numbers, checkboxes
 * as booleans, blank optional inputs and all-blank optional groups left out), and a message for each
 * input that cannot be right: missing, not a number, out of range, too long, not matching its pattern
 * or its list. The API remains the judge; this spares a round trip and says it in the visitor's words.
 *
 * @example
 * ```ts
 * parseSchemaFields(schemaFormModel(type.fields), { 'fields.level': '3' }, t);
 * // { value: { level: 3 }, errors: {} }
 * ```
 */
export function parseSchemaFields(
  nodes: readonly SchemaNode[],
  posted: FormValues,
  t: Translate,
): { value: Record<string, unknown>; errors: FieldErrors } {
  const value: Record<string, unknown> = {};
  const errors: FieldErrors = {};
  for (const node of nodes) {
    if (node.kind === 'group') {
      const blank = schemaFields(node.children).every(
        (f) => f.kind === 'checkbox' || (posted[f.name] ?? '').trim() === '',
      );
      if (blank && !node.required) continue;
      const inner = parseSchemaFields(node.children, posted, t);
      value[node.key] = inner.value;
      Object.assign(errors, inner.errors);
      continue;
    }
    const result = parseField(node, posted[node.name], t);
    if ('error' in result) errors[node.name] = result.error;
    else if (result.value !== undefined) value[node.key] = result.value;
  }
  return { value, errors };
}

/**
 * One posted input as its typed value, `undefined` when blank and optional, or the message saying what
 * is wrong with it.
 *
 * @example
 * ```ts
 * parseField({ kind: 'integer', name: 'fields.level', key: 'level', label: '等级', required: true, writeOnly: false }, '2.5', t);
 * // { error: '请输入整数' }
 * ```
 */
export function parseField(
  field: SchemaField,
  raw: string | undefined,
  t: Translate,
): { value: unknown } | { error: string } {
  if (field.kind === 'checkbox') return { value: raw === 'on' || raw === 'true' };
  const text = (raw ?? '').trim();
  if (text === '') {
    return field.required ? { error: t('请填写此项。', 'Please fill in this field.') } : { value: undefined };
  }
  switch (field.kind) {
    case 'select':
      return field.options?.includes(text)
        ? { value: text }
        : { error: t('请从列表中选择。', 'Please choose from the list.') };
    case 'integer':
    case 'number': {
      const pattern = field.kind === 'integer' ? /^[-+]?\d+$/ : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
      const n = Number(text);
      if (
        !pattern.test(text) ||
        !Number.isFinite(n) ||
        (field.kind === 'integer' && !Number.isSafeInteger(n))
      ) {
        return {
          error:
            field.kind === 'integer'
              ? t('请输入整数。', 'Please enter a whole number.')
              : t('请输入数字。', 'Please enter a number.'),
        };
      }
      const range = rangeError(field, n, t);
      return range ? { error: range } : { value: n };
    }
    case 'date': {
      // Typed as text: `2026/3/5`, `2026年3月5日`, `20260305` are the day `2026-03-05`, as the schema has it.
      const day = readDay(text);
      return day ? { value: day } : { error: dayError(t) };
    }
    default: {
      if (field.maxLength !== undefined && text.length > field.maxLength) {
        return { error: t(`最多 ${field.maxLength} 个字符。`, `At most ${field.maxLength} characters.`) };
      }
      if (field.minLength !== undefined && text.length < field.minLength) {
        return { error: t(`至少 ${field.minLength} 个字符。`, `At least ${field.minLength} characters.`) };
      }
      if (field.pattern !== undefined && !safeTest(field.pattern, text)) {
        return {
          error: field.hint
            ? t(`格式不正确：${field.hint}`, `Not in the expected form: ${field.hint}`)
            : t('格式不正确。', 'Not in the expected form.'),
        };
      }
      return { value: text };
    }
  }
}

function rangeError(field: SchemaField, n: number, t: Translate): string | undefined {
  if (field.minimum !== undefined && n < field.minimum)
    return t(`不能小于 ${field.minimum}。`, `Must be at least ${field.minimum}.`);
  if (field.maximum !== undefined && n > field.maximum)
    return t(`不能大于 ${field.maximum}。`, `Must be at most ${field.maximum}.`);
  if (field.exclusiveMinimum !== undefined && n <= field.exclusiveMinimum) {
    return t(`必须大于 ${field.exclusiveMinimum}。`, `Must be more than ${field.exclusiveMinimum}.`);
  }
  if (field.exclusiveMaximum !== undefined && n >= field.exclusiveMaximum) {
    return t(`必须小于 ${field.exclusiveMaximum}。`, `Must be less than ${field.exclusiveMaximum}.`);
  }
  return undefined;
}

/** A pattern the schema gives is tested as JSON Schema says: unanchored, unless it anchors itself. */
function safeTest(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(text);
  } catch {
    // A pattern this engine cannot compile is the API's to judge.
    return true;
  }
}

/**
 * The inputs a JSON value fills, by field name (the inverse of {@link parseSchemaFields}), e.g. to
 * redisplay what was posted. Write-only fields are never filled from it.
 */
export function valuesOf(nodes: readonly SchemaNode[], value: Record<string, unknown>): FormValues {
  const values: FormValues = {};
  for (const node of nodes) {
    const v = value[node.key];
    if (node.kind === 'group') {
      if (isObject(v)) Object.assign(values, valuesOf(node.children, v));
    } else if (!node.writeOnly && v !== undefined && v !== null) {
      values[node.name] = node.kind === 'checkbox' ? (v === true ? 'on' : undefined) : String(v);
    }
  }
  return values;
}
