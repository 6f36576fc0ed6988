import * as z from 'zod';

/**
 * A legal entity's account (法人账号), created the first time someone acts for the entity. `id` is
 * opaque: the OpenID side derives the entity's pairwise `sub` from it, never from the credit code.
 */
export interface EntityAccount {
  /** Opaque, `ent_…`. */
  id: string;
  /** Unified social credit code, normalised (public by law for registered entities). */
  creditCode: string;
  /**
   * The credit code's lookup key (HMAC), under which the entity's licences are kept: stored so that
   * checking an entity's business licence at every token issuance costs no KMS call.
   */
  lookupKey: string;
  name: string;
  createdAt: string;
}

/**
 * What an agent (经办人) may be authorised to do for an entity. A representative may do all of them but
 * `licences:issue`. An appointment covers what it lists and nothing else. Add here; never rename.
 *
 * - `licences`: read and show the entity's licences (the wallet), and share them with a platform the
 *   agent signed in to for the entity.
 * - `licences:issue`: a counter clerk of an issuing agency (the entity whose credit code is the issuer's):
 *   issue and manage the agency's licences in the issuer console (shared/licence/issuer-actor.ts). Only an
 *   appointed agent holds it there, never the representative by role: the head of an agency appoints
 *   clerks, and every act in the audit trail names the clerk who did it.
 * - `sign-in` (代表企业登录其他平台): sign in as the entity at a platform that is not the service's own (any
 *   registered client that is not first-party): the platform is told the person acts for the entity
 *   (`subject_type: legal_person`, `credit_code`) and lets them do its business as the entity. The
 *   service's own apps (the wallet, the issuer console) check on every call what the appointment allows,
 *   so any appointment in force signs in there ({@link platformSignInScope}, review R22). Appointments
 *   stored before this scope existed do not list it, so they do not cover it: the representative
 *   appoints again to give it.
 * - `accounts:prove-in-person` (当面核验): a counter clerk (with `licences:issue`, which signs them in to the
 *   console) who also proves people in person at the counter and sets or clears their proven phone
 *   (shared/identity/counter-proof.ts). Appointed only, never the representative's by role: it raises
 *   anyone to level 3 and chooses the phone that resets their password.
 */
export const agentScopes = ['licences', 'licences:issue', 'sign-in', 'accounts:prove-in-person'] as const;
export type AgentScope = (typeof agentScopes)[number];

/** The scope an appointment needs to sign in as the entity at a platform (see {@link agentScopes}). */
export const platformSignInScope: AgentScope = 'sign-in';

/** What a legal representative may do by role: every {@link agentScopes} but the clerk's. */
export const representativeScopes: readonly AgentScope[] = ['licences', 'sign-in'];

/**
 * A representative's appointment of an agent, one per (entity, person): re-appointing after a withdrawal
 * or expiry replaces it (with a new `agentId`).
 */
export interface AgentAppointment {
  /** Opaque, `agt_…`: how the representative names the appointment (withdrawal). */
  agentId: string;
  creditCode: string;
  /** Lookup key of the agent's ID number: the agent need not have an account yet. */
  personLookupKey: string;
  /** The agent's masked ID number, for the representative's list. */
  masked: string;
  scope: AgentScope[];
  /** RFC 3339: the appointment lapses then (stored as `validUntil`, apart from the table's TTL). */
  validUntil: string;
  status: 'active' | 'withdrawn';
  appointedAt: string;
  /** Account id of the representative who appointed. */
  appointedBy: string;
  /**
   * Lookup key of the representative who appointed: the appointment counts only while the business
   * registry still names that person representative. Absent on appointments made before it was
   * recorded, which therefore count for nothing; the representative appoints again, which replaces them.
   */
  appointedByLookupKey?: string;
  /**
   * The business registry's representative term (`RegisteredEntity.representativeTerm`) the appointer was
   * representative in when they appointed: the appointment counts only during that term (review R42, left
   * over), so it does not stand again when the same person is named representative again after a change.
   * Absent (never empty) on an appointment made before terms, or during a record written before them:
   * it counts as `''`, and so stands while the registry record has no term ({@link appointedInTerm}).
   */
  appointerTerm?: string;
  withdrawnAt?: string;
  withdrawnBy?: string;
  version: number;
}

/** Why a person may act for an entity; `legal_representative` carries the {@link representativeScopes}. */
export type ActingAuthority =
  | {
      entity: EntityAccount;
      role: 'legal_representative';
      scope: readonly AgentScope[];
      /** What proved it: the entity registry (法人库), the only source of who represents an entity. */
      proof: 'entity-registry';
      /**
       * The registry's term of this representation (`RegisteredEntity.representativeTerm`): the entity
       * sessions made under it stand only while it does (`standsOn`, account-id.ts).
       */
      term: string;
    }
  | {
      entity: EntityAccount;
      role: 'agent';
      scope: readonly AgentScope[];
      /** RFC 3339. */
      expiresAt: string;
      agentId: string;
    };

/** Who appoints an entity's agents now: the representative the business registry names, in its term. */
export interface Appointer {
  /** The representative's ID number's lookup key (`RegisteredEntity.representativeLookupKey`). */
  lookupKey: string;
  /** The registry's term of that representation (`RegisteredEntity.representativeTerm`; `''` before terms). */
  term: string;
}

