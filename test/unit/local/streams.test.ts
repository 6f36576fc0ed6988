import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { LocalDynamo, WriteListener, WriteRequest } from '../../../infra/local/dynamo.js';
import { invocation } from '../../../infra/local/invocation.js';
import { tapStream } from '../../../infra/local/streams.js';

/** The part of the embedded DynamoDB the tap uses: its write notifications, played by the test. */
function fakeDynamo() {
  const listeners = new Set<WriteListener>();
  const dynamo = {
    onWrite(listener: WriteListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as LocalDynamo;
  const write = (request: WriteRequest) => {
    for (const listener of listeners) listener(request);
  };
  return { dynamo, write };
}

/** The runtime's three tables: the stream tapped is the audit table's. */
const tables = { table: 'elicence', auditTable: 'elicence-audit', batchTable: 'elicence-batches' };

const item = (pk: string, n: number) => ({ pk: { S: pk }, sk: { S: `s${n}` }, n: { N: String(n) } });
const put = (pk: string, n: number, TableName = 'elicence-audit'): WriteRequest => ({
  operation: 'PutItem',
  input: { TableName, Item: item(pk, n) },
});

function consumer(fail: (records: DynamoDBRecord[]) => boolean = () => false) {
  const batches: DynamoDBRecord[][] = [];
  const functions: Array<string | undefined> = [];
  const handler = (event: DynamoDBStreamEvent) => {
    functions.push(invocation.getStore()?.functionName);
    if (fail(event.Records)) return Promise.reject(new Error('consumer failed'));
    batches.push(event.Records);
    return Promise.resolve();
  };
  return { batches, functions, load: () => Promise.resolve(handler) };
}

describe('the local stream tap (DynamoDB Streams and the event source mapping, locally)', () => {
  it('feeds a consumer only the audit table’s stream, and only when its grants include it (auditStream)', () => {
    const { dynamo } = fakeDynamo();
    const load = consumer().load;
    // The service table (sessions, tokens and accounts) has no stream in the stack: nothing may read one.
    expect(() =>
      tapStream(dynamo, {
        tableName: 'elicence',
        tables,
        partitionKeyPrefix: 'audit#',
        functionName: 'supervision-events',
        load,
      }),
    ).toThrow(
      'Function supervision-events is not granted dynamodb:GetRecords on the stream of the service table',
    );
    expect(() =>
      tapStream(dynamo, {
        tableName: 'elicence-audit',
        tables,
        partitionKeyPrefix: 'audit#',
        functionName: 'supervision',
        load,
      }),
    ).toThrow('Function supervision is not granted dynamodb:GetRecords on the stream of the audit table');
    // The batch table's stream is the batch pipe's (its own role): no function's, not even the consumer's.
    for (const functionName of ['supervision-events', 'batches', 'licences'] as const) {
      expect(() =>
        tapStream(dynamo, {
          tableName: 'elicence-batches',
          tables,
          partitionKeyPrefix: 'batch#',
          functionName,
          load,
        }),
      ).toThrow(
        `Function ${functionName} is not granted dynamodb:GetRecords on the stream of the batch table`,
      );
    }
  });

  it('does not deliver the items a BatchWriteItem answered as unprocessed (they were not written)', async () => {
    const { dynamo, write } = fakeDynamo();
    const sink = consumer();
    const stream = tapStream(dynamo, {
      tableName: 'elicence-audit',
      tables,
      partitionKeyPrefix: 'audit#',
      functionName: 'supervision-events',
      load: sink.load,
    });
    write({
      operation: 'BatchWriteItem',
      input: {
        RequestItems: {
          'elicence-audit': [0, 1, 2].map((n) => ({ PutRequest: { Item: item('audit#2026-03-01#1', n) } })),
        },
      },
      output: {
        UnprocessedItems: { 'elicence-audit': [{ PutRequest: { Item: item('audit#2026-03-01#1', 1) } }] },
      },
    });
    await stream.drain();
    expect(sink.batches.flat().map((record) => record.dynamodb?.NewImage?.n?.N)).toEqual(['0', '2']);
    await stream.stop();
  });

  it('delivers the puts under the prefix as INSERT records with their new image, in order, in batches', async () => {
    const { dynamo, write } = fakeDynamo();
    const sink = consumer();
    const stream = tapStream(dynamo, {
      tableName: 'elicence-audit',
      tables,
      partitionKeyPrefix: 'audit#',
      functionName: 'supervision-events',
      load: sink.load,
    });
    for (let n = 0; n < 150; n += 1) write(put('audit#2026-03-01#1', n));
    write(put('licence#1', 999));
    write(put('audit#2026-03-01#2', 998, 'other-table'));
    write({
      operation: 'BatchWriteItem',
      input: {
        RequestItems: {
          'elicence-audit': [
            { PutRequest: { Item: item('audit#2026-03-01#3', 150) } },
            { DeleteRequest: { Key: { pk: { S: 'audit#x' }, sk: { S: 'y' } } } },
            { PutRequest: { Item: item('oidc#Session#1', 997) } },
          ],
        },
      },
    });
    await stream.drain();
    expect(sink.batches.every((batch) => batch.length <= 100)).toBe(true);
    const records = sink.batches.flat();
    expect(records.map((record) => Number(record.dynamodb?.NewImage?.n?.N))).toEqual(
      Array.from({ length: 151 }, (_, n) => n),
    );
    expect(records[0]).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      dynamodb: {
        Keys: { pk: { S: 'audit#2026-03-01#1' }, sk: { S: 's0' } },
        NewImage: item('audit#2026-03-01#1', 0),
        StreamViewType: 'NEW_IMAGE',
      },
    });
    // Sequence numbers grow, as a shard's do.
    const sequence = records.map((record) => record.dynamodb!.SequenceNumber!);
    expect([...sequence].sort()).toEqual(sequence);
    // Each batch ran as the consumer function (its grants apply).
    expect(new Set(sink.functions)).toEqual(new Set(['supervision-events']));
    await stream.stop();
  });

  it('retries a failing batch, then records it as failed and goes on', async () => {
    const { dynamo, write } = fakeDynamo();
    let attempts = 0;
    const sink = consumer(
      (records) => records.some((r) => r.dynamodb?.NewImage?.n?.N === '1') && ++attempts > 0,
    );
    const stream = tapStream(dynamo, {
      tableName: 'elicence-audit',
      tables,
      partitionKeyPrefix: 'audit#',
      functionName: 'supervision-events',
      load: sink.load,
    });
    write(put('audit#a', 1));
    await stream.drain();
    write(put('audit#a', 2));
    await stream.drain();
    expect(attempts).toBe(3);
    // With the pointers AWS's on-failure record carries (the records' sequence numbers and arrival).
    expect(stream.failures).toEqual([
      {
        records: 1,
        error: 'Error: consumer failed',
        DDBStreamBatchInfo: expect.objectContaining({
          startSequenceNumber: expect.stringMatching(/^0+1$/),
          endSequenceNumber: expect.stringMatching(/^0+1$/),
          batchSize: 1,
          approximateArrivalOfFirstRecord: expect.any(String),
        }),
      },
    ]);
    expect(sink.batches.flat().map((r) => r.dynamodb?.NewImage?.n?.N)).toEqual(['2']);
    await stream.stop();
    write(put('audit#a', 3));
    await stream.drain();
    expect(sink.batches.flat()).toHaveLength(1);
  });
});
