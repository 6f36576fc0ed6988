import * as client from 'openid-client';
import { expect } from 'vitest';
import { buildDependencies } from '../../functions/composition/dependencies.js';
import { maskIdNumber, parseIdNumber } from '../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../shared/identifiers/lookup-key.js';
import { startFakeHttpServer, type FakeHttpServer } from './fake-http-server.js';
import { onboardIssuer, postJson } from './http-api.js';
import { newIdNumber } from './in-memory-identity.js';
import { outbox, type CarrierOfNumbers } from './in-memory-sms.js';
import {
  adminToken,
  authorizationRequest,
  exchange,
  registerPlatform,
  runFlow,
  signIn,
  walletPlatform,
  type Answers,
  type FlowOutcome,
  type RelyingParty,
} from './oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from './runtime.js';
import { parseForm, UserAgent } from './user-agent.js';

/** A person the registries know (population, carrier) with an account: level 2 by password. */
export interface TestPerson {
  idNumber: string;
  name: string;
  phone: string;
  password: string;
}

let sequence = 0;

/**
 * A new person in the population registry, their phone confirmed by `carrier`, registered through
 * `POST /accounts`: a password sign-in reaches level 2, an SMS code level 3.
 */
export async function newPerson(runtime: TestRuntime, carrier: CarrierOfNumbers): Promise<TestPerson> {
  sequence += 1;
  return registerPerson(runtime, carrier, {
    idNumber: newIdNumber(),
    name: `共享${'甲乙丙丁戊己庚辛壬癸'[sequence % 10]}${sequence}`,
    phone: `+861380000${String(1000 + sequence + Math.floor(Math.random() * 8000))}`,
    password: `share-${sequence}-secret`,
  });
}

/** Puts `person` in the population registry, their phone with `carrier`, and registers their account. */
export async function registerPerson(
  runtime: TestRuntime,
  carrier: CarrierOfNumbers,
  person: TestPerson,
): Promise<TestPerson> {
  await putInRegistry(runtime, person.idNumber, person.name);
  carrier.add(person);
  return openAccount(runtime, person);
}

/** Puts a person in the population registry, as the name it knows them by. */
export async function putInRegistry(runtime: TestRuntime, idNumber: string, name: string): Promise<void> {
  const deps = buildDependencies(runtime.config);
  const id = parseIdNumber(idNumber, new Date());
  await deps.registry.putPerson({
    lookupKey: await personLookupKey(deps.lookupMac, id),
    name,
    masked: maskIdNumber(id),
  });
  deps.doc.destroy();
  deps.kms.destroy();
}

/** Registers `person`'s account through `POST /accounts` (consenting), which must answer 201. */
export async function openAccount<P extends Omit<TestPerson, 'phone'>>(
  runtime: TestRuntime,
  person: P,
): Promise<P> {
  const response = await postJson(runtime, '/accounts', undefined, {
    consent: true,
    idNumber: person.idNumber,
    name: person.name,
    password: person.password,
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return person;
}

/** A local runtime whose SMS carrier knows the phones `carrier` is given (`registerPerson` adds them). */
export function startRuntimeWithCarrier(carrier: CarrierOfNumbers): Promise<TestRuntime> {
  return startTestRuntime(undefined, {}, { carrier: (operator) => carrier.using(operator.lookupMac) });
}

/** A browser; the wallet's callback ends a flow (the wallet signs the person in for the holder API). */
export const sharingBrowser = (runtime: TestRuntime) =>
  new UserAgent(runtime.baseUrl, [`${runtime.baseUrl}/wallet/callback`]);

/** The person's own token for the holder API, from the wallet (first-party), in the browser session `ua`. */
export async function walletToken(runtime: TestRuntime, ua: UserAgent): Promise<string> {
  const wallet = await walletPlatform(runtime);
  const { tokens } = await signIn(wallet, ua, {}, { scope: 'openid licences' });
  return tokens.access_token;
}

/** A platform registered for `licence_access` shares, its redirect URI `<origin>/callback`. */
export function registerSharingPlatform(
  runtime: TestRuntime,
  admin: string,
  name: string,
  origin: string,
  scopes = ['openid', 'profile', 'offline_access'],
  eventsUri?: string,
): Promise<RelyingParty> {
  return registerPlatform(runtime, admin, {
    name,
    redirectUris: [`${origin}/callback`],
    scopes,
    authorizationDetailsTypes: ['licence_access'],
    ...(eventsUri === undefined ? {} : { eventsUri }),
  });
}

/**
 * A runtime whose carrier knows the phones `carrier` is given ({@link startRuntimeWithCarrier}), with the
 * admin's token, a driving-licence issuer's token to issue with (`licences:issue`) and a sharing platform
 * (`name`, `origin`, `scopes`: {@link registerSharingPlatform}): the people and their licences are the
 * test's own. The runtime is closed again if the rest fails.
 */
export async function startSharingRuntime(
  carrier: CarrierOfNumbers,
  sharing: { name: string; origin: string; scopes: string[] },
): Promise<{ runtime: TestRuntime; admin: string; drivingIssuer: string; platform: RelyingParty }> {
  const runtime = await startRuntimeWithCarrier(carrier);
  try {
    const admin = await adminToken(runtime);
    const driving = await onboardIssuer(runtime, admin, { licenceTypes: ['driving-licence'] });
    const drivingIssuer = await clientCredentialsToken(runtime, driving, 'licences:issue');
    const platform = await registerSharingPlatform(
      runtime,
      admin,
      sharing.name,
      sharing.origin,
      sharing.scopes,
    );
    return { runtime, admin, drivingIssuer, platform };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

/** Signs `person` in to `platform` with `scope` and prompt=consent, stopping at the consent page. */
export async function toConsent(platform: RelyingParty, ua: UserAgent, person: TestPerson, scope: string) {
  const request = await authorizationRequest(platform, { scope, prompt: 'consent' });
  const outcome = await runFlow(ua, request.url, {
    username: person.idNumber,
    password: person.password,
    consent: false,
  });
  expect(outcome.stoppedAt, outcome.page?.html.slice(0, 300) ?? outcome.callback?.href).toBe('consent');
  return { request, page: outcome.page! };
}

/** Approves the consent page {@link toConsent} stopped at, ticking the ID number's own box or not, and exchanges the code. */
export async function approveConsent(
  platform: RelyingParty,
  ua: UserAgent,
  at: Awaited<ReturnType<typeof toConsent>>,
  idNumber: boolean,
) {
  const form = parseForm(at.page.html)!;
  const fields = { ...form.fields, ...(idNumber ? { idcard: 'yes' } : {}) };
  const outcome = await ua.navigate(new URL(form.action, at.page.url), { form: fields });
  expect(outcome.leftTo, outcome.page?.html.slice(0, 300)).toBeDefined();
  return exchange(platform, at.request, outcome.leftTo!);
}

/**
 * A sharing platform (`scopes`, `openid profile` unless told) that registered an events endpoint, and the receiver there: a
 * server on this machine that keeps the Security Event Tokens it is sent (it answers 500 until told).
 */
export async function registerNotifiedPlatform(
  runtime: TestRuntime,
  admin: string,
  name: string,
  origin: string,
  scopes = ['openid', 'profile'],
): Promise<{ platform: RelyingParty; receiver: FakeHttpServer }> {
  const receiver = await startFakeHttpServer();
  try {
    const platform = await registerSharingPlatform(
      runtime,
      admin,
      name,
      origin,
      scopes,
      receiver.url('/events'),
    );
    return { platform, receiver };
  } catch (error) {
    await receiver.close();
    throw error;
  }
}

/** The person withdraws an authorization (a share or a sign-in) listed in their wallet. */
export function withdrawAuthorization(
  runtime: TestRuntime,
  id: string,
  personToken: string,
): Promise<Response> {
  return fetch(`${runtime.baseUrl}/me/authorizations/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${personToken}` },
  });
}

/** The interaction uid of a page (from its form's action). */
export const uidOf = (html: string) => /action="\/interaction\/([^/"]+)\//.exec(html)![1]!;

