/**
 * What kind of failure an error is, in the service's own terms. A domain error carries its kind and a
 * stable `code`, never an HTTP status: the edge maps each kind to its status once
 * (`shared/http/error-mapping.ts`), as `jose` does with its error classes.
 */
export type ErrorKind =
  /** The caller's input breaks a rule; `errors` names each failing path. */
  | 'invalid_input'
  /** The caller is not signed in, or its sign-in ended. */
  | 'unauthenticated'
  /** The caller is known but may not do this. */
  | 'forbidden'
  | 'not_found'
  /** The state does not allow it, or a concurrent write won. */
  | 'conflict'
  /** Well formed, but what it names cannot be accepted (a peer whose pinned keys do not verify its list). */
  | 'unprocessable'
  /** The input is larger than accepted. */
  | 'too_large'
  /** The address of the request is longer than accepted. */
  | 'uri_too_long'
  /** The input comes in a format not accepted. */
  | 'unsupported_media_type'
  /** Refused for now, not for good: see {@link TooManyRequestsError.retryAfterSeconds}. */
  | 'too_many_requests'
  /** Our own defect or a dependency's broken answer: the message stays inside the service. */
  | 'internal'
  /** A service we call could not be reached or failed. */
  | 'dependency_failed'
  /** Busy for now: the caller may retry shortly. */
  | 'unavailable';

/** One failing input, named by its path in the request (`fields.vehicleClass`, `holder`). */
export interface FieldError {
  path: string;
  message: string;
}

export interface ServiceErrorOptions {
  errors?: readonly FieldError[];
  cause?: unknown;
}

/** Kinds that are faults of ours or of a dependency, whose messages must not leave the service. */
const faults: ReadonlySet<ErrorKind> = new Set(['internal', 'dependency_failed', 'unavailable']);

/**
 * A failure with a stable machine `code`, its {@link ErrorKind}, and the inputs at fault. Only refusals
 * are exposed (their message may leave the service); a fault becomes a generic `server_error` at the
 * edge. Throw one of the kinds' classes below.
 *
 * @example
 * ```ts
 * throw new ConflictError('An issuer with this credit code already exists', 'issuer_exists');
 * ```
 */
export abstract class ServiceError extends Error {
  abstract readonly kind: ErrorKind;
  readonly errors: readonly FieldError[];

  constructor(
    readonly code: string,
    message: string,
    { errors = [], cause }: ServiceErrorOptions = {},
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ServiceError';
    this.errors = errors;
  }

  /** Whether the message may leave the service: a refusal of the request, not a fault. */
  get expose(): boolean {
    return !faults.has(this.kind);
  }
}

/**
 * The input breaks a rule: one `errors` entry per failing path.
 *
 * @example
 * ```ts
 * throw new InvalidInputError('validUntil must be after validFrom', 'invalid_validity', {
 *   errors: [{ path: 'validUntil', message: 'must be after validFrom' }],
 * });
 * ```
 */
export class InvalidInputError extends ServiceError {
  readonly kind = 'invalid_input';

  constructor(message: string, code = 'invalid_request', options?: ServiceErrorOptions) {
    super(code, message, options);
    this.name = 'InvalidInputError';
  }
}

/** The caller is not signed in, or its sign-in expired or was revoked. */
export class UnauthenticatedError extends ServiceError {
  readonly kind = 'unauthenticated';

  constructor(message: string, code = 'unauthenticated', options?: ServiceErrorOptions) {
    super(code, message, options);
    this.name = 'UnauthenticatedError';
  }
}

/** The caller is known, but may not do this (its role, assurance level or standing forbids it). */
export class ForbiddenError extends ServiceError {
  readonly kind = 'forbidden';

  constructor(message: string, code = 'forbidden', options?: ServiceErrorOptions) {
    super(code, message, options);
    this.name = 'ForbiddenError';
  }
}

export class NotFoundError extends ServiceError {
  readonly kind = 'not_found';

  constructor(message: string, code = 'not_found', options?: ServiceErrorOptions) {
    super(code, message, options);
    this.name = 'NotFoundError';
  }
}

/** The state does not allow it, or a conditional write lost its race (the item exists, or changed). */
export class ConflictError extends ServiceError {
  readonly kind = 'conflict';

  constructor(message: string, code = 'conflict', options?: ServiceErrorOptions) {
    super(code, message, options);
    this.name = 'ConflictError';
  }
}

/**
 * The request is well formed but what it names cannot be accepted: e.g. a peer platform whose pinned
 * keys do not verify the trust list it serves (`peer_untrusted`).
 */
export class UnprocessableError extends ServiceError {
  readonly kind = 'unprocessable';

  constructor(message: string, code = 'unprocessable', options?: ServiceErrorOptions) {
    super(code, message, options);
    this.name = 'UnprocessableError';
  }
}

/** The input is larger than the service accepts. */
export class TooLargeError extends ServiceError {
  readonly kind = 'too_large';

  constructor(message: string, code = 'payload_too_large') {
    super(code, message);
    this.name = 'TooLargeError';
  }
}

/** The address of the request (path or query) is longer than the service accepts. */
export class UriTooLongError extends ServiceError {
  readonly kind = 'uri_too_long';

  constructor(message: string, code = 'uri_too_long') {
    super(code, message);
    this.name = 'UriTooLongError';
  }
}

/** The input comes in a format the service does not take. */
export class UnsupportedMediaTypeError extends ServiceError {
  readonly kind = 'unsupported_media_type';

  constructor(message: string, code = 'unsupported_media_type') {
    super(code, message);
    this.name = 'UnsupportedMediaTypeError';
  }
}

/** Refused for now, not for good: the client may try again after `retryAfterSeconds`. */
export class TooManyRequestsError extends ServiceError {
  readonly kind = 'too_many_requests';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('too_many_requests', message);
    this.name = 'TooManyRequestsError';
  }
}

/** Our own defect, or a dependency's answer we cannot use: logged, never shown. */
export class InternalError extends ServiceError {
  readonly kind = 'internal';

  constructor(message: string, code = 'server_error', options?: ServiceErrorOptions) {
    super(code, message, options);
    this.name = 'InternalError';
  }
}

/** A service we call could not be reached, or failed in a way of its own. */
export class DependencyError extends ServiceError {
  readonly kind = 'dependency_failed';

  constructor(message: string, code = 'dependency_failed', options?: ServiceErrorOptions) {
    super(code, message, options);
    this.name = 'DependencyError';
  }
}

/** Busy for now (e.g. a contended write kept losing): the caller may retry shortly. */
export class UnavailableError extends ServiceError {
  readonly kind = 'unavailable';

  constructor(message: string, code = 'temporarily_unavailable', options?: ServiceErrorOptions) {
    super(code, message, options);
    this.name = 'UnavailableError';
  }
}

/**
 * The {@link InvalidInputError} of a request that fails validation: one `errors` entry per failing
 * path, and a detail that names them all.
 *
 * @example
 * ```ts
 * throw invalidRequest([{ path: 'ttlSeconds', message: 'must be 30 to 600' }]);
 * ```
 */
export function invalidRequest(errors: readonly FieldError[], what = 'Invalid request'): InvalidInputError {
  return new InvalidInputError(
    `${what}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    'invalid_request',
    { errors },
  );
}
