import type { Trace } from '../pending-work/pending-work.js';
import type { AgentAppointment, EntityAccount } from './entity-account.js';

/**
 * Where entity accounts and agent appointments are kept (who represents an entity is the registry's).
 *
 * Contract: `createEntity` is the one conditional write that makes a credit code's account unique
 * (`ConflictError` when it exists); `appoint` writes an appointment only where none is in force for
 * the same (entity, person) at `now` by the same appointer (`ConflictError` code `agent_exists`; one made
 * by another appointer no longer stands and is replaced); `saveAppointment` replaces
 * under optimistic concurrency on `version` (`ConflictError` code `agent_changed`). Given a `trace`, each
 * writes with the appointment, all or nothing, the pointer that carries its audit entry
 * (shared/pending-work/pending-work.ts `Trace`, in the index of the accounts function's changes): the
 * representative's appointment or withdrawal is never saved without it. Reads by secondary
 * index re-read each item by key, so they never return a stale appointment.
 */
export interface EntityStore {
  createEntity(entity: EntityAccount): Promise<EntityAccount>;
  findEntityByCreditCode(creditCode: string): Promise<EntityAccount | undefined>;
  findEntityById(id: string): Promise<EntityAccount | undefined>;

  appoint(appointment: AgentAppointment, now: Date, trace?: Trace): Promise<AgentAppointment>;
  saveAppointment(appointment: AgentAppointment, trace?: Trace): Promise<AgentAppointment>;
  findAppointment(creditCode: string, personLookupKey: string): Promise<AgentAppointment | undefined>;
  /** Every appointment of an entity, withdrawn and expired ones included. */
  appointmentsOf(creditCode: string): Promise<AgentAppointment[]>;
  /** Every appointment naming a person, withdrawn and expired ones included. */
  appointmentsFor(personLookupKey: string): Promise<AgentAppointment[]>;
}
