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

/**
 * The stable reason of one failing input, which pages translate (the `message` beside it is English, for
 * developers). Add codes freely; never rename one. A page meeting a code it does not know shows a generic
 * message in its language, so a new code is never an English sentence on a Chinese page.
 */
export const fieldErrorCodes = [
  /** Missing, or blank where a value is needed. */
  'required',
  /** Of the wrong JSON type (a string where a number goes). */
  'invalid_type',
  /** Shorter than `params.minimum` characters. */
  'too_short',
  /** Longer than `params.maximum` characters. */
  'too_long',
  /** A number below `params.minimum` (or not above it when `params.exclusive`). */
  'too_small',
  /** A number above `params.maximum` (or not below it when `params.exclusive`). */
  'too_big',
  /** Not in the form the field takes (its pattern, a UUID, a number of the wrong shape). */
  'invalid_format',
  /** Not a real calendar date or time. */
  'invalid_date',
  /** Not one of the values the field allows. */
  'invalid_value',
  /** A field the object does not have. */
  'unknown_field',
  /** An ID number or credit code of the wrong length (`params.length` characters were given; an ID number is 18, or 15 for a 2017 foreigner's card). */
  'invalid_length',
  /** An ID number's or credit code's region code (`params.region`) is not a region. */
  'invalid_region',
  /** An ID number's birth date (`params.birthDate`) is not a date, or not a possible one. */
  'invalid_birth_date',
  /** A foreigner's permanent residence number's nationality (`params.nationality`) is no assigned ISO 3166-1 code of a country other than China. */
  'invalid_nationality',
  /** An ID number's or credit code's check character is wrong (`params.expected` is the right one). */
  'invalid_check_character',
  /** Not a mainland mobile number in E.164 form (`params.example` shows one). */
  'invalid_phone',
  /** Control characters or `< >` in a name. */
  'invalid_characters',
  /** A password that contains the ID number. */
  'contains_id_number',
  /** A name other than the population registry's for this ID number. */
  'registry_mismatch',
  /** The privacy notice was not agreed to (`consent` must be true). */
  'consent_required',
  /** The ID number's holder is under 14: a guardian must register for them (not offered yet). */
  'guardian_required',
  /** The holder is a person where the type is issued to an entity, or the other way round. */
  'wrong_holder_kind',
  /**
   * Exactly one of the keys in `params.keys` (`idNumber, creditCode`) goes here: none or several were given.
   */
  'exactly_one_of',
  /** The licence type is not in the catalogue. */
  'unknown_licence_type',
  /** An end before its start (`validUntil`, `to`, `issuedTo`). */
  'before_start',
  /** A phone needed to send a code was not given. */
  'phone_required',
  /** The text-message code was not given, though a phone was. */
  'code_required',
  /**
   * The text-message code is not the one sent, or none is to be checked (expired, used, too many tries, never
   * stored): one code for both, so that it cannot tell whether a code was stored.
   */
  'code_wrong_or_expired',
  /**
   * The licence's credential would not fit its QR code (`params.maximum`: the largest QR version, at
   * level M); named on the longest value.
   */
  'credential_too_large',
  /**
   * A free text kept or shown to others (a status change's reason, a share's purpose) holds a resident ID
   * number or a mobile number (`params.kind`: `id_number` or `mobile`); the number is never echoed.
   */
  'personal_data_in_text',
  /**
   * A name (a person's, or a licence's holder's) holds six or more digits in a row: no name does, and the
   * digits may be an ID number's or a phone's (review R72); the digits are never echoed.
   */
  'digits_in_name',
  /** A reason not named by a more precise code: the page says the value is not accepted. */
  'invalid',
] as const;
export type FieldErrorCode = (typeof fieldErrorCodes)[number];

/** One failing input, named by its path in the request (`fields.vehicleClass`, `holder`). */
export interface FieldError {
  path: string;
  message: string;
  /** Why, as a stable code pages translate; `invalid` at the edge when absent. */
  code?: FieldErrorCode;
  /** What the code's translation needs, e.g. `{ maximum: 50 }` or `{ expected: 'X' }`. */
  params?: Readonly<Record<string, string | number | boolean>>;
}

