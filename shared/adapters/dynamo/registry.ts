import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getItem, writeIf } from './conditional.js';
import type {
  ExpectedRepresentative,
  RegisteredEntity,
  RegisteredEntityRecord,
  RegisteredPerson,
  RegistryStore,
} from '../../identity/registry.js';
import { ConflictError } from '../../errors.js';
import type { Trace } from '../../pending-work/pending-work.js';
import { randomId } from '../../random-id.js';
import { writeWithTrace } from './pending-work.js';
import { queryAll } from './query-all.js';
import { indexKeys, keys } from './keys.js';

const personKey = keys.registryPerson;
const entityKey = keys.registryEntity;
const representativePartition = indexKeys.registryRepresentative;

/** {@link RegistryStore} on the single table: the local stand-in for the national databases, filled by the seed. */
export class DynamoRegistry implements RegistryStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findPerson(lookupKey: string): Promise<RegisteredPerson | undefined> {
    const item = await getItem(this.doc, this.tableName, personKey(lookupKey), 0);
    return item && { lookupKey, name: String(item.name), masked: String(item.masked) };
  }

  async findEntity(creditCode: string): Promise<RegisteredEntity | undefined> {
    const item = await getItem(this.doc, this.tableName, entityKey(creditCode), 0);
    return item && toEntity(item);
  }

  /** Through gsi1; each hit is re-read by key, so a representative changed meanwhile is not returned. */
  async entitiesRepresentedBy(representativeLookupKey: string): Promise<RegisteredEntity[]> {
    const hits = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': representativePartition(representativeLookupKey) },
      ProjectionExpression: 'creditCode',
    });
    const codes = hits.map((item) => String(item.creditCode));
    const entities = await Promise.all(codes.map((code) => this.findEntity(code)));
    return entities.filter(
      (entity): entity is RegisteredEntity =>
        entity !== undefined && entity.representativeLookupKey === representativeLookupKey,
    );
  }

  /** Records a person; recording the same person again overwrites with the same values. */
  async putPerson(person: RegisteredPerson): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...personKey(person.lookupKey), ...person } }),
    );
  }

  /**
   * A new representative gets a new term in the same conditional put (the condition: the item is still
   * the one read); the same representative keeps the one recorded. A record written before terms, written
   * again with the same representative (the seed run again, a renamed entity), keeps none (`''`, no
   * attribute): its representative's sessions (bare `rep`) and the appointments they made then stand on;
   * a change of representative gives it a term, for good. A lost race reads again.
   */
  async putEntity(
    entity: RegisteredEntityRecord,
    expected?: ExpectedRepresentative,
  ): Promise<RegisteredEntity> {
    const key = entityKey(entity.creditCode);
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await getItem(this.doc, this.tableName, key, 0);
      // Changed since the caller read it (review R56-2): theirs to read again, nothing written here.
      if (expected && current?.representativeLookupKey !== expected.representativeLookupKey) break;
      const kept =
        current?.representativeLookupKey === entity.representativeLookupKey
          ? typeof current.representativeTerm === 'string'
            ? current.representativeTerm
            : ''
          : undefined;
      const recorded: RegisteredEntity = {
        creditCode: entity.creditCode,
        name: entity.name,
        representativeLookupKey: entity.representativeLookupKey,
        representativeMasked: entity.representativeMasked,
        representativeTerm: kept ?? randomId('rt'),
      };
      const { representativeTerm, ...rest } = recorded;
      const written = await writeIf(
        this.doc,
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            gsi1pk: representativePartition(entity.representativeLookupKey),
            gsi1sk: entity.creditCode,
            ...rest,
            // None before terms is no attribute, as written then.
            ...(representativeTerm === '' ? {} : { representativeTerm }),
          },
          ...(current
            ? {
                ConditionExpression:
                  'representativeLookupKey = :read AND ' +
                  (current.representativeTerm === undefined
                    ? 'attribute_not_exists(representativeTerm)'
                    : 'representativeTerm = :term'),
                ExpressionAttributeValues: {
                  ':read': current.representativeLookupKey,
                  ...(current.representativeTerm === undefined
                    ? {}
                    : { ':term': current.representativeTerm }),
                },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      if (written) return recorded;
    }
    throw new ConflictError('The entity was recorded concurrently; record it again', 'registry_conflict');
  }

  /**
   * The change's put, conditional on the item still naming `from`'s representative in `from`'s term (none:
   * no attribute, a record written before terms), and its audit pointer, in one TransactWriteItems
   * ({@link writeWithTrace}, the accounts function's index). Refused or contended: `registry_conflict`.
   */
  async changeRepresentative(
    from: RegisteredEntity,
    to: RegisteredEntity,
    trace: Trace,
  ): Promise<RegisteredEntity> {
    const key = entityKey(to.creditCode);
    const { representativeTerm, ...rest } = to;
    const outcome = await writeWithTrace(
      this.doc,
      this.tableName,
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...key,
            gsi1pk: representativePartition(to.representativeLookupKey),
            gsi1sk: to.creditCode,
            ...rest,
            ...(representativeTerm === '' ? {} : { representativeTerm }),
          },
          ConditionExpression:
            'representativeLookupKey = :read AND ' +
            (from.representativeTerm === ''
              ? 'attribute_not_exists(representativeTerm)'
              : 'representativeTerm = :term'),
          ExpressionAttributeValues: {
            ':read': from.representativeLookupKey,
            ...(from.representativeTerm === '' ? {} : { ':term': from.representativeTerm }),
          },
        },
      },
      trace,
      'accounts',
    );
    if (outcome !== 'written')
      throw new ConflictError('The entity was recorded concurrently; record it again', 'registry_conflict');
    return to;
  }
}

function toEntity(item: Record<string, unknown>): RegisteredEntity {
  return {
    creditCode: String(item.creditCode),
    name: String(item.name),
    representativeLookupKey: String(item.representativeLookupKey),
    representativeMasked: String(item.representativeMasked),
    // Recorded before terms: none (`''`); its representative's basis is bare `rep` until a change of
    // representative gives it one (written again with the same one, it keeps none).
    representativeTerm: typeof item.representativeTerm === 'string' ? item.representativeTerm : '',
  };
}
