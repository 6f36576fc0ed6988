import { DynamoStatusListStore } from '../../shared/adapters/dynamo/status-list-store.js';
import { InMemoryStatusListStore } from '../support/in-memory-licence.js';
import { statusListStoreContract } from './status-list-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

statusListStoreContract('InMemoryStatusListStore', async () => ({
  store: new InMemoryStatusListStore(),
  cleanup: nothingToClean,
}));

statusListStoreContract('DynamoStatusListStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoStatusListStore(doc, tableName), cleanup: nothingToClean };
});
