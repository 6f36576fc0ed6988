import { DynamoAccountStore } from '../../shared/adapters/dynamo/account-store.js';
import { DynamoPasskeyStore } from '../../shared/adapters/dynamo/passkey-store.js';
import { InMemoryAccountStore } from '../support/in-memory-identity.js';
import { InMemoryPasskeyStore } from '../support/in-memory-passkeys.js';
import { passkeyStoreContract } from './passkey-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

passkeyStoreContract('InMemoryPasskeyStore', async () => {
  const accounts = new InMemoryAccountStore();
  return { store: new InMemoryPasskeyStore(undefined, accounts), accounts, cleanup: nothingToClean };
});

passkeyStoreContract('DynamoPasskeyStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    store: new DynamoPasskeyStore(doc, tableName),
    accounts: new DynamoAccountStore(doc, tableName),
    cleanup: nothingToClean,
  };
});
