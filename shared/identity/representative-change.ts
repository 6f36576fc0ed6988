import { representativeBasis } from '../identifiers/account-id.js';
import type { AccountStore } from './account-store.js';
import { appointedInTerm } from './entity-account.js';
import type { EntityStore } from './entity-store.js';
import type { RegisteredEntity, RegisteredEntityRecord, RegistryStore } from './registry.js';
import type { PlatformConsents } from './sign-in-revocation.js';

export interface RepresentativeChangeDependencies {
  registry: Pick<RegistryStore, 'findEntity' | 'putEntity'>;
  accounts: Pick<AccountStore, 'findByLookupKey'>;
  entities: Pick<EntityStore, 'appointmentsOf' | 'findEntityByCreditCode'>;
  platformConsents: PlatformConsents;
}

/**
 * Records an entity in the business registry kept by the service (the seed, or whatever applies the
 * registry's changes to it), and, when that names another legal representative, withdraws the platforms'
 * grants (sign-ins and shares) the former one gave as the entity during their term, each platform told
 * and each withdrawal audited, as withdrawing an agent does with the agent's (review R42); and those of
 * the agents the former one appointed during that term (under each appointment's `agentId`), which end
 * with it too (`appointedInTerm`): superseded, they would otherwise stay listed, standing on nothing.
 *
 * What ends the former representative's grants is the new term itself (`RegistryStore.putEntity`: the
 * representative and the term change in one write; every use of a grant asks that the term it was made
 * in still stands, `standsOn`): from that write on they are refused, whatever happens next, and naming
 * the same person again later starts yet another term, which revives none of them. The withdrawal here
 * tells the platforms and removes the grants, in two passes: before the write, so that a crash before it
 * is retried by recording the entity again (the former term is still the registry's then); and after it,
 * for grants given in between. A crash after the write leaves only those few, refused anyway, untold.
 *
 * @example
 * ```ts
 * await recordRegisteredEntity({ creditCode, name, representativeLookupKey, representativeMasked }, deps);
 * ```
 */
export async function recordRegisteredEntity(
  entity: RegisteredEntityRecord,
  deps: RepresentativeChangeDependencies,
): Promise<RegisteredEntity> {
  const before = await deps.registry.findEntity(entity.creditCode);
  const changing = before !== undefined && before.representativeLookupKey !== entity.representativeLookupKey;
  if (changing) await withdrawTermGrants(before, deps);
  const recorded = await deps.registry.putEntity(entity);
  if (changing) await withdrawTermGrants(before, deps);
  return recorded;
}

/**
 * The platforms' grants the representative of `term` gave as the entity, and those of the agents they
 * appointed in it (withdrawn ones left: their withdrawal took their grants), withdrawn, each platform told;
 * as this entity only, never those the same people gave as another entity (review R46).
 */
async function withdrawTermGrants(
  term: RegisteredEntity,
  deps: RepresentativeChangeDependencies,
): Promise<void> {
  // No entity account: nobody has acted for the entity yet, so no grant was given as it.
  const entity = await deps.entities.findEntityByCreditCode(term.creditCode);
  if (!entity) return;
  const basis = representativeBasis(term.representativeTerm);
  const representative = await deps.accounts.findByLookupKey(term.representativeLookupKey);
  // A term no session could be made under (`basis` ''): no grant stands on it. This entity's grants only
  // (review R46): bare `rep` (a record without a term) is the person's basis at their other entities too.
  if (representative && basis !== '')
    await deps.platformConsents.withdrawAll(representative.id, { entityId: entity.id, basis });
  const appointer = { lookupKey: term.representativeLookupKey, term: term.representativeTerm };
  const appointments = (await deps.entities.appointmentsOf(term.creditCode)).filter(
    (appointment) => appointment.status !== 'withdrawn' && appointedInTerm(appointment, appointer),
  );
  for (const appointment of appointments) {
    const agent = await deps.accounts.findByLookupKey(appointment.personLookupKey);
    if (agent)
      await deps.platformConsents.withdrawAll(agent.id, { entityId: entity.id, basis: appointment.agentId });
  }
}
