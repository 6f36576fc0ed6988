import type { ParameterKind } from '../shared/http/edge.js';
import type { ProviderEndpoint } from '../shared/sso/provider.js';

export type { ParameterKind };

/**
 * The one route table. The CDK stack builds API Gateway routes from it and the local server dispatches
 * from it; nothing else lists routes.
 *
 * `function` names the entry point `functions/<function>.ts` (its export `handler`). `auth` documents who
 * may call: `public`; `oauth` (the OpenID provider authenticates the client or person itself); `session`
 * (a page of ours: the function reads its sealed session cookie, and refuses posts from other sites);
 * or a bearer token with the named scope, which the function checks against the token store.
 */
export const functionNames = [
  'health',
  'oidc',
  'admin',
  'catalogue',
  'status-lists',
  'trust-list',
  'licences',
  'verify',
  'me',
  'accounts',
  'web',
  'wallet',
  'demo-platform',
  'console',
  // 电子监察: the supervisor's API (statistics, alerts).
  'supervision',
  // No route: the consumer of the table's stream (audit entries → statistics and alerts), invoked by
  // the event source mapping in AWS and by the local runtime's stream tap (infra/local/streams.ts).
  'supervision-events',
  'audit',
  // No route: the schedule that refreshes the peer platforms' trust lists (跨地区互认, docs/peers.md).
  'peers',
  // No route: bulk issuance jobs (docs/batch-issuance.md), fed by an SQS queue in AWS and by the local
  // runtime's queue (infra/local/queues.ts).
  'batches',
  // No route: sends the SMS codes people asked for, after the answer (shared/identity/sms-jobs.ts), fed by
  // the SMS queue in AWS and by the local runtime's queue (infra/local/queues.ts).
  'sms-codes',
  // No route: signs the trust list and status lists (shared/licence/list-signer.ts), invoked only by
  // `trust-list` and `status-lists` (their `invokes` grant), in process by the local runtime's emulator
  // (infra/local/lambda-emulator.ts).
  'list-signer',
  // No route: delivers withdrawal notices to the platforms (shared/sharing/withdrawal-notices.ts), run by
  // a schedule in AWS and by the local runtime's delivery round (infra/local/runtime.ts).
  'notices',
  // No route: finishes what changes of licences left undone (audit entries, status lists), run every
  // minute by the stack's schedule and by the local runtime's (shared/pending-work/pending-work.ts).
  'pending-work-reconciler',
  // No route: checks the audit trail's hash chains daily, as `npm run audit:verify` does, and logs the
  // outcome the stack alarms on (shared/supervision/audit-chain-check.ts).
  'audit-check',
] as const;
export type FunctionName = (typeof functionNames)[number];

/** `OPTIONS` only for the preflight routes API Gateway gets beside the table's ({@link gatewayRoutes}). */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'ANY';
/**
 * `alsoScope`: a second kind of caller the route serves, with a token carrying that scope instead (the
 * function decides what each may see; `GET /licences/{id}`: the issuer, or the licence's holder).
 */
export type RouteAuth = 'public' | 'oauth' | 'session' | { scope: string; alsoScope?: string };

