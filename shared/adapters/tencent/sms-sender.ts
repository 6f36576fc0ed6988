import { epochSeconds, type Clock } from '../../clock.js';
import { DependencyError } from '../../errors.js';
import type { SmsMessage, SmsSender, SmsTemplate } from '../../identity/sms-sender.js';
import { logger } from '../../logger.js';
import { tc3Authorization, type TencentCredentials } from './tc3-signer.js';

/** Where the API key pair comes from (the Secrets Manager secret), read once and kept. */
export interface TencentCredentialSource {
  get(): Promise<TencentCredentials>;
  /** Drops the kept pair, so that the next send reads it again (after Tencent refused it). */
  forget(): void;
}

/** An account's settings of Tencent Cloud SMS (短信控制台): none of them a secret. */
export interface TencentSmsSettings {
  /** The API's address: `https://sms.tencentcloudapi.com`, or a test's fake. */
  endpoint: string;
  /** The API region the request names (`X-TC-Region`), e.g. `ap-guangzhou`. */
  region: string;
  /** The SMS application's `SdkAppId` (应用 ID, `1400…`). */
  sdkAppId: string;
  /** The approved signature (签名), without its brackets: Tencent puts 【…】 around it. */
  signName: string;
  /**
   * The approved template (模板) id of each message the service sends: the one-time code's always; the
   * security notice's once approved (`TENCENT_SMS_NOTICE_TEMPLATE_ID`), a notice refused without it; the
   * previous phone's notice's likewise (`TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID`).
   */
  templateIds: Readonly<{ 'one-time-code': string } & Partial<Record<SmsTemplate['name'], string>>>;
  /** How long one send may take, connection included, before it fails with a `TimeoutError`. */
  timeoutMs: number;
}

/** The answer of `SendSms` (API 3.0): either `Error` or one `SendStatusSet` entry per number. */
interface SendSmsAnswer {
  Response?: {
    Error?: { Code?: string; Message?: string };
    SendStatusSet?: Array<{ Code?: string }>;
    RequestId?: string;
  };
}

/** The parameters of each template, in the order of its placeholders {1}, {2}, … */
function templateParams(template: SmsTemplate): string[] {
  switch (template.name) {
    case 'one-time-code':
      return [template.params.code, template.params.action, String(template.params.minutes)];
    case 'security-notice':
      return [template.params.time, template.params.event];
    case 'previous-phone-notice':
      return [template.params.time];
  }
}

/**
 * The China regions' {@link SmsSender}: Tencent Cloud SMS (API 3.0 `SendSms`, version `2021-01-11`), where
 * Amazon SNS sends no text messages. A mainland provider sends only templates approved in advance under a
 * signature, so a message goes as its `template` and parameters (its `text` is not sent), and a message
 * without a template is refused here. Each request is signed with TC3-HMAC-SHA256 ({@link tc3Authorization})
 * by the key pair of the credential source and sent with `fetch`: no SDK in the bundle.
 *
 * A send that was not accepted rejects, so that the caller says the code was not sent: a refused request
 * (`Response.Error`, e.g. `AuthFailure.SignatureFailure`) or a refused number (a `SendStatusSet` code other
 * than `Ok`, e.g. `LimitExceeded.PhoneNumberDailyLimit`) is a {@link DependencyError} `sms_not_sent`, an
 * unanswered one a `TimeoutError` after {@link TencentSmsSettings.timeoutMs} (the code use case answers as
 * for any request and logs `sms not sent`: shared/identity/sms-codes.ts).
 * An `AuthFailure.*` also drops the kept key pair, so that a key the operator replaced is read again. Only
 * Tencent's code and request id are logged (`sms provider refused`): never the number, the code or the key.
 *
 * @example
 * ```ts
 * const sms = new TencentSmsSender(settings, new SecretsManagerTencentCredentials(client, arn), systemClock);
 * await sms.send(smsCodeMessage('+8613912345678', '483920', 'step-up'));
 * ```
 */
export class TencentSmsSender implements SmsSender {
  readonly #url: URL;

  constructor(
    private readonly settings: TencentSmsSettings,
    private readonly credentials: TencentCredentialSource,
    private readonly clock: Clock,
  ) {
    this.#url = new URL('/', settings.endpoint);
  }

  async send(message: SmsMessage): Promise<void> {
    // 1. The template and its parameters: never free text, which the provider would refuse anyway.
    if (!message.template) {
      throw new DependencyError('Tencent Cloud SMS sends approved templates only', 'sms_not_sent');
    }
    // A template with no approved id (a security notice before `TENCENT_SMS_NOTICE_TEMPLATE_ID` is set):
    // refused before any request, its own code, so that the caller does not try it again.
    const templateId = this.settings.templateIds[message.template.name];
    if (templateId === undefined) {
      throw new DependencyError(
        `Tencent Cloud SMS has no approved template for ${message.template.name}`,
        'sms_template_missing',
      );
    }
    const payload = JSON.stringify({
      PhoneNumberSet: [message.to],
      SmsSdkAppId: this.settings.sdkAppId,
      SignName: this.settings.signName,
      TemplateId: templateId,
      TemplateParamSet: templateParams(message.template),
    });
    // 2. Signed with the key pair, at the clock's second.
    const timestamp = epochSeconds(this.clock);
    const contentType = 'application/json';
    const authorization = tc3Authorization(
      { service: 'sms', host: this.#url.hostname, contentType, payload, timestamp },
      await this.credentials.get(),
    );
    // 3. Sent, within the time limit.
    let response: Response;
    try {
      response = await fetch(this.#url, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': contentType,
          'x-tc-action': 'SendSms',
          'x-tc-version': '2021-01-11',
          'x-tc-region': this.settings.region,
          'x-tc-timestamp': String(timestamp),
          'x-tc-requestclient': 'elicence',
        },
        body: payload,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch (error) {
      if ((error as { name?: unknown }).name === 'TimeoutError') throw error;
      throw new DependencyError('Tencent Cloud SMS could not be reached', 'sms_not_sent', { cause: error });
    }
    // 4. The answer: an error, or the one number's status.
    const answer = (await response.json().catch(() => undefined)) as SendSmsAnswer | undefined;
    const body = answer?.Response;
    const status = body?.SendStatusSet?.[0]?.Code;
    if (response.ok && !body?.Error && status === 'Ok') return;
    // Tencent's codes are identifiers (`FailedOperation.…`); anything else is not echoed into the logs.
    const given = body?.Error?.Code ?? status;
    const reason =
      given === undefined
        ? `HTTP ${response.status}`
        : /^[A-Za-z0-9.]{1,100}$/.test(given)
          ? given
          : 'unreadable';
    if (reason.startsWith('AuthFailure')) this.credentials.forget();
    // Tencent's detail for the operator; the use case's own `sms not sent` line is the one the alarm counts
    // (once per failure, whatever the provider, timeouts included).
    logger.warn('sms provider refused', { provider: 'tencent', reason, requestId: body?.RequestId });
    throw new DependencyError(`Tencent Cloud SMS did not send the message: ${reason}`, 'sms_not_sent');
  }
}
