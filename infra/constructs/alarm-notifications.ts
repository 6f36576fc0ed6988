import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
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
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `elicence ${purpose}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    // CloudWatch publishes alarm state changes to the encrypted topic on its own behalf: to the pager
    // topic only, so that no alarm can be pointed at the alerts topic and no alert at the pager. Only for
    // this account's alarms in this region (aws:SourceAccount, aws:SourceArn: no confused deputy, SRE review
    // R31 L2), on the topic (whose policy, made for enforceSSL, replaces SNS's default one) and its key.
    if (purpose === 'alarms') {
      const fromOurAlarms = {
        ArnLike: {
          'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
        },
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      };
      const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsOfThisAccount',
          principals: [cloudwatchPrincipal],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: fromOurAlarms,
        }),
      );
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsOfThisAccount',
          principals: [cloudwatchPrincipal],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: fromOurAlarms,
        }),
      );
    }
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
  }

  /**
   * `rule` (an EventBridge rule of this stack) publishes its events to the topic. The topic lets
   * EventBridge publish for these rules alone (aws:SourceArn, aws:SourceAccount: SRE review R31 L2), not
   * for any rule of any account as the stock SNS target's grant would. Its key cannot say so: Amazon SNS
   * documents that aws:SourceArn, aws:SourceAccount and aws:SourceOrgID are not supported in a key policy
   * for EventBridge publishing to an encrypted topic (every event would be dropped), so EventBridge may
   * use the key unconditioned; the key encrypts this topic alone, whose policy decides who publishes.
   */
  notifyOnEvents(rule: events.Rule): void {
    if (!this.eventsMayUseKey) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'EventBridgePublishesToThisTopic',
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      this.eventsMayUseKey = true;
    }
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnEquals: { 'aws:SourceArn': rule.ruleArn },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    const topicArn = this.topic.topicArn;
    rule.addTarget({ bind: () => ({ arn: topicArn }) });
  }

  private eventsMayUseKey = false;

  /** Every alarm in `alarms` notifies the topic when it fires and when it is OK again. */
  notifyOn(alarms: readonly cloudwatch.Alarm[]): void {
    const action = new SnsAction(this.topic);
    for (const alarm of alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
}