export interface Route {
  method: Method;
  /** API Gateway syntax: `{name}` for one segment, `{name+}` for the rest of the path. */
  path: string;
  function: FunctionName;
  auth: RouteAuth;
  /**
   * The kind of each `{name}` of the path (shapes in `parameterRules`, shared/http/edge.ts, checked before
   * the function reads a parameter, so that no id reaches a table or a library unbounded); a parameter
   * without one is refused (404).
   */
  parameters?: Readonly<Record<string, ParameterKind>>;
  /**
   * For the OpenID function: the provider endpoint served at this path, for those whose path the
   * provider lets us choose (its `routes` option, built from this table by {@link providerRoutes}).
   */
  endpoint?: ProviderEndpoint;
  /**
   * This route's own API Gateway throttling (the stage's route settings), below the default route
   * throttle: for public routes whose every call writes (an audit entry, an account), so that a flood of
   * them is refused with 429 on that route sooner (docs/security.md, "Throttling"). Absent: the default
   * route throttle (the stack's `throttle`), a bucket of the route's own as well: API Gateway throttles an
   * HTTP API per route, not per stage (review R50 F2). The local runtime does not throttle.
   */
  throttle?: RouteThrottle;
  /**
   * Open to web pages of any origin (CORS, docs/security.md "Cross-origin calls"): every answer carries
   * `Access-Control-Allow-Origin: *`, never with credentials, and API Gateway gets an `OPTIONS` route for
   * the path whose preflight the function answers ({@link gatewayRoutes}). Only for public routes that
   * browser verifiers need: verification and what it reads (trust list, issuers, status lists, the
   * catalogue) and the OpenAPI document; never a route of an operator, an issuer, a clerk or a holder.
   */
  cors?: true;
}

/** Steady-state requests per second and burst (API Gateway's token bucket), as for the stage. */
export interface RouteThrottle {
  rateLimit: number;
  burstLimit: number;
}

/** A route of the OpenID function, which hands every method of it to the provider. */
function oidc<
  const Path extends string,
  const Extra extends Pick<Route, 'parameters' | 'endpoint'> = Record<never, never>,
>(path: Path, extra?: Extra): { method: 'ANY'; path: Path; function: 'oidc'; auth: 'oauth' } & Extra {
  return { method: 'ANY', path, function: 'oidc', auth: 'oauth', ...(extra as Extra) };
}
const licence = { id: 'licenceId' } as const;
const issuer = { id: 'issuerId' } as const;
const issuerKey = { id: 'issuerId', kid: 'issuerKeyId' } as const;
const peer = { id: 'peerId' } as const;
const client = { id: 'clientId' } as const;
const scanCode = { code: 'scanLoginCode' } as const;
const agent = { agentId: 'agentId' } as const;
/**
 * The throttles of the public routes that write on every call (security review r2, Medium: floods of
 * anonymous verifications). A verification records a usage entry per call, and a static QR code is on
 * every printout; a printable licence's check takes bodies of up to ~1.4 MB; a registration hashes a
 * password with scrypt and writes an account. Each is well below the default route throttle, 200 rps /
 * 400 burst, which every other route gets in a bucket of its own.
 */
const verifyThrottle = { rateLimit: 50, burstLimit: 100 } as const;
const verifyPdfThrottle = { rateLimit: 10, burstLimit: 20 } as const;
const registrationThrottle = { rateLimit: 10, burstLimit: 20 } as const;

