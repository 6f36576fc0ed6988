import type { IdNumber } from '../identifiers/id-number.js';
import type { Trace } from '../pending-work/pending-work.js';

/** A person as the population registry (人口库) knows them, found by lookup key, never by raw number. */
export interface RegisteredPerson {
  lookupKey: string;
  name: string;
  /** The masked ID number, for display. */
  masked: string;
}

/** An entity as the legal-entity registry (法人库) knows it. */
export interface RegisteredEntity {
  creditCode: string;
  name: string;
  /** Lookup key of the legal representative's ID number. */
  representativeLookupKey: string;
  representativeMasked: string;
  /**
   * The current representative's term: new at each registration of a representative (变更登记), so that
   * the same person named again is in another term (review R42). A legal representative's sessions, and
   * so the grants they gave platforms as the entity, are bound to it (`standsOn`, account-id.ts): a
   * change of representative ends them, and naming the former one again does not revive them; so are
   * the agents they appoint (`AgentAppointment.appointerTerm`). Opaque; `''` for a record written before
   * terms (its representative's basis is bare `rep`, and the appointments made without a term stand),
   * until a change of representative gives it one.
   */
  representativeTerm: string;
}

/** An entity as recorded in the registry: its representative's term is the store's to set. */
export type RegisteredEntityRecord = Omit<RegisteredEntity, 'representativeTerm'>;

/**
 * The authoritative registries that assurance levels are checked against. In government deployments
 * these are the national population and legal-entity databases; locally a seeded table.
 */
export interface PopulationRegistry {
  /**
   * The person with this lookup key. The real registries are asked by ID number, not by our lookup key:
   * a caller that holds the number passes it too (registration does), and the HTTP adapter needs it.
   */
  findPerson(lookupKey: string, idNumber?: IdNumber): Promise<RegisteredPerson | undefined>;
}

/**
 * The mobile carriers' real-name check (运营商三要素核验): is this mobile number registered, under this
 * name, to the person with this ID number. Only a number it confirms may carry the codes that prove level
 * 3; it answers yes or no and never says whose a number is.
 */
export interface CarrierRegistry {
  /**
   * `phone` in E.164 form (`+8613…`). The real carriers are asked by ID number: a caller that holds the
   * number passes `idNumber` too; the HTTP adapter answers `false` without it (fail closed). No answer, a
   * late one or a malformed one is `false` as well: only a clear yes confirms.
   */
  confirms(query: { lookupKey: string; name: string; phone: string; idNumber?: IdNumber }): Promise<boolean>;
}

/** A subscriber as the local carrier registry records it. */
export interface CarrierSubscriber {
  lookupKey: string;
  name: string;
  /** E.164 (`+8613…`); the store keeps only a keyed digest of it. */
  phone: string;
}

/**
 * The carriers' registry kept by the service itself: the local stand-in, filled by the demo seed from the
 * same synthetic people as the population registry. A person may have several numbers; recording one
 * again overwrites its name.
 */
export interface CarrierStore extends CarrierRegistry {
  putSubscriber(subscriber: CarrierSubscriber): Promise<void>;
}

export interface EntityRegistry {
  findEntity(creditCode: string): Promise<RegisteredEntity | undefined>;
  /** The entities whose legal representative has this lookup key (法人库 by representative). */
  entitiesRepresentedBy(representativeLookupKey: string): Promise<RegisteredEntity[]>;
}

/** The representative a caller read before recording an entity (`undefined`: no record then). */
export interface ExpectedRepresentative {
  representativeLookupKey: string | undefined;
}

/**
 * Both registries kept by the service itself, in its own storage: the local stand-in for the national
 * databases, read as {@link PopulationRegistry} and {@link EntityRegistry} and filled by the demo seed.
 * Recording a person or entity again overwrites it with the values given.
 */
export interface RegistryStore extends PopulationRegistry, EntityRegistry {
  putPerson(person: RegisteredPerson): Promise<void>;
  /**
   * Records an entity, and answers it as now recorded. Naming another representative than the one
   * recorded (or the first) starts a new {@link RegisteredEntity.representativeTerm}, in the same write
   * as the representative: there is no moment at which the new representative is recorded and the
   * former one's term still stands. Recording the same representative again keeps the term, and keeps a
   * record written before terms without one (`''`), so that the seed run again ends nothing.
   *
   * With `expected` (what the caller read: the representative recorded, `undefined` for no record), the
   * write is refused (a `ConflictError` `registry_conflict`, nothing written) unless the entity still
   * names that representative (or is still unrecorded) when written: a change of representative made
   * between the caller's read and this write is not undone untraced by a new term drawn here (review
   * R56-2); the caller reads again and records the change through its traced path.
   */
  putEntity(entity: RegisteredEntityRecord, expected?: ExpectedRepresentative): Promise<RegisteredEntity>;
  /**
   * Records a change of representative, `from` (as read) to `to` (its new representative and the new term
   * the caller drew), and the pointer carrying its audit entries ({@link Trace}: the accounts function's
   * index), in one all-or-nothing write conditional on the record still being `from` (its representative
   * and term): there is no change recorded untraced, nor a trace of a change not made. A record changed
   * since `from` was read is a `ConflictError` (`registry_conflict`), nothing written: read it again.
   */
  changeRepresentative(from: RegisteredEntity, to: RegisteredEntity, trace: Trace): Promise<RegisteredEntity>;
}
