import { DynamoAccountStore } from '../../shared/adapters/dynamo/account-store.js';
import { InMemoryAccountStore } from '../support/in-memory-identity.js';
import { accountStoreContract } from './account-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

accountStoreContract('InMemoryAccountStore', async () => ({
  store: new InMemoryAccountStore(),
  cleanup: nothingToClean,
}));

accountStoreContract('DynamoAccountStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoAccountStore(doc, tableName), cleanup: nothingToClean };
});
