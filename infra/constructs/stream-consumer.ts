import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterAlarm, deadLetterQueue } from './dead-letters.js';

export interface StreamConsumerProps {
  /**
   * The table, with its stream enabled (`NEW_IMAGE`): the consumer's role may read all of that stream (a
   * filter is no permission), so it is the audit table, whose writes are all audit data.
   */
  table: dynamodb.ITable;
  /** The consuming function: its metrics (all versions) raise the backlog alarm. */
  consumer: lambda.IFunction;
  /** What the mapping invokes: the consumer's live alias (infra/constructs/gradual-deploys.ts). Default the consumer. */
  target?: lambda.IFunction;
  /** Only inserts of items whose partition key starts with this are delivered (`audit#`). */
  partitionKeyPrefix: string;
  /** What the alarm description calls the consumer. */
  name: string;
  /**
   * Where its alarms are made: its scope in the alarms' nested stack (`OperationsAlarms.scopeFor`,
   * infra/constructs/operations-alarms.ts). The dead-letter queue stays here.
   */
  alarmScope: Construct;
}

/**
 * A function fed by a table's stream (DynamoDB Streams, off the request path): an event source
 * mapping that passes only inserts of items under one partition-key prefix (filtered by Lambda, so other
 * writes cost no invocation), in batches of up to 100 gathered for up to 5 s; a failing batch is split in
 * two and retried (bisect), up to 5 retries or 24 h, and what still fails is described in the dead-letter
 * queue (the records' stream positions, for replay), whose alarm says so; another alarm says when the
 * consumer falls more than 5 minutes behind (`IteratorAge`).
 *
 * @example
 * ```ts
 * const stream = new StreamConsumer(this, 'SupervisionEvents', { table, consumer, partitionKeyPrefix: 'audit#', name: 'supervision-events' });
 * alarmNotifications.notifyOn(stream.alarms);
 * ```
 */
export class StreamConsumer extends Construct {
  readonly deadLetters: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: StreamConsumerProps) {
    super(scope, id);
    this.deadLetters = deadLetterQueue(
      this,
      'This queue is itself the on-failure destination of the stream consumer: it holds the positions of batches that failed every retry, for replay; a queue behind it would add nothing.',
    );
    (props.target ?? props.consumer).addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(5),
        bisectBatchOnError: true,
        retryAttempts: 5,
        maxRecordAge: Duration.hours(24),
        onFailure: new SqsDlq(this.deadLetters),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { pk: { S: lambda.FilterRule.beginsWith(props.partitionKeyPrefix) } } },
          }),
        ],
      }),
    );
    this.alarms = [
      // Statistics and alerts are as late as the consumer: a backlog of more than 5 minutes is worth a page.
      new cloudwatch.Alarm(props.alarmScope, 'Backlog', {
        alarmDescription: `elicence ${props.name}: the oldest stream record waits more than 5 minutes (statistics and alerts are late)`,
        metric: props.consumer.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 300_000,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      deadLetterAlarm(
        props.alarmScope,
        'FailedBatches',
        this.deadLetters,
        `elicence ${props.name}: stream batches failed every retry (see the dead-letter queue)`,
      ),
    ];
  }
}
