import { expect } from 'vitest';
import { buildDependencies } from '../../functions/composition/dependencies.js';
import { maskIdNumber, parseIdNumber } from '../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../shared/identifiers/lookup-key.js';
import { postJson } from './http-api.js';
import { newIdNumber } from './in-memory-identity.js';
import { outbox, type CarrierOfNumbers } from './in-memory-sms.js';
import type { TestRuntime } from './runtime.js';
import type { UserAgent } from './user-agent.js';

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
  const deps = buildDependencies(runtime.config);
  const id = parseIdNumber(person.idNumber, new Date());
  await deps.registry.putPerson({
    lookupKey: await personLookupKey(deps.lookupMac, id),
    name: person.name,
    masked: maskIdNumber(id),
  });
  deps.doc.destroy();
  deps.kms.destroy();
  carrier.add(person);
  const response = await postJson(runtime, '/accounts', undefined, {
    consent: true,
    idNumber: person.idNumber,
    name: person.name,
    password: person.password,
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return person;
}

/** The interaction uid of a page (from its form's action). */
export const uidOf = (html: string) => /action="\/interaction\/([^/"]+)\//.exec(html)![1]!;

/** On the step-up page: asks for a code, reads it from the SMS outbox and types it. */
export async function stepUpBySms(runtime: TestRuntime, ua: UserAgent, html: string, phone: string) {
  const action = new URL(`/interaction/${uidOf(html)}/stepup`, runtime.baseUrl);
  const sent = await ua.navigate(action, { form: { phone, send: '1' } });
  expect(sent.page?.status).toBe(200);
  const code = (await outbox(runtime.dataDir)).filter((m) => m.to === phone).at(-1)?.code;
  expect(code).toMatch(/^\d{6}$/);
  return ua.navigate(action, { form: { phone, code: code! } });
}

/** One `licence_access` detail as `authorization_details` carries it. */
export function licenceAccess(licenceTypes: string[], purpose: string, extra: Record<string, unknown> = {}) {
  return { type: 'licence_access', licence_types: licenceTypes, purpose, ...extra };
}
