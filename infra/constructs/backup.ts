import { Aws, Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { encryptionKey } from './encryption-key.js';
import { Construct } from 'constructs';

/** The vault in the disaster-recovery region that `DisasterRecoveryVault` creates and the plan copies to. */
export const drVaultName = 'elicence-dr';
/** The alias of that vault's key: the backup role may use the key it names, and no other key there. */
export const drVaultKeyAlias = 'alias/elicence-backup-dr';

/** How long recovery points are kept: the daily ones as long as point-in-time recovery, monthly a year. */
export const backupRetention = { daily: Duration.days(35), monthly: Duration.days(365) } as const;

/** The end states of an AWS Backup job that mean no recovery point (or no copy) was made. */
export const failedJobStates = ['FAILED', 'EXPIRED', 'ABORTED'] as const;

/** A region name as AWS spells it (`cn-northwest-1`, `eu-central-1`, `us-gov-west-1`). */
export const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** The ARN of the DR vault: named, so that the stack needs no reference across regions. */
export function drVaultArn(drRegion: string): string {
  return `arn:${Aws.PARTITION}:backup:${drRegion}:${Aws.ACCOUNT_ID}:backup-vault:${drVaultName}`;
}

export interface TableBackupsProps {
  /** Every table of the stack: each is selected by ARN. */
  tables: readonly dynamodb.ITable[];
  /** Copies every recovery point to {@link drVaultName} in this region. Default: no copy. */
  drRegion?: string;
}

/**
 * AWS Backup of the service's tables, beside their 35 days of point-in-time recovery (operator review H3):
 * a recovery point of every table daily (kept 35 days) and on the first of each month (kept a year), in a
 * vault of its own encrypted with a key of its own, whose access policy refuses the deletion of a recovery
 * point to everyone (they expire by their lifecycle only). Given `drRegion`, each recovery point is also
 * copied to the vault `elicence-dr` there (`DisasterRecoveryVault`, deployed as the `ElicenceDr` stack):
 * the copy is what a region outage leaves (docs/operating.md, "Disaster recovery").
 *
 * Copies across regions need AWS Backup's advanced DynamoDB features, on by default for accounts that
 * created no vault before November 2021 (otherwise `aws backup update-region-settings
 * --resource-type-management-preference DynamoDB=true`). AWS Backup re-encrypts a copy with the
 * destination vault's key.
 *
 * The role AWS Backup assumes is the stack's own, with no AWS managed policy: it may back up these tables
 * (and describe or delete the recovery points it made of them), use the table keys and the vault key only
 * through AWS services, and copy only into the DR vault with the key named `alias/elicence-backup-dr`.
 * Restores are an operator's act, with a role of its own (`DisasterRecoveryVault.restoreRole` in the DR
 * region); this role cannot restore.
 *
 * @example
 * ```ts
 * new TableBackups(this, 'Backups', { tables: [data.table, audit.table], drRegion: 'cn-northwest-1' });
 * ```
 */
export class TableBackups extends Construct {
  readonly key: kms.Key;
  readonly vault: backup.BackupVault;
  readonly plan: backup.BackupPlan;
  readonly role: iam.Role;
  /**
   * The rules that catch backup jobs and copy jobs (to the DR vault) that ended `FAILED`, `EXPIRED` or
   * `ABORTED` (SRE review R31 M4); the stack sends them to the alarm topic. Both kinds of job run, and
   * report, in this stack's region: a copy job is the source region's even when its copy lands in the
   * DR region, so the `ElicenceDr` stack needs no rule of its own.
   */
  readonly failedJobRules: events.Rule[];

  constructor(scope: Construct, id: string, props: TableBackupsProps) {
    super(scope, id);
    if (props.tables.length === 0) throw new Error('TableBackups: no tables to back up');
    if (props.drRegion !== undefined && !regionPattern.test(props.drRegion)) {
      throw new Error(
        `drRegion: a region name such as cn-northwest-1, got ${JSON.stringify(props.drRegion)}`,
      );
    }
    this.key = encryptionKey(this, 'Key', {
      description: 'elicence backup vault encryption key (recovery points of the tables)',
    });
    this.vault = new backup.BackupVault(this, 'Vault', {
      encryptionKey: this.key,
      blockRecoveryPointDeletion: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const drVault =
      props.drRegion === undefined
        ? undefined
        : backup.BackupVault.fromBackupVaultArn(this, 'DrVault', drVaultArn(props.drRegion));
    const rule = (ruleName: string, schedule: events.Schedule, deleteAfter: Duration) =>
      new backup.BackupPlanRule({
        ruleName,
        scheduleExpression: schedule,
        startWindow: Duration.hours(1),
        completionWindow: Duration.hours(8),
        deleteAfter,
        ...(drVault && { copyActions: [{ destinationBackupVault: drVault, deleteAfter }] }),
      });
    // 19:00 UTC is 03:00 in China, the quietest hour; the monthly one half an hour later on the 1st.
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupVault: this.vault,
      backupPlanRules: [
        rule('Daily', events.Schedule.cron({ minute: '0', hour: '19' }), backupRetention.daily),
        rule(
          'Monthly',
          events.Schedule.cron({ minute: '30', hour: '19', day: '1' }),
          backupRetention.monthly,
        ),
      ],
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description:
        'AWS Backup: backs up the elicence tables and copies their recovery points to the DR vault',
    });
    this.plan.addSelection('Tables', {
      resources: props.tables.map((table) => backup.BackupResource.fromDynamoDbTable(table)),
      role: this.role,
      disableDefaultBackupPolicy: true,
    });
    this.grantBackup(props.tables, drVault && { vault: drVault, region: props.drRegion! });

    // Any job of this account and region, not only this vault's: a failed backup is worth a look wherever.
    this.failedJobRules = (
      [
        ['FailedBackupJobs', 'Backup Job State Change', 'backup job'],
        ['FailedCopyJobs', 'Copy Job State Change', 'copy job (to the DR vault)'],
      ] as const
    ).map(
      ([ruleId, detailType, what]) =>
        new events.Rule(this, ruleId, {
          description: `Reports an AWS Backup ${what} that failed, expired or was aborted (docs/operating.md, "Alarms")`,
          eventPattern: {
            source: ['aws.backup'],
            detailType: [detailType],
            account: [Stack.of(this).account],
            detail: { state: [...failedJobStates] },
          },
        }),
    );
  }

  /** What AWS Backup does with the role (the DynamoDB part of `AWSBackupServiceRolePolicyForBackup`). */
  private grantBackup(
    tables: readonly dynamodb.ITable[],
    dr: { vault: backup.IBackupVault; region: string } | undefined,
  ): void {
    const { role } = this;
    const tableArns = tables.map((table) => table.tableArn);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'BackUpTheTables',
        actions: [
          'dynamodb:DescribeTable',
          'dynamodb:CreateBackup',
          'dynamodb:StartAwsBackupJob',
          'dynamodb:ListTagsOfResource',
        ],
        resources: tableArns,
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TheirBackups',
        actions: ['dynamodb:DescribeBackup', 'dynamodb:DeleteBackup'],
        resources: tableArns.map((arn) => `${arn}/backup/*`),
      }),
    );
    // The tables' keys (DynamoDB reads the tables) and the vault's (AWS Backup encrypts what it keeps):
    // through AWS services only, and grants only for an AWS resource.
    const keyArns = [
      ...new Set(tables.map((table) => table.encryptionKey?.keyArn).filter((arn) => arn !== undefined)),
      this.key.keyArn,
    ];
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TableAndVaultKeys',
        actions: ['kms:DescribeKey', 'kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: keyArns,
        conditions: {
          StringLike: { 'kms:ViaService': [`dynamodb.*.${Aws.URL_SUFFIX}`, `backup.*.${Aws.URL_SUFFIX}`] },
        },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'KeyGrantsForAwsResources',
        actions: ['kms:CreateGrant'],
        resources: keyArns,
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
    const acknowledgements = [
      ...tables.map((table) => ({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(table).getLogicalId(table.node.defaultChild as CfnElement)}.Arn>/backup/*]`,
        reason: 'The DynamoDB backups of this table only: their ids are made by each backup.',
      })),
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          'kms:GenerateDataKey and its WithoutPlaintext form, on the table and vault keys only, through DynamoDB and AWS Backup only (kms:ViaService).',
      },
    ];
    if (dr) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'CopyIntoTheDrVault',
          actions: ['backup:CopyIntoBackupVault', 'backup:DescribeBackupVault'],
          resources: [dr.vault.backupVaultArn],
        }),
      );
      // The DR vault's key is made by the other stack: named by its alias, not its id (kms:ResourceAliases).
      const drKeys = `arn:${Aws.PARTITION}:kms:${dr.region}:${Aws.ACCOUNT_ID}:key/*`;
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DrVaultKey',
          actions: ['kms:DescribeKey', 'kms:Decrypt', 'kms:GenerateDataKey*', 'kms:CreateGrant'],
          resources: [drKeys],
          conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': drVaultKeyAlias } },
        }),
      );
      acknowledgements.push({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${dr.region}:<AWS::AccountId>:key/*]`,
        reason: `The DR vault's key, made by the ElicenceDr stack in the other region: only the key with the alias ${drVaultKeyAlias} (kms:ResourceAliases).`,
      });
    }
    for (const acknowledgement of acknowledgements) Validations.of(role).acknowledge(acknowledgement);
  }
}
