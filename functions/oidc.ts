import serverless from 'serverless-http';
import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import { providerRoutes } from './routes.js';
import {
  kms,
  doc,
  adapter,
  platformSigner,
  platformPreviousSigners,
  platformRsaSigner,
  platformRsaPreviousSigners,
  lookupMac,
  webMac,
  interactionMac,
  clientSecretMac,
  secrets,
  registry,
  accounts,
  entities,
  loginAttempts,
  providerReads,
  passwords,
  pii,
  directory,
  relayedAddresses,
  cookieSealer,
  scanLogins,
  spilledInteractions,
  passkeys,
  smsCodes,
  smsJobs,
  smsJobSealer,
  securityNotices,
  signIns,
  sharingGrants,
  platformSubject,
  clientReader,
  platformConsents,
  auditOf,
  providerAudit,
} from './composition/factories.js';
import { errorResult } from '../shared/http/api-handler.js';
import { checkRequestLine, withEdgeHeaders } from '../shared/http/edge.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import type { Context } from 'aws-lambda';
import { withRequestLogKeys } from '../shared/logger.js';
import {
  codeHintKey,
  cookieKeys,
  dpopNonceSecret,
  interactionCookieKey,
  pairwiseSalt,
  scanLoginCookieKey,
} from '../shared/sso/derived-secrets.js';
import { InteractionCookies } from '../shared/sso/interaction-cookies.js';
import { cookiePairs, parseCookies } from '../shared/http/cookies.js';
import { epochSeconds } from '../shared/clock.js';
import { servedOverHttps } from '../shared/web/kit/cookies.js';
import { CodeIds } from '../shared/sso/code-ids.js';
import { kmsSigningKey } from '../shared/sso/kms-signing-key.js';
import { readRetiring } from '../shared/crypto/key-set.js';
import {
  throttleClientAuthentication,
  type ClientAuthThrottleDependencies,
} from '../shared/sso/client-auth-throttle.js';
import { createProvider } from '../shared/sso/provider.js';
import { formPostedAsGet } from '../shared/sso/form-posted-request.js';
import { ScanLogins } from '../shared/identity/scan-login.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  adapter,
  platformSigner,
  platformPreviousSigners,
  platformRsaSigner,
  platformRsaPreviousSigners,
  lookupMac,
  webMac,
  interactionMac,
  clientSecretMac,
  secrets,
  registry,
  accounts,
  entities,
  loginAttempts,
  providerReads,
  passwords,
  pii,
  directory,
  relayedAddresses,
  cookieSealer,
  scanLogins,
  spilledInteractions,
  passkeys,
  smsCodes,
  smsJobs,
  smsJobSealer,
  // The security notice a takeover, a reset or a proven phone owes its holder, recorded as its pointer is
  // completed (shared/identity/security-notices.ts).
  securityNotices,
  signIns,
  // The real owner taking an account back withdraws the squatter's consents, each platform told.
  sharingGrants,
  platformSubject,
  clientReader,
  platformConsents,
  audit: auditOf('oidc'),
  // A takeover's or a password reset's audit entries saved until written: its own partition, no other
  // pending work.
  providerAudit,
});
type Dependencies = ReturnType<typeof dependencies>;
const served = routesOf('oidc');
/** Where the provider serves each endpoint: where the route table sends it, and nowhere else. */
const routes = providerRoutes();

type ServerlessHandler = (event: HttpEvent, context: object) => Promise<HttpResult>;

/** The provider as a handler, and what its client-authentication throttle needs. */
interface Built {
  serve: ServerlessHandler;
  throttle: ClientAuthThrottleDependencies;
  /**
   * Where the sign-ins under way are kept: the browser's sealed cookies, and the table for one too large
   * for its cookie (shared/sso/interaction-cookies.ts).
   */
  interactions: InteractionCookies;
}

/** One provider per set of dependencies: once per container in Lambda, anew after a local restart. */
const built = new WeakMap<Dependencies, Promise<Built>>();

