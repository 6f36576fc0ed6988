import * as z from 'zod';
import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import type { Mac } from '../crypto/mac.js';
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  invalidRequest,
  TooManyRequestsError,
  fieldErrorAt,
  type FieldError,
} from '../errors.js';
import {
  agentAuditPrefix,
  saveWithTrace,
  type PendingWorkIndex,
  type Trace,
} from '../pending-work/pending-work.js';
import { randomId } from '../random-id.js';
import { validUntilOf } from '../validity-dates.js';
import { refusePersonalDataInName } from '../identifiers/personal-data-in-text.js';
import { parseCreditCode, type CreditCode } from '../identifiers/credit-code.js';
import {
  agentScopes,
  appointedInTerm,
  appointmentInForce,
  platformSignInScope,
  representativeScopes,
  type ActingAuthority,
  type AgentAppointment,
  type Appointer,
  type EntityAccount,
} from './entity-account.js';
import type { EntityStore } from './entity-store.js';
import type { AccountStore } from './account-store.js';
import type { PlatformConsents } from './sign-in-revocation.js';
import { maskIdNumber, parseIdNumber, type IdNumber } from '../identifiers/id-number.js';
import { entityLookupKey, personLookupKey } from '../identifiers/lookup-key.js';
import { comparableName, type PersonAccount } from './person-account.js';
import type { EntityRegistry, PopulationRegistry, RegisteredEntity } from './registry.js';
import { LoginThrottle, type LoginAttemptStore } from './login-throttle.js';
import { acrOf, assuranceLevelOf, signedInLevel, type AssuranceLevel } from './assurance.js';

/** The longest an appointment may run before the representative must renew it. */
const maxAppointmentDays = 3 * 366;

export interface EntityDependencies {
  entities: EntityStore;
  registry: EntityRegistry;
  lookupMac: Mac;
  clock: Clock;
}

/**
 * Who is asking: a person's account (its opaque id, its ID number's lookup key, how it was proven) and,
 * when they ask through a token, the `acr` of the sign-in behind it.
 */
export type Person = Pick<PersonAccount, 'id' | 'lookupKey' | 'assurance'> & { acr?: string };

/**
 * Whether an appointment stands now: in force, and made by the person the business registry names
 * representative today, during the registry's term of today (`appointedInTerm`). An appointment made by
 * anyone else (a former representative, or, before issue 12, someone a forged business licence named),
 * or by the same person in a former term (named representative again since: review R42), counts for
 * nothing. It compares what `canActFor` reads anyway: no read more.
 */
function appointmentStands(
  appointment: AgentAppointment | undefined,
  registered: RegisteredEntity | undefined,
  now: Date,
): appointment is AgentAppointment {
  return (
    appointment !== undefined &&
    registered !== undefined &&
    appointmentInForce(appointment, now) &&
    appointedInTerm(appointment, {
      lookupKey: registered.representativeLookupKey,
      term: registered.representativeTerm,
    })
  );
}

/**
 * The entity's account, created on first use: one conditional write keyed by the credit code; a lost
 * race reads the winner, so concurrent first uses agree on one `id`. `lookupKey` saves a MAC when the
 * caller already has it.
 *
 * @example
 * ```ts
 * const entity = await ensureEntityAccount({ creditCode: parseCreditCode(code), name: '北京示范科技有限公司' }, deps);
 * ```
 */
export async function ensureEntityAccount(
  input: { creditCode: CreditCode; name: string; lookupKey?: string },
  deps: Pick<EntityDependencies, 'entities' | 'clock' | 'lookupMac'>,
): Promise<EntityAccount> {
  const existing = await deps.entities.findEntityByCreditCode(input.creditCode);
  if (existing) return existing;
  try {
    return await deps.entities.createEntity({
      id: randomId('ent'),
      creditCode: input.creditCode,
      lookupKey: input.lookupKey ?? (await entityLookupKey(deps.lookupMac, input.creditCode)),
      name: input.name,
      createdAt: new Date(deps.clock.now()).toISOString(),
    });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const winner = await deps.entities.findEntityByCreditCode(input.creditCode);
    if (!winner) throw error;
    return winner;
  }
}

/** The entity account behind an opaque `ent_…` id (the OpenID side's entity subject). */
export function findEntityById(
  id: string,
  deps: Pick<EntityDependencies, 'entities'>,
): Promise<EntityAccount | undefined> {
  return deps.entities.findEntityById(id);
}

