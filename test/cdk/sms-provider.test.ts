import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { functionGrants } from '../../functions/grants.js';
import { functionNames, type FunctionName } from '../../functions/routes.js';
import { stackPropsFromContext } from '../../infra/context.js';
import { snsInChinaRefusal } from '../../infra/constructs/sms-provider.js';
import { addComplianceChecks, ElicenceStack, type ElicenceStackProps } from '../../infra/stack.js';

import type { Json, Statement } from '../support/iam-statement.js';
import { nestedTemplate } from '../support/nested-template.js';

const tencentSms = { sdkAppId: '1400000001', signName: '电子证照', templateId: '2101234' };

function synthesize(props: ElicenceStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ElicenceStack(app, 'Elicence', props);
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * The alarm on texts not sent: one `SmsNotSent` metric filter on each SMS sender's log group, matching the
 * use case's `sms not sent` line, and an alarm (`description`) at 5 in 5 minutes told to the alarm topic,
 * both in the alarms' nested stack (infra/constructs/operations-alarms.ts), none in the parent.
 */
function expectNotSentAlarm(
  { stack, template }: { stack: ElicenceStack; template: Template },
  description: string,
) {
  template.resourceCountIs('AWS::Logs::MetricFilter', 0);
  template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  const alarms = nestedTemplate(stack, template, stack.operationsAlarms).resolved;
  const resources = alarms.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const filters = Object.values(resources).filter(
    (r) =>
      r.Type === 'AWS::Logs::MetricFilter' &&
      JSON.stringify(r.Properties.MetricTransformations).includes('SmsNotSent'),
  );
  expect(filters.map((f) => JSON.stringify(f.Properties.LogGroupName)).sort()).toEqual(
    functionNames
      .filter((name) => functionGrants[name].sms)
      .map((name) => JSON.stringify({ Ref: idOf(stack.functions[name].logGroup) }))
      .sort(),
  );
  for (const filter of filters)
    expect(filter.Properties.FilterPattern).toBe('{ $.message = "sms not sent" }');
  alarms.hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmDescription: Match.stringLikeRegexp(description),
    Threshold: 5,
    AlarmActions: [{ Ref: idOf(stack.alarmNotifications.topic) }],
  });
}

