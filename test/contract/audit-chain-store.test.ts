import { DynamoAuditChainStore } from '../../shared/adapters/dynamo/audit-chain-store.js';
import { DynamoAuditTrail } from '../../shared/adapters/dynamo/audit-trail.js';
import { InMemoryAuditChains } from '../support/in-memory-audit-chain.js';
import { auditChainStoreContract } from './audit-chain-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

auditChainStoreContract('InMemoryAuditChains', async () => {
  const chains = new InMemoryAuditChains();
  return { store: chains, writer: () => chains.writer(), cleanup: nothingToClean };
});

auditChainStoreContract('DynamoAuditChainStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    store: new DynamoAuditChainStore(doc, tableName),
    writer: () => new DynamoAuditTrail(doc, tableName),
    cleanup: nothingToClean,
  };
});