async function build(deps: Dependencies): Promise<Built> {
  // Codes name, sealed, what the token endpoint reads with them: one round trip for the exchange.
  const codeIds = new CodeIds(await codeHintKey(deps.interactionMac));
  const signingKey = (signer: typeof deps.platformSigner | typeof deps.platformRsaSigner) =>
    signer.publicKey().then((publicKey) => kmsSigningKey(signer, publicKey));
  const provider = createProvider({
    issuerUrl: deps.config.issuerUrl,
    adapter: deps.adapter,
    signingKey: await signingKey(deps.platformSigner),
    rsaSigningKey: await signingKey(deps.platformRsaSigner),
    // A generation retired meanwhile (step 2 of a rotation, this version still serving) is left out
    // rather than failing the container's start (R49 F1).
    previousKeys: await readRetiring(
      [...deps.platformPreviousSigners, ...deps.platformRsaPreviousSigners],
      signingKey,
    ),
    clientSecrets: deps.secrets,
    // From the provider's own key: session ids are in the table, which other functions query, and with
    // keys derived from the lookup key (which they hold) they could sign a person's session cookie.
    cookieKeys: await cookieKeys(deps.interactionMac),
    pairwiseSalt: await pairwiseSalt(deps.lookupMac),
    // From the provider's own key too: whoever derives it can compute the DPoP nonces of minutes to come.
    dpopNonceSecret: await dpopNonceSecret(deps.interactionMac),
    codeIds,
    directory: deps.directory,
    accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
    routes,
    scanLogins: new ScanLogins(deps.scanLogins, deps.clock, deps.config.scanLoginSeconds),
    scanLoginWaitSeconds: deps.config.scanLoginWaitSeconds,
    scanLoginCookieKey: await scanLoginCookieKey(deps.interactionMac),
    clock: deps.clock,
    passkeys: { passkeys: deps.passkeys, clock: deps.clock },
    proofs: deps,
  });
  const origin = new URL(deps.config.issuerUrl);
  const serve = serverless(provider, {
    binary: false,
    request: (request: { socket: { encrypted?: boolean }; headers: Record<string, unknown> }) =>
      pinPublicOrigin(request, origin),
  }) as unknown as ServerlessHandler;
  const throttle: ClientAuthThrottleDependencies = {
    loginAttempts: deps.loginAttempts,
    lookupMac: deps.lookupMac,
    relayedAddresses: deps.relayedAddresses,
    clock: deps.clock,
    codeExchange: { codeIds, reads: deps.providerReads },
  };
  // The interaction's cookie goes to its pages and to the provider's resume (`<authorization>/<uid>`).
  // Its key derives from the provider's own interaction key, never from the lookup key: the functions
  // that hold the lookup key could otherwise seal a login result for anyone.
  const interactions = new InteractionCookies(await interactionCookieKey(deps.interactionMac), {
    secure: servedOverHttps(deps.config.issuerUrl),
    paths: (uid) => [`/interaction/${uid}`, `${routes.authorization}/${uid}`],
    spilled: deps.spilledInteractions,
  });
  return { serve, throttle, interactions };
}

/**
 * oidc-provider's own pointers to an interaction (`_interaction` on `/interaction/<uid>`, `_interaction_resume`
 * on `/authorize/<uid>`, and their signatures): of two copies the first is read, which a browser sends for
 * the longer path, so one a sibling host planted for a shorter path cannot block every sign-in of the
 * browser; what they point at opens only with the browser's binding (`InteractionCookies`).
 */
const providerPointer = /^_interaction(?:_resume)?(?:\.sig)?$/;

/** `event` with its cookies as `name=value` pairs, each name sent once, and its `Cookie` header the same. */
function withCookiesOnce(event: HttpEvent): HttpEvent & { cookies: string[] } {
  const cookies = [...parseCookies(cookiePairs(event), (name) => providerPointer.test(name))].map(
    ([name, value]) => `${name}=${value}`,
  );
  const headers = Object.fromEntries(
    Object.entries(event.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'cookie'),
  );
  if (cookies.length > 0) headers.cookie = cookies.join('; ');
  // serverless-http would read a v1 event's multi-value Cookie header; none may bypass the list above.
  const { multiValueHeaders, ...rest } = event as HttpEvent & { multiValueHeaders?: Record<string, unknown> };
  const multi =
    multiValueHeaders &&
    Object.fromEntries(Object.entries(multiValueHeaders).filter(([name]) => name.toLowerCase() !== 'cookie'));
  return { ...rest, ...(multi ? { multiValueHeaders: multi } : {}), headers, cookies };
}

