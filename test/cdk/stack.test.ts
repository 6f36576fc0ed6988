import { staticWebAssets, webAssetEntries } from '../../infra/web-assets.js';
import { trustListOverPeerLimitLine } from '../../shared/licence/trust-list-token.js';
import { pdfFontFile } from '../../shared/licence/pdf-font.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionGrants, kmsActions } from '../../functions/grants.js';
import { functionNames, gatewayRoutes, routeKey, routes, type FunctionName } from '../../functions/routes.js';
import { requireBanner } from '../../infra/bundling.js';
import { addComplianceChecks, ElicenceStack, type ElicenceStackProps } from '../../infra/stack.js';
import { idNumberEncryptionContext, phoneEncryptionContext } from '../../shared/identity/person-account.js';
import { auditTable, table } from '../../shared/adapters/dynamo/table.js';
import { projections } from '../../shared/adapters/dynamo/projections.js';

import type { Json, Statement } from '../support/iam-statement.js';
import { liveAliases, liveArnOf, liveNameOf } from '../support/live-aliases.js';
import { nestedTemplate } from '../support/nested-template.js';

/** Synthesises the stack without bundling: the code assets skip esbuild for stacks not listed here. */
function synthesize(props: ElicenceStackProps = {}): { stack: ElicenceStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ElicenceStack(app, 'Elicence', props);
  return { stack, template: Template.fromStack(stack) };
}

const actionsOf = (statement: Statement) => [statement.Action].flat();
/**
 * A retiring generation's key policy: who reads its public key, and who may still sign with it while it is
 * listed (the roles that sign with the current generation: the version still serving during a rollout
 * signs with it, R49 F1), each principal's role logical id sorted.
 */
const previousKeyUsers = (policy: { Statement: Statement[] }) => {
  const roleIn = (st: Statement) =>
    (st.Principal as { AWS: { 'Fn::GetAtt': [string, string] } }).AWS['Fn::GetAtt'][0];
  const users = policy.Statement.filter((st) => st.Sid?.startsWith('UseBy'));
  const [readers, signers] = [
    users.filter((st) => !st.Sid!.endsWith('Rollout')),
    users.filter((st) => st.Sid!.endsWith('Rollout')),
  ];
  for (const st of readers) expect(actionsOf(st)).toEqual(['kms:GetPublicKey']);
  for (const st of signers) expect(actionsOf(st)).toEqual(['kms:Sign', 'kms:GetPublicKey']);
  return { readers: readers.map(roleIn).sort(), signers: signers.map(roleIn).sort() };
};

/**
 * The stack synthesised with `props` (a key rotation), and how its tests read it: its resources, a
 * construct's logical id and ARN, a function's role's logical id and its environment variables.
 */
function rotationView(props: ElicenceStackProps) {
  const rotating = synthesize(props);
  const resources = rotating.template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Json; DeletionPolicy?: string }
  >;
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    rotating.stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const arnOf = (key: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [idOf(key), 'Arn'] });
  const roleOf = (name: FunctionName) => idOf(rotating.stack.functions[name].role);
  const variablesOf = (name: FunctionName) =>
    (
      Object.values(resources).find(
        (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role).includes(roleOf(name)),
      )!.Properties.Environment as { Variables: Json }
    ).Variables;
  return { rotating, resources, idOf, arnOf, roleOf, variablesOf };
}

/**
 * Renders a CloudFormation value as text: `Ref` and `Fn::GetAtt` become `${name}` placeholders and
 * `Fn::Join` is applied, so that a JSON document built from tokens can be parsed and inspected.
 */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as Json;
  if ('Ref' in object) return `\${${String(object.Ref)}}`;
  if ('Fn::GetAtt' in object) return `\${${(object['Fn::GetAtt'] as string[]).join('.')}}`;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  throw new Error(`Cannot render ${JSON.stringify(value)}`);
}

