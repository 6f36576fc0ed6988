import { relayedAddressHeader } from '../kit/relayed-address.js';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { configurationFor } from '../relying-party.js';
import * as z from 'zod';
import { logger } from '../../logger.js';
import type { CookieSealer } from '../kit/sealed-cookie.js';

/** The scope of the issuer API: a console session can do nothing else. */
export const consoleScope = 'licences:issue';

/** The sealed cookie's name (also its additional data, so no other cookie's value opens as it). */
export const consoleCookie = 'console';

/** The sealed cookie of a clerk's sign-in under way (PKCE verifier, `state`, `nonce`). */
export const consoleLoginCookie = 'console-login';

/**
 * What a clerk's sign-in asks the provider for: OpenID, acting for an entity (the agency), and the
 * issuer API. The agency's credit code and the clerk's pairwise subject come in the ID token.
 */
export const clerkScope = 'openid entity licences:issue';

/** The scope of the supervision API: the supervision console's sessions can do nothing else. */
export const supervisionScope = 'supervision';

/** The supervision console's sealed cookie (a session of its own, beside the issuer console's). */
export const supervisionCookie = 'supervision';

/**
 * What the console keeps between requests, sealed in the visitor's browser: the access token, its
 * expiry and the client id (to greet and to prefill). Never the client secret: it is used once, for the
 * token request, and forgotten.
 */
export const consoleSession = z.strictObject({
  /** The server-side registration of this session (`SessionRegistry`): closed at sign-out. */
  sid: z.string().min(16).max(64),
  accessToken: z.string().min(1).max(2000),
  /** Epoch seconds. */
  expiresAt: z.number().int(),
  clientId: z.string().min(1).max(200),
  /**
   * The issuer the client signs for (the token's `issuer_id`, read once at sign-in by introspection): the
   * console offers only the licence types its trust-list entry lists. Absent for a supervisor's session,
   * or when the provider would not say.
   */
  issuerId: z.string().min(1).max(200).optional(),
  /**
   * A counter clerk's session (signed in through the unified identity, acting for the agency): their
   * reference (as the audit trail names them) and the agency's name, to greet. Absent for a session of an
   * OAuth client (the supervisor's, or an agency's while `CONSOLE_CLIENT_SECRET_SIGN_IN` is on). The
   * `clientId` of a clerk's session is the console's own (`elicence-console`).
   */
  clerk: z.strictObject({ reference: z.string().min(1).max(200), agency: z.string().max(300) }).optional(),
});
export type ConsoleSession = z.output<typeof consoleSession>;

/**
 * How long the sealed cookie outlives the token: long enough to tell a visitor whose token expired
 * "please sign in again" instead of silently showing the sign-in page as if never signed in.
 */
export const expiredGraceSeconds = 12 * 3600;

/** Why a sign-in failed, in terms the page can explain. */
export type SignInFailure = 'invalid_client' | 'invalid_scope' | 'throttled' | 'unavailable';

/**
 * Signs a console's client in (an issuing agency's, or with `scope` `supervision` a supervisor's) with the
 * client-credentials grant at our own token endpoint,
 * through openid-client (so the endpoint comes from discovery and the secret is sent in the
 * Authorization header, URL-encoded as RFC 6749 2.3.1 asks, by a library that gets it right). A refusal
 * is a {@link SignInFailure}; the secret is neither kept nor logged.
 *
 * @example
 * ```ts
 * const result = await signIn(issuerUrl, 'cl_3f9a…', secret, nowSeconds, await relayed.vouch(sourceIp, 'cl_3f9a…'));
 * if ('session' in result) setCookie(await sealSession(sealer, result.session, nowSeconds));
 * ```
 */