/** On the step-up page: asks for a code, reads it from the SMS outbox and types it. */
export async function stepUpBySms(runtime: TestRuntime, ua: UserAgent, html: string, phone: string) {
  const action = new URL(`/interaction/${uidOf(html)}/stepup`, runtime.baseUrl);
  const sent = await ua.navigate(action, { form: { phone, send: '1' } });
  expect(sent.page?.status).toBe(200);
  const code = (await outbox(runtime)).filter((m) => m.to === phone).at(-1)?.code;
  expect(code).toMatch(/^\d{6}$/);
  return ua.navigate(action, { form: { phone, code: code! } });
}

/** One `licence_access` detail as `authorization_details` carries it. */
export function licenceAccess(licenceTypes: string[], purpose: string, extra: Record<string, unknown> = {}) {
  return { type: 'licence_access', licence_types: licenceTypes, purpose, ...extra };
}

/** The consent page of a share, reached by signing a level-2 person in and stepping them up by SMS. */
export async function steppedUpToConsent(runtime: TestRuntime, ua: UserAgent, url: URL, person: TestPerson) {
  const atStepUp = await runFlow(ua, url, { username: person.idNumber, password: person.password });
  expect(atStepUp.page?.html, 'a level-2 sign-in is stepped up, not refused').toContain('获取验证码');
  const stepped = await stepUpBySms(runtime, ua, atStepUp.page!.html, person.phone);
  // The step-up page posts, and the provider's redirects lead on to the consent page.
  return stepped.page ?? (await ua.navigate(stepped.leftTo!)).page!;
}

/**
 * Drives a flow with `answers`, stepping the person up by SMS to `phone` wherever a page asks, until it
 * leaves for the platform or stops at a page it has no answer for (the consent page when `consent` is
 * false); after a step-up it goes on with `again` (by default the same answers).
 */
export async function throughStepUps(
  runtime: TestRuntime,
  ua: UserAgent,
  url: URL,
  { answers, phone, again = answers }: { answers: Answers; phone: string; again?: Answers },
): Promise<FlowOutcome> {
  let outcome = await runFlow(ua, url, answers);
  for (
    let hops = 0;
    !outcome.callback && outcome.page && outcome.stoppedAt !== 'consent' && hops < 4;
    hops++
  ) {
    if (outcome.page.html.includes('获取验证码')) {
      const stepped = await stepUpBySms(runtime, ua, outcome.page.html, phone);
      outcome = await runFlow(ua, stepped.page?.url ?? stepped.leftTo!, again);
    } else {
      outcome = await runFlow(ua, outcome.page.url, again);
    }
  }
  return outcome;
}

/** The person signs out of everything on the provider's logout page, reached from `rp`'s logout link. */
export async function logOut(ua: UserAgent, rp: RelyingParty): Promise<void> {
  const shown = await ua.navigate(client.buildEndSessionUrl(rp.config, {}));
  const form = parseForm(shown.page!.html, 'op.logoutForm');
  const done = await ua.navigate(new URL(form!.action, shown.page!.url), {
    form: { ...form!.fields, logout: 'yes' },
  });
  expect(done.page?.status ?? 200).toBe(200);
}
