import { DynamoTrustListStore } from '../../shared/adapters/dynamo/trust-list-store.js';
import { InMemoryTrustListStore } from '../support/in-memory-licence.js';
import { nothingToClean, useDynamo } from './subject.js';
import { trustListStoreContract } from './trust-list-store.contract.js';

const dynamo = useDynamo();

trustListStoreContract('InMemoryTrustListStore', async () => ({
  store: new InMemoryTrustListStore(),
  cleanup: nothingToClean,
}));

trustListStoreContract('DynamoTrustListStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoTrustListStore(doc, tableName), cleanup: nothingToClean };
});
