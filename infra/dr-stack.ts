import { Aws, CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { encryptionKey } from './constructs/encryption-key.js';
import type { Construct } from 'constructs';
import { drVaultKeyAlias, drVaultName } from './constructs/backup.js';

/** The prefix of the tables a DR restore creates: the restore role may create and fill those alone. */
export const restoredTablePrefix = 'elicence-restored-';

/**
 * What the disaster-recovery region holds before any disaster (operator review H3), deployed as the
 * `ElicenceDr` stack when the context names a `drRegion` (infra/app.ts):
 *
 * - the vault `elicence-dr` that the main stack's backup plan copies every recovery point into
 *   (`TableBackups`), encrypted with a key of its own named `alias/elicence-backup-dr` (AWS Backup
 *   re-encrypts each copy with it), whose access policy refuses the deletion of a recovery point to
 *   everyone: copies expire by their lifecycle only;
 * - the role a restore passes to AWS Backup (`aws backup start-restore-job --iam-role-arn`): it may create
 *   and fill tables named `elicence-restored-*` in this region from those recovery points, encrypted with
 *   the vault's key, and nothing else (docs/operating.md, "Disaster recovery").
 *
 * The replicas of the main stack's multi-Region keys are not here: `aws kms replicate-key` (the runbook)
 * makes them, while the main region is still up, since a replica can only be made from its primary.
 */
export class ElicenceDrStack extends Stack {
  readonly key: kms.Key;
  readonly vault: backup.BackupVault;
  readonly restoreRole: iam.Role;

  constructor(scope: Construct, id: string, props: StackProps & { env: { region: string } }) {
    super(scope, id, props);
    this.key = encryptionKey(this, 'VaultKey', {
      description: 'elicence DR backup vault encryption key (copies of the tables’ recovery points)',
      alias: drVaultKeyAlias,
    });
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: drVaultName,
      encryptionKey: this.key,
      blockRecoveryPointDeletion: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.restoreRole = new iam.Role(this, 'RestoreRole', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: `AWS Backup: restores the copied elicence tables as ${restoredTablePrefix}* in this region`,
    });
    const restoredTables = `arn:${Aws.PARTITION}:dynamodb:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/${restoredTablePrefix}*`;
    this.restoreRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreIntoNewTables',
        // The DynamoDB part of AWSBackupServiceRolePolicyForRestores: an advanced backup is restored by
        // writing its items into the new table.
        actions: [
          'dynamodb:RestoreTableFromAwsBackup',
          'dynamodb:DescribeTable',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:BatchWriteItem',
        ],
        resources: [restoredTables],
      }),
    );
    // The vault key decrypts the copies and encrypts the restored tables: through AWS Backup and
    // DynamoDB only.
    this.restoreRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'VaultKey',
        actions: ['kms:DescribeKey', 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
        resources: [this.key.keyArn],
        conditions: {
          StringLike: { 'kms:ViaService': [`dynamodb.*.${Aws.URL_SUFFIX}`, `backup.*.${Aws.URL_SUFFIX}`] },
        },
      }),
    );
    this.restoreRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'VaultKeyGrantsForAwsResources',
        actions: ['kms:CreateGrant'],
        resources: [this.key.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
    for (const [id, reason] of [
      [
        `Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${restoredTablePrefix}*`,
        `The tables a DR restore creates, named ${restoredTablePrefix}<table> by the runbook: no other table.`,
      ],
      [
        'Action::kms:GenerateDataKey*',
        'On the vault key only, through DynamoDB and AWS Backup only (kms:ViaService).',
      ],
      [
        'Action::kms:ReEncrypt*',
        'On the vault key only, through DynamoDB and AWS Backup only (kms:ViaService).',
      ],
    ]) {
      Validations.of(this.restoreRole).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason: reason! });
    }
    // What the runbook's restore command names.
    new CfnOutput(this, 'RestoreRoleArn', {
      description: 'The role to pass to aws backup start-restore-job (--iam-role-arn)',
      value: this.restoreRole.roleArn,
    });
    new CfnOutput(this, 'VaultKeyArn', {
      description: 'The key of the restored tables (kmsMasterKeyArn in the restore metadata)',
      value: this.key.keyArn,
    });
  }
}
