import { DynamoLoginAttemptStore } from '../../shared/adapters/dynamo/login-attempt-store.js';
import { InMemoryLoginAttemptStore } from '../support/in-memory-identity.js';
import { loginAttemptStoreContract } from './login-attempt-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

loginAttemptStoreContract('InMemoryLoginAttemptStore', async () => ({
  store: new InMemoryLoginAttemptStore(),
  cleanup: nothingToClean,
}));

loginAttemptStoreContract('DynamoLoginAttemptStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoLoginAttemptStore(doc, tableName), cleanup: nothingToClean };
});
