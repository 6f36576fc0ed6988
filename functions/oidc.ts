import serverless from 'serverless-http';
import { composition } from '../shared/dependencies.js';
import {
  kms,
  doc,
  adapter,
  platformSigner,
  platformPreviousSigners,
  lookupMac,
  webMac,
  secrets,
  issuers,
  registry,
  licences,
  accounts,
  entities,
  loginAttempts,
  passwords,
  pii,
  directory,
} from '../shared/factories.js';
import { errorResult } from '../shared/http/api-handler.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import { cookieKeys, pairwiseSalt } from '../shared/sso/derived-secrets.js';
import { kmsSigningKey } from '../shared/sso/kms-signing-key.js';
import { throttleClientAuthentication } from '../shared/sso/client-auth-throttle.js';
import { createProvider } from '../shared/sso/provider.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  adapter,
  platformSigner,
  platformPreviousSigners,
  lookupMac,
  webMac,
  secrets,
  issuers,
  registry,
  licences,
  accounts,
  entities,
  loginAttempts,
  passwords,
  pii,
  directory,
});
type Dependencies = ReturnType<typeof dependencies>;

type ServerlessHandler = (event: HttpEvent, context: object) => Promise<HttpResult>;

/** One provider per set of dependencies: once per container in Lambda, anew after a local restart. */
const built = new WeakMap<Dependencies, Promise<ServerlessHandler>>();

async function build(deps: Dependencies): Promise<ServerlessHandler> {
  const signingKey = (signer: typeof deps.platformSigner) =>
    signer.publicKey().then((publicKey) => kmsSigningKey(signer, publicKey));
  const provider = createProvider({
    issuerUrl: deps.config.issuerUrl,
    adapter: deps.adapter,
    signingKey: await signingKey(deps.platformSigner),
    previousKeys: await Promise.all(deps.platformPreviousSigners.map(signingKey)),
    clientSecrets: deps.secrets,
    cookieKeys: await cookieKeys(deps.lookupMac),
    pairwiseSalt: await pairwiseSalt(deps.lookupMac),
    directory: deps.directory,
    accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
  });
  return serverless(provider, {
    binary: false,
    // serverless-http presents every request as TLS; the local runtime serves plain http and says so.
    request: (request: { socket: { encrypted?: boolean } }, event: HttpEvent) => {
      request.socket.encrypted = event.headers['x-forwarded-proto'] !== 'http';
    },
  }) as unknown as ServerlessHandler;
}

/**
 * The OpenID provider (discovery, JWKS, authorization, token, userinfo, introspection, revocation,
 * logout) behind API Gateway. The provider is built once per container; it needs the platform key's
 * public half first, which costs one KMS call per cold start. Failed client authentications are
 * throttled per client and address before the provider sees a request (see
 * {@link throttleClientAuthentication}).
 */
export async function handler(event: HttpEvent): Promise<HttpResult> {
  const deps = dependencies();
  let ready = built.get(deps);
  if (!ready) {
    ready = build(deps);
    ready.catch(() => built.delete(deps));
    built.set(deps, ready);
  }
  try {
    const serve = await ready;
    // Client secrets are guessed at the token endpoint like passwords at the login page: throttled alike.
    return await throttleClientAuthentication(event, (request) => serve(request, {}), deps);
  } catch (error) {
    return errorResult(error, event.requestContext?.requestId);
  }
}
