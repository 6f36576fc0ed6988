import { randomUUID } from 'node:crypto';
import type { AttributeValue, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { FunctionName } from '../../functions/routes.js';
import type { LocalDynamo } from './dynamo.js';
import { deliveryLoop } from './delivery-loop.js';

type QueueHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface LocalQueue {
  /** Resolves once every message sent so far has been handled (or given up on). */
  drain(): Promise<void>;
  /** Messages that failed every delivery (locally in place of the dead-letter queue), newest last. */
  readonly failures: ReadonlyArray<{ body: string; error: string }>;
  /** Stops delivering; waits for the message under way. */
  stop(): Promise<void>;
  /**
   * Holds deliveries until the returned function is called (messages wait, as in a queue whose consumer
   * is slow): how a test sees what a request did before its job ran.
   */
  hold(): () => void;
}

/** Deliveries of a message before it is given up (the queue's `maxReceiveCount`, infra/constructs/batch-queue.ts). */
const attempts = 3;

/**
 * The local runtime's stand-in for the batch pipeline of the stack (the batch table's stream, an EventBridge pipe
 * that keeps only the first write of a `batch#` job item and sends `{ "batchId": … }` to the SQS batch
 * queue, and the queue's event source mapping): each such insert becomes one SQS message, delivered to
 * the consumer one at a time, off the request path, inside its own invocation (its grants enforced). A
 * message reported failed (`batchItemFailures`) or thrown is delivered again, up to 3 times, then
 * recorded in {@link LocalQueue.failures}.
 *
 * @example
 * ```ts
 * const queue = tapBatchQueue(dynamo, { tableName: config.batchTableName, partitionKeyPrefix: 'batch#', functionName: 'batches', load });
 * await queue.drain();
 * ```
 */
export function tapBatchQueue(
  dynamo: LocalDynamo,
  options: {
    tableName: string;
    partitionKeyPrefix: string;
    functionName: FunctionName;
    load: () => Promise<QueueHandler>;
    /**
     * The message of an item's insert, or none: by default a bulk issuance job's first write (version 1)
     * as `{ batchId }`, as the batch pipe's input template makes it.
     */
    message?: (item: Record<string, AttributeValue>) => string | undefined;
    /** The queue's ARN in the records (`batches` by default). */
    queueName?: string;
  },
): LocalQueue {
  const message =
    options.message ??
    ((item: Record<string, AttributeValue>) =>
      // The job's first write (version 1) is its insert; its progress writes are not.
      item.version?.N === '1' && item.id?.S ? JSON.stringify({ batchId: item.id.S }) : undefined);
  const failures: Array<{ body: string; error: string }> = [];
  const loop = deliveryLoop<SQSRecord, QueueHandler>({
    functionName: options.functionName,
    load: options.load,
    batchSize: 1,
    attempts,
    attempt: async (handler, [record], attempt) => {
      const message = {
        ...record!,
        attributes: { ...record!.attributes, ApproximateReceiveCount: String(attempt) },
      };
      const answer = await handler({ Records: [message] });
      return !answer || answer.batchItemFailures.length === 0;
    },
    failed: ([record], error) => failures.push({ body: record!.body, error }),
    logMessage: 'queue message failed every delivery',
  });

  const unsubscribe = dynamo.onWrite((write) => {
    if (write.operation !== 'PutItem') return;
    if (write.input.TableName !== undefined && write.input.TableName !== options.tableName) return;
    const item = write.input.Item as Record<string, AttributeValue> | undefined;
    if (!item?.pk?.S?.startsWith(options.partitionKeyPrefix)) return;
    const body = message(item);
    if (body === undefined) return;
    loop.push([
      {
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:local:000000000000:${options.queueName ?? 'batches'}`,
        awsRegion: 'local',
      },
    ]);
  });

  return {
    failures,
    drain: () => loop.drain(),
    hold: () => loop.hold(),
    async stop() {
      unsubscribe();
      await loop.stop();
    },
  };
}
