/** Markup that is already safe: produced by {@link html}, never by concatenating input. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => escapes[c] ?? c);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * A template tag that escapes every interpolated value unless it is {@link SafeHtml} (or a list of it):
 * the only way pages are built, so no input reaches the markup unescaped.
 *
 * @example
 * ```ts
 * html`<p>${userInput}</p>`; // <p>&lt;script&gt;…</p>
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  return new SafeHtml(
    strings.reduce((out, part, i) => out + part + (i < values.length ? render(values[i]) : ''), ''),
  );
}

/** An attribute written only when it has a value: `<a ${attr('aria-current', current && 'page')}>`. */
export function attr(name: string, value: string | number | false | undefined | null): SafeHtml {
  return value === false || value === undefined || value === null
    ? new SafeHtml('')
    : new SafeHtml(`${name}="${escapeHtml(String(value))}"`);
}
