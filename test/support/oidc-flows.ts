import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import { expect } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { walletClientId } from '../../shared/identifiers/client-ids.js';
import { postJson } from './http-api.js';
import { clientCredentialsToken } from './runtime.js';
import type { TestRuntime } from './runtime.js';
import { parseForm, UserAgent } from './user-agent.js';

/** A relying platform as the tests drive it: its registration and openid-client's configuration. */
export interface RelyingParty {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  config: client.Configuration;
}

/** openid-client configured from our discovery document, with the secret in the Authorization header. */
export function discover(
  baseUrl: string,
  credentials: { clientId: string; clientSecret: string },
): Promise<client.Configuration> {
  return client.discovery(
    new URL(baseUrl),
    credentials.clientId,
    credentials.clientSecret,
    client.ClientSecretBasic(credentials.clientSecret),
    // The local runtime serves plain http; never in production.
    { execute: [client.allowInsecureRequests] },
  );
}

/** The demo platform of the seed (not first-party, redirect `${baseUrl}/demo/callback`). */
export async function demoPlatform(runtime: TestRuntime): Promise<RelyingParty> {
  const { platform } = runtime.credentials;
  return { ...platform, config: await discover(runtime.baseUrl, platform) };
}

/**
 * The wallet itself as a relying party (built in, first-party, redirect `${baseUrl}/wallet/callback`), its
 * secret derived as the wallet function derives it: for the holder API's wallet-only routes.
 */
export async function walletPlatform(runtime: TestRuntime): Promise<RelyingParty> {
  const clientSecret = await dependencies().secrets.secretFor(walletClientId);
  const credentials = {
    clientId: walletClientId,
    clientSecret,
    redirectUri: `${runtime.baseUrl}/wallet/callback`,
  };
  return { ...credentials, config: await discover(runtime.baseUrl, credentials) };
}

/** An admin access token (client credentials) of the demo operator. */
export const adminToken = (runtime: TestRuntime) =>
  clientCredentialsToken(runtime, runtime.credentials.admin, 'admin');

/** Registers a platform through `POST /admin/clients`; its first redirect URI is the one flows use. */
export async function registerPlatform(
  runtime: TestRuntime,
  token: string,
  body: {
    name: string;
    redirectUris: string[];
    scopes: string[];
    firstParty?: boolean;
    postLogoutRedirectUris?: string[];
    backchannelLogoutUri?: string;
    eventsUri?: string;
    minAcr?: string;
    idTokenSignedResponseAlg?: 'ES256' | 'RS256';
    authorizationDetailsTypes?: string[];
  },
): Promise<RelyingParty> {
  const response = await postJson(runtime, '/admin/clients', token, body);
  expect(response.status, await response.clone().text()).toBe(201);
  const { clientId, clientSecret } = (await response.json()) as { clientId: string; clientSecret: string };
  return {
    clientId,
    clientSecret,
    redirectUri: body.redirectUris[0]!,
    config: await discover(runtime.baseUrl, { clientId, clientSecret }),
  };
}

/** An authorization request as a relying party builds it: PKCE S256, nonce and state. */
export interface AuthorizationRequest {
  url: URL;
  codeVerifier: string;
  nonce: string;
  state: string;
}

/** The authorization URL for `rp` (scope `openid profile` unless `params` says otherwise). */
export async function authorizationRequest(
  rp: RelyingParty,
  params: Record<string, string> = {},
): Promise<AuthorizationRequest> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...params,
  });
  return { url, codeVerifier, nonce, state };
}

/** The seeded citizen's password answers (`credentials.json`): the sign-in most flows make. */
export function citizenAnswers(runtime: Pick<TestRuntime, 'credentials'>): {
  username: string;
  password: string;
} {
  const { idNumber, password } = runtime.credentials.citizen;
  return { username: idNumber, password };
}

/**
 * A person's access token with scope `licences` from `rp` (a first-party app, which needs no consent),
 * signed in with `answers` in a browser of their own.
 */
