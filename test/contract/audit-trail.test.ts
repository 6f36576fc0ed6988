import { DynamoAuditTrail, GroupCommitAuditTrail } from '../../shared/adapters/dynamo/audit-trail.js';
import { InMemoryAudit } from '../support/in-memory-identity.js';
import { auditTrailContract } from './audit-trail.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

auditTrailContract('InMemoryAudit', async () => ({ trail: new InMemoryAudit(), cleanup: nothingToClean }));

auditTrailContract('DynamoAuditTrail on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { trail: new DynamoAuditTrail(doc, tableName), cleanup: nothingToClean };
});

auditTrailContract('GroupCommitAuditTrail on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { trail: new GroupCommitAuditTrail(doc, tableName), cleanup: nothingToClean };
});