describe('ElicenceStack', () => {
  let stack: ElicenceStack;
  let template: Template;
  /** The live aliases' nested stack (infra/constructs/gradual-deploys.ts), read with this template. */
  let live: ReturnType<typeof liveAliases>;
  /**
   * The alarms' nested stack (infra/constructs/operations-alarms.ts), every parameter replaced by what the
   * parent passes: its alarms and metric filters name the parent's functions, log groups and topic by
   * their logical ids, as they did in the parent.
   */
  let alarmTemplate: Template;
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const functionId = (name: FunctionName) => logicalId(stack.functions[name].function);
  const roleId = (name: FunctionName) => logicalId(stack.functions[name].role);

  /**
   * The item actions the function's role has on `table`, each with the partition keys its
   * `dynamodb:LeadingKeys` condition allows (every statement one action, every one so conditioned).
   */
  function leadingKeyGrants(name: FunctionName, table: { node: { defaultChild?: unknown } }) {
    const arn = JSON.stringify({ 'Fn::GetAtt': [logicalId(table), 'Arn'] });
    return Object.fromEntries(
      roleStatements(name)
        .filter((s) => JSON.stringify(s.Resource) === arn)
        .map((s) => {
          expect(actionsOf(s), name).toHaveLength(1);
          expect(Object.keys(s.Condition ?? {}), name).toEqual(['ForAllValues:StringLike']);
          const like = s.Condition!['ForAllValues:StringLike'] as Json;
          return [actionsOf(s)[0], [like['dynamodb:LeadingKeys']].flat()];
        }),
    );
  }

  /** A table grant of functions/grants.ts as the IAM actions and partition keys it declares. */
  function declaredGrants(
    grant: { items?: Record<string, readonly string[]>; partitionQueries?: readonly string[] } | undefined,
  ): Record<string, readonly string[]> {
    return Object.fromEntries([
      ...Object.entries(grant?.items ?? {}).map(([action, keys]) => [`dynamodb:${action}`, keys]),
      ...(grant?.partitionQueries ? [['dynamodb:Query', grant.partitionQueries]] : []),
    ]);
  }

  /**
   * Every statement of every IAM policy attached to the function's role, but admin's Deny on the stack's
   * own keys (KeyDeletionGuard, asserted in test/cdk/guards.test.ts): what each role is allowed.
   */
  function roleStatements(name: FunctionName): Statement[] {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([{ Ref: roleId(name) }]) },
    });
    return Object.values(policies)
      .flatMap(
        (policy) =>
          (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
            .Statement,
      )
      .filter((statement) => statement.Sid !== 'NeverTouchStackKeys');
  }

  function environmentOf(name: FunctionName): Record<string, unknown> {
    const fn = template.toJSON().Resources[functionId(name)] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    return fn.Properties.Environment.Variables;
  }

  beforeAll(() => {
    ({ stack, template } = synthesize());
    live = liveAliases(stack, template);
    alarmTemplate = nestedTemplate(stack, template, stack.operationsAlarms).resolved;
  });

  describe('HTTP API', () => {
    it('lets API Gateway invoke each function through one permission, not one per route', () => {
      // CloudFormation refuses a stack of more than 500 resources: with a permission per route (130) the
      // stack reached 513. Headroom kept for what comes next (the SMS queue, its pipe, key and consumer
      // took it from 444 to 456 before gradual deploys).
      // Beside the live aliases, in their nested stack, which the parent counts as one resource.
      const onApi = (found: Template) =>
        Object.values(found.findResources('AWS::Lambda::Permission')).filter(
          (p) => (p as { Properties: Json }).Properties.Principal === 'apigateway.amazonaws.com',
        ) as Array<{ Properties: Json }>;
      expect(onApi(template)).toEqual([]);
      const permissions = onApi(live.nested);
      expect(permissions.length).toBe(new Set(routes.map((route) => route.function)).size);
      for (const name of new Set(routes.map((route) => route.function))) {
        expect(
          permissions.filter(
            (p) => JSON.stringify(p.Properties.FunctionName) === JSON.stringify({ Ref: live.aliasId(name) }),
          ),
          name,
        ).toHaveLength(1);
      }
      // The parent holds the 132 routes and their integrations, the functions (each with its version,
      // role, policy and log group), the keys, tables, queues, pipes, topics and schedules: 342 resources
      // when the alarms moved out. Every alarm that pages and its metric filter is in the nested stack
      // `Operations` (below), the aliases and deploys in `Deploys`: each counts as one resource here.
      expect(Object.keys(template.toJSON().Resources as Json).length).toBeLessThan(400);
    });

    it('has exactly the routes of the route table and their preflights, each to the function it names', () => {
      const found = template.findResources('AWS::ApiGatewayV2::Route');
      const keys = Object.values(found).map((route) => (route as { Properties: Json }).Properties.RouteKey);
      expect(new Set(keys)).toEqual(new Set(gatewayRoutes.map(routeKey)));
      expect(keys).toHaveLength(gatewayRoutes.length);

      const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
      for (const route of gatewayRoutes) {
        const [, resource] = Object.entries(found).find(
          ([, r]) => (r as { Properties: Json }).Properties.RouteKey === routeKey(route),
        )!;
        const target = render((resource as { Properties: Json }).Properties.Target);
        const integrationId = /^integrations\/\$\{(.+)\}$/.exec(target)?.[1] ?? '';
        const integration = (integrations[integrationId] as { Properties: Json }).Properties;
        // Its function's live alias, never $LATEST (gradual deploys, test/cdk/gradual-deploys.test.ts).
        expect(live.aliasNamedBy(integration.IntegrationUri), routeKey(route)).toBe(
          live.aliasId(route.function),
        );
        expect(integration.PayloadFormatVersion).toBe('2.0');
        expect((resource as { Properties: Json }).Properties.AuthorizationType ?? 'NONE').toBe('NONE');
      }
    });

    it('says why each route has no authorizer; every public route that takes input in its own words', () => {
      const reasons = new Map<string, string[]>();
      for (const child of stack.http.node.children) {
        if (!(child instanceof apigw.HttpRoute)) continue;
        const key = (child.node.defaultChild as apigw.CfnRoute).routeKey;
        const acknowledged = child.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
          .filter(([rule]) => rule.endsWith('AwsSolutions-APIG4'))
          .map(([, reason]) => reason);
        reasons.set(key, acknowledged);
      }
      expect(new Set(reasons.keys())).toEqual(new Set(gatewayRoutes.map(routeKey)));
      for (const route of gatewayRoutes) {
        const [reason, ...more] = reasons.get(routeKey(route)) ?? [];
        expect(more, routeKey(route)).toEqual([]);
        expect(reason, routeKey(route)).toEqual(expect.any(String));
        if (route.method === 'OPTIONS') {
          expect(reason, routeKey(route)).toMatch(/^CORS preflight \(OPTIONS .*never with credentials/);
        } else if (route.auth === 'public') {
          expect(reason, routeKey(route)).toContain(`(${routeKey(route)})`);
          if (route.method === 'GET') expect(reason).toMatch(/read-only/);
          else expect(reason, routeKey(route)).not.toMatch(/read-only/);
        } else if (route.auth === 'session') {
          expect(reason, routeKey(route)).toContain('sealed');
          expect(reason, routeKey(route)).toContain(`(${routeKey(route)})`);
        } else if (route.auth !== 'oauth') {
          expect(reason, routeKey(route)).toContain(`scope "${route.auth.scope}"`);
        }
      }
      const publicWrites = routes.filter((r) => r.auth === 'public' && r.method !== 'GET').map(routeKey);
      expect(publicWrites.sort()).toEqual([
        'POST /accounts',
        'POST /register',
        'POST /verify',
        'POST /verify/pdf',
      ]);
    });

    it('serves the $default stage only, with access logs and throttling', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
        DefaultRouteSettings: {
          ThrottlingRateLimit: Match.anyValue(),
          ThrottlingBurstLimit: Match.anyValue(),
        },
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    });

    it('throttles the public routes that write on every call below the stage, each created before the stage', () => {
      // Security review r2 (Medium): a flood of anonymous verifications had only the stage's limit.
      const stages = Object.entries(template.findResources('AWS::ApiGatewayV2::Stage')) as Array<
        [string, { Properties: Json; DependsOn?: string[] }]
      >;
      expect(stages).toHaveLength(1);
      const [stageId, stage] = stages[0]!;
      const defaults = stage.Properties.DefaultRouteSettings as {
        ThrottlingRateLimit: number;
        ThrottlingBurstLimit: number;
      };
      const throttled = routes.filter((route) => route.throttle);
      expect(throttled.map(routeKey).sort()).toEqual([
        'POST /accounts',
        'POST /register',
        'POST /verify',
        'POST /verify/pdf',
      ]);
      expect(stage.Properties.RouteSettings).toEqual(
        Object.fromEntries(
          throttled.map((route) => [
            routeKey(route),
            {
              ThrottlingRateLimit: route.throttle!.rateLimit,
              ThrottlingBurstLimit: route.throttle!.burstLimit,
            },
          ]),
        ),
      );
      const routeIds = Object.fromEntries(
        Object.entries(template.findResources('AWS::ApiGatewayV2::Route')).map(([id, resource]) => [
          String((resource as { Properties: Json }).Properties.RouteKey),
          id,
        ]),
      );
      for (const route of throttled) {
        const key = routeKey(route);
        expect(route.throttle!.rateLimit, key).toBeLessThan(defaults.ThrottlingRateLimit);
        expect(route.throttle!.burstLimit, key).toBeLessThan(defaults.ThrottlingBurstLimit);
        // API Gateway refuses route settings naming a route it does not have yet.
        expect(stage.DependsOn ?? [], `${stageId} after ${key}`).toContain(routeIds[key]);
      }
      expect(() => synthesize({ throttle: { rateLimit: 50, burstLimit: 400 } })).toThrow(
        /throttle of POST \/verify .* must be below the default route throttle/,
      );
    });

    it('keeps every alarm and metric filter in the nested stack Operations, which holds nothing else', () => {
      // Not in the parent, where 94 alarms and 33 filters took it to 468 of CloudFormation's 500 resources.
      template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
      template.resourceCountIs('AWS::Logs::MetricFilter', 0);
      const nested = nestedTemplate(stack, template, stack.operationsAlarms);
      const types = new Set(Object.values(nested.resources).map((resource) => resource.Type));
      // No role, policy or permission: nothing there acts; CloudWatch publishes to the topic on its own.
      expect([...types].sort()).toEqual(['AWS::CloudWatch::Alarm', 'AWS::Logs::MetricFilter']);
      // CloudFormation's limits hold for it too: 500 resources, 200 parameters (what it watches: functions,
      // log groups, tables, queues, the API and the topic, each passed by the parent).
      expect(Object.keys(nested.resources).length).toBeLessThan(500);
      expect(Object.keys(nested.parameters).length).toBeLessThan(200);
      expect(Object.values(nested.parameters)).toContainEqual({
        Ref: logicalId(stack.alarmNotifications.topic),
      });
      // Nothing of it is referenced back by the parent (no output), so no cycle through it.
      expect(nested.template.toJSON().Outputs ?? {}).toEqual({});
    });

    it('tells the alarm topic of every alarm, firing and recovering; the topic is encrypted and TLS-only', () => {
      const topic = { Ref: logicalId(stack.alarmNotifications.topic) };
      const alarms = Object.values(alarmTemplate.findResources('AWS::CloudWatch::Alarm')) as Array<{
        Properties: { AlarmActions?: unknown[]; OKActions?: unknown[] };
      }>;
      // The API's 5xx rate, each function's errors and throttles, and KMS throttling where KMS is called.
      expect(alarms.length).toBeGreaterThan(2 * functionNames.length);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([topic]);
        expect(alarm.Properties.OKActions).toEqual([topic]);
      }
      template.hasResourceProperties('AWS::SNS::Topic', {
        DisplayName: 'elicence alarms',
        KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack.alarmNotifications.key), 'Arn'] },
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        }),
      });
      const keyPolicy = template.toJSON().Resources[logicalId(stack.alarmNotifications.key)].Properties
        .KeyPolicy as { Statement: Statement[] };
      expect(keyPolicy.Statement).toContainEqual(
        expect.objectContaining({
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        }),
      );
      template.hasOutput('AlarmTopicArn', { Value: topic });
      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });

    it('subscribes the alarm email when one is given', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const withEmail = new ElicenceStack(app, 'Elicence', { alarmEmail: 'ops@example.gov.cn' });
      Template.fromStack(withEmail).hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.gov.cn',
      });
    });

    it('configures no CORS in API Gateway, and a preflight route only for the public routes open cross-origin', () => {
      // API Gateway's CORS would answer for every route (the OpenID provider answers its own); the route
      // table's `cors` routes get their OPTIONS route instead (review R25, L7).
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        CorsConfiguration: Match.absent(),
      });
      const preflights = Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
        .map((route) => String((route as { Properties: Json }).Properties.RouteKey))
        .filter((key) => key.startsWith('OPTIONS '))
        .sort();
      expect(preflights).toEqual(
        [
          'OPTIONS /issuers/{id}',
          'OPTIONS /licence-types',
          'OPTIONS /licence-types/{code}',
          'OPTIONS /openapi.json',
          // The JSON Schema of a person's data export (docs/accounts.md), public as the OpenAPI document.
          'OPTIONS /schemas/data-export-1.json',
          'OPTIONS /status-lists/{listId}',
          'OPTIONS /trust-list',
          'OPTIONS /verify',
          'OPTIONS /verify/pdf',
        ].sort(),
      );
      for (const route of routes.filter((r) => r.cors)) expect(route.auth, routeKey(route)).toBe('public');
    });

    it('alarms on the 5xx rate and outputs the API and issuer URLs', () => {
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({
            Id: 'errors',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: '5xx' }) }),
          }),
          Match.objectLike({
            Id: 'requests',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Count' }) }),
          }),
        ]),
      });
      const endpoint = { 'Fn::GetAtt': [logicalId(stack.http.api), 'ApiEndpoint'] };
      template.hasOutput('ApiUrl', { Value: endpoint });
      template.hasOutput('IssuerUrl', { Value: endpoint });
    });
  });

  describe('functions', () => {
    const runtimeSettings = ['NODE_OPTIONS', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_SERVICE_NAME'];
    const service = ['ISSUER_URL', 'LOG_LEVEL'];
    // `licences` takes bulk issuance jobs and `batches` runs them with the same use case: one list, so
    // that the two cannot drift apart (a job run without a key its submission had).
    const issuance = [
      ...service,
      'TABLE_NAME',
      'AUDIT_TABLE_NAME',
      'BATCH_TABLE_NAME',
      'LOOKUP_MAC_KEY_ID',
      'PII_KEY_ID',
    ];
    const expectedEnvironment: Record<FunctionName, string[]> = {
      health: [],
      catalogue: [],
      oidc: [
        ...service,
        'TABLE_NAME',
        'AUDIT_TABLE_NAME',
        'PLATFORM_KEY_ID',
        'PLATFORM_RSA_KEY_ID',
        'LOOKUP_MAC_KEY_ID',
        'WEB_KEY_ID',
        'INTERACTION_KEY_ID',
        'CLIENT_SECRET_KEY_ID',
        'PII_KEY_ID',
        'ACCESS_TOKEN_TTL_SECONDS',
        // SMS codes are asked for here (a job in the batch table) and sent by `sms-codes`.
        'BATCH_TABLE_NAME',
      ],
      admin: [
        ...service,
        'TABLE_NAME',
        'AUDIT_TABLE_NAME',
        'CLIENT_SECRET_KEY_ID',
        'CURSOR_KEY_ID',
        'ISSUER_KEY_POLICY',
        'PLATFORM_REGION',
      ],
      licences: issuance,
      batches: issuance,
      // The list functions name the signer they invoke (functions/grants.ts `invokes`).
      'status-lists': [...service, 'TABLE_NAME', 'PLATFORM_REGION', 'LIST_SIGNER_FUNCTION'],
      'trust-list': [
        ...service,
        'TABLE_NAME',
        'PLATFORM_KEY_ID',
        'PRESENTATION_KEY_ID',
        'NOTICE_KEY_ID',
        'PLATFORM_REGION',
        'LIST_SIGNER_FUNCTION',
      ],
      'list-signer': [...service, 'TABLE_NAME', 'PLATFORM_KEY_ID', 'PRESENTATION_KEY_ID', 'PLATFORM_REGION'],
      verify: [
        ...service,
        'TABLE_NAME',
        'AUDIT_TABLE_NAME',
        'PLATFORM_KEY_ID',
        'PRESENTATION_KEY_ID',
        'PLATFORM_REGION',
      ],
      // The presentation key, never the platform key (review R7 M1).
      // The batch table: the security notice a passkey's change owes (a job of the SMS queue).
      me: [
        ...service,
        'TABLE_NAME',
        'AUDIT_TABLE_NAME',
        'LOOKUP_MAC_KEY_ID',
        'PRESENTATION_KEY_ID',
        'BATCH_TABLE_NAME',
      ],
      accounts: [
        ...service,
        'TABLE_NAME',
        'AUDIT_TABLE_NAME',
        'LOOKUP_MAC_KEY_ID',
        'PII_KEY_ID',
        'BATCH_TABLE_NAME',
      ],
      // The only function that texts SMS codes (shared/identity/sms-jobs.ts).
      // The audit table: a security notice's entry, sent or failed.
      'sms-codes': [
        ...service,
        'TABLE_NAME',
        'AUDIT_TABLE_NAME',
        'BATCH_TABLE_NAME',
        'LOOKUP_MAC_KEY_ID',
        'PII_KEY_ID',
        'SMS_SENDER',
      ],
      web: [...service, 'WEB_ASSETS_DIR'],
      wallet: [...service, 'TABLE_NAME', 'WEB_KEY_ID'],
      'demo-platform': [...service, 'WEB_KEY_ID'],
      console: [...service, 'TABLE_NAME', 'AUDIT_TABLE_NAME', 'WEB_KEY_ID'],
      supervision: [...service, 'TABLE_NAME'],
      'supervision-events': [...service, 'TABLE_NAME', 'ALERT_PUBLISHER', 'ALERT_TOPIC_ARN'],
      audit: [...service, 'TABLE_NAME', 'AUDIT_TABLE_NAME', 'AUDIT_KEY_ID', 'CURSOR_KEY_ID'],
      peers: [...service, 'TABLE_NAME', 'PLATFORM_REGION'],
      // Withdrawal notices: signed with the notice key (off every route), never the platform key (R31 L1).
      notices: [...service, 'TABLE_NAME', 'NOTICE_KEY_ID'],
      // The batch table: the security notices the pointers owe. The lookup key: the pairwise subject of
      // a platform told of a withdrawal, by a reset's owed clean-up.
      'pending-work-reconciler': [
        ...service,
        'TABLE_NAME',
        'AUDIT_TABLE_NAME',
        'BATCH_TABLE_NAME',
        'LOOKUP_MAC_KEY_ID',
      ],
      // The daily audit check: the audit table and the audit keys (public keys only, below).
      'audit-check': [...service, 'AUDIT_TABLE_NAME', 'AUDIT_KEY_ID'],
    };
    /** scrypt (32 MiB, CPU-bound) runs in oidc (logins) and accounts (registration): memory buys CPU. */
    const memorySize = (name: FunctionName) =>
      name === 'oidc' || name === 'accounts' || name === 'batches' || name === 'audit-check' ? 1024 : 512;

    it('has one function per entry of functionNames', () => {
      template.resourceCountIs('AWS::Lambda::Function', functionNames.length);
    });

    it.each(functionNames)(
      '%s: nodejs22.x on arm64, traced, own log group, its environment exactly',
      (name) => {
        template.hasResourceProperties('AWS::Lambda::Function', {
          FunctionName: Match.absent(),
          Handler: 'index.handler',
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          MemorySize: memorySize(name),
          Role: { 'Fn::GetAtt': [roleId(name), 'Arn'] },
          LoggingConfig: { LogGroup: { Ref: logicalId(stack.functions[name].logGroup) } },
          Description: Match.stringLikeRegexp('^elicence '),
        });
        expect(template.toJSON().Resources[functionId(name)].Properties.Role).toEqual({
          'Fn::GetAtt': [roleId(name), 'Arn'],
        });
        const environment = environmentOf(name);
        expect(Object.keys(environment).sort()).toEqual(
          [...runtimeSettings, ...expectedEnvironment[name]].sort(),
        );
        expect(environment).toMatchObject({
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'elicence',
        });
        template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
      },
    );

    it('gives the API endpoint as ISSUER_URL and keys by ARN', () => {
      const endpoint = { 'Fn::GetAtt': [logicalId(stack.http.api), 'ApiEndpoint'] };
      const arnOf = (key: Parameters<typeof logicalId>[0]) => ({ 'Fn::GetAtt': [logicalId(key), 'Arn'] });
      expect(environmentOf('oidc')).toMatchObject({
        ISSUER_URL: endpoint,
        TABLE_NAME: { Ref: logicalId(stack.data.table) },
        AUDIT_TABLE_NAME: { Ref: logicalId(stack.auditTrail.table) },
        PLATFORM_KEY_ID: arnOf(stack.keys.platform),
        LOOKUP_MAC_KEY_ID: arnOf(stack.keys.lookupMac),
        PII_KEY_ID: arnOf(stack.keys.pii),
      });
      expect(environmentOf('accounts')).toMatchObject({
        ISSUER_URL: endpoint,
        LOOKUP_MAC_KEY_ID: arnOf(stack.keys.lookupMac),
        PII_KEY_ID: arnOf(stack.keys.pii),
      });
      expect(environmentOf('verify')).toMatchObject({
        ISSUER_URL: endpoint,
        PLATFORM_KEY_ID: arnOf(stack.keys.platform),
      });
      for (const name of functionNames.filter((n) => n !== 'health' && n !== 'catalogue')) {
        expect(environmentOf(name).ISSUER_URL, name).toEqual(endpoint);
      }
    });

    it.each(functionNames)('%s: alarms on errors and throttles', (name) => {
      for (const metric of ['Errors', 'Throttles']) {
        alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(name) } }],
        });
      }
    });

    it('counts and alarms on throttled KMS calls of the functions that call KMS', () => {
      const callKms = [
        'oidc',
        'admin',
        'licences',
        'list-signer',
        'trust-list',
        'verify',
        'me',
        'accounts',
        'wallet',
        'demo-platform',
        'console',
        'audit',
        'batches',
        'sms-codes',
        'notices',
        'audit-check',
        'pending-work-reconciler',
      ] as const;
      for (const name of callKms) {
        alarmTemplate.hasResourceProperties('AWS::Logs::MetricFilter', {
          LogGroupName: { Ref: logicalId(stack.functions[name].logGroup) },
          // Both shapes the code logs an error in (test/unit/infra/throttle-filter.test.ts).
          FilterPattern: '{ ($.error.name = "ThrottlingException") || ($.error = "ThrottlingException*") }',
        });
        alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: `Elicence/${name}`,
          MetricName: 'ThrottlingExceptions',
        });
      }
      // And the on-call's (below): the audit check's two, the daily checkpoint signed, abandoned notices,
      // stale peers, 5xx by route.
      const operations = 6;
      // And the SMS senders' texts not sent (test/cdk/sms-provider.test.ts).
      const smsSenders = functionNames.filter((name) => functionGrants[name].sms).length;
      // And the SMS code checks refused by their daily ceiling, in the two functions that check codes.
      const smsCodeCheckers = 2;
      // And two peers' issuers colliding, in the two functions that save peers (admin, peers).
      const peerSavers = 2;
      // And a counter clerk at the day's cap, in the function that serves the counter (accounts).
      const counterClerkCap = 1;
      // And our trust list past what a peer reads, in the function that signs it (list-signer, R40 L1).
      const trustListOverPeerLimit = 1;
      alarmTemplate.resourceCountIs(
        'AWS::Logs::MetricFilter',
        callKms.length +
          writeAfterChanges.length +
          operations +
          smsSenders +
          smsCodeCheckers +
          peerSavers +
          counterClerkCap +
          trustListOverPeerLimit,
      );
    });

    // The functions that write audit entries, or finish changes' pending work (the reconciler: licences',
    // and withdrawals' saved audit entries), and sms-codes (a security notice's entry, sent or failed).
    const writeAfterChanges = [
      'oidc',
      'admin',
      'licences',
      'verify',
      'me',
      'accounts',
      'batches',
      'pending-work-reconciler',
      'console',
      'sms-codes',
    ] as const;

    it('alarms when our own issuers make the trust list too large for a peer to read (R40 L1)', () => {
      alarmTemplate.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: logicalId(stack.functions['list-signer'].logGroup) },
        FilterPattern: `{ $.message = "${trustListOverPeerLimitLine}" }`,
      });
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'TrustListOverPeerLimit',
        Namespace: 'Elicence/list-signer',
        Threshold: 1,
      });
    });

    it('counts and alarms on audit entries and status lists not written after a change', () => {
      for (const name of writeAfterChanges) {
        alarmTemplate.hasResourceProperties('AWS::Logs::MetricFilter', {
          LogGroupName: { Ref: logicalId(stack.functions[name].logGroup) },
          // The lines of test/unit/infra/unfinished-writes-filter.test.ts.
          FilterPattern:
            '{ ($.message = "audit entry not written*") || ($.message = "status list not updated") || ($.message = "pending work not completed") }',
          MetricTransformations: [
            Match.objectLike({ MetricNamespace: `Elicence/${name}`, MetricName: 'UnfinishedWrites' }),
          ],
        });
        alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: `Elicence/${name}`,
          MetricName: 'UnfinishedWrites',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        });
      }
    });

    it('runs the reconciler of pending work every minute from an EventBridge rule, and nothing else may', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: liveArnOf(logicalId(stack.functions['pending-work-reconciler'].function)),
          }),
        ],
      });
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) =>
        JSON.stringify((p as { Properties: Json }).Properties.FunctionName).includes(
          logicalId(stack.functions['pending-work-reconciler'].function),
        ),
      ) as Array<{ Properties: Json }>;
      expect(permissions).toHaveLength(1);
      expect(permissions[0]!.Properties).toMatchObject({
        Principal: 'events.amazonaws.com',
        FunctionName: liveArnOf(logicalId(stack.functions['pending-work-reconciler'].function)),
        SourceArn: { 'Fn::GetAtt': [logicalId(stack.pendingWorkReconciler), 'Arn'] },
      });
    });
  });

  describe('permissions', () => {
    const platformKeyArn = () => ({ 'Fn::GetAtt': [logicalId(stack.keys.platform), 'Arn'] });
    const platformRsaKeyArn = () => ({ 'Fn::GetAtt': [logicalId(stack.keys.platformRsa), 'Arn'] });
    const presentationKeyArn = () => ({ 'Fn::GetAtt': [logicalId(stack.keys.presentation), 'Arn'] });
    const noticeKeyArn = () => ({ 'Fn::GetAtt': [logicalId(stack.keys.notice), 'Arn'] });
    const piiKeyArn = () => ({ 'Fn::GetAtt': [logicalId(stack.keys.pii), 'Arn'] });
    const grants = (name: FunctionName, action: string) =>
      roleStatements(name).filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action));
    /** The partition-key patterns (`dynamodb:LeadingKeys`) `name` is granted `action` on. */
    const leading = (name: FunctionName, action: string) =>
      grants(name, action).flatMap(
        (st) =>
          (
            st.Condition as { 'ForAllValues:StringLike'?: { 'dynamodb:LeadingKeys'?: string[] } } | undefined
          )?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? [],
      );
    /** The ID-number and phone encryption contexts, as the code builds them, as IAM conditions. */
    const batchItemsCondition = () => ({
      StringEquals: { 'kms:EncryptionContext:purpose': 'batch-items' },
      Null: { 'kms:EncryptionContext:batch': 'false', 'kms:EncryptionContext:chunk': 'false' },
    });
    const smsJobCondition = () => ({
      StringEquals: { 'kms:EncryptionContext:purpose': 'sms-job' },
      Null: { 'kms:EncryptionContext:job': 'false' },
    });
    const idNumberContext = () => ({
      StringEquals: {
        'kms:EncryptionContext:purpose': [
          idNumberEncryptionContext('acc_x').purpose,
          phoneEncryptionContext('acc_x').purpose,
        ],
      },
      Null: { 'kms:EncryptionContext:account': 'false' },
    });

    /** A key's name in the expectations below, from a statement's resource. */
    /** The key a statement names, and for the PII key which of its uses the condition allows. */
    function keyName(resource: unknown, condition?: unknown): string {
      if (JSON.stringify(condition) === JSON.stringify(batchItemsCondition())) return 'batchItems';
      if (JSON.stringify(condition) === JSON.stringify(smsJobCondition())) return 'smsJobs';
      const named: Array<[string, { node: { defaultChild?: unknown } }]> = [
        ['platform', stack.keys.platform],
        ['platformRsa', stack.keys.platformRsa],
        ['audit', stack.keys.audit],
        ['presentation', stack.keys.presentation],
        ['notice', stack.keys.notice],
        ['lookupMac', stack.keys.lookupMac],
        ['web', stack.keys.web],
        ['interaction', stack.keys.interaction],
        ['clientSecret', stack.keys.clientSecret],
        ['cursor', stack.keys.cursor],
        ['pii', stack.keys.pii],
        ['table', stack.keys.table],
        ['auditTable', stack.keys.auditTable],
        ['alarm topic', stack.alarmNotifications.key],
        ['alerts topic', stack.alertNotifications.key],
        ['sms queue', stack.smsQueue.queue.encryptionMasterKey as { node: { defaultChild?: unknown } }],
      ];
      for (const [name, key] of named) {
        if (JSON.stringify(resource) === JSON.stringify({ 'Fn::GetAtt': [logicalId(key), 'Arn'] }))
          return name;
      }
      const text = render(resource);
      if (text.endsWith(':key/*')) return 'issuer keys';
      if (text.endsWith(':alias/elicence/issuer/*')) return 'issuer aliases';
      return text;
    }

    /**
     * Every KMS action a function's role may take, as `<action> <key>`, apart from the two table keys
     * (which DynamoDB uses on the caller's behalf; see "reaches the table key through DynamoDB only").
     */
    function kmsPermissions(name: FunctionName): string[] {
      return roleStatements(name)
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) =>
          actionsOf(s)
            .filter((action) => action.startsWith('kms:'))
            .flatMap((action) =>
              [s.Resource].flat().map((resource) => `${action} ${keyName(resource, s.Condition)}`),
            ),
        )
        .filter((permission) => !permission.endsWith(' table') && !permission.endsWith(' auditTable'))
        .sort();
    }

    /** The functions a key policy lets take `action`, by role; fails on any other principal but the account. */
    function keyUsers(key: { node: { defaultChild?: unknown } }): Record<string, FunctionName[]> {
      const statements = template.toJSON().Resources[logicalId(key)].Properties.KeyPolicy
        .Statement as Statement[];
      const byRole = new Map(functionNames.map((name) => [roleId(name), name]));
      const users: Record<string, FunctionName[]> = {};
      for (const statement of statements) {
        // The Deny of KeyDeletionGuard names every function role (test/cdk/guards.test.ts): no use.
        if (statement.Effect === 'Deny' && statement.Sid === 'FunctionsNeverDestroyThisKey') continue;
        const principal = (statement.Principal as { AWS: unknown }).AWS;
        const getAtt = (principal as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'];
        if (!getAtt) {
          expect(render(principal)).toBe('arn:${AWS::Partition}:iam::${AWS::AccountId}:root');
          continue;
        }
        const user = byRole.get(getAtt[0]!);
        expect(user, JSON.stringify(principal)).toBeDefined();
        for (const action of actionsOf(statement)) (users[action] ??= []).push(user!);
      }
      for (const action of Object.keys(users)) users[action]!.sort();
      return users;
    }

    it('gives each function exactly the KMS permissions its code uses', () => {
      const issuerSigning = ['kms:GetPublicKey issuer keys', 'kms:Sign issuer keys'];
      const expected: Record<FunctionName, string[]> = {
        health: [],
        catalogue: [],
        oidc: [
          'kms:Decrypt pii',
          // An SMS job's phone and ID number sealed, only under the sms-job context.
          'kms:GenerateDataKey smsJobs',
          'kms:GenerateMac clientSecret',
          'kms:GenerateMac interaction',
          'kms:GenerateMac lookupMac',
          'kms:GenerateMac web',
          'kms:GetPublicKey platform',
          'kms:GetPublicKey platformRsa',
          'kms:Sign platform',
          'kms:Sign platformRsa',
        ],
        admin: [
          'kms:CreateAlias issuer aliases',
          'kms:CreateAlias issuer keys',
          'kms:CreateKey *',
          'kms:GenerateMac clientSecret',
          'kms:GenerateMac cursor',
          'kms:GetPublicKey issuer keys',
          'kms:ScheduleKeyDeletion issuer keys',
          'kms:TagResource issuer keys',
        ],
        // A data key of the PII key per chunk of a batch's items, only under the batch-items context.
        licences: ['kms:GenerateDataKey batchItems', 'kms:GenerateMac lookupMac', ...issuerSigning],
        // One batch-key certificate per batch key with the issuer's key (docs/batch-issuance.md); the
        // chunks' data keys opened, only under the batch-items context.
        batches: ['kms:Decrypt batchItems', 'kms:GenerateMac lookupMac', ...issuerSigning],
        // Anonymous: they sign nothing; a stale list is signed by list-signer (review R7, M1). The trust
        // list reads the presentation keys' public keys, named in the list.
        'status-lists': [],
        // And the notice keys', published at /.well-known/notices-jwks.json (review R31 L1).
        'trust-list': [
          'kms:GetPublicKey notice',
          'kms:GetPublicKey platform',
          'kms:GetPublicKey presentation',
        ],
        'list-signer': [
          'kms:GetPublicKey issuer keys',
          'kms:GetPublicKey platform',
          'kms:GetPublicKey presentation',
          'kms:Sign issuer keys',
          'kms:Sign platform',
        ],
        verify: ['kms:GetPublicKey platform', 'kms:GetPublicKey presentation'],
        // Presentations and the holder's PDF signatures: the presentation key, never the platform key (R7 M1).
        me: ['kms:GenerateMac lookupMac', 'kms:GetPublicKey presentation', 'kms:Sign presentation'],
        accounts: ['kms:Encrypt pii', 'kms:GenerateDataKey smsJobs', 'kms:GenerateMac lookupMac'],
        // Opens a job's phone and ID number (sms-job context only), digests the phone, makes the code's MAC.
        // And the SMS queue's messages, under its own key (the event source mapping's receive).
        'sms-codes': ['kms:Decrypt sms queue', 'kms:Decrypt smsJobs', 'kms:GenerateMac lookupMac'],
        web: [],
        wallet: ['kms:GenerateMac web'],
        'demo-platform': ['kms:GenerateMac web'],
        console: ['kms:GenerateMac web'],
        supervision: [],
        // Publishing to the encrypted alerts topic encrypts with its key (never the alarm topic's).
        'supervision-events': ['kms:Decrypt alerts topic', 'kms:GenerateDataKey* alerts topic'],
        // Checkpoints: the audit key, never the platform key (docs/supervision.md, "Keys").
        audit: ['kms:GenerateMac cursor', 'kms:GetPublicKey audit', 'kms:Sign audit'],
        peers: [],
        // Withdrawal notices: the notice key, never the platform key, which signs ID tokens (review R31 L1).
        notices: ['kms:GetPublicKey notice', 'kms:Sign notice'],
        // Signs nothing: the pending work is entries and bits, never a credential. The lookup key's MAC:
        // the pairwise subject of a platform told of a withdrawal (a reset's owed clean-up).
        'pending-work-reconciler': ['kms:GenerateMac lookupMac'],
        // Verifies checkpoints: the audit keys' public keys, never Sign (a checker that could sign could
        // make a broken trail look intact).
        'audit-check': ['kms:GetPublicKey audit'],
      };
      for (const name of functionNames) expect(kmsPermissions(name), name).toEqual(expected[name]);
    });

    it('lets oidc and the list signer sign with the platform key; verify and the trust list only read it', () => {
      for (const name of ['oidc', 'list-signer'] as const) {
        // oidc also signs RS256 ID tokens with the RSA platform key (see the next test).
        const rsa = name === 'oidc' ? [platformRsaKeyArn()] : [];
        // The list signer also signs status lists with issuer keys (by tag, tested below), and reads the
        // presentation keys' public keys, named in the trust list it signs.
        const onServiceKeys = grants(name, 'kms:Sign').filter((s) => !render(s.Resource).endsWith(':key/*'));
        expect(onServiceKeys.map((s) => s.Resource)).toEqual([platformKeyArn(), ...rsa]);
        const presentation = name === 'list-signer' ? [presentationKeyArn()] : [];
        expect(
          grants(name, 'kms:GetPublicKey')
            .filter((s) => !render(s.Resource).endsWith(':key/*'))
            .map((s) => s.Resource),
        ).toEqual([platformKeyArn(), ...rsa, ...presentation]);
      }
      for (const name of ['verify', 'trust-list'] as const) {
        expect(grants(name, 'kms:GetPublicKey').map((s) => s.Resource)).toEqual([
          platformKeyArn(),
          presentationKeyArn(),
          // The trust-list function also serves the notices JWKS (review R31 L1).
          ...(name === 'trust-list' ? [noticeKeyArn()] : []),
        ]);
      }
      for (const name of ['verify', 'admin', 'accounts', 'trust-list'] as const) {
        expect(grants(name, 'kms:Sign'), name).toEqual([]);
      }
      for (const name of [
        'admin',
        'licences',
        'status-lists',
        'accounts',
        'audit',
        'me',
        'notices',
      ] as const) {
        expect(JSON.stringify(roleStatements(name)), name).not.toContain(logicalId(stack.keys.platform));
      }
    });

    it('lets the notices function sign with the notice key alone, never with the platform key (review R31 L1)', () => {
      const resource = template.toJSON().Resources[logicalId(stack.keys.notice)];
      expect(resource.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
      expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      // notices signs with it and nothing else; the notices JWKS's publisher reads its public key.
      expect(grants('notices', 'kms:Sign').map((s) => s.Resource)).toEqual([noticeKeyArn()]);
      for (const key of [stack.keys.platform, stack.keys.platformRsa, stack.keys.presentation]) {
        expect(JSON.stringify(roleStatements('notices'))).not.toContain(logicalId(key));
      }
      expect(keyUsers(stack.keys.notice)).toEqual({
        'kms:Sign': ['notices'],
        'kms:GetPublicKey': ['notices', 'trust-list'],
      });
      // Nor does the platform key name notices among its users.
      expect(keyUsers(stack.keys.platform)['kms:Sign']).not.toContain('notices');
      // The OpenID provider never holds it: its JWKS (jwks_uri) cannot carry it.
      expect(JSON.stringify(roleStatements('oidc'))).not.toContain(logicalId(stack.keys.notice));
      for (const statement of resource.Properties.KeyPolicy.Statement as Statement[]) {
        expect(actionsOf(statement)).not.toContain('kms:*');
        expect(actionsOf(statement)).not.toContain('kms:CreateGrant');
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-notice',
        TargetKeyId: noticeKeyArn(),
      });
      expect(environmentOf('notices').NOTICE_KEY_ID).toEqual(noticeKeyArn());
      expect(environmentOf('notices').PLATFORM_KEY_ID).toBeUndefined();
      expect(environmentOf('trust-list').NOTICE_KEY_ID).toEqual(noticeKeyArn());
      // In the key deletion guard, as every key of the stack.
      expect(
        (resource.Properties.KeyPolicy.Statement as Statement[]).some(
          (s) => s.Effect === 'Deny' && s.Sid === 'FunctionsNeverDestroyThisKey',
        ),
      ).toBe(true);
    });

    it('lets the holder API sign with the presentation key alone, never with the platform key (review R7 M1)', () => {
      const resource = template.toJSON().Resources[logicalId(stack.keys.presentation)];
      expect(resource.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
      expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      // me signs with it and nothing else; whoever publishes or verifies presentations reads it.
      expect(grants('me', 'kms:Sign').map((s) => s.Resource)).toEqual([presentationKeyArn()]);
      expect(JSON.stringify(roleStatements('me'))).not.toContain(logicalId(stack.keys.platform));
      expect(JSON.stringify(roleStatements('me'))).not.toContain(logicalId(stack.keys.platformRsa));
      expect(keyUsers(stack.keys.presentation)).toEqual({
        'kms:Sign': ['me'],
        'kms:GetPublicKey': ['list-signer', 'me', 'trust-list', 'verify'],
      });
      // The OpenID provider never holds it: its JWKS cannot carry it.
      expect(JSON.stringify(roleStatements('oidc'))).not.toContain(logicalId(stack.keys.presentation));
      for (const statement of resource.Properties.KeyPolicy.Statement as Statement[]) {
        expect(actionsOf(statement)).not.toContain('kms:*');
        expect(actionsOf(statement)).not.toContain('kms:CreateGrant');
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-presentation',
        TargetKeyId: presentationKeyArn(),
      });
      expect(environmentOf('me').PRESENTATION_KEY_ID).toEqual(presentationKeyArn());
      expect(environmentOf('me').PLATFORM_KEY_ID).toBeUndefined();
      expect(environmentOf('trust-list').PRESENTATION_KEY_ID).toEqual(presentationKeyArn());
      expect(environmentOf('verify').PRESENTATION_KEY_ID).toEqual(presentationKeyArn());
      // In the key deletion guard, as every key of the stack.
      const denied = template.toJSON().Resources[logicalId(stack.keys.presentation)].Properties.KeyPolicy
        .Statement as Statement[];
      expect(denied.some((s) => s.Effect === 'Deny' && s.Sid === 'FunctionsNeverDestroyThisKey')).toBe(true);
    });

    it('has an RSA_2048 platform key for RS256 ID tokens, used by the OpenID provider alone', () => {
      const key = template.toJSON().Resources[logicalId(stack.keys.platformRsa)].Properties;
      expect(key).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
      expect(keyUsers(stack.keys.platformRsa)).toEqual({
        'kms:Sign': ['oidc'],
        'kms:GetPublicKey': ['oidc'],
      });
      for (const statement of key.KeyPolicy.Statement as Statement[]) {
        expect(actionsOf(statement)).not.toContain('kms:*');
        expect(actionsOf(statement)).not.toContain('kms:CreateGrant');
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-platform-rsa',
        TargetKeyId: platformRsaKeyArn(),
      });
    });

    it('has an ES256 audit key for checkpoints, used by the audit function alone (the check reads its public key), retained', () => {
      const auditKeyArn = { 'Fn::GetAtt': [logicalId(stack.keys.audit), 'Arn'] };
      const resource = template.toJSON().Resources[logicalId(stack.keys.audit)];
      expect(resource.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
      expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(keyUsers(stack.keys.audit)).toEqual({
        'kms:Sign': ['audit'],
        'kms:GetPublicKey': ['audit', 'audit-check'],
      });
      expect(grants('audit', 'kms:Sign').map((s) => s.Resource)).toEqual([auditKeyArn]);
      for (const name of functionNames.filter((n) => n !== 'audit' && n !== 'audit-check')) {
        expect(JSON.stringify(roleStatements(name)), name).not.toContain(logicalId(stack.keys.audit));
      }
      for (const statement of resource.Properties.KeyPolicy.Statement as Statement[]) {
        expect(actionsOf(statement)).not.toContain('kms:*');
        expect(actionsOf(statement)).not.toContain('kms:CreateGrant');
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-audit',
        TargetKeyId: auditKeyArn,
      });
      expect(environmentOf('audit').AUDIT_KEY_ID).toEqual(auditKeyArn);
    });

    it('lets no function behind a route sign with any key, but for ID tokens, presentations, issuance and checkpoints', () => {
      // Review R7, M1: whoever compromises a function behind a route can sign what its role may sign. Only
      // these sign on a route: oidc (ID tokens), me (presentations), licences (issuance, by the issuer's
      // key) and audit (on-demand checkpoints for supervisors, by the audit key alone, tested above).
      const signingOnRoutes = new Set(['oidc', 'me', 'licences', 'audit']);
      const onRoutes = functionNames.filter((name) => routes.some((route) => route.function === name));
      const signers = onRoutes.filter((name) =>
        roleStatements(name).some(
          (s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a === 'kms:Sign' || a === 'kms:*'),
        ),
      );
      expect(signers.filter((name) => !signingOnRoutes.has(name))).toEqual([]);
      // Nor through a key policy naming a role.
      for (const key of [
        stack.keys.platform,
        stack.keys.platformRsa,
        stack.keys.audit,
        stack.keys.presentation,
      ]) {
        const users = keyUsers(key)['kms:Sign'] ?? [];
        expect(users.filter((name) => onRoutes.includes(name) && !signingOnRoutes.has(name))).toEqual([]);
      }
      // The lists are signed off the public path, by a function with no route.
      expect(onRoutes).not.toContain('list-signer');
    });

    it('lets only the two list functions invoke the list signer, and nothing else be invoked by a function', () => {
      // Its live alias alone: neither $LATEST nor `:*` (the local guard refuses the same: test/security/18).
      const signerArn = liveArnOf(functionId('list-signer'));
      for (const name of functionNames) {
        const invokes = roleStatements(name).filter(
          (s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a.startsWith('lambda:')),
        );
        if (name === 'trust-list' || name === 'status-lists') {
          expect(
            invokes.map((s) => [actionsOf(s), s.Resource]),
            name,
          ).toEqual([[['lambda:InvokeFunction'], signerArn]]);
          expect(environmentOf(name).LIST_SIGNER_FUNCTION, name).toEqual(
            liveNameOf(functionId('list-signer')),
          );
        } else {
          expect(invokes, name).toEqual([]);
          expect(environmentOf(name).LIST_SIGNER_FUNCTION, name).toBeUndefined();
        }
      }
      // No resource policy opens it to anyone else (a service, another account).
      const permissions = template.findResources('AWS::Lambda::Permission');
      for (const permission of Object.values(permissions)) {
        expect(JSON.stringify(permission), 'a Lambda permission on the list signer').not.toContain(
          functionId('list-signer'),
        );
      }
      for (const permission of Object.values(live.nested.findResources('AWS::Lambda::Permission'))) {
        expect(JSON.stringify(permission), 'a Lambda permission on the list signer’s alias').not.toContain(
          live.aliasId('list-signer'),
        );
      }
    });

    it('lets the holder API sign with the presentation key when, and only when, it offers presentations', () => {
      // POST /me/licences/{id}/presentations signs with the presentation key (shared/licence/presentation.ts).
      const presents = routes.some(
        (route) => route.function === 'me' && route.path.endsWith('/presentations'),
      );
      expect(grants('me', 'kms:Sign').length > 0).toBe(presents);
    });

    it('names the platform key users in its key policy, and the account may administer it only', () => {
      const key = template.toJSON().Resources[logicalId(stack.keys.platform)].Properties;
      expect(key).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
      expect(keyUsers(stack.keys.platform)).toEqual({
        // Not the notices function: withdrawal notices have a key of their own (review R31 L1).
        'kms:Sign': ['list-signer', 'oidc'],
        'kms:GetPublicKey': ['list-signer', 'oidc', 'trust-list', 'verify'],
      });
      for (const statement of key.KeyPolicy.Statement as Statement[]) {
        expect(actionsOf(statement)).not.toContain('kms:*');
        expect(actionsOf(statement)).not.toContain('kms:CreateGrant');
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-platform',
        TargetKeyId: platformKeyArn(),
      });
    });

    it('gives the page functions the web key only: they cannot derive any other client’s secret', () => {
      const key = template.toJSON().Resources[logicalId(stack.keys.web)].Properties;
      expect(key).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      const webArn = { 'Fn::GetAtt': [logicalId(stack.keys.web), 'Arn'] };
      const users = ['console', 'demo-platform', 'oidc', 'wallet'] as const;
      for (const name of users) {
        expect(grants(name, 'kms:GenerateMac').map((s) => s.Resource)).toContainEqual(webArn);
      }
      expect(keyUsers(stack.keys.web)).toEqual({ 'kms:GenerateMac': [...users] });
      for (const name of ['console', 'demo-platform', 'wallet', 'web'] as const) {
        expect(
          kmsPermissions(name).filter((p) => p.includes('lookupMac')),
          name,
        ).toEqual([]);
      }
    });

    it('lets the functions that derive lookup keys or client secrets compute MACs with the lookup key', () => {
      const key = template.toJSON().Resources[logicalId(stack.keys.lookupMac)].Properties;
      expect(key).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      const macArn = { 'Fn::GetAtt': [logicalId(stack.keys.lookupMac), 'Arn'] };
      // `sms-codes`: the phone's digest (the carrier registry, a reset's proven phone) and the code's MAC.
      // The reconciler: a platform's pairwise subject, told of a withdrawal by a reset's owed clean-up.
      const users = [
        'accounts',
        'batches',
        'licences',
        'me',
        'oidc',
        'pending-work-reconciler',
        'sms-codes',
      ] as const;
      for (const name of users) {
        expect(grants(name, 'kms:GenerateMac').map((s) => s.Resource)).toContainEqual(macArn);
      }
      expect(keyUsers(stack.keys.lookupMac)).toEqual({ 'kms:GenerateMac': [...users] });
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-lookup-mac',
        TargetKeyId: macArn,
      });
    });

    it('gives the client-secret key to oidc and admin alone: no holder of the lookup key computes a client’s secret', () => {
      const key = template.toJSON().Resources[logicalId(stack.keys.clientSecret)] as {
        DeletionPolicy: string;
        Properties: Json & { KeyPolicy: { Statement: Statement[] } };
      };
      expect(key.DeletionPolicy).toBe('Retain');
      expect(key.Properties).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      const secretArn = { 'Fn::GetAtt': [logicalId(stack.keys.clientSecret), 'Arn'] };
      expect(keyUsers(stack.keys.clientSecret)).toEqual({ 'kms:GenerateMac': ['admin', 'oidc'] });
      for (const name of ['admin', 'oidc'] as const) {
        expect(grants(name, 'kms:GenerateMac').map((s) => s.Resource)).toContainEqual(secretArn);
        expect(environmentOf(name)).toMatchObject({ CLIENT_SECRET_KEY_ID: secretArn });
      }
      for (const name of functionNames.filter((n) => n !== 'oidc' && n !== 'admin')) {
        expect(
          kmsPermissions(name).filter((p) => p.includes('clientSecret')),
          name,
        ).toEqual([]);
        expect(environmentOf(name), name).not.toHaveProperty('CLIENT_SECRET_KEY_ID');
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-client-secret',
        TargetKeyId: secretArn,
      });
    });

    // The interaction key's derivations: the sealed sign-ins, the provider's cookie keys, the code hints,
    // the scan-to-login cookie's MAC, and the DPoP nonces' secret (whoever holds it computes the token
    // endpoint's nonces of minutes to come: shared/sso/derived-secrets.ts, `dpopNonceSecret`).
    it('gives the interaction key to oidc alone: no other holder of the lookup key can seal a sign-in or mint a DPoP nonce', () => {
      const key = template.toJSON().Resources[logicalId(stack.keys.interaction)] as {
        DeletionPolicy: string;
        Properties: Json & { KeyPolicy: { Statement: Statement[] } };
      };
      expect(key.DeletionPolicy).toBe('Retain');
      expect(key.Properties).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      const interactionArn = { 'Fn::GetAtt': [logicalId(stack.keys.interaction), 'Arn'] };
      expect(keyUsers(stack.keys.interaction)).toEqual({ 'kms:GenerateMac': ['oidc'] });
      expect(grants('oidc', 'kms:GenerateMac').map((s) => s.Resource)).toContainEqual(interactionArn);
      for (const name of functionNames.filter((n) => n !== 'oidc')) {
        expect(
          kmsPermissions(name).filter((p) => p.includes('interaction')),
          name,
        ).toEqual([]);
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-interaction-mac',
        TargetKeyId: interactionArn,
      });
    });

    it('gives the cursor key to the trail listings alone (audit, admin), GenerateMac only (R14 L2)', () => {
      const key = template.toJSON().Resources[logicalId(stack.keys.cursor)] as {
        DeletionPolicy: string;
        Properties: Json & { KeyPolicy: { Statement: Statement[] } };
      };
      expect(key.DeletionPolicy).toBe('Retain');
      expect(key.Properties).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      expect(key.Properties).not.toHaveProperty('MultiRegion');
      const cursorArn = { 'Fn::GetAtt': [logicalId(stack.keys.cursor), 'Arn'] };
      expect(keyUsers(stack.keys.cursor)).toEqual({ 'kms:GenerateMac': ['admin', 'audit'] });
      for (const name of ['admin', 'audit'] as const) {
        expect(kmsPermissions(name).filter((p) => p.includes('cursor'))).toEqual(['kms:GenerateMac cursor']);
        expect(grants(name, 'kms:GenerateMac').map((s) => s.Resource)).toContainEqual(cursorArn);
        expect(environmentOf(name)).toHaveProperty('CURSOR_KEY_ID');
      }
      for (const name of functionNames.filter((n) => n !== 'admin' && n !== 'audit')) {
        expect(
          kmsPermissions(name).filter((p) => p.includes('cursor')),
          name,
        ).toEqual([]);
        expect(environmentOf(name), name).not.toHaveProperty('CURSOR_KEY_ID');
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-cursor-mac',
        TargetKeyId: cursorArn,
      });
    });

    it('has a rotated symmetric PII key: accounts encrypt ID numbers, only oidc decrypts them; batches seal apart', () => {
      const key = template.toJSON().Resources[logicalId(stack.keys.pii)] as {
        DeletionPolicy: string;
        Properties: Json & { KeyPolicy: { Statement: Statement[] } };
      };
      expect(key.DeletionPolicy).toBe('Retain');
      expect(key.Properties).toMatchObject({
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        EnableKeyRotation: true,
        RotationPeriodInDays: 365,
      });
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-pii',
        TargetKeyId: piiKeyArn(),
      });

      // The key policy names the roles, each for its one direction: ID numbers of accounts under the
      // ID-number context; a batch's items (data keys) under the batch-items context, never the other's.
      expect(keyUsers(stack.keys.pii)).toEqual({
        'kms:Encrypt': ['accounts'],
        'kms:Decrypt': ['batches', 'oidc', 'sms-codes'],
        'kms:GenerateDataKey': ['accounts', 'licences', 'oidc'],
      });
      const batchItemUsers = new Set([roleId('licences'), roleId('batches')]);
      // An SMS job's phone and ID number: sealed by the request functions, opened by `sms-codes` alone.
      const smsJobUsers = new Set([roleId('sms-codes')]);
      for (const statement of key.Properties.KeyPolicy.Statement) {
        const actions = actionsOf(statement);
        expect(actions).not.toContain('kms:*');
        expect(actions).not.toContain('kms:CreateGrant');
        const role = ((statement.Principal as { AWS: { 'Fn::GetAtt'?: string[] } }).AWS['Fn::GetAtt'] ??
          [])[0];
        if (
          actions.includes('kms:Encrypt') ||
          actions.includes('kms:Decrypt') ||
          actions.includes('kms:GenerateDataKey')
        ) {
          expect(statement.Condition).toEqual(
            batchItemUsers.has(role!)
              ? batchItemsCondition()
              : smsJobUsers.has(role!) || actions.includes('kms:GenerateDataKey')
                ? smsJobCondition()
                : idNumberContext(),
          );
        }
        for (const action of actions)
          expect(action).not.toMatch(/^kms:(ReEncrypt|GenerateDataKey\*|GenerateDataKeyWithoutPlaintext)/);
      }

      // The roles' own policies say the same (the table keys aside, which only DynamoDB may use).
      const direct = (name: FunctionName, action: string) =>
        grants(name, action).filter((st) => !['table', 'auditTable'].includes(keyName(st.Resource)));
      const underIdNumberContext = [
        expect.objectContaining({ Resource: piiKeyArn(), Condition: idNumberContext() }),
      ];
      expect(direct('accounts', 'kms:Encrypt')).toEqual(underIdNumberContext);
      expect(direct('accounts', 'kms:Decrypt')).toEqual([]);
      expect(direct('oidc', 'kms:Decrypt')).toEqual(underIdNumberContext);
      expect(direct('oidc', 'kms:Encrypt')).toEqual([]);
      const underBatchItemsContext = [
        expect.objectContaining({ Resource: piiKeyArn(), Condition: batchItemsCondition() }),
      ];
      expect(direct('licences', 'kms:GenerateDataKey')).toEqual(underBatchItemsContext);
      expect(direct('licences', 'kms:Decrypt')).toEqual([]);
      expect(direct('batches', 'kms:Decrypt')).toEqual(underBatchItemsContext);
      expect(direct('batches', 'kms:GenerateDataKey')).toEqual([]);
      const underSmsJobContext = [
        expect.objectContaining({ Resource: piiKeyArn(), Condition: smsJobCondition() }),
      ];
      for (const name of ['accounts', 'oidc'] as const)
        expect(direct(name, 'kms:GenerateDataKey'), name).toEqual(underSmsJobContext);
      expect(direct('sms-codes', 'kms:Decrypt').filter((st) => keyName(st.Resource) === 'pii')).toEqual(
        underSmsJobContext,
      );
      expect(direct('sms-codes', 'kms:GenerateDataKey')).toEqual([]);
      const piiUsers = ['accounts', 'oidc', 'licences', 'batches', 'sms-codes'];
      for (const name of functionNames.filter((n) => !piiUsers.includes(n))) {
        expect(JSON.stringify(roleStatements(name)), name).not.toContain(logicalId(stack.keys.pii));
      }
    });

    it('gives health and catalogue nothing but their own logs and traces', () => {
      for (const name of ['health', 'catalogue'] as const) {
        const actions = roleStatements(name).flatMap(actionsOf);
        expect(actions.sort()).toEqual(
          [
            'logs:CreateLogStream',
            'logs:PutLogEvents',
            'xray:PutTelemetryRecords',
            'xray:PutTraceSegments',
          ].sort(),
        );
      }
    });

    it('narrows table access to what each function does', () => {
      const tableArn = { 'Fn::GetAtt': [logicalId(stack.data.table), 'Arn'] };
      const itemActions = (name: FunctionName) =>
        roleStatements(name)
          .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(tableArn))
          .flatMap(actionsOf)
          .sort();
      const queried = (name: FunctionName) =>
        grants(name, 'dynamodb:Query')
          .flatMap((s) => [s.Resource].flat().map(render))
          .filter((resource) => resource.startsWith(`\${${logicalId(stack.data.table)}.Arn}/index/`))
          .sort();
      const index = (name: string) => `\${${logicalId(stack.data.table)}.Arn}/index/${name}`;

      const [get, put, update, del, batchWrite, batchGet] = [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:BatchGetItem',
      ];
      const expected: Record<FunctionName, { items: string[]; queries: string[] }> = {
        health: { items: [], queries: [] },
        catalogue: { items: [], queries: [] },
        // The code exchange reads the code's session and grant as one BatchGetItem.
        oidc: { items: [get, batchGet, put, update, del, batchWrite], queries: ['gsi1', 'gsi2'] },
        // A client's members changed alone (its events endpoint, its secret's markers): update.
        // Every function that accepts bearer tokens reads a session-bound token's session and grant (and
        // its client, when not kept) as one BatchGetItem.
        admin: { items: [get, batchGet, put, update, del], queries: ['gsi1', 'gsi2'] },
        // A change's pending work: its pointer removed (conditional delete).
        licences: { items: [get, batchGet, put, update, del], queries: ['gsi1', 'gsi2'] },
        // Bulk issuance jobs: as POST /licences, plus the job and its chunks, and the issuer's batch keys.
        batches: { items: [get, put, update, del], queries: ['gsi1'] },
        // The public list functions only read; the list signer stores what it signs.
        'status-lists': { items: [get], queries: ['gsi1'] },
        'trust-list': { items: [get], queries: ['gsi1', 'gsi2'] },
        'list-signer': { items: [get, put, update], queries: ['gsi1', 'gsi2'] },
        // Reads issued together go as one BatchGetItem; it writes here only the mark of a DPoP proof it
        // accepted (its audit entries go to the audit table, below).
        verify: { items: [get, batchGet, put], queries: ['gsi1'] },
        // Sharing (授权用证): lists a person's grants (gsi2), withdraws one with its tokens (one delete
        // each, never BatchWriteItem, whose puts IAM cannot tell from its deletes: R31 H1);
        // the withdrawal's audit entry saved as pending work, claimed (update) and removed once written.
        // A passkey enrolled over the account as it was checked: a condition check of the account item,
        // in the enrolment's transaction (review R44 F2).
        me: {
          items: [get, batchGet, 'dynamodb:ConditionCheckItem', put, update, del],
          queries: ['gsi1', 'gsi2'],
        },
        // Registration by SMS code: pending codes (get, delete; a try on its own counter: update) and the
        // send limits; closing
        // an account ends its sign-ins (one delete each, never BatchWriteItem: R31 H1).
        accounts: { items: [get, batchGet, put, update, del], queries: ['gsi1', 'gsi2'] },
        // The registries and a reset's account (get), the code stored once sent (put), in a transaction
        // with a check of the last used code's request time (condition check).
        // And a security notice counted on its account's day, given back when not sent (update, delete).
        'sms-codes': {
          items: ['dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', get, put, 'dynamodb:UpdateItem'],
          queries: [],
        },
        web: { items: [], queries: [] },
        // Scan-to-login: its session's token and account (level 3), the code (get, conditional update).
        wallet: { items: [get, batchGet, update], queries: ['gsi1'] },
        'demo-platform': { items: [], queries: [] },
        console: { items: [get, put, del], queries: [] },
        // 电子监察: reads counters and alerts; the stream consumer adds to counters and creates alerts,
        // and reads a licence a failed scan claims to be (only one on record counts).
        // (and every function that authenticates access tokens: the mark of a DPoP proof, put once)
        supervision: { items: [get, batchGet, put], queries: ['gsi1'] },
        'supervision-events': { items: [get, put, update], queries: ['gsi1'] },
        // Supervision: its access token; the audit trail is in the audit table (below).
        audit: { items: [get, batchGet, put], queries: [] },
        // Peer platforms (docs/peers.md): the peers' items (get, versioned put) and our issuers (gsi2).
        peers: { items: [get, put], queries: ['gsi2'] },
        // Withdrawal notices: the platform's metadata (get), a notice delivered (delete) or moved on.
        notices: { items: [get, put, del], queries: [] },
        // The pointers (a query of their partitions, below), the licences and their status lists, and
        // the withdrawals' audit entries the pointers carry. A reset's owed clean-up: the account, its
        // passkeys (gsi1), its sessions and grants (gsi2).
        'pending-work-reconciler': { items: [get, put, update, del], queries: ['gsi1', 'gsi2'] },
        'audit-check': { items: [], queries: [] },
      };
      for (const name of functionNames) {
        expect(
          itemActions(name).filter((action) => action !== 'dynamodb:Query'),
          name,
        ).toEqual([...expected[name].items].sort());
        expect(queried(name), name).toEqual(expected[name].queries.map(index));
        const all = roleStatements(name).flatMap(actionsOf);
        expect(
          all.filter(
            (a) =>
              a.startsWith('dynamodb:') &&
              (/Scan|Transact|\*/.test(a) || (a === batchGet && !expected[name].items.includes(batchGet))),
          ),
          name,
        ).toEqual([]);
        // Query on the base table only on the partitions granted (LeadingKeys): audit's, and the peers'.
        const peerReaders: readonly FunctionName[] = [
          'admin',
          'trust-list',
          'verify',
          'peers',
          'status-lists',
          'list-signer',
        ];
        expect(
          grants(name, 'dynamodb:Query')
            .filter((st) => JSON.stringify(st.Resource) === JSON.stringify(tableArn))
            .map((st) => st.Condition),
          name,
        ).toEqual(
          peerReaders.includes(name)
            ? [{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['peers'] } }]
            : // The notices function reads its queue's partition, no other.
              name === 'notices'
              ? [{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['notices'] } }]
              : name === 'pending-work-reconciler'
                ? [
                    {
                      'ForAllValues:StringLike': {
                        'dynamodb:LeadingKeys': [
                          'pending-work#*',
                          'pending-audit#*',
                          'pending-issuer-audit#*',
                          'pending-account-audit#*',
                          'pending-provider-audit#*',
                        ],
                      },
                    },
                  ]
                : // `me` finds a grant's saved withdrawals on a retry, in their own partition only.
                  name === 'me'
                  ? [{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['pending-audit#*'] } }]
                  : [],
        );
      }
    });

    it('lets `me` queue a notice but never sign one, and the notices function its partition only', () => {
      expect(leading('me', 'dynamodb:PutItem')).toContain('notices');
      expect(JSON.stringify(roleStatements('me'))).not.toContain(JSON.stringify(platformKeyArn()));
      // Its queue's partition, and nothing on the audit table: a withdrawal's audit entry its request could
      // not write is pending work, the reconciler's.
      expect(leading('notices', 'dynamodb:PutItem')).toEqual(['notices']);
      expect(leading('notices', 'dynamodb:DeleteItem')).toEqual(['notices']);
      // `me` saves the withdrawal's audit entry as pending work in the withdrawal's transaction (put),
      // claims it (update) and removes it once written (delete), in withdrawals' own partition; a
      // licence's pending work (`pending-work#`) it can neither read nor write (review M1).
      for (const action of ['PutItem', 'UpdateItem', 'DeleteItem']) {
        expect(leading('me', `dynamodb:${action}`), action).toContain('pending-audit#*');
      }
      for (const action of ['PutItem', 'UpdateItem', 'GetItem', 'DeleteItem', 'Query']) {
        expect(leading('me', `dynamodb:${action}`), action).not.toContain('pending-work#*');
      }
      expect(leading('notices', 'dynamodb:GetItem')).toEqual(['oidc#Client#*']);
    });

    // Operators' changes (R20: issuers'; clients' and peers' since) are admin's; registrations', agents'
    // and closures' the accounts function's; phone proofs' (a takeover, a reset) the OpenID provider's.
    for (const [partition, writer] of [
      ['pending-issuer-audit#*', 'admin'],
      ['pending-account-audit#*', 'accounts'],
      ['pending-provider-audit#*', 'oidc'],
    ] as const) {
      it(`keeps ${partition} to ${writer} and the reconciler, and ${writer} to it alone`, () => {
        // The writer saves a change's audit entry with the change (a transaction's put), releases it
        // (update) and removes it once written (delete): its own partition, no other pending work.
        const others = [
          'pending-work#*',
          'pending-audit#*',
          'pending-issuer-audit#*',
          'pending-account-audit#*',
          'pending-provider-audit#*',
        ];
        for (const action of ['PutItem', 'UpdateItem', 'DeleteItem']) {
          const granted = leading(writer, `dynamodb:${action}`);
          expect(granted, action).toContain(partition);
          for (const other of others.filter((name) => name !== partition)) {
            expect(granted, `${action} ${other}`).not.toContain(other);
          }
        }
        // No other function may plant an entry there; the reconciler finishes them.
        const writers = functionNames.filter((name) =>
          ['PutItem', 'UpdateItem'].some((action) => leading(name, `dynamodb:${action}`).includes(partition)),
        );
        expect(writers.sort()).toEqual([writer, 'pending-work-reconciler'].sort());
        expect(leading('pending-work-reconciler', 'dynamodb:PutItem')).not.toContain(partition);
      });
    }

    it('lets the public functions and the stream consumer ask the indexes for their attributes only', () => {
      const tableIndex = `\${${logicalId(stack.data.table)}.Arn}/index/`;
      /** Each index Query statement of `name`'s role: the index, and the attributes it is restricted to. */
      const indexQueries = (name: FunctionName) =>
        grants(name, 'dynamodb:Query').flatMap((st) =>
          [st.Resource]
            .flat()
            .map(render)
            .filter((resource) => resource.startsWith(tableIndex))
            .map((resource) => {
              const condition = st.Condition as
                | {
                    'ForAllValues:StringEquals': { 'dynamodb:Attributes': string[] };
                    StringEquals: { 'dynamodb:Select': string };
                  }
                | undefined;
              if (condition)
                expect(condition.StringEquals, name).toEqual({ 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' });
              if (condition)
                expect(Object.keys(condition).sort(), name).toEqual([
                  'ForAllValues:StringEquals',
                  'StringEquals',
                ]);
              return {
                index: resource.slice(tableIndex.length),
                attributes: condition?.['ForAllValues:StringEquals']['dynamodb:Attributes'] ?? 'all',
              };
            }),
        );
      const keys = (index: string) => ['pk', 'sk', `${index}pk`, `${index}sk`];
      const issuerById = { index: 'gsi1', attributes: [...keys('gsi1'), 'creditCode'] };
      const issuerListing = {
        index: 'gsi2',
        attributes: [
          ...keys('gsi2'),
          ...['id', 'name', 'creditCode', 'region', 'status', 'licenceTypes'],
          ...['keyId', 'kid', 'publicJwk', 'keys', 'batchKeys', 'createdAt'],
        ],
      };
      const restricted: Partial<Record<FunctionName, unknown[]>> = {
        // GET /trust-list and GET /issuers/{id}, anonymous.
        'trust-list': [issuerListing, issuerById],
        // Status List Tokens and POST /verify, anonymous.
        'status-lists': [issuerById],
        // What the two compute, off the public path.
        'list-signer': [issuerListing, issuerById],
        verify: [issuerById],
        // The schedule refreshing the peers.
        peers: [issuerListing],
        // Bulk issuance, fed by the batch table's stream (through the pipe and queue).
        batches: [issuerById],
        // The audit stream's consumer: an issuer's past days' issued counts.
        'supervision-events': [
          { index: 'gsi1', attributes: [...keys('gsi1'), 'day', 'issuerId', 'licenceType', 'issued'] },
        ],
        // The supervisor's API: the counters and alerts as listed (R31 L3).
        supervision: [
          {
            index: 'gsi1',
            attributes: [
              ...new Set([...keys('gsi1'), ...projections.statisticsCounters, ...projections.alerts]),
            ],
          },
        ],
        // The wallet: a person of the first layout by id, its lookup key alone (R31 L3; it read every
        // attribute of gsi1 before).
        wallet: [{ index: 'gsi1', attributes: [...keys('gsi1'), 'lookupKey'] }],
        // The reconciler finishing a reset's owed clean-up (review R54-3: it could read every session's and
        // token's payload through either index): a person of the first layout's lookup key, a passkey's id
        // and time; a person's sessions and grants by their keys alone, a grant's codes and tokens by their
        // keys and the time of the sign-in behind each (review R63 F1).
        'pending-work-reconciler': [
          { index: 'gsi1', attributes: [...keys('gsi1'), 'lookupKey', 'id', 'createdAt'] },
          { index: 'gsi2', attributes: [...keys('gsi2'), 'authTime'] },
        ],
      };
      for (const name of functionNames) {
        const queries = indexQueries(name);
        if (restricted[name]) {
          expect(queries, name).toEqual(expect.arrayContaining(restricted[name]));
          expect(queries, name).toHaveLength(restricted[name].length);
        } else {
          // Still unrestricted (docs/security.md): every attribute of the indexes they query.
          for (const query of queries) expect(query.attributes, name).toBe('all');
        }
      }
      // None of the lists names what licences, sessions, grants, accounts or appointments keep; and no gsi1
      // list names `name` (a person account not yet moved is found by id in gsi1, with its holder's name).
      const sensitive = [
        ...['holder', 'fields', 'credential', 'history', 'payload', 'lookupKey', 'personLookupKey'],
        ...['masked', 'passwordHash', 'idNumberEncrypted', 'phone', 'provenPhone', 'clientId'],
      ];
      // (The wallet's and the reconciler's lists name the lookup key of an account of the first layout:
      // what they read of it, the whole index before; the anonymous functions' lists name none.)
      const { wallet: _wallet, 'pending-work-reconciler': _reconciler, ...others } = restricted;
      const lists = Object.values(others).flat() as Array<{ index: string; attributes: string[] }>;
      for (const { index, attributes } of lists) {
        for (const attribute of sensitive) expect(attributes).not.toContain(attribute);
        if (index === 'gsi1') expect(attributes).not.toContain('name');
      }
    });

    it('narrows audit table access to the audit trail’s writers and readers (security review L6)', () => {
      const auditArn = { 'Fn::GetAtt': [logicalId(stack.auditTrail.table), 'Arn'] };
      const onAudit = (name: FunctionName) =>
        roleStatements(name).filter((s) =>
          JSON.stringify(s.Resource ?? '').includes(`"${logicalId(stack.auditTrail.table)}"`),
        );
      const [put, get] = ['dynamodb:PutItem', 'dynamodb:GetItem'];
      const writer = { items: [put], queries: [] as string[] };
      const expected: Partial<Record<FunctionName, { items: string[]; queries: string[] }>> = {
        oidc: writer,
        // A licence's entries (GET /admin/audit).
        admin: { items: [put], queries: ['gsi1'] },
        // Issuers' reads in their holders' usage records: a search's entries together (group commit, a
        // transaction's puts: never BatchWriteItem, which could delete entries, R31 M1). A change's pending
        // entries are written once under their keys (a transaction's puts): no look-up.
        licences: { items: [put], queries: [] },
        batches: { items: [put], queries: [] },
        // The reconciler of pending work: the same, for every change left unfinished (licences', withdrawals').
        'pending-work-reconciler': { items: [put], queries: [] },
        // Concurrent verifications' entries as one transaction of puts (group commit; no BatchWriteItem).
        verify: { items: [put], queries: [] },
        // The usage record: the holder's entries (gsi2), of one kind (gsi3) once the backfill's mark is
        // there (get).
        me: { items: [get, put], queries: ['gsi2', 'gsi3'] },
        accounts: writer,
        // A CSV export's entry (licences.exported).
        console: writer,
        // A security notice's entry, sent or failed (the phone masked).
        'sms-codes': writer,
        // The day partitions, the chain registry and the checkpoints (base-table queries, LeadingKeys), a
        // licence's entries (gsi1), a checkpoint and its heads stored (put), the heads read back (get).
        audit: { items: [get, put, 'dynamodb:Query'], queries: ['gsi1'] },
        // The daily check: the day partitions and checkpoints (queries), the checkpoints' heads (get).
        'audit-check': { items: [get, 'dynamodb:Query'], queries: [] },
      };
      for (const name of functionNames) {
        const statements = onAudit(name).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
        const items = statements
          .filter((s) => JSON.stringify(s.Resource) === JSON.stringify(auditArn))
          .flatMap(actionsOf)
          .sort();
        const queries = statements
          .flatMap((s) => [s.Resource].flat().map(render))
          .filter((resource) => resource.includes('/index/'))
          .map((resource) => resource.split('/index/')[1])
          .sort();
        expect({ items, queries }, name).toEqual({
          items: [...(expected[name]?.items ?? [])].sort(),
          queries: expected[name]?.queries ?? [],
        });
      }
      expect(
        grants('audit', 'dynamodb:Query')
          .filter((st) => JSON.stringify(st.Resource) === JSON.stringify(auditArn))
          .map((st) => st.Condition),
      ).toEqual([
        {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': ['audit#*', 'audit-chain#*', 'audit-checkpoint'],
          },
        },
      ]);
      // The stream consumer has no item or query access to the audit table: its stream is all it reads.
      expect(
        onAudit('supervision-events')
          .flatMap(actionsOf)
          .filter((a) => !/Stream|GetRecords|GetShardIterator/.test(a)),
      ).toEqual([]);
    });

    it('grants each item action on the partition keys of functions/grants.ts only (LeadingKeys)', () => {
      for (const name of functionNames) {
        expect(leadingKeyGrants(name, stack.data.table), name).toEqual(
          declaredGrants(functionGrants[name].table),
        );
      }
    });

    it('lets sms-codes alone write an SMS code: the code checks read and delete codes, and count tries apart', () => {
      const onSms = (name: FunctionName) =>
        Object.entries(leadingKeyGrants(name, stack.data.table))
          .flatMap(([action, keys]) =>
            (keys as string[])
              .filter((key) => /^sms-(code|try|used)#/.test(key))
              .map((key) => `${action} ${key}`),
          )
          .sort();
      // A used code's request time (`sms-used#`, no code in it): written as a code is used, only checked
      // by the sender's store.
      const checks = [
        'dynamodb:DeleteItem sms-code#*',
        'dynamodb:GetItem sms-code#*',
        'dynamodb:PutItem sms-used#*',
        'dynamodb:UpdateItem sms-try#*',
      ];
      const expected: Partial<Record<FunctionName, string[]>> = {
        oidc: checks,
        accounts: checks,
        'sms-codes': ['dynamodb:ConditionCheckItem sms-used#*', 'dynamodb:PutItem sms-code#*'],
      };
      for (const name of functionNames) expect(onSms(name), name).toEqual(expected[name] ?? []);
    });

    it('lets sms-codes read the person’s wrong guesses at live codes, and no other throttle counter (review R19 M1)', () => {
      const onCounters = (name: FunctionName) =>
        Object.entries(leadingKeyGrants(name, stack.data.table))
          .flatMap(([action, keys]) =>
            (keys as string[])
              .filter((key) => key.startsWith('login-attempts#'))
              .map((key) => `${action} ${key}`),
          )
          .sort();
      // And the security notices' daily counters, of no sign-in (shared/identity/security-notices.ts).
      expect(onCounters('sms-codes')).toEqual([
        'dynamodb:DeleteItem login-attempts#sms-notice#*',
        'dynamodb:GetItem login-attempts#sms-check#person#*',
        'dynamodb:GetItem login-attempts#sms-notice#*',
        'dynamodb:PutItem login-attempts#sms-notice#*',
        'dynamodb:UpdateItem login-attempts#sms-notice#*',
      ]);
      // The code checks write them (under their ceilings' partition).
      for (const name of ['accounts', 'oidc'] as const)
        expect(
          onCounters(name).filter((grant) => grant.startsWith('dynamodb:UpdateItem')),
          name,
        ).toContainEqual(expect.stringMatching(/^dynamodb:UpdateItem login-attempts#(sms-check#)?\*$/));
    });

    it('grants each item action on the batch table on the partition keys of functions/grants.ts only', () => {
      for (const name of functionNames) {
        const declared = declaredGrants(functionGrants[name].batchTable);
        expect(leadingKeyGrants(name, stack.batchJobs.table), name).toEqual(declared);
        // Nothing but jobs, their items and the issuers' open jobs in the batch table, and SMS code jobs;
        // none elsewhere.
        for (const keys of Object.values(declared) as string[][]) {
          for (const key of keys) expect(key, name).toMatch(/^(batch(-items|-slots)?|sms-job)#/);
        }
        for (const grant of [functionGrants[name].table, functionGrants[name].auditTable]) {
          for (const keys of Object.values(grant?.items ?? {})) {
            for (const key of keys) expect(key, name).not.toMatch(/^batch/);
          }
        }
      }
      // The job's writer (POST /licences/batches) and its runner, no other function; no index, no query.
      const batchArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.batchJobs.table), 'Arn'] });
      const withAccess = functionNames.filter((name) =>
        roleStatements(name).some(
          (s) =>
            actionsOf(s).some((a) => a.startsWith('dynamodb:')) &&
            JSON.stringify(s.Resource ?? '').includes(`"${logicalId(stack.batchJobs.table)}"`),
        ),
      );
      expect(withAccess).toEqual([
        'oidc',
        'licences',
        'me',
        'accounts',
        'batches',
        'sms-codes',
        'pending-work-reconciler',
      ]);
      // An SMS code's job: put by the functions that ask for codes, read and deleted by its sender; a
      // security notice's: read and put (once) by the functions that complete the changes that owe one.
      const smsJobActions: Partial<Record<FunctionName, string[]>> = {
        'sms-codes': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
      };
      for (const name of withAccess) {
        const onBatch = roleStatements(name).filter((s) =>
          JSON.stringify(s.Resource ?? '').includes(`"${logicalId(stack.batchJobs.table)}"`),
        );
        expect(
          onBatch.every((s) => JSON.stringify(s.Resource) === batchArn),
          name,
        ).toBe(true);
        // Gets and puts; the submitting function also deletes the chunks of a submission it could not store.
        expect(onBatch.flatMap(actionsOf).sort(), name).toEqual(
          smsJobActions[name] ??
            (name === 'licences'
              ? ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']
              : ['dynamodb:GetItem', 'dynamodb:PutItem']),
        );
        expect(environmentOf(name).BATCH_TABLE_NAME, name).toEqual({ Ref: logicalId(stack.batchJobs.table) });
      }
    });

    it('grants each item action on the audit table on the partition keys of functions/grants.ts only', () => {
      for (const name of functionNames) {
        const declared = declaredGrants(functionGrants[name].auditTable);
        expect(leadingKeyGrants(name, stack.auditTrail.table), name).toEqual(declared);
        // Nothing but the audit trail's partitions, in the audit table; none of them in the service table.
        for (const keys of Object.values(declared) as string[][]) {
          for (const key of keys) expect(key, name).toMatch(/^audit/);
        }
        for (const keys of Object.values(functionGrants[name].table?.items ?? {})) {
          for (const key of keys) expect(key, name).not.toMatch(/^audit/);
        }
      }
      // The internet-facing provider marks its own entries written once (a phone proof's, a consent's), no
      // other function's: a mark planted under another change's key would keep that entry from being
      // written (R26).
      // Its chains in its own shard alone (R31 M1: shared/audit/audit-writers.ts).
      expect(leadingKeyGrants('oidc', stack.auditTrail.table)).toEqual({
        'dynamodb:PutItem': [
          'audit#*#11',
          'audit-chain#*',
          'audit-once#phone-proof#*',
          'audit-once#authorization-granted#*',
          'audit-once#authorization-ended#*',
        ],
      });
      // Every other writer of once-marks, its own changes' marks alone (R52): licences' under the licence
      // id's root (batches' of issuances alone, R57 F1), a carried change's under its group.
      const onceGrants = (name: FunctionName) =>
        (leadingKeyGrants(name, stack.auditTrail.table)['dynamodb:PutItem'] ?? []).filter((key: string) =>
          key.startsWith('audit-once#'),
        );
      expect(onceGrants('licences')).toEqual(['audit-once#1.2.156.3005.2.*']);
      expect(onceGrants('batches')).toEqual(['audit-once#1.2.156.3005.2.*#1#0']);
      expect(onceGrants('me')).toEqual([
        'audit-once#authorization-withdrawn#*',
        'audit-once#passkey-changed#*',
      ]);
      expect(onceGrants('accounts')).toEqual([
        'audit-once#agent-changed#*',
        'audit-once#account-registered#*',
        'audit-once#in-person-proof#*',
        'audit-once#account-closed#*',
        'audit-once#representative-changed#*',
      ]);
      expect(onceGrants('admin')).toEqual([
        'audit-once#issuer-changed#*',
        'audit-once#client-changed#*',
        'audit-once#peer-changed#*',
      ]);
      // No function is granted every mark.
      for (const name of functionNames) expect(onceGrants(name), name).not.toContain('audit-once#*');
    });

    it('names key prefixes, never a bare wildcard, and keeps the sensitive partitions to their owners', () => {
      const writers = (prefix: string) =>
        functionNames.filter((name) =>
          Object.entries(functionGrants[name].table?.items ?? {}).some(
            ([action, keys]) =>
              action !== 'GetItem' &&
              action !== 'BatchGetItem' &&
              // A condition check writes nothing (the `me` function's passkey enrolment checks the account).
              action !== 'ConditionCheckItem' &&
              keys.some((key) => key.startsWith(prefix)),
          ),
        );
      const readers = (prefix: string) =>
        functionNames.filter((name) =>
          (functionGrants[name].table?.items.GetItem ?? []).some((key) => key.startsWith(prefix)),
        );
      // A batch reads nothing a single read may not.
      for (const name of functionNames) {
        const items = functionGrants[name].table?.items;
        for (const key of items?.BatchGetItem ?? []) expect(items?.GetItem, name).toContain(key);
      }
      for (const name of functionNames) {
        for (const keys of Object.values(functionGrants[name].table?.items ?? {})) {
          for (const key of keys) expect(key, name).toMatch(/^[a-z-]+(#[A-Za-z-]+)*(#\*)?$/);
        }
      }
      // Sessions, grants, codes and clients are the OpenID provider's; admin saves issuers' clients only;
      // the holder's API deletes a grant and the tokens under it when the person withdraws a share; closing
      // an account ends every sign-in of it.
      // And the reconciler, finishing a reset's clean-up left owed (deletes only, as closing an account).
      expect(writers('oidc#')).toEqual(['oidc', 'admin', 'me', 'accounts', 'pending-work-reconciler']);
      expect(functionGrants.me.table?.items.PutItem?.filter((k) => k.startsWith('oidc#'))).toEqual([]);
      // Each by its own DeleteItem, never a BatchWriteItem (which would let it put there too, R31 H1).
      expect(functionGrants.me.table?.items.DeleteItem?.filter((k) => k.startsWith('oidc#'))).toEqual([
        'oidc#Grant#*',
        'oidc#Bearer#*',
        'oidc#AccessToken#*',
        'oidc#AuthorizationCode#*',
        'oidc#RefreshToken#*',
        'oidc#DeviceCode#*',
        'oidc#BackchannelAuthenticationRequest#*',
        'oidc#PreAuthorizedCode#*',
      ]);
      for (const name of ['me', 'accounts', 'pending-work-reconciler'] as const) {
        expect(
          functionGrants[name].table?.items.PutItem?.filter((k) => k.startsWith('oidc#')),
          name,
        ).toEqual([]);
        expect(functionGrants[name].table?.items.BatchWriteItem, name).toBeUndefined();
      }
      expect(functionGrants.admin.table?.items.PutItem?.filter((k) => k.startsWith('oidc#'))).toEqual([
        'oidc#Client#*',
      ]);
      // Every other reader of oidc# items looks up bearer tokens, whether their client is still registered
      // (a deleted client's tokens stop) and, for a token bound to its session, that session and its grant
      // (a logout stops it), nothing else.
      // (The holder's API also reads grants: the shares it lists, and the grant a platform reads under;
      // so does the accounts API, whose closing of an account withdraws the platforms' grants as it does.)
      // The notices function reads a platform's metadata alone (its events endpoint), and no token.
      expect(functionGrants.notices.table?.items.GetItem).toEqual(['oidc#Client#*']);
      // The reconciler reads no token: a person's sessions and grants (their time), a platform's
      // registration (a withdrawal's notice), finishing a reset's clean-up left owed.
      expect(
        functionGrants['pending-work-reconciler'].table?.items.GetItem?.filter((k) => k.startsWith('oidc#')),
      ).toEqual(['oidc#Client#*', 'oidc#Session#*', 'oidc#Grant#*']);
      // Nor through an index (review R54-3): both project every attribute, so its queries are restricted,
      // to the keys of a person's sessions and grants and of a grant's codes and tokens with the time of
      // the sign-in behind each (gsi2, `authTime`: review R63 F1), and a first-layout account's lookup key
      // and a passkey's id and time (gsi1). The local grant guard holds the integration tests to it.
      expect(functionGrants['pending-work-reconciler'].table?.queries).toEqual([
        { index: 'gsi1', attributes: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'lookupKey', 'id', 'createdAt'] },
        { index: 'gsi2', attributes: ['pk', 'sk', 'gsi2pk', 'gsi2sk', 'authTime'] },
      ]);
      const others = readers('oidc#').filter(
        (n) => n !== 'oidc' && n !== 'notices' && n !== 'pending-work-reconciler',
      );
      for (const name of others) {
        expect(
          functionGrants[name].table?.items.GetItem?.filter((key) => key.startsWith('oidc#')),
          name,
        ).toEqual([
          'oidc#Bearer#*',
          'oidc#AccessToken#*',
          'oidc#ClientCredentials#*',
          'oidc#Client#*',
          'oidc#Session#*',
          'oidc#Grant#*',
        ]);
      }
      // A DPoP proof's mark (review R25) is put by each function that authenticates access tokens, the
      // ones that read them, and by no other; nothing reads, updates or deletes one (a put on a condition).
      const tokenReaders = readers('oidc#Bearer#').filter((n) => n !== 'oidc' && n !== 'wallet');
      expect(writers('dpop-proof#')).toEqual(tokenReaders);
      expect(tokenReaders.sort()).toEqual(
        ['accounts', 'admin', 'audit', 'licences', 'me', 'supervision', 'verify'].sort(),
      );
      for (const name of functionNames) {
        for (const [action, keys] of Object.entries(functionGrants[name].table?.items ?? {})) {
          if (action !== 'PutItem') expect(keys, `${name} ${action}`).not.toContain('dpop-proof#*');
        }
      }
      // Licences are written by the issuing API and its bulk jobs alone (and their pending-work marker
      // cleared by the reconciler); verification only reads them.
      expect(writers('licence#')).toEqual(['licences', 'batches', 'pending-work-reconciler']);
      // And the reconciler: a reset's owed clean-up done, its mark taken off (a versioned put).
      expect(writers('account#')).toEqual(['oidc', 'accounts', 'pending-work-reconciler']);
      // The sign-in's SMS proof of level 3 reads the registry's name again; the SMS sender reads it for
      // the carrier check.
      expect(readers('registry-person#')).toEqual(['oidc', 'accounts', 'sms-codes']);
      // Codes (the sign-in's step-up and reset, confirming a phone on the /register page) are written by
      // the SMS sender alone, once the provider took the text; the request functions only leave a job.
      expect(
        functionNames.filter((name) => functionGrants[name].table?.items.PutItem?.includes('sms-code#*')),
      ).toEqual(['sms-codes']);
      // Jobs are left by the functions that ask for codes, and by those that complete the changes that owe
      // a security notice (a notice's job names an account and an event: no phone, no code).
      expect(
        functionNames.filter((name) => functionGrants[name].batchTable?.items.PutItem?.includes('sms-job#*')),
      ).toEqual(['oidc', 'me', 'accounts', 'pending-work-reconciler']);
      // The lists' tokens are stored by the list signer alone (the public list functions only read).
      expect(writers('trust-list')).toEqual(['list-signer']);
      // Status changes write the list's bits (and the reconciler the bits a failed change left unwritten).
      expect(writers('status-list#')).toEqual(['licences', 'list-signer', 'pending-work-reconciler']);
      expect(functionGrants.console.table?.items).toEqual({
        GetItem: ['web-session#*'],
        PutItem: ['web-session#*'],
        DeleteItem: ['web-session#*'],
      });
    });

    it('gives each role exactly the KMS actions the local runtime enforces (kmsActions)', () => {
      const keyRole = (key: string) => (key.startsWith('issuer') || key === '*' ? 'issuer' : key);
      for (const name of functionNames) {
        const synthesized: Record<string, string[]> = {};
        // The alerts topic's key comes with publishing alerts (the `alerts` grant, tested on its own).
        // So does the SMS queue's key with receiving from it (its event source mapping).
        for (const permission of kmsPermissions(name).filter(
          (p) => !p.endsWith(' alerts topic') && !p.endsWith(' sms queue'),
        )) {
          const [action, key] = permission.split(' ') as [string, string];
          const actions = (synthesized[keyRole(key)] ??= []);
          if (!actions.includes(action)) actions.push(action);
        }
        // No rotation is under way in this stack: there is no previous platform key to grant.
        const declared = Object.fromEntries(
          Object.entries(kmsActions(functionGrants[name]))
            .filter(
              ([key]) =>
                key !== 'previousPlatform' &&
                key !== 'previousPlatformRsa' &&
                key !== 'previousAudit' &&
                key !== 'previousPresentation' &&
                key !== 'previousNotice',
            )
            .map(([key, actions]) => [key, [...actions].sort()]),
        );
        for (const actions of Object.values(synthesized)) actions.sort();
        expect(synthesized, name).toEqual(declared);
      }
    });

    it('reaches the table key through DynamoDB only', () => {
      for (const [key, table] of [
        [stack.keys.table, stack.data.table],
        [stack.keys.auditTable, stack.auditTrail.table],
      ] as const) {
        const keyArn = { 'Fn::GetAtt': [logicalId(key), 'Arn'] };
        const tableArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(table), 'Arn'] });
        for (const name of functionNames) {
          const statements = roleStatements(name).filter(
            (s) =>
              JSON.stringify(s.Resource) === JSON.stringify(keyArn) &&
              // The stream consumer decrypts the stream's records (tested with the stream).
              !(name === 'supervision-events' && !s.Condition),
          );
          const usesTable = roleStatements(name).some(
            (s) =>
              actionsOf(s).some((a) => a.startsWith('dynamodb:')) &&
              [s.Resource]
                .flat()
                .some((resource) => JSON.stringify(resource).includes(tableArn.slice(1, -1))),
          );
          expect(statements, name).toHaveLength(usesTable ? 1 : 0);
          for (const statement of statements) {
            const viaService = (statement.Condition?.StringLike as Json | undefined)?.['kms:ViaService'];
            expect(render(viaService)).toBe('dynamodb.*.${AWS::URLSuffix}');
          }
        }
      }
    });

    it('gives the audit table key to the audit table’s grantees alone, and them nothing on it but the table’s use', () => {
      const auditKeyArn = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.keys.auditTable), 'Arn'] });
      // Every role of the stack (functions, the batch pipe, custom resources) with any KMS action on the
      // audit table key, by the role's logical id.
      const onAuditKey = new Map<string, Statement[]>();
      for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
        const { Roles, PolicyDocument } = (
          policy as {
            Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Statement[] } };
          }
        ).Properties;
        const statements = PolicyDocument.Statement.filter(
          (s) =>
            s.Effect === 'Allow' &&
            actionsOf(s).some((a) => a.startsWith('kms:')) &&
            [s.Resource].flat().some((resource) => JSON.stringify(resource) === auditKeyArn),
        );
        for (const role of Roles)
          onAuditKey.set(role.Ref, [...(onAuditKey.get(role.Ref) ?? []), ...statements]);
      }
      for (const [role, statements] of onAuditKey) if (statements.length === 0) onAuditKey.delete(role);
      const byRole = new Map(functionNames.map((name) => [roleId(name), name]));
      // AWS Backup's role reads the table to back it up: through DynamoDB and AWS Backup only.
      const backupRole = logicalId(stack.backups.role);
      expect(onAuditKey.get(backupRole)?.map((s) => [s.Sid, Object.keys(s.Condition ?? {})])).toEqual([
        ['TableAndVaultKeys', ['StringLike']],
        ['KeyGrantsForAwsResources', ['Bool']],
      ]);
      onAuditKey.delete(backupRole);
      const holders = [...onAuditKey.keys()].map((role) => byRole.get(role) ?? role).sort();
      const granted = functionNames
        .filter((name) => functionGrants[name].auditTable || functionGrants[name].auditStream)
        .sort();
      expect(granted.length).toBeGreaterThan(1);
      expect(holders).toEqual(granted);
      for (const name of granted) {
        const statements = onAuditKey.get(roleId(name))!;
        const viaDynamo = statements.filter((s) => s.Condition);
        // A table grant: DynamoDB's own set, through DynamoDB only; the stream reader decrypts records.
        expect(
          viaDynamo.map((s) => actionsOf(s).sort()),
          name,
        ).toEqual(
          functionGrants[name].auditTable
            ? [['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*']]
            : [],
        );
        expect(
          statements.filter((s) => !s.Condition).map((s) => actionsOf(s).sort()),
          name,
        ).toEqual(functionGrants[name].auditStream ? [['kms:Decrypt', 'kms:DescribeKey']] : []);
      }
      // Its key policy names no principal but the account (IAM decides, as for the service table's key).
      const keyPolicy = template.toJSON().Resources[logicalId(stack.keys.auditTable)].Properties.KeyPolicy
        .Statement as Statement[];
      // Allowed: the Deny of KeyDeletionGuard names every function role (test/cdk/guards.test.ts).
      const allowed = keyPolicy.filter((s) => s.Effect === 'Allow');
      expect(allowed.map((s) => render((s.Principal as { AWS: unknown }).AWS))).toEqual([
        'arn:${AWS::Partition}:iam::${AWS::AccountId}:root',
      ]);
    });

    it('lets admin create issuer keys only with the issuer tags, and manage only keys so tagged', () => {
      const [createKey, ...more] = grants('admin', 'kms:CreateKey');
      expect(more).toEqual([]);
      expect(createKey).toMatchObject({
        Resource: '*',
        Condition: {
          StringEquals: {
            'aws:RequestTag/service': 'elicence',
            'aws:RequestTag/role': 'issuer-signing',
            'kms:KeySpec': 'ECC_NIST_P256',
            'kms:KeyUsage': 'SIGN_VERIFY',
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['service', 'role', 'issuer'] },
        },
      });
      const [tag] = grants('admin', 'kms:TagResource');
      expect(tag?.Condition).toEqual(
        expect.objectContaining({
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['service', 'role', 'issuer'] },
        }),
      );
      const aliases = grants('admin', 'kms:CreateAlias').map((s) => render(s.Resource));
      expect(aliases).toContain(
        'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:alias/elicence/issuer/*',
      );
      for (const action of ['kms:GetPublicKey', 'kms:ScheduleKeyDeletion']) {
        const [statement, ...others] = grants('admin', action);
        expect(others).toEqual([]);
        expect(statement?.Condition).toEqual({
          StringEquals: { 'aws:ResourceTag/service': 'elicence', 'aws:ResourceTag/role': 'issuer-signing' },
        });
      }
    });

    it('lets the licence functions sign with issuer keys by tag, and nobody else', () => {
      for (const name of functionNames) {
        const statements = grants(name, 'kms:Sign').filter(
          (s) => s.Resource !== undefined && render(s.Resource).endsWith(':key/*'),
        );
        if (name === 'licences' || name === 'list-signer' || name === 'batches') {
          expect(statements, name).toHaveLength(1);
          expect(statements[0]?.Condition).toEqual({
            StringEquals: { 'aws:ResourceTag/service': 'elicence', 'aws:ResourceTag/role': 'issuer-signing' },
          });
        } else {
          expect(statements, name).toEqual([]);
        }
      }
    });

    it('gives admin the issuer key policy: IAM enabled through the account, today’s roles by name', () => {
      const policy = JSON.parse(render(environmentOf('admin').ISSUER_KEY_POLICY)) as {
        Statement: Statement[];
      };
      const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
      expect(bySid.EnableIamPolicies).toMatchObject({
        Effect: 'Allow',
        Principal: { AWS: 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' },
        Action: 'kms:*',
      });
      expect(bySid.Onboarding).toMatchObject({ Principal: { AWS: `\${${roleId('admin')}.Arn}` } });
      expect(actionsOf(bySid.Onboarding!)).not.toContain('kms:Sign');
      const signers = [(bySid.Signing?.Principal as { AWS: string | string[] }).AWS].flat();
      expect(new Set(signers)).toEqual(
        new Set([
          `\${${roleId('licences')}.Arn}`,
          `\${${roleId('list-signer')}.Arn}`,
          `\${${roleId('batches')}.Arn}`,
        ]),
      );
    });

    it('lets exactly the functions that send SMS publish to phone numbers, never to a topic, and sets SMS_SENDER=sns', () => {
      // SMS codes are texted after the answer, by their own function (docs/security.md, "Timing").
      const senders = functionNames.filter((name) => functionGrants[name].sms).sort();
      expect(senders).toEqual(['sms-codes']);
      for (const name of functionNames) {
        const statements = roleStatements(name).filter(
          (s) =>
            actionsOf(s).some((action) => action.startsWith('sns:')) &&
            // Publishing alerts to the alerts topic (the `alerts` grant, tested with the stream consumer).
            JSON.stringify(s.Resource) !== JSON.stringify({ Ref: logicalId(stack.alertNotifications.topic) }),
        );
        if (!senders.includes(name)) {
          expect(statements, name).toEqual([]);
          expect(environmentOf(name).SMS_SENDER, name).toBeUndefined();
          continue;
        }
        expect(
          statements.map((s) => ({ Effect: s.Effect, Action: s.Action, Resource: render(s.Resource) })),
          name,
        ).toEqual([
          { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' },
          { Effect: 'Deny', Action: 'sns:Publish', Resource: 'arn:${AWS::Partition}:sns:*:*:*' },
        ]);
        expect(environmentOf(name).SMS_SENDER, name).toBe('sns');
      }
      // No other SNS permission anywhere: the alarm topic is published to by CloudWatch and, for alerts,
      // by the functions granted `alerts` (one statement each).
      const anySns = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
        (
          policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }
        ).Properties.PolicyDocument.Statement.filter((s) =>
          actionsOf(s).some((action) => action.startsWith('sns:')),
        ),
      );
      const alertPublishers = functionNames.filter((name) => functionGrants[name].alerts);
      expect(anySns).toHaveLength(senders.length * 2 + alertPublishers.length);
    });

    it('uses no AWS managed policy', () => {
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect((role as { Properties: Json }).Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });

  describe('SMS queue (codes sent after the answer, docs/security.md "Timing")', () => {
    it('pipes only inserts of SMS jobs from the batch table stream to its queue, as { smsJob }', () => {
      const pipe = Object.values(template.findResources('AWS::Pipes::Pipe'))
        .map((p) => (p as { Properties: Json }).Properties)
        .find(
          (p) =>
            JSON.stringify(p.Target) ===
            JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.smsQueue.queue), 'Arn'] }),
        )!;
      expect(pipe.Source).toEqual({ 'Fn::GetAtt': [logicalId(stack.batchJobs.table), 'StreamArn'] });
      const source = pipe.SourceParameters as { FilterCriteria: { Filters: Array<{ Pattern: string }> } };
      expect(source.FilterCriteria.Filters.map((filter) => JSON.parse(filter.Pattern) as unknown)).toEqual([
        { eventName: ['INSERT'], dynamodb: { NewImage: { pk: { S: [{ prefix: 'sms-job#' }] } } } },
      ]);
      // The job's id alone: the phone stays sealed in the table, and never reaches the queue in clear.
      expect(pipe.TargetParameters).toEqual({ InputTemplate: '{"smsJob": "<$.dynamodb.NewImage.id.S>"}' });
    });

    it('feeds sms-codes from a queue under a KMS key of its own, dead-lettering after 3 deliveries, with alarms', () => {
      // Beside the live alias it invokes, in the nested stack (test/cdk/gradual-deploys.test.ts).
      const mappings = Object.values(live.nested.findResources('AWS::Lambda::EventSourceMapping'))
        .map((mapping) => live.fromParent((mapping as { Properties: Json }).Properties) as Json)
        .filter((mapping) => JSON.stringify(mapping.FunctionName).includes(live.aliasId('sms-codes')));
      expect(mappings).toHaveLength(1);
      expect(mappings[0]).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.smsQueue.queue), 'Arn'] },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      const key = stack.smsQueue.queue.encryptionMasterKey!;
      const queues = template.findResources('AWS::SQS::Queue');
      for (const q of [stack.smsQueue.queue, stack.smsQueue.deadLetters]) {
        expect((queues[logicalId(q)] as { Properties: Json }).Properties).toMatchObject({
          KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(key), 'Arn'] },
        });
      }
      expect((queues[logicalId(stack.smsQueue.queue)] as { Properties: Json }).Properties).toMatchObject({
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.smsQueue.deadLetters), 'Arn'] },
          maxReceiveCount: 3,
        },
      });
      expect(template.toJSON().Resources[logicalId(key)].Properties).toMatchObject({
        EnableKeyRotation: true,
      });
      // Its key: the pipe encrypts, sms-codes decrypts, no other function touches it.
      const users = functionNames.filter((name) =>
        JSON.stringify(roleStatements(name)).includes(logicalId(key)),
      );
      expect(users).toEqual(['sms-codes']);
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalId(stack.smsQueue.deadLetters), 'QueueName'] },
          },
        ],
        Threshold: 1,
        AlarmActions: [{ Ref: logicalId(stack.alarmNotifications.topic) }],
      });
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.smsQueue.queue), 'QueueName'] } },
        ],
        Threshold: 60,
        AlarmActions: [{ Ref: logicalId(stack.alarmNotifications.topic) }],
      });
    });
  });

  describe('batch queue (bulk issuance, docs/batch-issuance.md)', () => {
    it('pipes only inserts of batch jobs from the table stream to the queue, as { batchId }', () => {
      const pipes = Object.values(template.findResources('AWS::Pipes::Pipe')).map(
        (pipe) => (pipe as { Properties: Json }).Properties,
      );
      // The batch queue's and the SMS queue's (below).
      expect(pipes).toHaveLength(2);
      const pipe = pipes.find(
        (p) =>
          JSON.stringify(p.Target) ===
          JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.batchQueue.queue), 'Arn'] }),
      )!;
      // The batch table's stream: it carries nothing but jobs (the service table has no stream).
      expect(pipe.Source).toEqual({ 'Fn::GetAtt': [logicalId(stack.batchJobs.table), 'StreamArn'] });
      expect(pipe.Target).toEqual({ 'Fn::GetAtt': [logicalId(stack.batchQueue.queue), 'Arn'] });
      const source = pipe.SourceParameters as {
        FilterCriteria: { Filters: Array<{ Pattern: string }> };
        DynamoDBStreamParameters: Json;
      };
      expect(source.FilterCriteria.Filters.map((filter) => JSON.parse(filter.Pattern) as unknown)).toEqual([
        { eventName: ['INSERT'], dynamodb: { NewImage: { pk: { S: [{ prefix: 'batch#' }] } } } },
      ]);
      expect(source.DynamoDBStreamParameters).toMatchObject({
        StartingPosition: 'TRIM_HORIZON',
        // The pipe's failure records in a queue of their own, never the jobs' dead letters (R31 L4).
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack.batchQueue.pipeFailures), 'Arn'] } },
      });
      expect(pipe.TargetParameters).toEqual({
        InputTemplate: '{"batchId": "<$.dynamodb.NewImage.id.S>"}',
      });
    });

    it('feeds the batches function one job at a time, reporting failures, with a bounded concurrency', () => {
      // Beside the live alias it invokes, in the nested stack (test/cdk/gradual-deploys.test.ts).
      expect(template.findResources('AWS::Lambda::EventSourceMapping')).toEqual({});
      const mappings = Object.values(live.nested.findResources('AWS::Lambda::EventSourceMapping'))
        .map((mapping) => live.fromParent((mapping as { Properties: Json }).Properties) as Json)
        .filter((mapping) => JSON.stringify(mapping.FunctionName).includes(live.aliasId('batches')));
      expect(mappings).toHaveLength(1);
      expect(mappings[0]).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.batchQueue.queue), 'Arn'] },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 5 },
      });
    });

    it('encrypts both queues, refuses plain HTTP, dead-letters after 3 deliveries, and alarms', () => {
      const queue = template.findResources('AWS::SQS::Queue')[logicalId(stack.batchQueue.queue)] as {
        Properties: Json;
      };
      expect(queue.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        // Six times the function's timeout (5 minutes), as Lambda advises.
        VisibilityTimeout: 1800,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.batchQueue.deadLetters), 'Arn'] },
          maxReceiveCount: 3,
        },
      });
      const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')).map((policy) =>
        JSON.stringify(policy),
      );
      for (const q of [stack.batchQueue.queue, stack.batchQueue.deadLetters, stack.batchQueue.pipeFailures]) {
        expect(
          policies.some((policy) => policy.includes(logicalId(q)) && policy.includes('aws:SecureTransport')),
        ).toBe(true);
      }
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalId(stack.batchQueue.deadLetters), 'QueueName'] },
          },
        ],
        Threshold: 1,
        AlarmActions: [{ Ref: logicalId(stack.alarmNotifications.topic) }],
      });
    });

    it('lets the pipe read the stream and send to the two queues, and nothing else', () => {
      const roles = template.findResources('AWS::IAM::Role');
      const [pipeRole] = Object.entries(roles).filter(([, role]) =>
        JSON.stringify(role).includes('pipes.amazonaws.com'),
      );
      expect(pipeRole).toBeDefined();
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .map(
          (policy) =>
            policy as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } },
        )
        .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(pipeRole![0]))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
      const actions = [...new Set(statements.flatMap(actionsOf))].sort();
      expect(actions.filter((action) => !action.startsWith('kms:'))).toEqual([
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ]);
      // Its stream grant names the batch table's stream alone (ListStreams has no resource: "*").
      const onStreams = statements.filter((s) =>
        actionsOf(s).some((a) => a.startsWith('dynamodb:') && a !== 'dynamodb:ListStreams'),
      );
      expect(onStreams.map((s) => s.Resource)).toEqual([
        { 'Fn::GetAtt': [logicalId(stack.batchJobs.table), 'StreamArn'] },
      ]);
    });
  });

  describe('streams (a stream is granted whole)', () => {
    /** Every statement of every IAM policy in the stack, with the roles it is attached to. */
    const allStatements = () =>
      Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => {
        const { Roles, PolicyDocument } = (
          policy as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }
        ).Properties;
        return PolicyDocument.Statement.map((statement) => ({ roles: JSON.stringify(Roles), statement }));
      });
    const streamOf = (built: { node: { defaultChild?: unknown } }) => ({
      'Fn::GetAtt': [logicalId(built), 'StreamArn'],
    });

    it('gives the service table no stream; the audit table and the batch table stream new images', () => {
      const resources = template.toJSON().Resources as Record<string, { Properties: Json }>;
      // Security review: the service table's writes (sessions, token and code ids in keys, accounts) reach
      // no stream, so no role can be granted them.
      expect(resources[logicalId(stack.data.table)]!.Properties.StreamSpecification).toBeUndefined();
      for (const built of [stack.auditTrail.table, stack.batchJobs.table]) {
        expect(resources[logicalId(built)]!.Properties.StreamSpecification).toEqual({
          StreamViewType: 'NEW_IMAGE',
        });
      }
      expect(JSON.stringify(template.toJSON())).not.toContain(JSON.stringify(streamOf(stack.data.table)));
    });

    it('lets no role read a stream but the pipe’s (the batch table’s) and supervision-events’ (the audit table’s)', () => {
      const readers = allStatements().filter(({ statement }) =>
        actionsOf(statement).some((a) => a === 'dynamodb:GetRecords' || a === 'dynamodb:GetShardIterator'),
      );
      // The batch pipe's role and the SMS pipe's: each reads the batch table's stream, nothing else.
      const pipeRoles = Object.entries(template.findResources('AWS::IAM::Role'))
        .filter(([, role]) => JSON.stringify(role).includes('pipes.amazonaws.com'))
        .map(([id]) => id);
      expect(pipeRoles).toHaveLength(2);
      const byResource = readers.map(({ roles, statement }) => ({
        reader: pipeRoles.some((id) => roles.includes(id))
          ? 'pipe'
          : roles.includes(roleId('supervision-events'))
            ? 'supervision-events'
            : roles,
        resource: statement.Resource,
      }));
      expect(byResource).toEqual(
        expect.arrayContaining([
          { reader: 'pipe', resource: streamOf(stack.batchJobs.table) },
          { reader: 'supervision-events', resource: streamOf(stack.auditTrail.table) },
        ]),
      );
      expect(byResource).toHaveLength(3);
    });
  });

  describe('supervision stream (电子监察)', () => {
    it('streams new images of the audit table', () => {
      expect(
        template.toJSON().Resources[logicalId(stack.auditTrail.table)].Properties.StreamSpecification,
      ).toEqual({ StreamViewType: 'NEW_IMAGE' });
    });

    it('feeds supervision-events audit inserts only, in batches, bisecting, with a dead-letter queue', () => {
      const mappings = Object.values(live.nested.findResources('AWS::Lambda::EventSourceMapping'))
        .map((mapping) => live.fromParent((mapping as { Properties: Json }).Properties) as Json)
        // The batch queue's and the SMS queue's mappings are tested with them.
        .filter(
          (mapping) =>
            !(['batches', 'sms-codes'] as const).some((name) =>
              JSON.stringify(mapping.FunctionName).includes(live.aliasId(name)),
            ),
        );
      expect(mappings).toHaveLength(1);
      const [mapping] = mappings as [Json];
      expect(JSON.stringify(mapping.FunctionName)).toContain(`"Ref":"${live.aliasId('supervision-events')}"`);
      // The audit table's stream: a filter is no permission, and its writes are all audit data.
      expect(mapping.EventSourceArn).toEqual({
        'Fn::GetAtt': [logicalId(stack.auditTrail.table), 'StreamArn'],
      });
      expect(mapping).toMatchObject({
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 5,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 5,
        DestinationConfig: {
          OnFailure: {
            Destination: { 'Fn::GetAtt': [logicalId(stack.supervisionStream.deadLetters), 'Arn'] },
          },
        },
      });
      const filters = (mapping.FilterCriteria as { Filters: Array<{ Pattern: string }> }).Filters;
      expect(filters.map((filter) => JSON.parse(filter.Pattern) as unknown)).toEqual([
        { eventName: ['INSERT'], dynamodb: { NewImage: { pk: { S: [{ prefix: 'audit#' }] } } } },
      ]);
    });

    it('alarms on the dead-letter queue to the alarm topic; the queue is encrypted and TLS-only', () => {
      const queue = logicalId(stack.supervisionStream.deadLetters);
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Threshold: 1,
        AlarmActions: [{ Ref: logicalId(stack.alarmNotifications.topic) }],
      });
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'IteratorAge',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId('supervision-events') } }],
        Threshold: 300_000,
        AlarmActions: [{ Ref: logicalId(stack.alarmNotifications.topic) }],
      });
      const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
      expect(JSON.stringify(policies)).toContain('aws:SecureTransport');
    });

    it('lets the consumer read the stream, publish alerts to the alerts topic only, and nothing else', () => {
      const topic = { Ref: logicalId(stack.alertNotifications.topic) };
      const statements = roleStatements('supervision-events');
      const sns = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sns:')));
      expect(sns.map((s) => ({ Action: s.Action, Resource: s.Resource }))).toEqual([
        { Action: 'sns:Publish', Resource: topic },
      ]);
      expect(environmentOf('supervision-events')).toMatchObject({
        ALERT_PUBLISHER: 'sns',
        ALERT_TOPIC_ARN: topic,
      });
      const streamArn = { 'Fn::GetAtt': [logicalId(stack.auditTrail.table), 'StreamArn'] };
      const onStream = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(streamArn));
      expect(onStream.flatMap(actionsOf).sort()).toEqual([
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
      ]);
      // Security review L6: the service table's stream (sessions, tokens, accounts) is read by no
      // function's role; every stream action of the consumer is on the audit table's stream (or "*" for
      // ListStreams, which has no resource), as functions/grants.ts says (auditStream).
      expect(JSON.stringify(statements)).not.toContain(`"${logicalId(stack.data.table)}","StreamArn"`);
      const streamReads = statements.filter((st) =>
        actionsOf(st).some((a) => /GetRecords|GetShardIterator|DescribeStream/.test(a)),
      );
      expect(streamReads.map((st) => st.Resource)).toEqual([streamArn]);
      expect(functionNames.filter((name) => functionGrants[name].auditStream)).toEqual([
        'supervision-events',
      ]);
      // Records of a table encrypted with its own key are decrypted with that key: the audit table's.
      const tableKey = { 'Fn::GetAtt': [logicalId(stack.keys.auditTable), 'Arn'] };
      const onTableKey = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(tableKey));
      expect(onTableKey.filter((s) => !s.Condition).map((s) => actionsOf(s).sort())).toEqual([
        ['kms:Decrypt', 'kms:DescribeKey'],
      ]);
      // Finding the stream: ListStreams has no resource-level permission.
      expect(
        statements
          .filter((s) => s.Resource === '*')
          .flatMap(actionsOf)
          .filter((a) => a.startsWith('dynamodb:')),
      ).toEqual(['dynamodb:ListStreams']);
      // No other function reads the stream or publishes to the topic; none publishes to the pager's.
      for (const name of functionNames.filter((n) => n !== 'supervision-events')) {
        const text = JSON.stringify(roleStatements(name));
        expect(text, name).not.toContain('StreamArn');
        expect(text, name).not.toContain(logicalId(stack.alertNotifications.topic));
      }
      for (const name of functionNames) {
        expect(JSON.stringify(roleStatements(name)), name).not.toContain(
          logicalId(stack.alarmNotifications.topic),
        );
      }
    });

    it('keeps the supervision alerts off the pager: a topic and key of their own, and neither side reaches the other', () => {
      const pager = stack.alarmNotifications;
      const alerts = stack.alertNotifications;
      expect(logicalId(alerts.topic)).not.toBe(logicalId(pager.topic));
      template.hasResourceProperties('AWS::SNS::Topic', {
        DisplayName: 'elicence supervision alerts',
        KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(alerts.key), 'Arn'] },
      });
      // The alerts publisher: sns:Publish on the alerts topic and its key only, nothing on the pager's.
      const publisher = JSON.stringify(roleStatements('supervision-events'));
      expect(publisher).toContain(logicalId(alerts.topic));
      expect(publisher).toContain(logicalId(alerts.key));
      expect(publisher).not.toContain(logicalId(pager.topic));
      expect(publisher).not.toContain(logicalId(pager.key));
      // The pager's publisher, CloudWatch: no alarm notifies the alerts topic, and the alerts key does
      // not let CloudWatch encrypt (an encrypted topic refuses a publisher that cannot).
      const alarms = Object.values(alarmTemplate.findResources('AWS::CloudWatch::Alarm'));
      expect(JSON.stringify(alarms)).not.toContain(logicalId(alerts.topic));
      const principals = (key: typeof alerts.key) =>
        (
          template.toJSON().Resources[logicalId(key)].Properties.KeyPolicy as { Statement: Statement[] }
        ).Statement.map((statement) => JSON.stringify(statement.Principal));
      expect(principals(pager.key)).toContain(JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }));
      expect(principals(alerts.key).join()).not.toContain('cloudwatch');
      // The key-deletion watch (EventBridge) reports to the pager, not to the alerts.
      const rules = JSON.stringify(template.findResources('AWS::Events::Rule'));
      expect(rules).not.toContain(logicalId(alerts.topic));
      template.hasOutput('AlertTopicArn', { Value: { Ref: logicalId(alerts.topic) } });
    });

    it('subscribes the alert email to the alerts topic alone when one is given', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const withEmail = new ElicenceStack(app, 'Elicence', { alertEmail: 'jiancha@example.gov.cn' });
      const subscriptions = Template.fromStack(withEmail).findResources('AWS::SNS::Subscription');
      expect(Object.values(subscriptions).map((s) => (s as { Properties: Json }).Properties)).toEqual([
        expect.objectContaining({
          Protocol: 'email',
          Endpoint: 'jiancha@example.gov.cn',
          TopicArn: {
            Ref: withEmail.getLogicalId(withEmail.alertNotifications.topic.node.defaultChild as CfnElement),
          },
        }),
      ]);
    });
  });

  describe('audit checkpoints', () => {
    it('invokes the audit function daily from an EventBridge schedule, and nothing else may', () => {
      // With the peer refresh, the notice delivery, the pending-work reconciler, the key watch's three rules
      // (test/cdk/guards.test.ts, review R53 F1), and the failed backup and copy jobs' (deploy-review).
      template.resourceCountIs('AWS::Events::Rule', 10);
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(15 0 * * ? *)',
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: liveArnOf(functionId('audit')) })],
      });
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
        (p) =>
          (p as { Properties: Json }).Properties.Principal === 'events.amazonaws.com' &&
          JSON.stringify((p as { Properties: Json }).Properties.FunctionName).includes(functionId('audit')),
      ) as Array<{ Properties: Json }>;
      expect(permissions).toHaveLength(1);
      expect(permissions[0]!.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        FunctionName: liveArnOf(functionId('audit')),
        SourceArn: { 'Fn::GetAtt': [logicalId(stack.auditCheckpoints), 'Arn'] },
      });
    });
  });

  describe('scheduled functions: peer refresh, withdrawal notices', () => {
    /** `name` is invoked on `schedule` by `rule`, an EventBridge rule, and by nothing else. */
    const expectScheduled = (name: FunctionName, schedule: string, rule: Parameters<typeof logicalId>[0]) => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: schedule,
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: liveArnOf(functionId(name)) })],
      });
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) =>
        JSON.stringify((p as { Properties: Json }).Properties.FunctionName).includes(functionId(name)),
      ) as Array<{ Properties: Json }>;
      expect(permissions).toHaveLength(1);
      expect(permissions[0]!.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [logicalId(rule), 'Arn'] },
      });
    };

    it('invokes the peers function every 15 minutes from an EventBridge rule, and nothing else may', () => {
      expectScheduled('peers', 'rate(15 minutes)', stack.peerRefresh);
    });

    it('invokes the notices function (withdrawal notices) every minute, and nothing else may', () => {
      expectScheduled('notices', 'rate(1 minute)', stack.noticeDelivery);
    });

    it('gives the peers function the peers’ items and the issuers’ index only, no key, and the region', () => {
      const text = JSON.stringify(roleStatements('peers'));
      // No KMS key of ours (only the table key, through DynamoDB, as every table user).
      for (const action of ['kms:Sign', 'kms:GetPublicKey', 'kms:GenerateMac'])
        expect(text).not.toContain(action);
      expect(environmentOf('peers')).toMatchObject({ PLATFORM_REGION: '110000' });
    });
  });

  describe('on-call alarms (SRE review M3)', () => {
    type AlarmProperties = Json & { Metrics?: Array<Json & { Expression?: string; MetricStat?: Json }> };
    const alarmsMatching = (description: RegExp) =>
      Object.values(alarmTemplate.findResources('AWS::CloudWatch::Alarm'))
        .map((alarm) => (alarm as { Properties: AlarmProperties }).Properties)
        .filter((alarm) => description.test(String(alarm.AlarmDescription)));
    const filterOn = (logGroup: { node: { defaultChild?: unknown } }, metricName: string) => {
      const found = Object.values(alarmTemplate.findResources('AWS::Logs::MetricFilter'))
        .map((filter) => (filter as { Properties: Json }).Properties)
        .filter(
          (filter) =>
            JSON.stringify(filter.LogGroupName) === JSON.stringify({ Ref: logicalId(logGroup) }) &&
            JSON.stringify(filter.MetricTransformations).includes(`"MetricName":"${metricName}"`),
        );
      expect(found, metricName).toHaveLength(1);
      return found[0]! as { FilterPattern: string; MetricTransformations: Json[] };
    };

    /** `name` is invoked on `schedule` by `rule`, an EventBridge rule, and by nothing else. */
    const expectScheduledDaily = (
      name: FunctionName,
      schedule: string,
      rule: Parameters<typeof logicalId>[0],
    ) => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: schedule,
        Targets: [Match.objectLike({ Arn: liveArnOf(functionId(name)) })],
      });
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) =>
        JSON.stringify((p as { Properties: Json }).Properties.FunctionName).includes(functionId(name)),
      ) as Array<{ Properties: Json }>;
      expect(permissions.map((p) => p.Properties.SourceArn)).toEqual([
        { 'Fn::GetAtt': [logicalId(rule), 'Arn'] },
      ]);
    };

    it('runs the audit check daily after the checkpoint, reading the audit table and the audit keys’ public keys only', () => {
      expectScheduledDaily('audit-check', 'cron(45 0 * * ? *)', stack.auditCheck);
      const statements = roleStatements('audit-check');
      const on = (resource: { node: { defaultChild?: unknown } }) =>
        statements
          .filter((s) => JSON.stringify(s.Resource).includes(`"${logicalId(resource)}"`))
          .flatMap(actionsOf)
          .filter((action) => action.startsWith('dynamodb:'))
          .sort();
      expect(on(stack.auditTrail.table)).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
      expect(on(stack.data.table)).toEqual([]);
      expect(on(stack.batchJobs.table)).toEqual([]);
      // The audit key: its public key only (it verifies checkpoints, and could not sign one).
      const kms = statements.flatMap(actionsOf).filter((action) => action.startsWith('kms:'));
      expect(kms).not.toContain('kms:Sign');
      expect(functionGrants['audit-check'].auditTable?.items).toEqual({
        GetItem: ['audit-checkpoint-heads#*'],
      });
    });

    it('alarms when the audit chains are broken, and when no run found them intact for 30 hours', () => {
      const logs = stack.functions['audit-check'].logGroup;
      expect(filterOn(logs, 'AuditChainsBroken').FilterPattern).toBe('{ $.message = "audit chains broken" }');
      expect(filterOn(logs, 'AuditChainsIntact').FilterPattern).toBe('{ $.message = "audit chains intact" }');
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Elicence/audit-check',
        MetricName: 'AuditChainsBroken',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
      });
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Elicence/audit-check',
        MetricName: 'AuditChainsIntact',
        Period: 6 * 3600,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: logicalId(stack.alarmNotifications.topic) }],
      });
    });

    it('alarms when the daily audit checkpoint has not been signed for 25 hours (R24 M1)', () => {
      const logs = stack.functions.audit.logGroup;
      expect(filterOn(logs, 'AuditCheckpointSigned').FilterPattern).toBe(
        '{ $.message = "audit checkpoint signed" }',
      );
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Elicence/audit',
        MetricName: 'AuditCheckpointSigned',
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 25,
        DatapointsToAlarm: 25,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: logicalId(stack.alarmNotifications.topic) }],
      });
    });

    it('alarms on throttled reads and writes (the table and each index) and system errors of each table', () => {
      for (const [built, declared, label] of [
        [stack.data.table, table, 'service'],
        [stack.auditTrail.table, auditTable, 'audit'],
        [stack.batchJobs.table, table, 'batch'],
      ] as const) {
        const tableName = JSON.stringify({ Ref: logicalId(built) });
        const [throttles] = alarmsMatching(new RegExp(`^elicence ${label} table: reads or writes throttled`));
        const stats = (throttles?.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat] : []));
        const named = stats.map((stat) => JSON.stringify(stat));
        expect(
          named.every((text) => text.includes(tableName)),
          label,
        ).toBe(true);
        for (const metricName of ['ReadThrottleEvents', 'WriteThrottleEvents']) {
          for (const index of [undefined, ...declared.globalSecondaryIndexes.map((i) => i.indexName)]) {
            expect(
              named.some(
                (text) =>
                  text.includes(`"MetricName":"${metricName}"`) &&
                  (index ? text.includes(`"Value":"${index}"`) : !text.includes('GlobalSecondaryIndexName')),
              ),
              `${label} ${metricName} ${index ?? 'table'}`,
            ).toBe(true);
          }
        }
        const [errors] = alarmsMatching(new RegExp(`^elicence ${label} table: DynamoDB answered 500`));
        const errorStats = (errors?.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat] : []));
        expect(JSON.stringify(errorStats)).toContain('"MetricName":"SystemErrors"');
        for (const operation of ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'TransactWriteItems']) {
          expect(JSON.stringify(errorStats), `${label} ${operation}`).toContain(`"Value":"${operation}"`);
        }
      }
    });

    it('counts 5xx per route from the access log, alarms on the route with the most, and charts the top ten', () => {
      const filter = filterOn(stack.http.accessLogs, 'ServerErrors');
      expect(filter.FilterPattern).toBe('{ $.status = "5*" }');
      expect(filter.MetricTransformations[0]).toMatchObject({
        MetricNamespace: 'Elicence/Api',
        Dimensions: [{ Key: 'Route', Value: '$.routeKey' }],
      });
      const [alarm] = alarmsMatching(/^elicence API: one route answered/);
      expect(alarm?.Metrics?.[0]?.Expression).toBe(
        'SELECT SUM(ServerErrors) FROM SCHEMA("Elicence/Api", Route) GROUP BY Route ORDER BY SUM() DESC LIMIT 1',
      );
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      expect(JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'))).toContain('LIMIT 10');
    });

    // Whoever holds a person's ID number and phone can lock that person's SMS code checks on that phone
    // for a day with 20 blind checks: the checks refused past the ceiling are counted where codes are
    // checked (the step-up and reset in oidc, /register in accounts), and 50 in 5 minutes page.
    it('alarms on SMS code checks refused by their daily ceiling, in the functions that check codes', () => {
      const checkers = ['oidc', 'accounts'] as const;
      expect(
        functionNames.filter((name) => functionGrants[name].table?.items.UpdateItem?.includes('sms-try#*')),
      ).toEqual(checkers);
      for (const name of checkers) {
        const filter = filterOn(stack.functions[name].logGroup, 'SmsCheckCeilingRefusals');
        expect(filter.FilterPattern).toBe('{ $.message = "sms code checks at their daily ceiling" }');
        expect(filter.MetricTransformations[0]).toMatchObject({
          MetricNamespace: `Elicence/${name}`,
          MetricValue: '1',
        });
      }
      const filters = Object.values(alarmTemplate.findResources('AWS::Logs::MetricFilter')).filter((filter) =>
        JSON.stringify(filter).includes('"MetricName":"SmsCheckCeilingRefusals"'),
      );
      expect(filters).toHaveLength(checkers.length);
      const [alarm, ...others] = alarmsMatching(/SMS code checks at their daily ceiling/);
      expect(others).toEqual([]);
      expect(alarm).toMatchObject({
        Threshold: 50,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: logicalId(stack.alarmNotifications.topic) }],
      });
      const metrics = alarm?.Metrics ?? [];
      expect(metrics.find((m) => m.Expression)?.Expression).toBe('FILL(m0, 0) + FILL(m1, 0)');
      expect(
        metrics
          .flatMap((m) => (m.MetricStat ? [m.MetricStat] : []))
          .map((stat) => ({
            metric: (stat.Metric as Json).Namespace,
            name: (stat.Metric as Json).MetricName,
            period: stat.Period,
            stat: stat.Stat,
          })),
      ).toEqual(
        checkers.map((name) => ({
          metric: `Elicence/${name}`,
          name: 'SmsCheckCeilingRefusals',
          period: 300,
          stat: 'Sum',
        })),
      );
    });

    // Two peers listing one issuer id or credit code lose it both (docs/peers.md): their licences stop
    // verifying here, which was only logged. The functions that save peers count the line, and the first
    // pages.
    it('alarms on two peers’ issuers colliding, counted where peers are saved (admin, peers)', () => {
      const savers = ['admin', 'peers'] as const;
      expect(
        functionNames.filter((name) => functionGrants[name].table?.items.PutItem?.includes('peers')),
      ).toEqual(savers);
      for (const name of savers) {
        const filter = filterOn(stack.functions[name].logGroup, 'PeerIssuerCollisions');
        // The line of test/unit/infra/operations-filters.test.ts.
        expect(filter.FilterPattern).toBe('{ $.message = "peer issuers collide: left out at both peers" }');
        expect(filter.MetricTransformations[0]).toMatchObject({
          MetricNamespace: `Elicence/${name}`,
          MetricValue: '1',
        });
      }
      const [alarm, ...others] = alarmsMatching(/two peer platforms list the same issuer/);
      expect(others).toEqual([]);
      expect(alarm).toMatchObject({
        Threshold: 1,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: logicalId(stack.alarmNotifications.topic) }],
      });
      const metrics = alarm?.Metrics ?? [];
      expect(metrics.find((m) => m.Expression)?.Expression).toBe('FILL(m0, 0) + FILL(m1, 0)');
      expect(
        metrics
          .flatMap((m) => (m.MetricStat ? [m.MetricStat] : []))
          .map((stat) => ({
            metric: (stat.Metric as Json).Namespace,
            name: (stat.Metric as Json).MetricName,
            period: stat.Period,
            stat: stat.Stat,
          })),
      ).toEqual(
        savers.map((name) => ({
          metric: `Elicence/${name}`,
          name: 'PeerIssuerCollisions',
          period: 900,
          stat: 'Sum',
        })),
      );
    });

    // A counter clerk at the day's cap (review R30 L1): before, a clerk could find and prove people all
    // day and night, seen only at the next review of the trail. The accounts function counts the line,
    // and the first pages.
    it('alarms on a counter clerk at the day’s cap, counted in the accounts function', () => {
      const filter = filterOn(stack.functions.accounts.logGroup, 'CounterClerkCap');
      // The line of test/unit/identity/counter-proof.test.ts.
      expect(filter.FilterPattern).toBe('{ $.message = "counter clerk daily cap reached" }');
      expect(filter.MetricTransformations[0]).toMatchObject({
        MetricNamespace: 'Elicence/accounts',
        MetricValue: '1',
      });
      const [alarm, ...others] = alarmsMatching(/a counter clerk reached the day's cap/);
      expect(others).toEqual([]);
      expect(alarm).toMatchObject({
        Namespace: 'Elicence/accounts',
        MetricName: 'CounterClerkCap',
        Statistic: 'Sum',
        Period: 900,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: logicalId(stack.alarmNotifications.topic) }],
      });
    });

    it('alarms on an abandoned withdrawal notice and on a peer copy past its stale age', () => {
      const notices = filterOn(stack.functions.notices.logGroup, 'NoticesAbandoned');
      expect(notices.FilterPattern).toBe('{ $.message = "withdrawal notice abandoned" }');
      const peers = filterOn(stack.functions.peers.logGroup, 'StalePeers');
      expect(peers.FilterPattern).toBe('{ $.message = "peers refreshed" }');
      expect(peers.MetricTransformations[0]).toMatchObject({ MetricValue: '$.stalePeers' });
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Elicence/notices',
        MetricName: 'NoticesAbandoned',
        Threshold: 1,
      });
      alarmTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Elicence/peers',
        MetricName: 'StalePeers',
        Statistic: 'Maximum',
        Threshold: 1,
      });
    });
  });

  describe('table', () => {
    it('is the declaration of shared/adapters/dynamo/table.ts', () => {
      const keySchema = (partitionKey: string, sortKey: string) => [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ];
      // The service table, the audit table and the batch table, all from the one declaration; the audit
      // table's adds the usage record by kind (gsi3).
      template.resourceCountIs('AWS::DynamoDB::Table', 3);
      for (const [built, declared] of [
        [stack.data.table, table],
        [stack.auditTrail.table, auditTable],
        [stack.batchJobs.table, table],
      ] as const) {
        const properties = template.toJSON().Resources[logicalId(built)].Properties;
        expect(properties.GlobalSecondaryIndexes).toHaveLength(declared.globalSecondaryIndexes.length);
        expect(properties).toMatchObject({
          KeySchema: keySchema(table.partitionKey, table.sortKey),
          GlobalSecondaryIndexes: declared.globalSecondaryIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: 'ALL' },
          })),
          TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
        });
      }
      expect(table.ttlAttribute).toBe('expiresAt');
      expect(auditTable.globalSecondaryIndexes.map((index) => index.indexName)).toEqual([
        'gsi1',
        'gsi2',
        'gsi3',
      ]);
    });

    it('is on demand, recoverable, protected and encrypted with a rotated customer-managed key', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
          SSESpecification: {
            SSEEnabled: true,
            SSEType: 'KMS',
            KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(stack.keys.table), 'Arn'] },
          },
        },
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        Description: 'elicence DynamoDB table encryption key',
        EnableKeyRotation: true,
      });
    });

    it('encrypts the audit table with a key of its own, rotated, retained and named', () => {
      const sseKey = (built: { node: { defaultChild?: unknown } }) =>
        template.toJSON().Resources[logicalId(built)].Properties.SSESpecification.KMSMasterKeyId;
      expect(sseKey(stack.data.table)).toEqual({ 'Fn::GetAtt': [logicalId(stack.keys.table), 'Arn'] });
      expect(sseKey(stack.auditTrail.table)).toEqual({
        'Fn::GetAtt': [logicalId(stack.keys.auditTable), 'Arn'],
      });
      expect(sseKey(stack.auditTrail.table)).not.toEqual(sseKey(stack.data.table));
      template.hasResource('AWS::KMS::Key', {
        DeletionPolicy: 'Retain',
        Properties: {
          Description: 'elicence audit table encryption key (the audit trail only)',
          EnableKeyRotation: true,
          RotationPeriodInDays: 365,
        },
      });
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-audit-table',
        TargetKeyId: { 'Fn::GetAtt': [logicalId(stack.keys.auditTable), 'Arn'] },
      });
    });
  });
});

