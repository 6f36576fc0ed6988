import { epochSeconds, type Clock } from '../clock.js';
import { ForbiddenError } from '../errors.js';
import { AuthenticationError } from './api-handler.js';
import { header } from './request.js';
import type { HttpEvent } from './types.js';

/** What our API needs to know of a stored access token (the provider's opaque token record). */
export interface AccessTokenRecord {
  clientId: string;
  scope?: string;
  aud?: string | string[];
  exp?: number;
  accountId?: string;
  extra?: Record<string, unknown>;
  /** The provider grant the token was issued under (a person's consent to the client). */
  grantId?: string;
  /** Its Rich Authorization Request details (RFC 9396), as granted. */
  rar?: unknown;
  /**
   * Whether the token ends with the sign-in session it was issued in (oidc-provider's
   * `expiresWithSession`: a sign-in without `offline_access` and without a share).
   */
  expiresWithSession?: boolean;
  /**
   * For such a token: whether its session still holds it (the session is live, signed in as the token's
   * account, with the token's grant for its client, and that grant is live), read when asked. A token
   * bound to its session without this is never accepted ({@link sessionStillHolds}).
   */
  stillBound?: () => Promise<boolean>;
}

/** Finds the stored record of an opaque access token, or nothing when it is unknown or expired. */
export type AccessTokenLookup = (token: string) => Promise<AccessTokenRecord | undefined>;

export interface Caller {
  clientId: string;
  scopes: ReadonlySet<string>;
  accountId: string | undefined;
  /** Set for an issuing agency's machine client: the issuer it acts as. */
  issuerId: string | undefined;
  /** For a person's token: the `acr` of the sign-in it came from (`identity/assurance.ts`). */
  acr: string | undefined;
  /** For a person's token: when the person signed in (`auth_time`, epoch seconds), when the token says. */
  authTime: number | undefined;
  /** For a person's token: the grant it was issued under. */
  grantId: string | undefined;
  /** The token's authorization details (RFC 9396), as the provider granted them. */
  authorizationDetails: unknown;
}

/**
 * `Bearer`, then the token (RFC 6750 §2.1). The scheme is case-insensitive and followed by one or more
 * spaces (RFC 7235 §2.1): a client sending `bearer <token>` is within the standard.
 */
const bearerPattern = /^Bearer +([A-Za-z0-9\-._~+/]{20,512}=*)$/i;

/**
 * Authenticates the bearer token of a request for our API: it must be ours, unexpired, meant for this
 * API (`aud`), carry `requiredScope`, and, when it is bound to its sign-in session, that session must
 * still hold it ({@link sessionStillHolds}). A missing or bad token is a 401, a missing scope a 403.
 *
 * @example
 * ```ts
 * const caller = await authenticate(event, lookup, { audience: config.issuerUrl, requiredScope: 'admin', nowSeconds });
 * ```
 */
export async function authenticate(
  event: HttpEvent,
  lookup: AccessTokenLookup,
  /** `requiredScope`: one scope, or a list of which the token must carry at least one. */
  options: {
    audience: string;
    requiredScope: string | readonly string[];
    nowSeconds: number;
    /**
     * What the route's caller should have asked for, added to the 401 of a token not meant for this API
     * (a sign-in's token for userinfo alone): the bare refusal left integrators guessing.
     */
    askFor?: string;
  },
): Promise<Caller> {
  const authorization = header(event, 'authorization');
  if (!authorization) {
    throw new AuthenticationError(
      'invalid_request',
      401,
      'An access token is required: Authorization: Bearer <token>',
    );
  }
  const token = bearerPattern.exec(authorization)?.[1];
  if (!token)
    throw new AuthenticationError('invalid_token', 401, 'The Authorization header is not a Bearer token');

  const record = await lookup(token);
  if (!record || record.exp === undefined || record.exp <= options.nowSeconds) {
    throw new AuthenticationError('invalid_token', 401, 'The access token is unknown, revoked or expired');
  }
  const audiences = Array.isArray(record.aud) ? record.aud : record.aud ? [record.aud] : [];
  if (!audiences.includes(options.audience)) {
    throw new AuthenticationError(
      'invalid_token',
      401,
      `The access token is not meant for this API${options.askFor ? `: ${options.askFor}` : ''}`,
    );
  }
  const scopes = new Set((record.scope ?? '').split(' ').filter(Boolean));
  const accepted =
    typeof options.requiredScope === 'string' ? [options.requiredScope] : options.requiredScope;
  if (!accepted.some((scope) => scopes.has(scope))) {
    throw new AuthenticationError(
      'insufficient_scope',
      403,
      `The access token lacks the scope ${accepted.join(' or ')}`,
    );
  }
  // Last, so that a token refused for its audience or scope costs no read of its session.
  if (!(await sessionStillHolds(record))) {
    throw new AuthenticationError('invalid_token', 401, 'The access token is unknown, revoked or expired');
  }
  const issuerId = record.extra?.issuer_id;
  const acr = record.extra?.acr;
  const authTime = record.extra?.auth_time;
  return {
    clientId: record.clientId,
    scopes,
    accountId: record.accountId,
    issuerId: typeof issuerId === 'string' ? issuerId : undefined,
    acr: typeof acr === 'string' ? acr : undefined,
    authTime: typeof authTime === 'number' ? authTime : undefined,
    grantId: typeof record.grantId === 'string' ? record.grantId : undefined,
    authorizationDetails: record.rar,
  };
}

