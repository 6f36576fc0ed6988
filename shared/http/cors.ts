import type { HttpEvent, HttpResult } from './types.js';

/**
 * Cross-origin calls (CORS) for the routes the route table opens to browsers of any origin (`cors` in
 * functions/routes.ts; docs/security.md, "Cross-origin calls"): public routes only, which answer anyone
 * the same whatever page asks, and which take no cookie. So the origin is `*`, never echoed, and never
 * with `Access-Control-Allow-Credentials`: a browser sends no cookie or client certificate with such a
 * request, and a page reads nothing it could not fetch from its own server. Every other route answers
 * without these headers, and API Gateway has no preflight route for it, so a browser of another origin
 * can neither send it a non-simple request nor read its answer.
 */

/**
 * The request headers a page may send (`Access-Control-Allow-Headers`): a JSON body, a verifier app's
 * token (`Authorization`, Bearer or DPoP) and its DPoP proof, and conditional GETs of the lists.
 */
export const crossOriginRequestHeaders = ['authorization', 'content-type', 'dpop', 'if-none-match'] as const;

/**
 * The answer headers a page may read beyond the safelisted ones (`Access-Control-Expose-Headers`): why a
 * token was refused (RFC 6750 §3, RFC 9449 §7.1) and the lists' validator.
 */
export const crossOriginResponseHeaders = ['www-authenticate', 'etag'] as const;

/** How long a browser may keep a preflight's answer: two hours, the most Chromium keeps one. */
export const preflightMaxAgeSeconds = 7200;

/** The headers of every answer of a `cors` route. */
function corsHeaders(): Record<string, string> {
  return {
    'access-control-allow-origin': '*',
    'access-control-expose-headers': crossOriginResponseHeaders.join(', '),
  };
}

/** Whether `event` is a preflight: an `OPTIONS` request (API Gateway routes it only for `cors` routes). */
export function isPreflight(event: HttpEvent): boolean {
  return event.requestContext?.http?.method === 'OPTIONS';
}

/**
 * The answer to a preflight at a path whose `methods` are open cross-origin: `204`, the methods and
 * headers a page may use, and how long the browser may keep the answer.
 *
 * @example
 * ```ts
 * if (methods && isPreflight(event)) return preflightAnswer(methods); // ['POST']
 * ```
 */
export function preflightAnswer(methods: readonly string[]): HttpResult {
  return {
    statusCode: 204,
    headers: {
      ...corsHeaders(),
      'access-control-allow-methods': methods.join(', '),
      'access-control-allow-headers': crossOriginRequestHeaders.join(', '),
      'access-control-max-age': String(preflightMaxAgeSeconds),
    },
  };
}

/** `result` readable by a page of any origin: an answer of a `cors` route, a refusal included. */
export function withCorsHeaders(result: HttpResult): HttpResult {
  return { ...result, headers: { ...result.headers, ...corsHeaders() } };
}
