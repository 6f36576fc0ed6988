import type { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

/**
 * The embedded DynamoDB keeps what it parsed of each expression (`patches/dynalite+4.0.0.patch`,
 * docs/local-runtime.md): dynalite parsed every KeyConditionExpression, UpdateExpression,
 * ConditionExpression and ProjectionExpression of every request with its PEG parsers. A kept parse must
 * answer exactly as a new one: each request's own values and names, values of another type checked
 * again, errors word for word, unused names and values still refused, nothing one request's later steps
 * change seen by the next; and the cache is bounded.
 */

let table: TestTable;
let doc: DynamoDBDocumentClient;
let TableName: string;
let partition = 0;
let pk: string;

beforeAll(async () => {
  table = await startTestTable('expression-cache');
  doc = table.doc;
  TableName = table.tableName;
});
afterAll(async () => {
  await table?.close();
});
beforeEach(() => {
  partition += 1;
  pk = `E#${partition}`;
});

const get = async (sk: string) =>
  (await doc.send(new GetCommand({ TableName, Key: { pk, sk }, ConsistentRead: true }))).Item;

async function failure(promise: Promise<unknown>): Promise<DynamoDBServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as DynamoDBServiceException;
  }
  throw new Error('expected the request to fail');
}

describe('the embedded DynamoDB’s parsed expressions', () => {
  it('write each request’s own values with the same expressions', async () => {
    await doc.send(new PutCommand({ TableName, Item: { pk, sk: 'item', n: 0 } }));
    const update = (value: unknown, max: number) =>
      doc.send(
        new UpdateCommand({
          TableName,
          Key: { pk, sk: 'item' },
          UpdateExpression: 'SET v = :v, n = n + :one',
          ConditionExpression: 'attribute_exists(pk) AND n < :max',
          ExpressionAttributeValues: { ':v': value, ':one': 1, ':max': max },
        }),
      );
    for (const value of ['first', 'second', 'third']) await update(value, 10);
    expect(await get('item')).toMatchObject({ v: 'third', n: 3 });

    // The condition's bound is this request's: 3 < 3 fails.
    expect((await failure(update('fourth', 3))).name).toBe('ConditionalCheckFailedException');
    expect(await get('item')).toMatchObject({ v: 'third', n: 3 });

    // A value of another type in the same place: stored as that type.
    await update(['a', 1], 10);
    expect(await get('item')).toMatchObject({ v: ['a', 1], n: 4 });
  });

  it('resolve each request’s own attribute names', async () => {
    await doc.send(new PutCommand({ TableName, Item: { pk, sk: 'item', x: 'x0', y: 'y0' } }));
    const update = (name: string, value: string, expected: string) =>
      doc.send(
        new UpdateCommand({
          TableName,
          Key: { pk, sk: 'item' },
          UpdateExpression: 'SET #a = :v',
          ConditionExpression: '#a = :old',
          ExpressionAttributeNames: { '#a': name },
          ExpressionAttributeValues: { ':v': value, ':old': expected },
        }),
      );
    await update('x', 'x1', 'x0');
    await update('y', 'y1', 'y0');
    expect(await get('item')).toMatchObject({ x: 'x1', y: 'y1' });
    await doc.send(
      new PutCommand({
        TableName,
        Item: { pk, sk: 'projected', x: 1, y: 2 },
      }),
    );
    const projected = async (name: string) =>
      (
        await doc.send(
          new GetCommand({
            TableName,
            Key: { pk, sk: 'projected' },
            ProjectionExpression: '#p',
            ExpressionAttributeNames: { '#p': name },
          }),
        )
      ).Item;
    expect(await projected('x')).toEqual({ x: 1 });
    expect(await projected('y')).toEqual({ y: 2 });
  });

  it('check a value of another type again, with the same error each time', async () => {
    await doc.send(new PutCommand({ TableName, Item: { pk, sk: 'item', c: 1 } }));
    const add = (n: unknown) =>
      doc.send(
        new UpdateCommand({
          TableName,
          Key: { pk, sk: 'item' },
          UpdateExpression: 'ADD c :n',
          ExpressionAttributeValues: { ':n': n },
        }),
      );
    const refusal =
      'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING';
    expect((await failure(add('one'))).message).toBe(refusal);
    await add(2);
    expect((await failure(add('one'))).message).toBe(refusal);
    await add(3);
    expect(await get('item')).toMatchObject({ c: 6 });
  });

  it('refuse an invalid expression with the same error every time', async () => {
    const send = (UpdateExpression: string, names?: Record<string, string>) =>
      doc.send(
        new UpdateCommand({
          TableName,
          Key: { pk, sk: 'item' },
          UpdateExpression,
          ...(names && { ExpressionAttributeNames: names }),
          ExpressionAttributeValues: { ':v': 1 },
        }),
      );
    const messages = async (expression: string, names?: Record<string, string>) => {
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const error = await failure(send(expression, names));
        expect(error.name).toBe('ValidationException');
        seen.push(error.message);
      }
      return seen;
    };
    expect(await messages('SET v = = :v')).toEqual(
      Array(3).fill(
        'Invalid UpdateExpression: Syntax error; Expected "#", "(", ":", "_", or [a-zA-Z] but "=" found.',
      ),
    );
    expect(await messages('SET #missing = :v', { '#other': 'v' })).toEqual(
      Array(3).fill(
        'Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #missing',
      ),
    );
    // The same text once valid: the error does not stick, and it is still refused with other names.
    await send('SET #missing = :v', { '#missing': 'v' });
    expect(await get('item')).toMatchObject({ v: 1 });
    expect((await failure(send('SET #missing = :v', { '#other': 'v' }))).message).toMatch(/not defined/);
  });

  it('still refuse unused names and values after the same expression was kept', async () => {
    const update = (values: Record<string, unknown>, names?: Record<string, string>) =>
      doc.send(
        new UpdateCommand({
          TableName,
          Key: { pk, sk: 'item' },
          UpdateExpression: 'SET #v = :v',
          ExpressionAttributeNames: { '#v': 'v', ...names },
          ExpressionAttributeValues: values,
        }),
      );
    await update({ ':v': 1 });
    await update({ ':v': 2 });
    expect((await failure(update({ ':v': 3, ':extra': 4 }))).message).toBe(
      'Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}',
    );
    expect((await failure(update({ ':v': 3 }, { '#extra': 'w' }))).message).toBe(
      'Value provided in ExpressionAttributeNames unused in expressions: keys: {#extra}',
    );
    expect(await get('item')).toMatchObject({ v: 2 });
  });

  it('give each Query a key condition of its own (dynalite rewrites it in place)', async () => {
    for (const sk of ['a', 'b', 'c', 'd']) await doc.send(new PutCommand({ TableName, Item: { pk, sk } }));
    // `:lo < sk` is turned round to `sk > :lo` inside the parsed condition, request by request.
    const after = async (lo: string) =>
      (
        await doc.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'pk = :pk AND :lo < sk',
            ExpressionAttributeValues: { ':pk': pk, ':lo': lo },
          }),
        )
      ).Items?.map((item) => item.sk);
    expect(await after('a')).toEqual(['b', 'c', 'd']);
    expect(await after('b')).toEqual(['c', 'd']);
    expect(await after('c')).toEqual(['d']);

    // BETWEEN compares its bounds when it is parsed: checked on every request.
    const between = (lo: string, hi: string) =>
      doc.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeValues: { ':pk': pk, ':lo': lo, ':hi': hi },
        }),
      );
    expect((await between('b', 'c')).Items?.map((item) => item.sk)).toEqual(['b', 'c']);
    expect((await failure(between('c', 'b'))).message).toMatch(
      /BETWEEN operator requires upper bound to be greater than or equal to lower bound/,
    );
  });
});

