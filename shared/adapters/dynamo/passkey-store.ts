import { DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../errors.js';
import type { Trace } from '../../pending-work/pending-work.js';
import { getItem, isTransactionConflict, putNew, writeAllOrNothing, writeIf } from './conditional.js';
import { writeWithTrace } from './pending-work.js';
import { indexKeys, keys } from './keys.js';
import { projectionOf } from './projections.js';
import { queryAll } from './query-all.js';
import { isExpired } from './table.js';
import type { PasskeyChallenge, PasskeyStore, StoredPasskey } from '../../identity/passkeys.js';

const passkeyFields = [
  'id',
  'accountId',
  'publicKey',
  'counter',
  'transports',
  'deviceType',
  'backedUp',
  'name',
  'createdAt',
  'lastUsedAt',
] as const;

const accountChanged = () =>
  new ConflictError(
    'The account changed meanwhile (a reset?): sign in again and try again',
    'account_changed',
  );

function toPasskey(item: Record<string, unknown>): StoredPasskey {
  const passkey = Object.fromEntries(
    passkeyFields.filter((field) => item[field] !== undefined).map((field) => [field, item[field]]),
  ) as unknown as StoredPasskey;
  return { ...passkey, counter: Number(passkey.counter), transports: [...(passkey.transports ?? [])] };
}

/**
 * {@link PasskeyStore} on the single table: a passkey is an item `passkey#<credentialId>` (so that the
 * credential id is unique across accounts, by the conditional put), indexed in gsi1 under its account; a
 * ceremony challenge is an item `passkey-challenge#<challenge>` with the TTL attribute, taken by a delete
 * that returns the old item, so that exactly one taker gets it. An enrolment or removal with its trace is
 * one transaction with the put of the pointer carrying its audit entry (`pending-audit#`, the `me`
 * function's: `writeWithTrace`).
 */
export class DynamoPasskeyStore implements PasskeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(passkey: StoredPasskey, trace?: Trace, account?: { version: number }): Promise<void> {
    const item = {
      ...keys.passkey(passkey.id),
      ...passkey,
      gsi1pk: indexKeys.passkeysOf(passkey.accountId),
      gsi1sk: indexKeys.passkeyOf(passkey.createdAt, passkey.id),
    };
    const conflict = { code: 'passkey_exists', message: 'This passkey is already enrolled' };
    if (!trace && !account) {
      await putNew(this.doc, this.tableName, item, { conflict });
      return;
    }
    const put = { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' };
    // The account as the enrolment read it (review R44 F2), checked in the same transaction: its item
    // at that version, owing no clean-up. An account still in the first layout has no item under its id
    // (account-store.ts): any save of it moves it there, at a new version, which this then refuses.
    const check = account && {
      ConditionCheck: {
        TableName: this.tableName,
        Key: keys.accountById(passkey.accountId),
        ConditionExpression:
          '(attribute_not_exists(pk) OR #version = :version) AND attribute_not_exists(proofCleanup)',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':version': account.version },
      },
    };
    const changes = [{ Put: put }, ...(check ? [check] : [])];
    let written: boolean;
    if (trace) {
      const outcome = await writeWithTrace(this.doc, this.tableName, changes, trace, 'withdrawals');
      if (outcome === 'contended') throw accountChanged();
      written = outcome === 'written';
    } else {
      try {
        written = (await writeAllOrNothing(this.doc, changes)).written;
      } catch (error) {
        if (isTransactionConflict(error)) throw accountChanged();
        throw error;
      }
    }
    if (written) return;
    // Which condition refused it: the credential id taken, else the account changed (one read, refusals only).
    if (!check || (await this.find(passkey.id))) throw new ConflictError(conflict.message, conflict.code);
    throw accountChanged();
  }

  async find(credentialId: string): Promise<StoredPasskey | undefined> {
    const item = await getItem(this.doc, this.tableName, keys.passkey(credentialId), 0, {
      consistentRead: true,
    });
    return item && toPasskey(item);
  }

  async listFor(accountId: string): Promise<StoredPasskey[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': indexKeys.passkeysOf(accountId) },
    });
    return items.map(toPasskey);
  }

  async enrolmentsOf(accountId: string): Promise<Array<Pick<StoredPasskey, 'id' | 'createdAt'>>> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': indexKeys.passkeysOf(accountId) },
      // Their id and time alone: all the reconciler may ask the index for (review R54-3).
      ...projectionOf('passkeyEnrolments'),
    });
    return (items as Array<{ id?: unknown; createdAt?: unknown }>).flatMap(({ id, createdAt }) =>
      typeof id === 'string' && typeof createdAt === 'string' ? [{ id, createdAt }] : [],
    );
  }

  async remove(accountId: string, credentialId: string, trace?: Trace): Promise<boolean> {
    const remove = {
      TableName: this.tableName,
      Key: keys.passkey(credentialId),
      ConditionExpression: 'accountId = :account',
      ExpressionAttributeValues: { ':account': accountId },
    };
    if (!trace) return writeIf(this.doc, new DeleteCommand(remove));
    const outcome = await writeWithTrace(this.doc, this.tableName, { Delete: remove }, trace, 'withdrawals');
    if (outcome === 'contended') {
      throw new ConflictError('The passkey changed meanwhile; try again', 'passkey_changed');
    }
    return outcome === 'written';
  }

  async recordUse(
    credentialId: string,
    use: { previousCounter: number; counter: number; at: string },
  ): Promise<boolean> {
    return writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.passkey(credentialId),
        UpdateExpression: 'SET #counter = :counter, lastUsedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND #counter = :previous',
        ExpressionAttributeNames: { '#counter': 'counter' },
        ExpressionAttributeValues: {
          ':counter': use.counter,
          ':previous': use.previousCounter,
          ':at': use.at,
        },
      }),
    );
  }

  async saveChallenge(challenge: PasskeyChallenge): Promise<void> {
    await putNew(this.doc, this.tableName, { ...keys.passkeyChallenge(challenge.challenge), ...challenge });
  }

  async takeChallenge(challenge: string, nowSeconds: number): Promise<PasskeyChallenge | undefined> {
    const answer = await this.doc.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.passkeyChallenge(challenge),
        ReturnValues: 'ALL_OLD',
      }),
    );
    const item = answer.Attributes;
    if (!item || isExpired(item as { expiresAt?: number }, nowSeconds)) return undefined;
    if (item.purpose !== 'enrol' && item.purpose !== 'sign-in') return undefined;
    return {
      challenge: String(item.challenge),
      purpose: item.purpose,
      boundTo: String(item.boundTo),
      expiresAt: Number(item.expiresAt),
    };
  }
}
