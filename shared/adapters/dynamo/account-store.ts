import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getItem, isConditionalCheckFailed, putNew, writeAllOrNothing, type Item } from './conditional.js';
import { ConflictError, NotFoundError, UnavailableError } from '../../errors.js';
import { visible, type AccountStore, type FindOptions } from '../../identity/account-store.js';
import type { PersonAccount } from '../../identity/person-account.js';
import { carryingKindOf, type CarryingKind, type Trace } from '../../pending-work/pending-work.js';
import { projectionOf } from './projections.js';
import { indexKeys, keys, sortKeys } from './keys.js';
import { takeRequestRead } from './oidc-adapter.js';
import { writeWithTrace } from './pending-work.js';

const accountIdPattern = /^acc_[A-Za-z0-9_-]{1,64}$/;

function fromItem(item: Record<string, unknown>): PersonAccount {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, ...account } = item;
  return account as unknown as PersonAccount;
}

/** An ID-number claim as first stored: the whole account (it has a version); today's claim holds the id only. */
function isLegacyAccount(item: Record<string, unknown>): boolean {
  return typeof item['version'] === 'number';
}

const changed = () => new ConflictError('The account changed meanwhile; try again', 'account_changed');

/**
 * The index a change's trace goes in: the accounts function's changes and the OpenID provider's (a phone
 * proof) are written by one store, each in its own function's partition ({@link carryingKindOf}: the one
 * the reconciler completes it from, and the one IAM grants that function).
 */
function kindOf(trace: Trace): CarryingKind {
  const kind = carryingKindOf(trace.carried.id);
  if (kind !== 'accounts' && kind !== 'provider') {
    throw new Error(`an account's change is not traced under ${trace.carried.id}`);
  }
  return kind;
}

/**
 * {@link AccountStore} on the single table, two items per person:
 *
 * - the account itself under its opaque id (`account#<id>`, sort key `account`), so that the provider's
 *   lookup by id, at every authorization and token, is one strongly consistent read;
 * - the claim of the ID number (`account#<lookupKey>`, sort key `person`) holding the id, so that the
 *   uniqueness of an ID number is one conditional write; signing in by ID number reads it, then the account.
 *
 * Accounts stored before this layout are one item, the whole account under the claim's key, found by id
 * through gsi1. They keep working (the claim's item is the account while no item exists under the id) and
 * move on their next save: the account is written under its id (`attribute_not_exists(pk) OR version`, so
 * a racing save of the old item loses), then the claim is reduced to the id. Until then a lookup by id of
 * such an account costs the old index query and read.
 */
