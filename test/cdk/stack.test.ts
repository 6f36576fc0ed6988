import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionNames, routeKey, routes, type FunctionName } from '../../functions/routes.js';
import { requireBanner } from '../../infra/bundling.js';
import { addComplianceChecks, ElicenceStack } from '../../infra/stack.js';
import { table } from '../../shared/storage/table.js';

type Json = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Json;
  Sid?: string;
}

/** Synthesises the stack without bundling: NodejsFunction skips esbuild for stacks not listed here. */
function synthesize(): { stack: ElicenceStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ElicenceStack(app, 'Elicence');
  return { stack, template: Template.fromStack(stack) };
}

const actionsOf = (statement: Statement) => [statement.Action].flat();

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
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const functionId = (name: FunctionName) => logicalId(stack.functions[name].function);
  const roleId = (name: FunctionName) => logicalId(stack.functions[name].role);

  /** Every statement of every IAM policy attached to the function's role. */
  function roleStatements(name: FunctionName): Statement[] {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([{ Ref: roleId(name) }]) },
    });
    return Object.values(policies).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
  }

  function environmentOf(name: FunctionName): Record<string, unknown> {
    const fn = template.toJSON().Resources[functionId(name)] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    return fn.Properties.Environment.Variables;
  }

  beforeAll(() => {
    ({ stack, template } = synthesize());
  });

  describe('HTTP API', () => {
    it('has exactly the routes of the route table, each to the function it names', () => {
      const found = template.findResources('AWS::ApiGatewayV2::Route');
      const keys = Object.values(found).map((route) => (route as { Properties: Json }).Properties.RouteKey);
      expect(new Set(keys)).toEqual(new Set(routes.map(routeKey)));
      expect(keys).toHaveLength(routes.length);

      const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
      for (const route of routes) {
        const [, resource] = Object.entries(found).find(
          ([, r]) => (r as { Properties: Json }).Properties.RouteKey === routeKey(route),
        )!;
        const target = render((resource as { Properties: Json }).Properties.Target);
        const integrationId = /^integrations\/\$\{(.+)\}$/.exec(target)?.[1] ?? '';
        const integration = (integrations[integrationId] as { Properties: Json }).Properties;
        expect(integration.IntegrationUri, routeKey(route)).toEqual({
          'Fn::GetAtt': [functionId(route.function), 'Arn'],
        });
        expect(integration.PayloadFormatVersion).toBe('2.0');
        expect((resource as { Properties: Json }).Properties.AuthorizationType ?? 'NONE').toBe('NONE');
      }
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

    it('configures no CORS in API Gateway (the OpenID provider answers it itself)', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        CorsConfiguration: Match.absent(),
      });
    });

    it('alarms on the 5xx rate and outputs the API and issuer URLs', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
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
    const expectedEnvironment: Record<FunctionName, string[]> = {
      health: [],
      catalogue: [],
      oidc: [...service, 'TABLE_NAME', 'PLATFORM_KEY_ID', 'LOOKUP_MAC_KEY_ID', 'ACCESS_TOKEN_TTL_SECONDS'],
      admin: [...service, 'TABLE_NAME', 'LOOKUP_MAC_KEY_ID', 'ISSUER_KEY_POLICY'],
      licences: [...service, 'TABLE_NAME', 'LOOKUP_MAC_KEY_ID'],
      'status-lists': [...service, 'TABLE_NAME'],
      'trust-list': [...service, 'TABLE_NAME', 'PLATFORM_KEY_ID'],
    };

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
          MemorySize: name === 'oidc' ? 1024 : 512,
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
        template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 180 });
      },
    );

    it('gives the API endpoint as ISSUER_URL and keys by ARN', () => {
      const endpoint = { 'Fn::GetAtt': [logicalId(stack.http.api), 'ApiEndpoint'] };
      expect(environmentOf('oidc')).toMatchObject({
        ISSUER_URL: endpoint,
        TABLE_NAME: { Ref: logicalId(stack.data.table) },
        PLATFORM_KEY_ID: { 'Fn::GetAtt': [logicalId(stack.keys.platform), 'Arn'] },
        LOOKUP_MAC_KEY_ID: { 'Fn::GetAtt': [logicalId(stack.keys.lookupMac), 'Arn'] },
      });
      expect(environmentOf('admin').ISSUER_URL).toEqual(endpoint);
    });

    it.each(functionNames)('%s: alarms on errors and throttles', (name) => {
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(name) } }],
        });
      }
    });

    it('counts and alarms on throttled KMS calls of the functions that call KMS', () => {
      for (const name of ['oidc', 'admin', 'licences', 'status-lists', 'trust-list'] as const) {
        template.hasResourceProperties('AWS::Logs::MetricFilter', {
          LogGroupName: { Ref: logicalId(stack.functions[name].logGroup) },
          FilterPattern: '{ $.error.name = "ThrottlingException" }',
        });
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: `Elicence/${name}`,
          MetricName: 'ThrottlingExceptions',
        });
      }
      template.resourceCountIs('AWS::Logs::MetricFilter', 5);
    });
  });

  describe('permissions', () => {
    const platformKeyArn = () => ({ 'Fn::GetAtt': [logicalId(stack.keys.platform), 'Arn'] });
    const grants = (name: FunctionName, action: string) =>
      roleStatements(name).filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action));

    it('lets oidc sign with the platform key, and not admin', () => {
      expect(grants('oidc', 'kms:Sign').map((s) => s.Resource)).toEqual([platformKeyArn()]);
      expect(grants('oidc', 'kms:GetPublicKey').map((s) => s.Resource)).toEqual([platformKeyArn()]);
      expect(grants('admin', 'kms:Sign')).toEqual([]);
      const adminStatements = JSON.stringify(roleStatements('admin'));
      expect(adminStatements).not.toContain(logicalId(stack.keys.platform));
    });

    it('names the platform key users in its key policy, and the account may administer it only', () => {
      const key = template.toJSON().Resources[logicalId(stack.keys.platform)].Properties;
      expect(key).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
      const statements = key.KeyPolicy.Statement as Statement[];
      const signers = statements.filter((s) => actionsOf(s).includes('kms:Sign')).map((s) => s.Principal);
      expect(signers).toEqual(expect.arrayContaining([{ AWS: { 'Fn::GetAtt': [roleId('oidc'), 'Arn'] } }]));
      expect(JSON.stringify(signers)).not.toContain(roleId('admin'));
      for (const statement of statements) {
        expect(actionsOf(statement)).not.toContain('kms:*');
        expect(actionsOf(statement)).not.toContain('kms:CreateGrant');
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-platform',
        TargetKeyId: platformKeyArn(),
      });
    });

    it('lets oidc and admin compute MACs with the lookup key', () => {
      const key = template.toJSON().Resources[logicalId(stack.keys.lookupMac)].Properties;
      expect(key).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      const macArn = { 'Fn::GetAtt': [logicalId(stack.keys.lookupMac), 'Arn'] };
      for (const name of ['oidc', 'admin'] as const) {
        expect(grants(name, 'kms:GenerateMac').map((s) => s.Resource)).toEqual([macArn]);
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/elicence-lookup-mac',
        TargetKeyId: macArn,
      });
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
          .sort();
      const index = (name: string) => `\${${logicalId(stack.data.table)}.Arn}/index/${name}`;

      expect(itemActions('oidc')).toEqual([
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]);
      expect(queried('oidc')).toEqual([index('gsi1'), index('gsi2')]);
      expect(itemActions('admin')).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
      expect(queried('admin')).toEqual([]);
      for (const name of functionNames) {
        const all = roleStatements(name).flatMap(actionsOf);
        expect(
          all.filter((a) => a.startsWith('dynamodb:') && /Scan|Transact|\*/.test(a)),
          name,
        ).toEqual([]);
      }
    });

    it('reaches the table key through DynamoDB only', () => {
      const tableKeyArn = { 'Fn::GetAtt': [logicalId(stack.keys.table), 'Arn'] };
      for (const name of functionNames) {
        const statements = roleStatements(name).filter(
          (s) => JSON.stringify(s.Resource) === JSON.stringify(tableKeyArn),
        );
        const usesTable = roleStatements(name).some((s) =>
          actionsOf(s).some((a) => a.startsWith('dynamodb:')),
        );
        expect(statements, name).toHaveLength(usesTable ? 1 : 0);
        for (const statement of statements) {
          const viaService = (statement.Condition?.StringLike as Json | undefined)?.['kms:ViaService'];
          expect(render(viaService)).toBe('dynamodb.*.${AWS::URLSuffix}');
        }
      }
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
        if (name === 'licences' || name === 'status-lists') {
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
        new Set([`\${${roleId('licences')}.Arn}`, `\${${roleId('status-lists')}.Arn}`]),
      );
    });

    it('uses no AWS managed policy', () => {
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect((role as { Properties: Json }).Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });

  describe('table', () => {
    it('is the declaration of shared/storage/table.ts', () => {
      const keySchema = (partitionKey: string, sortKey: string) => [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ];
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: keySchema(table.partitionKey, table.sortKey),
        GlobalSecondaryIndexes: table.globalSecondaryIndexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: keySchema(index.partitionKey, index.sortKey),
          Projection: { ProjectionType: 'ALL' },
        })),
        TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
      });
      expect(table.ttlAttribute).toBe('expiresAt');
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
  });
});

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
        expect(readdirSync(assetDir).sort(), name).toEqual(['index.mjs', 'index.mjs.map']);
        const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
        expect(code.startsWith(requireBanner), name).toBe(true);
        expect(code).toContain('//# sourceMappingURL=index.mjs.map');
        expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
      }
    } finally {
      if (previousDocker === undefined) delete process.env.CDK_DOCKER;
      else process.env.CDK_DOCKER = previousDocker;
    }
  });
});
