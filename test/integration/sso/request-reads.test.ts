import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readAheadCodeExchange,
  takeRequestRead,
  withRequestReads,
  type DynamoAdapterDeps,
} from '../../../shared/adapters/dynamo/oidc-adapter.js';
import { keys } from '../../../shared/adapters/dynamo/keys.js';
import { systemClock } from '../../../shared/clock.js';
import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

/**
 * What the token endpoint reads ahead (shared/adapters/dynamo/oidc-adapter.ts): each entry answers once,
 * the read of its own key, in its own request; never another request, never a second read.
 */

let table: TestTable;
let deps: DynamoAdapterDeps;
const code = 'c'.repeat(43);
const counter = keys.loginAttempts('client#demo.abc');
const grant = keys.oidc('Grant', 'G1');
const session = keys.oidc('Session', 'U1');
const account = keys.accountById('acc_1');

beforeAll(async () => {
  table = await startTestTable('request-reads');
  deps = { doc: table.doc, tableName: table.tableName, clock: systemClock };
  const put = (Item: Record<string, unknown>) =>
    table.doc.send(new PutCommand({ TableName: table.tableName, Item }));
  await put({ ...counter, failures: 2, lastFailureAt: 1 });
  await put({ ...grant, payload: { accountId: 'acc_1' } });
  await put({ ...session, payload: { uid: 'U1' } });
  await put({ ...account, id: 'acc_1' });
  const codeKey = keys.oidc('AuthorizationCode', createHash('sha256').update(code).digest('base64url'));
  await put({ ...codeKey, payload: { grantId: 'G1' } });
});
afterAll(() => table?.close());

const hints = { sessionUid: 'U1', grantId: 'G1', personId: 'acc_1' };

describe('reads ahead for one request', () => {
  it('answer each key once, in that request only', async () => {
    let other: unknown;
    await withRequestReads(async () => {
      await readAheadCodeExchange(deps, code, hints, [counter]);
      // Another request running meanwhile sees none of it.
      other = await withRequestReads(async () => takeRequestRead(table.tableName, grant));
      expect(takeRequestRead(table.tableName, counter)?.item).toMatchObject({ failures: 2 });
      expect(takeRequestRead(table.tableName, grant)?.item).toMatchObject({
        payload: { accountId: 'acc_1' },
      });
      expect(takeRequestRead(table.tableName, session)?.item).toBeDefined();
      expect(takeRequestRead(table.tableName, account)?.item).toMatchObject({ id: 'acc_1' });
      // Once: the next read of a key goes to the table.
      expect(takeRequestRead(table.tableName, grant)).toBeUndefined();
      // Only the keys read: nothing answers for another.
      expect(takeRequestRead(table.tableName, keys.oidc('Grant', 'G2'))).toBeUndefined();
    });
    expect(other).toBeUndefined();
    // After the request, nothing is left.
    expect(takeRequestRead(table.tableName, session)).toBeUndefined();
  });

  it('an absent item is read as absent; outside a request nothing is read ahead', async () => {
    await withRequestReads(async () => {
      await readAheadCodeExchange(deps, code, { grantId: 'nothing-here' }, []);
      expect(takeRequestRead(table.tableName, keys.oidc('Grant', 'nothing-here'))).toEqual({
        item: undefined,
      });
    });
    await readAheadCodeExchange(deps, code, hints, [counter]);
    expect(takeRequestRead(table.tableName, counter)).toBeUndefined();
  });

  it('hints that are not ids are not read', async () => {
    await withRequestReads(async () => {
      await readAheadCodeExchange(deps, code, { sessionUid: 'a.b', grantId: 'x'.repeat(2000) }, []);
      expect(takeRequestRead(table.tableName, keys.oidc('Session', 'a.b'))).toBeUndefined();
    });
  });
});