export async function licencesToken(
  runtime: TestRuntime,
  rp: RelyingParty,
  answers: Answers,
): Promise<string> {
  const { tokens } = await signIn(rp, new UserAgent(runtime.baseUrl), answers, { scope: 'openid licences' });
  return tokens.access_token;
}

/** The interaction pages a flow can stop at, named by where their form posts. */
export type Step = 'login' | 'entity' | 'personal' | 'consent' | 'scan';

/** What the person does on each page; a page with no answer ends the flow there. */
export interface Answers {
  username?: string;
  password?: string;
  /** The credit code to choose on the entity page. */
  entity?: string;
  /** Go back to personal use when the session acts for an entity. */
  personal?: boolean;
  /** Allow on the consent page (default true). */
  consent?: boolean;
  /** Tick the consent page's separate box for the ID number (`idcard`; unticked by default). */
  idNumber?: boolean;
  /**
   * On scan-to-login's last page ("sign in as 王*明?"): continue, or say "not me". Without it the flow
   * stops there.
   */
  scanAs?: 'continue' | 'not_me';
}

export interface FlowOutcome {
  /** Where the flow left the service: the relying party's redirect URI with the response. */
  callback?: URL;
  /** Where the flow stopped otherwise. */
  page?: { url: URL; status: number; html: string };
  /** The step of that page, when it is one. */
  stoppedAt?: Step;
  /** The interaction pages passed through, in order. */
  steps: Step[];
}

const stepOfAction: Record<string, Step> = {
  login: 'login',
  entity: 'entity',
  personal: 'personal',
  confirm: 'consent',
  scan: 'scan',
};

/** The credit codes an entity page offers (its radio inputs named `entity`). */
export function offeredEntities(html: string): string[] {
  return [...html.matchAll(/<input\b[^>]*\bname="entity"[^>]*\bvalue="([^"]*)"/g)].map((m) => m[1]!);
}

/** The interaction step a page is, from the action of its first form. */
export function stepOf(html: string): Step | undefined {
  const action = parseForm(html)?.action ?? '';
  const matched = /^\/interaction\/[^/]+\/(login|entity|personal|confirm|scan)$/.exec(action);
  return matched ? stepOfAction[matched[1]!] : undefined;
}

/**
 * Drives a browser from `url` through the interaction pages with `answers`, until the flow leaves the
 * service (`callback`) or reaches a page it has no answer for (`page`, `stoppedAt`).
 */
export async function runFlow(ua: UserAgent, url: URL | string, answers: Answers = {}): Promise<FlowOutcome> {
  const steps: Step[] = [];
  let outcome = await ua.navigate(url);
  for (let hops = 0; hops < 10; hops++) {
    if (outcome.leftTo) return { callback: outcome.leftTo, steps };
    const page = outcome.page!;
    const step = stepOf(page.html);
    const form = parseForm(page.html);
    const stop = { page, stoppedAt: step, steps };
    if (!step || !form) return stop;
    let fields: Record<string, string>;
    switch (step) {
      case 'login':
        if (answers.username === undefined || answers.password === undefined) return stop;
        fields = { username: answers.username, password: answers.password };
        break;
      case 'entity':
        if (answers.entity === undefined) return stop;
        fields = { entity: answers.entity };
        break;
      case 'personal':
        if (!answers.personal) return stop;
        fields = {};
        break;
      case 'scan':
        if (answers.scanAs === undefined) return stop;
        // The page's own fields too: its `shown` binds the answer to the name it showed (review R41 L1).
        fields = { ...form.fields, decision: answers.scanAs };
        break;
      case 'consent':
        if (answers.consent === false) return stop;
        fields = { ...form.fields, ...(answers.idNumber ? { idcard: 'yes' } : {}) };
        break;
    }
    steps.push(step);
    outcome = await ua.navigate(new URL(form.action, page.url), { form: fields });
  }
  throw new Error('the flow went round too many pages');
}