describe('ElicenceStack with Tencent Cloud SMS (smsProvider: tencent, operator review H1)', () => {
  const { stack, template } = synthesize({ tencentSms });
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const secretId = idOf(stack.sms.secret!);
  const keyId = idOf(stack.sms.key!);
  const senders = functionNames.filter((name) => functionGrants[name].sms);

  function roleStatements(name: FunctionName): Statement[] {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([{ Ref: idOf(stack.functions[name].role) }]) },
    });
    return Object.values(policies).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
  }
  const environmentOf = (name: FunctionName) =>
    (resources[idOf(stack.functions[name].function)]!.Properties.Environment as { Variables: Json })
      .Variables;

  it('chooses tencent when its settings are given, and keeps the secret in a KMS key of its own', () => {
    expect(stack.sms.provider).toBe('tencent');
    expect(resources[secretId]).toMatchObject({
      Type: 'AWS::SecretsManager::Secret',
      Properties: { KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    });
    // Created with a placeholder, never with a value in the template.
    expect(resources[secretId]!.Properties).not.toHaveProperty('SecretString');
    expect(resources[keyId]).toMatchObject({
      Type: 'AWS::KMS::Key',
      Properties: { EnableKeyRotation: true },
    });
  });

  it('gives exactly the functions granted sms the settings and the secret, and no sns:Publish', () => {
    // SMS codes are texted after the answer, by their own function (docs/security.md, "Timing").
    expect(senders.sort()).toEqual(['sms-codes']);
    for (const name of functionNames) {
      const environment = environmentOf(name);
      // What the role is allowed (admin's Deny on every stack key, KeyDeletionGuard, names this one too).
      const statements = roleStatements(name).filter((s) => s.Effect === 'Allow');
      const onSecret = statements.filter((s) => JSON.stringify(s).includes(secretId));
      const onKey = statements.filter((s) => JSON.stringify(s).includes(keyId));
      const smsPublish = statements.filter((s) => s.Sid === 'SendSms' || s.Sid === 'NoTopicPublishing');
      expect(smsPublish, name).toEqual([]);
      if (!senders.includes(name)) {
        expect(environment.SMS_SENDER, name).toBeUndefined();
        expect(environment.TENCENT_SMS_SECRET_ARN, name).toBeUndefined();
        expect([...onSecret, ...onKey], name).toEqual([]);
        continue;
      }
      expect(environment, name).toMatchObject({
        SMS_SENDER: 'tencent',
        TENCENT_SMS_SDK_APP_ID: '1400000001',
        TENCENT_SMS_SIGN_NAME: '电子证照',
        TENCENT_SMS_TEMPLATE_ID: '2101234',
        TENCENT_SMS_REGION: 'ap-guangzhou',
        TENCENT_SMS_SECRET_ARN: { Ref: secretId },
      });
      // The key itself is in no environment variable: the Tencent settings are these, and none more.
      expect(
        Object.keys(environment)
          .filter((variable) => variable.startsWith('TENCENT_'))
          .sort(),
        name,
      ).toEqual([
        'TENCENT_SMS_REGION',
        'TENCENT_SMS_SDK_APP_ID',
        'TENCENT_SMS_SECRET_ARN',
        'TENCENT_SMS_SIGN_NAME',
        'TENCENT_SMS_TEMPLATE_ID',
      ]);
      expect(
        [...new Set([...onSecret, ...onKey])].map(({ Effect, Action, Resource, Condition }) => ({
          Effect,
          Action,
          Resource,
          Condition,
        })),
        name,
      ).toEqual([
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: { Ref: secretId },
          Condition: undefined,
        },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
          Condition: { StringEquals: { 'kms:EncryptionContext:SecretARN': { Ref: secretId } } },
        },
      ]);
    }
    // No role anywhere may read secrets beyond that one, nor on "*".
    const secretStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap(
        (policy) =>
          (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
            .Statement,
      )
      .filter((s) => [s.Action].flat().some((action) => action.startsWith('secretsmanager:')));
    expect(secretStatements).toHaveLength(senders.length);
    for (const s of secretStatements) expect(s.Resource).toEqual({ Ref: secretId });
  });

  it('replaces the SNS spend alarm with an alarm on messages Tencent refused, told to the alarm topic', () => {
    expect(stack.smsSpendAlarm).toBeUndefined();
    // Every alarm is in the alarms' nested stack (none in the parent: expectNotSentAlarm).
    const alarms = nestedTemplate(stack, template, stack.operationsAlarms).resolved;
    const alarmResources = alarms.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
    alarms.resourceCountIs(
      'AWS::CloudWatch::Alarm',
      Object.values(alarmResources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').length,
    );
    expect(
      Object.values(alarmResources).filter(
        (r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === 'SMSMonthToDateSpentUSD',
      ),
    ).toEqual([]);
    expectNotSentAlarm({ stack, template }, 'Tencent Cloud SMS refused');
  });

  it('passes cdk-nag', () => {
    const { app } = synthesize({ tencentSms });
    addComplianceChecks(app);
    const report = JSON.parse(
      readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8'),
    ) as {
      pluginReports: Array<{ violations: unknown[] }>;
    };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });
});

