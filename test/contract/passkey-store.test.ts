import { DynamoPasskeyStore } from '../../shared/adapters/dynamo/passkey-store.js';
import { InMemoryPasskeyStore } from '../support/in-memory-passkeys.js';
import { passkeyStoreContract } from './passkey-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

passkeyStoreContract('InMemoryPasskeyStore', async () => ({
  store: new InMemoryPasskeyStore(),
  cleanup: nothingToClean,
}));

passkeyStoreContract('DynamoPasskeyStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoPasskeyStore(doc, tableName), cleanup: nothingToClean };
});
