/**
 * The provider's `accountId` names who a session is for: a person (`acc_…`), or a person acting for an
 * entity, written `<entity account id>~<person account id>~<basis>`. All parts are opaque internal ids,
 * never an ID number or credit code (the provider stores `accountId` in sessions, grants and tokens).
 *
 * Acting for an entity is a sign-in of its own: choosing an entity, or returning to personal use, starts
 * a new session (the provider ends the previous one), so no platform keeps a personal session while the
 * person acts for an enterprise elsewhere.
 *
 * `basis` is the authority the session was made under (review R42): the appointment's `agentId`
 * (`agt_…`) for an agent, `rep.<term>` for the legal representative ({@link representativeBasis}: the
 * term is the business registry's, new at each registration of a representative, so the grants of a
 * former representative named again later do not stand again). Every use of the
 * session (each token, userinfo answer, licence read, share) asks that the authority standing now is
 * that same one ({@link standsOn}): a withdrawn agent appointed again (a new `agentId`), or a former
 * representative appointed agent by the new one, does not revive what the old authority consented to.
 * The platform's `sub` is computed from the entity's id alone, so it stays the same across appointments.
 * An id without a basis (written before R42) stands on nothing: that session signs in again. A registry
 * record written before terms has none (`''`): its representative's basis is bare `rep` until a change
 * of representative gives the record a term (written again with the same one, it keeps none), which
 * ends them for good. An agent's appointment is bound to its appointer's term the same way
 * (`appointedInTerm`, entity-account.ts), so the agent's `agentId` basis ends with that term too.
 */
export type SessionSubject =
  | { kind: 'person'; personId: string }
  | { kind: 'entity'; entityId: string; personId: string; basis?: string };

const separator = '~';

/** What a representation term may be written as, inside an account id (no separator). */
const termPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The basis of a representative's sessions while the registry record has no term (written before terms). */
const preTermBasis = 'rep';

/**
 * The basis of a session of the entity's legal representative (as the business registry names them),
 * during the representation `term` (`RegisteredEntity.representativeTerm`): `rep.<term>`, or bare `rep`
 * for a record written before terms (`''`). A term that cannot be written in an account id (or none at
 * all) gives `''`, which no session is made under and {@link standsOn} refuses (fail closed).
 */
export function representativeBasis(term: string | undefined): string {
  if (term === '') return preTermBasis;
  return term !== undefined && termPattern.test(term) ? `rep.${term}` : '';
}

/** An authority to act for an entity as far as {@link basisOf} and {@link standsOn} read it. */
export interface BasisOfAuthority {
  role: 'legal_representative' | 'agent';
  /** An agent's appointment. */
  agentId?: string;
  /** The representative's term (the registry's). */
  term?: string;
}

export function formatAccountId(subject: SessionSubject): string {
  if (subject.kind === 'person') return subject.personId;
  return [subject.entityId, subject.personId, ...(subject.basis ? [subject.basis] : [])].join(separator);
}

export function parseAccountId(accountId: string): SessionSubject {
  const [first, second, basis, ...rest] = accountId.split(separator);
  if (second && rest.length === 0 && first) {
    return { kind: 'entity', entityId: first, personId: second, ...(basis ? { basis } : {}) };
  }
  return { kind: 'person', personId: accountId };
}

/**
 * An authority to act for an entity as an entity session's account id names it: the entity's account id
 * (`ent_…`) and the basis (an appointment's `agentId`, or {@link representativeBasis}). Both, never the
 * basis alone: bare `rep` is the same at every entity whose record has no term (review R46).
 */
export interface EntityAuthority {
  entityId: string;
  basis: string;
}

/** The basis an authority to act for an entity gives a session ({@link SessionSubject}). */
export function basisOf(authority: BasisOfAuthority): string {
  return authority.role === 'agent' ? (authority.agentId ?? '') : representativeBasis(authority.term);
}

/**
 * Whether `authority`, standing now, is the one the entity session `subject` was made under (review R42):
 * the same appointment for an agent, the same representation term for the representative (a former
 * representative named again is in a new term). Fails closed for a session without a basis, for an
 * agent authority without an `agentId`, and for a representative's whose term cannot be read.
 */
export function standsOn(
  subject: Extract<SessionSubject, { kind: 'entity' }>,
  authority: BasisOfAuthority,
): boolean {
  if (!subject.basis) return false;
  const basis = basisOf(authority);
  return basis !== '' && basis === subject.basis;
}
