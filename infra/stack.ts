import { fileURLToPath } from 'node:url';
import {
  CfnOutput,
  DefaultStackSynthesizer,
  Duration,
  Fn,
  Stack,
  Validations,
  type App,
  type StackProps,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { functionGrants, kmsActions, type FunctionGrants } from '../functions/grants.js';
import { functionNames, gatewayRoutes, routes, type FunctionName } from '../functions/routes.js';
import { AlarmNotifications } from './constructs/alarm-notifications.js';
import { OperationsAlarms } from './constructs/operations-alarms.js';
import { ServiceApi } from './constructs/http-api.js';
import { IssuerKeyProvisioning } from './constructs/issuer-keys.js';
import { KeyDeletionGuard } from './constructs/key-guard.js';
import { ServiceKeys, type ServiceKeysProps } from './constructs/keys.js';
import { TableBackups } from './constructs/backup.js';
import { ServiceFunction } from './constructs/service-function.js';
import { ServiceTable } from './constructs/table.js';
import { StreamConsumer } from './constructs/stream-consumer.js';
import { BatchQueue } from './constructs/batch-queue.js';
import { encryptionKey } from './constructs/encryption-key.js';
import { GradualDeploys, liveArn, liveName } from './constructs/gradual-deploys.js';
import { SmsProvider, type SmsProviderName, type TencentSmsSettings } from './constructs/sms-provider.js';
import { leadingKeys, prefixes } from '../shared/adapters/dynamo/keys.js';
import { auditTable, table } from '../shared/adapters/dynamo/table.js';
import { isIssuerUrl, platformRegionPattern } from './stack-settings.js';

/** The repository root: function entries and the lock file are found from here. */
const rootDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * What one function is, besides what it may touch (`functions/grants.ts`). Environment and permissions
 * are derived from both, so a function gets a variable or a permission only for what it does.
 */
interface FunctionSpec {
  description: string;
  memorySize: number;
  timeout: Duration;
  /** Reads its configuration (`dependencies()`, `shared/config.ts`): gets ISSUER_URL and LOG_LEVEL. */
  config?: true;
  /** Serves the browser assets, built by `infra/web-assets.ts` into its bundle's `web-assets/` folder. */
  webAssets?: true;
  /** Renders the printable licence: its bundle carries the font (`ServiceFunctionProps.pdfFont`). */
  pdfFont?: true;
  /** Further settings of its own. */
  environment?: Record<string, string>;
}

/**
 * Every function of the route table. A `Record` over its names: a function added there must be described
 * here before the stack compiles.
 */
const functionSpecs: Record<FunctionName, FunctionSpec> = {
  health: { description: 'elicence health check', memorySize: 512, timeout: Duration.seconds(3) },
  catalogue: { description: 'elicence licence catalogue', memorySize: 512, timeout: Duration.seconds(5) },
  // oidc-provider is a heavy import, the cold start calls KMS twice, and every login runs scrypt (N=2^15,
  // r=8: 32 MiB, CPU-bound): more memory buys the CPU for all three.
  oidc: {
    description: 'elicence OpenID provider',
    memorySize: 1024,
    timeout: Duration.seconds(10),
    config: true,
    environment: { ACCESS_TOKEN_TTL_SECONDS: '600' },
  },
  // Onboarding makes several calls in a row and undoes them on failure.
  admin: {
    description: 'elicence operators API',
    memorySize: 512,
    timeout: Duration.seconds(15),
    config: true,
  },
  licences: {
    description: 'elicence issuing agencies API',
    memorySize: 512,
    timeout: Duration.seconds(10),
    config: true,
    // GET /licences/{id}/pdf renders the printable licence (docs/printable-licence.md).
    pdfFont: true,
  },
  'status-lists': {
    description: 'elicence status lists',
    memorySize: 512,
    timeout: Duration.seconds(5),
    config: true,
  },
  'trust-list': {
    description: 'elicence trust list',
    memorySize: 512,
    timeout: Duration.seconds(5),
    config: true,
  },
  verify: {
    description: 'elicence verification',
    memorySize: 512,
    timeout: Duration.seconds(5),
    config: true,
  },
  // GET /me/licences/{id}/pdf renders the printable licence (docs/printable-licence.md).
  me: {
    description: 'elicence holder API',
    memorySize: 512,
    timeout: Duration.seconds(10),
    config: true,
    pdfFont: true,
  },
  // scrypt at registration, like oidc's logins: the same memory for the same CPU.
  accounts: {
    description: 'elicence accounts and entities',
    memorySize: 1024,
    timeout: Duration.seconds(10),
    config: true,
  },
  web: {
    description: 'elicence pages and browser assets',
    memorySize: 512,
    timeout: Duration.seconds(5),
    config: true,
    webAssets: true,
    environment: { WEB_ASSETS_DIR: '/var/task/web-assets' },
  },
  // 15 s: it relays `GET /me/export` (me: 10 s) waiting up to 12 s for it, then base64-encodes the file
  // (review R55 F2); within API Gateway's 29 s and PENDING_WORK_AGE_SECONDS (test/cdk/guards.test.ts).
  wallet: {
    description: 'elicence wallet pages',
    memorySize: 512,
    timeout: Duration.seconds(15),
    config: true,
  },
  'demo-platform': {
    description: 'elicence demo relying platform',
    memorySize: 512,
    timeout: Duration.seconds(10),
    config: true,
  },
  audit: {
    description: 'elicence audit trail supervision and checkpoints',
    memorySize: 512,
    // 29 s, not 30: API Gateway's integration timeout is 30 s, and a function behind a route must end
    // (and answer) before it, or the caller gets a bare 503 while the function runs on.
    timeout: Duration.seconds(29),
    config: true,
  },
  console: {
    description: 'elicence issuer console',
    memorySize: 512,
    timeout: Duration.seconds(10),
    config: true,
  },
  supervision: {
    description: 'elicence supervision API',
    memorySize: 512,
    timeout: Duration.seconds(10),
    config: true,
  },
  // A batch of up to 100 audit entries: a few dozen counter updates and, rarely, an alert.
  // Fetches each peer platform's trust list (5 s each at most) every 15 minutes.
  peers: {
    description: 'elicence peer platforms refresh (scheduled)',
    memorySize: 512,
    timeout: Duration.seconds(60),
    config: true,
  },
  // Withdrawal notices every minute: up to 10 a round, each one KMS Sign and one POST of 5 s at most.
  notices: {
    description: 'elicence withdrawal notices to platforms (scheduled)',
    memorySize: 512,
    timeout: Duration.seconds(58),
    config: true,
  },
  // Recomputes yesterday's and today's audit chains daily (every entry of two days in memory, as
  // `audit:verify` does): the memory and the 15 minutes are for a busy day's trail.
  'audit-check': {
    description: 'elicence audit chains check (scheduled, read-only)',
    memorySize: 1024,
    timeout: Duration.minutes(15),
    config: true,
  },
  // Finishes what changes of licences left undone, every minute: a few reads and writes per licence.
  'pending-work-reconciler': {
    description: 'elicence pending work of licence changes and withdrawals (scheduled)',
    memorySize: 512,
    timeout: Duration.seconds(60),
    config: true,
  },
  'supervision-events': {
    description: 'elicence supervision stream consumer (statistics, alerts)',
    memorySize: 512,
    timeout: Duration.seconds(60),
    config: true,
  },
  // Signs one list when a public list function finds its token stale (a few reads, one KMS Sign, one
  // conditional write); invoked synchronously by functions with 5 s of their own.
  'list-signer': {
    description: 'elicence trust list and status list signer (invoked by the list functions only)',
    memorySize: 512,
    timeout: Duration.seconds(4),
    config: true,
  },
  // One bulk issuance job (up to 1,000 licences, 8 at a time): seconds in AWS; the margin is for throttling.
  batches: {
    description: 'elicence bulk issuance jobs (batch queue consumer)',
    memorySize: 1024,
    timeout: Duration.minutes(5),
    config: true,
  },
  // One requested SMS code: the registries (3 s each at most), then the provider (its 8 s deadline,
  // smsCodePolicy.sendDeadlineMs), then the code stored.
  'sms-codes': {
    description: 'elicence SMS codes sent after the answer (SMS queue consumer)',
    memorySize: 512,
    timeout: Duration.seconds(15),
    config: true,
  },
};

/**
 * API Gateway's integration timeout (30 s) less a second: a function behind a route must end before the
 * gateway gives up on it, or the caller gets a bare 503 while the function runs on.
 */
export const maxRouteFunctionTimeout = Duration.seconds(29);

/**
 * Reserved concurrency by default (`reservedConcurrency` overrides it, function by function). `oidc` is
 * reserved so that sign-in is never starved by other functions; the anonymous public functions are capped so
 * that a flood of them cannot take the whole account's concurrency (and they keep as much for themselves).
 * The sum, 240, stays well under the account's default limit of 1,000, of which Lambda keeps 100
 * unreserved (docs/operating.md, "Concurrency").
 */
export const defaultReservedConcurrency: Readonly<Partial<Record<FunctionName, number>>> = {
  oidc: 100,
  verify: 50,
  web: 50,
  'trust-list': 20,
  'status-lists': 20,
};

/** The account's Lambda concurrency in a region by default (AWS's default quota; new accounts may have less). */
export const defaultAccountConcurrencyLimit = 1000;

/** The concurrent executions Lambda keeps unreserved in every account and region. */
export const unreservedConcurrencyFloor = 100;

/** The SMS spend alarm's threshold by default, in US dollars this month (`smsSpendAlarmUsd`). */
export const defaultSmsSpendAlarmUsd = 80;

/** The spec of `name`, failing clearly when the route table gained a function this stack does not know. */
function specOf(name: FunctionName): FunctionSpec {
  const spec = functionSpecs[name] as FunctionSpec | undefined;
  if (!spec) throw new Error(`infra/stack.ts: no description of function "${name}" in functionSpecs`);
  return spec;
}

export interface ElicenceStackProps
  extends
    StackProps,
    Pick<
      ServiceKeysProps,
      | 'retiredPlatformKeys'
      | 'retiredPlatformRsaKeys'
      | 'retiredPresentationKeys'
      | 'retiredNoticeKeys'
      | 'singleRegionKeys'
    > {
  /**
   * The disaster-recovery region (`cn-northwest-1` beside `cn-north-1`): the daily and monthly backups are
   * copied to the vault `ElicenceDr` creates there (infra/app.ts; docs/operating.md, "Disaster recovery").
   * Default none: backups stay in the stack's region.
   */
  drRegion?: string;
  /**
   * The public base URL, when a custom domain fronts the API. Default: the API's own endpoint
   * `https://<api id>.execute-api.<region>.<url suffix>`.
   */
  issuerUrl?: string;
  /** Log level of every function (Powertools and the service's `LOG_LEVEL`). Default `INFO`. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * The API's default route throttle: each route without a lower one of its own gets a bucket of these
   * limits (the stage's `DefaultRouteSettings`, per route, not one for the stage: review R50 F2). Default
   * 200 requests per second, bursts of 400.
   */
  throttle?: { rateLimit: number; burstLimit: number };
  /** An email address told of every alarm (it must confirm the subscription). */
  alarmEmail?: string;
  /**
   * An email address told of every supervision alert (the alerts topic, apart from the alarm topic: a
   * business event for the supervising office does not page the on-call). It must confirm.
   */
  alertEmail?: string;
  /**
   * The platform key generations, the signing one first. Default `['1']`. To rotate, deploy `['2', '1']`:
   * generation 2 signs, generation 1 stays published and trusted; once what it signed has expired, deploy
   * `['2']` (see docs/operating.md, "Backup and key rotation").
   */
  platformKeys?: readonly string[];
  /** The RSA platform key generations (RS256 ID tokens), rotated as {@link platformKeys}. Default `['1']`. */
  platformRsaKeys?: readonly string[];
  /**
   * The audit-checkpoint key generations, the signing one first. Default `['1']` here; the app
   * (infra/app.ts) takes them from `cdk.json`'s context and refuses to synthesise without them. To rotate,
   * deploy `['2', '1']`, and keep every generation for ever (`['3', '2', '1']` next): each stays published at
   * `GET /supervision/audit/keys`, since a checkpoint must verify as long as the trail is kept.
   */
  auditKeys?: readonly string[];
  /**
   * The presentation key generations, the signing one first. Default `['1']` here; the app takes them
   * from `cdk.json`'s context and refuses to synthesise without them. To rotate, deploy `['2', '1']`:
   * generation 2 signs presentations, generation 1 stays named in the trust list; once what it signed has
   * expired (presentations live 10 minutes; a holder's printable-licence signature until it is downloaded
   * again), deploy `['2']` (docs/operating.md).
   */
  presentationKeys?: readonly string[];
  /**
   * The notice key generations (withdrawal notices to platforms), the signing one first. Default `['1']`
   * here; the app takes them from `cdk.json`'s context and refuses to synthesise without them. To rotate,
   * deploy `['2', '1']` (generation 2 signs, generation 1 stays in `/.well-known/notices-jwks.json`), then
   * `['2']` with `retiredNoticeKeys: ['1']` (docs/operating.md).
   */
  noticeKeys?: readonly string[];
  /**
   * The administrative division (GB/T 2260) this platform serves, given to the functions that read peer
   * platforms (docs/peers.md): no peer may add an issuer within it. Default `110000`.
   */
  platformRegion?: string;
  /**
   * The UTC day (`YYYY-MM-DD`) from which every audit entry must carry its holder commitment, given as
   * `AUDIT_HOLDER_COMMITMENTS_SINCE` to the functions that answer audit entries (the usage record and
   * supervision). Unset, the functions' compiled-in day applies (the release day of commitments,
   * 2026-12-06); a stack that still ran older code after that day sets the day after the release with
   * commitments ran everywhere (docs/supervision.md).
   */
  auditHolderCommitmentsSince?: string;
  /**
   * The UTC day from which chains are held to their writer's actions by their shard (`AUDIT_ATTRIBUTION_SINCE`,
   * security review R31 M1): the day after this release ran everywhere, if later than its default.
   */
  auditAttributionSince?: string;
  /**
   * Only while moving the audit trail out of the service table (docs/supervision.md, "Moving the audit
   * trail"): the instant (ISO 8601 with offset, e.g. `2026-12-06T09:30:00Z`) of the deployment that created
   * the audit table, given as `SUPERVISION_HISTORY_BEFORE` to supervision-events alone, which then skips
   * copies of entries dated and chained before it. Remove it (redeploy without it) once the move is done.
   */
  supervisionHistoryBefore?: string;
  /**
   * Reserved concurrent executions per function, over {@link defaultReservedConcurrency}
   * (cdk.json's `"reservedConcurrency": { "oidc": 200 }`). Each a whole number from 1; the sum must leave
   * 100 of {@link accountConcurrencyLimit} unreserved (synthesis refuses more).
   */
  reservedConcurrency?: Partial<Record<FunctionName, number>>;
  /**
   * The account's concurrent executions in the stack's region (`aws lambda get-account-settings`:
   * `AccountLimit.ConcurrentExecutions`). Default {@link defaultAccountConcurrencyLimit}. Synthesis refuses
   * reserved concurrency whose sum leaves fewer than {@link unreservedConcurrencyFloor} of it unreserved,
   * which Lambda would refuse at deployment (SRE review R31 L5).
   */
  accountConcurrencyLimit?: number;
  /**
   * The month-to-date SMS spend (`AWS/SNS SMSMonthToDateSpentUSD`, US dollars) at which the alarm topic is
   * told. Default {@link defaultSmsSpendAlarmUsd}; set it below the account's SMS monthly spend limit,
   * past which SNS stops sending (and sign-up and phone sign-in with it).
   */
  smsSpendAlarmUsd?: number;
  /**
   * Who sends text messages (infra/constructs/sms-provider.ts): `sns`, or `tencent` (Tencent Cloud SMS,
   * for the AWS China regions, where SNS sends no SMS; then {@link tencentSms} is required). Default:
   * `tencent` when `tencentSms` is given or the stack's region is `cn-*`, `sns` otherwise; `sns` in a
   * `cn-*` region is refused (docs/operating.md, "SMS in AWS China regions").
   */
  smsProvider?: SmsProviderName;
  /** The Tencent Cloud SMS application, signature and template (cdk.json's `"tencentSms": {…}`). */
  tencentSms?: TencentSmsSettings;
  /**
   * Emergency only (`-c skipCanary=true`): every function's new version takes all traffic at once instead
   * of a 10 % canary for 5 minutes, so nothing is rolled back automatically (docs/operating.md, "How a
   * deploy rolls out").
   * Default false.
   */
  skipCanary?: boolean;
}

/**
 * The whole service in one stack: its KMS keys, the DynamoDB tables (the service table, the audit table and
 * the batch table, all from `shared/adapters/dynamo/table.ts`),
 * one Lambda function per entry point, and the HTTP API whose routes are the route table
 * (`functions/routes.ts`), each function with only the environment and permissions its code uses.
 *
 * Environment-agnostic: nothing is looked up in an account at synthesis.
 */
export class ElicenceStack extends Stack {
  readonly keys: ServiceKeys;
  readonly data: ServiceTable;
  /**
   * The audit table: the audit trail alone (entries, the chains' registry, checkpoints). Its stream is the
   * one supervision-events reads; the service table (sessions, tokens, accounts) has no stream.
   */
  readonly auditTrail: ServiceTable;
  /**
   * The batch table: jobs alone, bulk issuance's (a job, its items in chunks) and requested SMS codes'
   * (`sms-job#`, the phone and ID number sealed). Its stream is the one the batch pipe and the SMS pipe read,
   * each with its own role and a filter on its prefix; the service table has no stream at all.
   */
  readonly batchJobs: ServiceTable;
  /** AWS Backup of the three tables (infra/constructs/backup.ts). */
  readonly backups: TableBackups;
  readonly http: ServiceApi;
  readonly issuerKeys: IssuerKeyProvisioning;
  readonly functions: Record<FunctionName, ServiceFunction>;
  readonly alarmNotifications: AlarmNotifications;
  /** The supervision alerts' topic (`ALERT_TOPIC_ARN`): business alerts, never the pager's alarms. */
  readonly alertNotifications: AlarmNotifications;
  /**
   * Every alarm that pages and its metric filters, a nested stack (infra/constructs/operations-alarms.ts):
   * its `alarms` are the on-call's own (DynamoDB, the audit check, abandoned notices, stale peers, peers'
   * issuers colliding, SMS checks).
   */
  readonly operationsAlarms: OperationsAlarms;
  /** Runs the audit chains check daily, after the checkpoint (functions/audit-check.ts). */
  readonly auditCheck: events.Rule;
  readonly supervisionStream: StreamConsumer;
  readonly batchQueue: BatchQueue;
  /** Requested SMS codes, from the batch table's stream to the `sms-codes` function. */
  readonly smsQueue: BatchQueue;
  readonly auditCheckpoints: events.Rule;
  readonly peerRefresh: events.Rule;
  /** The schedule delivering withdrawal notices to the platforms (functions/notices.ts). */
  readonly noticeDelivery: events.Rule;
  /** Runs the reconciler of licence changes' pending work every minute. */
  readonly pendingWorkReconciler: events.Rule;
  readonly keyGuard: KeyDeletionGuard;
  /** Month-to-date SMS spend over `smsSpendAlarmUsd` (SNS only: Tencent's spend is capped in its console). */
  readonly smsSpendAlarm: cloudwatch.Alarm | undefined;
  /** Who sends text messages, and (Tencent) the key pair's secret. */
  readonly sms: SmsProvider;
  /** Each function's live alias, CodeDeploy group and rollback alarm (a nested stack). */
  readonly deploys: GradualDeploys;

  constructor(scope: Construct, id: string, props: ElicenceStackProps = {}) {
    super(scope, id, props);
    const logLevel = props.logLevel ?? 'INFO';
    const since = props.auditHolderCommitmentsSince;
    // The functions' configuration refuses a malformed day at start: refuse it at synthesis, not in production.
    if (since !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(since) || !isValidDay(since))) {
      throw new Error(
        `auditHolderCommitmentsSince must be a day as YYYY-MM-DD, got ${JSON.stringify(since)}`,
      );
    }
    const attributionSince = props.auditAttributionSince;
    if (
      attributionSince !== undefined &&
      (!/^\d{4}-\d{2}-\d{2}$/.test(attributionSince) || !isValidDay(attributionSince))
    ) {
      throw new Error(
        `auditAttributionSince must be a day as YYYY-MM-DD, got ${JSON.stringify(attributionSince)}`,
      );
    }
    const historyBefore = props.supervisionHistoryBefore;
    if (
      historyBefore !== undefined &&
      (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(historyBefore) ||
        !isValidDay(historyBefore.slice(0, 10)) ||
        Number.isNaN(Date.parse(historyBefore)))
    ) {
      throw new Error(
        `supervisionHistoryBefore must be an instant such as 2026-12-06T09:30:00Z, got ${JSON.stringify(historyBefore)}`,
      );
    }

    const reserved = { ...defaultReservedConcurrency, ...props.reservedConcurrency };
    for (const [name, value] of Object.entries(reserved)) {
      if (!functionNames.includes(name as FunctionName) || !Number.isInteger(value) || value! < 1) {
        throw new Error(
          `reservedConcurrency: a function of the route table and a whole number from 1, got ${name}=${String(value)}`,
        );
      }
    }
    const accountLimit = props.accountConcurrencyLimit ?? defaultAccountConcurrencyLimit;
    if (!Number.isInteger(accountLimit) || accountLimit <= unreservedConcurrencyFloor) {
      throw new Error(
        `accountConcurrencyLimit: the account's concurrent executions, a whole number above ${unreservedConcurrencyFloor}, got ${String(props.accountConcurrencyLimit)}`,
      );
    }
    const reservedSum = Object.values(reserved).reduce((sum, value) => sum + (value ?? 0), 0);
    if (reservedSum > accountLimit - unreservedConcurrencyFloor) {
      throw new Error(
        `reservedConcurrency: the functions reserve ${reservedSum} concurrent executions in all (${Object.entries(
          reserved,
        )
          .map(([name, value]) => `${name} ${String(value)}`)
          .join(
            ', ',
          )}), more than the ${accountLimit - unreservedConcurrencyFloor} the account's limit of ${accountLimit} (accountConcurrencyLimit) leaves once Lambda keeps ${unreservedConcurrencyFloor} unreserved: lower them, or have the limit raised and set accountConcurrencyLimit in cdk.json`,
      );
    }
    if (props.issuerUrl !== undefined && !isIssuerUrl(props.issuerUrl)) {
      throw new Error(
        `issuerUrl: an https origin such as https://id.example.gov.cn (lower case, no path, no trailing slash), got ${JSON.stringify(props.issuerUrl)}`,
      );
    }
    if (props.platformRegion !== undefined && !platformRegionPattern.test(props.platformRegion)) {
      throw new Error(
        `platformRegion: a six-digit administrative division code (GB/T 2260) such as 440000, got ${JSON.stringify(props.platformRegion)}`,
      );
    }
    const smsSpendAlarmUsd = props.smsSpendAlarmUsd ?? defaultSmsSpendAlarmUsd;
    if (!Number.isFinite(smsSpendAlarmUsd) || smsSpendAlarmUsd <= 0) {
      throw new Error(`smsSpendAlarmUsd must be a positive amount of US dollars, got ${smsSpendAlarmUsd}`);
    }

    this.keys = new ServiceKeys(this, 'Keys', {
      platformKeys: props.platformKeys,
      platformRsaKeys: props.platformRsaKeys,
      auditKeys: props.auditKeys,
      presentationKeys: props.presentationKeys,
      noticeKeys: props.noticeKeys,
      retiredPlatformKeys: props.retiredPlatformKeys,
      retiredPlatformRsaKeys: props.retiredPlatformRsaKeys,
      retiredPresentationKeys: props.retiredPresentationKeys,
      retiredNoticeKeys: props.retiredNoticeKeys,
      singleRegionKeys: props.singleRegionKeys,
    });
    this.data = new ServiceTable(this, 'Data', { encryptionKey: this.keys.table });
    // A key of its own: the audit trail's key-level controls (policy, CloudTrail, disabling) stay apart
    // from the service data's.
    this.auditTrail = new ServiceTable(this, 'AuditTrail', {
      encryptionKey: this.keys.auditTable,
      stream: true,
      // gsi3, the usage record by kind: DynamoDB adds one index per deployment (docs/operating.md).
      declaration: auditTable,
    });
    this.batchJobs = new ServiceTable(this, 'BatchJobs', { encryptionKey: this.keys.table, stream: true });
    // Every table backed up daily and monthly, copied to the DR region when one is given.
    this.backups = new TableBackups(this, 'Backups', {
      tables: [this.data, this.auditTrail, this.batchJobs].map((built) => built.table),
      drRegion: props.drRegion,
    });
    // Every alarm that pages, with its metric filters, in a nested stack (the parent counts it as one
    // resource): each construct below makes its own there, under its id (infra/constructs/operations-alarms.ts).
    const operations = (this.operationsAlarms = new OperationsAlarms(this, 'Operations'));
    this.http = new ServiceApi(this, 'Http', {
      throttle: props.throttle ?? { rateLimit: 200, burstLimit: 400 },
      accessLogRetention: logs.RetentionDays.ONE_YEAR,
      alarmScope: operations.scopeFor('Http'),
    });
    const { keys, data, auditTrail, batchJobs, http } = this;
    // The issuer URL is the API's endpoint attribute: functions depend on the API resource only, while the
    // routes depend on the functions, so there is no cycle (and no custom domain needed to break one).
    const issuerUrl = props.issuerUrl ?? http.endpoint;

    // Before the functions: the alert publisher's role and environment name the topic.
    this.alarmNotifications = new AlarmNotifications(this, 'Alarms', { email: props.alarmEmail });
    // Supervision alerts on a topic and key of their own: the alert publisher cannot page, nor an alarm alert.
    this.alertNotifications = new AlarmNotifications(this, 'SupervisionAlerts', {
      email: props.alertEmail,
      purpose: 'supervision alerts',
    });
    const alertTopic = this.alertNotifications.topic;
    const sms = (this.sms = new SmsProvider(this, 'Sms', {
      provider: props.smsProvider,
      tencent: props.tencentSms,
    }));

    const functions = {} as Record<FunctionName, ServiceFunction>;
    for (const name of functionNames) {
      const spec = specOf(name);
      const grants = functionGrants[name];
      const kmsByKey = kmsActions(grants);
      if (
        routes.some((route) => route.function === name) &&
        spec.timeout.toSeconds() > maxRouteFunctionTimeout.toSeconds()
      ) {
        throw new Error(
          `infra/stack.ts: ${name} serves routes: its timeout must be at most ${maxRouteFunctionTimeout.toSeconds()} s (API Gateway gives up at 30 s)`,
        );
      }
      // Issuer keys are granted by IssuerKeyProvisioning below, by tag.
      const { issuer: _issuerKeys, ...serviceKeys } = kmsByKey;
      functions[name] = new ServiceFunction(this, name, {
        name,
        rootDir,
        description: spec.description,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        // Keys are given by ARN, so a function uses exactly the key its permissions name.
        environment: {
          ...(spec.config && { ISSUER_URL: issuerUrl, LOG_LEVEL: logLevel }),
          ...(grants.table && { TABLE_NAME: data.table.tableName }),
          ...(grants.auditTable && { AUDIT_TABLE_NAME: auditTrail.table.tableName }),
          ...(grants.batchTable && { BATCH_TABLE_NAME: batchJobs.table.tableName }),
          ...(grants.platformKey && { PLATFORM_KEY_ID: keys.platform.keyArn }),
          ...(grants.previousPlatformKeys &&
            keys.previousPlatform.length > 0 && {
              PLATFORM_PREVIOUS_KEY_IDS: keys.previousPlatform.map((key) => key.keyArn).join(','),
            }),
          ...(grants.platformRsaKey && { PLATFORM_RSA_KEY_ID: keys.platformRsa.keyArn }),
          ...(grants.platformRsaKey &&
            keys.previousPlatformRsa.length > 0 && {
              PLATFORM_RSA_PREVIOUS_KEY_IDS: keys.previousPlatformRsa.map((key) => key.keyArn).join(','),
            }),
          ...(grants.auditKey && { AUDIT_KEY_ID: keys.audit.keyArn }),
          ...(grants.auditKey &&
            keys.previousAudit.length > 0 && {
              AUDIT_PREVIOUS_KEY_IDS: keys.previousAudit.map((key) => key.keyArn).join(','),
            }),
          ...(grants.presentationKey && { PRESENTATION_KEY_ID: keys.presentation.keyArn }),
          // Only to those that read public keys: signing needs the current generation alone.
          ...(grants.presentationKey === 'publicKey' &&
            keys.previousPresentation.length > 0 && {
              PRESENTATION_PREVIOUS_KEY_IDS: keys.previousPresentation.map((key) => key.keyArn).join(','),
            }),
          ...(grants.noticeKey && { NOTICE_KEY_ID: keys.notice.keyArn }),
          ...(grants.noticeKey === 'publicKey' &&
            keys.previousNotice.length > 0 && {
              NOTICE_PREVIOUS_KEY_IDS: keys.previousNotice.map((key) => key.keyArn).join(','),
            }),
          ...(grants.lookupMac && { LOOKUP_MAC_KEY_ID: keys.lookupMac.keyArn }),
          ...(grants.webMac && { WEB_KEY_ID: keys.web.keyArn }),
          ...(grants.interactionMac && { INTERACTION_KEY_ID: keys.interaction.keyArn }),
          ...(grants.clientSecretMac && { CLIENT_SECRET_KEY_ID: keys.clientSecret.keyArn }),
          ...(grants.cursorMac && { CURSOR_KEY_ID: keys.cursor.keyArn }),
          ...((grants.pii || grants.batchItems || grants.smsJobs) && { PII_KEY_ID: keys.pii.keyArn }),
          ...(grants.sms && sms.environment),
          ...(grants.alerts && { ALERT_PUBLISHER: 'sns', ALERT_TOPIC_ARN: alertTopic.topicArn }),
          ...(grants.table?.partitionQueries?.includes(leadingKeys.peers) && {
            PLATFORM_REGION: props.platformRegion ?? '110000',
          }),
          ...(props.auditHolderCommitmentsSince &&
            (name === 'me' || name === 'audit') && {
              AUDIT_HOLDER_COMMITMENTS_SINCE: props.auditHolderCommitmentsSince,
            }),
          ...(attributionSince && name === 'audit-check' && { AUDIT_ATTRIBUTION_SINCE: attributionSince }),
          ...(historyBefore &&
            name === 'supervision-events' && { SUPERVISION_HISTORY_BEFORE: historyBefore }),
          ...spec.environment,
        },
        logLevel,
        // A year, as the API's access log: 网络安全法 Art. 21 asks network logs be kept at least six months,
        // which 180 days fell short of (review R50 F3; docs/operating.md, "Retention").
        logRetention: logs.RetentionDays.ONE_YEAR,
        callsKms: Object.keys(kmsByKey).length > 0,
        // Audit entries, and the pending work of licence changes (functions/grants.ts): alarmed when unwritten.
        writesAfterChanges:
          // A writer of the trail is granted its own shards' day partitions (`audit#*#<shard>`, R31 M1).
          grants.auditTable?.items.PutItem?.some((key) => key.startsWith(prefixes.audit)) === true ||
          grants.table?.items.DeleteItem?.includes(leadingKeys.pendingWork) === true,
        sendsSms: grants.sms === true && sms.provider === 'sns',
        readsStream: grants.auditStream === true,
        webAssets: spec.webAssets ?? false,
        pdfFont: spec.pdfFont ?? false,
        reservedConcurrentExecutions: reserved[name],
        alarmScope: operations.scopeFor(name),
      });
      const { role } = functions[name];
      if (grants.table) data.grant(role, grants.table);
      if (grants.auditTable) auditTrail.grant(role, grants.auditTable);
      if (grants.batchTable) batchJobs.grant(role, grants.batchTable);
      // sns:Publish on the alerts topic only (and its key, to encrypt what it publishes).
      if (grants.alerts) alertTopic.grantPublish(role);
      if (grants.sms) sms.grantSend(role);
      for (const [key, actions] of Object.entries(serviceKeys)) {
        keys.allow(role, key as keyof typeof serviceKeys, actions);
      }
    }
    this.functions = functions;

    // Invocations (functions/grants.ts `invokes`): lambda:InvokeFunction on the target's live alias alone
    // (`<arn>:live`: neither $LATEST nor `:*`, every version and alias), and the alias-qualified name in the
    // caller's environment (`LIST_SIGNER_FUNCTION` = `<name>:live`), so a call reaches the deployed version.
    for (const name of functionNames) {
      for (const target of functionGrants[name].invokes ?? []) {
        functions[name].role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['lambda:InvokeFunction'],
            resources: [liveArn(functions[target].function)],
          }),
        );
        functions[name].function.addEnvironment(
          `${target.toUpperCase().replace(/-/g, '_')}_FUNCTION`,
          liveName(functions[target].function),
        );
      }
    }

    // Gradual deploys: every function is invoked through its `live` alias, which CodeDeploy moves to a new
    // version, 10 % first for the request path, rolled back on the new version's errors. Scheduled and
    // queue/stream consumers go all at once: a canary would see next to none of their invocations in its 5
    // minutes, and a failed canary elsewhere rolls the whole stack back, their aliases included.
    const invokedBy = new Set(functionNames.flatMap((name) => functionGrants[name].invokes ?? []));
    this.deploys = new GradualDeploys(this, 'Deploys', {
      functions: functionNames.map((name) => ({
        name,
        function: functions[name].function,
        rollout:
          routes.some((route) => route.function === name) || invokedBy.has(name) ? 'canary' : 'all-at-once',
      })),
      skipCanary: props.skipCanary,
    });
    const { aliases } = this.deploys;
    // A rule's target is the alias by the ARN built here, and its permission is made here: the nested
    // stack's alias as target would make a cycle (the rule needs the alias, the alias's permission the rule).
    const scheduled = (name: FunctionName) =>
      lambda.Function.fromFunctionAttributes(this, `${name}LiveTarget`, {
        functionArn: liveArn(functions[name].function),
        sameEnvironment: true,
      });

    // A checkpoint of the audit chains a day (shortly after midnight UTC, when yesterday's chains are
    // final), signed by the audit function with the audit key; supervisors also ask for one on demand.
    this.auditCheckpoints = new events.Rule(this, 'AuditCheckpointSchedule', {
      description: 'Signs a checkpoint of the audit trail chains (yesterday and today, UTC)',
      schedule: events.Schedule.cron({ minute: '15', hour: '0' }),
      targets: [new eventTargets.LambdaFunction(scheduled('audit'), { retryAttempts: 2 })],
    });

    // Peer platforms' trust lists (跨地区互认, docs/peers.md) fetched every 15 minutes; admins also refresh
    // one on demand. Its grants are functions/grants.ts `peers`: the peers' items and the issuers' index.
    this.peerRefresh = new events.Rule(this, 'PeerRefreshSchedule', {
      description: 'Refreshes the peer platforms’ trust lists',
      schedule: events.Schedule.rate(Duration.minutes(15)),
      targets: [new eventTargets.LambdaFunction(scheduled('peers'), { retryAttempts: 1 })],
    });

    // Withdrawal notices (docs/integrating.md) delivered every minute, failed ones retried with a doubling
    // wait kept in the queue itself. Its grants are functions/grants.ts `notices`.
    this.noticeDelivery = new events.Rule(this, 'NoticeDeliverySchedule', {
      description: 'Delivers withdrawal notices (signed Security Event Tokens) to the platforms',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new eventTargets.LambdaFunction(scheduled('notices'), { retryAttempts: 0 })],
    });

    // What a change of a licence left undone (its audit entry, its status-list entry: a timeout, a
    // `status_list_contended` 503) finished within about two minutes (shared/reconciler/reconcile-pending-work.ts,
    // docs/operating.md "Pending work"). Its grants are functions/grants.ts `pending-work-reconciler`.
    this.pendingWorkReconciler = new events.Rule(this, 'PendingWorkSchedule', {
      description:
        'Finishes the pending work of licence changes and withdrawals (audit entries, status lists)',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new eventTargets.LambdaFunction(scheduled('pending-work-reconciler'), { retryAttempts: 0 })],
    });

    // The audit chains of yesterday and today checked daily, after the 00:15 checkpoint has signed them
    // (functions/audit-check.ts, read-only grants). Its outcome is alarmed (`operations.watch` below).
    this.auditCheck = new events.Rule(this, 'AuditCheckSchedule', {
      description: 'Checks the audit trail hash chains of yesterday and today against their checkpoints',
      schedule: events.Schedule.cron({ minute: '45', hour: '0' }),
      targets: [new eventTargets.LambdaFunction(scheduled('audit-check'), { retryAttempts: 2 })],
    });

    // A rule's permission names the alias, which must exist first.
    for (const rule of [
      this.auditCheckpoints,
      this.peerRefresh,
      this.noticeDelivery,
      this.pendingWorkReconciler,
      this.auditCheck,
    ]) {
      rule.node.addDependency(this.deploys);
    }

    const withIssuerKeys = (use: FunctionGrants['issuerKeys']) =>
      functionNames.filter((name) => functionGrants[name].issuerKeys === use).map((name) => functions[name]);
    const [provisioner, ...others] = withIssuerKeys('provision');
    if (!provisioner || others.length > 0) {
      throw new Error('infra/stack.ts: exactly one function must provision issuer keys');
    }
    this.issuerKeys = new IssuerKeyProvisioning(this, 'IssuerKeys', {
      provisioner: provisioner.role,
      signers: withIssuerKeys('sign').map((fn) => fn.role),
    });
    provisioner.function.addEnvironment('ISSUER_KEY_POLICY', this.issuerKeys.keyPolicyJson);
    for (const fn of [provisioner, ...withIssuerKeys('sign')])
      fn.function.node.addDependency(this.issuerKeys);

    http.addRoutes(gatewayRoutes, aliases);

    // Audit entries reach the supervision consumer through the audit table's stream, never the request
    // path. The event source mapping reads the stream with the consumer's role, and a stream is granted
    // whole: the audit table's carries nothing but the audit trail (functions/grants.ts `auditStream`).
    const [streamReader, ...otherReaders] = functionNames.filter((name) => functionGrants[name].auditStream);
    if (streamReader !== 'supervision-events' || otherReaders.length > 0) {
      throw new Error('infra/stack.ts: supervision-events, and it alone, reads the audit table stream');
    }
    this.supervisionStream = new StreamConsumer(this, 'SupervisionEvents', {
      table: auditTrail.table,
      consumer: functions[streamReader].function,
      target: aliases[streamReader],
      partitionKeyPrefix: prefixes.audit,
      name: 'supervision-events',
      alarmScope: operations.scopeFor('SupervisionEvents'),
    });
    // Bulk issuance: a job's insert reaches the batches function through a pipe and the batch queue. The
    // pipe's role reads the batch table's stream, which carries nothing but jobs (a stream is granted
    // whole): bulk issuance's and, sealed, requested SMS codes' (whose pipe is below).
    this.batchQueue = new BatchQueue(this, 'Batches', {
      table: batchJobs.table,
      consumer: aliases.batches,
      consumerTimeout: specOf('batches').timeout,
      partitionKeyPrefix: prefixes.batch,
      maxConcurrency: 5,
      alarmScope: operations.scopeFor('Batches'),
    });
    // SMS codes, sent after the answer (docs/security.md, "Timing"): a request's job reaches `sms-codes`
    // the same way, through a pipe of its own and the SMS queue, both queues under a KMS key of their own.
    this.smsQueue = new BatchQueue(this, 'SmsCodes', {
      table: batchJobs.table,
      consumer: aliases['sms-codes'],
      consumerTimeout: specOf('sms-codes').timeout,
      partitionKeyPrefix: prefixes.smsJob,
      maxConcurrency: 20,
      alarmScope: operations.scopeFor('SmsCodes'),
      kind: {
        inputTemplate: '{"smsJob": "<$.dynamodb.NewImage.id.S>"}',
        label: 'SMS',
        job: 'SMS code job',
        // A code lives 5 minutes: one that waits a minute is already late for the person waiting.
        backlogSeconds: 60,
        backlogText: 'a minute',
        encryptionKey: encryptionKey(this, 'SmsQueueKey', {
          description: 'elicence SMS queue encryption key (requested codes waiting to be sent)',
        }),
      },
    });
    // Every KMS key defined above (the service's, the alarm topic's, any added later): none may be tagged,
    // disabled, re-policied or scheduled for deletion by a function's role (infra/constructs/key-guard.ts).
    this.keyGuard = new KeyDeletionGuard(this, 'KeyGuard', {
      keys: this.node.findAll().filter((construct): construct is kms.Key => construct instanceof kms.Key),
      provisioner: provisioner.role,
      functionRoles: functionNames.map((name) => functions[name].role),
      alarms: this.alarmNotifications,
      deployRoleArn: deployRoleArnOf(this),
      tableNames: this.node
        .findAll()
        .filter((construct): construct is dynamodb.Table => construct instanceof dynamodb.Table)
        .map((table) => table.tableName),
      backupRoleArn: this.backups.role.roleArn,
    });
    // Backup and DR copy jobs that failed, expired or were aborted (SRE review R31 M4): told like an alarm.
    for (const rule of this.backups.failedJobRules) this.alarmNotifications.notifyOnEvents(rule);

    // SNS stops sending text messages once the month's spend would pass the account's limit: tell someone
    // before (the metric has no dimension: it is the account's, per region).
    this.smsSpendAlarm =
      sms.provider !== 'sns'
        ? undefined
        : new cloudwatch.Alarm(operations, 'SmsSpend', {
            alarmDescription: `elicence: SMS spend this month passed ${smsSpendAlarmUsd} USD (the account's SMS spend limit stops sending)`,
            metric: new cloudwatch.Metric({
              namespace: 'AWS/SNS',
              metricName: 'SMSMonthToDateSpentUSD',
              statistic: 'Maximum',
              period: Duration.hours(1),
            }),
            threshold: smsSpendAlarmUsd,
            evaluationPeriods: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          });

    operations.watch({
      tables: [
        { label: 'Service', table: data.table, declaration: table },
        { label: 'Audit', table: auditTrail.table, declaration: auditTable },
        { label: 'Batch', table: batchJobs.table, declaration: table },
      ],
      auditCheck: functions['audit-check'],
      auditCheckpoint: functions.audit,
      notices: functions.notices,
      peers: functions.peers,
      // The functions that accept peers' issuers and save them: those allowed to put a peer item.
      peerSavers: functionNames
        .filter((name) => functionGrants[name].table?.items.PutItem?.includes(leadingKeys.peers))
        .map((name) => functions[name]),
      // The functions that check SMS codes: those allowed to count a try on one (`sms-try#`, which only
      // `checkSmsCode` writes).
      smsCodeCheckers: functionNames
        .filter((name) => functionGrants[name].table?.items.UpdateItem?.includes(leadingKeys.smsTry))
        .map((name) => functions[name]),
      // The counter's proofs in person (`/counter/accounts/…`, shared/identity/counter-proof.ts).
      counter: functions.accounts,
      listSigner: functions['list-signer'],
    });

    this.alarmNotifications.notifyOn([
      ...this.operationsAlarms.alarms,
      ...(this.smsSpendAlarm ? [this.smsSpendAlarm] : []),
      ...sms.refusalAlarms(
        functionNames
          .filter((name) => functionGrants[name].sms)
          .map((name) => ({ name, logGroup: functions[name].logGroup })),
        operations.scopeFor('Sms'),
      ),
      ...this.supervisionStream.alarms,
      ...this.batchQueue.alarms,
      ...this.smsQueue.alarms,
      ...http.alarms,
      // Each function's `Errors` counts every version's: a canary's failures page through it. The
      // deploys' rollback alarms are CodeDeploy's alone (gradual-deploys.ts): they stay on the live version
      // after a deploy, where paging with them would tell of a rollback that did not happen.
      ...functionNames.flatMap((name) => functions[name].alarms),
    ]);

    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic every alarm notifies (subscribe pagers or chat here)',
      value: this.alarmNotifications.topic.topicArn,
    });
    new CfnOutput(this, 'AlertTopicArn', {
      description:
        'SNS topic the supervision alerts are published to (subscribe the supervising office here)',
      value: alertTopic.topicArn,
    });
    new CfnOutput(this, 'DeployApplication', {
      description: 'CodeDeploy application whose deployments move the functions’ live aliases',
      value: this.deploys.application.applicationName,
    });
    // What the runbooks name (docs/operating.md): CloudFormation makes these names, so they are read from
    // the stack's outputs (`aws cloudformation describe-stacks --stack-name Elicence`), never guessed.
    for (const [id, description, value] of [
      ['TableName', 'The service table (TABLE_NAME of the scripts)', data.table.tableName],
      ['AuditTableName', 'The audit table (AUDIT_TABLE_NAME)', auditTrail.table.tableName],
      ['BatchTableName', 'The batch table (BATCH_TABLE_NAME)', batchJobs.table.tableName],
      [
        'SupervisionDeadLettersUrl',
        'Dead letters of the supervision stream consumer: on-failure records for supervision:replay',
        this.supervisionStream.deadLetters.queueUrl,
      ],
      ['BatchQueueUrl', 'The bulk issuance job queue', this.batchQueue.queue.queueUrl],
      [
        'BatchDeadLettersArn',
        'Bulk issuance jobs that failed every delivery (redrive to the batch queue)',
        this.batchQueue.deadLetters.queueArn,
      ],
      [
        'BatchPipeFailuresUrl',
        'Stream records the batch pipe could not deliver (not jobs: see docs/operating.md)',
        this.batchQueue.pipeFailures.queueUrl,
      ],
      ['SmsQueueUrl', 'The SMS code job queue', this.smsQueue.queue.queueUrl],
      [
        'SmsDeadLettersArn',
        'SMS code jobs that failed every delivery (redrive to the SMS queue)',
        this.smsQueue.deadLetters.queueArn,
      ],
      [
        'SmsPipeFailuresUrl',
        'Stream records the SMS pipe could not deliver (not jobs: see docs/operating.md)',
        this.smsQueue.pipeFailures.queueUrl,
      ],
    ] as const) {
      new CfnOutput(this, id, { description, value });
    }
    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the HTTP API', value: http.endpoint });
    new CfnOutput(this, 'IssuerUrl', { description: 'OpenID issuer identifier', value: issuerUrl });
  }
}

/**
 * Runs cdk-nag's AWS Solutions checks at synthesis: any finding not acknowledged (with its reason, next to
 * the construct it concerns) fails the synth.
 */
export function addComplianceChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/** Whether `day` (`YYYY-MM-DD`) names a day of the calendar (not `2027-02-30`). */
function isValidDay(day: string): boolean {
  return new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
}

/**
 * The role CloudFormation deploys `stack` with: the CDK bootstrap's `cfn-exec-role` (`npx cdk bootstrap`,
 * docs/operating.md), whose calls through CloudFormation the key watch takes for the deployment's (review
 * R57 F3). Another synthesizer is refused rather than guessed.
 */
function deployRoleArnOf(stack: Stack): string {
  const synthesizer = stack.synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) {
    throw new Error(
      'ElicenceStack: the key watch needs the default synthesizer’s CloudFormation execution role',
    );
  }
  return Fn.sub(synthesizer.cloudFormationExecutionRoleArn);
}
