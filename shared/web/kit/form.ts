import type * as z from 'zod';
import {
  ForbiddenError,
  InvalidInputError,
  TooLargeError,
  UnsupportedMediaTypeError,
  type FieldError,
} from '../../errors.js';
import { decodeFormBody } from '../../http/form-body.js';
import { bodyBytes, header, maxBodyBytes, zodErrors } from '../../http/request.js';
import type { HttpEvent } from '../../http/types.js';
import { fieldErrorText, labelledFieldError } from './field-messages.js';
import type { Translate } from './i18n.js';

/**
 * A form's own label of each field, by the name the field posts: the page renders its `<label>` from it,
 * and a refusal of the form names the field by it ({@link FormRefusal}), so the two cannot drift apart.
 */
export type FieldLabels = Readonly<Partial<Record<string, (t: Translate) => string>>>;

/** The label `labels` gives the field of an error's `path` (`scope.0` is the field `scope`), if any. */
export function fieldLabelOf(labels: FieldLabels, path: string, t: Translate): string | undefined {
  const field = path.split('.')[0] ?? path;
  return Object.hasOwn(labels, field) ? labels[field]?.(t) : undefined;
}

/**
 * A form post refused by its schema (400 `invalid_form`), with the form's labels: the error page names
 * each refused field as the page showed it, never by the name it posts.
 */
export class FormRefusal extends InvalidInputError {
  constructor(
    message: string,
    errors: ReturnType<typeof zodErrors>,
    readonly labels: FieldLabels,
  ) {
    super(message, 'invalid_form', { errors });
    this.name = 'FormRefusal';
  }
}

/**
 * A cross-site form post is refused: browsers send `Origin` (and `Sec-Fetch-Site`) with form posts and
 * `fetch`, so another site cannot act through its visitors' browsers. Clients that send neither (curl,
 * tests) are let through: they hold no visitor's cookies.
 */
export function sameOrigin(event: HttpEvent, baseUrl: string): boolean {
  const site = header(event, 'sec-fetch-site');
  // Pages cannot set Sec-Fetch-Site, so where a browser sends it, it decides. It must: under our
  // `Referrer-Policy: no-referrer` the Fetch standard makes a form post's Origin the string "null".
  if (site) return site === 'same-origin' || site === 'none';
  const origin = header(event, 'origin');
  return origin === undefined || origin === new URL(baseUrl).origin;
}

/**
 * Whether the browser says a navigation (a GET) is our own: `Sec-Fetch-Site` is `same-origin` (a link or
 * script on our pages) or `none` (a typed URL, a bookmark). Pages cannot set that header. Anything else
 * (another site's link, redirect or frame, or a browser that sends no fetch metadata) is not known to be
 * ours: under our `Referrer-Policy: no-referrer` our own pages send no Referer to tell them apart by.
 *
 * A page whose GET changes state (signs, audits) does so only then, or after a confirmation that only
 * the visitor's session can make (the wallet's QR page).
 */
export function sameSiteNavigation(event: HttpEvent): boolean {
  const site = header(event, 'sec-fetch-site');
  return site === 'same-origin' || site === 'none';
}

/**
 * Whether a GET of a file served with the visitor's cookies (a licence's PDF, or its signature) is the
 * visitor's own asking: a link, download or script of our pages (`Sec-Fetch-Site: same-origin`), a typed
 * URL or bookmark (`none`), or a top-level navigation from anywhere (`Sec-Fetch-Mode: navigate` with
 * `Sec-Fetch-Dest: document`), whose file only the visitor sees. Another site's, or a sibling host's
 * (`same-site`, which SameSite=Lax cookies do not stop), fetch, embed, object or frame is not: it would
 * make the browser fetch (and the service render, and sign with a KMS key) a file for a page the
 * visitor never opened. A client that sends no fetch metadata is let through, as {@link sameOrigin}
 * lets it: browsers have sent it since 2023, and a client without it holds no visitor's cookies.
 *
 * @example
 * ```ts
 * if (!ownFileFetch(event)) throw new CrossSiteError('Open the file from this site’s own pages');
 * ```
 */
export function ownFileFetch(event: HttpEvent): boolean {
  const site = header(event, 'sec-fetch-site');
  if (site === undefined || site === 'same-origin' || site === 'none') return true;
  return header(event, 'sec-fetch-mode') === 'navigate' && header(event, 'sec-fetch-dest') === 'document';
}

/**
 * Refuses (403 `cross_site_request`) a file's fetch that is not the visitor's own ({@link ownFileFetch}),
 * before any session is read or anything rendered.
 *
 * @example
 * ```ts
 * 'GET /wallet/licences/{id}/pdf': () => { requireOwnFileFetch(event); return printable('pdf'); },
 * ```
 */
export function requireOwnFileFetch(event: HttpEvent): void {
  if (!ownFileFetch(event)) {
    throw new CrossSiteError('Open the file from this site’s own pages, or its link, not embedded elsewhere');
  }
}

