/**
 * The messages a template provider (a mainland SMS service, where every text is a template approved in
 * advance under a signature, 签名 and 模板) can send, each with the parameters its template takes, in the
 * order the template numbers them. The one-time code's template reads as {@link smsCodeText} does:
 * `您的验证码是{1}，用于{2}，{3}分钟内有效。请勿告诉他人。` with `{1}` the code, `{2}` what it is for
 * (`smsCodeActions`: 登录验证, 重置密码, 注册账号, 柜台换绑手机) and `{3}` the minutes. A security notice's template,
 * a second one approved apart (`TENCENT_SMS_NOTICE_TEMPLATE_ID`), reads as `securityNoticeText` does; the
 * notice to a phone a change replaced, a third (`TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID`), as
 * `previousPhoneNoticeText`.
 */
export type SmsTemplate =
  | {
      name: 'one-time-code';
      params: { code: string; action: string; minutes: number };
    }
  /**
   * A security notice to the account holder (shared/identity/security-notices.ts): approved as
   * `您的账号于{1}{2}。如非本人操作，请立即重置密码或前往窗口办理。`, `{1}` the time (Beijing, `2026-12-07 17:05`) and
   * `{2}` the event (`securityNoticeEvents`: 添加了通行密钥, 重置了登录密码, …). No code, no number in it.
   */
  | {
      name: 'security-notice';
      params: { time: string; event: string };
    }
  /**
   * The notice to the phone a change of the account's phone replaced (`previousPhoneNoticeText`),
   * approved apart (`TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID`) as
   * `您的账号于{1}更换了验证手机，本号码不再接收该账号的安全提醒，也不能再用于找回密码。如非本人操作，请携带身份证前往窗口办理。`,
   * `{1}` the time. It never names the new number.
   */
  | {
      name: 'previous-phone-notice';
      params: { time: string };
    };

/** One text message to one mobile number. */
export interface SmsMessage {
  /** The mobile number in E.164 form (`+8613…`). */
  to: string;
  /** The whole text as the person reads it, in Chinese, naming the service (the outbox, SNS). */
  text: string;
  /**
   * The one-time code the text carries, when it carries one. Only the local outbox records it (so a
   * person trying the service, and tests, can read it); a sender over a network never sends it apart.
   */
  code?: string;
  /**
   * The same message as a template and its parameters, for a sender that can only send approved
   * templates (Tencent Cloud SMS): it refuses a message without one rather than send other words.
   */
  template?: SmsTemplate;
}

/**
 * Sends text messages (短信). In AWS, Amazon SNS or, in the China regions (where SNS sends no SMS), Tencent
 * Cloud SMS; locally, the outbox file under `DATA_DIR`. A message that was not sent rejects.
 *
 * @example
 * ```ts
 * await sms.send(smsCodeMessage('+8613800138000', '123456', 'reset'));
 * ```
 */
export interface SmsSender {
  send(message: SmsMessage): Promise<void>;
}
