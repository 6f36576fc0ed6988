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
 * multi-Region key's primary moved (review R50 F1). No function of the service makes any of these calls;
 * AWS services make some on the keys they use (a DynamoDB table's grant, when it is created).
 */
export const watchedKeyEvents = [
  'ScheduleKeyDeletion',
  'DisableKey',
  'PutKeyPolicy',
  'CreateGrant',
  'ReplicateKey',
  'UpdatePrimaryRegion',
] as const;

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
 * 3. an EventBridge rule on CloudTrail's {@link watchedKeyEvents} of any key of the account (deletions,
 *    disabling, and policy, grant and replica changes), told to the alarm topic: deletion waits at least
 *    7 days, so someone can cancel it, and a policy or grant can be put back. Keys
 *    outside this stack (the issuer keys included: onboarding rollbacks and key rotations schedule theirs)
 *    are reported too; only a dedicated account keeps them out of `admin`'s reach (docs/operating.md).
 *
 * @example
 * ```ts
 * new KeyDeletionGuard(this, 'KeyGuard', { keys, provisioner: admin.role, functionRoles, alarms });
 * ```
 */
export class KeyDeletionGuard extends Construct {
  /** The rule that reports {@link watchedKeyEvents} to the alarm topic. */
  readonly watch: events.Rule;

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
    this.watch = new events.Rule(this, 'Watch', {
      description:
        'Reports KMS keys of this account scheduled for deletion, disabled, re-policied, granted, replicated or moved (CloudTrail)',
      eventPattern: {
        source: ['aws.kms'],
        detailType: ['AWS API Call via CloudTrail'],
        account: [Stack.of(this).account],
        detail: { eventSource: ['kms.amazonaws.com'], eventName: [...watchedKeyEvents] },
      },
    });
    // EventBridge publishes to the encrypted topic on its own behalf, for this rule alone.
    props.alarms.notifyOnEvents(this.watch);
  }
}
