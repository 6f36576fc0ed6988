import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSessionRegistry } from '../../../shared/adapters/dynamo/session-registry.js';
import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

const tableName = 'sessions';
const now = 1_700_000_000;

describe('DynamoSessionRegistry against dynalite', () => {
  let table: TestTable;
  let sessions: DynamoSessionRegistry;

  beforeAll(async () => {
    table = await startTestTable(tableName);
    sessions = new DynamoSessionRegistry(table.doc, tableName);
  });
  afterAll(async () => {
    await table?.close();
  });

  it('is open from open() until close(), and never again after', async () => {
    await sessions.open('session-one-0123456789', now + 600);
    expect(await sessions.isOpen('session-one-0123456789', now)).toBe(true);
    expect(await sessions.isOpen('session-two-0123456789', now)).toBe(false);
    await sessions.close('session-one-0123456789');
    expect(await sessions.isOpen('session-one-0123456789', now)).toBe(false);
    await sessions.close('session-one-0123456789'); // closing twice is harmless
  });

  it('is closed once its expiry has passed, although the item is still there (no TTL locally)', async () => {
    await sessions.open('session-expiring-0123', now + 600);
    expect(await sessions.isOpen('session-expiring-0123', now + 599)).toBe(true);
    expect(await sessions.isOpen('session-expiring-0123', now + 600)).toBe(false);
  });

  it('stores only a digest of the session id, with the TTL attribute', async () => {
    await sessions.open('session-secret-0123456789', now + 600);
    const { Items = [] } = await table.doc.send(new ScanCommand({ TableName: tableName }));
    const text = JSON.stringify(Items);
    expect(text).not.toContain('session-secret-0123456789');
    expect(Items.every((item) => item.pk?.S?.startsWith('web-session#') && item.expiresAt?.N)).toBe(true);
  });
});
