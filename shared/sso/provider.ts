import Provider, { errors, type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import type { ExternalSigningKey } from 'oidc-provider';
import { ConflictError } from '../errors.js';
import type { ClientSecrets } from './client-secrets.js';
import { allScopes, apiScopes } from './scopes.js';

type AdapterConstructor = new (name: string) => Adapter;

export interface ProviderDependencies {
  /** The issuer identifier: the public base URL, without a trailing slash. */
  issuerUrl: string;
  /** Also the audience (resource indicator) of the access tokens for our own API. */
  adapter: AdapterConstructor;
  signingKey: ExternalSigningKey;
  clientSecrets: ClientSecrets;
  /** Keys that sign the provider's cookies, newest first. */
  cookieKeys: string[];
  accessTokenTtlSeconds: number;
}

/** The paths the provider serves; `functions/routes.ts` routes each of them to the OpenID function. */
export const providerRoutes = {
  authorization: '/authorize',
  token: '/token',
  userinfo: '/userinfo',
  jwks: '/.well-known/jwks.json',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  end_session: '/session/end',
  pushed_authorization_request: '/request',
} as const;

/**
 * Builds the OpenID provider (panva's `oidc-provider`) on our storage and our KMS key.
 *
 * Access tokens for our API are opaque: a random handle stored (hashed) in DynamoDB. Issuing one costs
 * a table write and no signature, and checking one costs a table read; JWT access tokens would cost a
 * KMS signature each, against a default quota of about 300 ECC signatures per second per region, which
 * we keep for ID tokens and licences.
 *
 * @example
 * ```ts
 * const provider = createProvider({ issuerUrl, adapter, signingKey, clientSecrets, cookieKeys, accessTokenTtlSeconds: 600 });
 * const koaCallback = provider.callback();
 * ```
 */
export function createProvider(deps: ProviderDependencies): Provider {
  const resourceServer = {
    scope: apiScopes.join(' '),
    audience: deps.issuerUrl,
    accessTokenFormat: 'opaque' as const,
    accessTokenTTL: deps.accessTokenTtlSeconds,
  };

  const configuration: Configuration = {
    adapter: providerAdapter(deps.adapter, deps.clientSecrets),
    clients: [],
    jwks: { keys: [deps.signingKey as never] },
    routes: providerRoutes,
    scopes: [...allScopes],
    responseTypes: ['code'],
    cookies: { keys: deps.cookieKeys },
    pkce: { required: () => true },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256'],
      userinfoSigningAlgValues: ['ES256'],
      introspectionSigningAlgValues: ['ES256'],
      authorizationSigningAlgValues: ['ES256'],
      requestObjectSigningAlgValues: ['ES256'],
      clientAuthSigningAlgValues: ['ES256'],
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    extraClientMetadata: { properties: ['issuer_id'] },
    features: {
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Only the client a token was issued to may introspect it: the provider's default lets any
        // confidential client (a verifier app, a platform) learn the scope and client of anyone's token.
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => deps.issuerUrl,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== deps.issuerUrl) throw new errors.InvalidTarget();
          return resourceServer;
        },
      },
    },
    ttl: {
      ClientCredentials: deps.accessTokenTtlSeconds,
      AccessToken: deps.accessTokenTtlSeconds,
    },
    // An issuer's machine tokens name the issuer, so our API knows whose licences a caller may touch
    // from the token record alone.
    extraTokenClaims: (ctx, token) => {
      const issuerId = token.kind === 'ClientCredentials' ? ctx.oidc.client?.['issuer_id'] : undefined;
      return typeof issuerId === 'string' ? { issuer_id: issuerId } : undefined;
    },
    findAccount: () => undefined,
    renderError: (ctx, out) => {
      ctx.type = 'application/json; charset=utf-8';
      ctx.body = { error: out.error, error_description: out.error_description };
    },
  };

  const provider = new Provider(deps.issuerUrl, configuration);
  // API Gateway and the local server terminate TLS and pass the scheme in X-Forwarded-Proto.
  provider.proxy = true;
  return provider;
}

/**
 * The storage adapter as the provider needs it: client records are stored without their secret, which
 * is derived again on load (see {@link ClientSecrets}); a lost race to consume a code or token is the
 * provider's own `invalid_grant` (or `invalid_request_uri` for a pushed request).
 */
export function providerAdapter(Base: AdapterConstructor, secrets: ClientSecrets): AdapterConstructor {
  return class ProviderAdapter extends Base {
    readonly #model: string;

    constructor(model: string) {
      super(model);
      this.#model = model;
    }

    override async find(id: string): Promise<AdapterPayload | undefined | void> {
      const payload = await super.find(id);
      if (this.#model !== 'Client' || !payload || payload.token_endpoint_auth_method === 'none') {
        return payload;
      }
      return { ...payload, client_secret: await secrets.secretFor(id) };
    }

    override async consume(id: string): Promise<void> {
      try {
        await super.consume(id);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        throw this.#model === 'PushedAuthorizationRequest'
          ? new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used')
          : new errors.InvalidGrant(error.message);
      }
    }
  };
}
