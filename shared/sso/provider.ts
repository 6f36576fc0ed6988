import { builtInClient } from '../clients/built-in-clients.js';
import { withoutHolderScopeUnlessFirstParty } from '../clients/first-party.js';
import Provider, {
  errors,
  interactionPolicy,
  type Adapter,
  type AdapterPayload,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import type { ExternalSigningKey } from 'oidc-provider';
import { ConflictError, InvalidInputError } from '../errors.js';
import { logger } from '../logger.js';
import { dpopSigningAlgs } from '../http/dpop.js';
import { parseAccountId } from '../identifiers/account-id.js';
import type { ClientSecrets } from '../clients/client-secrets.js';
import { acrValuesSupported, levelOfAcr, requiredLevel } from '../identity/assurance.js';
import type { PhoneProofDependencies } from '../identity/phone-proof.js';
import { stepUpReason, unmetResult } from './phone-interactions.js';
import { entityAwaitingStepUp } from './entity-step-up.js';
import { entitySignInLevel } from '../identity/entities.js';
import { accountFinder, signInsEndedOf } from './find-account.js';
import { grantEndedBy } from '../identity/person-account.js';
import type { IdentityDirectory } from '../identity/identity-directory.js';
import { interactionRoutes } from './interactions.js';
import { providerPageHeaders } from './provider-page-headers.js';
import type { Clock } from '../clock.js';
import type { ScanLogins } from '../identity/scan-login.js';
import { ScanLoginInteractions } from './scan-login.js';
import { passkeyInteractionRoutes } from './passkey-interaction.js';
import type { PasskeyDependencies } from '../identity/passkeys.js';
import { pageHeaders, pageLang, pageView, withLang, type PageView } from '../web/pages/interaction-html.js';
import {
  errorPage,
  interactionLifeSeconds,
  loggedOutPage,
  logoutPage,
} from '../web/pages/interaction-pages.js';
import { idNumberScope } from '../web/pages/consent-words.js';
import { pairwiseSubjects, sectorOf } from './pairwise.js';
import { allScopes, apiScopes, identityScopes, machineScopes } from './scopes.js';
import { cookieName, servedOverHttps } from '../web/kit/cookies.js';
import { sessionIdFor } from './session-ids.js';
import { personOfAccountId, type CodeIds } from './code-ids.js';
import { licenceAccessRar, licenceAccessAsked } from './licence-access-rar.js';
import { endGrantWithTrace, grantEndCause } from './grant-ends.js';
import { staleNoncesJudgedByTheirIat } from './stale-dpop-nonces.js';
import type { CarriedAuditDependencies } from '../pending-work/pending-work.js';
import {
  carriesSignedInAccount,
  interactionCookieBytes,
  MAX_AUTHORIZATION_STATE_BYTES,
  MAX_INTERACTION_COOKIE_BYTES,
  sealedInteractionBytes,
} from './interaction-cookies.js';

type AdapterConstructor = new (name: string) => Adapter;

export interface ProviderDependencies {
  /** The issuer identifier: the public base URL, without a trailing slash. */
  issuerUrl: string;
  /** Also the audience (resource indicator) of the access tokens for our own API. */
  adapter: AdapterConstructor;
  /** The platform key that signs (ES256): ID tokens by default, logout tokens. */
  signingKey: ExternalSigningKey;
  /**
   * The platform's RSA key (RS256): the ID tokens (and logout tokens) of clients registered with
   * `id_token_signed_response_alg: RS256`, for platforms whose OpenID library expects OpenID Connect's
   * mandatory algorithm.
   */
  rsaSigningKey: ExternalSigningKey;
  /**
   * Keys of a rotation under way: published in the JWKS, so ID tokens and logout tokens they signed still
   * verify, but never chosen to sign (the provider signs with the first key of an algorithm).
   */
  previousKeys?: ExternalSigningKey[];
  clientSecrets: ClientSecrets;
  /** Keys that sign the provider's cookies, newest first. */
  cookieKeys: string[];
  accessTokenTtlSeconds: number;
  /** The accounts domain: passwords, people, entities, the right to act for one. */
  directory: IdentityDirectory;
  /** Secret for pairwise subjects (derived from the KMS MAC key once per container). */
  pairwiseSalt: Uint8Array;
  /**
   * The secret of the DPoP nonces (32 bytes, `dpopNonceSecret` of derived-secrets.ts): the token and
   * pushed authorization endpoints take a DPoP proof only with a nonce of the last minutes
   * ({@link dpopNonceRequired}).
   */
  dpopNonceSecret: Uint8Array;
  /**
   * Seals the read hints of authorization codes (`code-ids.ts`), so that the token endpoint reads a code
   * and what it needs in one round trip; without it codes keep the provider's own form.
   */
  codeIds?: CodeIds;
  /** The paths of its endpoints, as the route table routes them to the OpenID function. */
  routes: ProviderRoutes;
  /** Scan-to-login codes (扫码登录): the sign-in page shows one, the waiting page completes it. */
  scanLogins: ScanLogins;
  /** How long the scan-to-login waiting page holds its request open for the wallet's answer. */
  scanLoginWaitSeconds: number;
  /**
   * The key of the scan-to-login cookie's MAC (`scanLoginCookieKey`, derived from the interaction key):
   * the service stores only a code it issued to that browser for that sign-in.
   */
  scanLoginCookieKey: Uint8Array;
  clock: Clock;
  /** Passkeys and the clock, for signing in with a passkey (`passkey-interaction.ts`). */
  passkeys: PasskeyDependencies;
  /** What proving level 3 by SMS needs: the step-up of a sign-in and the password reset. */
  proofs: PhoneProofDependencies;
}

/**
 * The provider endpoints whose paths we choose (`oidc-provider`'s `routes` option); the others follow
 * from these (`/authorize/{uid}`, `/session/end/confirm`) or are fixed (`/.well-known/openid-configuration`).
 */
export type ProviderEndpoint =
  | 'authorization'
  | 'token'
  | 'userinfo'
  | 'jwks'
  | 'introspection'
  | 'revocation'
  | 'end_session'
  | 'pushed_authorization_request';

/** Where the provider serves each endpoint: the route table's paths (`providerRoutes` in functions/routes.ts). */
export type ProviderRoutes = Readonly<Record<ProviderEndpoint, string>>;

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
 * const provider = createProvider({ issuerUrl, adapter, signingKey, clientSecrets, cookieKeys, accessTokenTtlSeconds: 600, routes });
 * const koaCallback = provider.callback();
 * ```
 */
export function createProvider(deps: ProviderDependencies): Provider {
  const pairwise = pairwiseSubjects(deps.pairwiseSalt);
  const resourceServer = {
    // `entity` is also an OpenID scope (its claims); on an API token it lets a representative manage
    // the entity's agents (/me/entities). The other OpenID scopes are scopes of our API too: the provider
    // gives a token for a resource only that resource's scopes, and without them a token asked with
    // `openid profile licences` said `scope: "licences"` in the token response and was refused at
    // userinfo for want of `openid` (userinfo is one of this issuer's endpoints, see `acceptOwnAudience`).
    scope: [...new Set([...apiScopes, ...identityScopes])].join(' '),
    audience: deps.issuerUrl,
    accessTokenFormat: 'opaque' as const,
    accessTokenTTL: deps.accessTokenTtlSeconds,
  };

  const secure = servedOverHttps(deps.issuerUrl);
  /** The visitor's language, the language switch leading to `switchUrl` (path and query) in the other. */
  const view = (ctx: KoaContextWithOIDC, switchUrl: string): PageView =>
    pageView(pageLang(ctx, secure), (other) => withLang(switchUrl, other));

  const configuration: Configuration = {
    adapter: providerAdapter(deps.adapter, deps.clientSecrets, deps.issuerUrl, {
      ...deps.proofs,
      pendingAudit: deps.proofs.providerAudit,
    }),
    clients: [],
    // The provider signs with the first key of the algorithm a client uses: the current keys come first.
    jwks: { keys: [deps.signingKey, deps.rsaSigningKey, ...(deps.previousKeys ?? [])] as never[] },
    routes: { ...deps.routes },
    scopes: [...allScopes],
    responseTypes: ['code'],
    // The session cookie (single sign-on) by a name no other host can set: oidc-provider's default
    // `_session` (+ `_session.sig`, whose signature covers name=value, not the browser) could be set by a
    // sibling host for the parent domain on a longer path, and would then win over the victim's own and
    // sign them in as the attacker everywhere (login CSRF). `__Host-` binds it to this host, Path=/, no
    // Domain (the provider's cookies carry neither a domain nor another path); its `.sig` companion is
    // `__Host-session.sig`, prefixed too. Decided from ISSUER_URL as every cookie's `Secure` is, never from
    // the request; the local runtime's http keeps a plain name browsers accept there.
    cookies: { keys: deps.cookieKeys, names: { session: cookieName('session', secure) } },
    pkce: { required: () => true },
    enabledJWA: {
      // RS256 is OpenID Connect's mandatory-to-implement algorithm; a client chooses it at registration.
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256'],
      introspectionSigningAlgValues: ['ES256'],
      authorizationSigningAlgValues: ['ES256'],
      requestObjectSigningAlgValues: ['ES256'],
      clientAuthSigningAlgValues: ['ES256'],
      // DPoP proofs (on by default in oidc-provider 9): the same list our API checks proofs against
      // (shared/http/dpop.ts), so that discovery promises nothing a platform's API calls would be refused for.
      dPoPSigningAlgValues: [...dpopSigningAlgs],
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
      token_endpoint_auth_method: 'client_secret_basic',
      subject_type: 'pairwise',
    },
    // Every subject is pairwise: a `public` sub would expose internal account ids across platforms.
    subjectTypes: ['pairwise'],
    pairwiseIdentifier: (_ctx, accountId, client) => {
      const subject = parseAccountId(accountId);
      return pairwise(subject.kind === 'entity' ? subject.entityId : subject.personId, sectorOf(client));
    },
    claims: {
      acr: null,
      // How the person authenticated (RFC 8176): `pwd`, `sms`, `swk`, `mca` (docs/sign-in.md), kept across
      // single sign-on and an entity switch, added to by a step-up (docs/openid-connect.md, `auth_time`).
      amr: null,
      auth_time: null,
      sid: null,
      openid: ['sub', 'acr', 'amr'],
      profile: ['name'],
      idcard: ['id_number'],
      entity: ['subject_type', 'credit_code', 'act'],
    },
    acrValues: [...acrValuesSupported],
    // Profile claims (`name`, the entity's `credit_code`…) come from userinfo whenever the access token
    // can be used there (OpenID Connect Core §5.4), never in the ID token: ID tokens travel in URLs
    // (`id_token_hint` at logout) and logs (privacy review L3). The provider does this only for an
    // access token without an audience: for one with ours (an API scope, a share of licences) it assumes
    // userinfo is out of reach (ours is not: `acceptOwnAudienceAtUserinfo`) and fills the ID token, so
    // the account's claims leave a platform's person `name` out of it there too (find-account.ts); the
    // service's own apps (the wallet) keep reading it from their ID token. `id_number` is never in an ID
    // token, whatever this says: left out by the account's claims.
    conformIdTokenClaims: true,
    findAccount: accountFinder(deps.directory, pairwise, { audit: deps.proofs.audit, clock: deps.clock }),
    interactions: {
      policy: interactionPolicyWithEntityChoice(),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    loadExistingGrant: existingOrFirstPartyGrant,
    rotateRefreshToken: true,
    // A share of licences (授权用证, `licence_access`) lasts as the person approved it on the consent page
    // (its `expires_at`, listed in the wallet), not as long as their sign-in: its code gets a refresh
    // token without `offline_access` (which OpenID Connect Core §11 grants only with `prompt=consent`),
    // and its tokens do not end with the session (a logout, or acting for an enterprise elsewhere), as
    // oidc-provider's maintainer advises (panva/node-oidc-provider#419). The grant's own expiry bounds
    // them (`withinGrant` below), and withdrawing the share revokes them all at once. Only for a client
    // registered for the refresh_token grant (registered with `offline_access`); a plain sign-in keeps
    // OpenID Connect's rule: `offline_access` with `prompt=consent`, else a session-bound sign-in.
    issueRefreshToken: (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') &&
      (code.scopes.has('offline_access') || licenceAccessRar.carriedBy(code as { rar?: unknown })),
    expiresWithSession: (ctx, code) =>
      !code.scopes.has('offline_access') && !licenceAccessRar.codeWillCarry(ctx),
    extraClientMetadata: {
      // `events_uri`: where withdrawal notices go (shared/sharing/withdrawal-notices.ts), checked at registration.
      properties: ['issuer_id', 'first_party', 'min_acr', 'events_uri'],
      validator: (_ctx, key, value) => {
        if (key === 'events_uri' && value !== undefined && typeof value !== 'string') {
          throw new errors.InvalidClientMetadata('events_uri must be a string');
        }
        if (key === 'first_party' && value !== undefined && typeof value !== 'boolean') {
          throw new errors.InvalidClientMetadata('first_party must be a boolean');
        }
        if (key === 'min_acr' && value !== undefined && levelOfAcr(value) === undefined) {
          throw new errors.InvalidClientMetadata('min_acr must be one of acr_values_supported');
        }
      },
    },
    features: {
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Only the client a token was issued to may introspect it: the provider's default lets any
        // confidential client (a verifier app, a platform) learn the scope and client of anyone's token.
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        // Only a token's own client may revoke it; a confidential client is told so (RFC 7009 §2.2.1
        // leaves the answer to the server), a public one gets the usual silent 200.
        //
        // A refresh token's revocation ends its grant, every token of it (oidc-provider's `revoke`, the
        // grant deleted and traced as `token_revoked`: grant-ends.ts). An access token's revocation ends
        // that access token only (RFC 7009 §2.1: the server MAY revoke the rest, it need not): the
        // provider's own action would revoke every access and refresh token of the grant too, yet keep
        // the grant, listed in the wallet and untraced (review R43 M1), and for a public client anyone
        // holding a copy of an access token (no proof, no secret; a DPoP-bound copy included) could end
        // the app's share that way. So it is destroyed here and the action is told to do nothing more.
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId !== client.clientId) {
            if (client.clientAuthMethod === 'none') return false;
            throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          }
          if (token.kind === 'AccessToken') {
            await token.destroy();
            return false;
          }
          return true;
        },
      },
      devInteractions: { enabled: false },
      // DPoP (RFC 9449), on by default, with server nonces (§8): a proof at the token or pushed
      // authorization endpoint must carry a nonce this provider issued in the last minutes, else the answer
      // is `400 use_dpop_nonce` with a `DPoP-Nonce` header, which openid-client retries with (oauth4webapi
      // leaves the retry to its caller). The nonces are the provider's own, stateless: an HKDF of the secret and the minute, the same
      // in every container, no table call (docs/openid-connect.md, "Tokens bound to a key").
      dPoP: {
        enabled: true,
        nonceSecret: Buffer.from(deps.dpopNonceSecret),
        requireNonce: dpopNonceRequired,
      },
      // The claims parameter asks for a level (an essential `acr`) and the sign-in's time (`auth_time`);
      // what else it asks for is dropped, not refused (OpenID Connect Core §5.5: a claim the OP does not
      // return is ignored; review R69 F2). A claim asked through it would be granted on the consent page
      // beyond the client's scopes (the `id_number` of a platform not entitled to `idcard`, or without the
      // person's separate box), and a profile claim asked in the ID token would put it there (privacy
      // review L3): claims come with the scopes, at userinfo, whatever this parameter says.
      claimsParameter: {
        enabled: true,
        assertClaimsParameter: (ctx, claims) => {
          const kept = claimsParameterKept(claims);
          if (kept !== undefined && ctx.oidc.params) ctx.oidc.params.claims = JSON.stringify(kept);
        },
      },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          // The confirmation ends, through redirects, at the platform's post-logout URI (validated by
          // the provider by now, or dropped).
          const postLogout = ctx.oidc.params?.post_logout_redirect_uri;
          ctx.set(pageHeaders(typeof postLogout === 'string' ? postLogout : undefined));
          const params = Object.entries(ctx.oidc.params ?? {});
          ctx.body = logoutPage(
            view(ctx, requestUrlWithoutHints('end_session', ctx.path, params, ctx.oidc.client?.clientId)),
            form,
          );
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.set(pageHeaders());
          // The switch repeats only the platform that the page names, not the rest of the URL.
          const params = Object.entries(ctx.oidc.params ?? {});
          ctx.body = loggedOutPage(
            view(
              ctx,
              requestUrlWithoutHints('end_session_success', ctx.path, params, ctx.oidc.client?.clientId),
            ),
          );
        },
      },
      // Rich Authorization Requests (RFC 9396): platforms registered for `licence_access` ask to read a
      // person's licences (shared/sso/licence-access-rar.ts); the provider parses and checks the request.
      richAuthorizationRequests: licenceAccessRar.feature(deps.clock),
      resourceIndicators: {
        enabled: true,
        // Our API is the audience only when an API scope or licence access is asked for; otherwise the
        // access token is for userinfo, as OpenID Connect expects.
        defaultResource: (ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          defaultMachineScope(ctx, client);
          const asked = String(ctx.oidc.params?.scope ?? '').split(' ');
          return asked.some((scope) => (apiScopes as readonly string[]).includes(scope)) ||
            ctx.oidc.params?.authorization_details !== undefined
            ? deps.issuerUrl
            : undefined;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== deps.issuerUrl) throw new errors.InvalidTarget();
          return resourceServer;
        },
      },
    },
    ttl: {
      ClientCredentials: deps.accessTokenTtlSeconds,
      // A grant of licence access (授权用证) lasts as long as the platform asked, within the limits of
      // shared/sharing/licence-access.ts; every other grant, 30 days.
      Grant: (_ctx, grant) => licenceAccessRar.grantSeconds(grant, new Date(deps.clock.now())) ?? 30 * 86_400,
      AccessToken: (ctx) => withinGrant(ctx, deps.accessTokenTtlSeconds),
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: interactionLifeSeconds,
      Session: 8 * 3600,
      RefreshToken: (ctx) => withinGrant(ctx, 30 * 86_400),
    },
    // An issuer's machine tokens name the issuer, so our API knows whose licences a caller may touch
    // from the token record alone. A person's access token carries the `acr` of the sign-in it came
    // from (the code's, or the refresh token's), so that readers of licences gate on how the person
    // signed in, not only on what their account once reached (licence/holder-licences.ts).
    extraTokenClaims: (ctx, token) => {
      if (token.kind === 'ClientCredentials') {
        const issuerId = ctx.oidc.client?.['issuer_id'];
        return typeof issuerId === 'string' ? { issuer_id: issuerId } : undefined;
      }
      const { AuthorizationCode: code, RefreshToken: refresh } = ctx.oidc.entities;
      const acr = code?.acr ?? refresh?.acr;
      // And when the person signed in (a refresh keeps it): closing the account asks for a recent sign-in
      // (identity/close-account.ts), which only the token can tell our API.
      const authTime = code?.authTime ?? refresh?.authTime;
      return typeof acr === 'string'
        ? { acr, ...(typeof authTime === 'number' ? { auth_time: authTime } : {}) }
        : undefined;
    },
    // A person's browser gets a page; a program gets the OAuth error JSON.
    renderError: (ctx, out, error) => {
      if (ctx.accepts('html', 'json') === 'html') {
        ctx.set(pageHeaders());
        // A GET shows the same error again in the other language; a form post cannot be repeated by a
        // link, so its page switches to the home page in that language.
        // The switch repeats only the parameters its route needs (`switchParameters`): no hint, ID
        // token, request object or ID number, which would be in the page's HTML and, once followed, in
        // one more URL.
        ctx.body = errorPage(
          view(
            ctx,
            ctx.method === 'GET'
              ? requestUrlWithoutHints(
                  ctx.oidc?.route,
                  ctx.path,
                  Object.entries(ctx.query),
                  ctx.oidc?.client?.clientId,
                )
              : '/',
          ),
          String(out.error),
          out.error_description ? String(out.error_description) : undefined,
          // A sign-in resumed after its interaction ended (`/auth/{uid}`: expired, used, another browser).
          { expired: error instanceof errors.SessionNotFound },
        );
      } else {
        ctx.type = 'application/json; charset=utf-8';
        ctx.body = { error: out.error, error_description: out.error_description };
      }
    },
  };

  const provider = new Provider(deps.issuerUrl, configuration);
  acceptOwnAudienceAtUserinfo(provider, deps.issuerUrl);
  staleNoncesJudgedByTheirIat(provider, dpopNonceRequired, deps.clock);
  includeSidForEveryClient(provider);
  sessionIdsNamingTheirUid(provider);
  grantsKeepTheirMillisecond(provider, deps.clock);
  interactionsKeepTheSignInTime(provider);
  sharesLeaveTheSignInGrant(provider);
  if (deps.codeIds) codeIdsNamingTheirReads(provider, deps.codeIds);
  // First, so that it wraps every other: the provider's own pages get our pages' headers too.
  provider.use(providerPageHeaders);
  provider.use(authorizationServerMetadata);
  // No proxy header is trusted: the scheme and host are the public origin's (functions/oidc.ts pins
  // them), and the client's address is the one API Gateway saw, not an X-Forwarded-For entry.
  provider.proxy = false;
  // The provider answers these itself (a generic error, or a logout that carries on); log them so an
  // operator sees KMS or storage faults and undelivered back-channel logouts.
  provider.on('server_error', (_ctx, error) => logger.error('OpenID provider server error', error));
  provider.on('backchannel.error', (_ctx, error, client) =>
    logger.warn('back-channel logout not delivered', { clientId: client.clientId, error: String(error) }),
  );
  const scanLogin = new ScanLoginInteractions({
    scan: deps.scanLogins,
    issuerUrl: deps.issuerUrl,
    directory: deps.directory,
    clock: deps.clock,
    waitSeconds: deps.scanLoginWaitSeconds,
    cookieKey: deps.scanLoginCookieKey,
  });
  provider.use(
    passkeyInteractionRoutes(provider, {
      ...deps.passkeys,
      directory: deps.directory,
      issuerUrl: deps.issuerUrl,
    }),
  );
  provider.use(interactionRoutes(provider, deps.directory, deps.proofs, scanLogin));
  return provider;
}

/**
 * A token's lifetime: `seconds`, or less when the grant it is issued under (the request's `Grant`
 * entity, which the token endpoint has found by now) ends sooner, so that no token outlives the grant: a
 * share's refresh token ends when the share does (`expires_at`), however late it was rotated. Never
 * below one second, as the provider wants a positive lifetime (an expired grant is refused before).
 */
function withinGrant(ctx: KoaContextWithOIDC | undefined, seconds: number): number {
  // The provider set the grant's `exp` by its own clock (Date.now), so it is compared by that clock.
  const exp = (ctx?.oidc?.entities?.Grant as { exp?: unknown } | undefined)?.exp;
  if (typeof exp !== 'number') return seconds;
  return Math.max(1, Math.min(seconds, exp - Math.floor(Date.now() / 1000)));
}

/**
 * A client-credentials request without `scope` asks for the API scopes the client is registered with
 * (RFC 6749 §3.3 lets a server process a request without `scope` with "a pre-defined default value" it
 * documents: docs/api.md, "Machine clients"). Without this the provider issued such a client a token with no scope
 * and no audience, which every route of our API then refused as "not meant for this API" (review R25,
 * M2). Set on the request's parameters before the provider reads them: the provider's client-credentials
 * grant resolves the resource (this hook's caller) before it reads and checks the scopes, so the token
 * is issued, checked and answered (`scope` in the token response) exactly as if the client had asked for
 * them. A request with `scope`, or with an explicit `resource`, is left as it is; so is any other grant.
 */
function defaultMachineScope(ctx: KoaContextWithOIDC, client: { scope?: string | undefined }): void {
  const params = ctx.oidc?.params as { grant_type?: unknown; scope?: unknown } | undefined;
  if (ctx.oidc?.route !== 'token' || params?.grant_type !== 'client_credentials') return;
  if (params.scope !== undefined) return;
  const registered = new Set((client.scope ?? '').split(' '));
  const scope = machineScopes.filter((s) => registered.has(s)).join(' ');
  if (scope) params.scope = scope;
}

/** Where RFC 8414 clients look for the metadata (`/.well-known/oauth-authorization-server`). */
export const authorizationServerMetadataPath = '/.well-known/oauth-authorization-server';

/**
 * RFC 8414 authorization server metadata. The provider serves only OpenID discovery, whose document is
 * a superset of RFC 8414's (same issuer, same endpoint members; RFC 8414 §5 lets the two documents be
 * one): the request is answered by the discovery endpoint itself, so the two can never differ.
 */
async function authorizationServerMetadata(ctx: KoaContextWithOIDC, next: () => Promise<unknown>) {
  if (ctx.path === authorizationServerMetadataPath && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
    ctx.path = '/.well-known/openid-configuration';
  }
  await next();
}

/**
 * Userinfo for every access token that carries `openid`. The provider refuses any token with an
 * audience there (it treats a token as either for userinfo or for a resource server); a platform that
 * asks `openid profile licences` gets one token whose audience is our API, the issuer's own URL, and
 * userinfo is an endpoint of that same issuer. So at userinfo, and only there, a token whose audience
 * is exactly the issuer is read without that audience; tokens for any other audience are still refused,
 * and the provider's own checks (the `openid` scope, expiry, the grant) all still apply.
 */
function acceptOwnAudienceAtUserinfo(provider: Provider, issuerUrl: string): void {
  type Find = (
    jti: string,
    options?: { ignoreExpiration?: boolean },
  ) => Promise<{ aud?: unknown } | undefined>;
  const model = provider.AccessToken as unknown as { find: Find };
  const find: Find = model.find.bind(model);
  model.find = async (jti, options) => {
    const token = await find(jti, options);
    if (token?.aud === issuerUrl && Provider.ctx?.oidc?.route === 'userinfo') {
      // Only this in-memory copy, which userinfo reads and never saves.
      token.aud = undefined;
    }
    return token;
  };
}

/**
 * `sid` in every ID token. The provider adds it only for clients registered for back-channel (or
 * front-channel) logout with sessions; discovery says `backchannel_logout_session_supported`, and a
 * platform needs the `sid` of its ID token to match a later logout token, or to log out one session.
 */
function includeSidForEveryClient(provider: Provider): void {
  Object.defineProperty(provider.Client.prototype, 'includeSid', {
    value: () => true,
    configurable: true,
    writable: true,
  });
}

/**
 * A share leaves the session's sign-in grant for its platform where it was (review R34 M1): the provider
 * makes the grant a request continues the session's grant for that platform (`loadGrant`), and the code
 * takes its grant from there, so a share's code is made under the share's grant; once it is made
 * (`authorization.success`, before the session is saved), the pointer the session had before is put
 * back, and whether it survives a logout (a share's tokens do not end with the session; a plain sign-in's
 * grant still ends at logout). Without this, the platform's next sign-in in that browser continued the
 * share's grant, and the sign-in's consent (the ID number) outlived its withdrawal in the wallet. Nothing
 * read or written: the session is saved at the end of the request as always.
 */
function sharesLeaveTheSignInGrant(provider: Provider): void {
  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
    const kept = signInPointers.get(ctx);
    const { client, session } = ctx.oidc;
    if (!kept || !client || !session) return;
    signInPointers.delete(ctx);
    const pointer = session.authorizationFor(client.clientId) as SignInPointer;
    if (kept.grantId === undefined) delete pointer.grantId;
    else pointer.grantId = kept.grantId;
    if (kept.persistsLogout === undefined) delete pointer.persistsLogout;
    else pointer.persistsLogout = kept.persistsLogout;
  });
}

/**
 * A grant keeps the millisecond it was made (`madeAt`, epoch milliseconds on the service's clock, the
 * clock that stamps a reset's mark), in its own payload: the provider's `iat` is whole seconds, and a
 * grant of the mark's own second could not be told to be before or after it, so the provider continued
 * it while the reconciler's owed clean-up ended it (review R58 L1). Both now compare `madeAt` with the
 * mark's time (`grantEndedBy`, person-account.ts). Stamped at a grant's first save only (a grant found is
 * saved again with the `madeAt` it was found with); nothing read or written but these few bytes.
 */
function grantsKeepTheirMillisecond(provider: Provider, clock: Clock): void {
  interface GrantLike {
    iat?: number;
    madeAt?: number;
  }
  const Grant = provider.Grant as unknown as { readonly IN_PAYLOAD: string[] };
  const inPayload = Grant.IN_PAYLOAD;
  Object.defineProperty(Grant, 'IN_PAYLOAD', {
    get: () => [...inPayload, 'madeAt'],
    configurable: true,
  });
  const prototype = provider.Grant.prototype as unknown as { save(this: GrantLike): Promise<string> };
  const save = prototype.save;
  Object.defineProperty(prototype, 'save', {
    value(this: GrantLike) {
      if (this.iat === undefined && this.madeAt === undefined) this.madeAt = clock.now();
      return save.call(this);
    },
    configurable: true,
    writable: true,
  });
}

/**
 * An interaction keeps, with the rest of the session it was made for, when that session's person signed
 * in (`loginTs`, the ID token's `auth_time`). The provider keeps only the session's account, uid, cookie,
 * `acr` and `amr` in it, and a login result without `ts` is a sign-in now: the steps that change whom the
 * session acts for without authenticating anyone (choosing an enterprise, going back to personal use,
 * interactions.ts) would have made an old sign-in look fresh, and a platform's `max_age` pass without the
 * password. Taken from the request's own session when the interaction is first saved (the authorization
 * request, or the resume that opens the next step), and only for the session the interaction names; no
 * table call, about 20 bytes more in its cookie.
 */
function interactionsKeepTheSignInTime(provider: Provider): void {
  interface InteractionLike {
    session?: { uid?: string; loginTs?: number };
  }
  const prototype = provider.Interaction.prototype as unknown as {
    save(this: InteractionLike, ttl: number): Promise<string>;
  };
  const save = prototype.save;
  Object.defineProperty(prototype, 'save', {
    value(this: InteractionLike, ttl: number) {
      const current = (Provider.ctx as KoaContextWithOIDC | undefined)?.oidc?.session as
        { uid?: string; loginTs?: unknown } | undefined;
      const session = this.session;
      if (
        session?.uid !== undefined &&
        session.loginTs === undefined &&
        current?.uid === session.uid &&
        typeof current.loginTs === 'number'
      ) {
        session.loginTs = current.loginTs;
      }
      return save.call(this, ttl);
    },
    configurable: true,
    writable: true,
  });
}

/**
 * Authorization codes whose value names, sealed, the session, grant and person the token endpoint reads
 * with the code ({@link CodeIds}): `<the provider's own random id>.<sealed hints>`, so that the code
 * exchange reads them all, with the client-authentication counter, in one round trip
 * (shared/adapters/dynamo/oidc-adapter.ts, `readAheadCodeExchange`). The random part keeps the provider's
 * full randomness; the hints serve reading ahead only (the provider goes by the stored code).
 */
function codeIdsNamingTheirReads(provider: Provider, codeIds: CodeIds): void {
  interface CodeLike {
    sessionUid?: string;
    grantId?: string;
    accountId?: string;
  }
  const prototype = provider.AuthorizationCode.prototype as unknown as {
    generateTokenId(this: CodeLike): string;
  };
  const random = prototype.generateTokenId;
  Object.defineProperty(prototype, 'generateTokenId', {
    value(this: CodeLike) {
      const personId = personOfAccountId(this.accountId);
      return codeIds.idFor(random.call(this), {
        ...(this.sessionUid !== undefined && { sessionUid: this.sessionUid }),
        ...(this.grantId !== undefined && { grantId: this.grantId }),
        ...(personId !== undefined && { personId }),
      });
    },
    configurable: true,
    writable: true,
  });
}

/**
 * Session ids of the form `<uid>.<random>` ({@link sessionIdFor}): a new session, and a session whose id is
 * renewed at sign-in, get one, so that the storage finds a session by id (its cookie) and by uid (the
 * token endpoint) with one read of one item. Sessions stored with the provider's own ids keep them.
 */
function sessionIdsNamingTheirUid(provider: Provider): void {
  interface SessionLike {
    uid: string;
    jti: string;
    oldId?: string;
    touched?: boolean;
  }
  const Session = provider.Session as unknown as { instantiate(payload?: object): SessionLike };
  const instantiate = Session.instantiate.bind(Session);
  Session.instantiate = (payload?: object) => {
    const session = instantiate(payload);
    if (!payload || !('jti' in payload)) session.jti = sessionIdFor(session.uid);
    return session;
  };
  Object.defineProperty(provider.Session.prototype, 'resetIdentifier', {
    value(this: SessionLike) {
      this.oldId = this.jti;
      this.jti = sessionIdFor(this.uid);
      this.touched = true;
    },
    configurable: true,
    writable: true,
  });
}

/**
 * The provider's endpoints whose DPoP proofs must carry a server nonce (RFC 9449 §8): those that take a
 * proof not bound to an access token, the token endpoint (its proof binds the tokens it issues: a refresh
 * token's proofs are all a thief needs) and the pushed authorization endpoint (`dpop_jkt`). Without a
 * nonce, a proof is good at whatever time its `iat` names, so someone who held the key for a moment could
 * make proofs for the weeks a refresh token lasts; a nonce is known only from the last minutes' answers.
 * Userinfo, like our API, takes proofs bound to one short-lived access token (`ath`) and requires none: a
 * nonce sent there (the libraries send the token endpoint's, the origin being the same) that is stale is
 * judged as no nonce, by the proof's `iat` (`staleNoncesJudgedByTheirIat`; review R43 L1).
 */
export function dpopNonceRequired(ctx: KoaContextWithOIDC): boolean {
  const route = ctx.oidc?.route;
  return route === 'token' || route === 'pushed_authorization_request';
}

/**
 * The members of a claims parameter that {@link createProvider} keeps: per place (`id_token`, `userinfo`),
 * the claims the `openid` scope gives and the consent never grants one by one (`sub`, `acr`, `amr`,
 * `auth_time`), as asked. `undefined` when nothing is dropped.
 */
export function claimsParameterKept(claims: unknown): Record<string, Record<string, unknown>> | undefined {
  if (!claims || typeof claims !== 'object') return undefined;
  let dropped = false;
  const kept: Record<string, Record<string, unknown>> = {};
  for (const [where, asked] of Object.entries(claims)) {
    if (where !== 'id_token' && where !== 'userinfo') {
      dropped = true;
      continue;
    }
    const members = Object.entries(asked && typeof asked === 'object' ? asked : {});
    const allowed = members.filter(([name]) => claimsParameterMembers.has(name));
    if (allowed.length < members.length) dropped = true;
    kept[where] = Object.fromEntries(allowed);
  }
  return dropped ? kept : undefined;
}

/** The claims a claims parameter may ask for: {@link claimsParameterKept}. */
const claimsParameterMembers: ReadonlySet<string> = new Set(['sub', 'acr', 'amr', 'auth_time']);

/**
 * The provider's policy plus one prompt: acting for an entity (scope `entity`) and personal use are
 * sessions of their own, so a request whose mode differs from the session's asks the person to choose
 * an entity, or to return to personal use. With `prompt=none` that is `interaction_required`.
 */
function interactionPolicyWithEntityChoice() {
  const policy = interactionPolicy.base();
  // A session whose account no longer resolves (an agent since withdrawn, an account gone) signs in
  // again, or gets `login_required` with `prompt=none`; the provider would otherwise go on without an
  // account or grant and fail with a server error.
  policy
    .get('login')
    ?.checks.add(
      new interactionPolicy.Check(
        'account_unavailable',
        'the End-User of the session can no longer be signed in as such',
        'login_required',
        (ctx) => Boolean(ctx.oidc.session?.accountId) && !ctx.oidc.account,
      ),
    );
  // Levels are ordered: a platform's `acr_values`, an essential `acr` claim or the client's `min_acr`
  // name a minimum, met by that level or a higher one. The provider's own checks want the session's
  // `acr` to be one of the values asked for exactly, which would send a level-3 session asked for level 2
  // round the sign-in forever; ours replaces them. A live session below the level asked for goes to the
  // step-up page (`phone-interactions.ts`), never silently through.
  const login = policy.get('login');
  login?.checks.remove('essential_acr');
  login?.checks.remove('essential_acrs');
  login?.checks.add(
    new interactionPolicy.Check(
      stepUpReason,
      'the End-User must reach a higher authentication level',
      'interaction_required',
      (ctx) => {
        const { oidc } = ctx;
        if (!oidc.session?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        // Sharing licences needs the level their types require (licence-reader.ts): a person below it
        // is stepped up before the consent page, never refused there.
        const toShare = licenceAccessAsked(oidc.params?.authorization_details);
        // Likewise acting for the entity the person just chose below level 3 (entity-step-up.ts).
        const toActForEntity = entityAwaitingStepUp(oidc.result) === undefined ? 1 : entitySignInLevel;
        const asked = requiredLevel({
          acrValues: oidc.params?.acr_values,
          essentialAcr: (
            oidc.claims as { id_token?: { acr?: { essential?: boolean; value?: unknown; values?: unknown } } }
          )?.id_token?.acr?.essential
            ? (oidc.claims as { id_token: { acr: { value?: unknown; values?: unknown } } }).id_token.acr
            : undefined,
          clientMinAcr: oidc.client?.['min_acr'],
        });
        return (levelOfAcr(oidc.acr) ?? 1) < Math.max(asked, toShare, toActForEntity);
      },
    ),
  );
  policy.add(
    new interactionPolicy.Prompt(
      { name: 'select_entity', requestable: false },
      new interactionPolicy.Check(
        'entity_mode_mismatch',
        'whom the End-User acts for must be chosen',
        (ctx) => {
          const accountId = ctx.oidc.session?.accountId;
          if (!accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
          const wantsEntity = String(ctx.oidc.params?.scope ?? '')
            .split(' ')
            .includes('entity');
          return wantsEntity !== (parseAccountId(accountId).kind === 'entity');
        },
      ),
    ),
    1,
  );
  return policy;
}

/**
 * The parameters a language switch repeats, by the provider's route; every other one is left out. An
 * allow-list, not a deny-list of hints: a person's data or a token rides in more parameters than the
 * hints (`request` and `request_uri` objects carrying a `login_hint` or an `id_token_hint`,
 * `login_hint_token`, `claims`, `authorization_details`, `access_token` on a GET), and new ones come
 * with new features; none of them may reach the page's HTML or one more URL.
 *
 * - `end_session`: what the logout page needs to be the same step and still end at the platform.
 * - `authorization` (its error page only: a working request goes to the sign-in page): the client and
 *   its redirect URI, which decide whether the error is shown or sent to the platform, so that an
 *   error about either is shown again, and the shape of the request (`response_type`, `scope`,
 *   `state`), which carries no one's data. Everything else is dropped, `code_challenge` too: without it
 *   a switched request can never go on to a sign-in that the page did not show; at worst it shows
 *   another error in the other language.
 * - `end_session_success`: the platform the logged-out page names.
 * - any other route: its path alone.
 */
const switchParameters: Readonly<Record<string, ReadonlySet<string>>> = {
  end_session: new Set(['client_id', 'post_logout_redirect_uri', 'state', 'ui_locales']),
  authorization: new Set(['client_id', 'redirect_uri', 'response_type', 'scope', 'state']),
  end_session_success: new Set(['client_id']),
};

/**
 * A request as a link (the language switch of the logout and logged-out pages, or of the error page of
 * a GET), rebuilt from the parameters its route lets a switch repeat (`switchParameters`). Not
 * `id_token_hint`: the page would put the platform's ID token in its HTML and, once followed, in one
 * more URL (browser history, proxy logs); the client it named, when the provider found it by now, goes
 * as `client_id` instead, which keeps a `post_logout_redirect_uri` valid. Nor `logout_hint`,
 * `login_hint` or anything else that may carry the person's ID number.
 *
 * @param route - the provider's route name (`ctx.oidc.route`), which decides the parameters kept
 * @param path - the request's path
 * @param params - its parameters (the provider's parsed ones, or the raw query of an error)
 * @param clientId - the client the provider found, if it did
 * @example
 * ```ts
 * requestUrlWithoutHints('end_session', '/session/end', Object.entries(ctx.oidc.params), 'cl_3f9a…');
 * // '/session/end?post_logout_redirect_uri=…&state=…&client_id=cl_3f9a…'
 * ```
 */
function requestUrlWithoutHints(
  route: string | undefined,
  path: string,
  params: Iterable<readonly [string, unknown]>,
  clientId?: string,
): string {
  const kept =
    route !== undefined && Object.hasOwn(switchParameters, route) ? switchParameters[route] : undefined;
  if (kept === undefined) return path;
  const query = new URLSearchParams();
  for (const [name, value] of params) {
    if (!kept.has(name) || (clientId !== undefined && name === 'client_id')) continue;
    for (const one of [value].flat()) if (typeof one === 'string') query.append(name, one);
  }
  if (clientId !== undefined && kept.has('client_id')) query.set('client_id', clientId);
  return query.size > 0 ? `${path}?${query.toString()}` : path;
}

/**
 * What the session pointed to for a platform (its sign-in grant, and whether that survives a logout)
 * before a share's own grant was loaded for the share's code: the provider makes the grant it loads the
 * session's grant for that platform (`loadGrant`), and {@link sharesLeaveTheSignInGrant} puts this back
 * once the code is made.
 */
interface SignInPointer {
  grantId?: string;
  persistsLogout?: boolean;
}
const signInPointers = new WeakMap<object, SignInPointer>();

/** Whether a stored or loaded grant carries authorization details: a share (授权用证), never a sign-in. */
function isShareGrant(grant: { rar?: unknown } | undefined): boolean {
  return Array.isArray(grant?.rar) && grant.rar.length > 0;
}

/**
 * The grant a request continues: the one the session holds for the client, or for a first-party client
 * (the service's own pages) a grant of what it asks for, without a consent page — a grant it already
 * holds is extended when it asks for more. Other clients get the consent page.
 *
 * Sign-ins and shares never share a grant (review R34 M1): a request with `authorization_details` (a
 * share) gets a grant of its own, the one its consent page made (before that page, none: the page then
 * lists and the share's grant holds exactly what this request asks), never the session's sign-in grant;
 * a request without them (a sign-in) never continues a grant that carries details, which would hand the
 * share's scopes (the ID number, offline access) to a sign-in the person may have withdrawn, and file
 * what the sign-in is given under the share in the wallet. The session keeps pointing to its sign-in
 * grant across a share ({@link sharesLeaveTheSignInGrant}); a pointer to a share, left by a session from
 * before, is taken for none.
 *
 * The first-party grant covers exactly what the provider's consent checks look for: every asked scope
 * as an OpenID scope, and, for each resource server of the request (`ctx.oidc.resourceServers`, resolved
 * before the grant is loaded), the asked scopes that server offers. Deriving the resource scopes from
 * the resource server rather than from a list of our own keeps the two from drifting apart: `entity` is
 * a scope of our API too, and a grant that left it out sent the wallet to the consent page whenever it
 * asked for `entity` with `licences`.
 */
async function existingOrFirstPartyGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const { client, session } = oidc;
  if (!client || !session?.accountId) return undefined;
  const consented = (oidc.result?.consent as { grantId?: string } | undefined)?.grantId;
  if (oidc.params?.authorization_details !== undefined) {
    if (!consented) return undefined;
    const share = await oidc.provider.Grant.find(consented);
    const kept = session.authorizationFor(client.clientId) as SignInPointer;
    signInPointers.set(ctx, {
      ...(kept.grantId !== undefined && { grantId: kept.grantId }),
      ...(kept.persistsLogout !== undefined && { persistsLogout: kept.persistsLogout }),
    });
    return share;
  }
  const grantId = consented ?? session.grantIdFor(client.clientId);
  const found = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  // Never a grant made before a takeover or a reset ended the account's sign-ins (review R54-2): the
  // session keeps its grant for the platform across a new sign-in, and a clean-up left owed ends that grant
  // later (its time before the mark), the owner's sign-in made since with it. Taken for none: a new grant.
  // By the grant's millisecond (`madeAt`), as the reconciler ends grants (`grantEndedBy`, review R58 L1):
  // one of the mark's own second is continued when made after it, never when made before it. The mark as
  // the account lookup read it (`signInsEndedOf`), no read more.
  const ended = found !== undefined && grantEndedBy(found, signInsEndedOf(oidc.account));
  const existing = isShareGrant(found) || ended ? undefined : found;
  if (client['first_party'] !== true) return existing;

  const grant =
    existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  // Never the ID number: a sensitive item (PIPL Art. 28–29, GB/T 35273) asks the person's separate
  // consent whoever asks, our own apps included, so `idcard` is left for the consent page and its own
  // box (privacy review L4b). The rest of a first-party request is granted as before.
  const asked = [...oidc.requestParamScopes].filter((scope) => scope && scope !== idNumberScope);
  const askedOf = Object.entries(oidc.resourceServers ?? {}).map(
    ([indicator, server]) => [indicator, asked.filter((scope) => server.scopes.has(scope))] as const,
  );
  // Every scope of the provider's `scopes` list counts as an OpenID scope in its consent checks, the API
  // scopes too (as the consent page grants them).
  const granted = new Set(grant.getOIDCScope().split(' '));
  const covered =
    asked.every((scope) => granted.has(scope)) &&
    askedOf.every(([indicator, scopes]) => {
      const grantedThere = new Set(grant.getResourceScope(indicator).split(' '));
      return scopes.every((scope) => grantedThere.has(scope));
    });
  if (existing && covered) return existing;
  grant.addOIDCScope(asked.join(' '));
  for (const [indicator, scopes] of askedOf) {
    if (scopes.length > 0) grant.addResourceScope(indicator, scopes.join(' '));
  }
  await grant.save();
  return grant;
}

/**
 * The storage adapter as the provider needs it: client records are stored without their secret, which
 * is derived again on load (see {@link ClientSecrets}); the service's own clients come from code (see
 * {@link builtInClient}); a lost race to consume a code or token is the
 * provider's own `invalid_grant` (or `invalid_request_uri` for a pushed request). With `grantEnds` (the
 * provider's pending work), a grant the provider deletes itself on a refresh token used twice, a code
 * replayed or the platform's revocation of a refresh token is deleted with its audit entry
 * (`endGrantWithTrace`, review R34 L1); a logout's deletions, and every other path, are as they were.
 */
export function providerAdapter(
  Base: AdapterConstructor,
  secrets: ClientSecrets,
  issuerUrl: string,
  grantEnds?: CarriedAuditDependencies,
): AdapterConstructor {
  return class ProviderAdapter extends Base {
    readonly #model: string;

    constructor(model: string) {
      super(model);
      this.#model = model;
    }

    override async find(id: string): Promise<AdapterPayload | undefined | void> {
      const payload =
        (this.#model === 'Client' ? builtInClient(id, issuerUrl) : undefined) ?? (await super.find(id));
      if (this.#model !== 'Client' || !payload) return payload;
      // Which key the secret derives from is ours to know, not the provider's.
      const { secret_key, secret_version, ...stored } = payload;
      const client = withoutHolderScopeUnlessFirstParty(stored);
      if (client.token_endpoint_auth_method === 'none') return client;
      return { ...client, client_secret: await secrets.secretFor(id, { secret_key, secret_version }) };
    }

    override async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      // An interaction first saved, at the authorization request: refused now (the platform gets
      // `invalid_request` at its redirect URI) past a quarter of the most a sign-in may keep, so that its
      // later steps cannot reach that bound after the person typed their password (interaction-cookies.ts,
      // MAX_AUTHORIZATION_STATE_BYTES). A state too large for its cookie is kept in the table only once
      // it carries a signed-in account (interaction-cookies.ts, review R26): before that it must fit its
      // cookie, with room for the longest result a step saves before the sign-in (`unmet`), so that the
      // person who gives up still goes back to the platform.
      if (this.#model === 'Interaction' && Provider.ctx?.oidc?.route === 'authorization') {
        const expiresAt = Math.floor(Date.now() / 1000) + expiresIn;
        const bytes = sealedInteractionBytes(payload, expiresAt);
        if (bytes > MAX_AUTHORIZATION_STATE_BYTES) {
          throw new errors.InvalidRequest(
            `the authorization request is too large: its sign-in's state would take ${bytes} bytes, ` +
              `more than ${MAX_AUTHORIZATION_STATE_BYTES} (docs/openid-connect.md, "How large a request may be")`,
          );
        }
        const cookie = carriesSignedInAccount(payload)
          ? 0
          : interactionCookieBytes(
              id,
              { ...payload, result: unmetResult },
              expiresAt,
              servedOverHttps(issuerUrl),
            );
        if (cookie > MAX_INTERACTION_COOKIE_BYTES) {
          throw new errors.InvalidRequest(
            `the authorization request is too large: its sign-in's state would take ${cookie} bytes of ` +
              `its cookie, more than ${MAX_INTERACTION_COOKIE_BYTES} before the person signed in ` +
              `(docs/openid-connect.md, "How large a request may be")`,
          );
        }
      }
      try {
        await super.upsert(id, payload, expiresIn);
      } catch (error) {
        // A sign-in whose state cannot be kept (past the hard bound) is refused, clearly.
        if (this.#model === 'Interaction' && error instanceof InvalidInputError) {
          throw new errors.InvalidRequest(error.message);
        }
        throw error;
      }
    }

    override async destroy(id: string): Promise<void> {
      const cause =
        this.#model === 'Grant' && grantEnds
          ? grantEndCause(Provider.ctx as KoaContextWithOIDC | undefined)
          : undefined;
      if (cause) {
        // One read more, on these paths only (never a sign-in's): whose grant it was, for its entry.
        const stored = await super.find(id);
        if (stored) {
          try {
            return await endGrantWithTrace(id, stored, cause, () => super.destroy(id), grantEnds!);
          } catch (error) {
            // Ended by another request at that very moment, twice over (the storage read it again and
            // tried once more: review R37 L1): nothing written, the grant stays listed for the person to
            // withdraw. Its tokens are revoked before the answer (oidc-provider's revoke revokes them
            // beside this call, unawaited once this throws; deleting them twice is harmless), and it is
            // answered in OAuth's terms, never a server_error: the token request's own answer (its token
            // was used again), or for a revocation a retry.
            if (!(error instanceof ConflictError && error.code === 'end_contended')) throw error;
            await super.revokeByGrantId?.(id);
            throw cause === 'token_revoked'
              ? new errors.TemporarilyUnavailable('the grant is being ended by another request; try again')
              : new errors.InvalidGrant('the grant is being ended by another request');
          }
        }
      }
      try {
        await super.destroy(id);
      } catch (error) {
        // An interaction resumed already (a parallel or replayed resume of its cookie): no code.
        if (this.#model === 'Interaction' && error instanceof ConflictError) {
          throw new errors.SessionNotFound('interaction session was already used');
        }
        throw error;
      }
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
