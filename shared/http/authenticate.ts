import { createHash } from 'node:crypto';
import { epochSeconds, type Clock } from '../clock.js';
import { ForbiddenError } from '../errors.js';
import { AuthenticationError } from './api-handler.js';
import { dpopProofWindowSeconds, type DpopProofLedger } from './dpop.js';
import type { DpopProof } from './dpop-proof.js';
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
   * For a token bound to a DPoP key (RFC 9449; issued to a request with a DPoP proof): that key's
   * thumbprint (RFC 7638), as oidc-provider stores it. Such a token is accepted only with the DPoP scheme
   * and a proof by that key, never as a bare Bearer token.
   */
  jkt?: unknown;
  /**
   * For a token bound to a client certificate (RFC 8705): its thumbprint. The provider issues none (no
   * mutual TLS here), and this API could not check one: such a token is refused.
   */
  'x5t#S256'?: unknown;
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
 * `Bearer` or `DPoP`, then the token (RFC 6750 §2.1, RFC 9449 §7.1). The scheme is case-insensitive and
 * followed by one or more spaces (RFC 7235 §2.1): a client sending `bearer <token>` is within the standard.
 */
const authorizationPattern = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]{20,512}=*)$/i;

/** The scheme of an `Authorization` header that names ours, whatever follows it. */
const schemePattern = /^(Bearer|DPoP) +\S/i;

/** What a token we cannot use is told, whether unknown, malformed, revoked or expired. */
const unknownTokenMessage = 'The access token is unknown, revoked or expired';

/** What {@link authenticate} needs for a DPoP request: where proofs are marked used, and our public URL. */
export interface DpopCheck {
  proofs: DpopProofLedger;
  /** The public base URL (ISSUER_URL): a proof's `htu` is its origin and the request's path. */
  publicUrl: string;
}

/**
 * Authenticates the access token of a request for our API: it must be ours, unexpired, meant for this
 * API (`aud`), carry `requiredScope`, and, when it is bound to its sign-in session, that session must
 * still hold it ({@link sessionStillHolds}). A missing or bad token is a 401, a missing scope a 403.
 *
 * A token bound to a DPoP key (RFC 9449, its `jkt`) is accepted only as `Authorization: DPoP <token>`
 * with a `DPoP` proof signed by that key for this request ({@link DpopCheck}; `./dpop-proof.ts`), used
 * once; sent as a bare Bearer token it is refused, whoever holds a copy of it. A token not bound to a key
 * is accepted only as Bearer, and its check makes the same table calls as before DPoP: none for the
 * proof. Refusals of a DPoP request, and of a bound token, challenge in the DPoP scheme: `invalid_token`
 * for the token, `invalid_dpop_proof` for the proof.
 *
 * @example
 * ```ts
 * const caller = await authenticate(event, lookup, {
 *   audience: config.issuerUrl, requiredScope: 'admin', nowSeconds, dpop: { proofs, publicUrl: config.issuerUrl },
 * });
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
    dpop: DpopCheck;
  },
): Promise<Caller> {
  // 1. The header: a scheme we take and a token.
  const authorization = header(event, 'authorization');
  if (!authorization) {
    throw new AuthenticationError(
      'invalid_request',
      401,
      'An access token is required: Authorization: Bearer <token>',
    );
  }
  const match = authorizationPattern.exec(authorization);
  if (!match) {
    // `Bearer bogus` is a Bearer token, only not one of ours: answered as an unknown token is (review
    // R25, L7: it was told "not a Bearer token"), and with the same words, so that the answer tells no
    // more of what our tokens look like. Only another scheme (`Basic …`) is told the header is wrong.
    const scheme = schemePattern.exec(authorization)?.[1];
    throw new AuthenticationError(
      'invalid_token',
      401,
      scheme
        ? unknownTokenMessage
        : 'The Authorization header is not of the Bearer or DPoP scheme: send Authorization: Bearer <token>',
      scheme?.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
    );
  }
  const token = match[2]!;
  const scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';

  // 2. The token's read goes out at once, in this tick, as for a Bearer token: a function that reads
  // something else alongside (POST /verify, the licence) still sends both in one batch.
  const found = lookup(token);

  // 3. A DPoP request's proof, checked meanwhile. Its module (and jose) is loaded by the first such
  // request only, so a Bearer request's cold start does not pay for it.
  let proof: DpopProof | undefined;
  if (scheme === 'DPoP') {
    try {
      const { verifyDpopProof } = await import('./dpop-proof.js');
      proof = await verifyDpopProof(header(event, 'dpop'), {
        method: event.requestContext?.http?.method ?? '',
        // The public origin and the path as the gateway hands it, never the Host or X-Forwarded-*
        // headers (a client's to forge); joined as text, so that a path starting `//` names no other host.
        url: `${new URL(options.dpop.publicUrl).origin}${event.rawPath ?? '/'}`,
        accessToken: token,
        nowSeconds: options.nowSeconds,
      });
    } catch (error) {
      // The read's own failure, if any, is not this request's answer (nor an unhandled rejection).
      found.catch(() => undefined);
      throw error;
    }
  }

  // 4. The token: ours, live, sent as its binding says.
  const record = await found;
  if (!record || record.exp === undefined || record.exp <= options.nowSeconds) {
    throw new AuthenticationError('invalid_token', 401, unknownTokenMessage, scheme);
  }
  checkBinding(record, proof);

  // 5. Meant for this API, with the scope the route needs.
  const audiences = Array.isArray(record.aud) ? record.aud : record.aud ? [record.aud] : [];
  if (!audiences.includes(options.audience)) {
    throw new AuthenticationError(
      'invalid_token',
      401,
      `The access token is not meant for this API${options.askFor ? `: ${options.askFor}` : ''}`,
      scheme,
    );
  }
  const scopes = new Set((record.scope ?? '').split(' ').filter(Boolean));
  const accepted =
    typeof options.requiredScope === 'string' ? [options.requiredScope] : options.requiredScope;
  if (!accepted.some((scope) => scopes.has(scope))) {
    throw new AuthenticationError(
      'insufficient_scope',
      403,
      // A token with no scope at all was asked for none (a client-credentials request naming a
      // `resource` but no `scope`): say what to ask for, not only what is missing.
      scopes.size === 0
        ? `The access token carries no scope: ask the token endpoint for scope=${accepted.join(' or scope=')}`
        : `The access token lacks the scope ${accepted.join(' or ')}`,
      scheme,
    );
  }
  // 6. Last, so that a token refused for its audience or scope costs no read of its session.
  if (!(await sessionStillHolds(record))) {
    throw new AuthenticationError('invalid_token', 401, unknownTokenMessage, scheme);
  }
  // 7. The proof used once: marked after every other check, so that a refused request writes nothing.
  if (proof) await markProofUsed(proof, options.dpop.proofs, options.nowSeconds);

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
 * Whether `record` may be used as it was sent: a token bound to a DPoP key only with a proof by that key
 * (RFC 9449 §7.2: a bound token sent as Bearer is refused, or a copy of it would need no key), a token
 * bound to nothing only without a proof (§7.1: the provider's userinfo refuses it too), and a token bound
 * to a certificate never (no mutual TLS here). Fails closed: a binding of any other shape is a key we
 * cannot match.
 */