/** Runs a flow that must end at the relying party; fails with the page where it stopped otherwise. */
export async function callbackOf(ua: UserAgent, url: URL | string, answers: Answers = {}) {
  const outcome = await runFlow(ua, url, answers);
  if (!outcome.callback) {
    throw new Error(
      `the flow stopped at ${outcome.stoppedAt ?? 'a page'} (${outcome.page?.status} ${outcome.page?.url.href}): ${outcome.page?.html.replace(/\s+/g, ' ').slice(0, 600)}`,
    );
  }
  return { callback: outcome.callback, steps: outcome.steps };
}

/** The code exchange as the relying party makes it, with the checks openid-client performs. */
export function exchange(rp: RelyingParty, request: AuthorizationRequest, callback: URL) {
  return client.authorizationCodeGrant(rp.config, callback, {
    pkceCodeVerifier: request.codeVerifier,
    expectedNonce: request.nonce,
    expectedState: request.state,
  });
}

/** One complete sign-in on `rp`: authorization request, the pages, the code exchange. */
export async function signIn(
  rp: RelyingParty,
  ua: UserAgent,
  answers: Answers,
  params: Record<string, string> = {},
) {
  const request = await authorizationRequest(rp, params);
  const { callback, steps } = await callbackOf(ua, request.url, answers);
  const tokens = await exchange(rp, request, callback);
  const claims = tokens.claims();
  if (!claims) throw new Error('no ID token');
  return { request, callback, steps, tokens, claims };
}

const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * Verifies a JWT of ours (ID token, logout token) against the published JWKS: ES256 only, unless the
 * relying party was registered for RS256 (`alg`).
 */
export function verifyJwt(
  baseUrl: string,
  jwt: string,
  options: { audience: string; typ?: string; alg?: 'ES256' | 'RS256' },
): Promise<{ payload: JWTPayload; protectedHeader: { alg: string; kid?: string; typ?: string } }> {
  let jwks = jwksCache.get(baseUrl);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(`${baseUrl}/.well-known/jwks.json`));
    jwksCache.set(baseUrl, jwks);
  }
  return jwtVerify(jwt, jwks, {
    algorithms: [options.alg ?? 'ES256'],
    issuer: baseUrl,
    audience: options.audience,
    ...(options.typ ? { typ: options.typ } : {}),
  });
}

const noticeJwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * Verifies a withdrawal notice as a platform does (docs/integrating.md, "Verify it"): jose's
 * `createRemoteJWKSet` on `/.well-known/notices-jwks.json` (never `jwks_uri`: the notice key signs no ID
 * token and is not there, review R31 L1), `typ: secevent+jwt`, ES256, our issuer, the platform's client id.
 */
export function verifyNotice(
  baseUrl: string,
  jwt: string,
  options: { audience: string },
): Promise<{ payload: JWTPayload; protectedHeader: { alg: string; kid?: string; typ?: string } }> {
  let jwks = noticeJwksCache.get(baseUrl);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(`${baseUrl}/.well-known/notices-jwks.json`));
    noticeJwksCache.set(baseUrl, jwks);
  }
  return jwtVerify(jwt, jwks, {
    algorithms: ['ES256'],
    issuer: baseUrl,
    audience: options.audience,
    typ: 'secevent+jwt',
  });
}

