import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import {
  AssetHashType,
  Aws,
  DockerImage,
  Duration,
  RemovalPolicy,
  Validations,
  type ILocalBundling,
} from 'aws-cdk-lib';
import { buildSync } from 'esbuild';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionName } from '../../functions/routes.js';
import { functionBuild } from '../bundling.js';
import { pdfFontFile } from '../../shared/licence/pdf-font.js';
import { pendingWorkLogLines } from '../../shared/pending-work/pending-work.js';

/**
 * What the KMS-throttling metric filter counts: a log line whose `error` is a throttled call, in either of
 * the two shapes the code logs errors in: Powertools' formatted error (`"error": { "name":
 * "ThrottlingException", … }`, what `shared/http/api-handler.ts` and `logger.error(message, error)` write)
 * or `String(error)` (`"error": "ThrottlingException: Rate exceeded"`, what the best-effort writes log).
 * The trailing `*` is a filter-pattern wildcard, allowed at either end of a string value.
 * test/unit/infra/throttle-filter.test.ts evaluates it against lines the real handler logs.
 */
export const kmsThrottlingFilterPattern = logs.FilterPattern.any(
  logs.FilterPattern.stringValue('$.error.name', '=', 'ThrottlingException'),
  logs.FilterPattern.stringValue('$.error', '=', 'ThrottlingException*'),
);

/**
 * What the unfinished-writes metric filter counts: a log line saying a write that follows a change was not
 * made (its `message`), the lines of shared/pending-work/pending-work.ts `pendingWorkLogLines` (an audit
 * entry, a status list, the rest of a licence change's pending work) and every other use case's "audit
 * entry not written…" (the `*` wildcard: verifications add why no verdict was given). Each such line
 * means a derived record lags its truth: for a licence change until the reconciler finishes it, for the
 * others for good. test/unit/infra/unfinished-writes-filter.test.ts evaluates it against logged lines.
 */
export const unfinishedWritesFilterPattern = logs.FilterPattern.any(
  logs.FilterPattern.stringValue('$.message', '=', `${pendingWorkLogLines.audit}*`),
  logs.FilterPattern.stringValue('$.message', '=', pendingWorkLogLines.statusList),
  logs.FilterPattern.stringValue('$.message', '=', pendingWorkLogLines.incomplete),
);

/**
 * The function's code, built with the local esbuild by `functionBuild` (infra/bundling.ts): `index.mjs` and
 * its chunks, which NodejsFunction cannot make (it writes one `--outfile`; code splitting needs an output
 * folder). Beside them, the browser assets for `web` and the printable licence's font for the functions
 * that render it. Its fields are part of the asset's cache key, so each function gets its own build.
 */
class LocalFunctionBuild implements ILocalBundling {
  constructor(
    readonly name: FunctionName,
    readonly rootDir: string,
    readonly webAssets: boolean,
    readonly pdfFont: boolean,
  ) {}

  tryBundle(outputDir: string): boolean {
    buildSync(functionBuild(this.name, outputDir, this.rootDir));
    if (this.webAssets) {
      // The same esbuild build the local runtime serves from memory, written beside the code.
      execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(this.rootDir, 'infra', 'web-assets.ts'),
          path.join(outputDir, 'web-assets'),
        ],
        { cwd: this.rootDir, stdio: 'inherit' },
      );
    }
    if (this.pdfFont) {
      const target = path.join(outputDir, pdfFontFile);
      mkdirSync(path.dirname(target), { recursive: true });
      copyFileSync(path.join(this.rootDir, pdfFontFile), target);
    }
    return true;
  }
}

