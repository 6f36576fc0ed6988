import { DynamoIssuerStore } from '../../shared/adapters/dynamo/issuer-store.js';
import { DynamoPendingWork } from '../../shared/adapters/dynamo/pending-work.js';
import { InMemoryIssuerStore } from '../support/in-memory.js';
import { issuerStoreContract } from './issuer-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

issuerStoreContract('InMemoryIssuerStore', async () => {
  const store = new InMemoryIssuerStore();
  return { store, operatorAudit: store.pendingAudit, cleanup: nothingToClean };
});

issuerStoreContract('DynamoIssuerStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    store: new DynamoIssuerStore(doc, tableName),
    operatorAudit: new DynamoPendingWork(doc, tableName, 'operators'),
    cleanup: nothingToClean,
  };
});
