import { expect } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { consoleClientId, walletClientId } from '../../shared/identifiers/client-ids.js';
import { maskIdNumber, parseIdNumber } from '../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../shared/identifiers/lookup-key.js';
import { proveInPerson } from '../../shared/identity/prove-in-person.js';
import { clerkScope } from '../../shared/web/console/console-session.js';
import { agencyHead } from '../../infra/local/demo-data.js';
import { postJson } from './http-api.js';
import {
  adminToken,
  callbackOf,
  discover,
  registerPlatform,
  signIn,
  writtenAccessToken,
  type RelyingParty,
} from './oidc-flows.js';
import { startTestRuntime, type TestRuntime } from './runtime.js';
import { UserAgent } from './user-agent.js';

/** Someone who signs in with a password, acting for `creditCode` when given. */
export interface Clerk {
  idNumber: string;
  password: string;
  creditCode: string;
}

/** The issuer console as a relying party (built in, first-party), its secret derived as the console derives it. */
export async function consolePlatform(runtime: TestRuntime): Promise<RelyingParty> {
  const credentials = {
    clientId: consoleClientId,
    clientSecret: await dependencies().secrets.secretFor(consoleClientId),
    redirectUri: `${runtime.baseUrl}/console/callback`,
  };
  return { ...credentials, config: await discover(runtime.baseUrl, credentials) };
}

/**
 * A clerk's access token, through the provider's pages as the issuer console asks for it (scope
 * `openid entity licences:issue`, level 3), acting for `clerk.creditCode`; with the ID token's claims.
 */
export async function clerkToken(runtime: TestRuntime, clerk: Clerk) {
  const { tokens, claims } = await signIn(
    await consolePlatform(runtime),
    // The console's callback is on the service's own origin: the flow ends there.
    new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/console/callback`]),
    { username: clerk.idNumber, password: clerk.password, entity: clerk.creditCode },
    { scope: clerkScope, acr_values: 'urn:elicence:loa:3' },
  );
  return { token: tokens.access_token, claims };
}

/**
 * A browser signed in to `/console` as `clerk`: `GET /console/login`, the provider's pages (password, the
 * agency chosen), then the console's callback, whose answer is returned.
 */
export async function clerkConsole(
  runtime: TestRuntime,
  clerk: Clerk,
): Promise<{ ua: UserAgent; response: Response }> {
  const ua = new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/console/callback`]);
  const { callback } = await callbackOf(ua, '/console/login', {
    username: clerk.idNumber,
    password: clerk.password,
    entity: clerk.creditCode,
  });
  return { ua, response: await ua.request(callback) };
}

/**
 * A browser signed in to `/console` with an issuer's own client and secret (the console's
 * `clientSecretConsole` mode of a test runtime): `POST /console/login`, answered 303.
 */
export async function issuerConsole(
  runtime: TestRuntime,
  issuer: { clientId: string; clientSecret: string },
): Promise<UserAgent> {
  const ua = new UserAgent(runtime.baseUrl);
  const response = await ua.request('/console/login', {
    form: { clientId: issuer.clientId, clientSecret: issuer.clientSecret },
  });
  expect(response.status).toBe(303);
  return ua;
}

/** A person's account id, from a sign-in with their password (the login page's path). */
export async function accountIdOf(idNumber: string, password: string): Promise<string> {
  const login = await dependencies().directory.checkPassword({ idNumber, password, source: '192.0.2.90' });
  if (!login.ok) throw new Error(`sign-in failed: ${login.reason}`);
  return login.person.id;
}

/**
 * A person's account at level 3: registered (`POST /accounts`, its phone known to the carrier registry),
 * then proven in person, as at a service counter. Returns their account id.
 */
export async function provenAccount(
  runtime: TestRuntime,
  person: { idNumber: string; name: string; phone: string; password: string },
): Promise<string> {
  const deps = dependencies();
  const { idNumber, name, phone, password } = person;
  const response = await postJson(runtime, '/accounts', undefined, {
    consent: true,
    idNumber,
    name,
    phone,
    password,
  });
  expect([201, 409], await response.clone().text()).toContain(response.status);
  const key = await personLookupKey(deps.lookupMac, parseIdNumber(idNumber, new Date()));
  await proveInPerson(key, { actor: 'test' }, deps);
  return accountIdOf(idNumber, password);
}

