import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  DependencyError,
  ForbiddenError,
  InternalError,
  InvalidInputError,
  NotFoundError,
  TooLargeError,
  TooManyRequestsError,
  UnauthenticatedError,
  UnavailableError,
  BusyError,
  UnsupportedMediaTypeError,
  UriTooLongError,
  invalidRequest,
  type ErrorKind,
  type ServiceError,
} from '../../../shared/errors.js';
import { AuthenticationError, errorResult } from '../../../shared/http/api-handler.js';
import { errorKindOfStatus, httpStatusOf, statusOfKind } from '../../../shared/http/error-mapping.js';
import { InvalidCreditCodeError } from '../../../shared/identifiers/credit-code.js';
import { InvalidIdNumberError } from '../../../shared/identifiers/id-number.js';
import { InvalidLicenceIdError } from '../../../shared/identifiers/licence-id.js';
import { requireSignInNotEnded } from '../../../shared/identity/person-account.js';
import { InvalidFieldsError } from '../../../shared/licence/catalogue.js';
import { InsufficientAssuranceError } from '../../../shared/licence/licence-reader.js';
import { QrCapacityError } from '../../../shared/licence/qr.js';
import { InvalidPasswordHashError } from '../../../shared/adapters/scrypt/password-hasher.js';
import { logger } from '../../../shared/logger.js';
import { loggedLines } from '../../support/logged-lines.js';
import { ApiProblem, TokenRejectedError } from '../../../shared/web/console/issuer-api.js';
import { CrossSiteError } from '../../../shared/web/kit/form.js';
import { InvalidDiscloseError } from '../../../shared/web/wallet/disclose.js';
import { HolderApiUnavailableError, SessionEndedError } from '../../../shared/web/wallet/holder-api.js';

const requestId = 'req-1';
const fieldErrors = [{ path: 'ttlSeconds', message: 'must be 30 to 600' }];

/** What the API answers for `error`: its status, headers and parsed problem document. */
function answer(error: unknown) {
  const result = errorResult(error, requestId);
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    body: JSON.parse(String(result.body)) as Record<string, unknown>,
  };
}

const refusals: Array<{ error: ServiceError; status: number; title: string }> = [
  { error: invalidRequest(fieldErrors), status: 400, title: 'Bad Request' },
  { error: new InvalidInputError('bad', 'invalid_validity'), status: 400, title: 'Bad Request' },
  { error: new InvalidFieldsError('bad fields', fieldErrors), status: 400, title: 'Bad Request' },
  { error: new InvalidIdNumberError('bad check digit'), status: 400, title: 'Bad Request' },
  { error: new InvalidCreditCodeError('bad check character'), status: 400, title: 'Bad Request' },
  { error: new InvalidLicenceIdError('bad licence id'), status: 400, title: 'Bad Request' },
  { error: new InvalidDiscloseError(fieldErrors), status: 400, title: 'Bad Request' },
  { error: new UnauthenticatedError('signed out', 'signed_out'), status: 401, title: 'Unauthorized' },
  { error: new SessionEndedError(), status: 401, title: 'Unauthorized' },
  { error: new TokenRejectedError(), status: 401, title: 'Unauthorized' },
  { error: new ForbiddenError('not yours', 'not_an_issuer'), status: 403, title: 'Forbidden' },
  { error: new CrossSiteError(), status: 403, title: 'Forbidden' },
  { error: new InsufficientAssuranceError('urn:x:loa:3'), status: 403, title: 'Forbidden' },
  { error: new NotFoundError('none', 'licence_not_found'), status: 404, title: 'Not Found' },
  { error: new ConflictError('taken', 'issuer_exists'), status: 409, title: 'Conflict' },
  // A stored licence too large for a QR code (issued before issuance checked): its state, not a fault.
  { error: new QrCapacityError(9000), status: 409, title: 'Conflict' },
  { error: new TooLargeError('too big'), status: 413, title: 'Content Too Large' },
  { error: new UriTooLongError('too long'), status: 414, title: 'URI Too Long' },
  { error: new UnsupportedMediaTypeError('not JSON'), status: 415, title: 'Unsupported Media Type' },
  {
    error: new ApiProblem(409, { code: 'licence_revoked', detail: 'revoked' }),
    status: 409,
    title: 'Conflict',
  },
];