/**
 * Whether `appointment` was made by `appointer` during their term: the representative the registry names
 * now, in the registry's term now (review R42). An appointment made by a former representative, by
 * anyone before the appointer was recorded, or by the same person in a former term (named again since)
 * counts for nothing. One made before terms counts as made in term `''`.
 */
export function appointedInTerm(appointment: AgentAppointment, appointer: Appointer): boolean {
  return (
    appointment.appointedByLookupKey !== undefined &&
    appointment.appointedByLookupKey === appointer.lookupKey &&
    (appointment.appointerTerm ?? '') === appointer.term
  );
}

/** True when the appointment is in force at `now`. */
export function appointmentInForce(appointment: AgentAppointment, now: Date): boolean {
  return appointment.status === 'active' && Date.parse(appointment.validUntil) > now.getTime();
}

/** An agent as `GET /me/entities/{creditCode}/agents` lists it ({@link agentView}). */
export const agentViewSchema = z
  .object({
    agentId: z.string(),
    masked: z.string().meta({ description: 'The agent’s masked ID number' }),
    scope: z.array(z.enum(agentScopes)),
    expiresAt: z.string().meta({
      description:
        'RFC 3339: the instant the appointment lapses, exclusive; 00:00 Beijing time of the day after its ' +
        'last day (an appointment made before review R60 may end at 23:59:59 of that day): its last day is ' +
        'the Beijing date of this instant less one millisecond',
    }),
    status: z.enum(['active', 'withdrawn', 'expired', 'superseded']).meta({
      description:
        '`superseded`: made by a former legal representative (the business registry names another one ' +
        'now), or by the representative in a former term of theirs (named again since), so no longer in ' +
        'force (review R42)',
    }),
    appointedAt: z.string(),
    withdrawnAt: z.string().optional(),
  })
  .meta({
    title: 'Agent',
    examples: [
      {
        agentId: 'agt_Qm3x9Lp0',
        masked: '110105********0011',
        scope: ['licences'],
        expiresAt: '2026-12-31T16:00:00.000Z',
        status: 'active',
        appointedAt: '2026-03-01T09:30:00.000Z',
      },
    ],
  });

/** What `GET /me/entities/{creditCode}/agents` answers. */
export const agentListSchema = z.object({ items: z.array(agentViewSchema) }).meta({ title: 'Agents' });

/** What `POST /me/entities/{creditCode}/agents` answers: the new appointment. */
export const appointedAgentSchema = agentViewSchema
  .pick({ agentId: true, masked: true, scope: true, expiresAt: true })
  .meta({ title: 'AppointedAgent' });

/**
 * The agent as the representative sees it (`GET /me/entities/{creditCode}/agents`). `appointer` is the
 * representative the business registry names now (the caller) in its term now: an appointment in force
 * made by anyone else (a former representative), or by the caller in a former term, is `superseded`, not
 * `active` (review R42 F2 and left over): it counts for nothing ({@link appointedInTerm}).
 */
export function agentView(
  appointment: AgentAppointment,
  now: Date,
  appointer: Appointer,
): z.output<typeof agentViewSchema> {
  const status =
    appointment.status === 'withdrawn'
      ? ('withdrawn' as const)
      : !appointmentInForce(appointment, now)
        ? ('expired' as const)
        : appointedInTerm(appointment, appointer)
          ? ('active' as const)
          : ('superseded' as const);
  return {
    agentId: appointment.agentId,
    masked: appointment.masked,
    scope: appointment.scope,
    expiresAt: appointment.validUntil,
    status,
    appointedAt: appointment.appointedAt,
    ...(appointment.withdrawnAt ? { withdrawnAt: appointment.withdrawnAt } : {}),
  };
}

/** Why a person may act for an entity, as `GET /me/entities` lists it ({@link authorityView}). */
export const authorityViewSchema = z
  .object({
    creditCode: z.string(),
    name: z.string(),
    role: z.enum(['legal_representative', 'agent']),
    scope: z.array(z.enum(agentScopes)),
    expiresAt: z
      .string()
      .optional()
      .meta({ description: 'For an agent: when the appointment lapses, as an agent’s `expiresAt`' }),
  })
  .meta({
    title: 'EntityAuthority',
    examples: [
      {
        creditCode: '91110000MA01ABCD2X',
        name: '北京示例科技有限公司',
        role: 'legal_representative',
        scope: ['licences', 'sign-in'],
      },
    ],
  });

/** What `GET /me/entities` answers. */
export const authorityListSchema = z
  .object({ items: z.array(authorityViewSchema) })
  .meta({ title: 'EntityAuthorities' });

/** An authority as `GET /me/entities` lists it. */
export function authorityView(authority: ActingAuthority): z.output<typeof authorityViewSchema> {
  return {
    creditCode: authority.entity.creditCode,
    name: authority.entity.name,
    role: authority.role,
    scope: [...authority.scope],
    ...(authority.role === 'agent' ? { expiresAt: authority.expiresAt } : {}),
  };
}
