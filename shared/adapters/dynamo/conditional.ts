import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type DeleteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
  type UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

import { ConflictError } from '../../errors.js';
import { isExpired } from './table.js';

/** The primary key of an item in the single table. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** An item as written: its key, optional TTL (`expiresAt`, epoch seconds) and any other attributes. */
export type Item = ItemKey & { expiresAt?: number } & Record<string, unknown>;

/** What to throw when a condition fails, if the caller wants a domain-specific code and message. */
export interface ConflictOptions {
  conflict?: { code: string; message: string };
}

/** True for the error DynamoDB returns when a write's condition did not hold. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/**
 * Sends one conditional write (a put, update or delete with a `ConditionExpression`): true when it was
 * made, false when its condition did not hold. Any other failure is thrown.
 *
 * @example
 * ```ts
 * const created = await writeIf(doc, new PutCommand({ TableName, Item, ConditionExpression: 'attribute_not_exists(pk)' }));
 * ```
 */
export async function writeIf(
  doc: DynamoDBDocumentClient,
  command: PutCommand | UpdateCommand | DeleteCommand,
): Promise<boolean> {
  try {
    await doc.send(command as PutCommand);
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/** Why a transaction was cancelled, one reason per item in order (`None` for an item not at fault). */
function cancellationReasons(error: unknown): Array<{ Code?: string }> {
  return (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? [];
}

/** A transaction refused because a condition failed (not throttled or conflicting with another). */
export function isTransactionConditionFailed(error: unknown): boolean {
  return (
    (error as { name?: string }).name === 'TransactionCanceledException' &&
    cancellationReasons(error).some((reason) => reason.Code === 'ConditionalCheckFailed')
  );
}

/** A transaction cancelled because another one was writing one of its items at the time. */
export function isTransactionConflict(error: unknown): boolean {
  return (
    (error as { name?: string }).name === 'TransactionCanceledException' &&
    cancellationReasons(error).some((reason) => reason.Code === 'TransactionConflict')
  );
}

/** One write of a transaction (`TransactItems` member). */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Sends `items` as one all-or-nothing write (TransactWriteItems). Answers `{ written: true }`, or, when
 * a condition of one of them failed (so that nothing was written), `{ written: false, failed }` with the
 * indexes of the items whose condition failed; any other error is thrown. For a write whose conditions
 * say "someone else already did this", which the caller then answers in its own terms.
 *
 * @example
 * ```ts
 * const outcome = await writeAllOrNothing(doc, [{ Delete: { TableName, Key, ConditionExpression: 'attribute_exists(pk)' } }, { Put: { TableName, Item } }]);
 * if (!outcome.written) return; // another delivery moved it on
 * ```
 */
export async function writeAllOrNothing(
  doc: DynamoDBDocumentClient,
  items: TransactItem[],
): Promise<{ written: true } | { written: false; failed: number[] }> {
  try {
    await doc.send(new TransactWriteCommand({ TransactItems: items }));
    return { written: true };
  } catch (error) {
    if (!isTransactionConditionFailed(error)) throw error;
    const failed = cancellationReasons(error).flatMap((reason, index) =>
      reason.Code === 'ConditionalCheckFailed' ? [index] : [],
    );
    return { written: false, failed };
  }
}

/** What {@link writeAllButRefused} writes: the members, each one's own conditional item, and what goes with them. */
export interface RefusableWrite<T> {
  members: readonly T[];
  /** A member's item, conditional on what makes it still worth writing (the grant still there, the mark not yet). */
  itemOf: (member: T) => TransactItem;
  /** What goes in the same transaction as the members left (recomputed each round; unconditional). */
  alongside?: (kept: readonly T[]) => TransactItem[];
  /** What was not written, for the error when a condition other than the members' fails. */
  what: string;
}

/**
 * Writes every member's item, and what goes alongside them, in one transaction (at most 100 items in
 * all); when members' conditions fail (another writer got there first: the grant already deleted, the
 * event already counted), DynamoDB cancels the whole transaction and names them (one cancellation reason per
 * item, in order), and it is written again without them, until it is written or no member is left (then
 * nothing is written, not even what goes alongside them). Answers the members written, in order.
 * A refusal naming no member, or naming an item alongside, is thrown rather than looped on; any other
 * error (a conflict with a concurrent transaction, throttling) is thrown as it is, for the caller to retry.
 *
 * @example
 * ```ts
 * const deleted = await writeAllButRefused(doc, {
 *   members: grantIds,
 *   itemOf: (id) => ({ Delete: { TableName, Key: oidcItemKey('Grant', id), ConditionExpression: 'attribute_exists(pk)' } }),
 *   alongside: () => [{ Put: { TableName, Item: notice } }],
 *   what: 'withdrawal',
 * });
 * ```
 */
export async function writeAllButRefused<T>(
  doc: DynamoDBDocumentClient,
  write: RefusableWrite<T>,
): Promise<T[]> {
  let kept = [...write.members];
  while (kept.length > 0) {
    const outcome = await writeAllOrNothing(doc, [
      ...kept.map(write.itemOf),
      ...(write.alongside?.(kept) ?? []),
    ]);
    if (outcome.written) return kept;
    const refused = new Set(outcome.failed);
    if (refused.size === 0 || outcome.failed.some((index) => index >= kept.length)) {
      throw new Error(`${write.what} not written: a condition other than its members’ failed`);
    }
    kept = kept.filter((_, index) => !refused.has(index));
  }
  return [];
}

function toConflict(error: unknown, options: ConflictOptions, fallback: string): unknown {
  if (!isConditionalCheckFailed(error)) return error;
  const { code, message } = options.conflict ?? { code: 'conflict', message: fallback };
  return new ConflictError(message, code, { cause: error });
}

/**
 * Creates an item, failing with {@link ConflictError} if its key is taken: the one conditional write that
 * claims a unique key (a credit code, an idempotency key). With `nowSeconds`, an item already past its
 * `expiresAt` counts as absent and is replaced, since DynamoDB deletes expired items late and dynalite never.
 *
 * @example
 * ```ts
 * await putNew(doc, tableName, { ...keys.issuer(creditCode), name }, {
 *   conflict: { code: 'issuer_exists', message: 'An issuer with this credit code already exists' },
 * });
 * ```
 */
export async function putNew(
  doc: DynamoDBDocumentClient,
  tableName: string,
  item: Item,
  options: ConflictOptions & { nowSeconds?: number } = {},
): Promise<void> {
  const expiredOk = options.nowSeconds !== undefined;
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: expiredOk
          ? 'attribute_not_exists(pk) OR expiresAt <= :now'
          : 'attribute_not_exists(pk)',
        ...(expiredOk && { ExpressionAttributeValues: { ':now': options.nowSeconds } }),
      }),
    );
  } catch (error) {
    throw toConflict(error, options, 'The item already exists');
  }
}

