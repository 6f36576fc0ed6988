import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { functionNames } from '../../functions/routes.js';
import {
  committedContextKeys,
  contextKeys,
  refuseCommandLineOnlySettings,
  stackPropsFromContext,
} from '../../infra/context.js';
import { ElicenceStack, type ElicenceStackProps } from '../../infra/stack.js';
import type { Json, Statement } from '../support/iam-statement.js';
import { nestedTemplate } from '../support/nested-template.js';

/**
 * SRE review R31, before a first real deploy: the context's settings read (H2) and kept (M3), failed
 * backups told (M4), the alarm topic and key held to their sources (L2), what the runbooks name output
 * (L4), and reserved concurrency held to the account's limit (L5).
 */
const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> };
const operating = readFileSync('docs/operating.md', 'utf8');

interface Resource {
  Type: string;
  Properties: Json;
}

/** Synthesises the stack without bundling, as the app does from `context` over cdk.json's. */
function synthesize(context: Record<string, unknown> = {}, extra: ElicenceStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...cdkJson.context, ...context } });
  const stack = new ElicenceStack(app, 'Elicence', { ...stackPropsFromContext(app), ...extra });
  const template = Template.fromStack(stack);
  return {
    stack,
    template,
    resources: template.toJSON().Resources as Record<string, Resource>,
    outputs: (template.toJSON().Outputs ?? {}) as Record<string, { Value: unknown }>,
    alarms: nestedTemplate(stack, template, stack.operationsAlarms).resolved,
  };
}

const propsOf = (context: Record<string, unknown>) =>
  stackPropsFromContext(new App({ context: { ...cdkJson.context, ...context } }));