/**
 * The logical ids of the deployed keys and aliases, written out: a refactoring that changed a construct id
 * would make CloudFormation replace the key (a new key, the old one's signatures and ciphertexts orphaned)
 * rather than update it, and only a literal list notices. Making keys multi-Region (operator review H3)
 * kept every id; the property itself cannot change on a deployed key (test/cdk/disaster-recovery.test.ts).
 */
describe('ElicenceStack key logical ids (a change would replace a deployed key)', () => {
  const kmsIds = (props: ElicenceStackProps) =>
    Object.entries(synthesize(props).template.toJSON().Resources as Record<string, { Type: string }>)
      .filter(([, resource]) => resource.Type === 'AWS::KMS::Key' || resource.Type === 'AWS::KMS::Alias')
      .map(([id]) => id)
      .sort();
  const unrotated = [
    'AlarmsKey3C2381B3',
    'BackupsKeyC696F888',
    'KeysAudit0EC237E3',
    'KeysAuditAlias5D54027A',
    'KeysAuditTable20DB0124',
    'KeysAuditTableAlias2F12794F',
    'KeysClientSecret55AE22EE',
    'KeysClientSecretAlias13503A7E',
    'KeysCursor49585D0D',
    'KeysCursorAlias997D50A5',
    'KeysInteractionAlias266DA4E9',
    'KeysInteractionD072239F',
    'KeysLookupMacA5327305',
    'KeysLookupMacAlias048F997C',
    // The notice key (review R31 L1): withdrawal notices, never ID tokens.
    'KeysNoticeAlias848161EF',
    'KeysNoticeB2F980E2',
    'KeysPiiAliasC9017973',
    'KeysPiiCA691E99',
    'KeysPlatform9C79BCA6',
    'KeysPlatformAliasE35CA462',
    'KeysPlatformRsa5DBCC68D',
    'KeysPlatformRsaAlias7E581881',
    'KeysPresentation2E2B8A6C',
    'KeysPresentationAlias254DB089',
    'KeysTableF42AC009',
    'KeysWebAliasDC07807F',
    'KeysWebE4F840F8',
    // The SMS queue's key (requested codes waiting to be sent).
    'SmsQueueKey18789D20',
    // The supervision alerts' topic key (its own, apart from the alarm topic's).
    'SupervisionAlertsKey94B3DA6F',
  ];

  it('keeps every key and alias of a stack with no rotation under the id it was deployed with', () => {
    expect(kmsIds({})).toEqual(unrotated);
  });

  it("adds each signing key's next generation under an id of its own, generation 1 and the alias kept", () => {
    const rotated = kmsIds({
      platformKeys: ['2', '1'],
      // Generation 2 retired (review M1): kept, disabled, under its own id.
      platformRsaKeys: ['3', '1'],
      retiredPlatformRsaKeys: ['2'],
      auditKeys: ['3', '2', '1'],
      presentationKeys: ['2', '1'],
      noticeKeys: ['2', '1'],
    });
    expect(rotated).toEqual(
      [
        ...unrotated,
        'KeysPlatform21B31CA3B',
        'KeysPlatformRsa352FBB7B8',
        'KeysPlatformRsa2D6238AF3',
        'KeysAudit2A8462F3B',
        'KeysAudit346C0FF88',
        'KeysPresentation2A2CD1948',
        'KeysNotice2B7566AC7',
      ].sort(),
    );
  });
});

