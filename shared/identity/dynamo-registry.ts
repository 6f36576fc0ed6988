import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getItem } from '../storage/conditional.js';
import type { EntityRegistry, PopulationRegistry, RegisteredEntity, RegisteredPerson } from './registry.js';

const personKey = (lookupKey: string) => ({ pk: `registry-person#${lookupKey}`, sk: 'person' });
const entityKey = (creditCode: string) => ({ pk: `registry-entity#${creditCode}`, sk: 'entity' });

/** Both registries on the single table: the local stand-in for the national databases, filled by the seed. */
export class DynamoRegistry implements PopulationRegistry, EntityRegistry {
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
    return (
      item && {
        creditCode,
        name: String(item.name),
        representativeLookupKey: String(item.representativeLookupKey),
        representativeMasked: String(item.representativeMasked),
      }
    );
  }

  /** Records a person; recording the same person again overwrites with the same values. */
  async putPerson(person: RegisteredPerson): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...personKey(person.lookupKey), ...person } }),
    );
  }

  async putEntity(entity: RegisteredEntity): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...entityKey(entity.creditCode), ...entity } }),
    );
  }
}