export interface ServiceFunctionProps {
  /** The entry point `functions/<name>.ts`. */
  name: FunctionName;
  /** The repository root (where `functions/` and `package-lock.json` are). */
  rootDir: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  /** The function's own settings (`shared/config.ts`); the runtime settings common to all are added here. */
  environment: Record<string, string>;
  /** Powertools' log level, also the service's `LOG_LEVEL` where the function reads its configuration. */
  logLevel: string;
  logRetention: logs.RetentionDays;
  /**
   * Whether the code calls KMS: then `ThrottlingException`s that outlived the SDK's retries are counted in
   * the function's logs and raise an alarm (KMS has no throttling metric of its own).
   */
  callsKms: boolean;
  /**
   * Whether the code writes audit entries or finishes licence changes' pending work: then the lines saying
   * such a write was not made ({@link unfinishedWritesFilterPattern}) are counted and raise an alarm.
   */
  writesAfterChanges?: boolean;
  /**
   * Whether the code sends text messages: then the role may `sns:Publish` to phone numbers (SMS), and
   * never to a topic or an application endpoint.
   */
  sendsSms?: boolean;
  /** Whether the function consumes the table's stream (then `dynamodb:ListStreams`, which has no resource, is on "*"). */
  readsStream?: boolean;
  /** Whether the bundle carries the browser assets (`web-assets/`, built by `infra/web-assets.ts`). */
  webAssets: boolean;
  /**
   * Whether the bundle carries the printable licence's font (`pdfFontFile`, shared/licence/licence-pdf.ts),
   * copied to the same path relative to the bundle's root as it has in the repository, which is where the
   * code reads it from (Lambda's working directory is the bundle's root).
   */
  pdfFont?: boolean;
  /**
   * Reserved concurrent executions (stack prop `reservedConcurrency`): both the function's guaranteed share
   * of the account's concurrency and its cap. Unset, it shares the unreserved pool.
   */
  reservedConcurrentExecutions?: number;
  /**
   * Where its alarms and metric filters are made: its scope in the alarms' nested stack
   * (`OperationsAlarms.scopeFor`, infra/constructs/operations-alarms.ts), which keeps them out of the
   * parent's 500 resources. The log group they read stays here, with the function.
   */
  alarmScope: Construct;
}

/**
 * One Lambda function of the service: bundled with local esbuild exactly as `infra/bundling.ts` says (ESM
 * for Node 22, minified, source maps, `keepNames`, the `createRequire` banner, code splitting), on arm64, traced with X-Ray,
 * logging to its own log group with a retention, under its own role that starts with nothing but writing
 * its logs. Its alarms (errors, throttles) and metric filters come with it, made in `alarmScope`.
 */
export class ServiceFunction extends Construct {
  readonly role: iam.Role;
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  readonly alarms: cloudwatch.Alarm[] = [];
  /** The entry point's name (`functions/<name>.ts`), which names its metrics' namespace. */
  readonly name: FunctionName;
  /** Where its alarms and metric filters are ({@link ServiceFunctionProps.alarmScope}). */
  private readonly alarmScope: Construct;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    this.name = props.name;
    this.alarmScope = props.alarmScope;

