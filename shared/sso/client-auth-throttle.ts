import { relayedAddressHeader, type RelayedAddresses } from '../web/kit/relayed-address.js';
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Mac } from '../crypto/mac.js';
import { routePath } from '../http/edge.js';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import { bodyBytes, header } from '../http/request.js';
import { InvalidInputError } from '../errors.js';
import type { HttpEvent, HttpResult } from '../http/types.js';
import { logger } from '../logger.js';
import {
  LoginThrottle,
  sourceDigest,
  counterId,
  type LoginAttemptStore,
  type ThrottleKey,
} from '../identity/login-throttle.js';
import type { ProviderRoutes } from './provider.js';
import type { CodeIds, CodeReadHints } from './code-ids.js';
import type { InteractionCookieJar } from './interaction-cookies.js';

/** The provider's endpoints that authenticate a client (RFC 6749 §2.3, RFC 7662, RFC 7009, RFC 9126). */
const clientAuthenticating = [
  'token',
  'introspection',
  'revocation',
  'pushed_authorization_request',
] as const;

export interface ClientAuthThrottleDependencies {
  loginAttempts: LoginAttemptStore;
  lookupMac: Mac;
  relayedAddresses: RelayedAddresses;
  clock: Clock;
  /**
   * Reads a code exchange's items together with the throttle's counter: the hints a code's value carries
   * (`codeIds`, the provider's) and the reads of the request (see {@link ProviderReads}).
   */
  codeExchange?: { codeIds: CodeIds; reads: Pick<ProviderReads, 'codeExchange'> };
}

/**
 * Reads made together for one request to the provider (shared/adapters/dynamo/oidc-adapter.ts): each
 * answers once, the read of its own key, in that request only; never a cache across requests.
 */
export interface ProviderReads {
  /**
   * Runs one request with reads of its own (the `oidc` function: every invocation); `interactions`, the
   * browser's sealed interaction cookies, where the provider's interactions are then kept.
   */
  scope<T>(run: () => Promise<T>, options?: { interactions?: InteractionCookieJar }): Promise<T>;
  /**
   * Reads ahead, in one round trip, what the token endpoint reads to exchange an authorization code: the
   * client-authentication counter (`counter`, a {@link counterId}), the code, and the session, grant and
   * account its value names (`hints`, shared/sso/code-ids.ts: unverified, so only ever read ahead).
   * Outside a scope it reads nothing.
   */
  codeExchange(read: { counter: string; code: string; hints?: CodeReadHints }): Promise<void>;
}

/**
 * Throttles client authentication at the provider's token, introspection, revocation and pushed
 * authorization endpoints: failures counted per (client id, source address) on the login throttle's
 * counters (kind `client`, see `clientThrottle`), five free, then waits of 1, 2, 4… s up to 15 minutes.
 *
 * It wraps the provider rather than hooking into it: the client id is read from the request as the
 * provider reads it (the Basic `Authorization` header, else `client_id` in the form), the counter is
 * checked before the provider sees the request (one read), a failure is counted when the provider
 * answered `invalid_client`, and the counter is cleared when it answered with success (2xx), which only
 * an authenticated client gets; any other answer (a malformed request refused before the secret was
 * looked at, say) changes nothing, so it cannot reset the count. Unlike passwords, failures are counted
 * after the fact, not claimed before: a burst of parallel guesses is not serialised, which costs nothing
 * against 256-bit secrets and saves three table calls on every token request. While the pair is blocked
 * the request
 * never reaches the provider, so no secret is compared and the right one is refused like a wrong one:
 * 429 with `Retry-After` (RFC 6585) and the OAuth error body `invalid_client` (RFC 6749 §5.2), which
 * OAuth libraries surface as an error and HTTP clients know to retry later. A 401 would tell a client
 * holding the right secret that it is wrong. The address is API Gateway's source IP (the connection's),
 * never `X-Forwarded-For`, which the client writes.
 *
 * @example
 * ```ts
 * return throttleClientAuthentication(event, (e) => serve(e, {}), deps, providerRoutes());
 * ```
 */