export async function signIn(
  issuerUrl: string,
  clientId: string,
  clientSecret: string,
  nowSeconds: number,
  relayedFor?: string,
  scope: string = consoleScope,
): Promise<{ session: ConsoleSession } | { failure: SignInFailure; retryAfterSeconds?: number }> {
  try {
    const config = await configurationFor(issuerUrl, clientId, clientSecret);
    if (relayedFor) {
      // The visitor's address, vouched for (`web/kit/relayed-address.ts`): the token endpoint then throttles
      // failed sign-ins per visitor, not per console.
      config[client.customFetch] = (url, options) =>
        fetch(url, {
          ...options,
          // The library's body type is wider than the DOM's (a Uint8Array view); it sends a string here.
          body: options.body as BodyInit | undefined,
          headers: { ...options.headers, [relayedAddressHeader]: relayedFor },
        });
    }
    const tokens = await client.clientCredentialsGrant(config, { scope });
    const granted = (tokens.scope ?? scope).split(' ');
    if (!granted.includes(scope)) return { failure: 'invalid_scope' };
    const issuerId = scope === consoleScope ? await issuerOfToken(config, tokens.access_token) : undefined;
    return {
      session: {
        sid: randomBytes(24).toString('base64url'),
        accessToken: tokens.access_token,
        expiresAt: nowSeconds + (tokens.expiresIn() ?? 600),
        clientId,
        ...(issuerId ? { issuerId } : {}),
      },
    };
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal) {
      logger.info('console sign-in refused', { error: refusal.error, status: refusal.status });
      // The token endpoint throttles failed client authentications (429, Retry-After): not a wrong
      // secret, and the person should be told to wait rather than to retype it.
      if (refusal.status === 429) {
        const header =
          error instanceof client.ResponseBodyError ? error.response.headers.get('retry-after') : null;
        const retryAfter = header === null ? NaN : Number(header);
        return {
          failure: 'throttled',
          retryAfterSeconds: Number.isInteger(retryAfter) && retryAfter > 0 ? retryAfter : 60,
        };
      }
      return { failure: refusal.error === 'invalid_scope' ? 'invalid_scope' : 'invalid_client' };
    }
    logger.error('console sign-in failed', error instanceof Error ? error.message : String(error));
    return { failure: 'unavailable' };
  }
}

/**
 * The issuer an issuer client's token names (`issuer_id`, shared/sso/provider.ts), by introspecting it
 * while the secret is still at hand (the token is opaque, and the console never keeps the secret).
 * Undefined if the provider does not say: the console then offers every type and the API decides.
 */
async function issuerOfToken(config: client.Configuration, accessToken: string): Promise<string | undefined> {
  try {
    const introspected = await client.tokenIntrospection(config, accessToken);
    const issuerId = introspected['issuer_id'];
    return introspected.active && typeof issuerId === 'string' && issuerId.length <= 200
      ? issuerId
      : undefined;
  } catch (error) {
    logger.warn('console token not introspected', {
      error: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

/** The OAuth error of a token endpoint refusal (a JSON body or, for a 401, a WWW-Authenticate challenge). */
function refusalOf(error: unknown): { error: string; status: number } | undefined {
  if (error instanceof client.ResponseBodyError) return { error: error.error, status: error.status };
  if (error instanceof client.WWWAuthenticateChallengeError) {
    const challenge = error.cause.find((c) => c.parameters.error);
    return { error: challenge?.parameters.error ?? 'invalid_client', status: error.status };
  }
  return undefined;
}

/** How long the cookie of `session` lives: as long as its token, plus {@link expiredGraceSeconds}. */
export function sessionLifetimeSeconds(session: ConsoleSession, nowSeconds: number): number {
  return Math.max(1, session.expiresAt - nowSeconds) + expiredGraceSeconds;
}

/** Seals a session into the cookie value, for {@link sessionLifetimeSeconds}. */
export function sealSession(
  sealer: CookieSealer,
  session: ConsoleSession,
  nowSeconds: number,
): Promise<string> {
  return sealer.seal(consoleCookie, session, sessionLifetimeSeconds(session, nowSeconds), nowSeconds);
}
