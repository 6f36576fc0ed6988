import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterAlarm, deadLetterQueue } from './dead-letters.js';

export interface BatchQueueProps {
  /**
   * The batch table, with its stream enabled (`NEW_IMAGE`): the pipe's role reads that stream whole, so
   * the table holds the jobs and nothing else (never the service table's sessions and tokens).
   */
  table: dynamodb.ITable;
  /** The function that runs jobs (`batches`), and its timeout (the queue's visibility timeout follows it). */
  consumer: lambda.IFunction;
  consumerTimeout: Duration;
  /** The job items' partition-key prefix (`batch#`): only their inserts start a job. */
  partitionKeyPrefix: string;
  /** Jobs run at once, at most: bounds the load an import puts on the table and the issuer keys. */
  maxConcurrency: number;
  /**
   * What the queue carries instead of bulk issuance jobs (the SMS codes' jobs): the message the pipe makes
   * of an insert (a Pipes input template), the words of the descriptions, the backlog alarm's threshold,
   * and a KMS key of the stack for both queues (instead of SQS's own), when what waits is personal data.
   */
  kind?: QueueKind;
  /**
   * Where its alarms are made: its scope in the alarms' nested stack (`OperationsAlarms.scopeFor`,
   * infra/constructs/operations-alarms.ts). The queues stay here.
   */
  alarmScope: Construct;
}

/**
 * The bulk issuance pipeline (docs/batch-issuance.md): `POST /licences/batches` writes the job item into
 * the batch table; an EventBridge pipe reads that table's stream, keeps only the inserts of job items and sends
 * `{ "batchId": … }` to the batch queue (no SQS client in the API function, whose bundle and grants stay
 * as they were); the queue feeds the `batches` function one job per message, with at most
 * `maxConcurrency` jobs at once. A job that fails is delivered again after the visibility timeout (six
 * times the function's timeout, as Lambda advises), and after 3 deliveries lands in the dead-letter queue.
 * Stream records the pipe could not deliver go to a queue of their own (`PipeFailures`): they are the
 * pipe's failure records, not jobs, and must never be redriven to the consumer. Every queue is encrypted
 * and refuses plain HTTP; each dead-letter queue's alarm fires on its first message, another when a job
 * waits more than an hour.
 *
 * @example
 * ```ts
 * const batchQueue = new BatchQueue(this, 'Batches', { table, consumer, consumerTimeout, partitionKeyPrefix: 'batch#', maxConcurrency: 5 });
 * alarmNotifications.notifyOn(batchQueue.alarms);
 * ```
 */
/** What a {@link BatchQueue} carries, as its descriptions and alarms say it. */
export interface QueueKind {
  /** The message the pipe makes of an insert (a Pipes input template; quoted: Pipes quotes nothing itself). */
  inputTemplate: string;
  /** The queue's name in descriptions (`batch`, `SMS`). */
  label: string;
  /** One job, in descriptions (`bulk issuance job`). */
  job: string;
  /** The backlog alarm: the oldest job's age, and the same in words. */
  backlogSeconds: number;
  backlogText: string;
  /** A KMS key of the stack for both queues (absent: SQS's own), when what waits is personal. */
  encryptionKey?: kms.IKey;
}

const bulkIssuance: QueueKind = {
  inputTemplate: '{"batchId": "<$.dynamodb.NewImage.id.S>"}',
  label: 'batch',
  job: 'bulk issuance job',
  backlogSeconds: 3600,
  backlogText: 'an hour',
};

export class BatchQueue extends Construct {
  readonly queue: sqs.Queue;
  /** Jobs that failed every delivery to the consumer: redriven to {@link queue} once the cause is mended. */
  readonly deadLetters: sqs.Queue;
  /**
   * The pipe's own dead letters: stream records it could not put on the queue (the pipe's failure records,
   * naming the shard and sequence numbers, never a job id). The consumer cannot read them, so they are kept
   * apart from {@link deadLetters}, never redriven to the queue (SRE review R31 L4).
   */
  readonly pipeFailures: sqs.Queue;
  readonly pipe: pipes.CfnPipe;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: BatchQueueProps) {
    super(scope, id);
    const kind = props.kind ?? bulkIssuance;
    const encryption = kind.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: kind.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    this.deadLetters = deadLetterQueue(
      this,
      `This queue is itself the dead-letter queue of the ${kind.label} queue: it holds jobs that failed every delivery, for replay; a queue behind it would add nothing.`,
      kind.encryptionKey,
    );
    this.pipeFailures = deadLetterQueue(
      this,
      `This queue is itself the dead-letter queue of the ${kind.label} pipe: it holds the pipe's failure records (stream positions), for the operator; a queue behind it would add nothing.`,
      kind.encryptionKey,
      'PipeFailures',
    );
    this.queue = new sqs.Queue(this, 'Jobs', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: 3 },
    });
    props.consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency,
      }),
    );

    const role = new iam.Role(this, 'PipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com'),
      description: `elicence ${kind.label} pipe: reads the batch table stream, sends job ids to the ${kind.label} queue`,
    });
    props.table.grantStreamRead(role);
    if (kind.encryptionKey) {
      // What `grantSendMessages` gives, less its `kms:GenerateDataKey*` and `kms:ReEncrypt*` wildcards:
      // sending to a queue under a KMS key needs a data key and decrypting it, no more.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
          resources: [this.queue.queueArn, this.pipeFailures.queueArn],
        }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [kind.encryptionKey.keyArn],
        }),
      );
    } else {
      this.queue.grantSendMessages(role);
      this.pipeFailures.grantSendMessages(role);
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams has no resource-level permission (it is granted on *); every other action names the batch table stream, the job queue and the pipe failures queue.',
    });
    if (!props.table.tableStreamArn) throw new Error('BatchQueue: the table has no stream');
    this.pipe = new pipes.CfnPipe(this, 'Pipe', {
      description: `elicence: each new ${kind.job} to the ${kind.label} queue`,
      roleArn: role.roleArn,
      source: props.table.tableStreamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: 'TRIM_HORIZON',
          batchSize: 10,
          maximumRetryAttempts: 10,
          deadLetterConfig: { arn: this.pipeFailures.queueArn },
        },
        filterCriteria: {
          filters: [
            {
              pattern: JSON.stringify({
                eventName: ['INSERT'],
                dynamodb: { NewImage: { pk: { S: [{ prefix: props.partitionKeyPrefix }] } } },
              }),
            },
          ],
        },
      },
      target: this.queue.queueArn,
      targetParameters: { inputTemplate: kind.inputTemplate },
    });
    this.pipe.node.addDependency(role);

    this.alarms = [
      deadLetterAlarm(
        props.alarmScope,
        'FailedJobs',
        this.deadLetters,
        `elicence ${id.toLowerCase()}: ${kind.job}s failed every delivery (see the ${kind.label} dead-letter queue)`,
      ),
      deadLetterAlarm(
        props.alarmScope,
        'FailedPipeDeliveries',
        this.pipeFailures,
        `elicence ${id.toLowerCase()}: the ${kind.label} pipe could not deliver stream records to the queue (see its PipeFailures queue: jobs never queued)`,
      ),
      new cloudwatch.Alarm(props.alarmScope, 'Backlog', {
        alarmDescription: `elicence ${id.toLowerCase()}: a ${kind.job} has waited more than ${kind.backlogText} to start`,
        metric: this.queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: kind.backlogSeconds,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}
