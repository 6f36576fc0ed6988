import type * as z from 'zod';
import {
  explainUnionIssues,
  InvalidInputError,
  TooLargeError,
  UnsupportedMediaTypeError,
  invalidRequest,
  zodIssueCode,
  unknownMemberPath,
  type FieldError,
} from '../errors.js';
import type { HttpEvent } from './types.js';

/** Largest request body our API accepts, before any parsing. */
export const maxBodyBytes = 64 * 1024;

/**
 * Deepest nesting of arrays and objects a JSON body may have. No request of ours needs more than a few
 * levels; a deeper value parses, but anything that walks it recursively (`JSON.stringify` when the wallet
 * relays a body, a schema) can overflow the stack: a 500 from a 64 KiB body of brackets.
 */
export const maxJsonDepth = 32;

/** The deepest nesting of `[` and `{` in JSON text (outside strings), without building anything. */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Lower-cased header lookup; API Gateway v2 already lower-cases, but tests and proxies may not. */
export function header(event: HttpEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** The raw body bytes, decoded from base64 when API Gateway encoded them. */
export function bodyBytes(event: HttpEvent): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/**
 * Turns zod issues into the `errors: [{ path, message, code }]` of our problem documents. A union's issue
 * is said in its branches' terms ({@link explainUnionIssues}: `holder.idNumber: invalid_type`, not
 * `holder: invalid_value`). An unknown member is named at its own path (`text`, `holder.nickname`), one
 * entry per member, as docs/api.md promises of `path`, its key echoed only when it is a plain word
 * (`(unknown field)` in its place otherwise: {@link unknownMemberPath}, review R72-2); `root` names the whole input (`(body)`, `(query)`)
 * for an issue about it alone.
 */
export function zodErrors(error: z.ZodError, input?: unknown, root = '(body)'): FieldError[] {
  return explainUnionIssues(error.issues, input).flatMap((issue) => {
    const at = (path: readonly PropertyKey[] = []) => (path.length > 0 ? path.map(String).join('.') : root);
    if (issue.code === 'unrecognized_keys') {
      return (issue.keys ?? []).map((key) => ({
        path: unknownMemberPath(issue.path ?? [], key),
        message: 'unknown field',
        ...zodIssueCode(issue, input),
      }));
    }
    return [{ path: at(issue.path), message: issue.message ?? '', ...zodIssueCode(issue, input) }];
  });
}

/**
 * A media type to repeat in a refusal: only letters and `/ + . -` (`text/plain`, `multipart/form-data`),
 * never a header's other text, which may be anything (review R72-2).
 */
function plainMediaType(mediaType: string | undefined): string | undefined {
  return mediaType && /^[a-z]+\/[a-z][a-z+.-]{0,60}$/.test(mediaType) ? JSON.stringify(mediaType) : undefined;
}

/** The names of UTF-8 a `charset` parameter may give (WHATWG Encoding's two common labels). */
const utf8Labels = new Set(['utf-8', 'utf8']);

/** The `charset` parameter of a Content-Type, lower-cased and unquoted; `undefined` when absent. */
function charsetOf(contentType: string | undefined): string | undefined {
  for (const parameter of contentType?.split(';').slice(1) ?? []) {
    const at = parameter.indexOf('=');
    if (at < 0 || parameter.slice(0, at).trim().toLowerCase() !== 'charset') continue;
    return parameter
      .slice(at + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
  }
  return undefined;
}

/**
 * Refuses (415 `unsupported_charset`, naming it) a body whose Content-Type declares a charset other than
 * UTF-8's; none declared is UTF-8. One rule for JSON and form bodies alike (docs/api.md, "Text").
 *
 * @example
 * ```ts
 * requireUtf8Charset('application/x-www-form-urlencoded; charset=GBK', 'form'); // throws 415
 * ```
 */
export function requireUtf8Charset(contentType: string | undefined, what: 'JSON' | 'form'): void {
  const charset = charsetOf(contentType);
  if (charset === undefined || utf8Labels.has(charset)) return;
  throw new UnsupportedMediaTypeError(
    // The declared charset is not echoed: a header is the caller's text (review R72-2).
    `The request body must be UTF-8: the declared charset is not accepted (send the ${what} as UTF-8, or leave charset out, or declare charset=utf-8)`,
    'unsupported_charset',
  );
}

/**
 * Validates a JSON request body against `schema`: the size is bounded before anything is parsed
 * (413), the media type must be JSON (415 `unsupported_media_type`) with no charset but UTF-8's (415
 * `unsupported_charset`), the bytes must be UTF-8 JSON (400 `malformed_json`) and match the schema (400
 * `invalid_request` with each failing path).
 *
 * @example
 * ```ts
 * const input = parseJsonBody(event, z.strictObject({ name: z.string() }));
 * ```
 */
export function parseJsonBody<S extends z.ZodType>(
  event: HttpEvent,
  schema: S,
  /** A larger bound for the one route that needs it (`POST /licences/batches`: 1,000 licences). */
  options: { maxBytes?: number } = {},
): z.output<S> {
  const bytes = bodyBytes(event);
  const limit = options.maxBytes ?? maxBodyBytes;
  if (bytes.length > limit) {
    throw new TooLargeError(`The request body exceeds ${limit} bytes`, 'payload_too_large');
  }
  const contentType = header(event, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json' && !mediaType?.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(
      `Content-Type must be application/json, not ${plainMediaType(mediaType) ?? (contentType ? 'the type sent' : 'absent')}`,
      'unsupported_media_type',
    );
  }
  // JSON is UTF-8 (RFC 8259 §8.1): a body declared in another charset (GBK from a legacy back office)
  // would be decoded as UTF-8 all the same, so it is refused by name rather than half-read.
  requireUtf8Charset(contentType, 'JSON');
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError('The request body is not valid UTF-8 JSON', 'malformed_json');
  }
  if (jsonDepth(text) > maxJsonDepth) {
    throw new InvalidInputError(
      `The request body nests deeper than ${maxJsonDepth} levels`,
      'malformed_json',
      {
        errors: [{ path: '(body)', message: `nests deeper than ${maxJsonDepth} levels` }],
      },
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = zodErrors(parsed.error, value);
    throw invalidRequest(errors);
  }
  return parsed.data;
}

/**
 * Validates the query string against `schema` (400 `invalid_request` naming each failing parameter).
 *
 * @example
 * ```ts
 * const { limit } = parseQuery(event, z.strictObject({ limit: z.coerce.number().int().default(20) }));
 * ```
 */
export function parseQuery<S extends z.ZodType>(event: HttpEvent, schema: S): z.output<S> {
  const query = event.queryStringParameters ?? {};
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const errors = zodErrors(parsed.error, query, '(query)');
    throw invalidRequest(errors, 'Invalid query');
  }
  return parsed.data;
}
