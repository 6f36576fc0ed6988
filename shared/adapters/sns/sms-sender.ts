import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import type { SmsMessage, SmsSender } from '../../identity/sms-sender.js';

/**
 * The cloud's {@link SmsSender}: Amazon SNS, one `Publish` straight to the phone number (no topic), as a
 * transactional message (SNS favours delivery over cost, as one-time codes need) under the configured
 * sender id where the destination supports one. The message's `code` is not sent apart: it is in the text.
 * A refusal by SNS (throttled, opted out, a spending limit) rejects, so that the caller says the code was
 * not sent rather than waiting for one that never comes. Neither the number nor the text is logged here.
 *
 * @example
 * ```ts
 * const sms = new SnsSmsSender(new SNSClient({ region: 'cn-north-1' }), 'ELICENCE');
 * await sms.send({ to: '+8613912345678', text: '【电子证照】验证码 123456，5 分钟内有效。' });
 * ```
 */
export class SnsSmsSender implements SmsSender {
  constructor(
    private readonly sns: SNSClient,
    private readonly senderId: string | undefined,
  ) {}

  async send(message: SmsMessage): Promise<void> {
    const attributes: Record<string, MessageAttributeValue> = {
      'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
      ...(this.senderId && {
        'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: this.senderId },
      }),
    };
    await this.sns.send(
      new PublishCommand({ PhoneNumber: message.to, Message: message.text, MessageAttributes: attributes }),
    );
  }
}