export class DynamoAccountStore implements AccountStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The account first (a random id, which nothing finds yet), then the claim, with a trace the pointer
   * that carries its audit entry in the same transaction (`pending-account-audit#0`: `writeWithTrace`,
   * pending-work.ts); a lost claim undoes it.
   */
  async create(account: PersonAccount, trace?: Trace): Promise<PersonAccount> {
    const created = { ...account, version: 1 };
    await putNew(this.doc, this.tableName, { ...keys.accountById(account.id), ...created });
    const claim = { ...keys.account(account.lookupKey), id: account.id };
    const exists = { code: 'account_exists', message: 'An account with this ID number already exists' };
    try {
      if (!trace) {
        await putNew(this.doc, this.tableName, claim, { conflict: exists });
        return created;
      }
      const put = {
        Put: { TableName: this.tableName, Item: claim, ConditionExpression: 'attribute_not_exists(pk)' },
      };
      const outcome = await writeWithTrace(this.doc, this.tableName, put, trace, kindOf(trace));
      if (outcome === 'refused') throw new ConflictError(exists.message, exists.code);
      // Another registration of the number at that very moment: either may have won; asking again tells.
      if (outcome === 'contended') {
        throw new UnavailableError(
          'Another registration of this ID number is under way; try again',
          undefined,
          {
            retryAfterSeconds: 1,
          },
        );
      }
    } catch (error) {
      await this.doc.send(
        new DeleteCommand({ TableName: this.tableName, Key: keys.accountById(account.id) }),
      );
      throw error;
    }
    return created;
  }

  /**
   * A versioned put of the account under its id; with a trace, in one transaction with the pointer that
   * carries its audit entries (in the partition of the function whose change it is: {@link kindOf}).
   */
  async save(account: PersonAccount, trace?: Trace): Promise<PersonAccount> {
    const written = { ...account, version: account.version + 1 };
    const put = {
      TableName: this.tableName,
      Item: { ...keys.accountById(account.id), ...written } satisfies Item,
      // A missing item is an account still in the first layout (see the class): it moves now.
      ConditionExpression: 'attribute_not_exists(pk) OR #version = :expected',
      ExpressionAttributeNames: { '#version': 'version' },
      ExpressionAttributeValues: { ':expected': account.version },
    };
    if (trace) {
      // Another write of the account under way at that moment: as a stale version, for the caller to read again.
      const outcome = await writeWithTrace(this.doc, this.tableName, { Put: put }, trace, kindOf(trace));
      if (outcome !== 'written') throw changed();
    } else {
      try {
        await this.doc.send(new PutCommand(put));
      } catch (error) {
        if (isConditionalCheckFailed(error)) throw changed();
        throw error;
      }
    }
    await this.moveClaim(account);
    return written;
  }

  async findByLookupKey(lookupKey: string, options: FindOptions = {}): Promise<PersonAccount | undefined> {
    const claim = await getItem(this.doc, this.tableName, keys.account(lookupKey), 0);
    const id = claim?.['id'];
    if (!claim || typeof id !== 'string') return undefined;
    const account = await this.findById(id, { ...options, legacy: false });
    if (account) return account.lookupKey === lookupKey ? account : undefined;
    // A legacy account is never closing: marking it saves it, which moves it under its id.
    return isLegacyAccount(claim) ? fromItem(claim) : undefined;
  }

  async findById(
    id: string,
    options: FindOptions & { legacy?: boolean } = {},
  ): Promise<PersonAccount | undefined> {
    if (!accountIdPattern.test(id)) return undefined;
    // Read ahead with the code at the token endpoint (oidc-adapter.ts, readAheadForCode), in that request only.
    const ahead = takeRequestRead(this.tableName, keys.accountById(id));
    const item = ahead ? ahead.item : await getItem(this.doc, this.tableName, keys.accountById(id), 0);
    if (item) {
      const account = fromItem(item as Item);
      return visible(account, options) ? account : undefined;
    }
    return options.legacy === false ? undefined : this.findLegacyById(id);
  }

  /**
   * The claim (conditional on naming this account) and the account under its id, in one transaction: a
   * claim left behind would keep the number from registering again, an account left behind would still
   * be found by id. An account of the first layout has no item under its id; deleting none is harmless.
   * With a trace, the pointer that carries the closure's audit entry is put in the same transaction.
   */
  async remove(account: Pick<PersonAccount, 'id' | 'lookupKey'>, trace?: Trace): Promise<void> {
    const deletes = [
      {
        Delete: {
          TableName: this.tableName,
          Key: keys.account(account.lookupKey),
          ConditionExpression: '#id = :id',
          ExpressionAttributeNames: { '#id': 'id' },
          ExpressionAttributeValues: { ':id': account.id },
        },
      },
      { Delete: { TableName: this.tableName, Key: keys.accountById(account.id) } },
    ];
    const gone = () => new NotFoundError('The account no longer exists', 'account_not_found');
    if (!trace) {
      if (!(await writeAllOrNothing(this.doc, deletes)).written) throw gone();
      return;
    }
    const outcome = await writeWithTrace(this.doc, this.tableName, deletes, trace, kindOf(trace));
    if (outcome === 'refused') throw gone();
    if (outcome === 'contended') throw changed();
  }

  /**
   * The claim of a moved account reduced to its id: a conditional write that does nothing (and is told so)
   * once the claim holds only the id, so a save costs no read for it.
   */
  private async moveClaim(account: PersonAccount): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.account(account.lookupKey), id: account.id },
          ConditionExpression: '#id = :id AND attribute_exists(#version)',
          ExpressionAttributeNames: { '#id': 'id', '#version': 'version' },
          ExpressionAttributeValues: { ':id': account.id },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  /**
   * An account of the first layout: the index gives the lookup key; the item itself is then read by key,
   * strongly consistent, so a stale index entry never yields an old password hash.
   */
  private async findLegacyById(id: string): Promise<PersonAccount | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk = :sk',
        ExpressionAttributeValues: { ':pk': indexKeys.accountId(id), ':sk': sortKeys.person },
        // Its lookup key alone: all the wallet may ask the index for (R31 L3).
        ...projectionOf('accountById'),
      }),
    );
    for (const { lookupKey } of (Items ?? []) as Array<{ lookupKey?: string }>) {
      if (!lookupKey) continue;
      const claim = await getItem(this.doc, this.tableName, keys.account(lookupKey), 0);
      if (claim && isLegacyAccount(claim) && claim['id'] === id) return fromItem(claim);
    }
    return undefined;
  }
}