describe('the context’s deployment settings are read, checked, and a typo refused (R31 H2)', () => {
  let synth: ReturnType<typeof synthesize>;
  beforeAll(() => {
    synth = synthesize({
      issuerUrl: 'https://id.example.gov.cn',
      platformRegion: '440000',
      logLevel: 'WARN',
    });
  });
  const environmentOf = (name: (typeof functionNames)[number]) =>
    (
      synth.resources[
        synth.stack.getLogicalId(synth.stack.functions[name].function.node.defaultChild as CfnElement)
      ]!.Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;

  it('gives every function the custom domain as ISSUER_URL, and the platform’s region and log level', () => {
    for (const name of ['oidc', 'verify', 'audit', 'peers'] as const) {
      expect(environmentOf(name), name).toMatchObject({
        ISSUER_URL: 'https://id.example.gov.cn',
        LOG_LEVEL: 'WARN',
      });
    }
    expect(environmentOf('peers')).toMatchObject({ PLATFORM_REGION: '440000' });
    expect(synth.outputs.IssuerUrl?.Value).toBe('https://id.example.gov.cn');
  });

  it('reads the stage’s throttling, from cdk.json’s object or -c’s JSON', () => {
    expect(propsOf({ throttle: '{"rateLimit":50,"burstLimit":100}' }).throttle).toEqual({
      rateLimit: 50,
      burstLimit: 100,
    });
    expect(propsOf({ throttle: { rateLimit: 50, burstLimit: 100 } }).throttle).toEqual({
      rateLimit: 50,
      burstLimit: 100,
    });
    expect(() => propsOf({ throttle: '{"rate":50}' })).toThrow(/throttle: \{"rateLimit"/);
    expect(() => propsOf({ throttle: '{rateLimit' })).toThrow(/throttle: not JSON/);
  });

  it('refuses an issuer URL the functions cannot serve under, a region code or log level they do not accept', () => {
    for (const url of [
      'http://id.example.gov.cn',
      'https://id.example.gov.cn/',
      'https://id.example.gov.cn/idp',
      'https://ID.example.gov.cn',
      'https://id.example.gov.cn?x=1',
      'id.example.gov.cn',
    ]) {
      expect(() => propsOf({ issuerUrl: url }), url).toThrow(/issuerUrl: an https origin/);
      expect(() => synthesize({}, { issuerUrl: url }), url).toThrow(/issuerUrl: an https origin/);
    }
    expect(propsOf({ issuerUrl: 'https://id.example.gov.cn:8443' }).issuerUrl).toBe(
      'https://id.example.gov.cn:8443',
    );
    for (const region of ['44000', '4400000', 'guangdong']) {
      expect(() => propsOf({ platformRegion: region }), region).toThrow(/platformRegion: a six-digit/);
    }
    expect(() => propsOf({ logLevel: 'SILENT' })).toThrow(/logLevel: one of DEBUG, INFO, WARN, ERROR/);
  });

  it('refuses a key it does not know, naming it and the known ones, and leaves CDK’s own keys alone', () => {
    expect(() => propsOf({ issuerURL: 'https://id.example.gov.cn' })).toThrow(
      /issuerURL: no such setting in the CDK context .*the known ones are .*issuerUrl/,
    );
    expect(() => propsOf({ alarmemail: 'ops@example.gov.cn' })).toThrow(/alarmemail: no such setting/);
    expect(() =>
      propsOf({
        '@aws-cdk/aws-lambda:recognizeLayerVersion': true,
        'aws:cdk:enable-path-metadata': true,
        'acknowledged-issue-numbers': [34892],
        'availability-zones:account=123456789012:region=cn-north-1': ['cn-north-1a'],
      }),
    ).not.toThrow();
    // Every key of cdk.json is one it knows.
    expect(
      Object.keys(cdkJson.context).filter((key) => !(contextKeys as readonly string[]).includes(key)),
    ).toEqual([]);
    // And every key stackPropsFromContext reads is one it lets through (auditAttributionSince was read
    // but refused as unknown when two changes met).
    const read = [...readFileSync('infra/context.ts', 'utf8').matchAll(/\bcontext\('([A-Za-z]+)'\)/g)].map(
      ([, key]) => key!,
    );
    expect(read.length).toBeGreaterThan(10);
    expect(read.filter((key) => !(contextKeys as readonly string[]).includes(key))).toEqual([]);
  });

  it('keeps the documented defaults in cdk.json', () => {
    expect(cdkJson.context).toMatchObject({
      platformRegion: '110000',
      logLevel: 'INFO',
      accountConcurrencyLimit: 1000,
    });
    expect(operating).toMatch(/"issuerUrl": "https:\/\/id\.example\.gov\.cn"/);
  });
});

describe('lasting settings live in cdk.json, never in a -c a later deploy forgets (R31 M3)', () => {
  const app = (context: Record<string, unknown>) => new App({ context: { ...cdkJson.context, ...context } });

  it('refuses an alarm email, issuer URL or Tencent SMS given with -c only, naming them and cdk.json', () => {
    expect(() =>
      refuseCommandLineOnlySettings(app({ alarmEmail: 'ops@example.gov.cn' }), cdkJson.context),
    ).toThrow(
      /alarmEmail: given with -c but not so in cdk\.json: the next plain `npx cdk deploy Elicence`.*cdk\.json's context and commit/,
    );
    const tencentSms = { sdkAppId: '1400000001', signName: '电子证照', templateId: '2101234' };
    expect(() =>
      refuseCommandLineOnlySettings(
        app({ tencentSms: JSON.stringify(tencentSms), issuerUrl: 'https://id.example.gov.cn' }),
        cdkJson.context,
      ),
    ).toThrow(/^issuerUrl, tencentSms: given with -c/);
    // A changed value overrides cdk.json's just as silently: refused too.
    expect(() => refuseCommandLineOnlySettings(app({ platformRegion: '440000' }), cdkJson.context)).toThrow(
      /platformRegion: given with -c/,
    );
  });

  it('accepts them from cdk.json, and -c repeating cdk.json’s value (JSON text for an object)', () => {
    const tencentSms = { sdkAppId: '1400000001', signName: '电子证照', templateId: '2101234' };
    const committed = {
      ...cdkJson.context,
      alarmEmail: 'ops@example.gov.cn',
      tencentSms,
      smsSpendAlarmUsd: 400,
    };
    expect(() => refuseCommandLineOnlySettings(new App({ context: committed }), committed)).not.toThrow();
    expect(() =>
      refuseCommandLineOnlySettings(
        new App({
          context: { ...committed, tencentSms: JSON.stringify({ ...tencentSms }), smsSpendAlarmUsd: '400' },
        }),
        committed,
      ),
    ).not.toThrow();
    // The key generations stay a one-command override (docs/operating.md), as does skipCanary.
    expect(() =>
      refuseCommandLineOnlySettings(app({ platformKeys: '2,1', skipCanary: 'true' }), cdkJson.context),
    ).not.toThrow();
    expect(committedContextKeys).toEqual(
      expect.arrayContaining([
        'alarmEmail',
        'alertEmail',
        'smsProvider',
        'tencentSms',
        'issuerUrl',
        'platformRegion',
      ]),
    );
  });

  it('the runbooks set them in cdk.json, and no runbook deploys with -c alarmEmail or -c tencentSms', () => {
    expect(operating).not.toMatch(
      /cdk deploy[^\n]*-c (alarmEmail|alertEmail|tencentSms|smsProvider|issuerUrl)/,
    );
    expect(operating).toMatch(/"alarmEmail": "ops@example\.gov\.cn"/);
    expect(operating).toMatch(/"tencentSms": \{/);
  });
});

describe('AWS Backup jobs that fail are told to the alarm topic (R31 M4)', () => {
  let synth: ReturnType<typeof synthesize>;
  beforeAll(() => {
    synth = synthesize({}, { drRegion: 'cn-northwest-1' });
  });

  it('has a rule on failed, expired or aborted backup jobs and DR copy jobs, targeting the alarm topic', () => {
    const topic = {
      Ref: synth.stack.getLogicalId(synth.stack.alarmNotifications.topic.node.defaultChild as CfnElement),
    };
    for (const detailType of ['Backup Job State Change', 'Copy Job State Change']) {
      synth.template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.backup'],
          'detail-type': [detailType],
          account: [{ Ref: 'AWS::AccountId' }],
          detail: { state: ['FAILED', 'EXPIRED', 'ABORTED'] },
        },
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: topic })],
      });
    }
  });

  it('has a runbook row for it', () => {
    expect(operating).toMatch(/\|[^\n|]*FailedBackupJobs[^\n]*backup job[^\n]*\|/);
  });
});

