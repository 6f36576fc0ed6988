import { BusyError, DependencyError, ServiceError, type ErrorKind } from '../errors.js';
import { logger, withRequestLogKeys } from '../logger.js';
import { dpopSigningAlgs } from './dpop.js';
import { isPreflight, preflightAnswer, withCorsHeaders } from './cors.js';
import { checkRequestLine, withEdgeHeaders, type Edge } from './edge.js';
import { httpStatusOf } from './error-mapping.js';
import { problem } from './response.js';
import type { HttpEvent, HttpHandler, HttpResult } from './types.js';

/** The `title` of each status's problem documents (the OpenAPI document's examples use them too). */
export const problemTitles: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * The one boundary between our API's use cases and HTTP: a {@link ServiceError} below 500 becomes its
 * problem document; anything else is logged and answered with a generic `server_error` that carries
 * only the request id, so no internals leave the service. The request line is bounded first, by the
 * route's parameter kinds that `edge` gives, and every answer gets the edge's headers (see `./edge.ts`).
 *
 * @example
 * ```ts
 * export const handler = apiHandler(async (event) => json(200, await useCase(parse(event))), served.edge);
 * ```
 */
export function apiHandler(handle: HttpHandler, edge: Edge): HttpHandler {
  return (event, context) =>
    withRequestLogKeys(event, context, async () => {
      // A route open to pages of any origin (the table's `cors`): its preflight answered here, before
      // any handler, and each of its answers readable cross-origin, refusals included (./cors.ts).
      const crossOrigin = edge.crossOriginMethods?.(event.routeKey);
      const answer = (result: HttpResult) =>
        withEdgeHeaders(crossOrigin ? withCorsHeaders(result) : result, edge.secure());
      try {
        checkRequestLine(event, edge.parametersOf(event.routeKey));
        if (crossOrigin && isPreflight(event)) return answer(preflightAnswer(crossOrigin));
        return answer(await handle(event));
      } catch (error) {
        return answer(errorResult(error, event.requestContext?.requestId, event));
      }
    });
}

/**
 * The answer to a request that failed with `error`. `request`: the request it answers, whose token's scheme
 * (`Authorization: DPoP …`, or a `DPoP` proof sent) names the scheme of a 401's challenge.
 */
export function errorResult(
  error: unknown,
  requestId: string | undefined,
  request?: Pick<HttpEvent, 'headers'>,
): HttpResult {
  if (error instanceof ServiceError && error.expose) {
    const status = httpStatusOf(error);
    logger.info('request refused', { code: error.code, status });
    const challenge = challengeOf(error, status, request);
    return problem(
      {
        status,
        code: error.code,
        title: problemTitles[status] ?? 'Error',
        detail: error.message,
        errors: error.errors,
        ...(error.licenceId !== undefined && { licenceId: error.licenceId }),
        requestId,
      },
      challenge !== undefined
        ? { 'www-authenticate': challenge }
        : error.retryAfterSeconds !== undefined
          ? { 'retry-after': String(error.retryAfterSeconds) }
          : {},
    );
  }
  const transient = transientFailure(error);
  if (transient) {
    // `error` as Powertools formats an Error (`{ name, message, … }`): the KMS-throttling metric filter
    // (infra/constructs/service-function.ts) counts `$.error.name`; a bare name string went uncounted.
    if (error instanceof Error) logger.warn(transient, error);
    else logger.warn(transient, { error: { name: (error as { name: string }).name } });
    return problem(
      {
        status: 503,
        code: 'temporarily_unavailable',
        title: problemTitles[503] ?? 'Service Unavailable',
        detail: 'The service is busy; retry after a short wait',
        requestId,
      },
      { 'retry-after': '1' },
    );
  }
  if (error instanceof BusyError) logger.warn('request backed off', { code: error.code });
  else logger.error('request failed', error instanceof Error ? error : String(error));
  const status = error instanceof ServiceError ? httpStatusOf(error) : 500;
  return problem(
    {
      status,
      // A dependency's failure keeps its message inside but names its stable code (`peer_unreachable`):
      // which dependency failed is what a caller needs to decide whether to retry, and says nothing of ours.
      code:
        status === 503
          ? 'temporarily_unavailable'
          : error instanceof DependencyError
            ? error.code
            : 'server_error',
      title: problemTitles[status] ?? 'Internal Server Error',
      detail: 'The service could not complete the request; quote the request id when reporting it',
      requestId,
    },
    // Unavailable for a while we know (the list signer, shared/licence/list-signer.ts): when to retry.
    error instanceof ServiceError && error.retryAfterSeconds !== undefined
      ? { 'retry-after': String(error.retryAfterSeconds) }
      : {},
  );
}

