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
}

/**
 * The authoritative registries that assurance levels are checked against. In government deployments
 * these are the national population and legal-entity databases; locally a seeded table.
 */
export interface PopulationRegistry {
  findPerson(lookupKey: string): Promise<RegisteredPerson | undefined>;
}

/**
 * The mobile carriers' real-name check (运营商三要素核验): is this mobile number registered, under this
 * name, to the person with this ID number. Only a number it confirms may carry the codes that prove level
 * 3; it answers yes or no and never says whose a number is.
 */
export interface CarrierRegistry {
  confirms(query: { lookupKey: string; name: string; phone: string }): Promise<boolean>;
}

export interface EntityRegistry {
  findEntity(creditCode: string): Promise<RegisteredEntity | undefined>;
  /** The entities whose legal representative has this lookup key (法人库 by representative). */
  entitiesRepresentedBy(representativeLookupKey: string): Promise<RegisteredEntity[]>;
}

/**
 * Both registries kept by the service itself, in its own storage: the local stand-in for the national
 * databases, read as {@link PopulationRegistry} and {@link EntityRegistry} and filled by the demo seed.
 * Recording a person or entity again overwrites it with the values given.
 */
export interface RegistryStore extends PopulationRegistry, EntityRegistry {
  putPerson(person: RegisteredPerson): Promise<void>;
  putEntity(entity: RegisteredEntity): Promise<void>;
}
