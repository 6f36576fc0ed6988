import { DynamoEntityStore } from '../../shared/adapters/dynamo/entity-store.js';
import { InMemoryEntityStore } from '../support/in-memory-identity.js';
import { entityStoreContract } from './entity-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

entityStoreContract('InMemoryEntityStore', async () => ({
  store: new InMemoryEntityStore(),
  cleanup: nothingToClean,
}));

entityStoreContract('DynamoEntityStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoEntityStore(doc, tableName), cleanup: nothingToClean };
});
