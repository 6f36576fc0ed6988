import { TransactionCanceledException, type DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

/**
 * TransactWriteItems in the local runtime's embedded DynamoDB (dynalite 4 has none; it is added by
 * `patches/dynalite+4.0.0.patch`, see docs/local-runtime.md), over the real SDK: all or nothing, one
 * cancellation reason per operation in order, DynamoDB's validation errors, and isolation from concurrent
 * plain writes and other transactions. Without the patch every test here fails: dynalite answers
 * `UnknownOperationException`.
 */

let table: TestTable;
let doc: DynamoDBDocumentClient;
let name: string;
let partition = 0;
let pk: string;

beforeAll(async () => {
  table = await startTestTable('transactions');
  doc = table.doc;
  name = table.tableName;
});
afterAll(async () => {
  await table?.close();
});
beforeEach(() => {
  partition += 1;
  pk = `T#${partition}`;
});

type DocTransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

const key = (sk: string) => ({ pk, sk });
const get = async (sk: string) =>
  (await doc.send(new GetCommand({ TableName: name, Key: key(sk), ConsistentRead: true }))).Item;
const transact = (items: DocTransactItem[], token?: string) =>
  doc.send(
    new TransactWriteCommand({ TransactItems: items, ...(token ? { ClientRequestToken: token } : {}) }),
  );

async function failure(promise: Promise<unknown>): Promise<DynamoDBServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as DynamoDBServiceException;
  }
  throw new Error('expected the request to fail');
}

async function seed(): Promise<void> {
  await doc.send(new PutCommand({ TableName: name, Item: { ...key('put'), v: 1 } }));
  await doc.send(
    new PutCommand({ TableName: name, Item: { ...key('update'), v: 1, gsi1pk: `G${pk}`, gsi1sk: '1' } }),
  );
  await doc.send(new PutCommand({ TableName: name, Item: { ...key('delete'), v: 1 } }));
  await doc.send(new PutCommand({ TableName: name, Item: { ...key('check'), v: 1 } }));
}

/** One of each operation, each conditional on `v = :v` (1 is what {@link seed} wrote). */
function fourOperations(values: [number, number, number, number]): DocTransactItem[] {
  const condition = (v: number) => ({
    ConditionExpression: 'v = :v',
    ExpressionAttributeValues: { ':v': v },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  });
  return [
    { Put: { TableName: name, Item: { ...key('put'), v: 2 }, ...condition(values[0]) } },
    {
      Update: {
        TableName: name,
        Key: key('update'),
        UpdateExpression: 'SET v = v + :one, gsi1sk = :two',
        ...condition(values[1]),
        ExpressionAttributeValues: { ':v': values[1], ':one': 1, ':two': '2' },
      },
    },
    { Delete: { TableName: name, Key: key('delete'), ...condition(values[2]) } },
    { ConditionCheck: { TableName: name, Key: key('check'), ...condition(values[3]) } },
  ];
}