/** The entity account of a credit code, if anyone has acted for it yet. */
export function findEntityByCreditCode(
  creditCode: string,
  deps: Pick<EntityDependencies, 'entities'>,
): Promise<EntityAccount | undefined> {
  return deps.entities.findEntityByCreditCode(parseCreditCode(creditCode));
}

/**
 * May `person` act for the entity `creditCode` at `now`, and as what? In order:
 *
 * 1. the entity registry (法人库, the business registry) names the person as legal representative;
 * 2. that representative appointed the person as agent (经办人), not withdrawn and not expired.
 *
 * Who represents an entity comes from the registry only, never from a licence: any issuer allowed
 * business licences could otherwise name anyone the representative of any enterprise (issue 12,
 * finding 2). A business licence's representative fields are what the issuer wrote, shown as such.
 *
 * Creates the entity's account on first use (its `id` is the entity subject). Throws
 * `InvalidCreditCodeError` (400) for a malformed code; otherwise undefined means "may not".
 *
 * Cheap enough to ask at every token issuance: two reads for a representative per the registry; else
 * one appointment read more.
 *
 * @example
 * ```ts
 * const authority = await canActFor(account, form.entity, new Date(), deps);
 * if (!authority) return refuse();
 * authority.role; // 'legal_representative' | 'agent'
 * authority.scope.includes('licences');
 * ```
 */
export async function canActFor(
  person: Person,
  creditCodeInput: string,
  now: Date,
  deps: EntityDependencies,
): Promise<ActingAuthority | undefined> {
  const creditCode = parseCreditCode(creditCodeInput);
  // A self-asserted account only claims its number (anyone may register any number under any name,
  // answered as an unknown number: review R9 M6): it acts for no entity, as representative or agent
  // (review R10). The registries match people by that number alone. Level 2 is not enough either to act
  // for an entity anywhere: each use asks for level 3 on top (signing in as it, `canSignInAs`; managing
  // agents; the console; its licences, by type), and a level-2 person is told so and stepped up (R22).
  if (assuranceLevelOf(person) < 2) return undefined;
  const [registered, existing] = await Promise.all([
    deps.registry.findEntity(creditCode),
    deps.entities.findEntityByCreditCode(creditCode),
  ]);
  if (registered?.representativeLookupKey === person.lookupKey) {
    const entity = existing ?? (await ensureEntityAccount({ creditCode, name: registered.name }, deps));
    return {
      entity,
      role: 'legal_representative',
      scope: representativeScopes,
      proof: 'entity-registry',
      term: registered.representativeTerm,
    };
  }

  const appointment = await deps.entities.findAppointment(creditCode, person.lookupKey);
  // An appointment is only ever made for an entity whose account exists (the representative's check
  // creates it), so an appointment without one is an orphan and counts for nothing.
  if (existing && appointmentStands(appointment, registered, now)) {
    return agentAuthority(existing, appointment);
  }
  return undefined;
}

function agentAuthority(entity: EntityAccount, appointment: AgentAppointment): ActingAuthority {
  return {
    entity,
    role: 'agent',
    scope: appointment.scope,
    expiresAt: appointment.validUntil,
    agentId: appointment.agentId,
  };
}

/**
 * Every entity the person may act for at `now`, by name: those the entity registry names them
 * representative of, and those that appointed them agent (in force). An entity found both ways is listed
 * once, as represented.
 *
 * @example
 * ```ts
 * const choices = await entitiesFor(account, new Date(), deps);
 * // [{ entity: { id: 'ent_…', creditCode: '91110105MA01DEM078', name: '…' }, role: 'legal_representative', … }]
 * ```
 */
export async function entitiesFor(
  person: Person,
  now: Date,
  deps: EntityDependencies,
): Promise<ActingAuthority[]> {
  // As canActFor: a self-asserted account acts for no entity (review R10); a level-2 one is listed its
  // entities, which each use then asks level 3 for (`signInEntitiesFor`: the chooser's step-up).
  if (assuranceLevelOf(person) < 2) return [];
  const [registered, appointments] = await Promise.all([
    deps.registry.entitiesRepresentedBy(person.lookupKey),
    deps.entities.appointmentsFor(person.lookupKey),
  ]);
  const found = new Map<string, ActingAuthority>();

  for (const entry of registered) {
    const entity = await ensureEntityAccount(
      { creditCode: parseCreditCode(entry.creditCode), name: entry.name },
      deps,
    );
    found.set(entity.creditCode, {
      entity,
      role: 'legal_representative',
      scope: representativeScopes,
      proof: 'entity-registry',
      term: entry.representativeTerm,
    });
  }
  for (const appointment of appointments) {
    if (found.has(appointment.creditCode) || !appointmentInForce(appointment, now)) continue;
    const [entity, registeredEntity] = await Promise.all([
      deps.entities.findEntityByCreditCode(appointment.creditCode),
      deps.registry.findEntity(appointment.creditCode),
    ]);
    if (entity && appointmentStands(appointment, registeredEntity, now)) {
      found.set(entity.creditCode, agentAuthority(entity, appointment));
    }
  }
  return [...found.values()].sort((a, b) => a.entity.name.localeCompare(b.entity.name, 'zh-CN'));
}