/** A form post (or a file's fetch) from another site, refused before anything else is read. */
export class CrossSiteError extends ForbiddenError {
  constructor(message = 'Forms must be submitted from this site’s own pages') {
    super(message, 'cross_site_request');
    this.name = 'CrossSiteError';
  }
}

/**
 * Reads an `application/x-www-form-urlencoded` post from this site into `schema` (fields as strings;
 * a repeated field keeps its last value unless the schema asks for an array under `name[]`): 403 when
 * it comes from another site, 413 when too large, 415 for another media type or a charset other than
 * UTF-8 (`unsupported_charset`), 400 naming each bad field by its label in `labels` (the form's own,
 * {@link FieldLabels}), a field that is not UTF-8 text as `invalid_characters`.
 *
 * @example
 * ```ts
 * const { reason } = parseForm(event, baseUrl, z.strictObject({ reason: z.string().max(200) }), reasonLabels);
 * ```
 */
export function parseForm<S extends z.ZodType>(
  event: HttpEvent,
  baseUrl: string,
  schema: S,
  labels: FieldLabels,
): z.output<S> {
  if (!sameOrigin(event, baseUrl)) throw new CrossSiteError();
  const fields = formFields(event, labels);
  const parsed = schema.safeParse(fields);
  if (!parsed.success) {
    const errors = zodErrors(parsed.error, fields);
    throw new FormRefusal(`Please correct: ${errors.map((e) => e.path).join(', ')}`, errors, labels);
  }
  return parsed.data;
}

/** A {@link FormRefusal} as its page shows it again: the fields as posted, and each refused one's message. */
export interface ShownRefusal {
  /** The readable fields as posted (the page keeps what it may of them: never a password or a code). */
  readonly fields: Record<string, string | string[]>;
  /** Each refused field (its posted name, `scope` for `scope.0`) and its message, labelled as the form shows it. */
  readonly errors: readonly { field: string; message: string }[];
}

/**
 * The refusal of a form by its schema ({@link parseForm}), for its page to show the form again (400)
 * with what was typed and each message at its field, rather than an error page; any other error (another
 * site's post, 413, 415) is thrown again.
 *
 * @example
 * ```ts
 * try { form = parseForm(event, baseUrl, schema, labels); } catch (error) { refused = shownRefusal(error, event, t); }
 * ```
 */
export function shownRefusal(error: unknown, event: HttpEvent, t: Translate): ShownRefusal {
  if (!(error instanceof FormRefusal)) throw error;
  return {
    fields: postedForm(event).fields,
    errors: error.errors.map((e) => {
      const field = e.path.split('.')[0] ?? e.path;
      const label = fieldLabelOf(error.labels, e.path, t);
      return { field, message: label ? labelledFieldError(t, label, e) : fieldErrorText(t, e) };
    }),
  };
}

/** A form post's fields, and those refused as not UTF-8 text (left out of `fields`). */
export interface PostedForm {
  readonly fields: Record<string, string | string[]>;
  /** One `invalid_characters` error per field whose bytes were not UTF-8 (shared/http/form-body.ts). */
  readonly unreadable: readonly FieldError[];
}

/**
 * The raw fields of a urlencoded post (bounded), before any schema, with the fields that were not
 * UTF-8 text apart: a page that shows its form again keeps what was typed and names the field to correct.
 * 413 when too large, 415 for another media type or charset.
 */
export function postedForm(event: HttpEvent): PostedForm {
  const bytes = bodyBytes(event);
  if (bytes.length > maxBodyBytes) {
    throw new TooLargeError(`The form exceeds ${maxBodyBytes} bytes`, 'payload_too_large');
  }
  const contentType = header(event, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (bytes.length > 0 && mediaType !== 'application/x-www-form-urlencoded') {
    throw new UnsupportedMediaTypeError('Submit the form as urlencoded data', 'unsupported_media_type');
  }
  const { pairs, unreadable } = decodeFormBody(bytes, contentType);
  const fields: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    if (name.endsWith('[]')) {
      const list = fields[name.slice(0, -2)];
      fields[name.slice(0, -2)] = Array.isArray(list) ? [...list, value] : [value];
    } else {
      fields[name] = value;
    }
  }
  return { fields, unreadable };
}

/**
 * The raw fields of a urlencoded post ({@link postedForm}); a field that is not UTF-8 text is refused
 * (400 `invalid_form`, the field named by its label in `labels` with `invalid_characters`).
 */
export function formFields(event: HttpEvent, labels: FieldLabels = {}): Record<string, string | string[]> {
  const { fields, unreadable } = postedForm(event);
  if (unreadable.length > 0) throw unreadableForm(unreadable, labels);
  return fields;
}

/** The refusal of a form's fields that were not UTF-8 text (400 `invalid_form`, each `invalid_characters`). */
export function unreadableForm(unreadable: readonly FieldError[], labels: FieldLabels): FormRefusal {
  return new FormRefusal(
    `Not UTF-8 text: ${unreadable.map((e) => e.path).join(', ')}`,
    [...unreadable],
    labels,
  );
}