describe('ElicenceStack during a platform key rotation (platformKeys: [2, 1])', () => {
  const { rotating, resources, idOf, arnOf, roleOf } = rotationView({ platformKeys: ['2', '1'] });
  const [previous] = rotating.stack.keys.previousPlatform;

  it('keeps generation 1 under its logical id and adds generation 2, both ES256 signing keys', () => {
    expect(idOf(previous!)).toBe(logicalIdOfDefaultPlatformKey());
    for (const key of [rotating.stack.keys.platform, previous!]) {
      expect(resources[idOf(key)]!.Properties).toMatchObject({
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
      });
    }
    const aliases = Object.values(resources).filter((r) => r.Type === 'AWS::KMS::Alias');
    const platformAlias = aliases.find((a) => a.Properties.AliasName === 'alias/elicence-platform');
    expect(platformAlias?.Properties.TargetKeyId).toEqual(arnOf(rotating.stack.keys.platform));
  });

  it('signs with generation 2 and gives generation 1 to the functions that publish or trust it', () => {
    for (const name of functionNames) {
      const fn = Object.values(resources).find(
        (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role).includes(roleOf(name)),
      )!;
      const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
      if (functionGrants[name].platformKey) {
        expect(variables.PLATFORM_KEY_ID, name).toEqual(arnOf(rotating.stack.keys.platform));
      }
      const previousIds = functionGrants[name].previousPlatformKeys ? arnOf(previous!) : undefined;
      expect(variables.PLATFORM_PREVIOUS_KEY_IDS, name).toEqual(previousIds);
    }
  });

  it('lets oidc and verify read generation 1’s public key, and only its signers sign with it (R49 F1)', () => {
    const policy = resources[idOf(previous!)]!.Properties.KeyPolicy as { Statement: Statement[] };
    // The version still serving during step 1's rollout signs with generation 1: its signers keep it.
    const signers = functionNames.filter((name) => functionGrants[name].platformKey === 'sign');
    expect(signers.sort()).toEqual(['list-signer', 'oidc']);
    expect(previousKeyUsers(policy)).toEqual({
      readers: (['oidc', 'verify'] as const).map(roleOf).sort(),
      signers: signers.map(roleOf).sort(),
    });
    const onPrevious = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((st) => JSON.stringify(st.Resource) === JSON.stringify(arnOf(previous!)));
    expect(onPrevious.map((st) => actionsOf(st).join(' ')).sort()).toEqual([
      'kms:GetPublicKey',
      'kms:GetPublicKey',
      'kms:Sign kms:GetPublicKey',
      'kms:Sign kms:GetPublicKey',
    ]);
  });

  it('passes cdk-nag', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new ElicenceStack(app, 'Elicence', { platformKeys: ['2', '1'] });
    addComplianceChecks(app);
    const report = JSON.parse(
      readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8'),
    ) as { pluginReports: Array<{ violations: unknown[] }> };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });

  it('refuses generations that are not distinct numbers', () => {
    for (const platformKeys of [[], ['2', '2'], ['v2'], ['0']]) {
      expect(() => synthesize({ platformKeys }), JSON.stringify(platformKeys)).toThrow(/platformKeys/);
    }
  });
});