export async function throttleClientAuthentication(
  event: HttpEvent,
  serve: (event: HttpEvent) => Promise<HttpResult>,
  deps: ClientAuthThrottleDependencies,
  /** Where the provider serves its endpoints: the route table's paths. */
  routes: Pick<ProviderRoutes, (typeof clientAuthenticating)[number]>,
): Promise<HttpResult> {
  // By the route it came by, not its raw path: `/token/` is the token endpoint too wherever a gateway
  // serves it as `/token` (the edge refuses such paths first: shared/http/edge.ts `nonCanonical`).
  const endpointPath = routePath(event);
  const authenticatesClient = clientAuthenticating.some((endpoint) => routes[endpoint] === endpointPath);
  if (event.requestContext.http.method !== 'POST' || !authenticatesClient) {
    return serve(event);
  }
  let form: ParsedUrlQuery | undefined;
  let clientId: string | undefined;
  try {
    form = providerForm(event);
    clientId = presentedClientId(event, form);
  } catch (error) {
    // A body the provider cannot read, or would read lossily: refused as it refuses one (RFC 6749 §5.2).
    if (error instanceof InvalidInputError) return invalidRequest(error.message);
    throw error;
  }
  // No client named: the provider refuses it (invalid_request) without looking any secret up.
  if (clientId === undefined) return serve(event);

  const throttle = new LoginThrottle(deps.loginAttempts, deps.clock);
  // The console calls for its visitors and vouches for their address; anyone else is counted at the
  // address API Gateway saw (a header the client writes is worth nothing without the page key's MAC).
  const address =
    (await deps.relayedAddresses.read(header(event, relayedAddressHeader), clientId)) ??
    event.requestContext.http.sourceIp;
  const key: ThrottleKey = {
    kind: 'client',
    key: `${clientKey(clientId)}.${await sourceDigest(deps.lookupMac, address)}`,
  };
  // Client secrets are 256-bit MACs (shared/clients/client-secrets.ts): nobody guesses one online, so a
  // success costs one read (the block check) and failures are counted after the provider refused them,
  // not claimed before as for passwords, whose parallel guesses must be serialised (issue 16: the
  // token endpoint made four table calls per request for this).
  // A code exchange: the counter is read with the code and what the code names, in one round trip.
  const code = endpointPath === routes.token ? exchangedCode(form) : undefined;
  if (code !== undefined && deps.codeExchange) {
    const { codeIds, reads } = deps.codeExchange;
    const hints = codeIds.hintsOf(code);
    await reads.codeExchange({ counter: counterId(key), code, ...(hints && { hints }) });
  }
  const check = await throttle.check(key);
  if (check.retryAfterSeconds > 0) {
    logger.info('client authentication throttled', { retryAfterSeconds: check.retryAfterSeconds });
    return throttled(check.retryAfterSeconds);
  }
  const result = await serve(event);
  if (isInvalidClient(result)) {
    logger.info('client authentication failed', { path: event.rawPath });
    await throttle.failed(key);
  } else if (check.hadFailures && isSuccess(result.statusCode ?? 500)) {
    await throttle.succeeded([key]);
  }
  return result;
}

/**
 * The client id a request presents, as oidc-provider reads it: from HTTP Basic (RFC 6749 §2.3.1, each
 * part form-urlencoded), else the form's `client_id` (client_secret_post, a public client, a client
 * assertion's sender). Undefined when there is none or the header cannot be read.
 *
 * @param form the request's form as the provider reads it ({@link providerForm}), read here when not given.
 * @throws InvalidInputError (`invalid_request`) for a `client_id`
 *   it would read lossily (see {@link providerForm}).
 */
