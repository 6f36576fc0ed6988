import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import * as z from 'zod';
import { logger } from '../../logger.js';
import type { CookieSealer } from '../sealed-cookie.js';

/** The scope of the issuer API: a console session can do nothing else. */
export const consoleScope = 'licences:issue';

/** The sealed cookie's name (also its additional data, so no other cookie's value opens as it). */
export const consoleCookie = 'console';

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
});
export type ConsoleSession = z.output<typeof consoleSession>;

/**
 * How long the sealed cookie outlives the token: long enough to tell a visitor whose token expired
 * "please sign in again" instead of silently showing the sign-in page as if never signed in.
 */
export const expiredGraceSeconds = 12 * 3600;

/** Why a sign-in failed, in terms the page can explain. */
export type SignInFailure = 'invalid_client' | 'invalid_scope' | 'unavailable';

const metadataCache = new Map<string, Promise<client.ServerMetadata>>();

/**
 * The authorization server's metadata, discovered once per container. openid-client needs a client to
 * discover; the metadata does not depend on it, so every issuer's {@link client.Configuration} is built
 * from this one answer instead of discovering again per sign-in.
 */
function serverMetadata(issuerUrl: string): Promise<client.ServerMetadata> {
  let metadata = metadataCache.get(issuerUrl);
  if (!metadata) {
    metadata = client
      .discovery(new URL(issuerUrl), 'console-discovery', undefined, client.None(), insecure(issuerUrl))
      .then((config) => config.serverMetadata());
    metadata.catch(() => metadataCache.delete(issuerUrl));
    metadataCache.set(issuerUrl, metadata);
  }
  return metadata;
}

// The local runtime serves plain http on localhost; in AWS the issuer is https.
const insecure = (issuerUrl: string) =>
  new URL(issuerUrl).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined;

async function configurationFor(
  issuerUrl: string,
  clientId: string,
  clientSecret: string,
): Promise<client.Configuration> {
  const config = new client.Configuration(
    await serverMetadata(issuerUrl),
    clientId,
    clientSecret,
    client.ClientSecretBasic(clientSecret),
  );
  if (insecure(issuerUrl)) client.allowInsecureRequests(config);
  return config;
}

/**
 * Signs an issuing agency's client in with the client-credentials grant at our own token endpoint,
 * through openid-client (so the endpoint comes from discovery and the secret is sent in the
 * Authorization header, URL-encoded as RFC 6749 2.3.1 asks, by a library that gets it right). A refusal
 * is a {@link SignInFailure}; the secret is neither kept nor logged.
 *
 * @example
 * ```ts
 * const result = await signIn(issuerUrl, 'cl_3f9a…', secret, nowSeconds);
 * if ('session' in result) setCookie(await sealSession(sealer, result.session, nowSeconds));
 * ```
 */
export async function signIn(
  issuerUrl: string,
  clientId: string,
  clientSecret: string,
  nowSeconds: number,
): Promise<{ session: ConsoleSession } | { failure: SignInFailure }> {
  try {
    const config = await configurationFor(issuerUrl, clientId, clientSecret);
    const tokens = await client.clientCredentialsGrant(config, { scope: consoleScope });
    const granted = (tokens.scope ?? consoleScope).split(' ');
    if (!granted.includes(consoleScope)) return { failure: 'invalid_scope' };
    return {
      session: {
        sid: randomBytes(24).toString('base64url'),
        accessToken: tokens.access_token,
        expiresAt: nowSeconds + (tokens.expiresIn() ?? 600),
        clientId,
      },
    };
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal) {
      logger.info('console sign-in refused', { error: refusal.error, status: refusal.status });
      return { failure: refusal.error === 'invalid_scope' ? 'invalid_scope' : 'invalid_client' };
    }
    logger.error('console sign-in failed', error instanceof Error ? error.message : String(error));
    return { failure: 'unavailable' };
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

/** Seals a session into the cookie value; it lives as long as the token plus {@link expiredGraceSeconds}. */
export function sealSession(
  sealer: CookieSealer,
  session: ConsoleSession,
  nowSeconds: number,
): Promise<string> {
  return sealer.seal(
    consoleCookie,
    session,
    Math.max(1, session.expiresAt - nowSeconds) + expiredGraceSeconds,
    nowSeconds,
  );
}