/**
 * A wallet token of the demo agency's head (its representative per the business registry), level 3, as
 * the provider writes one after a sign-in with scope `entity`: what manages the agency's clerks
 * (`/me/entities/{creditCode}/agents`).
 */
export async function agencyHeadToken(runtime: TestRuntime): Promise<string> {
  const accountId = await provenAccount(runtime, { ...agencyHead, password: 'Head-2026!' });
  return writtenAccessToken({ accountId, clientId: walletClientId, scope: 'openid entity' });
}

/**
 * Appoints `person` (given a proven account) a clerk of the agency `creditCode` through the representative's
 * API, with `scope`; returns the clerk's credentials and the appointment's id.
 */
export async function appointClerk(
  runtime: TestRuntime,
  headToken: string,
  creditCode: string,
  person: { idNumber: string; name: string; phone: string },
  scope: string[] = ['licences:issue'],
): Promise<Clerk & { agentId: string; accountId: string }> {
  const password = `Clerk-${person.idNumber.slice(-4)}-2026`;
  const accountId = await provenAccount(runtime, { ...person, password });
  const agentId = await appointAgent(runtime, headToken, creditCode, person, scope);
  return { idNumber: person.idNumber, password, creditCode, agentId, accountId };
}

/**
 * The representative appoints `person` an agent of `creditCode` for 30 days with `scope`
 * (`POST /me/entities/{creditCode}/agents`), which must answer 201: the appointment's id. Again after a
 * withdrawal, a new appointment.
 */
export async function appointAgent(
  runtime: TestRuntime,
  headToken: string,
  creditCode: string,
  person: { idNumber: string; name: string },
  scope: string[],
): Promise<string> {
  const response = await postJson(runtime, `/me/entities/${creditCode}/agents`, headToken, {
    idNumber: person.idNumber,
    name: person.name,
    scope,
    expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return ((await response.json()) as { agentId: string }).agentId;
}

/**
 * The business registry names `person` the legal representative of `creditCode` from now on (their
 * account proven, with `password`): the new representative's account id.
 */
export async function changeRepresentative(
  runtime: TestRuntime,
  creditCode: string,
  person: { idNumber: string; name: string; phone: string },
  password: string,
): Promise<string> {
  const accountId = await provenAccount(runtime, { ...person, password });
  const deps = dependencies();
  const registered = await deps.registry.findEntity(creditCode);
  const idNumber = parseIdNumber(person.idNumber, new Date());
  await deps.registry.putEntity({
    ...registered!,
    representativeLookupKey: await personLookupKey(deps.lookupMac, idNumber),
    representativeMasked: maskIdNumber(idNumber),
  });
  return accountId;
}

/** A platform (not first-party) that asks for `entity`, and the demo agency's head to appoint its agents. */
export interface EntityPlatform {
  runtime: TestRuntime;
  platform: RelyingParty;
  /** The agency head's wallet token ({@link agencyHeadToken}). */
  headToken: string;
  /** The demo agency's credit code. */
  agency: string;
  /** A browser whose flows end at the platform's callback. */
  browser(): UserAgent;
}

/**
 * Starts a runtime with an {@link EntityPlatform}: `某政务服务平台`, registered by the operator for
 * `openid profile entity offline_access`.
 *
 * @example
 * ```ts
 * const { runtime, platform, headToken, agency, browser } = await startEntityPlatform();
 * ```
 */
export async function startEntityPlatform(): Promise<EntityPlatform> {
  const callback = 'http://localhost:8089/callback';
  const runtime = await startTestRuntime();
  const headToken = await agencyHeadToken(runtime);
  const platform = await registerPlatform(runtime, await adminToken(runtime), {
    name: '某政务服务平台',
    redirectUris: [callback],
    scopes: ['openid', 'profile', 'entity', 'offline_access'],
  });
  return {
    runtime,
    platform,
    headToken,
    agency: runtime.credentials.issuer.creditCode,
    browser: () => new UserAgent(runtime.baseUrl, [callback]),
  };
}

/** The representative withdraws an appointment (`DELETE /me/entities/{creditCode}/agents/{agentId}`). */
export async function withdrawClerk(
  runtime: TestRuntime,
  headToken: string,
  clerk: { creditCode: string; agentId: string },
): Promise<void> {
  const response = await fetch(`${runtime.baseUrl}/me/entities/${clerk.creditCode}/agents/${clerk.agentId}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${headToken}` },
  });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
}
