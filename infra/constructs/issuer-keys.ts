import { Aws, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * The tags `shared/issuers/create-issuer.ts` puts on every issuer key, and the alias prefix it uses. The
 * permissions below depend on them: change them together.
 */
export const issuerKeyTags = { service: 'elicence', role: 'issuer-signing' } as const;
export const issuerKeyTagKeys = ['service', 'role', 'issuer'];
export const issuerAliasPrefix = 'alias/elicence/issuer/';

const signingActions = ['kms:Sign', 'kms:GetPublicKey'];
/**
 * What the onboarding role may do on an issuer key by the key's own policy: name it, read its public key
 * (the `kid`) and schedule its deletion (a rollback, a rotation's unused key). Never its policy or grants.
 */
export const onboardingKeyActions = [
  'kms:CreateAlias',
  'kms:GetPublicKey',
  'kms:ScheduleKeyDeletion',
] as const;
const anyKeyArn = `arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:key/*`;
const issuerAliasArn = `arn:${Aws.PARTITION}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:${issuerAliasPrefix}*`;

/**
 * Conditions that hold only for keys carrying both issuer tags. Tags can be added later, so this alone does
 * not keep other keys out (see `kms:TagResource` below and `KeyDeletionGuard`).
 */
const taggedIssuerKey = {
  StringEquals: {
    'aws:ResourceTag/service': issuerKeyTags.service,
    'aws:ResourceTag/role': issuerKeyTags.role,
  },
};

/** Conditions on a request that creates or tags a key: it must carry the issuer tags and no others. */
const issuerTagsInRequest = {
  StringEquals: {
    'aws:RequestTag/service': issuerKeyTags.service,
    'aws:RequestTag/role': issuerKeyTags.role,
  },
  'ForAllValues:StringEquals': { 'aws:TagKeys': issuerKeyTagKeys },
};

/**
 * One KMS key per issuer, created by the `admin` function at onboarding (`KmsKeyManager.createSigningKey`),
 * so that one agency's compromise is contained and revocable. Nothing in the stack knows these keys in
 * advance, so access to them is attribute-based, by their tags.
 *
 * **The onboarding role** (`provisioner`, IAM, in a policy of its own):
 * - `kms:CreateKey` only with the request tags `service=elicence`, `role=issuer-signing` (and no tag keys
 *   but `service`, `role`, `issuer`), only ES256 keys (`kms:KeySpec`, `kms:KeyUsage`), only single-Region
 *   (`kms:MultiRegion` false) and only with `BypassPolicyLockoutSafetyCheck` (below);
 * - `kms:TagResource` under the same tag conditions (KMS checks it for the tags given to CreateKey). KMS
 *   requires that permission in an IAM policy not restricted to particular keys, and no documented condition
 *   tells a tag given at creation from a later `TagResource`: the role could therefore tag an existing key
 *   whose policy lets IAM decide with the issuer tags, which would then pass the conditions below;
 * - `kms:CreateAlias` on aliases `alias/elicence/issuer/*` and on keys tagged as issuer keys;
 * - `kms:GetPublicKey` (the new key's `kid`) and `kms:ScheduleKeyDeletion` (rollback) on keys tagged as
 *   issuer keys. Tag conditions alone would not keep the role off the stack's own keys (it could tag one
 *   first): `KeyDeletionGuard` (./key-guard.ts) denies it, by ARN and in their key policies, every tagging,
 *   disabling, re-policying and deletion of a key the stack defines, and reports every scheduled deletion
 *   or disabled key of the account. A key of the account outside this stack is protected only by keeping
 *   the service in an account of its own (docs/operating.md).
 *
 * **The signing roles** (`signers`, IAM): `kms:Sign` and `kms:GetPublicKey` on keys tagged
 * `service=elicence` and `role=issuer-signing`. A function that comes to sign licences later needs only
 * this grant: no issuer key's policy has to change.
 *
 * **The issuer key policy** (JSON given to the admin function as `ISSUER_KEY_POLICY`, attached by CreateKey,
 * fixed for the key's life):
 * - the account root with `kms:*`, which enables IAM policies: the grants above are what decide;
 * - the onboarding and signing roles of today by name, for what each does: the onboarding role exactly
 *   {@link onboardingKeyActions}, what `KmsKeyManager` and the onboarding call on a key. KMS may take up to
 *   five minutes before a new key's tags count for authorisation, so without this the tag conditions could
 *   refuse the onboarding's own CreateAlias, GetPublicKey or rollback, and the first licences of a new
 *   issuer.
 *
 * No role of the service may change an issuer key's policy or grants (review R50 F1, Medium): with
 * `kms:PutKeyPolicy`, which this policy used to give the onboarding role, code running as `admin` could
 * let another account `kms:Sign` with an issuer's key (licences under the issuer's real `kid`) or lock the
 * issuer out, unalarmed. KMS's lockout safety check refuses a CreateKey whose policy does not let the
 * caller update it later, counting the caller's IAM policies through the root statement; the onboarding
 * role has no `kms:PutKeyPolicy` anywhere, so `KmsKeyManager` sends `BypassPolicyLockoutSafetyCheck`
 * with the policy, and the CreateKey grant requires it. No lockout follows: the root statement keeps the
 * key manageable by the account's administrators through IAM. No condition key binds CreateKey's policy
 * text, so `admin` could still create a key under a policy of its choosing: a new key, which signs for an
 * issuer only once onboarding or a rotation (audited, `admin`'s own power) registers it. It must be
 * single-Region (`kms:MultiRegion`), so no replica can share its key material under another policy.
 * `KeyDeletionGuard` reports every `PutKeyPolicy`, `CreateGrant`, `ReplicateKey` and
 * `UpdatePrimaryRegion` of any key of the account.
 */
export class IssuerKeyProvisioning extends Construct {
  /** The key policy for new issuer keys, as a JSON string (with CloudFormation tokens). */
  readonly keyPolicyJson: string;

  constructor(scope: Construct, id: string, props: { provisioner: iam.IRole; signers: iam.IRole[] }) {
    super(scope, id);
    const role = props.provisioner;

    // A policy of its own (rather than the role's default policy) so that its findings and their reasons
    // stay here, next to the design they follow.
    const policy = new iam.Policy(this, 'Policy', { roles: [role] });
    policy.addStatements(
      new iam.PolicyStatement({
        sid: 'CreateIssuerKeys',
        actions: ['kms:CreateKey'],
        resources: ['*'], // CreateKey has no resource: the conditions are what constrain it.
        conditions: {
          ...issuerTagsInRequest,
          StringEquals: {
            ...issuerTagsInRequest.StringEquals,
            'kms:KeySpec': 'ECC_NIST_P256',
            'kms:KeyUsage': 'SIGN_VERIFY',
          },
          // Single-Region only: a multi-Region key's replica shares its key material under a policy the
          // replicator chooses. The bypass is what `KmsKeyManager` sends with the fixed policy (see above).
          Bool: { 'kms:MultiRegion': 'false', 'kms:BypassPolicyLockoutSafetyCheck': 'true' },
        },
      }),
      new iam.PolicyStatement({
        sid: 'TagIssuerKeysAtCreation',
        actions: ['kms:TagResource'],
        resources: [anyKeyArn],
        conditions: issuerTagsInRequest,
      }),
      new iam.PolicyStatement({
        sid: 'NameIssuerKeys',
        actions: ['kms:CreateAlias'],
        resources: [issuerAliasArn],
      }),
      new iam.PolicyStatement({
        sid: 'ManageIssuerKeys',
        actions: ['kms:CreateAlias', 'kms:GetPublicKey', 'kms:ScheduleKeyDeletion'],
        resources: [anyKeyArn],
        conditions: taggedIssuerKey,
      }),
    );

    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'kms:CreateKey has no resource to name; it is allowed only with the issuer tags, only for single-Region ECC_NIST_P256 SIGN_VERIFY keys, and only with the lockout safety check bypassed, as KmsKeyManager sends it: the fixed issuer key policy lets the account (IAM) manage the key and gives the admin role no kms:PutKeyPolicy.',
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
      reason:
        'Issuer keys are created at onboarding, so no ARN is known in advance: every key statement is conditioned on the issuer tags (aws:RequestTag when tagging at creation, aws:ResourceTag service=elicence and role=issuer-signing otherwise), and allows only tagging at creation, CreateAlias, GetPublicKey and ScheduleKeyDeletion: never a key policy or grant change (PutKeyPolicy, CreateGrant, ReplicateKey), which KeyDeletionGuard reports on any key of the account.',
    });
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:${issuerAliasPrefix}*]`,
      reason: `Aliases of issuer keys only (${issuerAliasPrefix}<issuer id>), one per issuer onboarded.`,
    });

    for (const signer of props.signers) {
      signer.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'SignWithIssuerKeys',
          actions: signingActions,
          resources: [anyKeyArn],
          conditions: taggedIssuerKey,
        }),
      );
      Validations.of(signer).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:key/*]',
        reason:
          'Signs with whichever issuer key the request is for: issuer keys are created at onboarding, so the statement is conditioned on their tags (aws:ResourceTag service=elicence and role=issuer-signing).',
      });
    }

    const keyPolicy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'EnableIamPolicies',
          principals: [new iam.AccountRootPrincipal()],
          actions: ['kms:*'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'Onboarding',
          principals: [new iam.ArnPrincipal(role.roleArn)],
          actions: [...onboardingKeyActions],
          resources: ['*'],
        }),
        ...(props.signers.length > 0
          ? [
              new iam.PolicyStatement({
                sid: 'Signing',
                principals: props.signers.map((signer) => new iam.ArnPrincipal(signer.roleArn)),
                actions: signingActions,
                resources: ['*'],
              }),
            ]
          : []),
      ],
    });
    this.keyPolicyJson = Stack.of(this).toJsonString(keyPolicy.toJSON());
  }
}
