import {
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditChainStore } from '../../../shared/adapters/dynamo/audit-chain-store.js';
import { DynamoAuditTrail, DynamoLicenceAuditPages } from '../../../shared/adapters/dynamo/audit-trail.js';
import { moveAuditTrail } from '../../../shared/adapters/dynamo/move-audit-trail.js';
import { checkTrail } from '../../../shared/supervision/audit-chain.js';
import { licenceAuditEntries } from '../../support/audit-entries.js';
import { startTestDynamo, type TestDynamo } from '../../support/dynamo-table.js';

/**
 * Security review L6: a deployed stack wrote its audit trail into the service table; the move copies it
 * into the audit table item for item, so the chains still verify and every reader finds it there.
 */
describe('moving the audit trail into the audit table (scripts/move-audit-trail.ts)', () => {
  let dynamo: TestDynamo;
  let doc: DynamoDBDocumentClient;
  let service: string;
  let audit: string;
  const day = new Date().toISOString().slice(0, 10);
  const session = { pk: 'oidc#Session#s1', sk: 'oidc', accountId: 'acc_1' };

  const scan = async (TableName: string) =>
    (await doc.send(new ScanCommand({ TableName, ConsistentRead: true }))).Items ?? [];

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    ({ doc, tableName: service } = await dynamo.newTable());
    ({ tableName: audit } = await dynamo.newTable());
    // As before the audit table: the trail in the service table, beside everything else.
    const trail = new DynamoAuditTrail(doc, service);
    for (let i = 0; i < 3; i += 1) {
      await trail.record({
        at: new Date().toISOString(),
        actor: 'issuer_1',
        action: 'licence.issued',
        licenceId: `lic_${i}`,
      });
    }
    await doc.send(new PutCommand({ TableName: service, Item: session }));
  });
  afterAll(async () => {
    await dynamo?.close();
  });

  it('copies the trail alone, byte for byte: the chains verify and the readers find it in the audit table', async () => {
    const moved = await moveAuditTrail(doc, { from: service, to: audit, deleteCopied: false });
    // Three entries and their chain's registration.
    expect(moved).toEqual({ found: 4, copied: 4, present: 0, conflicts: [], deleted: 0 });
    expect((await scan(audit)).map((item) => String(item.pk)).every((pk) => pk.startsWith('audit'))).toBe(
      true,
    );
    const store = new DynamoAuditChainStore(doc, audit);
    const [chain, ...others] = await store.chainsOf(day);
    expect(others).toEqual([]);
    const { items } = await store.entries({ from: day, to: day, limit: 100 });
    expect(items).toHaveLength(3);
    expect(checkTrail(items, [{ ...chain!, ...(await store.headOf(chain!))! }]).faults).toEqual([]);
    expect(await licenceAuditEntries(new DynamoLicenceAuditPages(doc, audit), 'lic_1')).toHaveLength(1);
  });

  it('runs again without copying twice, names a differing copy, and deletes only what is identical', async () => {
    const [first] = (await scan(audit)).filter((item) => String(item.pk).startsWith('audit#'));
    await doc.send(new PutCommand({ TableName: audit, Item: { ...first, actor: 'someone else' } }));
    const again = await moveAuditTrail(doc, { from: service, to: audit, deleteCopied: true });
    expect(again).toEqual({
      found: 4,
      copied: 0,
      present: 3,
      conflicts: [{ pk: first!.pk, sk: first!.sk }],
      deleted: 3,
    });
    const left = await scan(service);
    // The differing one stays for a person to look at; the session was never the trail's.
    expect(left.map((item) => item.pk).sort()).toEqual([first!.pk, session.pk].sort());
    const { Item } = await doc.send(
      new GetCommand({ TableName: service, Key: { pk: session.pk, sk: session.sk } }),
    );
    expect(Item).toEqual(session);
  });

  it('keeps an original that gained an attribute between its comparison and its delete, and names it', async () => {
    await new DynamoAuditTrail(doc, service).record({
      at: new Date().toISOString(),
      actor: 'issuer_1',
      action: 'licence.issued',
      licenceId: 'lic_late',
    });
    await moveAuditTrail(doc, { from: service, to: audit, deleteCopied: false });
    const late = (await scan(service)).find((item) => item.licenceId === 'lic_late')!;
    const key = { pk: late.pk, sk: late.sk };
    // An attribute no condition on the compared ones could name, added before the delete reaches it.
    let touched = false;
    doc.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { TableName?: string; Key?: { pk?: unknown; sk?: unknown } };
        if (!touched && input.TableName === service && input.Key?.pk === key.pk && input.Key?.sk === key.sk) {
          touched = true;
          await doc.send(
            new UpdateCommand({
              TableName: service,
              Key: key,
              UpdateExpression: 'SET legalHold = :yes',
              ExpressionAttributeValues: { ':yes': true },
            }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'touchBeforeDelete' },
    );
    let moved;
    try {
      moved = await moveAuditTrail(doc, { from: service, to: audit, deleteCopied: true });
    } finally {
      doc.middlewareStack.remove('touchBeforeDelete');
    }
    expect(touched).toBe(true);
    expect(moved.conflicts).toContainEqual(key);
    const { Item } = await doc.send(new GetCommand({ TableName: service, Key: key, ConsistentRead: true }));
    expect(Item).toEqual({ ...late, legalHold: true });
  });
});
