import { createHash } from 'node:crypto';
import { ArnFormat, type CfnElement, Duration, Fn, Lazy, NestedStack, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { invokeQualifier } from '../../functions/grants.js';
import type { FunctionName } from '../../functions/routes.js';

/**
 * The qualified ARN of a function's live alias, built from the function's own ARN (not the alias
 * resource's): what the parent stack names where a reference to the nested alias would make a cycle (a
 * caller's environment and policy, a rule's target, whose permissions the nested stack would need back).
 */
export function liveArn(fn: lambda.IFunction): string {
  return Fn.join(':', [fn.functionArn, invokeQualifier]);
}

/** The function name with the live alias as qualifier (`<name>:live`), what Lambda's Invoke accepts. */
export function liveName(fn: lambda.IFunction): string {
  return Fn.join(':', [fn.functionName, invokeQualifier]);
}

/**
 * How a function's new version takes traffic: `canary` (10 % of invocations for 5 minutes, then all), for
 * the functions on the request path; `all-at-once` for the scheduled and queue/stream consumers, whose
 * sparse invocations (one a minute, one a day) would not reach a 10 % canary within its 5 minutes.
 */
export type RolloutKind = 'canary' | 'all-at-once';

export interface GradualDeploysProps {
  /** Every function of the service, published as `currentVersion`, with how its deploys roll out. */
  functions: ReadonlyArray<{ name: FunctionName; function: lambda.Function; rollout: RolloutKind }>;
  /**
   * Emergency only (`-c skipCanary=true`, docs/operating.md): every function all at once; the alarms stay,
   * but an all-at-once deployment ends before they could stop it. Default false.
   */
  skipCanary?: boolean;
}

/**
 * Gradual deploys: each function's `live` alias on its current version, a CodeDeploy deployment group
 * that moves the alias (canary or all at once, {@link RolloutKind}), and an alarm on the errors of the new
 * version alone, which stops the deployment and rolls the alias back. A failed deployment fails the stack
 * update, so CloudFormation rolls the whole deploy back, every other alias with it.
 *
 * A nested stack, which the parent counts as one resource: 23 aliases, deployment groups and alarms (and
 * the invoke permissions of API Gateway, the stream and the queue, which belong beside the alias) would
 * take the parent past CloudFormation's 500 resources.
 *
 * @example
 * ```ts
 * const deploys = new GradualDeploys(this, 'Deploys', { functions: [{ name: 'verify', function: fn, rollout: 'canary' }] });
 * http.addRoutes(routes, { verify: deploys.aliases.verify });
 * ```
 */
export class GradualDeploys extends NestedStack {
  readonly application: codedeploy.LambdaApplication;
  /** The `live` alias of each function. */
  readonly aliases = {} as Record<FunctionName, lambda.Alias>;
  /** The deployment group of each function. */
  readonly groups = {} as Record<FunctionName, codedeploy.LambdaDeploymentGroup>;
  /** The errors of each function's new version (its rollback alarm). */
  readonly alarms = {} as Record<FunctionName, cloudwatch.Alarm>;
  /** CodeDeploy's role, shared by the groups: it may move these aliases and read these alarms, no more. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GradualDeploysProps) {
    super(scope, id, {
      description: 'elicence gradual deploys: live aliases, CodeDeploy groups, rollback alarms',
    });
    this.application = new codedeploy.LambdaApplication(this, 'Application');
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: 'elicence CodeDeploy: moves the functions’ live aliases',
    });

    for (const { name, function: fn, rollout } of props.functions) {
      const version = fn.currentVersion;
      const alias = new lambda.Alias(this, `${name}Live`, { aliasName: invokeQualifier, version });
      // The new version alone (`ExecutedVersion`): the function-wide Errors would count the old version's
      // errors too and roll back a sound deploy. 1-minute periods, so that a 5-minute canary sees them.
      const alarm = new cloudwatch.Alarm(this, `${name}NewVersionErrors`, {
        alarmDescription: `elicence ${name}: this version failed invocations (CodeDeploy's rollback alarm: during a canary it rolls the deploy back; it pages no one, ${name}/Errors does)`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Lambda',
          metricName: 'Errors',
          dimensionsMap: {
            FunctionName: fn.functionName,
            Resource: liveName(fn),
            ExecutedVersion: version.version,
          },
          period: Duration.minutes(1),
          statistic: 'Sum',
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      // An alarm of each version, replaced when the version is: CloudWatch keeps an updated alarm's state,
      // so one alarm whose `ExecutedVersion` moved would still be in ALARM from the old version's error of
      // the minute before, and CodeDeploy would roll a sound deploy back. A new one starts with no data.
      (alarm.node.defaultChild as CfnElement).overrideLogicalId(
        Lazy.uncachedString({ produce: () => versionAlarmId(name, version) }),
      );
      this.groups[name] = new codedeploy.LambdaDeploymentGroup(this, `${name}Deploys`, {
        application: this.application,
        alias,
        deploymentConfig:
          rollout === 'canary' && !props.skipCanary
            ? codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES
            : codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
        alarms: [alarm],
        // Not mutable here: the group would attach AWSCodeDeployRoleForLambdaLimited (UpdateAlias on every
        // function of the account); the statements below name these aliases and alarms alone.
        role: this.role.withoutPolicyUpdates(),
        autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      });
      this.aliases[name] = alias;
      this.alarms[name] = alarm;
    }

    // The aliases by the ARNs their functions give them, not by reference: each alias waits for its group
    // (its update policy), the groups for this policy, and the policy must not wait for the aliases.
    const policy = new iam.Policy(this, 'Policy', {
      roles: [this.role],
      statements: [
        // The service authorization reference lists these actions on the `function` resource, whose ARN
        // Lambda may check unqualified (`function:<name>`, the alias a request parameter) or qualified
        // (`function:<name>:live`): both, for these functions alone. Without the unqualified one, every
        // deploy, and the rollback after it, could fail on AccessDenied (UPDATE_ROLLBACK_FAILED).
        new iam.PolicyStatement({
          sid: 'MoveLiveAliases',
          actions: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetProvisionedConcurrencyConfig'],
          resources: props.functions.flatMap(({ function: fn }) =>
            [fn.functionName, liveName(fn)].map((resourceName) =>
              this.formatArn({
                service: 'lambda',
                resource: 'function',
                resourceName,
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            ),
          ),
        }),
        new iam.PolicyStatement({
          sid: 'ReadRollbackAlarms',
          actions: ['cloudwatch:DescribeAlarms'],
          resources: Object.values(this.alarms).map((alarm) => alarm.alarmArn),
        }),
      ],
    });
    // CodeDeploy acts with the role when an alias changes: the policy is in place before any group is.
    for (const group of Object.values(this.groups)) group.node.addDependency(policy);
  }
}

/**
 * The logical id of `name`'s rollback alarm for `version`: the construct's name and a hash of the version's
 * own logical id (which carries the hash of the function's code and configuration), so that a new version
 * gets a new alarm and the old one is deleted with the old version. Resolved at synthesis, as the
 * version's id is.
 */
function versionAlarmId(name: FunctionName, version: lambda.Version): string {
  const versionId = Stack.of(version).resolve((version.node.defaultChild as CfnElement).logicalId) as string;
  const hash = createHash('sha256').update(versionId).digest('hex').slice(0, 16).toUpperCase();
  return `${name.replace(/[^A-Za-z0-9]/g, '')}NewVersionErrors${hash}`;
}
