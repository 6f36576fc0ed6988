import { DynamoEntityStore } from '../../shared/adapters/dynamo/entity-store.js';
import { DynamoPendingWork } from '../../shared/adapters/dynamo/pending-work.js';
import { InMemoryEntityStore } from '../support/in-memory-identity.js';
import { entityStoreContract } from './entity-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

entityStoreContract('InMemoryEntityStore', async () => {
  const store = new InMemoryEntityStore();
  return { store, accountAudit: store.pendingAudit, cleanup: nothingToClean };
});

entityStoreContract('DynamoEntityStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    store: new DynamoEntityStore(doc, tableName),
    accountAudit: new DynamoPendingWork(doc, tableName, 'accounts'),
    cleanup: nothingToClean,
  };
});