describe('the one mapping of error kinds to HTTP statuses', () => {
  // The faults below are logged as errors by design; keep the test output to the results.
  const level = logger.getLevelName();
  beforeAll(() => logger.setLogLevel('SILENT'));
  afterAll(() => logger.setLogLevel(level));

  it.each(refusals)('answers $error.name $error.code with $status and its problem document', (refusal) => {
    const { error, status, title } = refusal;
    expect(httpStatusOf(error)).toBe(status);
    const { status: answered, headers, body } = answer(error);
    expect(answered).toBe(status);
    expect(headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(headers).not.toHaveProperty('retry-after');
    // Every 401 tells how to authenticate (RFC 7235 §3.1), the scheme alone for a code of no token's.
    expect(headers['www-authenticate']).toBe(status === 401 ? 'Bearer' : undefined);
    expect(body).toEqual({
      type: `urn:elicence:problem:${error.code}`,
      title,
      status,
      detail: error.message,
      code: error.code,
      // Each entry answers a code: its own, else `invalid` (the generic one pages translate).
      ...(error.errors.length > 0 ? { errors: error.errors.map((e) => ({ code: 'invalid', ...e })) } : {}),
      requestId,
    });
  });

  it('names each failing path of an invalid request in `errors`', () => {
    expect(answer(invalidRequest(fieldErrors)).body).toMatchObject({
      status: 400,
      code: 'invalid_request',
      detail: 'Invalid request: ttlSeconds: must be 30 to 600',
      errors: fieldErrors,
    });
  });

  it('answers a request that holds the same Idempotency-Key with 409 and Retry-After (it ends within seconds)', () => {
    const { status, headers, body } = answer(
      new ConflictError('in progress', 'idempotency_key_in_use', { retryAfterSeconds: 1 }),
    );
    expect([status, headers['retry-after']]).toEqual([409, '1']);
    expect(body).toMatchObject({ status: 409, code: 'idempotency_key_in_use' });
    expect(answer(new ConflictError('for good', 'idempotency_key_reused')).headers).not.toHaveProperty(
      'retry-after',
    );
  });

  it('answers too many requests with 429 and Retry-After', () => {
    const { status, headers, body } = answer(new TooManyRequestsError('slow down', 7));
    expect([status, headers['retry-after']]).toEqual([429, '7']);
    expect(body).toMatchObject({ status: 429, code: 'too_many_requests', title: 'Too Many Requests' });
  });

  it.each([
    {
      code: 'invalid_token',
      status: 401,
      challenge: 'Bearer error="invalid_token", error_description="Expired"',
    },
    { code: 'invalid_request', status: 401, challenge: 'Bearer' },
    {
      code: 'insufficient_scope',
      status: 403,
      challenge: 'Bearer error="insufficient_scope", error_description="Expired"',
    },
  ] as const)('answers an authentication refusal $code with $status and WWW-Authenticate', (c) => {
    const error = new AuthenticationError(c.code, c.status, 'Expired');
    expect(httpStatusOf(error)).toBe(c.status);
    const { status, headers, body } = answer(error);
    expect([status, headers['www-authenticate']]).toEqual([c.status, c.challenge]);
    expect(body).toMatchObject({ status: c.status, code: c.code, detail: 'Expired' });
  });

  it.each([
    {
      sent: 'Bearer',
      headers: { authorization: 'Bearer wallet-token' },
      challenge:
        'Bearer error="invalid_token", error_description="The access token is unknown, revoked or expired"',
    },
    // A DPoP-bound token is accepted only sent so: the challenge in its scheme, with the proofs' algorithms.
    {
      sent: 'DPoP',
      headers: { Authorization: 'DPoP wallet-token', DPoP: 'eyJ.proof.sig' },
      challenge:
        'DPoP error="invalid_token", error_description="The access token is unknown, revoked or expired", algs="ES256 Ed25519 EdDSA"',
    },
  ])(
    'answers a token refused past authenticate (a sign-in the last reset ended) with a $sent challenge',
    ({ headers, challenge }) => {
      const ended = (() => {
        try {
          requireSignInNotEnded(
            { signInsEnded: { at: '2026-05-28T20:26:41.500Z', version: 7 } },
            1_780_000_000,
          );
        } catch (error) {
          return error;
        }
        throw new Error('not refused');
      })();
      const result = errorResult(ended, requestId, { headers });
      expect([result.statusCode, result.headers?.['www-authenticate']]).toEqual([401, challenge]);
      expect(JSON.parse(String(result.body))).toMatchObject({ status: 401, code: 'invalid_token' });
    },
  );

  const generic = 'The service could not complete the request; quote the request id when reporting it';

  it.each([
    { error: new InternalError('KMS returned no MAC', 'kms_no_mac'), status: 500, code: 'server_error' },
    { error: new InvalidPasswordHashError('not a scrypt hash'), status: 500, code: 'server_error' },
    // A dependency's failure names its code (which dependency), never its message.
    {
      error: new DependencyError('down: 10.0.0.7', 'peer_unreachable'),
      status: 502,
      code: 'peer_unreachable',
    },
    { error: new HolderApiUnavailableError('down'), status: 502, code: 'holder_api_unavailable' },
    {
      error: new UnavailableError('contended', 'status_list_contended'),
      status: 503,
      code: 'temporarily_unavailable',
    },
  ])('keeps the message of a fault inside: $error.name answers $status $code', ({ error, status, code }) => {
    expect(error.expose).toBe(false);
    expect(httpStatusOf(error)).toBe(status);
    const { status: answered, headers, body } = answer(error);
    expect(answered).toBe(status);
    expect(headers).not.toHaveProperty('retry-after');
    expect(body).toEqual({
      type: `urn:elicence:problem:${code}`,
      title: status === 503 ? 'Service Unavailable' : 'Internal Server Error',
      status,
      detail: generic,
      code,
      requestId,
    });
  });

  it('answers a deliberate back-off with 503 and Retry-After, logged as a warning, not a failed request', async () => {
    const busy = new BusyError('Status list L1 changed faster than it can be dated', 'status_list_busy', {
      retryAfterSeconds: 2,
    });
    let answered: ReturnType<typeof answer> | undefined;
    const before = logger.getLevelName();
    logger.setLogLevel('WARN');
    try {
      const lines = await loggedLines(async () => {
        answered = answer(busy);
      });
      expect(lines.map((line) => JSON.parse(line) as object)).toEqual([
        expect.objectContaining({ level: 'WARN', message: 'request backed off', code: 'status_list_busy' }),
      ]);
    } finally {
      logger.setLogLevel(before as Parameters<typeof logger.setLogLevel>[0]);
    }
    expect(answered).toMatchObject({
      status: 503,
      headers: { 'retry-after': '2' },
      body: { code: 'temporarily_unavailable', detail: generic },
    });
  });

  it('answers any other error with a generic 500', () => {
    const { status, body } = answer(new Error('internal detail'));
    expect(status).toBe(500);
    expect(body).toMatchObject({ code: 'server_error', detail: generic });
  });

  it('exposes the message of every refusal and of no fault', () => {
    for (const { error } of refusals) expect(error.expose).toBe(true);
    expect(new TooManyRequestsError('slow down', 1).expose).toBe(true);
  });

  it('gives each kind its own status, and relays an upstream status as the kind it stands for', () => {
    const kinds = Object.keys(statusOfKind) as ErrorKind[];
    expect(new Set(Object.values(statusOfKind)).size).toBe(kinds.length);
    for (const kind of kinds) expect(errorKindOfStatus(statusOfKind[kind])).toBe(kind);
    for (const status of [400, 401, 403, 404, 409, 413, 414, 415, 429]) {
      expect(httpStatusOf(new ApiProblem(status, { code: 'relayed' }))).toBe(status);
    }
  });
});
