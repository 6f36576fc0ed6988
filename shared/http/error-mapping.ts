import type { ErrorKind, ServiceError } from '../errors.js';

/**
 * THE mapping of each kind of {@link ServiceError} to its HTTP status, used by every edge (the API's
 * problem answers, the pages, the OpenID provider's routes). Domain code names a kind and a stable code
 * and never a status, so a status changes here or nowhere.
 */
export const statusOfKind: Readonly<Record<ErrorKind, number>> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal: 500,
  dependency_failed: 502,
  unavailable: 503,
};

/**
 * The HTTP status that answers `error`.
 *
 * @example
 * ```ts
 * httpStatusOf(new ConflictError('Issuer 7 is already withdrawn', 'issuer_withdrawn')); // 409
 * ```
 */
export function httpStatusOf(error: ServiceError): number {
  return statusOfKind[error.kind];
}

const kindOfStatus = new Map<number, ErrorKind>(
  Object.entries(statusOfKind).map(([kind, status]) => [status, kind as ErrorKind]),
);

/**
 * The kind of a refusal that another service answered with `status`, for a client that relays it (the
 * console relays the issuer API's problems). Our API answers only the statuses of the kinds above; any
 * other 4xx reads as invalid input.
 *
 * @example
 * ```ts
 * errorKindOfStatus(409); // 'conflict'
 * ```
 */
export function errorKindOfStatus(status: number): ErrorKind {
  return kindOfStatus.get(status) ?? (status >= 500 ? 'dependency_failed' : 'invalid_input');
}
