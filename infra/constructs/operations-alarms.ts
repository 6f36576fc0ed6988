import { Duration, NestedStack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { TableDeclaration } from '../../shared/adapters/dynamo/table.js';
import { counterClerkDailyCaps } from '../../shared/config.js';
import { counterClerkCapLine } from '../../shared/identity/counter-proof.js';
import { trustListOverPeerLimitLine } from '../../shared/licence/trust-list-token.js';
import { smsCheckCeilingLine, smsCodePolicy } from '../../shared/identity/sms-codes.js';
import { peerCollisionLine, peersRefreshedLine } from '../../shared/issuers/peers.js';
import { auditCheckLogLines } from '../../shared/supervision/audit-chain-check.js';
import { auditCheckpointLogLines } from '../../shared/supervision/checkpoints.js';
import type { ServiceFunction } from './service-function.js';

/**
 * The DynamoDB operations the service's code sends (the document client's commands, and the stream
 * reads of the event source mapping): those whose system errors are summed. A math expression takes 10
 * metrics at most, and this is 9.
 */
const tableOperations = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.BATCH_GET_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.BATCH_WRITE_ITEM,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
  dynamodb.Operation.GET_RECORDS,
];

/**
 * The line each withdrawal notice given up on is logged with (shared/sharing/withdrawal-notices.ts,
 * `abandonNotice`): after `NOTICE_MAX_ATTEMPTS` failed deliveries the platform will never be told, and
 * may keep a person's data it should have deleted. test/unit/infra/operations-filters.test.ts holds the
 * pattern to the line the use case logs.
 */
export const noticeAbandonedLine = 'withdrawal notice abandoned';

/** The filter patterns of the alarms below, by what they count (evaluated in test/unit/infra). */
export const operationsFilterPatterns = {
  auditChainsIntact: logs.FilterPattern.stringValue('$.message', '=', auditCheckLogLines.intact),
  auditChainsBroken: logs.FilterPattern.stringValue('$.message', '=', auditCheckLogLines.broken),
  auditCheckpointSigned: logs.FilterPattern.stringValue('$.message', '=', auditCheckpointLogLines.signed),
  noticesAbandoned: logs.FilterPattern.stringValue('$.message', '=', noticeAbandonedLine),
  peersRefreshed: logs.FilterPattern.stringValue('$.message', '=', peersRefreshedLine),
  peerCollisions: logs.FilterPattern.stringValue('$.message', '=', peerCollisionLine),
  smsCheckCeiling: logs.FilterPattern.stringValue('$.message', '=', smsCheckCeilingLine),
  counterClerkCap: logs.FilterPattern.stringValue('$.message', '=', counterClerkCapLine),
  trustListOverPeerLimit: logs.FilterPattern.stringValue('$.message', '=', trustListOverPeerLimitLine),
};

/**
 * SMS code checks at their daily ceiling (filling it or refused past it), in 5 minutes across the functions that check codes, at
 * which the alarm fires. A ceiling is 20 checks a day per purpose, person and phone, and only the checks
 * past it are refused (and logged): a person who used theirs up and tries a few more times makes a
 * handful, and people type codes far slower than 10 a minute. 50 in 5 minutes is someone scripting checks
 * against phones already locked, or many people at once finding theirs locked (docs/operating.md,
 * "Alarms").
 */
export const smsCheckCeilingThreshold = 50;

export interface OperationsAlarmsProps {
  /** Each table by the name its alarms carry (`Service`, `Audit`, `Batch`), with its declaration (indexes). */
  tables: ReadonlyArray<{ label: string; table: dynamodb.Table; declaration: TableDeclaration }>;
  /** The daily audit-chain check (functions/audit-check.ts). */
  auditCheck: ServiceFunction;
  /** The audit function, which signs the daily checkpoint (functions/audit.ts). */
  auditCheckpoint: ServiceFunction;
  /** The withdrawal-notice rounds (functions/notices.ts). */
  notices: ServiceFunction;
  /** The peer-platform refresh (functions/peers.ts). */
  peers: ServiceFunction;
  /**
   * The functions that accept a peer's issuers and save them (those allowed to put a peer item: the
   * schedule's `peers`, and `admin`'s registrations and refreshes), which log two peers' issuers colliding.
   */
  peerSavers: readonly ServiceFunction[];
  /** The functions that check SMS codes (the step-up and reset in `oidc`, `/register` in `accounts`). */
  smsCodeCheckers: readonly ServiceFunction[];
  /** The function that serves the counter's proofs in person (`accounts`: `/counter/accounts/…`). */
  counter: ServiceFunction;
  /** The function that signs the trust list (`list-signer`), which says when peers would refuse it. */
  listSigner: ServiceFunction;
}