describe('ElicenceStack after two audit key rotations (auditKeys: [3, 2, 1])', () => {
  const { rotating: rotated, resources, idOf, arnOf } = rotationView({ auditKeys: ['3', '2', '1'] });
  const previous = rotated.stack.keys.previousAudit;
  const auditRole = () => idOf(rotated.stack.functions.audit.role);

  it('keeps every generation (1 under its logical id), retained; generation 3 signs and has the alias', () => {
    expect(previous).toHaveLength(2);
    const { stack: initial } = synthesize();
    expect(idOf(previous[1]!)).toBe(initial.getLogicalId(initial.keys.audit.node.defaultChild as CfnElement));
    for (const key of [rotated.stack.keys.audit, ...previous]) {
      expect(resources[idOf(key)]!.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256' });
      expect(resources[idOf(key)]!.DeletionPolicy).toBe('Retain');
    }
    const alias = Object.values(resources).find(
      (r) => r.Type === 'AWS::KMS::Alias' && r.Properties.AliasName === 'alias/elicence-audit',
    );
    expect(alias?.Properties.TargetKeyId).toEqual(arnOf(rotated.stack.keys.audit));
  });

  it('gives the audit function the signing key and every earlier one, public key only (the last one signs too)', () => {
    const fn = Object.values(resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role).includes(auditRole()),
    )!;
    const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
    expect(variables.AUDIT_KEY_ID).toEqual(arnOf(rotated.stack.keys.audit));
    expect(variables.AUDIT_PREVIOUS_KEY_IDS).toEqual({
      'Fn::Join': ['', [arnOf(previous[0]!), ',', arnOf(previous[1]!)]],
    });
    for (const [index, key] of previous.entries()) {
      const policy = resources[idOf(key)]!.Properties.KeyPolicy as { Statement: Statement[] };
      // The audit function publishes them; the daily check verifies checkpoints with them. The version
      // serving before the rotation signs with generation 2 until the new one is live (R49 F1).
      expect(previousKeyUsers(policy)).toEqual({
        readers: [auditRole(), idOf(rotated.stack.functions['audit-check'].role)].sort(),
        signers: index === 0 ? [auditRole()] : [],
      });
    }
  });

  it('passes cdk-nag', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new ElicenceStack(app, 'Elicence', { auditKeys: ['3', '2', '1'] });
    addComplianceChecks(app);
    const report = JSON.parse(
      readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8'),
    ) as { pluginReports: Array<{ violations: unknown[] }> };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });

  it('refuses generations that are not distinct numbers', () => {
    for (const auditKeys of [[], ['2', '2'], ['v2']]) {
      expect(() => synthesize({ auditKeys }), JSON.stringify(auditKeys)).toThrow(/auditKeys/);
    }
  });

  it('refuses a list that drops a generation: only a contiguous run down to 1 (security review L2)', () => {
    for (const auditKeys of [['3', '1'], ['2'], ['1', '2'], ['3', '2'], ['2', '3', '1']]) {
      expect(() => synthesize({ auditKeys }), JSON.stringify(auditKeys)).toThrow(/auditKeys.*never dropped/);
    }
    expect(() => synthesize({ auditKeys: ['2', '1'] })).not.toThrow();
  });
});

