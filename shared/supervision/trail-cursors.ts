import { timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { keyedFingerprint } from '../crypto/keyed-fingerprint.js';
import type { Mac } from '../crypto/mac.js';
import { InternalError, InvalidInputError } from '../errors.js';

/**
 * Which listing of the audit trail a cursor pages, and the query it pages (security review R14 L2): a
 * cursor is good only for the listing and query it was answered for, so that one of another licence, another
 * range or issuer, or another listing is refused as surely as a made-up one.
 *
 * - `supervision-licence`: `GET /supervision/audit?licence=`;
 * - `supervision-days`: `GET /supervision/audit?from=&to=[&issuer=]` (`issuer` null when not filtered);
 * - `admin-licence`: `GET /admin/audit?licence=`.
 *
 * `limit` is left out on purpose: a cursor stands on the last entry a page answered, which is on the list,
 * and a page of any size after it still starts where a page of the list ends.
 */
export type TrailListing =
  | { listing: 'supervision-licence'; licence: string }
  | { listing: 'supervision-days'; from: string; to: string; issuer: string | null }
  | { listing: 'admin-licence'; licence: string };

/**
 * The cursors the trail's listings answer and take. `seal` wraps the store's own cursor (the position a
 * page stopped at) with a MAC over it and the listing; `open` answers the store's cursor back only if the
 * service sealed it for this very listing, and refuses anything else (`invalid_cursor`, naming `cursor`).
 */
export interface TrailCursors {
  seal(listing: TrailListing, cursor: string): Promise<string>;
  open(listing: TrailListing, cursor: string): Promise<string>;
}

/**
 * The label of the cursor key, derived from the cursor MAC key (`CURSOR_KEY_ID`). A new version retires
 * every cursor answered before it (their readers start again from the first page), nothing more.
 */
export const trailCursorLabel = 'trail-cursor/v1';

/** The store's cursors are base64url; the MAC follows a dot, which base64url never holds. */
const sealedCursor = /^([A-Za-z0-9_-]{1,340})\.([A-Za-z0-9_-]{43})$/;

function refused(): never {
  const message = 'not a cursor of this listing';
  throw new InvalidInputError(`Invalid request: cursor: ${message}`, 'invalid_cursor', {
    errors: [{ path: 'cursor', message }],
  });
}

/**
 * {@link TrailCursors} under HMAC-SHA-256 (a 256-bit tag, 43 base64url characters), keyed by a key derived
 * from `mac` once per container ({@link keyedFingerprint}: one KMS `GenerateMac` over a fixed label, then
 * HMACs in process, so a page costs no KMS call). The derived key is the same in every container (HMAC is
 * deterministic), so a cursor one container answered is taken by any other, and it lives as long as the
 * KMS key: cursors do not expire, they only point into a list that is append-only. The MAC covers the
 * listing and its query with the store's cursor, as canonical JSON, so no part can be moved to another.
 *
 * @example
 * ```ts
 * const cursors = trailCursors(cursorMac);
 * const sealed = await cursors.seal({ listing: 'supervision-licence', licence }, page.cursor);
 * await cursors.open({ listing: 'supervision-licence', licence }, sealed); // page.cursor
 * ```
 */
export function trailCursors(mac: Mac): TrailCursors {
  const tagOf = keyedFingerprint(mac, trailCursorLabel);
  const tag = (listing: TrailListing, cursor: string) => tagOf(canonicalJson({ ...listing, cursor }));
  return {
    async seal(listing, cursor) {
      // A store cursor that would not fit the refusal's pattern (or the queries' 400 characters) is a bug.
      if (!/^[A-Za-z0-9_-]{1,340}$/.test(cursor))
        throw new InternalError('A store cursor does not fit a sealed cursor', 'cursor_unsealable');
      return `${cursor}.${await tag(listing, cursor)}`;
    },
    async open(listing, sealed) {
      const [, cursor, given] = sealedCursor.exec(sealed) ?? [];
      if (!cursor || !given) refused();
      // Compared as text, not decoded: base64url's last character carries spare bits that a decoder
      // drops, so two texts would pass for one tag.
      const expected = Buffer.from(await tag(listing, cursor));
      const actual = Buffer.from(given);
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) refused();
      return cursor;
    },
  };
}
