import { Aws, CfnRule, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { encryptionKey } from './encryption-key.js';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ConfigError, loadConfig } from '../../shared/config.js';

/**
 * Why an environment-agnostic stack with SNS does not deploy in a China region: what the operator reads
 * in the CloudFormation error (docs/operating.md, "SMS in AWS China regions").
 */
export const snsInChinaRefusal =
  'smsProvider: Amazon SNS sends no SMS in the AWS China regions. Set "smsProvider": "tencent" and "tencentSms": {"sdkAppId":"1400…","signName":"…","templateId":"…"} in cdk.json, commit and deploy again (docs/operating.md, "SMS in AWS China regions").';

/** Who sends the service's text messages in AWS. */
export type SmsProviderName = 'sns' | 'tencent';

/** An account's Tencent Cloud SMS settings (短信控制台): none is a secret. */
export interface TencentSmsSettings {
  /** The SMS application's `SdkAppId` (`1400…`). */
  sdkAppId: string;
  /** The approved signature (签名), without 【】. */
  signName: string;
  /** The approved template (模板) id of the one-time code. */
  templateId: string;
  /**
   * The approved template id of the security notice (a passkey enrolled, a password reset, …:
   * shared/identity/security-notices.ts), once the carrier approved it; without it no notice is sent.
   */
  noticeTemplateId?: string;
  /**
   * The approved template id of the notice to the phone a change of the account's phone replaced
   * (`previousPhoneNoticeText`), once approved; without it that notice is not sent.
   */
  previousPhoneNoticeTemplateId?: string;
  /** The API region. Default `ap-guangzhou`. */
  region?: string;
}

export interface SmsProviderProps {
  /**
   * Default: `tencent` when Tencent settings are given or the stack's region is a China region (`cn-*`,
   * where SNS sends no SMS), `sns` otherwise. An environment-agnostic stack with `sns` carries a template
   * rule ({@link snsInChinaRefusal}) that stops its deployment in the `aws-cn` partition.
   */
  provider?: SmsProviderName;
  tencent?: TencentSmsSettings;
}

/**
 * The text-message provider of the functions granted `sms` (functions/grants.ts): Amazon SNS, or Tencent
 * Cloud SMS in the AWS China regions (docs/operating.md, "SMS in AWS China regions"). For Tencent it holds
 * the API key pair's secret, created with a random placeholder (the operator puts the JSON pair in it) and
 * encrypted with a key of its own, and gives each sender {@link grantSend}: `secretsmanager:GetSecretValue`
 * on that secret alone and `kms:Decrypt` of it alone; SNS's `sns:Publish` is the function's own
 * (`ServiceFunction` `sendsSms`). The settings are checked by the functions' own configuration
 * (`shared/config.ts`) at synthesis, so that a deployment never starts functions that refuse to start.
 *
 * @example
 * ```ts
 * const sms = new SmsProvider(this, 'Sms', { tencent: { sdkAppId: '1400000001', signName: '电子证照', templateId: '2101234' } });
 * fn.addEnvironment(…sms.environment); sms.grantSend(fn.role);
 * ```
 */