describe('ElicenceStack during a presentation key rotation (presentationKeys: [2, 1])', () => {
  const { rotating, resources, idOf, arnOf, roleOf, variablesOf } = rotationView({
    presentationKeys: ['2', '1'],
  });
  const [previous] = rotating.stack.keys.previousPresentation;

  it('keeps generation 1 under its logical id, moves the alias to generation 2 and signs with it', () => {
    expect(idOf(previous!)).toBe(idOf(synthesize().stack.keys.presentation));
    const alias = Object.values(resources).find(
      (r) => r.Type === 'AWS::KMS::Alias' && r.Properties.AliasName === 'alias/elicence-presentation',
    );
    expect(alias?.Properties.TargetKeyId).toEqual(arnOf(rotating.stack.keys.presentation));
    expect(variablesOf('me').PRESENTATION_KEY_ID).toEqual(arnOf(rotating.stack.keys.presentation));
    // me signs with the current generation alone; the trust list and verify read generation 1 too.
    expect(variablesOf('me').PRESENTATION_PREVIOUS_KEY_IDS).toBeUndefined();
    for (const name of ['trust-list', 'verify'] as const) {
      expect(variablesOf(name).PRESENTATION_PREVIOUS_KEY_IDS, name).toEqual(arnOf(previous!));
    }
  });

  it('lets the trust list, its signer and verify read generation 1’s public key, and only me sign with it', () => {
    const policy = resources[idOf(previous!)]!.Properties.KeyPolicy as { Statement: Statement[] };
    expect(previousKeyUsers(policy)).toEqual({
      readers: (['trust-list', 'list-signer', 'verify'] as const).map(roleOf).sort(),
      // The version of me still serving during the rollout signs with generation 1 (R49 F1).
      signers: [roleOf('me')],
    });
  });

  it('refuses generations that are not distinct numbers', () => {
    for (const presentationKeys of [[], ['2', '2'], ['v2'], ['0']]) {
      expect(() => synthesize({ presentationKeys }), JSON.stringify(presentationKeys)).toThrow(
        /presentationKeys/,
      );
    }
  });
});

