import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { encryptionKey } from './encryption-key.js';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmNotificationsProps {
  /** Who is told: an email address subscribed to the topic (confirmed by the recipient). */
  email?: string;
  /**
   * What the topic carries, in its display name and its key's description. Default `alarms`: the pager
   * topic, which CloudWatch publishes to. Another (`supervision alerts`) is a topic of its own, for
   * business alerts published by a function's role, which CloudWatch never publishes to.
   */
  purpose?: 'alarms' | 'supervision alerts';
}

/**
 * Where alarms go: one SNS topic that every alarm notifies when it fires and when it recovers. Other
 * subscribers (a pager, a chat hook) subscribe to the topic's ARN. With `purpose: 'supervision alerts'`,
 * the topic the supervision alerts are published to (business events for the supervising office, not
 * the on-call's pager), built alike but for CloudWatch's right to its key.
 *
 * The topic is encrypted with a key of its own (rotated yearly) that CloudWatch may use to publish, and
 * refuses publishing over plain HTTP.
 *
 * @example
 * ```ts
 * const notifications = new AlarmNotifications(this, 'Alarms', { email: 'ops@example.gov.cn' });
 * notifications.notifyOn([...api.alarms, ...fn.alarms]);
 * ```
 */
export class AlarmNotifications extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: AlarmNotificationsProps = {}) {
    super(scope, id);
    const purpose = props.purpose ?? 'alarms';
    this.key = encryptionKey(this, 'Key', {
      description: `elicence ${purpose} topic encryption key`,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch publishes alarm state changes to the encrypted topic on its own behalf: to the pager
    // topic only, so that no alarm can be pointed at the alerts topic and no alert at the pager.
    if (purpose === 'alarms') {
      this.key.grant(
        new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
        'kms:Decrypt',
        'kms:GenerateDataKey*',
      );
    }
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `elicence ${purpose}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
  }

  /** Every alarm in `alarms` notifies the topic when it fires and when it is OK again. */
  notifyOn(alarms: readonly cloudwatch.Alarm[]): void {
    const action = new SnsAction(this.topic);
    for (const alarm of alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}
