import { header } from './request.js';
import type { HttpEvent } from './types.js';

/** RFC 6265's optional white space around a cookie's name and value: spaces and horizontal tabs only. */
const OWS = /^[ \t]+|[ \t]+$/g;

/**
 * The cookies of `pairs` (`name=value` strings: API Gateway's `event.cookies`, or a `Cookie` header split
 * at `;`) by name, each name sent exactly once; a name sent more than once is left out, unless
 * `firstCopy(name)` says its first copy is read (as browsers send the cookie of the longest path first).
 *
 * Why so strict: a sibling host may set cookies for the parent domain, and browsers refuse it only names
 * that literally start with `__Host-`. Trimming with `String.prototype.trim` (which removes Unicode spaces
 * too: U+00A0, U+3000, U+FEFF, …) would turn its `\u3000__Host-x` into `__Host-x`; so only spaces and
 * tabs are trimmed. And with two cookies of one name, the first or the last winning is the planter's
 * choice (paths order them), so neither is read: the cookie is absent, which fails closed (no session,
 * no sign-in under way). But a cookie that only points at state another check guards (oidc-provider's
 * `_interaction` pointer: the interaction opens only with the browser's binding) may take its first copy
 * instead, so that a copy planted for a shorter path cannot erase the real one for good: the real one, set
 * for the longer path, comes first.
 *
 * @example
 * ```ts
 * parseCookies(['a=1', ' b = 2 ', 'c=3', 'c=4']); // Map { 'a' => '1', 'b' => '2' }
 * parseCookies(['\u3000__Host-x=1']).get('__Host-x'); // undefined
 * ```
 */
export function parseCookies(
  pairs: readonly string[],
  firstCopy: (name: string) => boolean = () => false,
): ReadonlyMap<string, string> {
  const once = new Map<string, string>();
  const repeated = new Set<string>();
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 0) continue;
    const name = pair.slice(0, at).replace(OWS, '');
    if (name === '') continue;
    if (once.has(name)) repeated.add(name);
    else once.set(name, pair.slice(at + 1).replace(OWS, ''));
  }
  for (const name of repeated) if (!firstCopy(name)) once.delete(name);
  return once;
}

/**
 * The `name=value` pairs of a request's cookies: API Gateway v2 puts them in `event.cookies`; a `Cookie`
 * header is read too.
 *
 * @example
 * ```ts
 * parseCookies(cookiePairs(event)).get('__Host-wallet');
 * ```
 */
export function cookiePairs(event: HttpEvent): readonly string[] {
  return event.cookies ?? (header(event, 'cookie') ?? '').split(';');
}
