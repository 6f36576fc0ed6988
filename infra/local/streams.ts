import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { functionGrants } from '../../functions/grants.js';
import type { FunctionName } from '../../functions/routes.js';
import type { StreamBatchInfo } from '../../shared/supervision/replay.js';
import type { LocalDynamo, WriteRequest } from './dynamo.js';
import { deliveryLoop } from './delivery-loop.js';
import { LocalAccessDenied, streamRefusal, type GuardedTables } from './grant-guard.js';

type Image = Record<string, AttributeValue>;

/** A batch given up, as the on-failure destination describes it (no record's content, only where it was). */
export interface LocalStreamFailure {
  records: number;
  error: string;
  DDBStreamBatchInfo: StreamBatchInfo;
}
type StreamHandler = (event: DynamoDBStreamEvent) => Promise<void>;

export interface LocalStream {
  /** Resolves once every record written so far has been delivered (or given up on). */
  drain(): Promise<void>;
  /**
   * Batches that failed every attempt (locally in place of the dead-letter queue), newest last: each with
   * the pointers the event source mapping's on-failure record carries (`DDBStreamBatchInfo`), which
   * `npm run supervision:replay` takes.
   */
  readonly failures: ReadonlyArray<LocalStreamFailure>;
  /** Stops delivering; waits for the batch under way. */
  stop(): Promise<void>;
}

/** As the stack's event source mapping (infra/constructs/stream-consumer.ts): batches of up to 100. */
const batchSize = 100;
/** Attempts of a batch before it is given up (the mapping retries 5 times, bisecting). */
const attempts = 3;

type PutRequests = Record<string, Array<{ PutRequest?: { Item: Image } }>>;
type TransactItems = Array<{ Put?: { TableName?: string; Item: Image } }>;

const keyOf = (item: Image) => `${item.pk?.S ?? ''}\u0000${item.sk?.S ?? ''}`;

/**
 * The items a write request put: each PutItem's item, each BatchWriteItem's put requests less those it
 * answered as unprocessed (not written: the writer sends them again, and then they count), each Put of a
 * TransactWriteItems (answered with success: all of them were written, one stream record each, as in
 * AWS; a cancelled transaction wrote nothing and is not seen here).
 */
function putItems(write: WriteRequest, tableName: string): Image[] {
  if (write.operation === 'TransactWriteItems') {
    return ((write.input.TransactItems as TransactItems | undefined) ?? []).flatMap(({ Put }) =>
      Put?.TableName === tableName && Put.Item ? [Put.Item] : [],
    );
  }
  if (write.input.TableName !== undefined && write.input.TableName !== tableName) return [];
  if (write.operation === 'PutItem') return write.input.Item ? [write.input.Item as Image] : [];
  const requests = (write.input.RequestItems as PutRequests | undefined)?.[tableName];
  const unprocessed = new Set(
    ((write.output?.UnprocessedItems as PutRequests | undefined)?.[tableName] ?? []).flatMap((request) =>
      request.PutRequest ? [keyOf(request.PutRequest.Item)] : [],
    ),
  );
  return (requests ?? []).flatMap((request) =>
    request.PutRequest && !unprocessed.has(keyOf(request.PutRequest.Item)) ? [request.PutRequest.Item] : [],
  );
}

/** The pointers of a failed batch, as AWS's on-failure record names them: sequence numbers and arrival times. */
function batchInfoOf(records: readonly DynamoDBRecord[], tableName: string): StreamBatchInfo {
  const arrival = (record: DynamoDBRecord | undefined) =>
    new Date((record?.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000).toISOString();
  return {
    shardId: 'local',
    startSequenceNumber: records[0]?.dynamodb?.SequenceNumber ?? '',
    endSequenceNumber: records.at(-1)?.dynamodb?.SequenceNumber ?? '',
    approximateArrivalOfFirstRecord: arrival(records[0]),
    approximateArrivalOfLastRecord: arrival(records.at(-1)),
    batchSize: records.length,
    streamArn: `local:${tableName}/stream`,
  };
}

/**
 * The local runtime's stand-in for DynamoDB Streams and the event source mapping in front of a consumer:
 * every item put under `partitionKeyPrefix` (PutItem, BatchWriteItem, a TransactWriteItems' Puts; dynalite has no streams) becomes an
 * `INSERT` record with its `NewImage`, as the stream delivers it, and records are handed to the consumer
 * in write order, in batches of up to 100, one batch at a time, off the request path, inside the consumer's
 * own invocation (its grants enforced). A batch that fails is retried, then recorded in {@link LocalStream.failures}.
 *
 * Every put counts as an insert: the audit trail's puts are conditional on the item not existing.
 *
 * The consumer reads the stream as its role would in AWS: a function whose grants (`functions/grants.ts`)
 * do not include that table's stream (`auditStream`, the audit table's only) is refused before anything is
 * tapped, so that a consumer can never be fed the service table's writes here either.
 *
 * @example
 * ```ts
 * const stream = tapStream(dynamo, { tableName: tables.auditTable, tables, partitionKeyPrefix: 'audit#', functionName: 'supervision-events', load });
 * await stream.drain();
 * ```
 */
export function tapStream(
  dynamo: LocalDynamo,
  options: {
    tableName: string;
    /** The runtime's tables, to tell which stream `tableName`'s is. */
    tables: GuardedTables;
    partitionKeyPrefix: string;
    functionName: FunctionName;
    load: () => Promise<StreamHandler>;
  },
): LocalStream {
  const refused = streamRefusal(functionGrants[options.functionName], options.tableName, options.tables);
  if (refused) {
    throw new LocalAccessDenied(
      `Function ${options.functionName} is not granted ${refused} (functions/grants.ts): IAM would refuse this in AWS`,
    );
  }
  const failures: LocalStreamFailure[] = [];
  let sequence = 0;
  const loop = deliveryLoop<DynamoDBRecord, StreamHandler>({
    functionName: options.functionName,
    load: options.load,
    batchSize,
    attempts,
    batchingWindow: true,
    attempt: async (handler, records) => {
      await handler({ Records: records });
      return true;
    },
    failed: (records, error) =>
      failures.push({
        records: records.length,
        error,
        DDBStreamBatchInfo: batchInfoOf(records, options.tableName),
      }),
    logMessage: 'stream batch failed every attempt',
  });

  const unsubscribe = dynamo.onWrite((write) => {
    const records: DynamoDBRecord[] = [];
    for (const item of putItems(write, options.tableName)) {
      const pk = item.pk?.S;
      if (!pk?.startsWith(options.partitionKeyPrefix)) continue;
      sequence += 1;
      records.push({
        eventID: String(sequence),
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'local',
        dynamodb: {
          // When the write happened, in epoch seconds, as the stream stamps it.
          ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
          Keys: { pk: item.pk!, ...(item.sk ? { sk: item.sk } : {}) },
          NewImage: item,
          SequenceNumber: String(sequence).padStart(21, '0'),
          SizeBytes: JSON.stringify(item).length,
          StreamViewType: 'NEW_IMAGE',
        },
      });
    }
    loop.push(records);
  });

  return {
    failures,
    drain: () => loop.drain(),
    async stop() {
      unsubscribe();
      await loop.stop();
    },
  };
}
