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
    putEntity: (entity) => registry.putEntity(entity),
    cleanup: nothingToClean,
  };
});

registryContract('DynamoRegistry on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  const registry = new DynamoRegistry(doc, tableName);
  return {
    registry,
    putPerson: (person) => registry.putPerson(person),
    putEntity: (entity) => registry.putEntity(entity),
    cleanup: nothingToClean,
  };
});
