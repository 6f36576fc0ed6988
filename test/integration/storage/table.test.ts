import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startLocalDynamo, type LocalDynamo } from '../../../infra/local/dynamo.js';
import { createTableInput, ensureTable } from '../../../shared/adapters/dynamo/create-table.js';
import { createDynamoClient, documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import { auditTable, table } from '../../../shared/adapters/dynamo/table.js';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

function clientFor(dynamo: LocalDynamo): DynamoDBClient {
  return createDynamoClient({ region: 'local', endpoint: dynamo.endpoint, credentials, maxAttempts: 1 });
}

async function describeTable(client: DynamoDBClient, tableName: string): Promise<TableDescription> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (!Table) throw new Error('no table description');
  return Table;
}

describe('createTableInput', () => {
  it('derives keys and indexes from the table declaration only', () => {
    const input = createTableInput('elicence-test');
    expect(input.BillingMode).toBe('PAY_PER_REQUEST');
    expect(input.KeySchema).toEqual([
      { AttributeName: table.partitionKey, KeyType: 'HASH' },
      { AttributeName: table.sortKey, KeyType: 'RANGE' },
    ]);
    expect(input.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(
      table.globalSecondaryIndexes.map((index) => index.indexName),
    );
    expect(input.AttributeDefinitions?.every((definition) => definition.AttributeType === 'S')).toBe(true);
  });

  it('adds the audit table’s index by holder and kind (gsi3) to the audit table’s input only', () => {
    const input = createTableInput('elicence-test-audit', auditTable);
    expect(input.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['gsi1', 'gsi2', 'gsi3']);
    expect(input.GlobalSecondaryIndexes?.at(-1)?.KeySchema).toEqual([
      { AttributeName: 'gsi3pk', KeyType: 'HASH' },
      { AttributeName: 'gsi3sk', KeyType: 'RANGE' },
    ]);
    expect(createTableInput('elicence-test').GlobalSecondaryIndexes).toHaveLength(2);
  });
});

describe('ensureTable against dynalite', () => {
  let dataDir: string;
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'elicence-table-'));
    dynamo = await startLocalDynamo({ dataDir });
    client = clientFor(dynamo);
  });

  afterAll(async () => {
    client?.destroy();
    await dynamo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates exactly the declared keys and indexes, all ACTIVE', async () => {
    await ensureTable(client, 'declared');
    const description = await describeTable(client, 'declared');

    expect(description.TableStatus).toBe('ACTIVE');
    expect(description.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(description.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const attributes = description.AttributeDefinitions?.map((a) => `${a.AttributeName}:${a.AttributeType}`);
    expect(attributes?.sort()).toEqual(['gsi1pk:S', 'gsi1sk:S', 'gsi2pk:S', 'gsi2sk:S', 'pk:S', 'sk:S']);
    const indexes = description.GlobalSecondaryIndexes?.map((index) => ({
      name: index.IndexName,
      keys: index.KeySchema,
      projection: index.Projection?.ProjectionType,
      status: index.IndexStatus,
    }));
    expect(indexes?.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual([
      {
        name: 'gsi1',
        keys: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        projection: 'ALL',
        status: 'ACTIVE',
      },
      {
        name: 'gsi2',
        keys: [
          { AttributeName: 'gsi2pk', KeyType: 'HASH' },
          { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
        ],
        projection: 'ALL',
        status: 'ACTIVE',
      },
    ]);
    expect(description.LocalSecondaryIndexes).toBeUndefined();
  });

  it('is idempotent', async () => {
    await ensureTable(client, 'twice');
    const first = await describeTable(client, 'twice');
    await ensureTable(client, 'twice');
    const second = await describeTable(client, 'twice');
    expect(second.CreationDateTime).toEqual(first.CreationDateTime);
  });

  it('lets concurrent callers race to create the same table', async () => {
    const others = Array.from({ length: 4 }, () => clientFor(dynamo));
    try {
      await Promise.all([client, ...others].map((c) => ensureTable(c, 'raced')));
    } finally {
      others.forEach((c) => c.destroy());
    }
    expect((await describeTable(client, 'raced')).TableStatus).toBe('ACTIVE');
  });

  it('refuses an existing table that does not match the declaration', async () => {
    await client.send(
      new CreateTableCommand({
        TableName: 'foreign',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    await expect(ensureTable(client, 'foreign')).rejects.toThrow(/does not match.*key schema differs.*gsi1/);
  });

  it('creates the audit table with its own index (gsi3), and refuses one made before it', async () => {
    await ensureTable(client, 'audit', auditTable);
    const audit = await describeTable(client, 'audit');
    expect(audit.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort()).toEqual([
      'gsi1',
      'gsi2',
      'gsi3',
    ]);
    // A table of the plain declaration (a local audit table of an older version): gsi3 is missing.
    await ensureTable(client, 'audit-before-gsi3');
    await expect(ensureTable(client, 'audit-before-gsi3', auditTable)).rejects.toThrow(
      /does not match.*index gsi3 is missing/,
    );
  });
});

describe('startLocalDynamo persistence', () => {
  it('keeps data across close and restart with the same data directory', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'elicence-persist-'));
    try {
      const first = await startLocalDynamo({ dataDir });
      const firstClient = clientFor(first);
      const firstDoc = documentClientFor(firstClient);
      await ensureTable(firstClient, 'persisted');
      await firstDoc.send(new PutCommand({ TableName: 'persisted', Item: { pk: 'a', sk: 'b', value: 42 } }));
      firstDoc.destroy();
      await first.close();

      const second = await startLocalDynamo({ dataDir });
      const secondClient = clientFor(second);
      const secondDoc = documentClientFor(secondClient);
      try {
        await ensureTable(secondClient, 'persisted');
        const { Item } = await secondDoc.send(
          new GetCommand({ TableName: 'persisted', Key: { pk: 'a', sk: 'b' }, ConsistentRead: true }),
        );
        expect(Item).toEqual({ pk: 'a', sk: 'b', value: 42 });
      } finally {
        secondDoc.destroy();
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to open a store that another instance holds, instead of crashing later', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'elicence-locked-'));
    const holder = await startLocalDynamo({ dataDir });
    try {
      await expect(startLocalDynamo({ dataDir })).rejects.toThrow(/another process/);
    } finally {
      await holder.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('closes idempotently', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'elicence-close-'));
    const dynamo = await startLocalDynamo({ dataDir, port: 0 });
    expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await Promise.all([dynamo.close(), dynamo.close()]);
    await rm(dataDir, { recursive: true, force: true });
  });
});
