import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Alert, AlertPublisher } from '../../supervision/alert-rules.js';

/**
 * The cloud's {@link AlertPublisher}: one `Publish` to the stack's alarm topic per alert, with a subject
 * line that names the rule and severity (email subscribers see it) and the alert as JSON in the body,
 * with `rule` and `severity` as message attributes so subscribers can filter. Alerts carry no personal
 * data (their subjects are licence, client and issuer ids).
 *
 * @example
 * ```ts
 * const alerts = new SnsAlertPublisher(new SNSClient({}), 'arn:aws-cn:sns:cn-north-1:123456789012:alarms');
 * await alerts.publish(alert);
 * ```
 */
export class SnsAlertPublisher implements AlertPublisher {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(alert: Alert): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        // SNS subjects: ASCII, at most 100 characters.
        Subject: `elicence supervision alert: ${alert.rule} (${alert.severity})`.slice(0, 100),
        Message: JSON.stringify(alert),
        MessageAttributes: {
          rule: { DataType: 'String', StringValue: alert.rule },
          severity: { DataType: 'String', StringValue: alert.severity },
        },
      }),
    );
  }
}