describe('ElicenceStack during a notice key rotation (noticeKeys: [2, 1])', () => {
  const { rotating, resources, idOf, arnOf, roleOf, variablesOf } = rotationView({ noticeKeys: ['2', '1'] });
  const [previous] = rotating.stack.keys.previousNotice;

  it('keeps generation 1 under its logical id, signs with generation 2 and publishes both', () => {
    expect(idOf(previous!)).toBe(idOf(synthesize().stack.keys.notice));
    const alias = Object.values(resources).find(
      (r) => r.Type === 'AWS::KMS::Alias' && r.Properties.AliasName === 'alias/elicence-notice',
    );
    expect(alias?.Properties.TargetKeyId).toEqual(arnOf(rotating.stack.keys.notice));
    expect(variablesOf('notices').NOTICE_KEY_ID).toEqual(arnOf(rotating.stack.keys.notice));
    // notices signs with the current generation alone; the notices JWKS's publisher reads generation 1 too.
    expect(variablesOf('notices').NOTICE_PREVIOUS_KEY_IDS).toBeUndefined();
    expect(variablesOf('trust-list').NOTICE_PREVIOUS_KEY_IDS).toEqual(arnOf(previous!));
    const policy = resources[idOf(previous!)]!.Properties.KeyPolicy as { Statement: Statement[] };
    // The version of notices still serving during the rollout signs with generation 1 (R49 F1).
    expect(previousKeyUsers(policy)).toEqual({
      readers: [roleOf('trust-list')],
      signers: [roleOf('notices')],
    });
  });

  it('refuses generations that are not distinct numbers', () => {
    for (const noticeKeys of [[], ['2', '2'], ['v2'], ['0']]) {
      expect(() => synthesize({ noticeKeys }), JSON.stringify(noticeKeys)).toThrow(/noticeKeys/);
    }
  });
});

