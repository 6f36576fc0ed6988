import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../shared/adapters/dynamo/keys.js';
import { DynamoRegistry } from '../../shared/adapters/dynamo/registry.js';
import { InMemoryRegistry } from '../support/in-memory-identity.js';
import { registryContract } from './registry.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

registryContract('InMemoryRegistry', async () => {
  const registry = new InMemoryRegistry();
  return {
    registry,
    putPerson: (person) => registry.putPerson(person),
    putEntity: (entity, expected) => registry.putEntity(entity, expected),
    putEntityBeforeTerms: async (entity) => {
      registry.entities.set(entity.creditCode, { ...entity, representativeTerm: '' });
    },
    cleanup: nothingToClean,
  };
});

registryContract('DynamoRegistry on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  const registry = new DynamoRegistry(doc, tableName);
  return {
    registry,
    putPerson: (person) => registry.putPerson(person),
    putEntity: (entity, expected) => registry.putEntity(entity, expected),
    // Written, then its term removed: the item as stored before terms.
    putEntityBeforeTerms: async (entity) => {
      await registry.putEntity(entity);
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.registryEntity(entity.creditCode),
          UpdateExpression: 'REMOVE representativeTerm',
        }),
      );
    },
    cleanup: nothingToClean,
  };
});
