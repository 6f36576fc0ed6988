import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { ConflictError } from '../errors.js';
import { representativeBasis } from '../identifiers/account-id.js';
import {
  representativeAuditPrefix,
  saveWithTrace,
  type PendingWorkIndex,
} from '../pending-work/pending-work.js';
import { randomId } from '../random-id.js';
import type { AccountStore } from './account-store.js';
import { appointedInTerm } from './entity-account.js';
import type { EntityStore } from './entity-store.js';
import type { RegisteredEntity, RegisteredEntityRecord, RegistryStore } from './registry.js';
import type { PlatformConsents } from './sign-in-revocation.js';

export interface RepresentativeChangeDependencies {
  registry: Pick<RegistryStore, 'findEntity' | 'putEntity' | 'changeRepresentative'>;
  accounts: Pick<AccountStore, 'findByLookupKey'>;
  entities: Pick<EntityStore, 'appointmentsOf' | 'findEntityByCreditCode'>;
  platformConsents: PlatformConsents;
  audit: AuditTrail;
  /** The index a change's audit entries are carried in until written (the accounts function's). */
  accountAudit: PendingWorkIndex;
  clock: Clock;
}

/** The audit action of a change of an enterprise's legal representative recorded from the registry. */
export const representativeChangedAction = 'entity.representative_changed';

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
 * The change itself is traced (`entity.representative_changed`, {@link changeEntries}): its entries are
 * saved with it, in the registry's write ({@link saveWithTrace}, `RegistryStore.changeRepresentative`,
 * conditional on the record read), so that no change of representative is recorded untraced, and written
 * once (the change's key names its new term, drawn here); an entry not written at once is written by the
 * reconciler. One entry per person, the former representative's and the new one's, each carrying that
 * person's lookup key (never a number: their usage record shows it, docs/usage-record.md) and masked
 * number. Recording the same representative again, or an entity for the first time, is no change: no
 * entry. `source` names who recorded it (the entries' `actor`): the seed, the registry's change feed.
 *
 * @example
 * ```ts
 * await recordRegisteredEntity({ creditCode, name, representativeLookupKey, representativeMasked }, deps, 'seed');
 * ```
 */
export async function recordRegisteredEntity(
  entity: RegisteredEntityRecord,
  deps: RepresentativeChangeDependencies,
  source = 'registry',
): Promise<RegisteredEntity> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await deps.registry.findEntity(entity.creditCode);
    try {
      // No change as read: written only if still so (review R56-2), else read again, and a change made
      // meanwhile is recorded as one, traced, not overwritten by a term the store would draw.
      if (before === undefined || before.representativeLookupKey === entity.representativeLookupKey)
        return await deps.registry.putEntity(entity, {
          representativeLookupKey: before?.representativeLookupKey,
        });
    } catch (error) {
      if (error instanceof ConflictError && error.code === 'registry_conflict') continue;
      throw error;
    }
    await withdrawTermGrants(before, deps);
    const changed: RegisteredEntity = { ...entity, representativeTerm: randomId('rt') };
    try {
      await saveWithTrace(
        `${representativeAuditPrefix}${entity.creditCode}#${changed.representativeTerm}`,
        changeEntries(before, changed, source, new Date(deps.clock.now()).toISOString()),
        (trace) => deps.registry.changeRepresentative(before, changed, trace),
        { ...deps, pendingAudit: deps.accountAudit },
      );
    } catch (error) {
      // Recorded by someone else since it was read: read it again (nothing was written).
      if (error instanceof ConflictError && error.code === 'registry_conflict') continue;
      throw error;
    }
    await withdrawTermGrants(before, deps);
    return changed;
  }
  throw new ConflictError('The entity was recorded concurrently; record it again', 'registry_conflict');
}

/**
 * The audit entries of a change of representative from `before` to `after`: one for each person, in
 * their own usage record (`holderKey`, `representativeRole`), both naming the enterprise, the new term
 * and `source`. Masked numbers and lookup keys only, never an ID number.
 */
function changeEntries(
  before: RegisteredEntity,
  after: RegisteredEntity,
  source: string,
  at: string,
): [AuditEntry, AuditEntry] {
  const change = {
    at,
    actor: source,
    action: representativeChangedAction,
    entityCreditCode: after.creditCode,
    entityName: after.name,
    representativeTerm: after.representativeTerm,
    reason: '法定代表人变更登记',
  };
  return [
    {
      ...change,
      representativeRole: 'former',
      holderKey: before.representativeLookupKey,
      holderMasked: before.representativeMasked,
    },
    {
      ...change,
      representativeRole: 'new',
      holderKey: after.representativeLookupKey,
      holderMasked: after.representativeMasked,
    },
  ];
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