describe('TransactWriteItems in the embedded DynamoDB', () => {
  it('applies every operation, index entries included, when every condition holds', async () => {
    await seed();
    await transact(fourOperations([1, 1, 1, 1]));
    expect(await get('put')).toEqual({ ...key('put'), v: 2 });
    expect(await get('update')).toEqual({ ...key('update'), v: 2, gsi1pk: `G${pk}`, gsi1sk: '2' });
    expect(await get('delete')).toBeUndefined();
    expect(await get('check')).toEqual({ ...key('check'), v: 1 });
    const indexed = await doc.send(
      new QueryCommand({
        TableName: name,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :g',
        ExpressionAttributeValues: { ':g': `G${pk}` },
      }),
    );
    expect(indexed.Items?.map((item) => item.gsi1sk)).toEqual(['2']);
  });

  for (const failing of [0, 1, 2, 3]) {
    it(`writes nothing when condition ${failing} fails, and says which (its item with ALL_OLD)`, async () => {
      await seed();
      const values: [number, number, number, number] = [1, 1, 1, 1];
      values[failing] = 7;
      const error = await failure(transact(fourOperations(values)));
      expect(error).toBeInstanceOf(TransactionCanceledException);
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      expect(reasons.map((reason) => reason.Code)).toEqual(
        [0, 1, 2, 3].map((i) => (i === failing ? 'ConditionalCheckFailed' : 'None')),
      );
      const sk = ['put', 'update', 'delete', 'check'][failing]!;
      // The SDK leaves the item in DynamoDB JSON (the document client does not convert error members).
      expect(reasons[failing]?.Item).toMatchObject({ pk: { S: pk }, sk: { S: sk }, v: { N: '1' } });
      expect(error.message).toMatch(/cancellation reasons/);
      for (const each of ['put', 'update', 'delete', 'check']) expect((await get(each))?.v).toBe(1);
    });
  }

  it('reports every failed condition, and no item without ALL_OLD or for an absent one', async () => {
    const error = (await failure(
      transact([
        { ConditionCheck: { TableName: name, Key: key('a'), ConditionExpression: 'attribute_exists(pk)' } },
        { Put: { TableName: name, Item: { ...key('b') } } },
        {
          Put: {
            TableName: name,
            Item: key('c'),
            ConditionExpression: 'attribute_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ]),
    )) as TransactionCanceledException;
    expect(error.CancellationReasons).toEqual([
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
    ]);
    expect(await get('b')).toBeUndefined();
  });

  it('cancels with a ValidationError reason when an update cannot apply, writing nothing', async () => {
    await doc.send(new PutCommand({ TableName: name, Item: { ...key('text'), v: 'text' } }));
    const error = (await failure(
      transact([
        { Put: { TableName: name, Item: key('other') } },
        {
          Update: {
            TableName: name,
            Key: key('text'),
            UpdateExpression: 'SET v = v + :one',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
      ]),
    )) as TransactionCanceledException;
    expect(error.name).toBe('TransactionCanceledException');
    expect(error.CancellationReasons?.map((reason) => reason.Code)).toEqual(['None', 'ValidationError']);
    expect(await get('other')).toBeUndefined();
  });

  it('refuses what DynamoDB refuses, with a ValidationException', async () => {
    const twice = await failure(
      transact([
        { Put: { TableName: name, Item: key('same') } },
        {
          ConditionCheck: {
            TableName: name,
            Key: key('same'),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ]),
    );
    expect(twice.name).toBe('ValidationException');
    expect(twice.message).toBe('Transaction request cannot include multiple operations on one item');
    expect(await get('same')).toBeUndefined();

    const many = await failure(
      transact(Array.from({ length: 101 }, (_, i) => ({ Put: { TableName: name, Item: key(`m${i}`) } }))),
    );
    expect(many.name).toBe('ValidationException');
    expect(many.message).toMatch(/transactItems.*length less than or equal to 100/);

    const none = await failure(transact([]));
    expect(none.name).toBe('ValidationException');

    const both = await failure(
      transact([
        { Put: { TableName: name, Item: key('x') }, Delete: { TableName: name, Key: key('x') } },
      ] as DocTransactItem[]),
    );
    expect(both.name).toBe('ValidationException');

    const badExpression = await failure(
      transact([{ ConditionCheck: { TableName: name, Key: key('x'), ConditionExpression: 'v = ' } }]),
    );
    expect(badExpression.name).toBe('ValidationException');
    expect(badExpression.message).toMatch(/^Invalid ConditionExpression/);

    const badKey = await failure(transact([{ Delete: { TableName: name, Key: { pk } } }]));
    expect(badKey.name).toBe('ValidationException');

    const noTable = await failure(transact([{ Put: { TableName: 'no-such-table', Item: key('x') } }]));
    expect(noTable.name).toBe('ResourceNotFoundException');
  });

  it('takes an idempotency token', async () => {
    await transact([{ Put: { TableName: name, Item: { ...key('token'), v: 1 } } }], 'a-client-request-token');
    expect((await get('token'))?.v).toBe(1);
  });

  it('takes up to 100 items', async () => {
    await transact(Array.from({ length: 100 }, (_, i) => ({ Put: { TableName: name, Item: key(`h${i}`) } })));
    expect(await get('h99')).toEqual(key('h99'));
  });

  it('never interleaves with concurrent transactions and plain writes on the same items (no lost update, all or nothing seen)', async () => {
    type Step = 'transaction' | 'update-a' | 'put-c' | 'rmw-b' | 'delete-c';
    const steps = fc.array(fc.constantFrom<Step>('transaction', 'update-a', 'put-c', 'rmw-b', 'delete-c'), {
      minLength: 5,
      maxLength: 40,
    });
    await fc.assert(
      fc.asyncProperty(steps, async (plan) => {
        partition += 1;
        pk = `P#${partition}`;
        const a = key('a');
        const b = key('b');
        await doc.send(new PutCommand({ TableName: name, Item: { ...a, n: 0, m: 0 } }));
        await doc.send(new PutCommand({ TableName: name, Item: { ...b, n: 0, m: 0 } }));
        let rewrites = 0;
        const snapshots: Array<Record<string, unknown>[]> = [];
        await Promise.all(
          plan.map(async (step) => {
            if (step === 'transaction') {
              // Each Update rewrites its whole item: a plain write to `m` slipping between the
              // transaction's read and its write would be lost.
              await transact([
                {
                  Update: {
                    TableName: name,
                    Key: a,
                    UpdateExpression: 'SET n = n + :one',
                    ExpressionAttributeValues: { ':one': 1 },
                  },
                },
                {
                  Update: {
                    TableName: name,
                    Key: b,
                    UpdateExpression: 'SET n = n + :one',
                    ExpressionAttributeValues: { ':one': 1 },
                  },
                },
                {
                  ConditionCheck: {
                    TableName: name,
                    Key: key('c'),
                    ConditionExpression: 'attribute_not_exists(z)',
                  },
                },
              ]);
            } else if (step === 'update-a') {
              await doc.send(
                new UpdateCommand({
                  TableName: name,
                  Key: a,
                  UpdateExpression: 'SET m = m + :one',
                  ExpressionAttributeValues: { ':one': 1 },
                }),
              );
            } else if (step === 'rmw-b') {
              // A read-modify-write of b, conditional on what was read, retried until it lands.
              for (;;) {
                const read = (await doc.send(new GetCommand({ TableName: name, Key: b })))!.Item!;
                try {
                  await doc.send(
                    new PutCommand({
                      TableName: name,
                      Item: { ...read, m: Number(read.m) + 1 },
                      ConditionExpression: 'n = :n AND m = :m',
                      ExpressionAttributeValues: { ':n': read.n, ':m': read.m },
                    }),
                  );
                  rewrites += 1;
                  break;
                } catch (error) {
                  if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
                }
              }
            } else if (step === 'put-c') {
              await doc.send(
                new BatchWriteCommand({ RequestItems: { [name]: [{ PutRequest: { Item: key('c') } }] } }),
              );
            } else {
              await doc.send(new DeleteCommand({ TableName: name, Key: key('c') }));
            }
            const seen = await doc.send(
              new QueryCommand({
                TableName: name,
                KeyConditionExpression: 'pk = :pk',
                ExpressionAttributeValues: { ':pk': pk },
              }),
            );
            snapshots.push(seen.Items ?? []);
          }),
        );
        const transactions = plan.filter((step) => step === 'transaction').length;
        const updates = plan.filter((step) => step === 'update-a').length;
        expect(await get('a')).toEqual({ ...a, n: transactions, m: updates });
        expect(await get('b')).toEqual({ ...b, n: transactions, m: rewrites });
        // A transaction's writes are seen all or none: a Query never sees a and b at different counts.
        for (const items of snapshots) {
          const [first, second] = items.filter((item) => item.sk === 'a' || item.sk === 'b');
          expect(first?.n).toBe(second?.n);
        }
      }),
      { numRuns: 15 },
    );
  });

  it('stays all or nothing under contention: of transactions claiming overlapping items, each applies wholly or not at all', async () => {
    const claim = (items: string[]): DocTransactItem[] =>
      items.map((sk) => ({
        Put: {
          TableName: name,
          Item: { ...key(sk), owner: items.join('+') },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      }));
    const groups = [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'a'],
      ['a', 'c'],
      ['b', 'd'],
    ];
    const outcomes = await Promise.allSettled(groups.map((group) => transact(claim(group))));
    const winners = groups.filter((_, i) => outcomes[i]!.status === 'fulfilled');
    expect(winners.length).toBeGreaterThan(0);
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'rejected')
        expect((outcome.reason as Error).name).toBe('TransactionCanceledException');
      const owners = await Promise.all(groups[i]!.map(async (sk) => (await get(sk))?.owner));
      // A winner owns every item it claimed; a loser owns none.
      expect(owners.every((owner) => owner === groups[i]!.join('+'))).toBe(outcome.status === 'fulfilled');
    }
  });
});
