import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateTableCommand,
  type DynamoDBServiceException,
} from '@aws-sdk/client-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startLocalDynamo, type LocalDynamo } from '../../../infra/local/dynamo.js';

/**
 * The embedded DynamoDB keeps each table's description in memory after its first read
 * (`patches/dynalite+4.0.0.patch`: dynalite read it from LevelDB on every request). A cached description
 * must never outlive a change: a table deleted and created again with another key, or updated, is seen
 * as it now is, also when reads were in flight while it changed.
 */

let dataDir: string;
let dynamo: LocalDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'elicence-table-cache-'));
  dynamo = await startLocalDynamo({ dataDir });
  client = new DynamoDBClient({
    region: 'local',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  client?.destroy();
  await dynamo?.close();
  await rm(dataDir, { recursive: true, force: true });
});

// Provisioned: dynalite creates an index on a table only with its own throughput named.
const throughput = { ReadCapacityUnits: 1, WriteCapacityUnits: 1 };
async function active(TableName: string) {
  for (let tries = 0; tries < 200; tries++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName }));
    if (Table?.TableStatus === 'ACTIVE') return Table;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${TableName} never became ACTIVE`);
}
/** A table created and waited for, as the runtime does: dynalite answers CREATING first, as DynamoDB does. */
async function create(TableName: string, key: string) {
  await client.send(
    new CreateTableCommand({
      TableName,
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      ProvisionedThroughput: throughput,
    }),
  );
  await active(TableName);
}
/**
 * A table deleted and waited for: DeleteTable answers DELETING and dynalite removes the table after
 * answering, as DynamoDB does, so a CreateTable of the same name sent at once may find it still there
 * (ResourceInUseException) — more likely with dynalite in a thread of its own, beside its client.
 */
async function gone(TableName: string) {
  for (let tries = 0; tries < 200; tries++) {
    try {
      await client.send(new DescribeTableCommand({ TableName }));
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${TableName} was never deleted`);
}
const put = (TableName: string, item: Record<string, string>) =>
  client.send(
    new PutItemCommand({
      TableName,
      Item: Object.fromEntries(Object.entries(item).map(([name, value]) => [name, { S: value }])),
    }),
  );
async function refusal(promise: Promise<unknown>): Promise<DynamoDBServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as DynamoDBServiceException;
  }
  throw new Error('expected a refusal');
}

describe('the embedded DynamoDB’s table descriptions', () => {
  it('follow a table deleted and created again with another key', async () => {
    await create('recreated', 'pk');
    await put('recreated', { pk: 'a' });
    await client.send(new GetItemCommand({ TableName: 'recreated', Key: { pk: { S: 'a' } } }));

    await client.send(new DeleteTableCommand({ TableName: 'recreated' }));
    expect((await refusal(put('recreated', { pk: 'a' }))).name).toBe('ResourceNotFoundException');
    await gone('recreated');
    await create('recreated', 'id');

    await put('recreated', { id: 'b' });
    const old = await refusal(put('recreated', { pk: 'a' }));
    expect(old.name).toBe('ValidationException');
    expect(old.message).toMatch(/key/i);
  });

  it('follow a change made while reads of the table are in flight', async () => {
    await create('busy', 'pk');
    await put('busy', { pk: 'a' });
    const reads = Array.from({ length: 40 }, () =>
      client
        .send(new GetItemCommand({ TableName: 'busy', Key: { pk: { S: 'a' } } }))
        .catch((error: Error) => error),
    );
    await client.send(new DeleteTableCommand({ TableName: 'busy' }));
    await gone('busy');
    await create('busy', 'id');
    await Promise.all(reads);

    await put('busy', { id: 'b' });
    expect((await refusal(put('busy', { pk: 'a' }))).name).toBe('ValidationException');
  });

  it('follow UpdateTable through its statuses', async () => {
    await create('updated', 'pk');
    await put('updated', { pk: 'a' });
    expect((await active('updated')).ProvisionedThroughput?.ReadCapacityUnits).toBe(1);

    await client.send(
      new UpdateTableCommand({
        TableName: 'updated',
        ProvisionedThroughput: { ReadCapacityUnits: 7, WriteCapacityUnits: 3 },
      }),
    );
    expect((await active('updated')).ProvisionedThroughput).toMatchObject({
      ReadCapacityUnits: 7,
      WriteCapacityUnits: 3,
    });
    await put('updated', { pk: 'b' });
  });
});