/** The table with its literal types, from which route keys are derived ({@link RouteKey}). */
const table = [
  { method: 'GET', path: '/healthz', function: 'health', auth: 'public' },
  { method: 'GET', path: '/licence-types', function: 'catalogue', auth: 'public', cors: true },
  // A credential's `vct` (shared/licence/issue-licence.ts).
  {
    method: 'GET',
    path: '/licence-types/{code}',
    function: 'catalogue',
    auth: 'public',
    parameters: { code: 'licenceTypeCode' },
    cors: true,
  },
  // The OpenAPI 3.1 document of every API route (functions/openapi/), built once per container.
  { method: 'GET', path: '/openapi.json', function: 'catalogue', auth: 'public', cors: true },
  // The JSON Schema of a person's data export (`GET /me/export`, shared/personal-data/data-export.ts), for
  // whoever validates a file: as docs/schemas/data-export-1.schema.json commits it.
  {
    method: 'GET',
    path: '/schemas/data-export-1.json',
    function: 'catalogue',
    auth: 'public',
    cors: true,
  },
  { method: 'GET', path: '/trust-list', function: 'trust-list', auth: 'public', cors: true },
  // The keys withdrawal notices are signed with (shared/sharing/notice-keys.ts): apart from the OpenID JWKS,
  // so that no relying party accepts one for an ID token (review R31 L1). For platforms' servers: no CORS.
  { method: 'GET', path: '/.well-known/notices-jwks.json', function: 'trust-list', auth: 'public' },
  // A credential's `iss`: the issuer's public metadata and keys, as the trust list names it.
  {
    method: 'GET',
    path: '/issuers/{id}',
    function: 'trust-list',
    auth: 'public',
    parameters: issuer,
    cors: true,
  },
  {
    method: 'GET',
    path: '/status-lists/{listId}',
    function: 'status-lists',
    auth: 'public',
    parameters: { listId: 'listId' },
    cors: true,
  },
  // Public; a verifier client's token (scope licences:verify) also sees the disclosed fields.
  {
    method: 'POST',
    path: '/verify',
    function: 'verify',
    auth: 'public',
    throttle: verifyThrottle,
    cors: true,
  },
  // A printable licence's file checked against its detached signature (docs/printable-licence.md).
  {
    method: 'POST',
    path: '/verify/pdf',
    function: 'verify',
    auth: 'public',
    throttle: verifyPdfThrottle,
    cors: true,
  },

  oidc('/.well-known/openid-configuration'),
  // RFC 8414 metadata: the discovery document again (shared/sso/provider.ts, authorizationServerMetadata).
  oidc('/.well-known/oauth-authorization-server'),
  oidc('/.well-known/jwks.json', { endpoint: 'jwks' }),
  oidc('/authorize', { endpoint: 'authorization' }),
  oidc('/authorize/{uid}', { parameters: { uid: 'interactionUid' } }),
  oidc('/token', { endpoint: 'token' }),
  oidc('/request', { endpoint: 'pushed_authorization_request' }),
  oidc('/token/introspection', { endpoint: 'introspection' }),
  oidc('/token/revocation', { endpoint: 'revocation' }),
  oidc('/userinfo', { endpoint: 'userinfo' }),
  oidc('/session/end', { endpoint: 'end_session' }),
  oidc('/session/end/confirm'),
  oidc('/session/end/success'),
  oidc('/interaction/{uid}', { parameters: { uid: 'interactionUid' } }),
  oidc('/interaction/{uid}/{step}', { parameters: { uid: 'interactionUid', step: 'interactionStep' } }),

  { method: 'POST', path: '/licences', function: 'licences', auth: { scope: 'licences:issue' } },
  // Whom the caller acts as: its issuer and, for a clerk of the issuer console, the clerk's reference.
  { method: 'GET', path: '/issuer', function: 'licences', auth: { scope: 'licences:issue' } },
  { method: 'GET', path: '/licences', function: 'licences', auth: { scope: 'licences:issue' } },
  // The search by holder: the ID number in the body, never in a URL that access logs keep.
  { method: 'POST', path: '/licences/search', function: 'licences', auth: { scope: 'licences:issue' } },
  // Bulk issuance (存量证照电子化, docs/batch-issuance.md): a job of up to 1,000 items, run by `batches`.
  { method: 'POST', path: '/licences/batches', function: 'licences', auth: { scope: 'licences:issue' } },
  {
    method: 'GET',
    path: '/licences/batches/{id}',
    function: 'licences',
    auth: { scope: 'licences:issue' },
    parameters: { id: 'batchId' },
  },
  {
    method: 'GET',
    path: '/licences/batches/{id}/licences',
    function: 'licences',
    auth: { scope: 'licences:issue' },
    parameters: { id: 'batchId' },
  },
  {
    method: 'GET',
    path: '/licences/{id}',
    function: 'licences',
    // Its issuer, or its holder's token (API.md); anyone else a 404.
    auth: { scope: 'licences:issue', alsoScope: 'licences' },
    parameters: licence,
  },
  {
    method: 'POST',
    path: '/licences/{id}/status',
    function: 'licences',
    auth: { scope: 'licences:issue' },
    parameters: licence,
  },
  {
    method: 'POST',
    path: '/licences/{id}/reissue',
    function: 'licences',
    auth: { scope: 'licences:issue' },
    parameters: licence,
  },
  {
    method: 'GET',
    path: '/licences/{id}/qr.svg',
    function: 'licences',
    auth: { scope: 'licences:issue' },
    parameters: licence,
  },
  {
    method: 'GET',
    path: '/licences/{id}/qr.png',
    function: 'licences',
    auth: { scope: 'licences:issue' },
    parameters: licence,
  },
  // The printable licence (电子证照版式文件, docs/printable-licence.md): the PDF, and its detached signature.
  {
    method: 'GET',
    path: '/licences/{id}/pdf',
    function: 'licences',
    auth: { scope: 'licences:issue' },
    parameters: licence,
  },
  {
    method: 'GET',
    path: '/licences/{id}/pdf.jws',
    function: 'licences',
    auth: { scope: 'licences:issue' },
    parameters: licence,
  },

  { method: 'POST', path: '/admin/issuers', function: 'admin', auth: { scope: 'admin' } },
  {
    method: 'POST',
    path: '/admin/issuers/{id}/keys',
    function: 'admin',
    auth: { scope: 'admin' },
    parameters: issuer,
  },
  {
    method: 'POST',
    path: '/admin/issuers/{id}/keys/{kid}/withdraw',
    function: 'admin',
    auth: { scope: 'admin' },
    parameters: issuerKey,
  },
  {
    method: 'POST',
    path: '/admin/issuers/{id}/withdraw',
    function: 'admin',
    auth: { scope: 'admin' },
    parameters: issuer,
  },
  { method: 'POST', path: '/admin/clients', function: 'admin', auth: { scope: 'admin' } },
  {
    method: 'PATCH',
    path: '/admin/clients/{id}',
    function: 'admin',
    auth: { scope: 'admin' },
    parameters: client,
  },
  {
    method: 'POST',
    path: '/admin/clients/{id}/secret',
    function: 'admin',
    auth: { scope: 'admin' },
    parameters: client,
  },
  { method: 'GET', path: '/admin/audit', function: 'admin', auth: { scope: 'admin' } },
  // Peer platforms (跨地区互认, docs/peers.md).
  { method: 'POST', path: '/admin/peers', function: 'admin', auth: { scope: 'admin' } },
  { method: 'GET', path: '/admin/peers', function: 'admin', auth: { scope: 'admin' } },
  {
    method: 'POST',
    path: '/admin/peers/{id}/refresh',
    function: 'admin',
    auth: { scope: 'admin' },
    parameters: peer,
  },
  {
    method: 'DELETE',
    path: '/admin/peers/{id}',
    function: 'admin',
    auth: { scope: 'admin' },
    parameters: peer,
  },
  // 电子监察 (docs/supervision-statistics-and-alerts.md): counters and alerts kept by supervision-events.
  { method: 'GET', path: '/supervision/stats', function: 'supervision', auth: { scope: 'supervision' } },
  { method: 'GET', path: '/supervision/alerts', function: 'supervision', auth: { scope: 'supervision' } },
  // Supervision (电子监察): the chained audit trail and its signed checkpoints.
  { method: 'GET', path: '/supervision/audit', function: 'audit', auth: { scope: 'supervision' } },
  {
    method: 'GET',
    path: '/supervision/audit/checkpoints',
    function: 'audit',
    auth: { scope: 'supervision' },
  },
  {
    method: 'POST',
    path: '/supervision/audit/checkpoints',
    function: 'audit',
    auth: { scope: 'supervision' },
  },
  // Every generation of the audit-checkpoint key, public and kept for ever (docs/supervision.md, "Keys").
  { method: 'GET', path: '/supervision/audit/keys', function: 'audit', auth: 'public' },
  // The heads a checkpoint signs the digest of, in pages (docs/supervision.md, "Checkpoints").
  {
    method: 'GET',
    path: '/supervision/audit/checkpoints/heads',
    function: 'audit',
    auth: { scope: 'supervision' },
  },

  {
    method: 'POST',
    path: '/accounts',
    function: 'accounts',
    auth: 'public',
    throttle: registrationThrottle,
  },
  { method: 'GET', path: '/register', function: 'accounts', auth: 'public' },
  {
    method: 'POST',
    path: '/register',
    function: 'accounts',
    auth: 'public',
    throttle: registrationThrottle,
  },
  // The account itself (shared/identity/close-account.ts): what it holds, and closing it (注销), from a
  // first-party app with a fresh sign-in at the account's level.
  { method: 'GET', path: '/me/account', function: 'accounts', auth: { scope: 'licences' } },
  { method: 'DELETE', path: '/me/account', function: 'accounts', auth: { scope: 'licences' } },
  // A counter clerk proves a person in person (当面核验, shared/identity/counter-proof.ts): the issuer
  // console's token, the appointment listing `accounts:prove-in-person` (checked in the function).
  {
    method: 'POST',
    path: '/counter/accounts/lookup',
    function: 'accounts',
    auth: { scope: 'licences:issue' },
  },
  {
    method: 'POST',
    path: '/counter/accounts/prove',
    function: 'accounts',
    auth: { scope: 'licences:issue' },
  },
  { method: 'GET', path: '/me/licences', function: 'me', auth: { scope: 'licences' } },
  // The person's copy of their data (导出我的数据, shared/personal-data/data-export.ts): one JSON file, from a
  // first-party app with a fresh sign-in at the account's level.
  { method: 'GET', path: '/me/export', function: 'me', auth: { scope: 'licences' } },
  // The usage record (用证记录): shares, verifications and presentations of the holder's licences.
  { method: 'GET', path: '/me/usage', function: 'me', auth: { scope: 'licences' } },
  {
    method: 'POST',
    path: '/me/licences/{id}/presentations',
    function: 'me',
    auth: { scope: 'licences' },
    parameters: licence,
  },
  // The printable licence (docs/printable-licence.md): the PDF of one's own licence, and its signature.
  {
    method: 'GET',
    path: '/me/licences/{id}/pdf',
    function: 'me',
    auth: { scope: 'licences' },
    parameters: licence,
  },
  {
    method: 'GET',
    path: '/me/licences/{id}/pdf.jws',
    function: 'me',
    auth: { scope: 'licences' },
    parameters: licence,
  },
  // Passkeys (shared/identity/passkeys.ts): a person signed in at level 3 lists, enrols and removes them.
  { method: 'GET', path: '/me/passkeys', function: 'me', auth: { scope: 'licences' } },
  { method: 'POST', path: '/me/passkeys/options', function: 'me', auth: { scope: 'licences' } },
  { method: 'POST', path: '/me/passkeys', function: 'me', auth: { scope: 'licences' } },
  {
    method: 'DELETE',
    path: '/me/passkeys/{id}',
    function: 'me',
    auth: { scope: 'licences' },
    parameters: { id: 'passkeyId' },
  },
  // Sharing licences with platforms (授权用证, shared/sharing/): the person's authorizations, and withdrawing one.
  { method: 'GET', path: '/me/authorizations', function: 'me', auth: { scope: 'licences' } },
  {
    method: 'DELETE',
    path: '/me/authorizations/{id}',
    function: 'me',
    auth: { scope: 'licences' },
    parameters: { id: 'authorizationId' },
  },
  // A platform reads what a person shared with it: any of its access tokens for our API (scope `openid`)
  // whose grant carries `licence_access` authorization details, which the function checks.
  { method: 'GET', path: '/shared/licences', function: 'me', auth: { scope: 'openid' } },
  { method: 'GET', path: '/me/entities', function: 'accounts', auth: { scope: 'entity' } },
  { method: 'POST', path: '/me/entities', function: 'accounts', auth: { scope: 'entity' } },
  {
    method: 'GET',
    path: '/me/entities/{creditCode}/agents',
    function: 'accounts',
    auth: { scope: 'entity' },
    parameters: { creditCode: 'creditCode' },
  },
  {
    method: 'POST',
    path: '/me/entities/{creditCode}/agents',
    function: 'accounts',
    auth: { scope: 'entity' },
    parameters: { creditCode: 'creditCode' },
  },
  {
    method: 'DELETE',
    path: '/me/entities/{creditCode}/agents/{agentId}',
    function: 'accounts',
    auth: { scope: 'entity' },
    parameters: { creditCode: 'creditCode', agentId: 'agentId' },
  },

  // The pages people use (DESIGN.md, shared/web): server-rendered, our own scripts only.
  { method: 'GET', path: '/', function: 'web', auth: 'public' },
  {
    method: 'GET',
    path: '/assets/{file}',
    function: 'web',
    auth: 'public',
    parameters: { file: 'assetFile' },
  },
  { method: 'GET', path: '/sw.js', function: 'web', auth: 'public' },
  { method: 'GET', path: '/verifier', function: 'web', auth: 'public' },
  // Any other GET (API Gateway picks the most specific route, a greedy one last): a person's browser gets
  // a "page not found" in the site's layout; a program, API Gateway's own 404 body, as before.
  { method: 'GET', path: '/{path+}', function: 'web', auth: 'public', parameters: { path: 'unknownPath' } },

  { method: 'GET', path: '/wallet', function: 'wallet', auth: 'session' },
  { method: 'GET', path: '/wallet/login', function: 'wallet', auth: 'session' },
  { method: 'GET', path: '/wallet/callback', function: 'wallet', auth: 'session' },
  { method: 'POST', path: '/wallet/logout', function: 'wallet', auth: 'session' },
  { method: 'GET', path: '/wallet/licences/{id}', function: 'wallet', auth: 'session', parameters: licence },
  {
    method: 'GET',
    path: '/wallet/licences/{id}/qr',
    function: 'wallet',
    auth: 'session',
    parameters: licence,
  },
  // The printable licence and its signature, downloaded through the holder API.
  {
    method: 'GET',
    path: '/wallet/licences/{id}/pdf',
    function: 'wallet',
    auth: 'session',
    parameters: licence,
  },
  {
    method: 'GET',
    path: '/wallet/licences/{id}/pdf.jws',
    function: 'wallet',
    auth: 'session',
    parameters: licence,
  },
  {
    method: 'POST',
    path: '/wallet/licences/{id}/presentations',
    function: 'wallet',
    auth: 'session',
    parameters: licence,
  },
  // Scan-to-login (扫码登录): the wallet's session confirms a code shown on a sign-in page.
  { method: 'GET', path: '/scan-login/{code}', function: 'wallet', auth: 'session', parameters: scanCode },
  { method: 'POST', path: '/scan-login/{code}', function: 'wallet', auth: 'session', parameters: scanCode },

  // Passkeys in the wallet: the page, the script's two enrolment calls (JSON), removal (a form).
  { method: 'GET', path: '/wallet/passkeys', function: 'wallet', auth: 'session' },
  // The usage record (用证记录): the page reads GET /me/usage with the wallet's token.
  { method: 'GET', path: '/wallet/usage', function: 'wallet', auth: 'session' },
  { method: 'POST', path: '/wallet/passkeys/options', function: 'wallet', auth: 'session' },
  { method: 'POST', path: '/wallet/passkeys', function: 'wallet', auth: 'session' },
  {
    method: 'POST',
    path: '/wallet/passkeys/{id}/remove',
    function: 'wallet',
    auth: 'session',
    parameters: { id: 'passkeyId' },
  },

  // The account (我的账号): what it holds; closing it (注销账号): the confirmation after a fresh sign-in, and
  // the confirmed form.
  { method: 'GET', path: '/wallet/account', function: 'wallet', auth: 'session' },
  { method: 'GET', path: '/wallet/account/close', function: 'wallet', auth: 'session' },
  { method: 'POST', path: '/wallet/account/close', function: 'wallet', auth: 'session' },
  // A copy of the person's data (导出我的数据): the page, after the fresh sign-in its link asks for, and
  // its form, which answers the holder API's file as a download.
  { method: 'GET', path: '/wallet/account/export', function: 'wallet', auth: 'session' },
  { method: 'POST', path: '/wallet/account/export', function: 'wallet', auth: 'session' },

  // The platforms the person let read their licences (已授权的平台), and withdrawing one (a form).
  { method: 'GET', path: '/wallet/authorizations', function: 'wallet', auth: 'session' },
  {
    method: 'POST',
    path: '/wallet/authorizations/{id}/withdraw',
    function: 'wallet',
    auth: 'session',
    parameters: { id: 'authorizationId' },
  },

  // An enterprise's agents (经办人): its legal representative lists, appoints (a form) and withdraws them
  // (a confirmation, then its form), through /me/entities/{creditCode}/agents with the wallet's token.
  { method: 'GET', path: '/wallet/agents', function: 'wallet', auth: 'session' },
  { method: 'POST', path: '/wallet/agents', function: 'wallet', auth: 'session' },
  {
    method: 'GET',
    path: '/wallet/agents/{agentId}/withdraw',
    function: 'wallet',
    auth: 'session',
    parameters: agent,
  },
  {
    method: 'POST',
    path: '/wallet/agents/{agentId}/withdraw',
    function: 'wallet',
    auth: 'session',
    parameters: agent,
  },

  { method: 'GET', path: '/demo', function: 'demo-platform', auth: 'session' },
  { method: 'GET', path: '/demo/login', function: 'demo-platform', auth: 'session' },
  // 办理业务: the demo asks to read a driving licence (授权用证) and verifies what it receives.
  { method: 'GET', path: '/demo/business', function: 'demo-platform', auth: 'session' },
  { method: 'GET', path: '/demo/callback', function: 'demo-platform', auth: 'session' },
  { method: 'POST', path: '/demo/logout', function: 'demo-platform', auth: 'session' },

  { method: 'GET', path: '/console', function: 'console', auth: 'session' },
  // The list filtered by holder: posted, so that an ID number never lands in a URL or the history.
  { method: 'POST', path: '/console', function: 'console', auth: 'session' },
  // The posted search as a CSV file (holder numbers masked), up to a bound.
  { method: 'POST', path: '/console/export', function: 'console', auth: 'session' },
  { method: 'POST', path: '/console/login', function: 'console', auth: 'session' },
  // A clerk's sign-in through the unified identity (acting for the agency): start, and the provider's answer.
  { method: 'GET', path: '/console/login', function: 'console', auth: 'session' },
  { method: 'GET', path: '/console/callback', function: 'console', auth: 'session' },
  { method: 'POST', path: '/console/logout', function: 'console', auth: 'session' },
  { method: 'GET', path: '/console/licences/new', function: 'console', auth: 'session' },
  { method: 'POST', path: '/console/licences', function: 'console', auth: 'session' },
  // 当面核验: a clerk proves a person in person (the API's /counter/accounts/…, docs/console.md).
  { method: 'GET', path: '/console/counter', function: 'console', auth: 'session' },
  { method: 'POST', path: '/console/counter', function: 'console', auth: 'session' },
  {
    method: 'GET',
    path: '/console/licences/{id}',
    function: 'console',
    auth: 'session',
    parameters: licence,
  },
  {
    method: 'POST',
    path: '/console/licences/{id}/status',
    function: 'console',
    auth: 'session',
    parameters: licence,
  },
  {
    method: 'POST',
    path: '/console/licences/{id}/reissue',
    function: 'console',
    auth: 'session',
    parameters: licence,
  },
  // The printable licence and its signature, downloaded through the issuer API.
  {
    method: 'GET',
    path: '/console/licences/{id}/pdf',
    function: 'console',
    auth: 'session',
    parameters: licence,
  },
  {
    method: 'GET',
    path: '/console/licences/{id}/pdf.jws',
    function: 'console',
    auth: 'session',
    parameters: licence,
  },

  // The supervising office's console (电子监察), served by the same function with a session of its own.
  { method: 'GET', path: '/supervision', function: 'console', auth: 'session' },
  { method: 'POST', path: '/supervision/login', function: 'console', auth: 'session' },
  { method: 'POST', path: '/supervision/logout', function: 'console', auth: 'session' },
  // A licence's chained audit trail, checked: the licence id is a query parameter, as the form sends it.
  { method: 'GET', path: '/supervision/trail', function: 'console', auth: 'session' },
] as const satisfies readonly Route[];