function checkBinding(record: AccessTokenRecord, proof: DpopProof | undefined): void {
  if (record['x5t#S256'] !== undefined) {
    throw new AuthenticationError(
      'invalid_token',
      401,
      'The access token is bound to a client certificate, which this API does not check',
      proof ? 'DPoP' : 'Bearer',
    );
  }
  if (record.jkt === undefined) {
    if (proof) {
      throw new AuthenticationError(
        'invalid_token',
        401,
        'The access token is not bound to a DPoP key: send it as Authorization: Bearer <token>',
        'DPoP',
      );
    }
    return;
  }
  if (!proof) {
    throw new AuthenticationError(
      'invalid_token',
      401,
      'The access token is bound to a DPoP key: send it as Authorization: DPoP <token>, with a DPoP proof',
      'DPoP',
    );
  }
  if (typeof record.jkt !== 'string' || record.jkt !== proof.thumbprint) {
    throw new AuthenticationError(
      'invalid_dpop_proof',
      401,
      'The DPoP proof is not signed by the key the access token is bound to',
      'DPoP',
    );
  }
}

/**
 * Marks `proof` used in `proofs`, or refuses it as used already (RFC 9449 §11.1). Keyed by the SHA-256
 * of its key's thumbprint and its `jti`, so that one client's ids never collide with another's, and kept
 * until the proof's `iat` window has passed, after which the proof is refused for its age anyway.
 */
async function markProofUsed(proof: DpopProof, proofs: DpopProofLedger, nowSeconds: number): Promise<void> {
  const proofId = createHash('sha256').update(`${proof.thumbprint}.${proof.jti}`).digest('base64url');
  if (!(await proofs.markUsed(proofId, proof.iat + dpopProofWindowSeconds + 1, nowSeconds))) {
    throw new AuthenticationError(
      'invalid_dpop_proof',
      401,
      'The DPoP proof was used already: make a new proof for each request',
      'DPoP',
    );
  }
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

/**
 * What {@link authenticateBearer} reads: the token store, the API's own URL (the audience, and the base of
 * a DPoP proof's `htu`), the clock, and where DPoP proofs are marked used.
 */
export interface BearerDependencies {
  accessTokens: AccessTokenLookup;
  config: { issuerUrl: string };
  clock: Clock;
  dpopProofs: DpopProofLedger;
}

/**
 * The caller of one of our API's routes, by its access token with `requiredScope` ({@link authenticate}):
 * the token is meant for this API (the audience is ISSUER_URL) and unexpired at the dependencies' clock;
 * a DPoP-bound one comes with a proof for this request, marked used in `deps.dpopProofs`.
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
    dpop: { proofs: deps.dpopProofs, publicUrl: deps.config.issuerUrl },
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
