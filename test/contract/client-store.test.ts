import { DynamoClientStore } from '../../shared/adapters/dynamo/client-store.js';
import { createDynamoAdapter } from '../../shared/adapters/dynamo/oidc-adapter.js';
import { DynamoPendingWork } from '../../shared/adapters/dynamo/pending-work.js';
import { systemClock } from '../../shared/clock.js';
import { InMemoryClientStore } from '../support/in-memory.js';
import { clientStoreContract } from './client-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

clientStoreContract('InMemoryClientStore', async () => {
  const store = new InMemoryClientStore();
  return {
    store,
    loaded: async (clientId) => store.clients.get(clientId),
    operatorAudit: store.pendingAudit,
    cleanup: nothingToClean,
  };
});

clientStoreContract('DynamoClientStore through the provider’s adapter, on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  const Adapter = createDynamoAdapter({ doc, tableName, clock: systemClock });
  const clients = new Adapter('Client');
  return {
    store: new DynamoClientStore(Adapter, { doc, tableName }),
    loaded: async (clientId) => (await clients.find(clientId)) as never,
    operatorAudit: new DynamoPendingWork(doc, tableName, 'operators'),
    cleanup: nothingToClean,
  };
});