export const routes: readonly Route[] = table;

/**
 * The preflight route (`OPTIONS`) of each path that has a `cors` route: to that route's function, which
 * answers it itself (shared/http/cors.ts), so that the route table stays the one place that says which
 * routes browsers of other origins may call. Not in {@link routes}: a preflight is no operation of the API
 * (no handler, no OpenAPI entry), only what API Gateway and the local runtime must route.
 */
export function preflightRoutes(of: readonly Route[] = routes): Route[] {
  const byPath = new Map<string, Route>();
  for (const route of of) {
    if (!route.cors || byPath.has(route.path)) continue;
    byPath.set(route.path, {
      method: 'OPTIONS',
      path: route.path,
      function: route.function,
      auth: 'public',
      ...(route.parameters && { parameters: route.parameters }),
      cors: true,
    });
  }
  return [...byPath.values()];
}

/** What API Gateway routes (and the local runtime, as it does): the table and its preflight routes. */
export const gatewayRoutes: readonly Route[] = [...routes, ...preflightRoutes()];

/**
 * The methods browsers of any origin may call at a route key's path (`Access-Control-Allow-Methods`), for
 * a `cors` route or its preflight; `undefined` for any other route key, whose answers carry no CORS header.
 */
export function crossOriginMethods(
  key: string,
  of: readonly Route[] = routes,
): readonly string[] | undefined {
  const path = key.startsWith('OPTIONS ')
    ? key.slice('OPTIONS '.length)
    : of.find((candidate) => candidate.cors && routeKey(candidate) === key)?.path;
  const methods = of.filter((candidate) => candidate.cors && candidate.path === path);
  return methods.length > 0 ? methods.map((candidate) => candidate.method) : undefined;
}

