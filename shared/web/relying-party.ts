import * as client from 'openid-client';
import * as z from 'zod';
import { InvalidInputError } from '../errors.js';
import type { HttpEvent } from '../http/types.js';

/** What a sign-in started by {@link RelyingParty.begin} must find again at the callback (kept sealed). */
export const pendingLogin = z.strictObject({
  state: z.string().max(100),
  nonce: z.string().max(100),
  verifier: z.string().max(200),
  /** Where to go after signing in: a local path only. */
  returnTo: z
    .string()
    .max(500)
    .regex(/^\/(?!\/)/)
    .optional(),
});
export type PendingLogin = z.output<typeof pendingLogin>;

export interface SignedIn {
  accessToken: string;
  /** Epoch seconds. */
  accessTokenExpiresAt: number;
  refreshToken?: string;
  idToken: string;
  claims: client.IDToken;
  /** The authorization details (RFC 9396) the token response granted, when the request asked for some. */
  authorizationDetails?: unknown;
}

export interface RelyingPartyOptions {
  /** Our own issuer: the pages sign in through the same OpenID provider as every other platform. */
  issuerUrl: string;
  clientId: string;
  clientSecret: () => Promise<string>;
  redirectUri: string;
}

/**
 * The web pages' side of OpenID Connect, through `openid-client` (a certified relying-party library):
 * authorization code with PKCE S256, `state` and `nonce`, the client authenticated with its secret, the
 * ID token's issuer, audience, nonce and expiry checked (it comes straight from the token endpoint over
 * TLS, so, as OpenID Connect Core 3.1.3.7 allows, its signature is not fetched and checked again). The pages are ordinary platforms of
 * our own provider; they hold no privilege the provider would not give any other client.
 *
 * Discovery runs once per container, on first use, and is shared with every other client built here.
 *
 * @example
 * ```ts
 * const rp = new RelyingParty({ issuerUrl, clientId: 'wallet', clientSecret, redirectUri });
 * const { url, pending } = await rp.begin('openid licences');
 * // … redirect to url, keep pending sealed, then at the callback:
 * const signedIn = await rp.finish(event, pending);
 * ```
 */
export class RelyingParty {
  #config: Promise<client.Configuration> | undefined;

  constructor(private readonly options: RelyingPartyOptions) {}

  configuration(): Promise<client.Configuration> {
    this.#config ??= this.discover();
    this.#config.catch(() => (this.#config = undefined));
    return this.#config;
  }

  async begin(
    scope: string,
    extra: Record<string, string> = {},
    returnTo?: string,
  ): Promise<{ url: string; pending: PendingLogin }> {
    const config = await this.configuration();
    const verifier = client.randomPKCECodeVerifier();
    const pending: PendingLogin = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier,
      ...(returnTo ? { returnTo } : {}),
    };
    const url = client.buildAuthorizationUrl(config, {
      ...extra,
      redirect_uri: this.options.redirectUri,
      scope,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, pending };
  }

