import { InvalidInputError, TooLargeError, UnsupportedMediaTypeError } from '../errors.js';
import { maxQueryLength, routePath } from '../http/edge.js';
import { bodyBytes, header } from '../http/request.js';
import { decodeFormBody } from '../http/form-body.js';
import type { HttpEvent, HttpResult } from '../http/types.js';

/**
 * A form-posted authorization request (OpenID Connect Core §3.1.2.1: the authorization endpoint MUST take
 * POST) or logout request (RP-Initiated Logout 1.0 §2: so MUST the end-session endpoint), answered with
 * `303 See Other` to the same endpoint with the form's parameters as its query.
 *
 * Why not let the provider read the POST: oidc-provider serves these POSTs only with
 * `enableHttpPostMethods`, which it allows only with a `SameSite=None` session cookie, and a browser sends
 * a `SameSite=Lax` one (ours) with no cross-site POST. A platform's form posts from the platform's site, so
 * the provider would see no session: no single sign-on, and a logout that ends nothing. The browser follows
 * a 303 as a top-level GET, which carries the Lax cookie, and the provider serves that GET as any other.
 *
 * No CSRF beyond GET's: the 303 names the very request a cross-site link could (the authorization and
 * logout GETs are cross-site navigable by design), it sets and reads no cookie, and no state changes.
 *
 * A logout's `id_token_hint` is not put in the URL (an ID token in a URL is logged: browser history,
 * proxies, CDNs), which is why a platform posts it: it becomes the `client_id` it names (its `aud`), the
 * form the provider takes without any token. The hint's signature is not checked here; nothing rests on
 * it, as the same `client_id` with no token at all is a valid logout request, and the provider still
 * checks `post_logout_redirect_uri` against that client's registration.
 *
 * @returns the 303, or `undefined` for any other request (the provider serves it).
 * @throws InvalidInputError (400 `invalid_request`) for a POST with a query string too, a body that is not
 *   form encoding (a broken escape at `(body)`, a field that is not UTF-8 text `invalid_characters` at its
 *   name), or an `id_token_hint` that names no client or another than `client_id`;
 *   TooLargeError (413) for a form longer than the query a GET may have ({@link maxQueryLength});
 *   UnsupportedMediaTypeError (415) for any other content type, or a charset other than UTF-8
 *   (`unsupported_charset`).
 *
 * @example
 * ```ts
 * const redirect = formPostedAsGet(event, { authorization: '/authorize', endSession: '/session/end' });
 * if (redirect) return redirect;
 * ```
 */
