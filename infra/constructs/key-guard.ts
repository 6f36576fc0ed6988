import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { AlarmNotifications } from './alarm-notifications.js';

/**
 * What could take a key away from the service or hand it to someone else: tagging (which can make it look
 * like an issuer key, see `IssuerKeyProvisioning`), disabling, scheduling or cancelling its deletion,
 * replacing its policy, and replicating it (a multi-Region key's replica shares its key material under a
 * policy the replicator chooses). No function of the service does any of these to a key the stack defines.
 */
export const destructiveKeyActions = [
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:DisableKey',
  'kms:PutKeyPolicy',
  'kms:ReplicateKey',
] as const;

/**
 * The CloudTrail events of KMS that the watch reports (their `eventName`, the API operation's name): a key
 * that stops working, now or in a few days (`ScheduleKeyDeletion`, `DisableKey`), and a key handed to
 * someone else: a new key policy, a grant, a replica in another Region under its own policy, or a
 * multi-Region key's primary moved (review R50 F1). No function of the service makes any of these calls.
 * Some are the stack's own routine, left out by {@link expectedKeyEventSources} (review R53 F1).
 */
export const watchedKeyEvents = [
  'ScheduleKeyDeletion',
  'DisableKey',
  'PutKeyPolicy',
  'CreateGrant',
  'ReplicateKey',
  'UpdatePrimaryRegion',
] as const;

/**
 * The callers whose calls are routine, per watched event (CloudTrail's `userIdentity.invokedBy`, the AWS
 * service that made the call), each bound further: CloudFormation under the stack's deploy role, DynamoDB
 * for a table of the stack, AWS Backup under the stack's backups role (review R57 F3, F4): not reported.
 * Any other caller of these is reported (review R53 F1).
 *
 * - `PutKeyPolicy` by CloudFormation: a deployment that changes a key's policy (each step of a signing
 *   key's rotation changes the `UseBy…Rollout` statements; adding or removing a function rewrites every
 *   key's `FunctionsNeverDestroyThisKey` statement).
 * - `DisableKey` by CloudFormation: step 2 of a signing key's rotation disables the retired generation
 *   (`enabled: false` in `ServiceKeys`).
 * - `CreateGrant` by DynamoDB (a table's grant on its key, at creation) and by AWS Backup (the backups
 *   role's grants, `kms:GrantIsForAWSResource`, during a backup or copy job).
 *
 * `ScheduleKeyDeletion`, `ReplicateKey` and `UpdatePrimaryRegion` have none: the stack retains every key
 * (CloudFormation never schedules one's deletion) and never replicates one or moves its primary.
 */
export const expectedKeyEventSources = {
  PutKeyPolicy: ['cloudformation.amazonaws.com'],
  DisableKey: ['cloudformation.amazonaws.com'],
  CreateGrant: ['dynamodb.amazonaws.com', 'backup.amazonaws.com'],
} as const satisfies Partial<Record<(typeof watchedKeyEvents)[number], readonly string[]>>;

export interface KeyDeletionGuardProps {
  /** Every KMS key the stack defines. */
  keys: readonly kms.Key[];
  /**
   * The role that manages issuer keys (`admin`): it may tag new keys and schedule the deletion of keys
   * tagged as issuer keys, so it is denied every destructive action on the stack's keys by ARN.
   */
  provisioner: iam.IRole;
  /** The roles of the service's functions: each stack key's own policy denies them the destructive actions. */
  functionRoles: readonly iam.IRole[];
  /** Where the watch reports: the alarm topic (`AlarmNotifications.notifyOnEvents`). */
  alarms: AlarmNotifications;
  /**
   * The role CloudFormation deploys the stack with (the CDK bootstrap's `cfn-exec-role`): its calls through
   * CloudFormation are the deployment's (review R57 F3).
   */
  deployRoleArn: string;
  /** The names of the stack's tables: DynamoDB's grant for one of them is routine (review R57 F4). */
  tableNames: readonly string[];
  /** The role AWS Backup runs the stack's backup and copy jobs with (`TableBackups.role`). */
  backupRoleArn: string;
}

/**
 * Keeps the stack's KMS keys out of reach of the service's own roles (security review 24, High).
 *
 * The `admin` role must tag the issuer keys it creates, and KMS authorises the tags given to `CreateKey` as
 * `kms:TagResource` on a key that does not exist yet: that permission has to be in an IAM policy "that
 * isn't restricted to particular KMS keys" (AWS KMS Developer Guide, "Controlling access to tags"), so it is
 * on `key/*`, conditioned only on the request's tags. Nothing documented tells a tag given at creation from
 * a later `TagResource` call, so `admin` could tag any key whose policy lets IAM decide with the issuer tags
 * and then schedule its deletion as if it were an issuer key. Three layers close that for the stack's keys:
 *
 * 1. an explicit Deny in the `admin` role's own policy of {@link destructiveKeyActions} on every stack key,
 *    by ARN (an explicit Deny wins over the tag-conditioned Allows);
 * 2. the same Deny, for every function role, in each stack key's own key policy, so that a later IAM grant
 *    to a function role cannot undo it;
 * 3. EventBridge rules on CloudTrail's {@link watchedKeyEvents} of any key of the account (deletions,
 *    disabling, and policy, grant and replica changes) but the stack's own routine changes
 *    ({@link expectedKeyEventSources}), told to the alarm topic: deletion waits at least
 *    7 days, so someone can cancel it, and a policy or grant can be put back. Keys
 *    outside this stack (the issuer keys included: onboarding rollbacks and key rotations schedule theirs)
 *    are reported too; only a dedicated account keeps them out of `admin`'s reach (docs/operating.md).
 *
 * @example
 * ```ts
 * new KeyDeletionGuard(this, 'KeyGuard', { keys, provisioner, functionRoles, alarms, deployRoleArn, tableNames, backupRoleArn });
 * ```
 */