describe('ElicenceStack during an RSA platform key rotation (platformRsaKeys: [2, 1])', () => {
  const { rotating, resources, idOf, arnOf, roleOf } = rotationView({ platformRsaKeys: ['2', '1'] });
  const [previous] = rotating.stack.keys.previousPlatformRsa;

  it('keeps generation 1 under its logical id, signs with generation 2 and publishes both from oidc', () => {
    const { stack } = synthesize();
    expect(idOf(previous!)).toBe(stack.getLogicalId(stack.keys.platformRsa.node.defaultChild as CfnElement));
    for (const key of [rotating.stack.keys.platformRsa, previous!]) {
      expect(resources[idOf(key)]!.Properties).toMatchObject({
        KeySpec: 'RSA_2048',
        KeyUsage: 'SIGN_VERIFY',
      });
    }
    const alias = Object.values(resources).find(
      (r) => r.Type === 'AWS::KMS::Alias' && r.Properties.AliasName === 'alias/elicence-platform-rsa',
    );
    expect(alias?.Properties.TargetKeyId).toEqual(arnOf(rotating.stack.keys.platformRsa));
    const oidc = Object.values(resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role).includes(roleOf('oidc')),
    )!;
    const variables = (oidc.Properties.Environment as { Variables: Json }).Variables;
    expect(variables.PLATFORM_RSA_KEY_ID).toEqual(arnOf(rotating.stack.keys.platformRsa));
    expect(variables.PLATFORM_RSA_PREVIOUS_KEY_IDS).toEqual(arnOf(previous!));
    const policy = resources[idOf(previous!)]!.Properties.KeyPolicy as { Statement: Statement[] };
    // oidc publishes generation 1, and its version still serving during the rollout signs with it (R49 F1).
    expect(previousKeyUsers(policy)).toEqual({ readers: [roleOf('oidc')], signers: [roleOf('oidc')] });
  });

  it('refuses generations that are not distinct numbers', () => {
    expect(() => synthesize({ platformRsaKeys: ['1', '1'] })).toThrow(/platformRsaKeys/);
  });
});

describe('ElicenceStack with auditHolderCommitmentsSince', () => {
  it('gives the day to the functions that answer audit entries, and to no other', () => {
    const { stack, template } = synthesize({ auditHolderCommitmentsSince: '2027-01-05' });
    for (const name of functionNames) {
      const id = stack.getLogicalId(stack.functions[name].function.node.defaultChild as CfnElement);
      const fn = template.toJSON().Resources[id] as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      };
      const day = fn.Properties.Environment.Variables.AUDIT_HOLDER_COMMITMENTS_SINCE;
      expect(day, name).toBe(name === 'me' || name === 'audit' ? '2027-01-05' : undefined);
    }
  });

  it('refuses a day that is not one', () => {
    for (const day of ['2027-1-5', '2027-02-30', 'tomorrow']) {
      expect(() => synthesize({ auditHolderCommitmentsSince: day }), day).toThrow(
        /auditHolderCommitmentsSince/,
      );
    }
  });
});

describe('ElicenceStack with supervisionHistoryBefore (moving the audit trail)', () => {
  const historyBeforeOf = (stack: ElicenceStack, template: Template) =>
    Object.fromEntries(
      functionNames.map((name) => {
        const id = stack.getLogicalId(stack.functions[name].function.node.defaultChild as CfnElement);
        const fn = template.toJSON().Resources[id] as {
          Properties: { Environment: { Variables: Record<string, unknown> } };
        };
        return [name, fn.Properties.Environment.Variables.SUPERVISION_HISTORY_BEFORE];
      }),
    );

  it('gives the cut-over to supervision-events alone, and by default to nothing (nothing skipped)', () => {
    const { stack, template } = synthesize({ supervisionHistoryBefore: '2026-12-06T09:30:00Z' });
    for (const [name, value] of Object.entries(historyBeforeOf(stack, template))) {
      expect(value, name).toBe(name === 'supervision-events' ? '2026-12-06T09:30:00Z' : undefined);
    }
    const defaults = synthesize();
    expect(Object.values(historyBeforeOf(defaults.stack, defaults.template)).filter(Boolean)).toEqual([]);
  });

  it('refuses what is not an instant', () => {
    for (const value of ['2026-12-06', '2026-12-06T09:30:00', '2026-02-30T09:30:00Z', 'now']) {
      expect(() => synthesize({ supervisionHistoryBefore: value }), value).toThrow(
        /supervisionHistoryBefore/,
      );
    }
  });
});

/** The platform key's logical id in a stack with no rotation under way. */
function logicalIdOfDefaultPlatformKey(): string {
  const { stack } = synthesize();
  return stack.getLogicalId(stack.keys.platform.node.defaultChild as CfnElement);
}

describe('cdk-nag (AWS Solutions)', () => {
  it('finds nothing unacknowledged in the app', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new ElicenceStack(app, 'Elicence');
    addComplianceChecks(app);
    let assembly: ReturnType<App['synth']> | undefined;
    expect(() => (assembly = app.synth())).not.toThrow();
    const report = JSON.parse(readFileSync(join(assembly!.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ violations: unknown[] }>;
    };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });

  it('does fail the synth on a finding (the checks run)', () => {
    const app = new App();
    const stack = new Stack(app, 'Careless');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:*'], resources: ['*'] }));
    addComplianceChecks(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::kms:\*\]/);
  });
});

describe('bundling', () => {
  it('bundles every function with the local esbuild, never Docker', () => {
    const previousDocker = process.env.CDK_DOCKER;
    process.env.CDK_DOCKER = '/nonexistent/docker'; // any attempt to use Docker would fail
    try {
      const app = new App();
      const stack = new ElicenceStack(app, 'Elicence');
      const assembly = app.synth();
      const template = Template.fromStack(stack).toJSON();
      for (const name of functionNames) {
        const fn = template.Resources[
          stack.getLogicalId(stack.functions[name].function.node.defaultChild as CfnFunction)
        ] as { Properties: { Code: { S3Key: string } } };
        // The asset's S3 key is `<hash>.zip`; the cloud assembly keeps its content in `asset.<hash>/`.
        const assetDir = join(assembly.directory, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
        const rendersPdf = name === 'licences' || name === 'me';
        const files = readdirSync(assetDir).sort();
        const expectedFiles = [
          'index.mjs',
          'index.mjs.map',
          ...(files.includes('chunks') ? ['chunks'] : []),
          ...(name === 'web' ? ['web-assets'] : []),
          ...(rendersPdf ? ['node_modules'] : []),
        ].sort();
        expect(files, name).toEqual(expectedFiles);
        if (rendersPdf) {
          // The printable licence's font, at the path the code reads it from (relative to /var/task).
          expect(readFileSync(join(assetDir, pdfFontFile)).equals(readFileSync(pdfFontFile)), name).toBe(
            true,
          );
        }
        if (name === 'web') {
          // The browser assets, built by the same esbuild step the local runtime runs.
          expect(readdirSync(join(assetDir, 'web-assets')).sort()).toEqual(
            [...Object.keys(webAssetEntries), ...Object.keys(staticWebAssets)].sort(),
          );
        }
        const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
        expect(code.startsWith(requireBanner), name).toBe(true);
        expect(code).toContain('//# sourceMappingURL=index.mjs.map');
        // The SDK's credential chain is the environment only (infra/lambda-credentials.ts): no STS client.
        expect(code, name).not.toContain('AssumeRoleWithWebIdentity');
        expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
        // Code splitting: every chunk is an ES module beside its source map, with the banner, and the
        // chunks `index.mjs` imports statically are there (a missing one fails at cold start, not here).
        const chunks = files.includes('chunks') ? readdirSync(join(assetDir, 'chunks')) : [];
        for (const chunk of chunks.filter((file) => file.endsWith('.mjs'))) {
          expect(chunks, `${name} ${chunk}`).toContain(`${chunk}.map`);
          expect(readFileSync(join(assetDir, 'chunks', chunk), 'utf8').startsWith(requireBanner)).toBe(true);
        }
        for (const [, imported] of code.matchAll(/from"\.\/chunks\/([^"]+)"/g)) {
          expect(chunks, name).toContain(imported);
        }
        // The PDF renderer (pdfkit, fontkit) and the WebAuthn library load on first use only: chunks of
        // their own, out of what every cold start reads (docs/benchmarks.md, "Cold start").
        expect(code, name).not.toContain('[object PDFDocument]');
        expect(code, name).not.toContain('Unexpected registration response type');
        const lazy = (marker: string) =>
          chunks.some(
            (chunk) =>
              chunk.endsWith('.mjs') &&
              readFileSync(join(assetDir, 'chunks', chunk), 'utf8').includes(marker),
          );
        if (rendersPdf) expect(lazy('[object PDFDocument]'), name).toBe(true);
        if (name === 'me' || name === 'oidc')
          expect(lazy('Unexpected registration response type'), name).toBe(true);
      }
    } finally {
      if (previousDocker === undefined) delete process.env.CDK_DOCKER;
      else process.env.CDK_DOCKER = previousDocker;
    }
    // Fourteen bundles on a shared two-core machine: a budget, not a speed claim.
  }, 180_000);
});