describe('choosing the SMS provider', () => {
  const china = { env: { account: '123456789012', region: 'cn-north-1' } };

  it('is SNS by default for a stack of no particular region, with its spend alarm', () => {
    const { stack } = synthesize();
    expect(stack.sms.provider).toBe('sns');
    expect(stack.sms.secret).toBeUndefined();
    expect(stack.smsSpendAlarm).toBeDefined();
  });

  it('is Tencent in a China region, and refuses SNS there or Tencent without its settings', () => {
    expect(synthesize({ ...china, tencentSms }).stack.sms.provider).toBe('tencent');
    expect(() => synthesize(china)).toThrow(/needs tencentSms/);
    expect(() => synthesize({ ...china, smsProvider: 'sns' })).toThrow(/SNS sends no SMS in cn-north-1/);
    expect(() => synthesize({ smsProvider: 'tencent' })).toThrow(/needs tencentSms/);
    expect(synthesize({ env: { account: '123456789012', region: 'eu-west-1' } }).stack.sms.provider).toBe(
      'sns',
    );
  });

  /** A rule's assertion, as CloudFormation evaluates it in `partition` (the subset the stack uses). */
  function holds(expression: Json, partition: string): boolean | string {
    const e = expression as Record<string, Json[]> & { Ref?: string };
    if (typeof expression === 'string') return expression;
    if (e.Ref === 'AWS::Partition') return partition;
    if (e['Fn::Not']) return !holds(e['Fn::Not'][0]!, partition);
    if (e['Fn::Equals'])
      return holds(e['Fn::Equals'][0]!, partition) === holds(e['Fn::Equals'][1]!, partition);
    throw new Error(`outside the evaluated subset: ${JSON.stringify(expression)}`);
  }
  const rulesOf = (template: Template) =>
    Object.entries((template.toJSON().Rules ?? {}) as Record<string, { Assertions: Json[] }>).filter(
      ([id]) => id !== 'CheckBootstrapVersion',
    );

  it('stops an environment-agnostic SNS stack from deploying in the China partition, before anything is created', () => {
    {
      const rules = rulesOf(synthesize({}).template);
      expect(rules).toHaveLength(1);
      const [[id, rule]] = rules as [
        [string, { Assertions: Array<{ Assert: Json; AssertDescription: string }> }],
      ];
      expect(id).toMatch(/SnsNotInChina/);
      expect(rule).not.toHaveProperty('RuleCondition');
      const [assertion] = rule.Assertions;
      expect(holds(assertion!.Assert, 'aws-cn')).toBe(false);
      expect(holds(assertion!.Assert, 'aws')).toBe(true);
      expect(holds(assertion!.Assert, 'aws-us-gov')).toBe(true);
      expect(assertion!.AssertDescription).toBe(snsInChinaRefusal);
      expect(assertion!.AssertDescription).toMatch(
        /"smsProvider": "tencent".*"tencentSms".*in cdk\.json, commit.*SMS in AWS China regions/,
      );
    }
    // SNS named explicitly is the way round the rule (docs/operating.md); a stack that knows its region was
    // checked at synthesis; Tencent sends everywhere.
    expect(rulesOf(synthesize({ smsProvider: 'sns' }).template)).toEqual([]);
    expect(rulesOf(synthesize({ env: { account: '123456789012', region: 'eu-west-1' } }).template)).toEqual(
      [],
    );
    expect(rulesOf(synthesize({ tencentSms }).template)).toEqual([]);
  });

  it('alarms on texts SNS did not send too: the citizen is answered as usual, so only the operator can know', () => {
    const synthesized = synthesize();
    expectNotSentAlarm(synthesized, 'Amazon SNS refused or did not answer');
    // Beside the spend alarm, not instead of it.
    expect(synthesized.stack.smsSpendAlarm).toBeDefined();
  });

  it('refuses settings the functions would refuse, naming the variable', () => {
    expect(() => synthesize({ tencentSms: { ...tencentSms, signName: '【电子证照】' } })).toThrow(
      /tencentSms: .*TENCENT_SMS_SIGN_NAME/,
    );
    expect(() => synthesize({ tencentSms: { ...tencentSms, templateId: 'code' } })).toThrow(
      /TENCENT_SMS_TEMPLATE_ID/,
    );
    expect(() => synthesize({ tencentSms: { ...tencentSms, noticeTemplateId: 'notice' } })).toThrow(
      /TENCENT_SMS_NOTICE_TEMPLATE_ID/,
    );
    expect(() =>
      synthesize({ tencentSms: { ...tencentSms, previousPhoneNoticeTemplateId: 'previous' } }),
    ).toThrow(/TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID/);
  });

  it('gives the sender the security notices’ template once approved (noticeTemplateId), and nothing before', () => {
    const noticeTemplateOf = ({ stack, template }: ReturnType<typeof synthesize>) => {
      const resources = template.toJSON().Resources as Record<string, { Properties: Json }>;
      const id = stack.getLogicalId(stack.functions['sms-codes'].function.node.defaultChild as CfnElement);
      const { Environment } = resources[id]!.Properties as { Environment: { Variables: Json } };
      return Environment.Variables.TENCENT_SMS_NOTICE_TEMPLATE_ID;
    };
    expect(noticeTemplateOf(synthesize({ tencentSms: { ...tencentSms, noticeTemplateId: '2101235' } }))).toBe(
      '2101235',
    );
    expect(noticeTemplateOf(synthesize({ tencentSms }))).toBeUndefined();
  });

  it('gives the sender the previous phone’s notice template once approved (previousPhoneNoticeTemplateId), and nothing before', () => {
    const templateOf = ({ stack, template }: ReturnType<typeof synthesize>) => {
      const resources = template.toJSON().Resources as Record<string, { Properties: Json }>;
      const id = stack.getLogicalId(stack.functions['sms-codes'].function.node.defaultChild as CfnElement);
      const { Environment } = resources[id]!.Properties as { Environment: { Variables: Json } };
      return Environment.Variables.TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID;
    };
    expect(
      templateOf(synthesize({ tencentSms: { ...tencentSms, previousPhoneNoticeTemplateId: '2101236' } })),
    ).toBe('2101236');
    expect(templateOf(synthesize({ tencentSms }))).toBeUndefined();
  });

  it('reads smsProvider and tencentSms from the context', () => {
    const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Json };
    const app = new App({
      context: { ...cdkJson.context, smsProvider: 'tencent', tencentSms: JSON.stringify(tencentSms) },
    });
    expect(stackPropsFromContext(app)).toMatchObject({ smsProvider: 'tencent', tencentSms });
    expect(() =>
      stackPropsFromContext(new App({ context: { ...cdkJson.context, smsProvider: 'aliyun' } })),
    ).toThrow(/smsProvider/);
  });
});
