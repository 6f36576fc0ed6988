import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isDeepStrictEqual } from 'node:util';
import { isConditionalCheckFailed, writeIf } from './conditional.js';

/** What a move of items from one table into another did. */
export interface ItemsMove {
  /** Items of the moved partitions found in the table moved from. */
  found: number;
  /** Copied into the table moved to now. */
  copied: number;
  /** Already in the table moved to, identical (an earlier run). */
  present: number;
  /**
   * In the table moved to with other content, or changed in the table moved from between its comparison
   * and its delete: left in both tables, for a person to look at.
   */
  conflicts: Array<{ pk: string; sk: string }>;
  /** Deleted from the table moved from (with `deleteCopied`, once each is in the other, identical). */
  deleted: number;
}

/**
 * Moves the items whose partition key starts with `scanPrefix` and passes `belongs` from table `from`
 * into table `to`, byte for byte, by conditional puts (so a second run copies only what the first did
 * not); with `deleteCopied`, each item found identical in `to` is then deleted from `from`, only if it
 * is still as compared (`deleteIfUnchanged`; one changed meanwhile is kept and counted a conflict). Adds to
 * `move` (a move in several passes counts once). An operator's tool (it scans the whole table), never a
 * function's: the moves of a deployed stack's data into a table of its own (scripts/move-*.ts).
 *
 * @example
 * ```ts
 * const move = emptyMove();
 * await moveItems(doc, { from: 'elicence', to: 'elicence-batches', deleteCopied: false, scanPrefix: 'batch#' }, move);
 * ```
 */
export async function moveItems(
  doc: DynamoDBDocumentClient,
  options: {
    from: string;
    to: string;
    deleteCopied: boolean;
    scanPrefix: string;
    belongs?: (pk: string) => boolean;
  },
  move: ItemsMove = emptyMove(),
): Promise<ItemsMove> {
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: options.from,
        FilterExpression: 'begins_with(pk, :prefix)',
        ExpressionAttributeValues: { ':prefix': options.scanPrefix },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const key = { pk: String(item.pk), sk: String(item.sk) };
      if (options.belongs && !options.belongs(key.pk)) continue;
      move.found += 1;
      let same: boolean;
      const copied = await writeIf(
        doc,
        new PutCommand({
          TableName: options.to,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      if (copied) {
        move.copied += 1;
        same = true;
      } else {
        const { Item } = await doc.send(
          new GetCommand({ TableName: options.to, Key: key, ConsistentRead: true }),
        );
        same = isDeepStrictEqual(Item, item);
        if (same) move.present += 1;
        else move.conflicts.push(key);
      }
      if (same && options.deleteCopied) {
        if (await deleteIfUnchanged(doc, options.from, item)) move.deleted += 1;
        else move.conflicts.push(key);
      }
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return move;
}

/**
 * Deletes an item only if it is still exactly the one compared with its copy: a write to the original
 * between the comparison and the delete (a function of the old code still writing there) would otherwise
 * be lost with it. The delete's condition holds every attribute to its compared value (`=` compares maps,
 * lists and sets whole), so a changed attribute, or the item gone, keeps it; an attribute added since,
 * which no condition can name, shows in the deleted item returned, which is then put back unless the
 * writer re-created it meanwhile. `false` when it was kept: a conflict for a person to look at.
 *
 * @example
 * ```ts
 * if (!(await deleteIfUnchanged(doc, 'elicence', scanned))) conflicts.push({ pk: scanned.pk, sk: scanned.sk });
 * ```
 */
export async function deleteIfUnchanged(
  doc: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
): Promise<boolean> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const conditions = Object.entries(item).map(([name, value], i) => {
    names[`#a${i}`] = name;
    values[`:a${i}`] = value;
    return `#a${i} = :a${i}`;
  });
  const key = { pk: item.pk, sk: item.sk };
  let deleted: Record<string, unknown> | undefined;
  try {
    ({ Attributes: deleted } = await doc.send(
      new DeleteCommand({
        TableName: tableName,
        Key: key,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_OLD',
      }),
    ));
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
  if (isDeepStrictEqual(deleted, item)) return true;
  // Not put back when written again meanwhile: the writer's item stands, and is still not the one compared.
  await writeIf(
    doc,
    new PutCommand({
      TableName: tableName,
      Item: deleted,
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return false;
}

/** A move that has done nothing yet. */
export const emptyMove = (): ItemsMove => ({ found: 0, copied: 0, present: 0, conflicts: [], deleted: 0 });
