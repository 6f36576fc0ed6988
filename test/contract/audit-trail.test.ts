import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { recordOnceSeconds, type AuditEntry } from '../../shared/audit/audit-trail.js';
import { keys } from '../../shared/adapters/dynamo/keys.js';
import { auditTable } from '../../shared/adapters/dynamo/table.js';
import {
  DynamoAuditTrail,
  DynamoLicenceAuditPages,
  GroupCommitAuditTrail,
} from '../../shared/adapters/dynamo/audit-trail.js';
import { licenceAuditEntries } from '../support/audit-entries.js';
import { InMemoryAudit } from '../support/in-memory-identity.js';
import { auditTrailContract } from './audit-trail.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

auditTrailContract('InMemoryAudit', async () => {
  const audit = new InMemoryAudit();
  return { trail: audit, pages: audit, cleanup: nothingToClean };
});

/**
 * The trails' clock: the contract's entries are of 2026-01-01 to 01-03, written (as far as the chains'
 * days go, the later of `at` and the clock) on their own days.
 */
const contractClock = { now: () => Date.parse('2026-01-01T00:00:00.000Z') };

auditTrailContract('DynamoAuditTrail on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    trail: new DynamoAuditTrail(doc, tableName, contractClock),
    pages: new DynamoLicenceAuditPages(doc, tableName),
    cleanup: nothingToClean,
  };
});

auditTrailContract('GroupCommitAuditTrail on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    trail: new GroupCommitAuditTrail(doc, tableName, contractClock),
    pages: new DynamoLicenceAuditPages(doc, tableName),
    cleanup: nothingToClean,
  };
});

describe('the mark of an entry written once under a key (audit-once#)', () => {
  const at = '2026-12-06T08:00:00.000Z';
  const writtenAt = '2026-12-06T08:00:30.000Z';
  const day = 24 * 60 * 60;

  async function marked() {
    const { doc, tableName } = await dynamo.newTable();
    const trail = new DynamoAuditTrail(doc, tableName);
    const licenceId = `lic-${randomUUID()}`;
    const entry: AuditEntry = { at, actor: 'cl_issuer', action: 'licence.revoked', licenceId };
    const once = { key: `${licenceId}#2#0`, writtenAt };
    await trail.record(entry, once);
    const { Item } = await doc.send(
      new GetCommand({ TableName: tableName, Key: keys.auditOnce(once.key), ConsistentRead: true }),
    );
    return { trail, pages: new DynamoLicenceAuditPages(doc, tableName), licenceId, entry, once, mark: Item };
  }

  it('carries the table’s TTL attribute: 35 days after the write it marks, in epoch seconds', async () => {
    const { mark } = await marked();
    expect(recordOnceSeconds).toBe(35 * day);
    expect(mark?.[auditTable.ttlAttribute]).toBe(Date.parse(writtenAt) / 1000 + 35 * day);
    expect(mark).toMatchObject({ writtenAt, chain: expect.any(String), seq: 1 });
  });

  it('keeps a second write under the key out all its lifetime, and after it until the TTL deletes it', async () => {
    const { trail, pages, licenceId, entry, once } = await marked();
    // The reconciler, still finding the change pending a day, then 34 days, later; then past the lifetime
    // (DynamoDB deletes late, dynalite never: a mark still there still holds).
    for (const later of [1, 34, 36]) {
      const again = new Date(Date.parse(writtenAt) + later * day * 1000).toISOString();
      await trail.record(entry, { ...once, writtenAt: again });
    }
    expect(await licenceAuditEntries(pages, licenceId)).toHaveLength(1);
  });
});