/**
 * The level a person acts at when they sign in as an entity, anywhere (review R22): the account's and the
 * sign-in's (`signedInLevel`), as the console asks of clerks and the wallet of a representative managing
 * agents. Level 2 proves only that a number and a name belong together, both easy to learn: whoever knew
 * a representative's number and name (an ID card copy) registered it and signed in at platforms as the
 * enterprise's legal representative.
 */
export const entitySignInLevel: AssuranceLevel = 3;

/**
 * Where and how a person signs in as an entity: at one of the service's own apps (`firstParty`: the
 * wallet, the issuer console, a client registered first-party) or at a platform, with a sign-in of `acr`
 * (the session's at the provider, the code's or token's after it; none counts as level 1).
 */
export interface SignInAt {
  firstParty: boolean;
  acr: string | undefined;
}

/** An authority to sign in as its entity; `stepUp` when the sign-in must first reach {@link entitySignInLevel}. */
export type EntitySignIn = ActingAuthority & { stepUp: boolean };

/**
 * Whether `authority` covers signing in as its entity at `at` (review R22): at a platform only with
 * {@link platformSignInScope} (the representative holds it by role); at the service's own apps, any
 * authority in force, since they check on every call what it allows (the console issues only with
 * `licences:issue`, the wallet shows the entity's licences only with `licences`). Without this, a clerk
 * appointed only to issue signed in at any platform as the agency.
 *
 * @example
 * ```ts
 * coversSignIn({ scope: ['licences:issue'] }, { firstParty: false }); // false
 * ```
 */
export function coversSignIn(
  authority: Pick<ActingAuthority, 'scope'>,
  at: Pick<SignInAt, 'firstParty'>,
): boolean {
  return at.firstParty || authority.scope.includes(platformSignInScope);
}

function entitySignIn(person: Person, authority: ActingAuthority, at: SignInAt): EntitySignIn {
  return { ...authority, stepUp: signedInLevel(person, at.acr) < entitySignInLevel };
}

/**
 * The entities `person` may sign in as at `at` now: {@link entitiesFor}, less those whose authority does
 * not cover it ({@link coversSignIn}); each with `stepUp` when the sign-in is below
 * {@link entitySignInLevel}. What the entity chooser offers: a level-2 person is offered their entities,
 * reached through the step-up, rather than stranded.
 */
export async function signInEntitiesFor(
  person: Person,
  at: SignInAt,
  now: Date,
  deps: EntityDependencies,
): Promise<EntitySignIn[]> {
  return (await entitiesFor(person, now, deps))
    .filter((authority) => coversSignIn(authority, at))
    .map((authority) => entitySignIn(person, authority, at));
}

/**
 * May `person` sign in as the entity `creditCode` at `at` now: {@link canActFor}, the authority covers it
 * ({@link coversSignIn}), and, unless `stepUp`, the sign-in is at {@link entitySignInLevel}. Asked when
 * the person chooses the entity and again at every token issuance and userinfo answer, so a withdrawn or
 * narrowed appointment ends there too, and a sign-in below the level gets no token as the entity.
 *
 * @example
 * ```ts
 * const signIn = await canSignInAs(account, code, { firstParty: false, acr: session.acr }, now, deps);
 * if (!signIn || signIn.stepUp) return refuse();
 * ```
 */
export async function canSignInAs(
  person: Person,
  creditCode: string,
  at: SignInAt,
  now: Date,
  deps: EntityDependencies,
): Promise<EntitySignIn | undefined> {
  const authority = await canActFor(person, creditCode, now, deps);
  return authority && coversSignIn(authority, at) ? entitySignIn(person, authority, at) : undefined;
}

/** `POST /me/entities`: the entity the signed-in person asks to act for. */
export const actForEntityInput = z.strictObject({ creditCode: z.string().max(64) });

