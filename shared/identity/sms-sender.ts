/** One text message to one mobile number. */
export interface SmsMessage {
  /** The mobile number in E.164 form (`+8613…`). */
  to: string;
  /** The whole text as the person reads it, in Chinese, naming the service. */
  text: string;
  /**
   * The one-time code the text carries, when it carries one. Only the local outbox records it (so a
   * person trying the service, and tests, can read it); a sender over a network never sends it apart.
   */
  code?: string;
}

/**
 * Sends text messages (短信). In AWS, Amazon SNS; locally, the outbox file under `DATA_DIR`.
 *
 * @example
 * ```ts
 * await sms.send({ to: '+8613800138000', text: '【电子证照】验证码 123456，5 分钟内有效。', code: '123456' });
 * ```
 */
export interface SmsSender {
  send(message: SmsMessage): Promise<void>;
}