/**
 * Every alarm that pages the on-call, with the metric filters it counts, in a nested stack of its own
 * (which the parent counts as one resource): each function's, the API's, the queues' and the stream's,
 * the SMS provider's and spend, and the on-call's own ({@link watch}: DynamoDB throttles and system errors
 * per table, the audit trail broken or not checked for a day, withdrawal notices given up on, peer copies
 * past their stale age, two peers' issuers colliding, SMS code checks at their daily ceiling, a counter
 * clerk at the day's cap; SRE review M3). In the parent, their 94
 * alarms and 33 filters took it to 468 of CloudFormation's 500 resources; it holds 342 without them. The
 * alarm topic stays in the parent: the key guard's EventBridge rule publishes to it too, the stack's
 * output `AlarmTopicArn` names it, and a topic made again here would lose its subscriptions.
 *
 * The parent's constructs make their alarms and filters here, each under a scope of its own id
 * ({@link scopeFor}: `Operations/<fn>/Errors`, `Operations/Http/ServerErrorRate`), and the parent sends them
 * all to the alarm topic. What they watch (functions, log groups, tables, queues, the API, the topic) stays
 * in the parent and reaches this stack as its parameters; nothing here is referenced back, and nothing
 * here has a role. Each alarm is described, with the first thing to do, in docs/operating.md ("Alarms").
 *
 * @example
 * ```ts
 * const operations = new OperationsAlarms(this, 'Operations');
 * const fn = new ServiceFunction(this, 'oidc', { …, alarmScope: operations.scopeFor('oidc') });
 * operations.watch({ tables, auditCheck, notices, peers, smsCodeCheckers });
 * alarmNotifications.notifyOn([...operations.alarms, ...fn.alarms]);
 * ```
 */
