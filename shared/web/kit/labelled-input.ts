import { attr, html, type SafeHtml } from './html.js';

/** One input of a server-rendered form, with its label, hint and errors (already in the page's words). */
export interface LabelledInput {
  /** The input's `name` and `id`; the hint and error ids derive from it. */
  name: string;
  label: string;
  type: string;
  value?: string | undefined;
  hint?: string | undefined;
  errors: readonly string[];
  attributes?: Readonly<Record<string, string | number | undefined>>;
  optional?: boolean;
}

/**
 * A labelled input as the forms render it: the label, the hint, the errors between the label and the
 * input (so that they are read, and seen when zoomed in, before it), the input described by both
 * (`aria-describedby`) and marked `aria-invalid` while it has errors.
 *
 * @example
 * ```ts
 * labelledInput({ name: 'name', label: '姓名', type: 'text', errors: ['姓名：请填写此项。'] });
 * ```
 */
export function labelledInput(input: LabelledInput): SafeHtml {
  const { name, errors } = input;
  const hintId = input.hint ? `${name}-hint` : undefined;
  const errorId = errors.length > 0 ? `${name}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return html`<label for="${name}">${input.label}</label>
    ${input.hint ? html`<span class="hint" id="${hintId}">${input.hint}</span>` : ''}
    ${fieldErrorsOf(name, errors)}
    <input
      id="${name}"
      name="${name}"
      type="${input.type}"
      ${Object.entries(input.attributes ?? {}).map(([key, v]) => html`${attr(key, v)} `)}
      ${attr('value', input.value)}
      ${attr('aria-describedby', describedBy)}
      ${attr('aria-invalid', errorId ? 'true' : undefined)}
      ${input.optional ? '' : html`required`}
    />`;
}

/** A field's errors (`<id>-error`, what its input's `aria-describedby` names), or nothing. */
export function fieldErrorsOf(id: string, errors: readonly string[]): SafeHtml {
  return errors.length === 0
    ? html``
    : html`<p class="field-error" id="${id}-error">
        ${errors.map((e, i) => (i > 0 ? html`<br />${e}` : e))}
      </p>`;
}

/**
 * The attributes of an input whose errors {@link fieldErrorsOf} shows: `aria-invalid` and an
 * `aria-describedby` naming them, while it has errors; nothing otherwise.
 *
 * @example
 * ```ts
 * html`<input id="code" name="code" ${fieldErrorAttributes('code', errors)} />`;
 * ```
 */
export function fieldErrorAttributes(id: string, errors: readonly string[]): SafeHtml {
  return errors.length === 0 ? html`` : html`aria-invalid="true" aria-describedby="${id}-error"`;
}
