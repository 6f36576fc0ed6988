import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { KMSClient } from '@aws-sdk/client-kms';
import { CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startKmsEmulator, type KmsEmulator } from '../../../infra/local/kms-emulator.js';
import { documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import { createKmsClient } from '../../../shared/adapters/kms/client.js';
import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

/**
 * The project's SDK clients resolve a command class's middleware chain once, not per call
 * (`shared/adapters/resolve-once.ts`, issue 16): the reused chain must still carry each call's own
 * input and answer, concurrent calls included, and a middleware added later must still run.
 */
const region = 'cn-north-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const TableName = 'resolve-once-test';

let dataDir: string;
let table: TestTable;
let kmsEmulator: KmsEmulator;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  table = await startTestTable(TableName);
  ({ doc } = table);
  dataDir = await mkdtemp(join(tmpdir(), 'elicence-resolve-once-'));
  kmsEmulator = await startKmsEmulator({ dataDir });
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await table.close();
  await kmsEmulator.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the document client', () => {
  it('resolves each command class once and still answers every call with its own item', async () => {
    const getResolved = vi.spyOn(GetItemCommand.prototype, 'resolveMiddleware');
    const putResolved = vi.spyOn(PutItemCommand.prototype, 'resolveMiddleware');
    const names = Array.from({ length: 40 }, (_, i) => `n${i}`);

    await Promise.all(
      names.map((name) => doc.send(new PutCommand({ TableName, Item: { pk: `p#${name}`, sk: 's', name } }))),
    );
    const answers = await Promise.all(
      names.map((name) => doc.send(new GetCommand({ TableName, Key: { pk: `p#${name}`, sk: 's' } }))),
    );

    expect(answers.map((answer) => answer.Item)).toEqual(
      names.map((name) => ({ pk: `p#${name}`, sk: 's', name })),
    );
    expect(answers[0]?.$metadata.httpStatusCode).toBe(200);
    expect(getResolved).toHaveBeenCalledTimes(1);
    expect(putResolved).toHaveBeenCalledTimes(1);
  });

  it('marshals and unmarshals every command class through its reused chain', async () => {
    await doc.send(
      new PutCommand({ TableName, Item: { pk: 'q', sk: 'a', n: 1, tags: ['x'], skip: undefined } }),
    );
    await doc.send(new PutCommand({ TableName, Item: { pk: 'q', sk: 'b', n: 2, nested: { deep: true } } }));
    const updated = await doc.send(
      new UpdateCommand({
        TableName,
        Key: { pk: 'q', sk: 'a' },
        UpdateExpression: 'SET n = n + :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const queried = await doc.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'q' },
      }),
    );
    const batch = await doc.send(
      new BatchGetCommand({ RequestItems: { [TableName]: { Keys: [{ pk: 'q', sk: 'b' }] } } }),
    );

    expect(updated.Attributes).toEqual({ pk: 'q', sk: 'a', n: 2, tags: ['x'] });
    expect(queried.Items).toEqual([
      { pk: 'q', sk: 'a', n: 2, tags: ['x'] },
      { pk: 'q', sk: 'b', n: 2, nested: { deep: true } },
    ]);
    expect(batch.Responses?.[TableName]).toEqual([{ pk: 'q', sk: 'b', n: 2, nested: { deep: true } }]);
  });

  it('runs a middleware added after the first call (the grant guard, a test fault)', async () => {
    const key = { pk: 'late', sk: 's' };
    await doc.send(new PutCommand({ TableName, Item: key }));
    await doc.send(new GetCommand({ TableName, Key: key }));

    const seen: string[] = [];
    doc.middlewareStack.add(
      (next) => (args) => {
        seen.push(JSON.stringify(args.input));
        return next(args);
      },
      { step: 'initialize', name: 'lateWatcher' },
    );
    await doc.send(new GetCommand({ TableName, Key: key }));
    doc.middlewareStack.remove('lateWatcher');
    await doc.send(new GetCommand({ TableName, Key: key }));

    expect(seen).toEqual([JSON.stringify({ TableName, Key: key })]);
  });

  it('leaves nothing of one call on the reused chain: the 60th request is built as the first', async () => {
    const client = documentClientFor(new DynamoDBClient({ region, endpoint: table.endpoint, credentials }));
    const built: Array<{ userAgent: string; target: string; host: string }> = [];
    client.middlewareStack.add(
      (next) => (args) => {
        const { headers } = args.request as { headers: Record<string, string> };
        built.push({
          userAgent: headers['user-agent']!,
          target: headers['x-amz-target']!,
          host: headers.host!,
        });
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'requestWatcher' },
    );
    const key = { pk: 'sixty', sk: 's' };
    await client.send(new PutCommand({ TableName, Item: key }));
    for (let round = 0; round < 6; round++) {
      await Promise.all(
        Array.from({ length: 10 }, () => client.send(new GetCommand({ TableName, Key: key }))),
      );
    }
    client.destroy();

    expect(built).toHaveLength(61);
    const gets = built.slice(1);
    expect(new Set(gets.map((request) => JSON.stringify(request))).size).toBe(1);
    expect(gets[0]?.target).toBe('DynamoDB_20120810.GetItem');
  });

  it('refuses to send once the SDK’s own cache was turned on under it (it would replay the first command)', async () => {
    const low = new DynamoDBClient({ region, endpoint: table.endpoint, credentials });
    const client = documentClientFor(low);
    low.config.cacheMiddleware = true;
    expect(() => client.send(new GetCommand({ TableName, Key: { pk: 'x', sk: 'y' } }))).toThrow(
      /cacheMiddleware/,
    );
    client.destroy();
  });

  it('leaves calls with options to the SDK, which answers them the same', async () => {
    await doc.send(new PutCommand({ TableName, Item: { pk: 'opt', sk: 's', v: 'w' } }));
    const answer = await doc.send(new GetCommand({ TableName, Key: { pk: 'opt', sk: 's' } }), {
      abortSignal: new AbortController().signal,
    });
    expect(answer.Item).toEqual({ pk: 'opt', sk: 's', v: 'w' });
  });
});

describe('the KMS client', () => {
  it('reuses its chain per command class and runs a middleware added after the first call', async () => {
    const kms: KMSClient = createKmsClient({ region, endpoint: kmsEmulator.endpoint, credentials });
    const resolved = vi.spyOn(DescribeKeyCommand.prototype, 'resolveMiddleware');
    const created = await Promise.all(
      [1, 2, 3].map(() =>
        kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })),
      ),
    );
    const ids = created.map((key) => key.KeyMetadata?.KeyId);
    const described = await Promise.all(ids.map((KeyId) => kms.send(new DescribeKeyCommand({ KeyId }))));
    expect(described.map((answer) => answer.KeyMetadata?.KeyId)).toEqual(ids);
    expect(resolved).toHaveBeenCalledTimes(1);

    const seen: unknown[] = [];
    kms.middlewareStack.add(
      (next) => (args) => {
        seen.push((args.input as { KeyId?: string }).KeyId);
        return next(args);
      },
      { step: 'initialize', name: 'lateWatcher' },
    );
    await kms.send(new DescribeKeyCommand({ KeyId: ids[0] }));
    expect(seen).toEqual([ids[0]]);
    kms.destroy();
  });
});
