import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * The dead-letter queue of an asynchronous consumer, as `scope`'s `DeadLetters` (or `id`): encrypted (with `key`, a
 * KMS key of the stack, when given; else SQS's own), TLS-only, kept 14 days for replay. `reason` says why it has no dead-letter queue of its own (cdk-nag's SQS3).
 *
 * @example
 * ```ts
 * this.deadLetters = deadLetterQueue(this, 'This queue is itself the on-failure destination of …');
 * ```
 */
export function deadLetterQueue(
  scope: Construct,
  reason: string,
  key?: kms.IKey,
  id = 'DeadLetters',
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    ...(key
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason });
  return queue;
}

/**
 * An alarm on the first message in a dead-letter queue (the 5-minute maximum of visible messages), made in
 * `scope`: the queue's owner's scope in the alarms' nested stack (infra/constructs/operations-alarms.ts).
 */
export function deadLetterAlarm(
  scope: Construct,
  id: string,
  queue: sqs.Queue,
  alarmDescription: string,
): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription,
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: 'Maximum',
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
