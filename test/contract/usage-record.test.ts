import { DynamoAuditTrail } from '../../shared/adapters/dynamo/audit-trail.js';
import { DynamoUsageRecord } from '../../shared/adapters/dynamo/usage-record.js';
import { InMemoryAudit } from '../support/in-memory-identity.js';
import { usageRecordContract } from './usage-record.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

usageRecordContract('InMemoryAudit', async () => {
  const audit = new InMemoryAudit();
  return { trail: audit, usage: audit, cleanup: nothingToClean };
});

usageRecordContract('DynamoUsageRecord on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    trail: new DynamoAuditTrail(doc, tableName),
    usage: new DynamoUsageRecord(doc, tableName),
    cleanup: nothingToClean,
  };
});

// Reading few entries at a time, so that pages filtered by action stop short (even empty) and go on.
usageRecordContract('DynamoUsageRecord on dynalite, reading 3 entries at a time', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    trail: new DynamoAuditTrail(doc, tableName),
    usage: new DynamoUsageRecord(doc, tableName, { itemsPerRead: 3, readsPerPage: 2 }),
    cleanup: nothingToClean,
  };
});
