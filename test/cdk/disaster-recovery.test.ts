import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { functionNames } from '../../functions/routes.js';
import { backupRetention, drVaultKeyAlias, drVaultName } from '../../infra/constructs/backup.js';
import { ElicenceDrStack, restoredTablePrefix } from '../../infra/dr-stack.js';
import { addComplianceChecks, ElicenceStack, type ElicenceStackProps } from '../../infra/stack.js';

import type { Json, Statement } from '../support/iam-statement.js';
interface Resource {
  Type: string;
  Properties: Json;
  DeletionPolicy?: string;
}

/** Synthesises the stack without bundling. */
function synthesize(props: ElicenceStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ElicenceStack(app, 'Elicence', props);
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  return { stack, resources, idOf, ofType };
}

const actionsOf = (statement: Statement) => [statement.Action].flat();
const statementsOf = (resource: Resource) =>
  (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement;

/** The construct id of a key of `Keys` (`Platform2`, `LookupMac`) from its logical id. */
const keyName = (id: string) => /^Keys([A-Za-z]+?\d*)[0-9A-F]{8}$/.exec(id)?.[1];

describe('multi-Region keys (operator review H3)', () => {
  const { resources, ofType } = synthesize({ platformKeys: ['2', '1'], presentationKeys: ['2', '1'] });
  const keys = Object.fromEntries(ofType('AWS::KMS::Key').map(([id, r]) => [keyName(id) ?? id, r]));

  it('makes every key whose output is kept a multi-Region primary key, every signing generation too', () => {
    const multiRegion = Object.entries(keys)
      .filter(([, key]) => key.Properties.MultiRegion === true)
      .map(([name]) => name)
      .sort();
    expect(multiRegion).toEqual(
      [
        'LookupMac',
        'ClientSecret',
        'Pii',
        'Table',
        'AuditTable',
        'Platform',
        'Platform2',
        'PlatformRsa',
        'Audit',
        'Presentation',
        'Presentation2',
        'Notice',
      ].sort(),
    );
    // Sessions, sign-ins under way and listing cursors, the two topics, the backup vault: new keys in a DR
    // region (a cursor refused there sends its reader back to the first page).
    const singleRegion = Object.keys(keys).filter((name) => keys[name]!.Properties.MultiRegion === undefined);
    expect(singleRegion.map((name) => name.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(
      [
        'AlarmsKey',
        'BackupsKey',
        'Cursor',
        'Interaction',
        'SmsQueueKey',
        'SupervisionAlertsKey',
        'Web',
      ].sort(),
    );
  });

  it('lets the account replicate a key it administers (the runbook), and no function role do it', () => {
    for (const name of ['LookupMac', 'Pii', 'Platform2']) {
      const policy = keys[name]!.Properties.KeyPolicy as { Statement: Statement[] };
      const account = policy.Statement.find((st) => st.Sid === 'AccountAdministersButDoesNotUse')!;
      expect(actionsOf(account), name).toContain('kms:ReplicateKey');
      const denied = policy.Statement.find((st) => st.Sid === 'FunctionsNeverDestroyThisKey')!;
      expect(denied.Effect).toBe('Deny');
      expect(actionsOf(denied), name).toContain('kms:ReplicateKey');
    }
    // 344 with these second generations of two keys (470 when the alarms were in it: stack.test.ts).
    expect(Object.keys(resources).length).toBeLessThan(400);
  });

  it('keeps the keys a stack deployed before them named in singleRegionKeys; new generations multi-Region', () => {
    const existing = synthesize({
      platformKeys: ['2', '1'],
      singleRegionKeys: ['Platform', 'LookupMac', 'Pii'],
    });
    const byName = Object.fromEntries(
      existing.ofType('AWS::KMS::Key').map(([id, r]) => [keyName(id) ?? id, r.Properties.MultiRegion]),
    );
    expect(byName).toMatchObject({ Platform: undefined, LookupMac: undefined, Pii: undefined });
    expect(byName).toMatchObject({ Platform2: true, ClientSecret: true, Table: true, AuditTable: true });
  });

  it('refuses a singleRegionKeys name that is no multi-Region key of the stack', () => {
    for (const name of ['Web', 'Platfrom', 'Platform2']) {
      expect(() => synthesize({ singleRegionKeys: [name] }), name).toThrow(
        new RegExp(`singleRegionKeys: ${name} is no multi-Region key`),
      );
    }
  });
});

describe('retired key generations (operator review M1)', () => {
  // Synthesised once each: a synthesis takes seconds.
  const initial = synthesize();
  const retiring = synthesize({ platformKeys: ['2'], retiredPlatformKeys: ['1'] });

  it('refuses a list that drops a generation below the highest without retiring it', () => {
    for (const [option, retired] of [
      ['platformKeys', 'retiredPlatformKeys'],
      ['platformRsaKeys', 'retiredPlatformRsaKeys'],
      ['presentationKeys', 'retiredPresentationKeys'],
      ['noticeKeys', 'retiredNoticeKeys'],
    ] as const) {
      expect(() => synthesize({ [option]: ['2'] }), option).toThrow(
        new RegExp(`${option}: generation 1 \\(below 2\\) is neither listed nor retired.*${retired}: "1"`),
      );
      expect(() => synthesize({ [option]: ['3', '1'] }), option).toThrow(
        new RegExp(`${option}: generation 2 \\(below 3\\)`),
      );
      expect(() => synthesize({ [option]: ['4', '3'], [retired]: ['1'] }), option).toThrow(
        new RegExp(`${option}: generation 2 \\(below 4\\)`),
      );
    }
  });

  it('refuses a generation both in use and retired, and a retired one that is not a generation', () => {
    expect(() => synthesize({ platformKeys: ['2', '1'], retiredPlatformKeys: ['1'] })).toThrow(
      /retiredPlatformKeys: generation 1 is in platformKeys too/,
    );
    for (const retired of [['v1'], ['1', '1'], ['0']]) {
      expect(() => synthesize({ platformKeys: ['2'], retiredPlatformKeys: retired }), retired.join()).toThrow(
        /retiredPlatformKeys/,
      );
    }
  });

  it('keeps a retired generation under its logical id, disabled, retained, with no alias and no user', () => {
    const generation1 = initial.idOf(initial.stack.keys.platform);
    const key = retiring.resources[generation1]!;
    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.DeletionPolicy).toBe('Retain');
    // The same key as deployed, but disabled: its description, spec and multi-Region property unchanged.
    expect(key.Properties).toEqual({
      ...initial.resources[generation1]!.Properties,
      Enabled: false,
      KeyPolicy: key.Properties.KeyPolicy,
    });
    const policy = key.Properties.KeyPolicy as { Statement: Statement[] };
    expect(policy.Statement.filter((st) => st.Sid?.startsWith('UseBy'))).toEqual([]);
    expect(retiring.stack.keys.previousPlatform).toEqual([]);
    const arn = JSON.stringify({ 'Fn::GetAtt': [generation1, 'Arn'] });
    for (const [id, resource] of Object.entries(retiring.resources)) {
      if (['AWS::IAM::Policy', 'AWS::Lambda::Function', 'AWS::KMS::Alias'].includes(resource.Type)) {
        // Only admin's Deny of destructive actions (KeyDeletionGuard) still names it.
        const named =
          resource.Type === 'AWS::IAM::Policy'
            ? statementsOf(resource).filter((st) => st.Effect === 'Allow' && JSON.stringify(st).includes(arn))
            : JSON.stringify(resource).includes(arn)
              ? [resource]
              : [];
        expect(named, id).toEqual([]);
      }
    }
    const alias = retiring
      .ofType('AWS::KMS::Alias')
      .find(([, r]) => r.Properties.AliasName === 'alias/elicence-platform');
    expect(alias?.[1].Properties.TargetKeyId).toEqual({
      'Fn::GetAtt': [retiring.idOf(retiring.stack.keys.platform), 'Arn'],
    });
  });

  it('brings a retired generation back as the same key, enabled again', () => {
    const retired = retiring;
    const back = synthesize({ platformKeys: ['2', '1'] });
    const [previous] = back.stack.keys.previousPlatform;
    expect(back.idOf(previous!)).toBe(initial.idOf(initial.stack.keys.platform));
    expect(back.resources[back.idOf(previous!)]!.Properties.Enabled).toBeUndefined();
    expect(
      Object.keys(retired.resources)
        .filter((id) => retired.resources[id]!.Type === 'AWS::KMS::Key')
        .sort(),
    ).toEqual(
      Object.keys(back.resources)
        .filter((id) => back.resources[id]!.Type === 'AWS::KMS::Key')
        .sort(),
    );
  });
});

describe('AWS Backup of the tables (operator review H3)', () => {
  const plain = synthesize();
  const withDr = synthesize({ drRegion: 'cn-northwest-1' });
  const planOf = (synth: ReturnType<typeof synthesize>) =>
    synth.ofType('AWS::Backup::BackupPlan').map(([, r]) => r.Properties.BackupPlan as Json)[0]!;
  const rulesOf = (synth: ReturnType<typeof synthesize>) =>
    (planOf(synth).BackupPlanRule as Json[]).map((rule) => ({
      name: rule.RuleName,
      schedule: rule.ScheduleExpression,
      days: (rule.Lifecycle as Json).DeleteAfterDays,
      copies: rule.CopyActions,
    }));
  const drVaultArn = {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        `:backup:cn-northwest-1:`,
        { Ref: 'AWS::AccountId' },
        `:backup-vault:${drVaultName}`,
      ],
    ],
  };

  it('backs every table up daily (kept 35 days) and monthly (kept a year), in a vault of its own key', () => {
    expect(rulesOf(plain)).toEqual([
      {
        name: 'Daily',
        schedule: 'cron(0 19 * * ? *)',
        days: backupRetention.daily.toDays(),
        copies: undefined,
      },
      {
        name: 'Monthly',
        schedule: 'cron(30 19 1 * ? *)',
        days: backupRetention.monthly.toDays(),
        copies: undefined,
      },
    ]);
    expect([backupRetention.daily.toDays(), backupRetention.monthly.toDays()]).toEqual([35, 365]);
    const [[vaultId, vault]] = plain.ofType('AWS::Backup::BackupVault') as [[string, Resource]];
    expect(vault.DeletionPolicy).toBe('Retain');
    expect(vault.Properties.EncryptionKeyArn).toEqual({
      'Fn::GetAtt': [plain.idOf(plain.stack.backups.key), 'Arn'],
    });
    // Nobody deletes a recovery point or shortens its life: they expire by their lifecycle.
    expect(vault.Properties.AccessPolicy).toMatchObject({
      Statement: [
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: ['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle'],
        },
      ],
    });
    for (const rule of planOf(plain).BackupPlanRule as Json[]) {
      expect(rule.TargetBackupVault).toEqual({ 'Fn::GetAtt': [vaultId, 'BackupVaultName'] });
    }
  });

  it('selects every table of the stack, by ARN, with the stack’s own backup role', () => {
    const [[, selection]] = plain.ofType('AWS::Backup::BackupSelection') as [[string, Resource]];
    const tables = plain.ofType('AWS::DynamoDB::Table').map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] }));
    expect(tables).toHaveLength(3);
    const chosen = selection.Properties.BackupSelection as Json;
    expect(new Set((chosen.Resources as unknown[]).map((r) => JSON.stringify(r)))).toEqual(
      new Set(tables.map((t) => JSON.stringify(t))),
    );
    expect(chosen.IamRoleArn).toEqual({ 'Fn::GetAtt': [plain.idOf(plain.stack.backups.role), 'Arn'] });
  });

  it('lets the backup role back up those tables and use their keys through AWS services, and nothing else', () => {
    const roleId = plain.idOf(plain.stack.backups.role);
    const role = plain.resources[roleId]!;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('backup.amazonaws.com');
    const statements = plain
      .ofType('AWS::IAM::Policy')
      .filter(([, r]) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(([, r]) => statementsOf(r));
    expect(statements.map((st) => [st.Sid, actionsOf(st)])).toEqual([
      [
        'BackUpTheTables',
        [
          'dynamodb:DescribeTable',
          'dynamodb:CreateBackup',
          'dynamodb:StartAwsBackupJob',
          'dynamodb:ListTagsOfResource',
        ],
      ],
      ['TheirBackups', ['dynamodb:DescribeBackup', 'dynamodb:DeleteBackup']],
      ['TableAndVaultKeys', ['kms:DescribeKey', 'kms:Decrypt', 'kms:GenerateDataKey*']],
      ['KeyGrantsForAwsResources', ['kms:CreateGrant']],
    ]);
    const keys = [plain.stack.keys.table, plain.stack.keys.auditTable, plain.stack.backups.key].map(
      (key) => ({
        'Fn::GetAtt': [plain.idOf(key), 'Arn'],
      }),
    );
    expect(statements[2]!.Resource).toEqual(keys);
    expect(Object.keys(statements[2]!.Condition!)).toEqual(['StringLike']);
    expect(statements[3]!.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': 'true' } });
    // No function role is given anything on the backups.
    for (const name of functionNames) {
      const fnRole = plain.idOf(plain.stack.functions[name].role);
      const onBackups = plain
        .ofType('AWS::IAM::Policy')
        .filter(([, r]) => JSON.stringify(r.Properties.Roles).includes(JSON.stringify({ Ref: fnRole })))
        .flatMap(([, r]) => statementsOf(r))
        .filter((st) => st.Effect === 'Allow' && actionsOf(st).some((a) => a.startsWith('backup:')));
      expect(onBackups, name).toEqual([]);
    }
  });

  it('copies each recovery point to the DR vault when a drRegion is given, kept as long, with its key alone', () => {
    for (const rule of rulesOf(withDr)) {
      expect(rule.copies, String(rule.name)).toEqual([
        { DestinationBackupVaultArn: drVaultArn, Lifecycle: { DeleteAfterDays: rule.days } },
      ]);
    }
    const roleId = withDr.idOf(withDr.stack.backups.role);
    const statements = withDr
      .ofType('AWS::IAM::Policy')
      .filter(([, r]) => JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(([, r]) => statementsOf(r));
    expect(statements.find((st) => st.Sid === 'CopyIntoTheDrVault')).toMatchObject({
      Action: ['backup:CopyIntoBackupVault', 'backup:DescribeBackupVault'],
      Resource: drVaultArn,
    });
    expect(statements.find((st) => st.Sid === 'DrVaultKey')).toMatchObject({
      Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': drVaultKeyAlias } },
    });
    expect(() => synthesize({ drRegion: 'Ningxia' })).toThrow(/drRegion: a region name/);
  });
});

describe('the DR stack (ElicenceDr)', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const dr = new ElicenceDrStack(app, 'ElicenceDr', { env: { region: 'cn-northwest-1' } });
  const resources = Template.fromStack(dr).toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

  it('holds the vault the copies go to, under the key the backup role may use, in the DR region', () => {
    expect(dr.region).toBe('cn-northwest-1');
    const [vault] = ofType('AWS::Backup::BackupVault');
    expect(vault!.Properties.BackupVaultName).toBe(drVaultName);
    expect(vault!.DeletionPolicy).toBe('Retain');
    expect(vault!.Properties.AccessPolicy).toMatchObject({ Statement: [{ Effect: 'Deny' }] });
    expect(ofType('AWS::KMS::Alias').map((r) => r.Properties.AliasName)).toEqual([drVaultKeyAlias]);
  });

  it('has a restore role that may fill elicence-restored-* tables of its region, under the vault key, only', () => {
    const statements = ofType('AWS::IAM::Policy').flatMap(statementsOf);
    expect(statements.map((st) => st.Sid)).toEqual([
      'RestoreIntoNewTables',
      'VaultKey',
      'VaultKeyGrantsForAwsResources',
    ]);
    expect(JSON.stringify(statements[0]!.Resource)).toContain(`:table/${restoredTablePrefix}*`);
    expect(actionsOf(statements[0]!)).toContain('dynamodb:RestoreTableFromAwsBackup');
    expect(actionsOf(statements[0]!).some((a) => /CreateBackup|DeleteTable|\*/.test(a))).toBe(false);
    const keyId = dr.getLogicalId(dr.key.node.defaultChild as CfnElement);
    for (const st of statements.slice(1)) expect(st.Resource).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it('passes cdk-nag, with the main stack copying to it', () => {
    // An app of its own: the checks run at synthesis, which Template.fromStack did above without them.
    const checked = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new ElicenceStack(checked, 'Elicence', { drRegion: 'cn-northwest-1' });
    new ElicenceDrStack(checked, 'ElicenceDr', { env: { region: 'cn-northwest-1' } });
    addComplianceChecks(checked);
    const report = JSON.parse(
      readFileSync(join(checked.synth().directory, 'validation-report.json'), 'utf8'),
    ) as { pluginReports: Array<{ violations: unknown[] }> };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });
});
