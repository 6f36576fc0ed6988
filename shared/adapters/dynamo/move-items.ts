import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isDeepStrictEqual } from 'node:util';
import { isConditionalCheckFailed } from './conditional.js';

/** What a move of items from one table into another did. */
export interface ItemsMove {
  /** Items of the moved partitions found in the table moved from. */
  found: number;
  /** Copied into the table moved to now. */
  copied: number;
  /** Already in the table moved to, identical (an earlier run). */
  present: number;
  /** In the table moved to with other content: left alone in both tables, for a person to look at. */
  conflicts: Array<{ pk: string; sk: string }>;
  /** Deleted from the table moved from (with `deleteCopied`, once each is in the other, identical). */
  deleted: number;
}

/**
 * Moves the items whose partition key starts with `scanPrefix` and passes `belongs` from table `from`
 * into table `to`, byte for byte, by conditional puts (so a second run copies only what the first did
 * not); with `deleteCopied`, each item found identical in `to` is then deleted from `from`. Adds to
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
      try {
        await doc.send(
          new PutCommand({
            TableName: options.to,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        move.copied += 1;
        same = true;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        const { Item } = await doc.send(
          new GetCommand({ TableName: options.to, Key: key, ConsistentRead: true }),
        );
        same = isDeepStrictEqual(Item, item);
        if (same) move.present += 1;
        else move.conflicts.push(key);
      }
      if (same && options.deleteCopied) {
        await doc.send(new DeleteCommand({ TableName: options.from, Key: key }));
        move.deleted += 1;
      }
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return move;
}

/** A move that has done nothing yet. */
export const emptyMove = (): ItemsMove => ({ found: 0, copied: 0, present: 0, conflicts: [], deleted: 0 });
