import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoAccountStore } from '../../shared/adapters/dynamo/account-store.js';
import { DynamoPendingWork } from '../../shared/adapters/dynamo/pending-work.js';
import { InMemoryAccountStore } from '../support/in-memory-identity.js';
import { accountStoreContract } from './account-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

accountStoreContract('InMemoryAccountStore', async () => {
  const store = new InMemoryAccountStore();
  return {
    store,
    accountAudit: store.pendingAudit,
    providerAudit: store.pendingAudit,
    cleanup: nothingToClean,
  };
});

accountStoreContract('DynamoAccountStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return {
    store: new DynamoAccountStore(doc, tableName),
    accountAudit: new DynamoPendingWork(doc, tableName, 'accounts'),
    providerAudit: new DynamoPendingWork(doc, tableName, 'provider'),
    cleanup: nothingToClean,
  };
});

describe('DynamoAccountStore: accounts stored in the first layout (one item under the ID-number claim)', () => {
  const legacy = {
    id: 'acc_legacyAccount01',
    lookupKey: 'lk-legacy',
    masked: '310104********0248',
    idNumberEncrypted: 'sealed',
    name: '张旧',
    passwordHash: 'fake$2$old',
    assurance: 'self-asserted',
    createdAt: '2025-03-01T08:00:00.000Z',
    version: 3,
  } as const;

  async function withLegacyAccount() {
    const { doc, tableName } = await dynamo.newTable();
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: 'account#lk-legacy',
          sk: 'person',
          gsi1pk: 'account-id#acc_legacyAccount01',
          gsi1sk: 'person',
          ...legacy,
        },
      }),
    );
    return { doc, tableName, store: new DynamoAccountStore(doc, tableName) };
  }

  it('are found by id and by lookup key as before', async () => {
    const { store } = await withLegacyAccount();
    expect(await store.findById(legacy.id)).toEqual(legacy);
    expect(await store.findByLookupKey(legacy.lookupKey)).toEqual(legacy);
  });

  it('move on their next save: the account under its id, the claim reduced to the id', async () => {
    const { doc, tableName, store } = await withLegacyAccount();
    const saved = await store.save({ ...legacy, passwordHash: 'fake$2$new' });
    expect(saved.version).toBe(4);
    const get = (key: { pk: string; sk: string }) =>
      doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true })).then((r) => r.Item);
    expect(await get({ pk: 'account#lk-legacy', sk: 'person' })).toEqual({
      pk: 'account#lk-legacy',
      sk: 'person',
      id: legacy.id,
    });
    expect(await get({ pk: `account#${legacy.id}`, sk: 'account' })).toMatchObject({
      passwordHash: 'fake$2$new',
    });
    expect(await store.findById(legacy.id)).toEqual(saved);
    expect(await store.findByLookupKey(legacy.lookupKey)).toEqual(saved);
    // A save still based on the old item loses to the move.
    await expect(store.save({ ...legacy, passwordHash: 'fake$2$stale' })).rejects.toMatchObject({
      code: 'account_changed',
    });
  });

  it('a move cut short (account written, claim not yet reduced) still answers the moved account', async () => {
    const { doc, tableName, store } = await withLegacyAccount();
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: `account#${legacy.id}`,
          sk: 'account',
          ...legacy,
          passwordHash: 'fake$2$new',
          version: 4,
        },
      }),
    );
    expect((await store.findByLookupKey(legacy.lookupKey))?.passwordHash).toBe('fake$2$new');
    expect((await store.findById(legacy.id))?.passwordHash).toBe('fake$2$new');
  });
});