export function formPostedAsGet(
  event: HttpEvent,
  paths: { authorization: string; endSession: string },
): HttpResult | undefined {
  // 1. Only a POST to either endpoint itself (not `/authorize/{uid}`, not `/session/end/confirm`), by the
  //    route it came by, whatever form its raw path had.
  const method = event.requestContext?.http?.method?.toUpperCase();
  const path = routePath(event);
  if (method !== 'POST' || (path !== paths.authorization && path !== paths.endSession)) return undefined;

  // 2. The parameters are in the body: a query too would be two requests in one, and merging them would
  //    let either part override the other (or send a parameter twice), so neither is chosen.
  if ((event.rawQueryString ?? '') !== '') {
    throw new InvalidInputError(
      'A POST to this endpoint carries its parameters in its body, not in a query string as well',
      'invalid_request',
      {
        errors: [
          {
            path: '(query)',
            message: 'must be empty on a POST',
            code: 'exactly_one_of',
            params: { keys: '(query), (body)' },
          },
        ],
      },
    );
  }

  // 3. Bounded as the GET it becomes is (its query: 414 past maxQueryLength), before anything is read.
  const bytes = bodyBytes(event);
  if (bytes.length > maxQueryLength) {
    throw tooLong();
  }

  // 4. A form's media type only (a browser's form, or a platform's back end posting like one).
  const contentType = header(event, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw new UnsupportedMediaTypeError(
      `Content-Type must be application/x-www-form-urlencoded, not ${contentType ? JSON.stringify(contentType) : 'absent'}`,
      'unsupported_media_type',
    );
  }

  // 5. Form encoding, strictly: UTF-8 (a declared charset other than UTF-8's is refused, 415), each
  //    escape a whole one (URLSearchParams would keep `%zz` as text and turn broken UTF-8 into U+FFFD, a
  //    request other than the one sent), a field that is not UTF-8 text named (`invalid_characters`).
  const { pairs: decoded, unreadable } = decodeFormBody(bytes, contentType, { strictEscapes: true });
  if (unreadable.length > 0) {
    throw new InvalidInputError(
      `The request body is not UTF-8 text at ${unreadable.map((e) => e.path).join(', ')}`,
      'invalid_request',
      { errors: [...unreadable] },
    );
  }
  const pairs = decoded.map(([name, value]): [string, string] => [name, value]);

  // 6. A logout's ID token becomes the client it names, kept out of the URL. An authorization request's
  //    hints of who is signing in (an ID number in `login_hint`, an ID token, a request object) would be
  //    put in the URL by the 303 the platform posted to avoid: refused, with the way that keeps them out
  //    (a pushed request) named (review R27).
  if (path === paths.authorization) refuseHintsInUrl(pairs);
  const params = path === paths.endSession ? withoutIdTokenHint(pairs) : pairs;

  // 7. The same endpoint, the same parameters, as a GET; re-encoded, it is bounded again.
  const query = new URLSearchParams(params).toString();
  if (query.length > maxQueryLength) throw tooLong();
  return {
    statusCode: 303,
    headers: { location: query ? `${path}?${query}` : path, 'cache-control': 'no-store' },
    body: '',
  };
}

/**
 * The authorization parameters that may name the person or carry a token (`login_hint` may be an ID
 * number, docs/security.md): never copied from a form into a URL.
 */
const personalParameters = ['login_hint', 'login_hint_token', 'id_token_hint', 'request'] as const;

function refuseHintsInUrl(pairs: readonly [string, string][]): void {
  const named = personalParameters.filter((name) => pairs.some(([key]) => key === name));
  if (named.length === 0) return;
  throw new InvalidInputError(
    `A form-posted authorization request becomes a GET, whose URL would carry ${named.join(', ')}: ` +
      'send the request by PAR (POST /request, docs/sharing.md) to keep them out of every URL',
    'invalid_request',
    {
      errors: named.map((name) => ({
        path: name,
        message: 'would be put in a URL: push the request (POST /request) instead',
        code: 'invalid',
      })),
    },
  );
}

function tooLong(): TooLargeError {
  return new TooLargeError(
    `A form-posted request is limited to ${maxQueryLength} characters, as the query of the GET it becomes is`,
    'payload_too_large',
  );
}

/** A logout's parameters with its `id_token_hint` replaced by the `client_id` the token is for (`aud`). */
function withoutIdTokenHint(pairs: [string, string][]): [string, string][] {
  const hints = pairs.filter(([name]) => name === 'id_token_hint');
  if (hints.length === 0) return pairs;
  const refuse = (message: string) =>
    new InvalidInputError(`The id_token_hint ${message}`, 'invalid_request', {
      errors: [{ path: 'id_token_hint', message, code: 'invalid_value' }],
    });
  if (hints.length > 1) throw refuse('is sent more than once');
  const audience = audienceOf(hints[0]![1]);
  if (audience === undefined) throw refuse('is not an ID token naming one client (aud)');
  const named = pairs.filter(([name]) => name === 'client_id').map(([, value]) => value);
  if (named.some((clientId) => clientId !== audience)) throw refuse('is for another client than client_id');
  const rest = pairs.filter(([name]) => name !== 'id_token_hint');
  return named.length > 0 ? rest : [...rest, ['client_id', audience]];
}

/** The `aud` of a JWT's payload when it is one string; `undefined` for anything else. */
function audienceOf(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (token.split('.').length !== 3 || !payload || payload.length > maxQueryLength) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const aud = (claims as { aud?: unknown } | null)?.aud;
    return typeof aud === 'string' && aud !== '' ? aud : undefined;
  } catch {
    return undefined;
  }
}
