import { cookiePairs, parseCookies } from '../../http/cookies.js';
import type { HttpEvent } from '../../http/types.js';

/**
 * The request's cookie `name`, if sent once (API Gateway v2 puts cookies in `event.cookies`; a `Cookie`
 * header is read too). A look-alike name (a Unicode space before it) is another name, and a name sent
 * twice reads as absent: see {@link parseCookies}.
 */
export function readCookie(event: HttpEvent, name: string): string | undefined {
  return parseCookies(cookiePairs(event)).get(name);
}

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie. Omitted: a session cookie. */
  maxAge?: number;
  httpOnly?: boolean;
  secure: boolean;
  sameSite?: 'Lax' | 'Strict';
}

/**
 * A `Set-Cookie` value. Cookies are host-only with path `/`; on https they are `Secure` and their names
 * carry the `__Host-` prefix (see {@link cookieName}), so no sibling domain or path can plant them.
 */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', `SameSite=${options.sameSite ?? 'Lax'}`];
  if (options.maxAge !== undefined) parts.push(`Max-Age=${options.maxAge}`);
  if (options.httpOnly !== false) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** `__Host-<name>` on https; the plain name on the local runtime's http (browsers refuse the prefix there). */
export function cookieName(name: string, secure: boolean): string {
  return secure ? `__Host-${name}` : name;
}

/** Whether the service is served over https, so that its cookies are `Secure` and `__Host-` prefixed. */
export function servedOverHttps(baseUrl: string): boolean {
  // By the parsed scheme, as configuration validates it: `HTTPS://…` is https too (a prefix test missed it
  // and dropped every `__Host-` name).
  try {
    return new URL(baseUrl).protocol === 'https:';
  } catch {
    return false;
  }
}