type TableRoute = (typeof table)[number];
/** Each route's own key (distributed over the union, so that no method is paired with another's path). */
type KeyOf<R> = R extends { method: infer M extends string; path: infer P extends string }
  ? `${M} ${P}`
  : never;

/**
 * The API Gateway route keys (`"METHOD /path"`) of the routes of function `F`, from the table: a
 * misspelled key, or one of another function, does not compile.
 *
 * @example
 * ```ts
 * const key: RouteKey<'admin'> = 'POST /admin/issuers';
 * ```
 */
export type RouteKey<F extends FunctionName = FunctionName> = KeyOf<Extract<TableRoute, { function: F }>>;

/** The API Gateway route key of a route, e.g. `POST /admin/issuers`. */
export function routeKey(route: Route): string {
  return `${route.method} ${route.path}`;
}

/** The table's routes that place a provider endpoint, each with its literal endpoint and path. */
type Placing = Extract<TableRoute, { endpoint: string }>;

/**
 * The paths of the OpenID provider's endpoints, from the table's `endpoint`s: the provider's `routes`
 * option, so that it serves each endpoint exactly where API Gateway sends it. Its type names each
 * endpoint the table places, so an endpoint left out of the table fails to compile where the provider is
 * given its routes.
 *
 * @example
 * ```ts
 * createProvider({ …, routes: providerRoutes() }); // { token: '/token', … }
 * ```
 */
export function providerRoutes(): { readonly [R in Placing as R['endpoint']]: R['path'] } {
  const placed: Partial<Record<ProviderEndpoint, string>> = {};
  for (const route of routes) {
    if (route.function !== 'oidc' || !route.endpoint) continue;
    if (placed[route.endpoint]) throw new Error(`Two routes place the provider's ${route.endpoint}`);
    placed[route.endpoint] = route.path;
  }
  return placed as ReturnType<typeof providerRoutes>;
}
