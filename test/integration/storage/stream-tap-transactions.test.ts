import type { DynamoDBRecord } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalDynamo, type LocalDynamo } from '../../../infra/local/dynamo.js';
import { tapStream } from '../../../infra/local/streams.js';
import { createDynamoClient, documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import { ensureTable } from '../../../shared/adapters/dynamo/create-table.js';

/**
 * The local stream tap sees a TransactWriteItems as DynamoDB Streams would: one record per item it put,
 * over the wire from the embedded DynamoDB, and nothing for a transaction that was cancelled.
 */
describe('the local stream tap and transactions', () => {
  const tableName = 'tapped';
  let dataDir: string;
  let dynamo: LocalDynamo;
  let doc: DynamoDBDocumentClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'elicence-tap-'));
    dynamo = await startLocalDynamo({ dataDir });
    const client = createDynamoClient({
      region: 'local',
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensureTable(client, tableName);
    doc = documentClientFor(client);
  });
  afterAll(async () => {
    doc?.destroy();
    await dynamo?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('delivers one INSERT per item a transaction put under the prefix, none for a cancelled one', async () => {
    const records: DynamoDBRecord[] = [];
    const stream = tapStream(dynamo, {
      tableName,
      // The table tapped plays the audit table (whose stream supervision-events is granted).
      tables: { table: 'service', auditTable: tableName, batchTable: 'batches' },
      partitionKeyPrefix: 'audit#',
      functionName: 'supervision-events',
      load: async () => async (event) => {
        records.push(...event.Records);
      },
    });
    const audit = (n: number) => ({ pk: `audit#2026-03-01#${n}`, sk: `e${n}`, n });
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: audit(1), ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName: tableName, Item: { pk: 'licence#1', sk: 'licence' } } },
          { Put: { TableName: tableName, Item: audit(2) } },
        ],
      }),
    );
    // Cancelled: audit(3) is not written, so no record may say it was.
    await expect(
      doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: audit(3) } },
            {
              Put: { TableName: tableName, Item: audit(1), ConditionExpression: 'attribute_not_exists(pk)' },
            },
          ],
        }),
      ),
    ).rejects.toThrow(/cancellation reasons/);
    await stream.drain();
    expect(records.map((record) => record.eventName)).toEqual(['INSERT', 'INSERT']);
    expect(records.map((record) => record.dynamodb?.NewImage?.n?.N)).toEqual(['1', '2']);
    await stream.stop();
  });
});