export class OperationsAlarms extends NestedStack {
  /** The on-call's own alarms, made by {@link watch} (the others are their constructs'). */
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string) {
    super(scope, id, {
      description: 'elicence alarms: every alarm that pages the on-call, and the metric filters they count',
    });
  }

  /**
   * The scope, in this stack, of the alarms and metric filters of the parent's construct `id` (a function's
   * name, `Http`, `Sms`): its alarms keep their names under it (`Operations/<id>/Errors`).
   */
  scopeFor(id: string): Construct {
    return new Construct(this, id);
  }

  /**
   * The on-call's own alarms, on the tables, the audit check, the notices, the peers and the SMS code
   * checks: made here, their metric filters in each function's scope.
   */
  watch(props: OperationsAlarmsProps): void {
    for (const { label, table, declaration } of props.tables) {
      this.tableAlarms(
        label,
        table,
        declaration.globalSecondaryIndexes.map((index) => index.indexName),
      );
    }
    this.auditCheckAlarms(props.auditCheck);
    this.auditCheckpointAlarm(props.auditCheckpoint);

    // Every notice given up on: the platform was not told of a withdrawal (docs/integrating.md).
    const abandoned = props.notices.countLogLines('NoticesAbandoned', {
      pattern: operationsFilterPatterns.noticesAbandoned,
      metricName: 'NoticesAbandoned',
    });
    this.atLeastOne(
      'NoticesAbandonedAlarm',
      'elicence notices: a withdrawal notice was given up on after its last attempt (the platform was never told)',
      abandoned.metric({ period: Duration.minutes(5), statistic: 'Sum' }),
    );

    this.smsCheckCeilingAlarm(props.smsCodeCheckers);

    // The peers past their stale age, as each 15-minute round counts them (0 included).
    const stale = props.peers.countLogLines('StalePeers', {
      pattern: operationsFilterPatterns.peersRefreshed,
      metricName: 'StalePeers',
      value: '$.stalePeers',
    });
    this.atLeastOne(
      'StalePeersAlarm',
      "elicence peers: a peer platform's trust list copy is older than PEER_STALE_SECONDS (served marked stale; its issuers are dropped at PEER_MAX_AGE_SECONDS)",
      stale.metric({ period: Duration.minutes(15), statistic: 'Maximum' }),
    );

    this.peerCollisionsAlarm(props.peerSavers);
    this.counterClerkCapAlarm(props.counter);
    this.trustListOverPeerLimitAlarm(props.listSigner);
  }

  /**
   * Our own issuers' part of the trust list past what a peer running this service reads
   * ({@link trustListOverPeerLimitLine}, review R40 L1: logged at each signature, every half hour at
   * least): every such peer refuses our list whole, keeps its last copy and drops our issuers at its
   * `PEER_MAX_AGE_SECONDS`. Fires at the first line and clears an hour after the last (docs/operating.md,
   * "Our trust list too large for peers").
   */
  private trustListOverPeerLimitAlarm(listSigner: ServiceFunction): void {
    const over = listSigner.countLogLines('TrustListOverPeerLimit', {
      pattern: operationsFilterPatterns.trustListOverPeerLimit,
      metricName: 'TrustListOverPeerLimit',
    });
    this.atLeastOne(
      'TrustListOverPeerLimitAlarm',
      "elicence trust list: our own issuers' part is over 128 KiB, the most a peer running this service reads: peers refuse our list and drop our issuers at PEER_MAX_AGE_SECONDS (docs/operating.md)",
      over.metric({ period: Duration.hours(1), statistic: 'Sum' }),
    );
  }

  /**
   * A counter clerk at their daily cap ({@link counterClerkCapLine}: the success that fills it, each call
   * refused past it; `counterClerkDailyCaps`): a clerk finding or proving far more people than a counter
   * serves, maybe looking people up without them, or choosing phones that reset their passwords. The
   * alarm fires at the first line (in 15 minutes) and clears a quarter of an hour after the last; the
   * on-call tells the agency's supervision (docs/operating.md, "A counter clerk at the day's cap").
   */
  private counterClerkCapAlarm(counter: ServiceFunction): void {
    const capped = counter.countLogLines('CounterClerkCap', {
      pattern: operationsFilterPatterns.counterClerkCap,
      metricName: 'CounterClerkCap',
    });
    this.atLeastOne(
      'CounterClerkCapAlarm',
      `elicence accounts: a counter clerk reached the day's cap (${counterClerkDailyCaps.lookups} lookups or ${counterClerkDailyCaps.proofs} proofs in person): refused until the next China-time day; tell the agency's supervision (docs/operating.md)`,
      capped.metric({ period: Duration.minutes(15), statistic: 'Sum' }),
    );
  }

  /**
   * Two peers' accepted issuers sharing an id or a credit code ({@link peerCollisionLine}, an error): both
   * are left out of our trust list, and those licences stop verifying here, until an operator removes the
   * peer at fault (docs/peers.md). One filter on each saving function's log group (a filter reads one
   * group), summed. A peer's issuers are accepted again at every refresh, even from the same copy, so the
   * 15-minute schedule logs the clash at each round while both peers list it: the alarm fires at the first
   * line (a registration, a refresh) and holds in 1 of 2 fifteen-minute periods, clearing half an hour
   * after the last round that saw it.
   */
  private peerCollisionsAlarm(savers: readonly ServiceFunction[]): void {
    const period = Duration.minutes(15);
    const collisions = Object.fromEntries(
      savers.map((saver, i) => [
        `m${i}`,
        saver
          .countLogLines('PeerIssuerCollisions', {
            pattern: operationsFilterPatterns.peerCollisions,
            metricName: 'PeerIssuerCollisions',
          })
          .metric({ period, statistic: 'Sum' }),
      ]),
    );
    this.atLeastOne(
      'PeerCollisionsAlarm',
      'elicence peers: two peer platforms list the same issuer id or credit code: both issuers are left out of our trust list (their licences do not verify here) until the peer at fault is removed (docs/peers.md)',
      new cloudwatch.MathExpression({
        label: 'peer issuer collisions',
        expression: Object.keys(collisions)
          .map((m) => `FILL(${m}, 0)`)
          .join(' + '),
        usingMetrics: collisions,
        period,
      }),
      { periods: 2, datapoints: 1 },
    );
  }

  /**
   * An alarm when `metric` reaches 1 (no data: not breaching), in one period, or in `datapoints` of
   * `periods` periods.
   */
  private atLeastOne(
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    over: { periods: number; datapoints: number } = { periods: 1, datapoints: 1 },
  ): void {
    this.alarms.push(
      new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: over.periods,
        datapointsToAlarm: over.datapoints,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /**
   * Throttled reads and writes of the table and its indexes (an index's throttled writes hold up the
   * table's), and DynamoDB's own failures (HTTP 500), each over 2 of 3 five-minute periods: the SDK
   * retries both, so one event is noise, and a second period is a table that is failing callers.
   */
  private tableAlarms(label: string, table: dynamodb.Table, indexes: readonly string[]): void {
    const period = Duration.minutes(5);
    const throttleEvents: Record<string, cloudwatch.IMetric> = {};
    const metric = (metricName: string, index?: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: {
          TableName: table.tableName,
          ...(index ? { GlobalSecondaryIndexName: index } : {}),
        },
        statistic: 'Sum',
        period,
      });
    for (const [i, index] of [undefined, ...indexes].entries()) {
      throttleEvents[`r${i}`] = metric('ReadThrottleEvents', index);
      throttleEvents[`w${i}`] = metric('WriteThrottleEvents', index);
    }
    const alarm = (id: string, description: string, expression: cloudwatch.IMetric) =>
      this.atLeastOne(`${label}${id}`, `elicence ${label.toLowerCase()} table: ${description}`, expression, {
        periods: 3,
        datapoints: 2,
      });
    alarm(
      'Throttles',
      'reads or writes throttled (the table or an index), in 2 of 3 five-minute periods',
      new cloudwatch.MathExpression({
        label: 'throttle events',
        expression: Object.keys(throttleEvents).join(' + '),
        usingMetrics: throttleEvents,
        period,
      }),
    );
    alarm(
      'SystemErrors',
      'DynamoDB answered 500 (system errors), in 2 of 3 five-minute periods',
      table.metricSystemErrorsForOperations({ operations: tableOperations, period }),
    );
  }

  /**
   * SMS code checks at their daily ceiling ({@link smsCheckCeilingLine}: the one that fills it, each refused past it): one metric
   * filter on each checking function's log group (a filter reads one group), summed by one alarm, at
   * {@link smsCheckCeilingThreshold} in 5 minutes. Anyone with a person's ID number and phone can use up
   * the ceiling of that person's checks on that phone with 20 blind checks; the person is then refused for
   * a day, and the operator should know.
   */
  private smsCheckCeilingAlarm(checkers: readonly ServiceFunction[]): void {
    const period = Duration.minutes(5);
    const refusals = Object.fromEntries(
      checkers.map((checker, i) => [
        `m${i}`,
        checker
          .countLogLines('SmsCheckCeiling', {
            pattern: operationsFilterPatterns.smsCheckCeiling,
            metricName: 'SmsCheckCeilingRefusals',
          })
          .metric({ period, statistic: 'Sum' }),
      ]),
    );
    this.alarms.push(
      new cloudwatch.Alarm(this, 'SmsCheckCeilingAlarm', {
        alarmDescription: `elicence: ${smsCheckCeilingThreshold} or more SMS code checks at their daily ceiling in 5 minutes (filling it or refused past it; phones locked for a day by ${smsCodePolicy.personDailyFailureCap} checks each: see docs/operating.md, "Alarms")`,
        metric: new cloudwatch.MathExpression({
          label: 'checks refused by the daily ceiling',
          expression: Object.keys(refusals)
            .map((m) => `FILL(${m}, 0)`)
            .join(' + '),
          usingMetrics: refusals,
          period,
        }),
        threshold: smsCheckCeilingThreshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  /**
   * The daily checkpoint not signed for 25 hours (no `audit checkpoint signed` line, which only the
   * scheduled run logs, in 25 one-hour periods; missing data breaches): it failed, was refused (a closed
   * day changed) or never ran (the schedule disabled). Without it yesterday has no closing checkpoint, and
   * its chains started after the last checkpoint can be cut whole unseen (R24 M1); the audit check faults
   * that day too, but only when it runs itself.
   */
  private auditCheckpointAlarm(audit: ServiceFunction): void {
    const signed = audit.countLogLines('AuditCheckpointSigned', {
      pattern: operationsFilterPatterns.auditCheckpointSigned,
      metricName: 'AuditCheckpointSigned',
    });
    this.alarms.push(
      new cloudwatch.Alarm(this, 'AuditCheckpointMissingAlarm', {
        alarmDescription:
          'elicence audit: the daily audit checkpoint was not signed in 25 hours (it failed, was refused or did not run): yesterday has no closing checkpoint',
        metric: signed.metric({ period: Duration.hours(1), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 25,
        datapointsToAlarm: 25,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );
  }

  /**
   * The daily check of the audit chains: broken at once (a run logged `audit chains broken`), and not
   * found intact for 30 hours (a run broke, failed, timed out or never ran: missing data breaches). The
   * check runs daily, so the second alarm stays in ALARM from a broken run until an intact one.
   */
  private auditCheckAlarms(check: ServiceFunction): void {
    const broken = check.countLogLines('AuditChainsBroken', {
      pattern: operationsFilterPatterns.auditChainsBroken,
      metricName: 'AuditChainsBroken',
    });
    const intact = check.countLogLines('AuditChainsIntact', {
      pattern: operationsFilterPatterns.auditChainsIntact,
      metricName: 'AuditChainsIntact',
    });
    this.atLeastOne(
      'AuditChainsBrokenAlarm',
      'elicence audit-check: the audit trail does not verify (an entry changed, removed or added, or a checkpoint that does not verify)',
      broken.metric({ period: Duration.hours(1), statistic: 'Sum' }),
    );
    this.alarms.push(
      new cloudwatch.Alarm(this, 'AuditChainsUncheckedAlarm', {
        alarmDescription:
          'elicence audit-check: no check found the audit trail intact in 30 hours (it broke, failed or did not run)',
        metric: intact.metric({ period: Duration.hours(6), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );
  }
}