/**
 * Whether `record`'s sign-in session still holds it: always for a token not bound to a session (a machine
 * client's, one with `offline_access`, a share's); for one bound to its session, only while that session
 * lasts with the token's grant, as the provider's own endpoints check it (userinfo, introspection). So a
 * logout, or the switch to acting for an enterprise (which ends the session), ends the token at our API
 * too, not only when its `exp` comes. Fails closed: a session-bound record that cannot say is refused.
 *
 * @example
 * ```ts
 * if (!(await sessionStillHolds(record))) throw new AuthenticationError('invalid_token', 401, '…');
 * ```
 */
export async function sessionStillHolds(record: AccessTokenRecord): Promise<boolean> {
  if (!record.expiresWithSession) return true;
  return record.stillBound !== undefined && (await record.stillBound());
}

/** What {@link authenticateBearer} reads: the token store, the API's own URL (the audience) and the clock. */
export interface BearerDependencies {
  accessTokens: AccessTokenLookup;
  config: { issuerUrl: string };
  clock: Clock;
}

/**
 * The caller of one of our API's routes, by its bearer token with `requiredScope` ({@link authenticate}):
 * the token is meant for this API (the audience is ISSUER_URL) and unexpired at the dependencies' clock.
 *
 * @example
 * ```ts
 * const caller = await authenticateBearer(event, 'licences:issue', deps); // 401 or 403 otherwise
 * ```
 */
export function authenticateBearer(
  event: HttpEvent,
  requiredScope: string | readonly string[],
  deps: BearerDependencies,
  /** Said in the 401 of a token not meant for this API: what to ask for instead ({@link authenticate}). */
  askFor?: string,
): Promise<Caller> {
  return authenticate(event, deps.accessTokens, {
    audience: deps.config.issuerUrl,
    requiredScope,
    nowSeconds: epochSeconds(deps.clock),
    ...(askFor && { askFor }),
  });
}

/**
 * `caller`, which must stand for a signed-in person (a token of a sign-in, not of a client): 403
 * `not_a_person` otherwise.
 *
 * @example
 * ```ts
 * const { accountId } = personOf(await authenticateBearer(event, 'licences', deps));
 * ```
 */
export function personOf(caller: Caller): Caller & { accountId: string } {
  if (!caller.accountId) {
    throw new ForbiddenError('This token does not stand for a signed-in person', 'not_a_person');
  }
  return caller as Caller & { accountId: string };
}

/**
 * The signed-in person calling a holder route (`/me/…`): a token with scope `licences` ({@link authenticateBearer}),
 * standing for a person ({@link personOf}).
 *
 * @example
 * ```ts
 * const caller = await authenticatePerson(event, deps);
 * ```
 */
export async function authenticatePerson(
  event: HttpEvent,
  deps: BearerDependencies,
): Promise<Caller & { accountId: string }> {
  return personOf(
    await authenticateBearer(
      event,
      'licences',
      deps,
      'sign the person in with the scope licences (with openid)',
    ),
  );
}
