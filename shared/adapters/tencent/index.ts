import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { SmsSender } from '../../identity/sms-sender.js';
import { awsClientSettings } from '../aws-timeouts.js';
import { signOncePerClient } from '../resolve-once.js';
import { SecretsManagerTencentCredentials } from './secrets-manager-credentials.js';
import { TencentSmsSender } from './sms-sender.js';

/*
 * The composition root's way in to the Tencent Cloud adapter: the builder returns the port.
 */

/**
 * How long one `SendSms` may take: the SNS sender's per-attempt limit, well inside the sign-in
 * functions' timeouts; a code's whole send has its own deadline too (`smsCodePolicy.sendDeadlineMs`), past
 * which the citizen is answered as for any request and the operators see `sms not sent`.
 */
export const tencentSmsTimeoutMs = 3_000;

/**
 * The Tencent Cloud SMS sender of a container (`SMS_SENDER=tencent`), its key pair read from Secrets
 * Manager (`TENCENT_SMS_SECRET_ARN`; `AWS_ENDPOINT_URL_SECRETS_MANAGER` for a fake) on the first send and
 * kept. Makes no network call until a send.
 */
export function tencentSmsSender(
  config: Pick<Config, 'region' | 'tencentSms' | 'secretsManagerEndpoint'>,
  clock: Clock,
): SmsSender {
  const tencent = config.tencentSms;
  if (!tencent) throw new Error('SMS_SENDER=tencent needs the TENCENT_SMS_* settings');
  const secrets = signOncePerClient(
    new SecretsManagerClient(
      awsClientSettings({
        region: config.region,
        endpoint: config.secretsManagerEndpoint,
        maxAttempts: 3,
        requestTimeoutMs: 1_000,
      }),
    ),
  );
  return new TencentSmsSender(
    {
      endpoint: tencent.endpoint,
      region: tencent.region,
      sdkAppId: tencent.sdkAppId,
      signName: tencent.signName,
      templateIds: {
        'one-time-code': tencent.templateId,
        ...(tencent.noticeTemplateId !== undefined && { 'security-notice': tencent.noticeTemplateId }),
        ...(tencent.previousPhoneNoticeTemplateId !== undefined && {
          'previous-phone-notice': tencent.previousPhoneNoticeTemplateId,
        }),
      },
      timeoutMs: tencentSmsTimeoutMs,
    },
    new SecretsManagerTencentCredentials(secrets, tencent.secretArn),
    clock,
  );
}