/** Fetches `path` of our API with a bearer token. */
export function getWithToken(runtime: TestRuntime, path: string, token: string): Promise<Response> {
  return fetch(`${runtime.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

/**
 * The OAuth error and HTTP status of a refused openid-client call: a `ResponseBodyError` carries the
 * error of the JSON body; a `WWWAuthenticateChallengeError` (a 401 with `WWW-Authenticate`, as for a
 * wrong client secret) carries it as a challenge parameter.
 */
export async function refusal(call: Promise<unknown>): Promise<{ error?: string; status?: number }> {
  const refused = await call.then(
    () => undefined,
    (e: unknown) => e as { error?: string; status?: number; cause?: unknown },
  );
  expect(refused, 'expected the call to be refused').toBeDefined();
  const challenges = Array.isArray(refused!.cause)
    ? (refused!.cause as Array<{ parameters?: Record<string, string> }>)
    : [];
  return {
    error: refused!.error ?? challenges.find((c) => c.parameters?.error)?.parameters?.error,
    status: refused!.status,
  };
}

/**
 * An access token written through the provider's adapter as the provider writes one after an
 * authorization-code flow: for a person (`accountId`, or a person acting for an entity), of `clientId`, with
 * `scope` and the sign-in's `acr` (level 3 unless said), for ten minutes; `extra` replaces the sign-in's
 * claims the record keeps (`acr`, `auth_time`) as a test chooses them; `more` adds fields of the record
 * (a grant, authorization details). For the cases a sign-in cannot make or need not.
 *
 * @example
 * ```ts
 * const token = await writtenAccessToken({ accountId, clientId: walletClientId, scope: 'openid entity' });
 * ```
 */
export async function writtenAccessToken(record: {
  accountId?: string;
  clientId: string;
  scope: string;
  acr?: string;
  extra?: Record<string, unknown>;
  more?: Record<string, unknown>;
}): Promise<string> {
  const deps = dependencies();
  const jti = randomBytes(32).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  await new deps.adapter('AccessToken').upsert(
    jti,
    {
      jti,
      kind: 'AccessToken',
      ...(record.accountId ? { accountId: record.accountId } : {}),
      clientId: record.clientId,
      scope: record.scope,
      aud: deps.config.issuerUrl,
      // As the provider records it: the acr of the sign-in the token came from.
      extra: record.extra ?? { acr: record.acr ?? 'urn:elicence:loa:3' },
      iat,
      exp: iat + 600,
      ...record.more,
    },
    600,
  );
  return jti;
}

/**
 * A person's access token as {@link writtenAccessToken} writes it, the wallet's unless `clientId` says
 * otherwise, with the sign-in's claims (`acr`, `auth_time`) as a test chooses them.
 *
 * @example
 * ```ts
 * const token = await storedAccessToken(account.id, { extra: { acr: 'urn:elicence:loa:1', auth_time: now } });
 * ```
 */
export const storedAccessToken = (
  accountId: string,
  options: { extra: Record<string, unknown>; clientId?: string; scope?: string },
): Promise<string> =>
  writtenAccessToken({
    accountId,
    clientId: options.clientId ?? walletClientId,
    scope: options.scope ?? 'openid licences entity',
    extra: options.extra,
  });

/**
 * The single sign-on session `ua` holds (its cookie `session`, the local runtime's plain-http name): its id
 * and its payload as stored.
 */
export async function sessionOf(
  runtime: TestRuntime,
  ua: UserAgent,
): Promise<{ id: string; payload: Record<string, unknown> }> {
  const pair = ua
    .cookieHeader(new URL('/', runtime.baseUrl))
    .split('; ')
    .find((one) => one.startsWith('session='));
  if (!pair) throw new Error('the browser holds no session');
  const id = pair.slice('session='.length);
  const payload = await new (dependencies().adapter)('Session').find(id);
  if (!payload) throw new Error('the session is not stored');
  return { id, payload };
}

/**
 * Moves the sign-in of the session `ua` holds `seconds` into the past (its `loginTs`, which becomes the ID
 * token's `auth_time`), as if the person had typed their password that long ago: the sign-in time the
 * session itself stores, read back by the provider at the next request. Returns the new `loginTs`.
 */
export async function signedInAgo(runtime: TestRuntime, ua: UserAgent, seconds: number): Promise<number> {
  const { id, payload } = await sessionOf(runtime, ua);
  const loginTs = (payload.loginTs as number) - seconds;
  const now = Math.floor(Date.now() / 1000);
  await new (dependencies().adapter)('Session').upsert(
    id,
    { ...payload, loginTs },
    (payload.exp as number) - now,
  );
  return loginTs;
}
