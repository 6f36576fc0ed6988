import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../crypto/constant-time.js';

/**
 * A provider session's id (the value of its cookie) that names the session's `uid`: `<uid>.<random>`.
 * The provider finds a session by id (the cookie, at authorization) and by uid (codes and tokens name the
 * session by uid, at the token endpoint); with the uid inside the id both are one read of one item, stored
 * under the uid. The random part (256 bits) is what makes the id a secret: the uid alone opens nothing.
 *
 * @example
 * ```ts
 * const id = sessionIdFor(session.uid); // 'u1d….Zr4…'
 * uidOfSessionId(id); // session.uid
 * ```
 */
export function sessionIdFor(uid: string): string {
  return `${uid}.${randomBytes(32).toString('base64url')}`;
}

/**
 * The uid a session id names, or undefined for an id of the provider's own form (a session saved before
 * ids named their uid, still stored under its id).
 */
export function uidOfSessionId(id: string): string | undefined {
  const dot = id.indexOf('.');
  return dot > 0 && dot < id.length - 1 ? id.slice(0, dot) : undefined;
}

/** Whether two session ids are equal, in time independent of where they differ. */
export const sameSessionId = constantTimeEqual;