export class SmsProvider extends Construct {
  readonly provider: SmsProviderName;
  /** The key pair's secret (Tencent only). */
  readonly secret: secretsmanager.Secret | undefined;
  /** The secret's encryption key (Tencent only). */
  readonly key: kms.Key | undefined;
  /** What each sender's environment gets (`SMS_SENDER` and the provider's settings). */
  readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: SmsProviderProps = {}) {
    super(scope, id);
    const region = Stack.of(this).region;
    const china = !Token.isUnresolved(region) && region.startsWith('cn-');
    this.provider = props.provider ?? (props.tencent || china ? 'tencent' : 'sns');
    if (this.provider === 'sns' && china) {
      throw new Error(
        `smsProvider: Amazon SNS sends no SMS in ${region}: use "tencent" with tencentSms (docs/operating.md, "SMS in AWS China regions")`,
      );
    }
    if (this.provider === 'sns') {
      this.environment = { SMS_SENDER: 'sns' };
      // A stack of no particular region learns it only at deployment: there, CloudFormation refuses the
      // China partition before it creates anything, rather than deploy senders SNS will never serve.
      // Only when SNS was the default, not asked for: `-c smsProvider=sns` leaves the rule out, the way
      // round it should CloudFormation ever refuse the rule itself (not yet tried in AWS; docs/operating.md).
      if (Token.isUnresolved(region) && props.provider === undefined) {
        new CfnRule(this, 'SnsNotInChina', {
          assertions: [
            {
              assert: Fn.conditionNot(Fn.conditionEquals(Aws.PARTITION, 'aws-cn')),
              assertDescription: snsInChinaRefusal,
            },
          ],
        });
      }
      return;
    }
    const tencent = props.tencent;
    if (!tencent) {
      throw new Error(
        'smsProvider "tencent" needs tencentSms: { sdkAppId, signName, templateId } (in cdk.json: "tencentSms": {"sdkAppId":"1400…","signName":"…","templateId":"…"}, committed; docs/operating.md)',
      );
    }
    this.key = encryptionKey(this, 'Key', {
      description: 'elicence SMS provider secret encryption key (the Tencent Cloud API key pair)',
    });
    // Created with a random placeholder (CloudFormation never rewrites it afterwards): the senders refuse to
    // send until the operator puts `{ "secretId", "secretKey" }` (docs/operating.md).
    this.secret = new secretsmanager.Secret(this, 'TencentKeyPair', {
      description:
        'elicence: Tencent Cloud SMS API key pair as JSON {"secretId","secretKey"}, put by the operator (docs/operating.md)',
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The key pair is issued by Tencent Cloud (CAM), not by AWS: no rotation Lambda can make one. It is replaced by hand (docs/operating.md, "SMS in AWS China regions"); the senders read the new pair after Tencent refuses the old.',
    });
    this.environment = {
      SMS_SENDER: 'tencent',
      TENCENT_SMS_SDK_APP_ID: tencent.sdkAppId,
      TENCENT_SMS_SIGN_NAME: tencent.signName,
      TENCENT_SMS_TEMPLATE_ID: tencent.templateId,
      ...(tencent.noticeTemplateId !== undefined && {
        TENCENT_SMS_NOTICE_TEMPLATE_ID: tencent.noticeTemplateId,
      }),
      ...(tencent.previousPhoneNoticeTemplateId !== undefined && {
        TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID: tencent.previousPhoneNoticeTemplateId,
      }),
      TENCENT_SMS_REGION: tencent.region ?? 'ap-guangzhou',
      TENCENT_SMS_SECRET_ARN: this.secret.secretArn,
    };
    try {
      // The secret's ARN is a token here: a well-formed stand-in, so that the settings are what is checked.
      loadConfig({
        ...this.environment,
        TENCENT_SMS_SECRET_ARN: 'arn:aws:secretsmanager:cn-north-1:000000000000:secret:synthesis',
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new Error(`tencentSms: ${error.message}`, { cause: error });
    }
  }

  /**
   * What a sender's role needs beyond `sns:Publish` (which `ServiceFunction` grants for SNS): with Tencent,
   * reading the key pair's secret, and decrypting it alone (the encryption context Secrets Manager sets
   * names the secret), never `secretsmanager:*` nor another secret.
   */
  grantSend(role: iam.IRole): void {
    if (!this.secret || !this.key) return;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadSmsProviderKeyPair',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secret.secretArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DecryptSmsProviderKeyPair',
        actions: ['kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:EncryptionContext:SecretARN': this.secret.secretArn } },
      }),
    );
  }

  /**
   * Messages the provider did not send: the `sms not sent` lines the SMS-code use case logs for each send
   * the provider refused or did not answer (with Tencent: an exhausted package or balance, a withdrawn
   * template, a refused key, a number's daily limit; with SNS: a spending limit, throttling), counted across
   * the senders' log groups. A citizen is answered as if the code went out (the answer must not tell
   * confirmed phones apart, docs/security.md), so this alarm is how anyone learns of it. Five in five
   * minutes is past what one person's retries make. With Tencent it also replaces the SNS spend alarm:
   * spending there is capped and alerted in Tencent's console (docs/operating.md). The filters and the
   * alarm are made in `scope`: the provider's scope in the alarms' nested stack (`OperationsAlarms.scopeFor`).
   */
  refusalAlarms(
    senders: ReadonlyArray<{ name: string; logGroup: logs.ILogGroup }>,
    scope: Construct,
  ): cloudwatch.Alarm[] {
    const metrics = Object.fromEntries(
      senders.map(({ name, logGroup }, index) => {
        const filter = new logs.MetricFilter(scope, `NotSent-${name}`, {
          logGroup,
          filterPattern: logs.FilterPattern.stringValue('$.message', '=', 'sms not sent'),
          metricNamespace: `Elicence/${name}`,
          metricName: 'SmsNotSent',
          metricValue: '1',
          unit: cloudwatch.Unit.COUNT,
        });
        return [`m${index}`, filter.metric({ period: Duration.minutes(5), statistic: 'Sum' })];
      }),
    );
    return [
      new cloudwatch.Alarm(scope, 'NotSent', {
        alarmDescription:
          this.provider === 'tencent'
            ? 'elicence: Tencent Cloud SMS refused messages (balance, template, key or limits: see the functions’ "sms not sent" and "sms provider refused" lines)'
            : 'elicence: Amazon SNS refused or did not answer text messages (spending limit, throttling: see the functions’ "sms not sent" lines)',
        metric: new cloudwatch.MathExpression({
          expression: Object.keys(metrics)
            .map((m) => `FILL(${m}, 0)`)
            .join(' + '),
          usingMetrics: metrics,
          period: Duration.minutes(5),
        }),
        threshold: 5,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}