/**
 * AWS answers that outlasted the SDK's retries, and a dependency that did not answer within the client's
 * timeouts (shared/adapters/aws-timeouts.ts), retries included: the caller should retry, not report a
 * fault. What to log, or undefined for any other error.
 */
function transientFailure(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  if (
    name === 'ThrottlingException' ||
    name === 'ProvisionedThroughputExceededException' ||
    name === 'RequestLimitExceeded'
  )
    return 'dependency throttled the request';
  if (name === 'TimeoutError') return 'dependency did not answer in time';
  return undefined;
}

/**
 * The `WWW-Authenticate` challenge of a refusal: an {@link AuthenticationError}'s own, and for every other
 * 401 one made here, once for all (RFC 7235 §3.1: a 401 carries one), so that a refusal made past
 * `authenticate` (a token from before the account's last reset, `requireSignInNotEnded`; a withdrawn
 * grant's) answers as `authenticate`'s do: `invalid_token` with its description (RFC 6750 §3), in the
 * `DPoP` scheme with the proofs' algorithms when the request used it (RFC 9449 §7.1: a DPoP-bound token is
 * only ever accepted so sent, as oidc-provider's userinfo picks its scheme), else `Bearer`; a 401 of another
 * code, the scheme alone. None for another status.
 */
function challengeOf(
  error: ServiceError,
  status: number,
  request: Pick<HttpEvent, 'headers'> | undefined,
): string | undefined {
  if (error instanceof AuthenticationError) return error.challenge;
  if (status !== 401) return undefined;
  const headers = Object.fromEntries(
    Object.entries(request?.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const dpop = /^dpop\s/i.test(headers['authorization'] ?? '') || headers['dpop'] !== undefined;
  const scheme = dpop ? 'DPoP' : 'Bearer';
  const code = error.code === 'invalid_token' ? 'invalid_token' : 'invalid_request';
  return new AuthenticationError(code, 401, error.message, scheme).challenge;
}

/**
 * A 401 or 403 that also tells the client how to authenticate (RFC 6750 §3): an error of the HTTP edge,
 * so it names its status, which must be the one its kind maps to. Its challenge is in the `DPoP` scheme
 * for a request that used it or a token bound to a DPoP key, with the algorithms a proof may use (RFC 9449
 * §7.1), in the `Bearer` scheme otherwise.
 */
export class AuthenticationError extends ServiceError {
  readonly kind: ErrorKind;
  readonly challenge: string;

  constructor(
    code: 'invalid_token' | 'insufficient_scope' | 'invalid_request' | 'invalid_dpop_proof',
    readonly status: 401 | 403,
    message: string,
    scheme: 'Bearer' | 'DPoP' = 'Bearer',
  ) {
    super(code, message);
    this.kind = status === 401 ? 'unauthenticated' : 'forbidden';
    this.name = 'AuthenticationError';
    const description = message.replace(/["\\]/g, '');
    const algs = scheme === 'DPoP' ? `, algs="${dpopSigningAlgs.join(' ')}"` : '';
    this.challenge =
      code === 'invalid_request' && status === 401
        ? scheme
        : `${scheme} error="${code}", error_description="${description}"${algs}`;
  }
}