export function presentedClientId(
  event: HttpEvent,
  form: ParsedUrlQuery | undefined = providerForm(event),
): string | undefined {
  const authorization = header(event, 'authorization');
  const basic = /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization?.trim() ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, '%20'));
      } catch {
        return undefined;
      }
    }
  }
  const clientId = first(form?.client_id);
  if (clientId?.includes(replacementCharacter)) {
    // Every byte string that is not UTF-8 is one U+FFFD to the provider (`a%FF`, `a%FE`, a raw 0xFF):
    // kept, they would share one counter that any of them could fill. No client's id holds U+FFFD.
    throw new InvalidInputError(
      'client_id is not UTF-8 text (percent-escapes are UTF-8 bytes whatever the charset)',
      'invalid_request',
    );
  }
  return clientId || undefined;
}

const replacementCharacter = '\uFFFD';

/** The first of a name sent more than once, as `URLSearchParams.get` read it; the provider refuses a repeat. */
const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The code of an authorization-code grant in the request's form, or undefined. */
function exchangedCode(form: ParsedUrlQuery | undefined): string | undefined {
  if (first(form?.grant_type) !== 'authorization_code') return undefined;
  return first(form?.code) || undefined;
}

/**
 * The request's urlencoded form exactly as oidc-provider reads it, so that the counter is the client id
 * the provider authenticates: the body's bytes decoded as UTF-8 whatever `charset` the request declares,
 * then `querystring.parse` (percent-escapes are UTF-8 bytes; a `%` that is no escape stays a `%`).
 * Undefined when the request has no urlencoded body (the provider reads none either).
 *
 * Why UTF-8 whatever the charset: the provider's `selective_body.js` passes `ctx.charset` to its decoder,
 * and Koa 3 has `charset` on `ctx.request` only (its context does not delegate it), so the provider
 * always reads the bytes as UTF-8 (review R73-1: decoding in the declared charset here, as h-r70fix did,
 * let `charset=utf-16le` hide the `client_id` from this throttle while the provider still compared the
 * secret: guesses without a counter). A client declaring `ISO-8859-1` or `US-ASCII` (Apache HttpClient
 * 4.x's default) sends ASCII forms, the same bytes in UTF-8 (review R70 F1).
 * `test/integration/sso/token-charset.test.ts` pins the provider's reading too: if a later Koa or
 * oidc-provider honours the charset, its `utf-16le` exchange stops authenticating and the test fails.
 *
 * The provider reads lossily: a byte string that is not UTF-8 is U+FFFD. {@link presentedClientId}
 * refuses a `client_id` holding one.
 */
function providerForm(event: HttpEvent): ParsedUrlQuery | undefined {
  const contentType = header(event, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded' || !event.body) return undefined;
  return parseQuery(bodyBytes(event).toString('utf8'));
}

/** A client id as a counter key: as it is when short and plain, else its SHA-256 (bounded key size). */
function clientKey(clientId: string): string {
  return /^[A-Za-z0-9._~-]{1,100}$/.test(clientId)
    ? clientId
    : `sha256-${createHash('sha256').update(clientId).digest('base64url')}`;
}

const isSuccess = (status: number) => status >= 200 && status < 300;

function isInvalidClient(result: HttpResult): boolean {
  if (result.statusCode !== 401 || typeof result.body !== 'string') return false;
  try {
    const body = JSON.parse(
      result.isBase64Encoded ? Buffer.from(result.body, 'base64').toString() : result.body,
    );
    return (body as { error?: unknown }).error === 'invalid_client';
  } catch {
    // Not the provider's JSON: a 401 of these endpoints is a failed client authentication all the same.
    return true;
  }
}

/** RFC 6749 §5.2's `invalid_request`, as the provider answers a request it cannot read. */
function invalidRequest(description: string): HttpResult {
  return {
    statusCode: 400,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify({ error: 'invalid_request', error_description: description }),
  };
}

function throttled(retryAfterSeconds: number): HttpResult {
  return {
    statusCode: 429,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'retry-after': String(retryAfterSeconds),
    },
    body: JSON.stringify({
      error: 'invalid_client',
      error_description:
        'too many failed client authentications from this address; retry after the time in Retry-After',
    }),
  };
}
