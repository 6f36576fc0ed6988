import { DynamoPeerStore } from '../../shared/adapters/dynamo/peer-store.js';
import { DynamoPendingWork } from '../../shared/adapters/dynamo/pending-work.js';
import { InMemoryPeerStore } from '../support/in-memory-peers.js';
import { nothingToClean, useDynamo } from './subject.js';
import { peerStoreContract } from './peer-store.contract.js';

const dynamo = useDynamo();

peerStoreContract('InMemoryPeerStore', async () => {
  const store = new InMemoryPeerStore();
  return { store, operatorAudit: store.pendingAudit, cleanup: nothingToClean };
});

peerStoreContract('DynamoPeerStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    store: new DynamoPeerStore(doc, tableName),
    operatorAudit: new DynamoPendingWork(doc, tableName, 'operators'),
    cleanup: nothingToClean,
  };
});
