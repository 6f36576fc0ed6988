import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAllButRefused, type TransactItem } from '../../../shared/adapters/dynamo/conditional.js';
import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

/**
 * The one "write the transaction again without the members refused" loop (the withdrawal's grants, the
 * statistics' marks) against dynalite's TransactWriteItems (patches/dynalite+4.0.0.patch: one
 * cancellation reason per item, in order, `ConditionalCheckFailed` for those whose condition failed).
 */
const tableName = 'write-all-but-refused';
let table: TestTable;
let doc: DynamoDBDocumentClient;
let run = 0;

beforeAll(async () => {
  table = await startTestTable(tableName);
  doc = table.doc;
});
afterAll(() => table?.close());

/** Keys of this test's own, apart from the other tests'. */
function keysOf(names: readonly string[]) {
  run += 1;
  return names.map((name) => ({ pk: `t${run}#${name}`, sk: 'item' }));
}

const putNewItem = (key: { pk: string; sk: string }): TransactItem => ({
  Put: {
    TableName: tableName,
    Item: { ...key, written: true },
    ConditionExpression: 'attribute_not_exists(pk)',
  },
});

async function stored(key: { pk: string; sk: string }) {
  return (await doc.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
}

describe('writeAllButRefused', () => {
  it('writes every member and what goes alongside in one transaction when none is refused', async () => {
    const [a, b, note] = keysOf(['a', 'b', 'note']);
    const written = await writeAllButRefused(doc, {
      members: [a!, b!],
      itemOf: putNewItem,
      alongside: (kept) => [{ Put: { TableName: tableName, Item: { ...note!, kept: kept.length } } }],
      what: 'test',
    });
    expect(written).toEqual([a, b]);
    expect(await stored(a!)).toMatchObject({ written: true });
    expect(await stored(note!)).toMatchObject({ kept: 2 });
  });

  it('writes again without the members whose condition failed, what goes alongside recomputed for the rest', async () => {
    const [a, b, c, d, note] = keysOf(['a', 'b', 'c', 'd', 'note']);
    // Already there (written by "another writer"): b and d are refused, their items left as they were.
    for (const key of [b!, d!]) {
      await doc.send(new PutCommand({ TableName: tableName, Item: { ...key, by: 'other' } }));
    }
    const rounds: number[] = [];
    const written = await writeAllButRefused(doc, {
      members: [a!, b!, c!, d!],
      itemOf: putNewItem,
      alongside: (kept) => {
        rounds.push(kept.length);
        return [{ Put: { TableName: tableName, Item: { ...note!, kept: kept.map((key) => key.pk) } } }];
      },
      what: 'test',
    });
    expect(written).toEqual([a, c]);
    // Both refused members named by the first cancellation: one more round, not one per member.
    expect(rounds).toEqual([4, 2]);
    expect(await stored(a!)).toMatchObject({ written: true });
    expect(await stored(c!)).toMatchObject({ written: true });
    expect(await stored(b!)).toEqual({ ...b, by: 'other' });
    expect(await stored(d!)).toEqual({ ...d, by: 'other' });
    expect(await stored(note!)).toMatchObject({ kept: [a!.pk, c!.pk] });
  });

  it('writes nothing, not even what goes alongside, when every member is refused', async () => {
    const [a, b, note] = keysOf(['a', 'b', 'note']);
    const written = await writeAllButRefused(doc, {
      // Deletes of items that are not there: another writer deleted them first.
      members: [a!, b!],
      itemOf: (key) => ({
        Delete: { TableName: tableName, Key: key, ConditionExpression: 'attribute_exists(pk)' },
      }),
      alongside: () => [{ Put: { TableName: tableName, Item: { ...note! } } }],
      what: 'test',
    });
    expect(written).toEqual([]);
    expect(await stored(note!)).toBeUndefined();
  });

  it('throws, rather than loop or drop a member, when a condition alongside the members fails', async () => {
    const [a, guard] = keysOf(['a', 'guard']);
    let rounds = 0;
    const write = writeAllButRefused(doc, {
      members: [a!],
      itemOf: putNewItem,
      alongside: () => {
        rounds += 1;
        return [
          {
            ConditionCheck: {
              TableName: tableName,
              Key: guard!,
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
        ];
      },
      what: 'the test’s write',
    });
    await expect(write).rejects.toThrow(
      'the test’s write not written: a condition other than its members’ failed',
    );
    expect(rounds).toBe(1);
    expect(await stored(a!)).toBeUndefined();
  });

  it('throws any other refusal as DynamoDB answered it', async () => {
    const [a] = keysOf(['a']);
    // The same item twice in one transaction: refused whole (ValidationException), no condition involved.
    await expect(
      writeAllButRefused(doc, { members: [a!, a!], itemOf: putNewItem, what: 'test' }),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    expect(await stored(a!)).toBeUndefined();
  });
});