export class KeyDeletionGuard extends Construct {
  /**
   * The rule that reports, from any caller, the {@link watchedKeyEvents} without an expected source
   * (`ScheduleKeyDeletion`, `ReplicateKey`, `UpdatePrimaryRegion`).
   */
  readonly watch: events.Rule;
  /**
   * Every rule of the watch, {@link watch} first, then `PolicyWatch` (`PutKeyPolicy`, `DisableKey`) and
   * `GrantWatch` (`CreateGrant`): each reports its events unless made by one of their
   * {@link expectedKeyEventSources} as the stack's routine (review R57 F3, F4).
   */
  readonly watches: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: KeyDeletionGuardProps) {
    super(scope, id);
    if (props.keys.length === 0) throw new Error('KeyDeletionGuard: no keys to guard');

    const policy = new iam.Policy(this, 'ProvisionerDeny', { roles: [props.provisioner] });
    policy.addStatements(
      new iam.PolicyStatement({
        sid: 'NeverTouchStackKeys',
        effect: iam.Effect.DENY,
        actions: [...destructiveKeyActions],
        resources: props.keys.map((key) => key.keyArn),
      }),
    );

    for (const key of props.keys) {
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'FunctionsNeverDestroyThisKey',
          effect: iam.Effect.DENY,
          principals: props.functionRoles.map((role) => new iam.ArnPrincipal(role.roleArn)),
          actions: [...destructiveKeyActions],
          resources: ['*'],
        }),
      );
    }

    // Events recorded by CloudTrail reach EventBridge only while a trail with logging enabled records
    // them (Amazon EventBridge User Guide, "AWS service events delivered via AWS CloudTrail").
    const cloudTrailKmsCalls = (detail: Record<string, unknown>): events.EventPattern => ({
      source: ['aws.kms'],
      detailType: ['AWS API Call via CloudTrail'],
      account: [Stack.of(this).account],
      detail: { eventSource: ['kms.amazonaws.com'], ...detail },
    });
    const expected = expectedKeyEventSources as Partial<Record<string, readonly string[]>>;
    const unfiltered = watchedKeyEvents.filter((name) => expected[name] === undefined);
    this.watch = new events.Rule(this, 'Watch', {
      description:
        'Reports KMS keys of this account scheduled for deletion, replicated or moved, by anyone (CloudTrail)',
      eventPattern: cloudTrailKmsCalls({ eventName: unfiltered }),
    });
    // A call an AWS service made names that service in `userIdentity.invokedBy`, absent on anyone's own
    // call, and the role whose session made it in `userIdentity.sessionContext.sessionIssuer.arn` (AWS
    // CloudTrail User Guide, "CloudTrail userIdentity element"): CloudFormation's calls under the stack's
    // deploy role, AWS Backup's under the backups role. The keys are not listed (review R57 F3): every
    // rotation adds one and the stack keeps them all, and with their ARNs (about 90 characters each) the
    // patterns passed EventBridge's 2,048 characters in three or four rotations; the routine is told by
    // who made the call, and a DynamoDB grant by the table it is for (F4).
    const notIssuer = (arn: string) => [
      { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': [arn] }] } } } },
      { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } } },
    ];
    const by = (service: string, more: Record<string, unknown>) => ({
      ...more,
      userIdentity: { ...(more.userIdentity as object | undefined), invokedBy: [service] },
    });
    const otherCaller = (services: readonly string[]) => [
      { userIdentity: { invokedBy: [{ 'anything-but': [...services] }] } },
      { userIdentity: { invokedBy: [{ exists: false }] } },
    ];
    const rule = (
      id: string,
      names: (keyof typeof expectedKeyEventSources)[],
      unless: string,
      $or: object[],
    ) =>
      new events.Rule(this, id, {
        description: `Reports ${names.join(', ')} on KMS keys of this account, unless ${unless} (CloudTrail)`,
        eventPattern: cloudTrailKmsCalls({ eventName: names, $or }),
      });
    const [cloudFormation] = expectedKeyEventSources.PutKeyPolicy;
    const [dynamoDb, awsBackup] = expectedKeyEventSources.CreateGrant;
    const tableName = (names: unknown[]) => ({
      requestParameters: { constraints: { encryptionContextSubset: { 'aws:dynamodb:tableName': names } } },
    });
    const filtered = [
      rule('PolicyWatch', ['PutKeyPolicy', 'DisableKey'], 'by CloudFormation deploying this stack', [
        ...otherCaller([cloudFormation]),
        ...notIssuer(props.deployRoleArn).map((branch) => by(cloudFormation, branch)),
      ]),
      rule(
        'GrantWatch',
        ['CreateGrant'],
        'by DynamoDB for a table of this stack, or by AWS Backup with its backups role',
        [
          ...otherCaller([dynamoDb, awsBackup]),
          by(dynamoDb, tableName([{ 'anything-but': [...props.tableNames] }])),
          by(dynamoDb, tableName([{ exists: false }])),
          ...notIssuer(props.backupRoleArn).map((branch) => by(awsBackup, branch)),
        ],
      ),
    ];
    this.watches = [this.watch, ...filtered];
    // EventBridge publishes to the encrypted topic on its own behalf, for these rules alone.
    for (const rule of this.watches) props.alarms.notifyOnEvents(rule);
  }
}
