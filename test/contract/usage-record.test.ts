import { expect } from 'vitest';
import { DynamoAuditTrail } from '../../shared/adapters/dynamo/audit-trail.js';
import { auditTable } from '../../shared/adapters/dynamo/table.js';
import { backfillUsageIndex } from '../../shared/adapters/dynamo/usage-index-backfill.js';
import { DynamoUsageRecord } from '../../shared/adapters/dynamo/usage-record.js';
import { InMemoryAudit } from '../support/in-memory-identity.js';
import { usageRecordContract } from './usage-record.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

usageRecordContract('InMemoryAudit', async () => {
  const audit = new InMemoryAudit();
  return { trail: audit, usage: audit, cleanup: nothingToClean };
});

// The audit table as deployed: its index by holder and action (gsi3), and the backfill's mark (on a new
// table at once): a page of one kind is one query per holder, exact. Bounds for the filtered reads of
// gsi2 set low, so that reading there would show.
usageRecordContract('DynamoUsageRecord on dynalite, by kind from gsi3', async () => {
  const { doc, tableName } = await dynamo.newTable(auditTable);
  expect((await backfillUsageIndex(doc, tableName)).complete).toBe(true);
  return {
    trail: new DynamoAuditTrail(doc, tableName),
    usage: new DynamoUsageRecord(doc, tableName, { itemsPerRead: 3, readsPerPage: 2 }),
    cleanup: nothingToClean,
  };
});

// Before the backfill's mark (entries of an older version may lack their gsi3 key): by kind from gsi2,
// filtered, with the default bounds; and reading few entries at a time, so that pages filtered by action
// stop short (even empty) and go on.
usageRecordContract(
  'DynamoUsageRecord on dynalite, before the backfill',
  async () => {
    const { doc, tableName } = await dynamo.newTable(auditTable);
    return {
      trail: new DynamoAuditTrail(doc, tableName),
      usage: new DynamoUsageRecord(doc, tableName),
      cleanup: nothingToClean,
    };
  },
  { exactByAction: false },
);
usageRecordContract(
  'DynamoUsageRecord on dynalite, before the backfill, reading 3 entries at a time',
  async () => {
    const { doc, tableName } = await dynamo.newTable();
    return {
      trail: new DynamoAuditTrail(doc, tableName),
      usage: new DynamoUsageRecord(doc, tableName, { itemsPerRead: 3, readsPerPage: 2 }),
      cleanup: nothingToClean,
    };
  },
  { exactByAction: false },
);
