import * as z from 'zod';
import { unreadableText, unreadableTextMessage } from './unreadable-text.js';

/**
 * Control and format characters (Unicode Cc, Cf: NUL, ESC, a right-to-left override U+202E, zero-width
 * characters, a BOM) and line or paragraph separators: none belongs in a free text a person types, and
 * each lets a writer make a page or a supervisor's report show what the text does not say (a bidi
 * override reverses it, ESC drives a terminal reading the logs). A multi-line text keeps `\n` alone.
 */
const controlSingleLine = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const controlMultiLine = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * A free text kept, signed or shown to others (a status change's reason, a withdrawal's reason):
 * trimmed, at least `min` (default 1) and at most `max` characters, and printable: refused with
 * `invalid_characters` when it holds a control or format character, U+FFFD or a lone surrogate
 * ({@link unreadableText}: text that was not UTF-8 on the way, review R51 F1) or, unless `multiLine`,
 * a line break. A multi-line text has its line breaks as `\n` (a browser's textarea posts `\r\n`).
 *
 * The same rule at the JSON edge and in the pages' forms (session 27): a GBK reason no longer reaches
 * the audit chain as `���`, whichever way it came.
 *
 * @example
 * ```ts
 * printableText(500, { multiLine: true }).parse(' 记满12分\r\n复核 '); // '记满12分\n复核'
 * printableText(500).safeParse('记满\uFFFD').success; // false (invalid_characters)
 * ```
 */
export function printableText(max: number, options: { multiLine?: boolean; min?: number } = {}) {
  const control = options.multiLine ? controlMultiLine : controlSingleLine;
  return z
    .string()
    .overwrite((value) => (options.multiLine ? value.replace(/\r\n?/g, '\n') : value))
    .trim()
    .min(options.min ?? 1)
    .max(max)
    .refine((value) => !unreadableText.test(value), {
      message: unreadableTextMessage,
      params: { code: 'invalid_characters' },
      abort: true,
    })
    .refine((value) => !control.test(value), {
      message: options.multiLine
        ? 'must not contain control or format characters (line breaks as \\n only)'
        : 'must not contain control or format characters or line breaks',
      params: { code: 'invalid_characters' },
    });
}