/**
 * The condition of a write under optimistic concurrency: the stored `version` is still `expectedVersion`
 * (0: no item yet). For a write of a transaction ({@link writeAllOrNothing}) as for {@link putVersioned}.
 *
 * @example
 * ```ts
 * const put = { Put: { TableName, Item: { ...item, version: 3 }, ...versionCondition(2) } };
 * ```
 */
export function versionCondition(expectedVersion: number): {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  return expectedVersion === 0
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : {
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': expectedVersion },
      };
}

/**
 * Replaces an item under optimistic concurrency: writes it with `version: expectedVersion + 1` only if the
 * stored `version` is still `expectedVersion`, else throws {@link ConflictError} and leaves the item as it
 * was. `expectedVersion` 0 means "must not exist yet", so versions start at 1. Returns the written item.
 *
 * @example
 * ```ts
 * const current = await getItem<Licence>(doc, tableName, key, epochSeconds(clock));
 * await putVersioned(doc, tableName, { ...current, status: 'revoked' }, current.version);
 * ```
 */
export async function putVersioned<T extends Item>(
  doc: DynamoDBDocumentClient,
  tableName: string,
  item: T,
  expectedVersion: number,
  options: ConflictOptions = {},
): Promise<T & { version: number }> {
  const written = { ...item, version: expectedVersion + 1 };
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: written,
        ...versionCondition(expectedVersion),
      }),
    );
  } catch (error) {
    throw toConflict(error, options, 'The item changed since it was read');
  }
  return written;
}

/**
 * Reads an item by key, strongly consistent unless asked otherwise, treating an item past its `expiresAt`
 * as absent.
 *
 * @example
 * ```ts
 * const code = await getItem<CodeItem>(doc, tableName, { pk: `code#${id}`, sk: 'code' }, epochSeconds(clock));
 * if (!code) throw new NotFoundError('Unknown or expired code');
 * ```
 */
export async function getItem<T extends Item = Item>(
  doc: DynamoDBDocumentClient,
  tableName: string,
  key: ItemKey,
  nowSeconds: number,
  options: { consistentRead?: boolean } = {},
): Promise<T | undefined> {
  const { Item: found } = await doc.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: key.pk, sk: key.sk },
      ConsistentRead: options.consistentRead ?? true,
    }),
  );
  const item = found as T | undefined;
  return item === undefined || isExpired(item, nowSeconds) ? undefined : item;
}