    // An explicit role instead of the default one, which would carry the AWSLambdaBasicExecutionRole
    // managed policy (logs in any group); this one writes to its own log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `elicence ${props.name} function`,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(props.rootDir, {
        // The hash of what is built, as NodejsFunction does: the repository root is only esbuild's input.
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never pulled: the local build below runs or throws, and synthesis must never need Docker.
          image: DockerImage.fromRegistry('dummy'),
          local: new LocalFunctionBuild(
            props.name,
            props.rootDir,
            Boolean(props.webAssets),
            Boolean(props.pdfFont),
          ),
        },
      }),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      ...(props.reservedConcurrentExecutions !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      }),
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'elicence',
        POWERTOOLS_LOG_LEVEL: props.logLevel,
      },
    });

    this.alarms.push(
      new cloudwatch.Alarm(this.alarmScope, 'Errors', {
        alarmDescription: `elicence ${props.name}: invocations failed (unhandled errors, timeouts)`,
        metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this.alarmScope, 'Throttles', {
        alarmDescription: `elicence ${props.name}: invocations throttled (concurrency limit reached)`,
        metric: this.function.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    if (props.callsKms) this.alarmOnKmsThrottling(props.name);
    if (props.writesAfterChanges) this.alarmOnUnfinishedWrites(props.name);

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x on purpose: the bundles target node22 (infra/bundling.ts) and the service is built, tested and benchmarked for it; move runtime and target together.',
    });
    if (props.sendsSms) this.allowSms();
    // X-Ray accepts no resource-level permissions: the statement CDK adds for active tracing is on "*".
    // SMS to a phone number has no resource ARN: IAM evaluates such a publish against "*".
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: props.sendsSms
        ? 'Only xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing, no resource-level permissions) and sns:Publish are on "*": a text message to a phone number has no resource ARN, and publishing to any topic or endpoint ARN is denied by the statement beside it.'
        : props.readsStream
          ? 'Only xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) and dynamodb:ListStreams (the event source mapping finding the table stream) are on "*": neither has resource-level permissions.'
          : 'Only xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) are on "*": X-Ray has no resource-level permissions.',
    });
  }

  /**
   * `sns:Publish` straight to phone numbers: allowed on "*" (an SMS has no resource ARN), and denied on
   * every SNS ARN, so that the role cannot publish to a topic or a mobile push endpoint of the account.
   */
  private allowSms(): void {
    this.role.addToPolicy(
      new iam.PolicyStatement({ sid: 'SendSms', actions: ['sns:Publish'], resources: ['*'] }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'NoTopicPublishing',
        effect: iam.Effect.DENY,
        actions: ['sns:Publish'],
        resources: [`arn:${Aws.PARTITION}:sns:*:*:*`],
      }),
    );
  }

  /**
   * A write that follows a change and failed (an audit entry, a status list): logged where it failed
   * ({@link unfinishedWritesFilterPattern}), counted here, and alarmed on the first one. On the issuers'
   * functions the reconciler finishes a licence change's work within about two minutes; on the
   * reconciler, the work is still undone (docs/operating.md, "Pending work of licence changes").
   */
  private alarmOnUnfinishedWrites(name: FunctionName): void {
    this.alarmOnLogLines(name, {
      id: 'UnfinishedWrites',
      alarmId: 'UnfinishedWritesAlarm',
      pattern: unfinishedWritesFilterPattern,
      metricName: 'UnfinishedWrites',
      description: 'an audit entry or a status list was not written after a change',
    });
  }

  /**
   * KMS publishes no per-key throttling metric (only account-wide usage against quotas in `AWS/Usage`), and
   * the SDK retries a throttled call up to 5 times (`shared/adapters/kms/client.ts`). What matters is a call
   * that still failed: the function logs it (`error.name`, or `error` as a string; see
   * {@link kmsThrottlingFilterPattern}), and this filter counts them.
   * KMS is these functions' only dependency that throttles with `ThrottlingException` in practice (DynamoDB
   * on demand mostly answers `ProvisionedThroughputExceededException`). Errors that oidc-provider handles
   * internally (a token endpoint's signature) are not logged and show up in the API's 5xx rate instead.
   */
  private alarmOnKmsThrottling(name: FunctionName): void {
    this.alarmOnLogLines(name, {
      id: 'ThrottledCalls',
      alarmId: 'KmsThrottling',
      pattern: kmsThrottlingFilterPattern,
      metricName: 'ThrottlingExceptions',
      description: "KMS calls throttled beyond the SDK's retries",
    });
  }

  /** Counts the function's log lines that match `pattern`, and alarms at the first in 5 minutes. */
  private alarmOnLogLines(
    name: FunctionName,
    line: {
      id: string;
      alarmId: string;
      pattern: logs.IFilterPattern;
      metricName: string;
      description: string;
    },
  ): void {
    this.alarms.push(
      new cloudwatch.Alarm(this.alarmScope, line.alarmId, {
        alarmDescription: `elicence ${name}: ${line.description}`,
        metric: this.countLogLines(line.id, line).metric({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /**
   * A metric of the function's log lines that match `pattern`, in the function's own namespace
   * `Elicence/<name>` (each function has its own log group, and a filter cannot set a constant
   * dimension): 1 per line, or the number a field of the line carries (`value`, e.g. `$.abandoned`).
   * The filter is made in the function's `alarmScope`, on its log group.
   */
  countLogLines(
    id: string,
    line: { pattern: logs.IFilterPattern; metricName: string; value?: string },
  ): logs.MetricFilter {
    return new logs.MetricFilter(this.alarmScope, id, {
      logGroup: this.logGroup,
      filterPattern: line.pattern,
      metricNamespace: `Elicence/${this.name}`,
      metricName: line.metricName,
      metricValue: line.value ?? '1',
      unit: cloudwatch.Unit.COUNT,
    });
  }
}
