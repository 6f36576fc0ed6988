/**
 * A failure with a stable machine `code`, the HTTP status it maps to, and whether its message may leave
 * the service. Only errors below 500 are exposed; anything else becomes a generic `server_error`.
 *
 * @example
 * ```ts
 * throw new ServiceError('issuer_exists', 409, 'An issuer with this credit code already exists');
 * ```
 */
export class ServiceError extends Error {
  readonly expose: boolean;

  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly errors: ReadonlyArray<{ path: string; message: string }> = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ServiceError';
    this.expose = status < 500;
  }
}

/** A conditional write lost its race: the item exists, or changed since it was read. */
export class ConflictError extends ServiceError {
  constructor(message: string, code = 'conflict', options?: { cause?: unknown }) {
    super(code, 409, message, [], options);
    this.name = 'ConflictError';
  }
}

/** Refused for now, not for good: the client may try again after `retryAfterSeconds` (429 + Retry-After). */
export class TooManyRequestsError extends ServiceError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('too_many_requests', 429, message);
    this.name = 'TooManyRequestsError';
  }
}

export class NotFoundError extends ServiceError {
  constructor(message: string, code = 'not_found') {
    super(code, 404, message);
    this.name = 'NotFoundError';
  }
}

/**
 * The 400 of a request that fails validation: one `errors` entry per failing path, and a detail that
 * names them all.
 *
 * @example
 * ```ts
 * throw invalidRequest([{ path: 'ttlSeconds', message: 'must be 30 to 600' }]);
 * ```
 */
export function invalidRequest(
  errors: ReadonlyArray<{ path: string; message: string }>,
  what = 'Invalid request',
): ServiceError {
  return new ServiceError(
    'invalid_request',
    400,
    `${what}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    errors,
  );
}