/**
 * The body of `POST /me/entities/{creditCode}/agents`. `name`, when given, is checked against the
 * population registry with the number (实名核验), and never stored.
 */
export const appointAgentInput = z.strictObject({
  idNumber: z.string().max(64),
  /**
   * The agent's name as the population registry has it: required (review R28 L5), checked there, so that a
   * mistyped number hands the entity to no stranger.
   */
  name: z.string().trim().min(1).max(100).superRefine(refusePersonalDataInName),
  scope: z
    .array(z.enum(agentScopes))
    .min(1)
    .max(agentScopes.length * 2)
    .transform((scope) => [...new Set(scope)]),
  /**
   * The appointment's last day, as any instant in it: it lapses at the end of the Beijing day it falls in
   * (00:00 Beijing time of the next day, as a licence's `validUntil`: shared/validity-dates.ts), so
   * `2027-03-05T23:59:59+08:00`, `2027-03-05T12:00:00+08:00` and `2027-03-06T00:00:00+08:00` all appoint
   * through 2027-03-05 and are stored as `2027-03-05T16:00:00.000Z`.
   */
  expiresAt: z.iso
    .datetime({ offset: true })
    .transform((value) => new Date(validUntilOf(value)))
    .meta({
      description:
        'RFC 3339, any instant of the last day of the appointment: it lapses at the end of that day in ' +
        'Beijing time (00:00+08:00 of the next day, the instant answered as `expiresAt`)',
    }),
});
export type AppointAgentInput = z.output<typeof appointAgentInput>;

export interface AgentDependencies extends EntityDependencies {
  audit: AuditTrail;
  /**
   * The pending work of the accounts function's changes: an appointment or withdrawal is saved with its
   * audit entry there, so that it never stands untraced ({@link saveAgentChange}).
   */
  accountAudit: PendingWorkIndex;
  /** The representative's counter of appointments checked against the registry (an oracle of names). */
  loginAttempts: LoginAttemptStore;
  /** The population registry (人口库): the agent's name, which the representative must give, is checked there. */
  registry: EntityRegistry & PopulationRegistry;
  /**
   * With both, a withdrawal also withdraws the platforms' grants (sign-ins and shares) the agent made under
   * that appointment, each platform told, as the agent would in the wallet (review R42).
   */
  accounts?: Pick<AccountStore, 'findByLookupKey'>;
  platformConsents?: PlatformConsents;
}

/**
 * The caller must be the entity's legal representative (403 otherwise): agents cannot appoint agents.
 * And signed in at level 3 (`signedInLevel`: the account and the sign-in): an appointment hands the
 * entity's licences to someone, so a person who merely registered the representative's number (level 2
 * at most) must not make one.
 */
async function requireRepresentative(
  person: Person,
  creditCode: string,
  now: Date,
  deps: EntityDependencies,
): Promise<{ entity: EntityAccount; appointer: Appointer }> {
  const authority = await canActFor(person, creditCode, now, deps);
  if (authority?.role !== 'legal_representative') {
    throw new ForbiddenError(
      'Only the legal representative of the entity may manage its agents',
      'not_legal_representative',
    );
  }
  if (signedInLevel(person, person.acr) < 3) {
    throw new ForbiddenError(
      `Managing an entity's agents needs assurance level ${acrOf(3)} (acr); sign in at that level`,
      'insufficient_assurance',
    );
  }
  return { entity: authority.entity, appointer: { lookupKey: person.lookupKey, term: authority.term } };
}

/**
 * The representative appoints an agent (委托经办人) by the agent's ID number, with a scope and an expiry
 * (in the future, at most three years ahead). The agent needs no account yet: the appointment is keyed
 * by the number's lookup key and takes effect when that person signs in. One appointment per person and
 * entity: 409 `agent_exists` while one is in force. Saved with its audit entry `agent.appointed`
 * ({@link saveAgentChange}): never in force untraced.
 *
 * @example
 * ```ts
 * const appointment = await appointAgent(rep, '91110105MA01DEM078', { idNumber, scope: ['licences'], expiresAt }, deps);
 * ```
 */