  /**
   * Completes the sign-in at the callback. An answer that does not match the pending sign-in (another
   * tab's, a replay, another site's link) is an invalid input, `login_expired`; an error from the provider
   * answering this browser's own sign-in (its `state`) is `login_refused`.
   */
  async finish(event: HttpEvent, pending: PendingLogin | undefined): Promise<SignedIn> {
    const query = event.queryStringParameters ?? {};
    if (!pending) throw new InvalidInputError('No sign-in is under way in this browser', 'login_expired');
    if (query.error) {
      // The pending state first: otherwise any site could send the person to `?error=x` and have the
      // sign-in they have under way cancelled (the caller ends it on `login_refused`).
      if (query.state !== pending.state) {
        throw new InvalidInputError(
          'The sign-in answer did not match; please sign in again',
          'login_expired',
        );
      }
      throw new InvalidInputError(`Sign-in was not completed (${query.error.slice(0, 60)})`, 'login_refused');
    }
    const config = await this.configuration();
    const current = new URL(this.options.redirectUri);
    current.search = event.rawQueryString ?? '';
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      if (isProtocolError(error)) {
        throw new InvalidInputError(
          'The sign-in answer did not match; please sign in again',
          'login_expired',
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    const claims = tokens.claims();
    if (!tokens.id_token || !claims) throw new InvalidInputError('No ID token was returned', 'login_expired');
    return {
      accessToken: tokens.access_token,
      accessTokenExpiresAt: Math.floor(Date.now() / 1000) + (tokens.expiresIn() ?? 0),
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      idToken: tokens.id_token,
      claims,
      ...(tokens.authorization_details ? { authorizationDetails: tokens.authorization_details } : {}),
    };
  }

  async userinfo(accessToken: string, subject: string): Promise<Record<string, unknown>> {
    return client.fetchUserInfo(await this.configuration(), accessToken, subject);
  }

  /** Revokes a token at the provider; a failure is reported to the caller, who still ends the session. */
  async revoke(token: string, hint: 'access_token' | 'refresh_token'): Promise<void> {
    await client.tokenRevocation(await this.configuration(), token, { token_type_hint: hint });
  }

  /**
   * The provider's end-session URL (RP-initiated logout), returning to `postLogoutRedirectUri`. It names
   * the platform by `client_id` (OpenID Connect RP-Initiated Logout 1.0 §2), never by `id_token_hint`: the
   * URL lands in the browser's history and in the logs of every proxy on the way, and an ID token there
   * would leave the person's claims with them.
   *
   * @example
   * ```ts
   * await rp.endSessionUrl(`${issuerUrl}/demo`); // '…/session/end?client_id=…&post_logout_redirect_uri=…'
   * ```
   */
  async endSessionUrl(postLogoutRedirectUri: string): Promise<string> {
    return client.buildEndSessionUrl(await this.configuration(), {
      client_id: this.options.clientId,
      post_logout_redirect_uri: postLogoutRedirectUri,
    }).href;
  }

  private async discover(): Promise<client.Configuration> {
    const { issuerUrl, clientId } = this.options;
    return configurationFor(issuerUrl, clientId, await this.options.clientSecret());
  }
}

const pageParties = new Map<string, RelyingParty>();

/**
 * The relying party of one of the service's own page clients (the wallet, the issuer console), one per
 * client and issuer URL (a container serves one issuer; the tests start several runtimes), its callback
 * at `callbackPath` of the issuer.
 *
 * @example
 * ```ts
 * const rp = pageRelyingParty(issuerUrl, walletClientId, () => secrets.secretFor(walletClientId), '/wallet/callback');
 * ```
 */
export function pageRelyingParty(
  issuerUrl: string,
  clientId: string,
  clientSecret: () => Promise<string>,
  callbackPath: string,
): RelyingParty {
  const key = `${clientId} ${issuerUrl}`;
  let party = pageParties.get(key);
  if (!party) {
    party = new RelyingParty({
      issuerUrl,
      clientId,
      clientSecret,
      redirectUri: `${issuerUrl}${callbackPath}`,
    });
    pageParties.set(key, party);
  }
  return party;
}

const metadataCache = new Map<string, Promise<client.ServerMetadata>>();

// The local runtime serves plain http on localhost; in AWS the issuer is https.
const insecure = (issuerUrl: string) =>
  new URL(issuerUrl).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined;

/**
 * Our provider's metadata, discovered once per container. It does not depend on the client, so every
 * client's configuration (the page clients', and each issuer's in the console) is built from this one
 * answer instead of discovering again.
 */
function serverMetadata(issuerUrl: string): Promise<client.ServerMetadata> {
  let metadata = metadataCache.get(issuerUrl);
  if (!metadata) {
    metadata = client
      .discovery(new URL(issuerUrl), 'metadata-discovery', undefined, client.None(), insecure(issuerUrl))
      .then((config) => config.serverMetadata());
    metadata.catch(() => metadataCache.delete(issuerUrl));
    metadataCache.set(issuerUrl, metadata);
  }
  return metadata;
}

/**
 * An openid-client configuration for a confidential client of our provider, authenticating with its
 * secret in the Authorization header.
 *
 * @example
 * ```ts
 * const config = await configurationFor(issuerUrl, 'cl_3f9a…', secret);
 * await client.clientCredentialsGrant(config, { scope: 'licences:issue' });
 * ```
 */
export async function configurationFor(
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

/** Errors of the protocol itself (a mismatched state, a reused code), as opposed to a network failure. */
function isProtocolError(error: unknown): boolean {
  return (
    error instanceof client.ResponseBodyError ||
    error instanceof client.AuthorizationResponseError ||
    (error instanceof Error &&
      'code' in error &&
      String((error as { code: unknown }).code).startsWith('OAUTH_'))
  );
}
