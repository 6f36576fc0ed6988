import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionGrants } from '../../functions/grants.js';
import { functionNames, routes, type FunctionName } from '../../functions/routes.js';
import { ElicenceStack, type ElicenceStackProps } from '../../infra/stack.js';
import type { Json, Statement } from '../support/iam-statement.js';
import { liveAliases, liveArnOf } from '../support/live-aliases.js';

/**
 * Gradual deploys (infra/constructs/gradual-deploys.ts, docs/operating.md "Deploys"): every function is
 * invoked through its `live` alias, which a CodeDeploy group moves to each new version, 10 % first on the
 * request path, and moves back when the new version's errors raise its alarm.
 */
function synthesize(props: ElicenceStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ElicenceStack(app, 'Elicence', props);
  const template = Template.fromStack(stack);
  return { stack, template, live: liveAliases(stack, template) };
}

type Resources = Record<
  string,
  { Type: string; Properties: Json; UpdatePolicy?: Json; DependsOn?: string[] }
>;
const ofType = (resources: Resources, type: string) =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);

/** The functions' logical ids before gradual deploys: a change would replace the function. */
const deployedFunctionIds = [
  'accountsFunctionFC5DB0F5',
  'adminFunctionBE17BCF5',
  'auditFunctionEDB68F2A',
  'auditcheckFunctionFBD6F5A7',
  'batchesFunctionCA895031',
  'catalogueFunctionE1F6E94E',
  'consoleFunction903044CE',
  'demoplatformFunctionAADC8728',
  'healthFunction7E2A437F',
  'pendingworkreconcilerFunction7CB9D14F',
  'licencesFunctionBE28DD2D',
  'listsignerFunction442F029C',
  'meFunction60AFA3E8',
  'noticesFunction42252357',
  'oidcFunctionD67EE329',
  'peersFunction255286BC',
  'statuslistsFunctionE9B641AF',
  'supervisionFunction432E7D79',
  'supervisioneventsFunctionCC2F7AE4',
  'trustlistFunction4E896411',
  'verifyFunction011DB120',
  'walletFunction95E71037',
  'webFunctionC340AA86',
];

const canary = 'CodeDeployDefault.LambdaCanary10Percent5Minutes';
const allAtOnce = 'CodeDeployDefault.LambdaAllAtOnce';