export interface ServiceErrorOptions {
  errors?: readonly FieldError[];
  cause?: unknown;
  /**
   * For an error about one value (an ID number, a credit code) thrown before its request path is known:
   * the code and parameters its `errors[]` entry gets once a caller names the path
   * ({@link fieldErrorAt}).
   */
  fieldCode?: FieldErrorCode;
  fieldParams?: FieldError['params'];
  /**
   * For a refusal for now, not for good (too many requests, a concurrent request holding what this one
   * needs, a dependency busy): when the client may try again, answered as `Retry-After` (seconds).
   */
  retryAfterSeconds?: number;
  /**
   * The licence a refusal is about when the request wrote one all the same (409 `issuer_key_withdrawn`:
   * written, but its key was withdrawn meanwhile): the problem's `licenceId` member, so that a client
   * re-issues that licence rather than issue another.
   */
  licenceId?: string;
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
  /** See {@link ServiceErrorOptions.fieldCode}. */
  readonly fieldCode?: FieldErrorCode;
  readonly fieldParams?: FieldError['params'];
  /** See {@link ServiceErrorOptions.retryAfterSeconds}. */
  readonly retryAfterSeconds?: number;
  /** See {@link ServiceErrorOptions.licenceId}. */
  readonly licenceId?: string;

  constructor(
    readonly code: string,
    message: string,
    { errors = [], cause, fieldCode, fieldParams, retryAfterSeconds, licenceId }: ServiceErrorOptions = {},
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ServiceError';
    this.errors = errors;
    if (fieldCode) this.fieldCode = fieldCode;
    if (fieldParams) this.fieldParams = fieldParams;
    if (retryAfterSeconds !== undefined) this.retryAfterSeconds = retryAfterSeconds;
    if (licenceId !== undefined) this.licenceId = licenceId;
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

  /** `code` names which limit was reached (`too_many_batches`); `too_many_requests` when unnamed. */
  declare readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number, code = 'too_many_requests') {
    super(code, message, { retryAfterSeconds });
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

  /** With `retryAfterSeconds`, the edge answers `Retry-After`. */
  constructor(message: string, code = 'temporarily_unavailable', options: ServiceErrorOptions = {}) {
    super(code, message, options);
    this.name = 'UnavailableError';
  }
}

/**
 * The service backs the caller off on purpose for a moment, nothing having failed (a status list changed
 * faster than it can be dated, shared/licence/status-list-token.ts): a 503 with `Retry-After` like any
 * {@link UnavailableError}, logged as a warning at the edge rather than as a failed request, so that the
 * on-call's error logs are not filled by a bulk revocation working as designed.
 *
 * @example
 * ```ts
 * throw new BusyError('Status list L1 changed faster than it can be dated', 'status_list_busy', { retryAfterSeconds: 1 });
 * ```
 */
export class BusyError extends UnavailableError {
  constructor(message: string, code: string, options: ServiceErrorOptions = {}) {
    super(message, code, options);
    this.name = 'BusyError';
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

/**
 * The `errors[]` entry of a value's error once its request path is known: its message, and the code and
 * parameters the error carries (see {@link ServiceErrorOptions.fieldCode}), else `invalid`.
 *
 * @example
 * ```ts
 * try { parseIdNumber(input.idNumber, now); } catch (error) { errors.push(fieldErrorAt('idNumber', error as Error)); }
 * // { path: 'idNumber', message: 'check character should be X', code: 'invalid_check_character', params: { expected: 'X' } }
 * ```
 */
export function fieldErrorAt(path: string, error: Error): FieldError {
  const coded = error instanceof ServiceError ? error : undefined;
  return {
    path,
    message: error.message,
    code: coded?.fieldCode ?? 'invalid',
    ...(coded?.fieldParams ? { params: coded.fieldParams } : {}),
  };
}

/**
 * The `params` of a zod custom issue raised for a value's error, so that {@link zodIssueCode} gives its
 * `errors[]` entry the error's code: a parser's rule survives a schema's `transform`.
 *
 * @example
 * ```ts
 * z.string().transform((value, ctx) => {
 *   try { return parseCreditCode(value); }
 *   catch (error) { ctx.addIssue({ code: 'custom', message: (error as Error).message, params: issueParams(error) }); return z.NEVER; }
 * });
 * ```
 */
export function issueParams(error: unknown): Record<string, unknown> {
  const coded = error instanceof ServiceError ? error : undefined;
  return {
    code: coded?.fieldCode ?? 'invalid',
    ...(coded?.fieldParams ? { fieldParams: coded.fieldParams } : {}),
  };
}

/** The subset of a zod 4 issue that {@link zodIssueCode} reads (kept structural: no zod import here). */
export interface ZodIssueLike {
  code: string;
  path?: readonly PropertyKey[];
  message?: string;
  input?: unknown;
  origin?: string;
  format?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  params?: Record<string, unknown>;
  /** `unrecognized_keys`: the keys the object does not have. */
  keys?: readonly string[];
  /** `invalid_union`: each branch's issues, their paths relative to the union's. */
  errors?: ReadonlyArray<readonly ZodIssueLike[]>;
}

/**
 * zod's issues with each `invalid_union` said in the terms of its branches, for a union of objects told
 * apart by their keys (the holder: `{ idNumber }` or `{ creditCode }`). zod says only `Invalid input` at
 * the union, which read `holder: invalid_value` whether the holder was a number, `{}`, both numbers or an
 * ID number of the wrong type (review R23 L2). Instead:
 *
 * 1. a value no branch takes the type of (a number, null, an array, missing): that `invalid_type` at the
 *    union (`required` when missing, as {@link zodIssueCode} says);
 * 2. a value whose keys fit one branch only (leaving aside keys no branch has): that branch's issues
 *    (`holder.idNumber: invalid_type`), unions in them explained in turn;
 * 3. otherwise (none of the branches' keys given, or those of several): `exactly_one_of` at the union,
 *    `params.keys` naming the key each branch is told by (`idNumber, creditCode`), and the keys no branch
 *    has as `unrecognized_keys`.
 *
 * Any other issue is kept as it is.
 *
 * @example
 * ```ts
 * explainUnionIssues(holderSchema.safeParse({ holder: {} }).error!.issues, { holder: {} });
 * // [{ code: 'custom', path: ['holder'], params: { code: 'exactly_one_of', fieldParams: { keys: 'idNumber, creditCode' } }, … }]
 * ```
 */
export function explainUnionIssues(issues: readonly ZodIssueLike[], input: unknown): ZodIssueLike[] {
  return issues.flatMap((issue) => explainUnion(issue, input));
}

function explainUnion(issue: ZodIssueLike, input: unknown): ZodIssueLike[] {
  const branches = issue.errors ?? [];
  if (issue.code !== 'invalid_union' || branches.length === 0) return [issue];
  const base = issue.path ?? [];
  const at = (inner: ZodIssueLike): ZodIssueLike => ({ ...inner, path: [...base, ...(inner.path ?? [])] });
  const onTop = (inner: ZodIssueLike) => (inner.path ?? []).length === 0;
  // 1. Not even of the branches' type.
  if (
    branches.every(
      (branch) => branch.length > 0 && branch.every((i) => i.code === 'invalid_type' && onTop(i)),
    )
  ) {
    return [at(branches[0]![0]!)];
  }
  // 2. The branch the value's keys were meant for.
  const unknownIn = branches.map(
    (branch) =>
      new Set(branch.flatMap((i) => (i.code === 'unrecognized_keys' && onTop(i) ? (i.keys ?? []) : []))),
  );
  const nowhere = [...unknownIn[0]!].filter((key) => unknownIn.every((keys) => keys.has(key)));
  const fitting = branches.filter((_, n) => [...unknownIn[n]!].every((key) => nowhere.includes(key)));
  if (fitting.length === 1) return fitting[0]!.flatMap((inner) => explainUnion(at(inner), input));
  // 3. The key each branch is told by: one it misses, or one it alone does not refuse.
  const missing = (branch: readonly ZodIssueLike[]) =>
    branch.flatMap((i) =>
      i.code === 'invalid_type' && i.path?.length === 1 && valueAt(input, [...base, ...i.path]) === undefined
        ? [String(i.path[0])]
        : [],
    );
  const keys = [
    ...new Set(
      branches.flatMap((branch, n) => [
        ...missing(branch),
        ...unknownIn.flatMap((refused, other) =>
          other === n ? [] : [...refused].filter((key) => !unknownIn[n]!.has(key)),
        ),
      ]),
    ),
  ];
  if (keys.length < 2) return [issue];
  return [
    {
      code: 'custom',
      path: base,
      message: `exactly one of ${keys.join(', ')}`,
      params: { code: 'exactly_one_of', fieldParams: { keys: keys.join(', ') } },
    },
    ...(nowhere.length > 0
      ? [{ code: 'unrecognized_keys', path: base, keys: nowhere, message: 'Unrecognized keys' }]
      : []),
  ];
}

/**
 * The field error code and parameters of a zod issue: a missing value is `required` (and so is a string
 * shorter than its minimum of one character), a string's bounds `too_short`/`too_long`, a number's
 * `too_small`/`too_big`, a date format `invalid_date`, other formats `invalid_format`; a custom issue
 * carries its own in `params.code` (the ID number refinement puts `invalid_check_character` there).
 *
 * @example
 * ```ts
 * zodIssueCode({ code: 'too_big', origin: 'string', maximum: 50 }); // { code: 'too_long', params: { maximum: 50 } }
 * zodIssueCode({ code: 'invalid_type', path: ['name'] }, {}); // { code: 'required' }
 * ```
 */
export function zodIssueCode(issue: ZodIssueLike, input?: unknown): Pick<FieldError, 'code' | 'params'> {
  const bound = (value: number | bigint | undefined) =>
    typeof value === 'bigint' ? Number(value) : (value ?? 0);
  const exclusive: Record<string, boolean> = issue.inclusive === false ? { exclusive: true } : {};
  switch (issue.code) {
    case 'invalid_type': {
      // zod leaves the input out of its issues: what was sent is looked up in the parsed input instead.
      const missing =
        input === undefined
          ? /received undefined$/.test(issue.message ?? '')
          : valueAt(input, issue.path ?? []) === undefined;
      return { code: missing ? 'required' : 'invalid_type' };
    }
    case 'too_small': {
      const minimum = bound(issue.minimum);
      if (issue.origin === 'string') {
        // At least one character (after trimming) is how a schema says a text is needed.
        return minimum <= 1 ? { code: 'required' } : { code: 'too_short', params: { minimum } };
      }
      if (issue.origin === 'array' || issue.origin === 'set')
        return { code: 'too_short', params: { minimum } };
      return { code: 'too_small', params: { minimum, ...exclusive } };
    }
    case 'too_big': {
      const maximum = bound(issue.maximum);
      if (issue.origin === 'string' || issue.origin === 'array' || issue.origin === 'set') {
        return { code: 'too_long', params: { maximum } };
      }
      return { code: 'too_big', params: { maximum, ...exclusive } };
    }
    case 'invalid_format':
      return {
        code:
          issue.format === 'date' || issue.format === 'datetime' || issue.format === 'time'
            ? 'invalid_date'
            : 'invalid_format',
      };
    case 'invalid_value':
    case 'invalid_union':
      return { code: 'invalid_value' };
    case 'unrecognized_keys':
      return { code: 'unknown_field' };
    case 'not_multiple_of':
      return { code: 'invalid_format' };
    case 'custom': {
      const code = issue.params?.code;
      const params = issue.params?.fieldParams;
      return {
        code: fieldErrorCodes.includes(code as FieldErrorCode) ? (code as FieldErrorCode) : 'invalid',
        ...(params && typeof params === 'object' ? { params: params as FieldError['params'] } : {}),
      };
    }
    default:
      return { code: 'invalid' };
  }
}

/**
 * The path of a member an object does not have: its key where that is a plain word (`holder.nickname`,
 * `client_secret`: ASCII letters and underscores, as every member of ours is named), else `(unknown field)` in its place. A key the caller
 * made up may be an ID number or a phone (`{"440305199108085175": …}`): it is never echoed in an answer,
 * a log or a batch job's errors (review R72-2). The one rule for every route, `POST /licences/batches`
 * included.
 *
 * @example
 * ```ts
 * unknownMemberPath(['fields'], 'gpa'); // 'fields.gpa'
 * unknownMemberPath(['fields'], '440305199108085175'); // 'fields.(unknown field)'
 * unknownMemberPath([], '13977391234'); // '(unknown field)'
 * ```
 */
export function unknownMemberPath(parent: readonly PropertyKey[], key: PropertyKey): string {
  const shown = typeof key === 'string' && /^[A-Za-z][A-Za-z_]{0,63}$/.test(key) ? key : unknownMember;
  return [...parent.map(String), shown].join('.');
}

/** What {@link unknownMemberPath} writes for a key it does not echo. */
export const unknownMember = '(unknown field)';

/** The value at a zod issue's path in the parsed input, or undefined where there is none. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = Object.hasOwn(value, key) ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return value;
}
