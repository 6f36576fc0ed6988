import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getItem, putNew, putVersioned } from './conditional.js';
import type { AccountStore } from '../../identity/account-store.js';
import type { PersonAccount } from '../../identity/person-account.js';
import { indexKeys, keys, sortKeys } from './keys.js';

function toItem(account: PersonAccount) {
  return {
    ...keys.account(account.lookupKey),
    gsi1pk: indexKeys.accountId(account.id),
    gsi1sk: sortKeys.person,
    ...account,
  };
}

function fromItem(item: Record<string, unknown>): PersonAccount {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, ...account } = item;
  return account as unknown as PersonAccount;
}

/**
 * {@link AccountStore} on the single table: one item per person under `account#<lookupKey>` (so the
 * uniqueness of an ID number is one conditional write), found by opaque id through gsi1.
 */
export class DynamoAccountStore implements AccountStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(account: PersonAccount): Promise<PersonAccount> {
    const created = { ...account, version: 1 };
    await putNew(this.doc, this.tableName, toItem(created), {
      conflict: { code: 'account_exists', message: 'An account with this ID number already exists' },
    });
    return created;
  }

  async save(account: PersonAccount): Promise<PersonAccount> {
    const saved = await putVersioned(this.doc, this.tableName, toItem(account), account.version, {
      conflict: { code: 'account_changed', message: 'The account changed meanwhile; try again' },
    });
    return fromItem(saved);
  }

  async findByLookupKey(lookupKey: string): Promise<PersonAccount | undefined> {
    const item = await getItem(this.doc, this.tableName, keys.account(lookupKey), 0);
    return item && fromItem(item);
  }

  /**
   * The index gives the lookup key; the item itself is then read by key, strongly consistent, so a
   * stale index entry never yields an old password hash.
   */
  async findById(id: string): Promise<PersonAccount | undefined> {
    if (!/^acc_[A-Za-z0-9_-]{1,64}$/.test(id)) return undefined;
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk = :sk',
        ExpressionAttributeValues: { ':pk': indexKeys.accountId(id), ':sk': sortKeys.person },
        ProjectionExpression: 'lookupKey',
      }),
    );
    for (const { lookupKey } of (Items ?? []) as Array<{ lookupKey?: string }>) {
      if (!lookupKey) continue;
      const account = await this.findByLookupKey(lookupKey);
      if (account?.id === id) return account;
    }
    return undefined;
  }
}
