import * as z from 'zod';
import { ForbiddenError } from '../errors.js';
import { consoleClientId } from '../identifiers/client-ids.js';
import { parseAccountId, standsOn } from '../identifiers/account-id.js';
import { signedInLevel, type AssuranceLevel } from '../identity/assurance.js';
import { canActFor, findEntityById, type EntityDependencies } from '../identity/entities.js';
import type { AccountStore } from '../identity/account-store.js';
import type { AgentScope } from '../identity/entity-account.js';
import { findPersonById } from '../identity/verify-password.js';
import type { Issuer } from '../issuers/issuer.js';
import type { IssuerStore } from '../issuers/issuer-store.js';

/** The level a clerk's sign-in must reach, checked again on every call (see `clerkAcr`). */
export const clerkLevel: AssuranceLevel = 3;

/**
 * Who acts for an issuer on a call of the issuer API: the active issuer, the OAuth client the token was
 * issued to, and, for a counter clerk (经办人) signed in to the issuer console, the clerk's reference.
 */
export interface IssuerActor {
  issuer: Issuer;
  clientId: string;
  /**
   * The clerk's pairwise subject at the issuer console (the `act.sub` of the console's ID token): stable
   * for the person across appointments, meaningless anywhere else, never a name or an ID number. Absent
   * for an agency's machine client.
   */
  clerk?: string;
}

/** What {@link issuerActor} reads: the token's caller, as `authenticate` found it. */
export interface IssuerCaller {
  clientId: string;
  issuerId: string | undefined;
  accountId: string | undefined;
  acr: string | undefined;
}

export type IssuerActorDependencies = EntityDependencies & {
  accounts: AccountStore;
  issuers: Pick<IssuerStore, 'findById' | 'findByCreditCode'>;
  /** The person's pairwise subject at the issuer console (`shared/sso/pairwise.ts`, the provider's salt). */
  clerkReference: (personId: string) => Promise<string>;
};

/** What `GET /issuer` answers: whom the caller acts as. */
export const issuerActorSchema = z
  .object({
    issuerId: z.string(),
    name: z.string(),
    creditCode: z.string(),
    clerk: z.string().optional().meta({
      description:
        'For a clerk signed in to the issuer console: the clerk’s reference, as the audit trail names them',
    }),
  })
  .meta({
    title: 'IssuerActor',
    examples: [{ issuerId: 'iss_3kq9x', name: '北京市政务服务管理局', creditCode: '11110000000013223T' }],
  });

/**
 * Whom a call of the issuer API acts for, decided afresh on every call (so a withdrawn issuer, or a
 * clerk whose appointment was withdrawn, is refused at the next call, not when the token expires):
 *
 * 1. an agency's machine client (client credentials): its token names the issuer (`issuer_id`), which
 *    must be active;
 * 2. a counter clerk: a person's token from the issuer console ({@link consoleClientId}) acting for an
 *    entity (`entity~person`), whose credit code is an active issuer's, the person an agent of that
 *    entity appointed with `licences:issue` by its representative of today (`canActFor`), signed in at
 *    {@link clerkLevel};
 * 3. anything else is refused (403 with a code).
 *
 * A clerk costs six reads (the person, the entity, the registry, the appointment, the entity by credit
 * code, the issuer) and no KMS call (the pairwise salt is derived once per container).
 *
 * @example
 * ```ts
 * const { issuer, clerk } = await issuerActor(caller, deps); // clerk: 'Qm3x…' for a clerk's token
 * ```
 */
export async function issuerActor(
  caller: IssuerCaller,
  deps: IssuerActorDependencies,
  /**
   * A scope the clerk's appointment must list besides `licences:issue`: `accounts:prove-in-person` for a
   * counter proof (shared/identity/counter-proof.ts). An agency's machine client is refused it
   * (`clerk_only`): only a person, traced by name of office, proves another in person.
   */
  options: { alsoScope?: AgentScope } = {},
): Promise<IssuerActor> {
  // 1. An agency's machine client. A withdrawn issuer's client is deleted with it, which ends its tokens
  // already; an issuer withdrawn before that (its client left in place) is refused here.
  if (caller.issuerId) {
    if (options.alsoScope) {
      throw new ForbiddenError(
        'Only a counter clerk signed in to the issuer console may do this',
        'clerk_only',
      );
    }
    const issuer = await deps.issuers.findById(caller.issuerId);
    if (issuer?.status !== 'active') {
      throw new ForbiddenError('This client’s issuer is withdrawn or does not exist', 'issuer_inactive');
    }
    return { issuer, clientId: caller.clientId };
  }
  if (caller.clientId !== consoleClientId || !caller.accountId) {
    throw new ForbiddenError('This client is not an issuing agency’s client', 'not_an_issuer');
  }
  // 2. A clerk: the person, acting for the agency's entity.
  const subject = parseAccountId(caller.accountId);
  if (subject.kind !== 'entity') {
    throw new ForbiddenError(
      'Sign in to the issuer console acting for your agency (an entity), not personally',
      'not_a_clerk',
    );
  }
  const [person, entity] = await Promise.all([
    findPersonById(subject.personId, deps),
    findEntityById(subject.entityId, deps),
  ]);
  if (!person || !entity) {
    throw new ForbiddenError('The signed-in account or entity no longer exists', 'not_a_clerk');
  }
  const [authority, issuer] = await Promise.all([
    canActFor(person, entity.creditCode, new Date(deps.clock.now()), deps),
    deps.issuers.findByCreditCode(entity.creditCode),
  ]);
  if (!issuer) {
    throw new ForbiddenError('The entity acted for is not an issuing agency', 'not_an_issuer');
  }
  // The representative manages clerks; only an appointed agent with `licences:issue` issues (entity-account.ts).
  // And under the appointment the console session was made under (review R42): a clerk withdrawn and
  // appointed again signs in again.
  if (
    authority?.role !== 'agent' ||
    !authority.scope.includes('licences:issue') ||
    !standsOn(subject, authority)
  ) {
    throw new ForbiddenError(
      'The signed-in person is not an appointed clerk (agent with licences:issue) of this agency',
      'clerk_not_appointed',
    );
  }
  if (options.alsoScope && !authority.scope.includes(options.alsoScope)) {
    throw new ForbiddenError(
      `The clerk's appointment does not list ${options.alsoScope}: the agency's head appoints it in the wallet (经办人)`,
      'clerk_scope_missing',
    );
  }
  if (signedInLevel(person, caller.acr) < clerkLevel) {
    throw new ForbiddenError(
      'A clerk signs in at assurance level urn:elicence:loa:3 (acr); sign in at that level',
      'insufficient_assurance',
    );
  }
  if (issuer.status !== 'active') {
    throw new ForbiddenError('This agency’s issuer is withdrawn', 'issuer_inactive');
  }
  return { issuer, clientId: caller.clientId, clerk: await deps.clerkReference(subject.personId) };
}

/**
 * How an actor is named on what it does: `actor` the OAuth client (as before clerks), `clerk` the clerk's
 * reference when a clerk acted. Spread into audit entries and a licence's history.
 *
 * @example
 * ```ts
 * await deps.audit.record({ at, action: 'licence.issued', ...actedBy(context), licenceId });
 * ```
 */
export function actedBy(context: { clientId: string; clerk?: string | undefined }): {
  actor: string;
  clerk?: string;
} {
  return { actor: context.clientId, ...(context.clerk ? { clerk: context.clerk } : {}) };
}