/**
 * The provider builds every URL it publishes (discovery, the JWKS URI, redirects, the forms of its pages)
 * from the request's scheme and host. Those come from ISSUER_URL alone: the Host header and the headers
 * a proxy would set (X-Forwarded-Host, X-Forwarded-Proto, Forwarded) are the client's to forge, as API
 * Gateway passes them through, so they are replaced or dropped before the provider sees the request.
 */
function pinPublicOrigin(
  request: { socket: { encrypted?: boolean }; headers: Record<string, unknown> },
  origin: URL,
): void {
  request.socket.encrypted = origin.protocol === 'https:';
  for (const name of ['x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'forwarded']) {
    delete request.headers[name];
  }
  request.headers.host = origin.host;
}

/**
 * The OpenID provider (discovery, JWKS, authorization, token, userinfo, introspection, revocation,
 * logout) behind API Gateway. The provider is built once per container; it needs the platform key's
 * public half first, which costs one KMS call per cold start. Failed client authentications are
 * throttled per client and address before the provider sees a request (see
 * {@link throttleClientAuthentication}).
 */
export function handler(event: HttpEvent, context?: Context): Promise<HttpResult> {
  // Each line logged while serving names the request (the id an error page shows a citizen).
  return withRequestLogKeys(event, context, () => serveOidc(event));
}

async function serveOidc(event: HttpEvent): Promise<HttpResult> {
  const deps = dependencies();
  let ready = built.get(deps);
  if (!ready) {
    ready = build(deps);
    ready.catch(() => built.delete(deps));
    built.set(deps, ready);
  }
  try {
    checkRequestLine(event, served.edge.parametersOf(event.routeKey));
    // A form-posted authorization or logout request goes back as the GET the provider serves with the
    // session's SameSite=Lax cookie (shared/sso/form-posted-request.ts), before anything is built for it.
    const asGet = formPostedAsGet(event, {
      authorization: routes.authorization,
      endSession: routes.end_session,
    });
    if (asGet) return withEdgeHeaders(asGet, served.edge.secure());
    const { serve, throttle, interactions } = await ready;
    // The provider reads the request's cookies as `sent`: each name once, trimmed of spaces and tabs only
    // (shared/http/cookies.ts). Its own parser would take the first of a name sent twice, an order a
    // sibling host chooses by the path it plants a copy for, and a gateway's or a parser's Unicode trim
    // would turn `\u3000__Host-session` into the session: a name sent twice is no cookie at all.
    const sent = withCookiesOnce(event);
    // The sign-ins under way this browser holds, sealed in its cookies; what the provider saves of them
    // goes back as cookies on the answer.
    const jar = interactions.jar(sent.cookies, () => epochSeconds(deps.clock));
    // Client secrets are guessed at the token endpoint like passwords at the login page: throttled alike.
    // Each invocation reads for itself: what one request reads ahead answers only that request's reads.
    const provided = await deps.providerReads.scope(
      () => throttleClientAuthentication(sent, (request) => serve(request, {}), throttle, routes),
      { interactions: jar },
    );
    const setCookies = jar.setCookies();
    const answer =
      setCookies.length === 0
        ? provided
        : { ...provided, cookies: [...(provided.cookies ?? []), ...setCookies] };
    // The JWKS is the ID-token keys alone: presentations are signed by the presentation key, published in
    // the trust list, never here (a relying party accepts any key of this set for an ID token).
    return withEdgeHeaders(answer, served.edge.secure());
  } catch (error) {
    return withEdgeHeaders(errorResult(error, event.requestContext?.requestId, event), served.edge.secure());
  }
}