describe('the alarm topic and its key serve this account’s alarms and rules alone (R31 L2)', () => {
  let synth: ReturnType<typeof synthesize>;
  beforeAll(() => {
    synth = synthesize();
  });
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    synth.stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const service = (name: string) => JSON.stringify({ Service: name });

  it('lets EventBridge publish only for the stack’s own rules, in this account', () => {
    const statements = Object.values(synth.resources)
      .filter((r) => r.Type === 'AWS::SNS::TopicPolicy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Principal) === service('events.amazonaws.com'));
    const rules = [...synth.stack.keyGuard.watches, ...synth.stack.backups.failedJobRules];
    expect(statements).toHaveLength(rules.length);
    for (const statement of statements) {
      expect(statement.Condition).toEqual({
        ArnEquals: { 'aws:SourceArn': expect.anything() },
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      });
    }
    expect(statements.map((s) => JSON.stringify((s.Condition as Json).ArnEquals)).sort()).toEqual(
      rules.map((rule) => JSON.stringify({ 'aws:SourceArn': { 'Fn::GetAtt': [idOf(rule), 'Arn'] } })).sort(),
    );
  });

  it('lets CloudWatch publish and use the key only for this account’s alarms in this region', () => {
    const alarmArns = {
      ArnLike: {
        'aws:SourceArn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cloudwatch:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':alarm:*',
            ],
          ],
        },
      },
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    };
    const key = synth.resources[idOf(synth.stack.alarmNotifications.key)]!;
    const keyStatements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
    const cloudwatch = keyStatements.filter(
      (s) => JSON.stringify(s.Principal) === service('cloudwatch.amazonaws.com'),
    );
    expect(cloudwatch).toHaveLength(1);
    expect(cloudwatch[0]!.Condition).toEqual(alarmArns);
    const topicStatements = Object.values(synth.resources)
      .filter((r) => r.Type === 'AWS::SNS::TopicPolicy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => JSON.stringify(s.Principal) === service('cloudwatch.amazonaws.com'));
    expect(topicStatements).toHaveLength(1);
    expect(topicStatements[0]!.Condition).toEqual(alarmArns);
    // The supervision alerts' key and topic give CloudWatch nothing.
    const alertKey = synth.resources[idOf(synth.stack.alertNotifications.key)]!;
    expect(JSON.stringify(alertKey.Properties.KeyPolicy)).not.toContain('cloudwatch.amazonaws.com');
  });
});