describe('gradual deploys', () => {
  let built: ReturnType<typeof synthesize>;
  let parent: Resources;
  beforeAll(() => {
    built = synthesize();
    parent = built.template.toJSON().Resources as Resources;
  });

  /** The deployment group, and the alarm it rolls back on, of `name`'s alias (by its update policy). */
  const groupOf = (name: FunctionName) => {
    const { live } = built;
    const alias = live.nestedResources[live.aliasId(name)]!;
    const update = alias.UpdatePolicy?.CodeDeployLambdaAliasUpdate as Json;
    const groupId = (update.DeploymentGroupName as { Ref: string }).Ref;
    const group = live.nestedResources[groupId]!;
    expect(group.Type, name).toBe('AWS::CodeDeploy::DeploymentGroup');
    expect(update.ApplicationName, name).toEqual(group.Properties.ApplicationName);
    return { groupId, group: group.Properties };
  };

  it('publishes every function as a version, with a live alias on it', () => {
    const versions = ofType(parent, 'AWS::Lambda::Version');
    expect(versions).toHaveLength(functionNames.length);
    for (const name of functionNames) {
      const { live } = built;
      expect(parent[live.versionId(name)]?.Properties.FunctionName, name).toEqual({
        Ref: live.functionId(name),
      });
      expect(() => live.aliasId(name), name).not.toThrow();
    }
    expect(ofType(built.live.nestedResources, 'AWS::Lambda::Alias')).toHaveLength(functionNames.length);
  });

  it('sends every API route to its function’s live alias, never to $LATEST', () => {
    const { live } = built;
    const integrations = ofType(parent, 'AWS::ApiGatewayV2::Integration');
    expect(integrations.length).toBe(new Set(routes.map((route) => route.function)).size);
    const targets = integrations.map(([, integration]) =>
      live.aliasNamedBy(integration.Properties.IntegrationUri),
    );
    expect(new Set(targets)).toEqual(new Set(routes.map((route) => live.aliasId(route.function))));
  });

  it('lets the schedules, the stream and the queue invoke the aliases alone, and only they and the API', () => {
    const { live } = built;
    // The rules: their targets and permissions name `<function arn>:live`, built in the parent.
    const scheduled: FunctionName[] = ['audit', 'peers', 'notices', 'pending-work-reconciler', 'audit-check'];
    const lambdaTargets = ofType(parent, 'AWS::Events::Rule')
      .flatMap(([, rule]) => rule.Properties.Targets as Json[])
      .map((target) => target.Arn)
      .filter((arn) => JSON.stringify(arn).includes('Function'));
    expect(lambdaTargets).toEqual(scheduled.map((name) => liveArnOf(live.functionId(name))));
    const parentPermissions = ofType(parent, 'AWS::Lambda::Permission').map(([, p]) => p.Properties);
    expect(parentPermissions.map((p) => [p.Principal, p.FunctionName])).toEqual(
      scheduled.map((name) => ['events.amazonaws.com', liveArnOf(live.functionId(name))]),
    );
    // The API's, beside the aliases: each on an alias, none on a function.
    const aliasIds = new Set(functionNames.map((name) => live.aliasId(name)));
    for (const [id, permission] of ofType(live.nestedResources, 'AWS::Lambda::Permission')) {
      expect(permission.Properties.Principal, id).toBe('apigateway.amazonaws.com');
      expect(aliasIds.has((permission.Properties.FunctionName as { Ref: string }).Ref), id).toBe(true);
    }
    // The stream's and the queues' mappings: `<name>:live` of the alias.
    const mappings = ofType(live.nestedResources, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(3);
    for (const name of ['supervision-events', 'batches', 'sms-codes'] as const) {
      expect(
        mappings.filter(
          ([, m]) =>
            JSON.stringify(m.Properties.FunctionName) ===
            JSON.stringify({
              'Fn::Join': [
                '',
                [{ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: live.aliasId(name) }] }] }, ':live'],
              ],
            }),
        ),
        name,
      ).toHaveLength(1);
    }
  });

  it('grants function-to-function invocations on the alias alone, as functions/grants.ts declares them', () => {
    const { live, stack } = built;
    const invokeStatements = ofType(parent, 'AWS::IAM::Policy')
      .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('lambda:Invoke')));
    const declared = functionNames.flatMap((caller) =>
      (functionGrants[caller].invokes ?? []).map((target) => liveArnOf(live.functionId(target))),
    );
    expect(declared.length).toBeGreaterThan(0);
    expect(invokeStatements.map((statement) => statement.Resource)).toEqual(declared);
    for (const statement of invokeStatements) expect(statement.Action).toBe('lambda:InvokeFunction');
    // Each caller's role holds its own.
    const roleOf = (name: FunctionName) =>
      stack.getLogicalId(stack.functions[name].role.node.defaultChild as CfnElement);
    for (const caller of functionNames) {
      const own = ofType(parent, 'AWS::IAM::Policy')
        .filter(
          ([, policy]) =>
            JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleOf(caller) }]),
        )
        .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((statement) => statement.Action === 'lambda:InvokeFunction')
        .map((statement) => statement.Resource);
      expect(own, caller).toEqual(
        (functionGrants[caller].invokes ?? []).map((t) => liveArnOf(live.functionId(t))),
      );
    }
  });

  it('gives every function a deployment group that rolls back when its new version fails', () => {
    const { live } = built;
    const groups = ofType(live.nestedResources, 'AWS::CodeDeploy::DeploymentGroup');
    expect(groups).toHaveLength(functionNames.length);
    for (const name of functionNames) {
      const { group } = groupOf(name);
      expect(group.AutoRollbackConfiguration, name).toEqual({
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
      });
      const alarms = (
        group.AlarmConfiguration as { Enabled: boolean; Alarms: Array<{ Name: { Ref: string } }> }
      ).Alarms;
      expect((group.AlarmConfiguration as Json).Enabled, name).toBe(true);
      expect(alarms, name).toHaveLength(1);
      const alarm = live.fromParent(live.nestedResources[alarms[0]!.Name.Ref]!.Properties) as Json;
      // The errors of the version being deployed alone, by minute, from the first one.
      expect(alarm, name).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 60,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      expect(alarm.Dimensions, name).toEqual([
        { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [live.versionId(name), 'Version'] } },
        { Name: 'FunctionName', Value: { Ref: live.functionId(name) } },
        { Name: 'Resource', Value: { 'Fn::Join': [':', [{ Ref: live.functionId(name) }, 'live']] } },
      ]);
      // CodeDeploy's alone: after the deploy it watches the live version, whose errors `<fn>/Errors`
      // pages on (every version's); paging with this one would tell of a rollback that did not happen.
      expect(alarm.AlarmActions, name).toBeUndefined();
      expect(alarm.OKActions, name).toBeUndefined();
    }
  });

  it('gives each new version a new rollback alarm, so no state of the old version’s carries over', () => {
    // CloudWatch keeps an updated alarm's state: an alarm moved to the new version would still be in ALARM
    // from the old version's error the minute before, and roll a sound deploy back.
    const alarmOf = (of: ReturnType<typeof synthesize>, name: FunctionName) => {
      const update = of.live.nestedResources[of.live.aliasId(name)]!.UpdatePolicy
        ?.CodeDeployLambdaAliasUpdate as Json;
      const group = of.live.nestedResources[(update.DeploymentGroupName as { Ref: string }).Ref]!;
      const [named] = (group.Properties.AlarmConfiguration as { Alarms: Array<{ Name: { Ref: string } }> })
        .Alarms;
      return named!.Name.Ref;
    };
    // A change of configuration publishes a new version of every function (as a change of code does).
    const next = synthesize({ logLevel: 'DEBUG' });
    const alarmIds = (of: ReturnType<typeof synthesize>) =>
      ofType(of.live.nestedResources, 'AWS::CloudWatch::Alarm').map(([id]) => id);
    for (const name of functionNames) {
      expect(next.live.versionId(name), name).not.toBe(built.live.versionId(name));
      const [before, after] = [alarmOf(built, name), alarmOf(next, name)];
      expect(after, name).not.toBe(before);
      // The group names the new version's alarm, which watches the new version; the old one is gone.
      expect(
        (next.live.fromParent(next.live.nestedResources[after]!.Properties.Dimensions) as Json[])[0],
        name,
      ).toEqual({ Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [next.live.versionId(name), 'Version'] } });
      expect(alarmIds(next), name).not.toContain(before);
    }
    expect(alarmIds(next)).toHaveLength(functionNames.length);
    // The same code and configuration keep the same alarm (no churn on a deploy that changes nothing).
    const again = synthesize();
    for (const name of functionNames) expect(alarmOf(again, name), name).toBe(alarmOf(built, name));
  }, 120_000);

  it('canaries the request path (10 % for 5 minutes), and schedules and consumers all at once', () => {
    const invoked = new Set(functionNames.flatMap((name) => functionGrants[name].invokes ?? []));
    const configs = Object.fromEntries(
      functionNames.map((name) => [name, groupOf(name).group.DeploymentConfigName]),
    );
    for (const name of functionNames) {
      const onRequestPath = routes.some((route) => route.function === name) || invoked.has(name);
      expect(configs[name], name).toBe(onRequestPath ? canary : allAtOnce);
    }
    expect(functionNames.filter((name) => configs[name] === allAtOnce).sort()).toEqual([
      'audit-check',
      'batches',
      'notices',
      'peers',
      'pending-work-reconciler',
      'sms-codes',
      'supervision-events',
    ]);
    expect(configs['list-signer']).toBe(canary);
  });

  it('skips the canary when told to (an emergency), still rolling back on the alarms', () => {
    const skipped = synthesize({ skipCanary: true });
    for (const [, group] of ofType(skipped.live.nestedResources, 'AWS::CodeDeploy::DeploymentGroup')) {
      expect(group.Properties.DeploymentConfigName).toBe(allAtOnce);
      expect((group.Properties.AutoRollbackConfiguration as Json).Events).toContain(
        'DEPLOYMENT_STOP_ON_ALARM',
      );
      expect((group.Properties.AlarmConfiguration as { Alarms: unknown[] }).Alarms).toHaveLength(1);
    }
    // The aliases and versions are the same: only how traffic moves changes.
    expect(ofType(skipped.live.nestedResources, 'AWS::Lambda::Alias').map(([id]) => id)).toEqual(
      ofType(built.live.nestedResources, 'AWS::Lambda::Alias').map(([id]) => id),
    );
  });

  it('lets CodeDeploy move these aliases and read these alarms, nothing else, with no managed policy', () => {
    const { live } = built;
    const roles = ofType(live.nestedResources, 'AWS::IAM::Role');
    expect(roles).toHaveLength(1);
    const [roleId, role] = roles[0]!;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('codedeploy.amazonaws.com');
    const policies = ofType(live.nestedResources, 'AWS::IAM::Policy');
    expect(policies).toHaveLength(1);
    const [policyId, policy] = policies[0]!;
    expect(policy.Properties.Roles).toEqual([{ Ref: roleId }]);
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(statements.map((s) => [s.Sid, s.Action])).toEqual([
      [
        'MoveLiveAliases',
        ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetProvisionedConcurrencyConfig'],
      ],
      ['ReadRollbackAlarms', 'cloudwatch:DescribeAlarms'],
    ]);
    // `arn:<partition>:lambda:<region>:<account>:function:<name>` and `…:<name>:live`, each function's:
    // the service authorization reference lists the alias actions on the function resource, which Lambda
    // may check unqualified (the alias a parameter of the request) or qualified; never `*`.
    const functionArn = (name: unknown) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':lambda:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':function:',
          name,
        ],
      ],
    });
    expect(live.fromParent(statements[0]!.Resource)).toEqual(
      functionNames.flatMap((name) => [
        functionArn({ Ref: live.functionId(name) }),
        functionArn({ 'Fn::Join': [':', [{ Ref: live.functionId(name) }, 'live']] }),
      ]),
    );
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"|:function:\*/);
    const alarmArns = statements[1]!.Resource as Array<{ 'Fn::GetAtt': [string, string] }>;
    expect(alarmArns.map((arn) => live.nestedResources[arn['Fn::GetAtt'][0]]?.Type)).toEqual(
      functionNames.map(() => 'AWS::CloudWatch::Alarm'),
    );
    // The policy is in place before any group can move an alias.
    for (const [id, group] of ofType(live.nestedResources, 'AWS::CodeDeploy::DeploymentGroup')) {
      expect(group.Properties.ServiceRoleArn, id).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
      expect(group.DependsOn, id).toContain(policyId);
    }
  });

  it('replaces no table, key, function or topic: their logical ids are those deployed before', () => {
    const ids = (type: string) =>
      ofType(parent, type)
        .map(([id]) => id)
        .sort();
    expect(ids('AWS::DynamoDB::Table')).toEqual([
      'AuditTrailTable5A8BB42B',
      'BatchJobsTableCCEF0E23',
      'DataTableFDBAD0F2',
    ]);
    // The KMS keys and aliases: test/cdk/stack.test.ts, "key logical ids".
    // Every function deployed before keeps its id (a function added since adds its own).
    expect(ids('AWS::Lambda::Function')).toEqual(expect.arrayContaining(deployedFunctionIds));
    expect(ids('AWS::SNS::Topic')).toEqual(['AlarmsTopic3A2DFEBA', 'SupervisionAlertsTopic1042F294']);
    // The parent keeps its headroom under CloudFormation's 500 resources: the deploys' 94 are nested, and
    // so are the 94 alarms and 33 metric filters that took it to 468 (the nested stack `Operations`,
    // infra/constructs/operations-alarms.ts). It holds 342: routes, functions, keys, tables, queues, topics.
    expect(Object.keys(parent).length).toBeLessThan(400);
  });
});
