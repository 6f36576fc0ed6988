import { InvalidInputError, type FieldError } from '../errors.js';
import { unreadableText, unreadableTextMessage } from '../unreadable-text.js';
import { requireUtf8Charset } from './request.js';

/**
 * An `application/x-www-form-urlencoded` body, decoded: its fields in the order sent, and the fields
 * whose name or value was not UTF-8 text, each as a field error (`invalid_characters`) naming it.
 */
export interface FormBody {
  /** Each field readable as UTF-8 text, in the order posted (a repeated name repeats). */
  readonly pairs: readonly (readonly [string, string])[];
  /**
   * One error per field whose bytes were not UTF-8 (a GBK `%C0%EE`, a stray `%FF`) or held U+FFFD:
   * `path` is its name (`(body)` when the name itself is unreadable). Such a field is left out of `pairs`.
   */
  readonly unreadable: readonly FieldError[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A form body a malformed percent-escape makes no form encoding at all (`strictEscapes`). */
export class MalformedFormError extends InvalidInputError {
  constructor(message: string) {
    super(`The request body is not form encoding: ${message}`, 'invalid_request', {
      errors: [{ path: '(body)', message, code: 'invalid_format' }],
    });
    this.name = 'MalformedFormError';
  }
}

const isHex = (byte: number | undefined) =>
  byte !== undefined &&
  ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));

/**
 * WHATWG URL §5.1's byte-level parse of one name or value: `+` is a space and `%XX` a byte; a `%` not
 * followed by two hex digits stays as it is (as a browser's URLSearchParams keeps it), or, with
 * `strict`, is refused.
 */
function percentDecode(bytes: Buffer, strict: boolean): Buffer {
  const out = Buffer.alloc(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x2b) {
      out[length++] = 0x20;
    } else if (byte === 0x25 && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out[length++] = parseInt(bytes.subarray(i + 1, i + 3).toString('latin1'), 16);
      i += 2;
    } else {
      if (byte === 0x25 && strict) {
        const near = bytes.subarray(i, i + 3).toString('latin1');
        throw new MalformedFormError(`a broken percent-escape ${JSON.stringify(near)}`);
      }
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

/** Strict UTF-8 text, or `undefined` for bytes that are not (or text holding U+FFFD). */
function textOf(bytes: Buffer): string | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  return unreadableText.test(text) ? undefined : text;
}

/**
 * Decodes a form body as every form of ours is sent: UTF-8 (our pages are UTF-8, so a browser posts
 * their forms in UTF-8 whatever its age). A `charset` other than UTF-8's is refused (415
 * `unsupported_charset`, as the JSON edge refuses it): a GBK body is never half-read into U+FFFD.
 * Where no charset is declared, each field is decoded strictly, on its own: a field whose bytes are not
 * UTF-8 is reported by name in `unreadable` (never kept as `���`), the others kept, so that a page can
 * show the form again with what the person typed and the one field to correct.
 *
 * `URLSearchParams` is not used: it decodes lossily (U+FFFD for every stray byte), which is how a GBK
 * reason used to be stored as garbage (session 27).
 *
 * @throws UnsupportedMediaTypeError 415 `unsupported_charset` for a declared charset other than UTF-8;
 *   MalformedFormError (400) with `strictEscapes`, for a `%` that is no escape.
 *
 * @example
 * ```ts
 * decodeFormBody(Buffer.from('reason=%BC%C7&status=suspended'), 'application/x-www-form-urlencoded');
 * // { pairs: [['status', 'suspended']], unreadable: [{ path: 'reason', code: 'invalid_characters', … }] }
 * ```
 */
export function decodeFormBody(
  bytes: Buffer,
  contentType: string | undefined,
  options: { strictEscapes?: boolean } = {},
): FormBody {
  requireUtf8Charset(contentType, 'form');
  const strict = options.strictEscapes ?? false;
  const pairs: [string, string][] = [];
  const unreadable: FieldError[] = [];
  const refuse = (path: string) => {
    if (unreadable.some((error) => error.path === path)) return;
    unreadable.push({ path, message: unreadableTextMessage, code: 'invalid_characters' });
  };
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x26, start);
    if (end < 0) end = bytes.length;
    const sequence = bytes.subarray(start, end);
    start = end + 1;
    if (sequence.length === 0) continue;
    const eq = sequence.indexOf(0x3d);
    const name = textOf(percentDecode(eq < 0 ? sequence : sequence.subarray(0, eq), strict));
    const value = textOf(percentDecode(eq < 0 ? Buffer.alloc(0) : sequence.subarray(eq + 1), strict));
    if (name === undefined) refuse('(body)');
    else if (value === undefined) refuse(name);
    else pairs.push([name, value]);
  }
  return { pairs, unreadable };
}