describe('the runbooks read names from the stack’s outputs (R31 L4)', () => {
  let synth: ReturnType<typeof synthesize>;
  beforeAll(() => {
    synth = synthesize();
  });

  it('outputs the tables, the queues and their dead letters', () => {
    expect(Object.keys(synth.outputs)).toEqual(
      expect.arrayContaining([
        'TableName',
        'AuditTableName',
        'BatchTableName',
        'SupervisionDeadLettersUrl',
        'BatchQueueUrl',
        'BatchDeadLettersArn',
        'BatchPipeFailuresUrl',
        'SmsQueueUrl',
        'SmsDeadLettersArn',
        'SmsPipeFailuresUrl',
      ]),
    );
    const ref = (construct: { node: { defaultChild?: unknown } }) => ({
      Ref: synth.stack.getLogicalId(construct.node.defaultChild as CfnElement),
    });
    expect(synth.outputs.TableName?.Value).toEqual(ref(synth.stack.data.table));
    expect(synth.outputs.AuditTableName?.Value).toEqual(ref(synth.stack.auditTrail.table));
  });

  it('gives each pipe dead letters of its own, apart from the jobs the consumer can be redriven', () => {
    for (const queue of [synth.stack.batchQueue, synth.stack.smsQueue]) {
      const pipe = synth.resources[synth.stack.getLogicalId(queue.pipe)]!;
      const deadLetter = (
        pipe.Properties.SourceParameters as {
          DynamoDBStreamParameters: { DeadLetterConfig: { Arn: unknown } };
        }
      ).DynamoDBStreamParameters.DeadLetterConfig.Arn;
      const arnOf = (q: typeof queue.queue) => ({
        'Fn::GetAtt': [synth.stack.getLogicalId(q.node.defaultChild as CfnElement), 'Arn'],
      });
      expect(deadLetter).toEqual(arnOf(queue.pipeFailures));
      expect(deadLetter).not.toEqual(arnOf(queue.deadLetters));
    }
    // Each alarmed on its first message.
    const described = Object.values(synth.alarms.toJSON().Resources as Record<string, Resource>)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => String(r.Properties.AlarmDescription));
    expect(described.filter((d) => d.includes('pipe could not deliver'))).toHaveLength(2);
  });

  it('no runbook names a table by a fixed name, and the SMS redrive leaves the pipe’s failures out', () => {
    expect(operating).not.toMatch(/TABLE_NAME=elicence\b/);
    expect(operating).toMatch(/describe-stacks/);
    expect(operating).toMatch(/SmsPipeFailuresUrl/);
  });
});

describe('reserved concurrency is held to the account’s limit at synthesis (R31 L5)', () => {
  it('refuses a sum that leaves fewer than 100 of the account’s executions unreserved', () => {
    expect(() => synthesize({ reservedConcurrency: '{"oidc":900}' })).toThrow(
      /reservedConcurrency: the functions reserve 1040 concurrent executions in all .*more than the 900 the account's limit of 1000/,
    );
    expect(() =>
      synthesize({ reservedConcurrency: '{"oidc":900}', accountConcurrencyLimit: 3000 }),
    ).not.toThrow();
    expect(() => synthesize({ accountConcurrencyLimit: 'lots' })).toThrow(
      /accountConcurrencyLimit: the account's/,
    );
    expect(operating).toMatch(/accountConcurrencyLimit/);
  });
});