export async function appointAgent(
  representative: Person,
  creditCode: string,
  input: AppointAgentInput,
  deps: AgentDependencies,
  context: { requestId?: string } = {},
): Promise<AgentAppointment> {
  const now = new Date(deps.clock.now());
  const { entity, appointer } = await requireRepresentative(representative, creditCode, now, deps);
  const errors: FieldError[] = [];
  let idNumber: IdNumber | undefined;
  try {
    idNumber = parseIdNumber(input.idNumber, now);
  } catch (error) {
    errors.push(fieldErrorAt('idNumber', error as Error));
  }
  const latest = now.getTime() + maxAppointmentDays * 86_400_000;
  if (input.expiresAt.getTime() <= now.getTime() || input.expiresAt.getTime() > latest) {
    errors.push({
      path: 'expiresAt',
      message: `must be in the future, at most ${maxAppointmentDays} days ahead`,
    });
  }
  if (errors.length > 0 || !idNumber) {
    throw invalidRequest(errors);
  }
  const agentKey = await personLookupKey(deps.lookupMac, idNumber);
  if (agentKey === representative.lookupKey) {
    throw new InvalidInputError('The legal representative already acts for the entity', 'self_appointment', {
      errors: [{ path: 'idNumber', message: 'is the representative’s own' }],
    });
  }
  // A mistyped number would hand the entity to a stranger: with the name, the registry catches it. An
  // unknown number and another person's name get one answer (fail closed, and no more said). Each
  // answer says whether a name goes with a number: counted per representative before the registry is
  // asked (`appointmentThrottle`), and a mismatch is audited.
  const admission = await new LoginThrottle(deps.loginAttempts, deps.clock).admit([
    { kind: 'appointment', key: representative.lookupKey },
  ]);
  if (!admission.admitted) {
    throw new TooManyRequestsError(
      `Too many appointments checked against the registry; try again in ${admission.retryAfterSeconds} seconds`,
      admission.retryAfterSeconds,
    );
  }
  const registered = await deps.registry.findPerson(agentKey, idNumber);
  if (!registered || comparableName(registered.name) !== comparableName(input.name)) {
    // Written, or no answer at all (review R12): an answer about a name that left no trace would be the
    // oracle again.
    await deps.audit.record({
      at: now.toISOString(),
      actor: representative.id,
      action: 'agent.name_mismatch',
      holderMasked: maskIdNumber(idNumber),
      // The person whose number was tried, committed as every entry's holder is: a supervisor can pick
      // out the entries about them (review R45 F2). Not in their usage record (not a licence's use).
      holderKey: agentKey,
      reason: entity.creditCode,
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    throw new InvalidInputError(
      'The name does not match the population registry for this ID number',
      'registry_mismatch',
      {
        errors: [
          { path: 'name', message: 'does not match the population registry', code: 'registry_mismatch' },
        ],
      },
    );
  }
  const appointment: AgentAppointment = {
    agentId: randomId('agt'),
    creditCode: entity.creditCode,
    personLookupKey: agentKey,
    masked: maskIdNumber(idNumber),
    scope: input.scope,
    validUntil: input.expiresAt.toISOString(),
    status: 'active',
    appointedAt: now.toISOString(),
    appointedBy: representative.id,
    appointedByLookupKey: appointer.lookupKey,
    // The term the representative appoints in: the appointment ends with it (review R42). None on a
    // registry record written before terms: absent, as on the appointments made then.
    ...(appointer.term ? { appointerTerm: appointer.term } : {}),
    version: 0,
  };
  return appointWithTrace(appointment, { actor: representative.id, ...context }, deps);
}

/**
 * Puts `appointment` in force (`EntityStore.appoint`: 409 `agent_exists` while one is) with its audit
 * entry `agent.appointed` (`actor` who appointed: the representative's account, or `seed` for the local
 * demo's clerk; the agent's masked number; the entity, scope and expiry), as one write
 * ({@link saveAgentChange}): what {@link appointAgent} writes once it has checked everything, and the
 * local seed for its demo clerk, so that no appointment is ever in force untraced.
 *
 * @example
 * ```ts
 * await appointWithTrace(appointment, { actor: 'seed' }, deps);
 * ```
 */
export function appointWithTrace(
  appointment: AgentAppointment,
  context: { actor: string; requestId?: string },
  deps: Pick<AgentDependencies, 'entities' | 'audit' | 'accountAudit' | 'clock'>,
): Promise<AgentAppointment> {
  return saveAgentChange(
    appointment,
    {
      at: appointment.appointedAt,
      actor: context.actor,
      action: 'agent.appointed',
      holderMasked: appointment.masked,
      reason: `${appointment.creditCode} ${appointment.scope.join(' ')} until ${appointment.validUntil}`,
      ...(context.requestId ? { requestId: context.requestId } : {}),
    },
    (trace) => deps.entities.appoint(appointment, new Date(appointment.appointedAt), trace),
    deps,
  );
}

/**
 * The representative withdraws an agent: from then on {@link canActFor} refuses the agent, so no new
 * token names the entity for them; the platforms' grants the agent made under this appointment are
 * withdrawn, each platform told (review R42). Appointing the same person again is a new appointment, which
 * revives none of them (`standsOn`, account-id.ts). Withdrawing again changes nothing but retry that; an
 * unknown `agentId` is a 404. Saved with its audit entry `agent.withdrawn` ({@link saveAgentChange}).
 */
export async function withdrawAgent(
  representative: Person,
  creditCode: string,
  agentId: string,
  deps: AgentDependencies,
  context: { requestId?: string } = {},
): Promise<AgentAppointment> {
  const now = new Date(deps.clock.now());
  const { entity } = await requireRepresentative(representative, creditCode, now, deps);
  const appointment = (await deps.entities.appointmentsOf(entity.creditCode)).find(
    (candidate) => candidate.agentId === agentId,
  );
  if (!appointment) throw new NotFoundError('The entity has no such agent', 'agent_not_found');
  if (appointment.status === 'withdrawn') {
    // Again: the grants a failure left the first time go now.
    await endGrantsUnder(entity, appointment, deps);
    return appointment;
  }
  const withdrawn: AgentAppointment = {
    ...appointment,
    status: 'withdrawn',
    withdrawnAt: now.toISOString(),
    withdrawnBy: representative.id,
  };
  const saved = await saveAgentChange(
    withdrawn,
    {
      at: now.toISOString(),
      actor: representative.id,
      action: 'agent.withdrawn',
      holderMasked: appointment.masked,
      reason: entity.creditCode,
      ...(context.requestId ? { requestId: context.requestId } : {}),
    },
    (trace) => deps.entities.saveAppointment(withdrawn, trace),
    deps,
  );
  await endGrantsUnder(entity, saved, deps);
  return saved;
}

/**
 * Withdraws the platforms' grants the agent made under `appointment` (its sessions acting for the entity
 * are bound to its `agentId`: `standsOn`, account-id.ts), each platform told: they would be refused at
 * each use anyway, and now go with their tokens (review R42). After the appointment's withdrawal is
 * saved, so that a failure here leaves it withdrawn; withdrawing again retries.
 */
async function endGrantsUnder(
  entity: EntityAccount,
  appointment: AgentAppointment,
  deps: Pick<AgentDependencies, 'accounts' | 'platformConsents'>,
): Promise<void> {
  if (!deps.accounts || !deps.platformConsents) return;
  const agent = await deps.accounts.findByLookupKey(appointment.personLookupKey);
  if (agent)
    await deps.platformConsents.withdrawAll(agent.id, { entityId: entity.id, basis: appointment.agentId });
}

/**
 * The entity's agents, withdrawn and expired ones included, newest first, for its representative only;
 * with the representative as appointer now (their term), against which each one stands or is superseded
 * (`agentView`).
 */
export async function listAgents(
  representative: Person,
  creditCode: string,
  deps: EntityDependencies,
): Promise<{ appointments: AgentAppointment[]; appointer: Appointer }> {
  const now = new Date(deps.clock.now());
  const { entity, appointer } = await requireRepresentative(representative, creditCode, now, deps);
  const appointments = await deps.entities.appointmentsOf(entity.creditCode);
  return { appointments: appointments.sort((a, b) => b.appointedAt.localeCompare(a.appointedAt)), appointer };
}

/**
 * Saves an appointment or its withdrawal with its audit entry (`agent.appointed`, `agent.withdrawn`) as one
 * write ({@link saveWithTrace}): the entry is saved as pending work in the appointment's own write, keyed by
 * the agent and the appointment's version written (`agent-changed#<agent id>#<version>`: each version is
 * written by one change only), so that no appointment (a clerk's right to issue among them) stands, nor
 * is withdrawn, untraced. An entry that cannot be written now stays saved and the change stands: the
 * reconciler writes it a minute later. The closure of an agent's account withdraws its appointments
 * through it too (shared/identity/close-account.ts).
 */
export function saveAgentChange(
  appointment: AgentAppointment,
  entry: AuditEntry,
  save: (trace: Trace) => Promise<AgentAppointment>,
  deps: Pick<AgentDependencies, 'audit' | 'accountAudit' | 'clock'>,
): Promise<AgentAppointment> {
  return saveWithTrace(`${agentAuditPrefix}${appointment.agentId}#${appointment.version + 1}`, entry, save, {
    ...deps,
    pendingAudit: deps.accountAudit,
  });
}