interface ExpressionRequest {
  UpdateExpression?: string;
  ConditionExpression?: string;
  KeyConditionExpression?: string;
  FilterExpression?: string;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, Record<string, unknown>>;
}
interface Validations {
  validateExpressions(data: ExpressionRequest): string | undefined;
  parsedExpressions: { readonly size: number; readonly hits: number; capacity: number; clear(): void };
}
const validations = createRequire(import.meta.url)('dynalite/validations/index.js') as Validations;

/** What dynalite's validation made of a request: its error, or the parsed expressions it attached. */
function validate(request: ExpressionRequest) {
  const data = structuredClone(request) as ExpressionRequest & Record<string, unknown>;
  const error = validations.validateExpressions(data);
  return { error, parsed: Object.fromEntries(Object.entries(data).filter(([key]) => key.startsWith('_'))) };
}

describe('dynalite’s kept parses, in its own module', () => {
  const n = (value: number) => ({ N: String(value) });
  const s = (value: string) => ({ S: value });
  // Each case twice: the second with other values of the same types (kept) or of other types (not).
  const cases: [ExpressionRequest, ExpressionRequest][] = [
    [
      {
        UpdateExpression: 'SET #p.#c = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#p.#c)',
        ExpressionAttributeNames: { '#p': 'payload', '#c': 'consumed' },
        ExpressionAttributeValues: { ':now': n(1) },
      },
      {
        UpdateExpression: 'SET #p.#c = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#p.#c)',
        ExpressionAttributeNames: { '#p': 'other', '#c': 'consumed' },
        ExpressionAttributeValues: { ':now': n(2) },
      },
    ],
    [
      {
        UpdateExpression:
          'SET a = list_append(if_not_exists(a, :empty), :l), b = b + :n REMOVE c[2] ADD d :set',
        ExpressionAttributeValues: {
          ':empty': { L: [] },
          ':l': { L: [s('x')] },
          ':n': n(1),
          ':set': { SS: ['a'] },
        },
      },
      {
        UpdateExpression:
          'SET a = list_append(if_not_exists(a, :empty), :l), b = b + :n REMOVE c[2] ADD d :set',
        ExpressionAttributeValues: {
          ':empty': { L: [n(1)] },
          ':l': s('not a list'),
          ':n': n(5),
          ':set': { SS: ['b'] },
        },
      },
    ],
    [
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'size(tags) > :n OR contains(tags, :tag) OR NOT (x IN (:a, :b))',
        ProjectionExpression: 'pk, sk, tags[0], m.#n',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: {
          ':pk': s('p'),
          ':prefix': s('a'),
          ':n': n(1),
          ':tag': s('t'),
          ':a': n(1),
          ':b': n(2),
        },
      },
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'size(tags) > :n OR contains(tags, :tag) OR NOT (x IN (:a, :b))',
        ProjectionExpression: 'pk, sk, tags[0], m.#n',
        ExpressionAttributeNames: { '#n': 'nom' },
        ExpressionAttributeValues: {
          ':pk': s('q'),
          ':prefix': n(3),
          ':n': n(2),
          ':tag': s('u'),
          ':a': n(3),
          ':b': n(4),
        },
      },
    ],
    [
      { ConditionExpression: 'attribute_type(a, :t)', ExpressionAttributeValues: { ':t': s('S') } },
      { ConditionExpression: 'attribute_type(a, :t)', ExpressionAttributeValues: { ':t': s('X') } },
    ],
    [
      {
        ConditionExpression: 'a BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':lo': n(1), ':hi': n(2) },
      },
      {
        ConditionExpression: 'a BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':lo': n(3), ':hi': n(2) },
      },
    ],
  ];

  it('answer as a new parse does, with the request’s own value objects', () => {
    for (const [first, second] of cases) {
      validations.parsedExpressions.clear();
      const primed = validate(first);
      expect(primed.error).toBeUndefined();
      const kept = validate(second);
      validations.parsedExpressions.clear();
      const fresh = validate(second);
      expect(kept).toEqual(fresh);
    }
    // The values in a kept parse are the request's own objects, not copies or the first request's.
    validations.parsedExpressions.clear();
    validate(cases[0]![0]);
    const data = structuredClone(cases[0]![1]) as ExpressionRequest & {
      _updates?: { sections: { val: unknown }[] };
    };
    expect(validations.validateExpressions(data)).toBeUndefined();
    expect(data._updates?.sections[0]?.val).toBe(data.ExpressionAttributeValues?.[':now']);
  });

  it('hand each request a parse of its own', () => {
    validations.parsedExpressions.clear();
    const request = { UpdateExpression: 'SET a = :v', ExpressionAttributeValues: { ':v': n(1) } };
    const one = structuredClone(request) as ExpressionRequest & {
      _updates?: { sections: { path: string[] }[] };
    };
    const two = structuredClone(request) as typeof one;
    validations.validateExpressions(one);
    validations.validateExpressions(two);
    one._updates!.sections[0]!.path.push('changed');
    const three = structuredClone(request) as typeof one;
    validations.validateExpressions(three);
    expect(two._updates?.sections[0]?.path).toEqual(['a']);
    expect(three._updates?.sections[0]?.path).toEqual(['a']);
  });

  it('keep at most its capacity, the least recently used going first', () => {
    validations.parsedExpressions.clear();
    const { capacity } = validations.parsedExpressions;
    const request = (i: number) => ({ ConditionExpression: `attribute_exists(a${i})` });
    const hit = (i: number) => {
      const hits = validations.parsedExpressions.hits;
      expect(validate(request(i)).error).toBeUndefined();
      return validations.parsedExpressions.hits > hits;
    };
    for (let i = 0; i < capacity; i++) expect(hit(i)).toBe(false);
    expect(validations.parsedExpressions.size).toBe(capacity);
    expect(hit(0)).toBe(true);
    expect(hit(capacity)).toBe(false); // one more: the least recently used (1, not 0) goes
    expect(hit(0)).toBe(true);
    expect(hit(1)).toBe(false);
    for (let i = capacity + 1; i < 2 * capacity; i++) hit(i);
    expect(validations.parsedExpressions.size).toBe(capacity);
  });
});
