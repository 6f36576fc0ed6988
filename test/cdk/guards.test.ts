import { readFileSync } from 'node:fs';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionNames, routeKey, routes, type FunctionName } from '../../functions/routes.js';
import { destructiveKeyActions, expectedKeyEventSources } from '../../infra/constructs/key-guard.js';
import { loadConfig } from '../../shared/config.js';
import { exportRelayTimeoutMs } from '../../shared/web/wallet/account-api.js';
import {
  defaultReservedConcurrency,
  defaultSmsSpendAlarmUsd,
  ElicenceStack,
  type ElicenceStackProps,
} from '../../infra/stack.js';

import type { Json, Statement } from '../support/iam-statement.js';
import { nestedTemplate } from '../support/nested-template.js';
import { keyArnOf, matchesPattern, resolveTokens, roleArnOf } from '../support/event-pattern.js';
interface Resource {
  Type: string;
  Properties: Json;
}

/** Synthesises the stack without bundling; `alarms` is the alarms' nested stack, read with the parent. */
function synthesize(props: ElicenceStackProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ElicenceStack(app, 'Elicence', props);
  const template = Template.fromStack(stack);
  return {
    stack,
    template,
    resources: template.toJSON().Resources as Record<string, Resource>,
    alarms: nestedTemplate(stack, template, stack.operationsAlarms).resolved,
  };
}

const actionsOf = (statement: Statement) => [statement.Action].flat();
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('infrastructure review 24', () => {
  let synth: ReturnType<typeof synthesize>;
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    synth.stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const ofType = (type: string) => Object.entries(synth.resources).filter(([, r]) => r.Type === type);
  const roleStatements = (name: FunctionName) =>
    ofType('AWS::IAM::Policy')
      .filter(([, r]) =>
        JSON.stringify(r.Properties.Roles).includes(
          JSON.stringify({ Ref: idOf(synth.stack.functions[name].role) }),
        ),
      )
      .flatMap(([, r]) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  const functionOf = (name: FunctionName) => synth.resources[idOf(synth.stack.functions[name].function)]!;

  beforeAll(() => {
    synth = synthesize();
  });

  describe('the stack’s KMS keys are out of reach of the service’s roles (High)', () => {
    it('denies admin every tagging, disabling, re-policying and deletion of each key the stack defines, by ARN', () => {
      const keyIds = ofType('AWS::KMS::Key').map(([id]) => id);
      // The service's keys, the alarm topic's: whatever the stack defines is listed.
      expect(keyIds).toEqual(
        expect.arrayContaining([idOf(synth.stack.keys.platform), idOf(synth.stack.keys.lookupMac)]),
      );
      expect(keyIds).toEqual(
        expect.arrayContaining([
          idOf(synth.stack.keys.pii),
          idOf(synth.stack.keys.table),
          idOf(synth.stack.keys.auditTable),
          idOf(synth.stack.alarmNotifications.key),
        ]),
      );
      const denies = roleStatements('admin').filter((s) => s.Effect === 'Deny');
      expect(denies).toHaveLength(1);
      const [deny] = denies;
      expect(new Set(actionsOf(deny!))).toEqual(
        new Set([
          'kms:TagResource',
          'kms:UntagResource',
          'kms:ScheduleKeyDeletion',
          'kms:CancelKeyDeletion',
          'kms:DisableKey',
          'kms:PutKeyPolicy',
          // A replica's policy is the replicator's choice (operator review H3: multi-Region keys).
          'kms:ReplicateKey',
        ]),
      );
      expect(deny!.Condition).toBeUndefined();
      expect(
        [deny!.Resource]
          .flat()
          .map((r) => JSON.stringify(r))
          .sort(),
      ).toEqual(keyIds.map((id) => JSON.stringify(arnOf(id))).sort());
    });

    it('still lets admin tag and schedule the deletion of issuer keys it creates (tag-conditioned, key/*)', () => {
      const allowed = roleStatements('admin').filter(
        (s) =>
          s.Effect === 'Allow' &&
          actionsOf(s).some((a) => a === 'kms:TagResource' || a === 'kms:ScheduleKeyDeletion'),
      );
      expect(allowed.map((s) => s.Sid).sort()).toEqual(['ManageIssuerKeys', 'TagIssuerKeysAtCreation']);
    });

    it('denies every function role the same actions in each stack key’s own key policy', () => {
      const roleArns = functionNames.map((name) =>
        JSON.stringify(arnOf(idOf(synth.stack.functions[name].role))),
      );
      for (const [id, key] of ofType('AWS::KMS::Key')) {
        const statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
        const denies = statements.filter((s) => s.Effect === 'Deny');
        expect(denies, id).toHaveLength(1);
        expect(new Set(actionsOf(denies[0]!)), id).toEqual(new Set(destructiveKeyActions));
        expect(denies[0]!.Condition, id).toBeUndefined();
        const principals = [denies[0]!.Principal?.AWS].flat().map((p) => JSON.stringify(p));
        expect(principals.sort(), id).toEqual([...roleArns].sort());
      }
    });

    it('reports any key of the account scheduled for deletion, disabled, re-policied, granted or replicated to the alarm topic', () => {
      // Review R53 F1: three rules, the stack's routine changes left out of two (see "review R53").
      const watches = synth.stack.keyGuard.watches;
      expect(watches.map((rule) => idOf(rule))).toEqual([
        idOf(synth.stack.keyGuard.watch),
        expect.stringMatching(/^KeyGuardPolicyWatch/),
        expect.stringMatching(/^KeyGuardGrantWatch/),
      ]);
      const eventNames: string[] = [];
      for (const rule of watches) {
        const { Properties } = synth.resources[idOf(rule)]!;
        expect(Properties.EventPattern).toMatchObject({
          source: ['aws.kms'],
          'detail-type': ['AWS API Call via CloudTrail'],
          account: [{ Ref: 'AWS::AccountId' }],
          detail: { eventSource: ['kms.amazonaws.com'] },
        });
        expect(Properties.State).toBe('ENABLED');
        expect(Properties.Targets).toEqual([
          expect.objectContaining({ Arn: { Ref: idOf(synth.stack.alarmNotifications.topic) } }),
        ]);
        eventNames.push(...(Properties.EventPattern as { detail: { eventName: string[] } }).detail.eventName);
      }
      // Review R50 F1: a key handed to someone else alarms too (CloudTrail's eventName, the API's name).
      expect(eventNames.sort()).toEqual(
        [
          'ScheduleKeyDeletion',
          'DisableKey',
          'PutKeyPolicy',
          'CreateGrant',
          'ReplicateKey',
          'UpdatePrimaryRegion',
        ].sort(),
      );
      // EventBridge may publish to the topic and use its key (the topic is encrypted).
      const topicPolicies = ofType('AWS::SNS::TopicPolicy').flatMap(
        ([, r]) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
      );
      expect(
        topicPolicies.some(
          (s) =>
            s.Effect === 'Allow' &&
            actionsOf(s).includes('sns:Publish') &&
            JSON.stringify(s.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }),
        ),
      ).toBe(true);
      const topicKey = synth.resources[idOf(synth.stack.alarmNotifications.key)]!;
      const keyStatements = (topicKey.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
      expect(
        keyStatements.find(
          (s) =>
            s.Effect === 'Allow' &&
            JSON.stringify(s.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }),
        )?.Action,
      ).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    });

    it('documents the guard, its limit and a dedicated account', () => {
      const operating = readFileSync('docs/operating.md', 'utf8');
      expect(operating).toMatch(/ScheduleKeyDeletion/);
      expect(operating).toMatch(/dedicated (AWS )?account|account of its own/);
      const source = readFileSync('infra/constructs/issuer-keys.ts', 'utf8');
      expect(source).not.toMatch(/can never touch the platform key/);
    });
  });

  describe('reserved concurrency (Low)', () => {
    it('reserves concurrency for oidc and caps the anonymous public functions, well under the account’s 1,000', () => {
      const reserved = Object.fromEntries(
        functionNames.map((name) => [name, functionOf(name).Properties.ReservedConcurrentExecutions]),
      );
      expect(reserved.oidc).toBeGreaterThanOrEqual(50);
      for (const name of ['verify', 'web', 'trust-list', 'status-lists'] as const) {
        expect(reserved[name], name).toEqual(expect.any(Number));
      }
      const total = Object.values(reserved)
        .filter((n): n is number => typeof n === 'number')
        .reduce((a, b) => a + b, 0);
      // Lambda keeps 100 of the account's (default) 1,000 unreserved; the rest must not be exhausted.
      expect(total).toBeLessThanOrEqual(500);
      expect(reserved).toMatchObject(defaultReservedConcurrency);
    });

    it('takes overrides from the props and refuses what is not a whole number from 1 or a function', () => {
      const { stack, resources } = synthesize({ reservedConcurrency: { oidc: 300, licences: 40 } });
      const of = (name: FunctionName) =>
        resources[stack.getLogicalId(stack.functions[name].function.node.defaultChild as CfnElement)]!
          .Properties.ReservedConcurrentExecutions;
      expect([of('oidc'), of('licences'), of('verify')]).toEqual([
        300,
        40,
        defaultReservedConcurrency.verify,
      ]);
      for (const bad of [{ oidc: 0 }, { oidc: 1.5 }, { nope: 3 }] as Array<
        ElicenceStackProps['reservedConcurrency']
      >) {
        expect(() => synthesize({ reservedConcurrency: bad }), JSON.stringify(bad)).toThrow(
          /reservedConcurrency/,
        );
      }
    });
  });

  describe('timeouts (Low)', () => {
    it('ends every function behind a route within 29 s, before API Gateway’s 30 s integration timeout', () => {
      const routed = new Set(routes.map((route) => route.function));
      expect(routed.has('audit')).toBe(true);
      for (const name of routed) {
        expect(functionOf(name).Properties.Timeout, name).toBeLessThanOrEqual(29);
      }
    });

    it('lets the wallet relay an export `me` finished: its wait past me’s timeout, its own past that (R55 F2)', () => {
      const me = functionOf('me').Properties.Timeout as number;
      const wallet = functionOf('wallet').Properties.Timeout as number;
      expect(exportRelayTimeoutMs).toBeGreaterThan(me * 1000);
      // A second or more left to base64-encode the file and answer it.
      expect(wallet * 1000).toBeGreaterThanOrEqual(exportRelayTimeoutMs + 1000);
    });

    it('lets the reconciler take a pointer only once the request that last marked it has ended', () => {
      // A re-issue marks the old licence's pointer at its claim and releases it before writing the new
      // licence; the reconciler takes a pointer last marked PENDING_WORK_AGE_SECONDS ago, and drops one
      // whose new licence is not written. Were that age shorter than a route function's timeout, it could
      // drop the pointer of a re-issue still running, which would then write the new licence with no
      // pointer left to finish it (docs/operating.md, "A re-issue left unfinished").
      const variables = (functionOf('pending-work-reconciler').Properties.Environment as Json | undefined)
        ?.Variables as Record<string, unknown> | undefined;
      const age = Number(variables?.PENDING_WORK_AGE_SECONDS ?? loadConfig({}).pendingWorkAgeSeconds);
      const routed = new Set(routes.map((route) => route.function));
      for (const name of routed) {
        expect(age, name).toBeGreaterThan(functionOf(name).Properties.Timeout as number);
      }
    });
  });

  // Review R50, the AWS deployment (session 26): each of these failed before its fix.
  describe('review R50', () => {
    /** A CloudFormation string (`Fn::Join` of literals and tokens) with each token as `TOKEN`. */
    const render = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
      if (!join) return 'TOKEN';
      return join[1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join(join[0]);
    };
    const issuerKeyPolicy = () => {
      const variables = (functionOf('admin').Properties.Environment as { Variables: Json }).Variables;
      return JSON.parse(render(variables.ISSUER_KEY_POLICY)) as { Statement: Statement[] };
    };
    /** What would hand a key to someone else, or move it. */
    const keyHandingActions = [
      'kms:PutKeyPolicy',
      'kms:CreateGrant',
      'kms:ReplicateKey',
      'kms:UpdatePrimaryRegion',
    ];

    it('F1: the issuer key policy gives admin exactly CreateAlias, GetPublicKey, ScheduleKeyDeletion', () => {
      const statements = issuerKeyPolicy().Statement;
      const onboarding = statements.find((s) => s.Sid === 'Onboarding');
      expect(onboarding?.Effect).toBe('Allow');
      expect(actionsOf(onboarding!).sort()).toEqual(
        ['kms:CreateAlias', 'kms:GetPublicKey', 'kms:ScheduleKeyDeletion'].sort(),
      );
      // Only the account (IAM decides) holds a policy or grant change, by its kms:*.
      for (const statement of statements.filter((s) => s.Sid !== 'EnableIamPolicies')) {
        for (const action of [...keyHandingActions, 'kms:*']) {
          expect(actionsOf(statement), `${statement.Sid} ${action}`).not.toContain(action);
        }
      }
    });

    it('F1: no function role is allowed a key policy, grant or replica change by IAM', () => {
      for (const name of functionNames) {
        const allowed = roleStatements(name)
          .filter((s) => s.Effect === 'Allow')
          .flatMap(actionsOf);
        for (const action of [...keyHandingActions, 'kms:*']) {
          expect(allowed, `${name} ${action}`).not.toContain(action);
        }
      }
    });

    it('F1: admin creates issuer keys single-Region only, bypassing the lockout check as KmsKeyManager does', () => {
      const [create, ...more] = roleStatements('admin').filter((s) => actionsOf(s).includes('kms:CreateKey'));
      expect(more).toEqual([]);
      expect(create?.Sid).toBe('CreateIssuerKeys');
      expect(create?.Condition).toMatchObject({
        Bool: { 'kms:MultiRegion': 'false', 'kms:BypassPolicyLockoutSafetyCheck': 'true' },
        StringEquals: { 'kms:KeySpec': 'ECC_NIST_P256', 'kms:KeyUsage': 'SIGN_VERIFY' },
      });
    });

    it('F2: the anonymous sign-in writes docs/security.md bounds follow each route’s own bucket', () => {
      const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, Resource]];
      type Limits = { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
      const defaults = stage.Properties.DefaultRouteSettings as Limits;
      const own = (stage.Properties.RouteSettings ?? {}) as Record<string, Limits>;
      const rate = (key: string) => {
        expect(routes.map(routeKey), key).toContain(key);
        return (own[key] ?? defaults).ThrottlingRateLimit;
      };
      // API Gateway keeps a bucket per route (AWS docs, "Throttling requests to your HTTP API": route-level
      // throttling); the default route settings are each route's, not one shared by the stage.
      // A scan-to-login code is stored when the sign-in's QR image is fetched, one per sign-in, kept ~62 min.
      const image = rate('ANY /interaction/{uid}/{step}');
      const codes = Math.min(rate('ANY /authorize'), image) * 62 * 60;
      // A passkey challenge: 5 minutes, on the same route as the QR image.
      const challenges = image * 5 * 60;
      const security = readFileSync('docs/security.md', 'utf8').replace(/\s+/g, ' ');
      expect(security).toContain(`about ${codes.toLocaleString('en-US')} scan-to-login items`);
      expect(security).toContain(`at most ${challenges.toLocaleString('en-US')} challenges`);
      for (const doc of ['docs/security.md', 'docs/operating.md', 'docs/api.md']) {
        const text = readFileSync(doc, 'utf8').replace(/\s+/g, ' ');
        expect(text, doc).not.toMatch(/throttles the stage at|stage is throttled at|the stage's \(200/);
      }
    });

    it('F3: every log group keeps a year, past the six months 网络安全法 Art. 21 asks', () => {
      const groups = ofType('AWS::Logs::LogGroup');
      const functionGroups = functionNames.map((name) => idOf(synth.stack.functions[name].logGroup));
      expect(groups.map(([id]) => id)).toEqual(expect.arrayContaining(functionGroups));
      for (const [id, group] of groups) {
        expect(group.Properties.RetentionInDays, id).toBe(365);
      }
    });
  });

  // Review R53, the key watch (session 26): each of these failed before its fix.
  describe('review R53', () => {
    const account = '111122223333';
    /** The watch's rules, their synthesised patterns with the stack's tokens as a deployment has them. */
    const types = () => Object.fromEntries(Object.entries(synth.resources).map(([id, r]) => [id, r.Type]));
    const patterns = () =>
      synth.stack.keyGuard.watches.map(
        (rule) =>
          resolveTokens(synth.resources[idOf(rule)]!.Properties.EventPattern, account, types()) as Json,
      );
    const reported = (event: Json) => patterns().some((pattern) => matchesPattern(pattern, event));
    const stackKey = (construct: { node: { defaultChild?: unknown } }) => keyArnOf(idOf(construct), account);
    const foreignKey = `arn:aws-cn:kms:cn-north-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const adminRole = `arn:aws-cn:iam::${account}:role/Elicence-AdminRole`;
    /** The CDK bootstrap's CloudFormation execution role, as `Fn::Sub` resolves it (review R57 F3). */
    const deployRole = `arn:aws-cn:iam::${account}:role/cdk-hnb659fds-cfn-exec-role-${account}-cn-north-1`;
    /** The role each service's call is made with: CloudFormation the deploy role, AWS Backup the backups'. */
    const roleOf = (invokedBy?: string) =>
      invokedBy === 'cloudformation.amazonaws.com'
        ? deployRole
        : invokedBy === 'backup.amazonaws.com'
          ? roleArnOf(idOf(synth.stack.backups.role), account)
          : adminRole;
    /** A KMS call as EventBridge receives it from CloudTrail; `invokedBy` the AWS service that made it. */
    const kmsCall = (
      eventName: string,
      keyArn: string,
      invokedBy?: string,
      more: Json = {},
      sessionIssuer = roleOf(invokedBy),
    ): Json => ({
      version: '0',
      source: 'aws.kms',
      'detail-type': 'AWS API Call via CloudTrail',
      account,
      region: 'cn-north-1',
      resources: [],
      detail: {
        eventVersion: '1.08',
        userIdentity: {
          type: 'AssumedRole',
          arn: invokedBy
            ? `arn:aws-cn:sts::${account}:assumed-role/cdk-hnb659fds-cfn-exec-role/AWSCloudFormation`
            : `arn:aws-cn:sts::${account}:assumed-role/Elicence-AdminRole/session`,
          accountId: account,
          sessionContext: { sessionIssuer: { type: 'Role', arn: sessionIssuer, accountId: account } },
          ...(invokedBy && { invokedBy }),
        },
        eventSource: 'kms.amazonaws.com',
        eventName,
        awsRegion: 'cn-north-1',
        sourceIPAddress: invokedBy ?? '192.0.2.0',
        userAgent: invokedBy ?? 'aws-cli/2',
        requestParameters: { keyId: keyArn.split('/').pop(), ...more },
        resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: keyArn }],
        eventType: 'AwsApiCall',
      },
    });
    const cloudFormation = 'cloudformation.amazonaws.com';

    it('F1: a deployment changing a stack key’s policy, or disabling a retired generation, is not reported', () => {
      const keys = synth.stack.keys;
      for (const key of [keys.platform, keys.table, keys.notice, synth.stack.alarmNotifications.key]) {
        expect(reported(kmsCall('PutKeyPolicy', stackKey(key), cloudFormation)), idOf(key)).toBe(false);
      }
      // Step 2 of a rotation: the retired generation's `Enabled: false` is CloudFormation's DisableKey.
      expect(reported(kmsCall('DisableKey', stackKey(keys.platform), cloudFormation))).toBe(false);
    });

    it('F1: the same calls by anyone else, or by CloudFormation on a key outside the stack, are reported', () => {
      const key = stackKey(synth.stack.keys.platform);
      for (const eventName of ['PutKeyPolicy', 'DisableKey']) {
        expect(reported(kmsCall(eventName, key)), `${eventName} admin`).toBe(true);
        expect(reported(kmsCall(eventName, key, 'lambda.amazonaws.com')), `${eventName} other service`).toBe(
          true,
        );
        // Review R57 F3: CloudFormation not deploying this stack (another role), on any key.
        for (const keyArn of [key, foreignKey]) {
          expect(
            reported(kmsCall(eventName, keyArn, cloudFormation, {}, adminRole)),
            `${eventName} cfn`,
          ).toBe(true);
        }
        expect(reported(kmsCall(eventName, foreignKey)), `${eventName} admin, foreign key`).toBe(true);
      }
    });

    it('F1: DynamoDB’s and AWS Backup’s grants on the stack’s keys are not reported; any other grant is', () => {
      const table = stackKey(synth.stack.keys.table);
      // DynamoDB's grant names its table (review R57 F4): the service table's here.
      const grantTo = (principal: string, tableName = idOf(synth.stack.data.table)) => ({
        granteePrincipal: principal,
        operations: ['Decrypt'],
        constraints: { encryptionContextSubset: { 'aws:dynamodb:tableName': tableName } },
      });
      expect(
        reported(
          kmsCall(
            'CreateGrant',
            table,
            'dynamodb.amazonaws.com',
            grantTo('dynamodb.cn-north-1.amazonaws.com'),
          ),
        ),
      ).toBe(false);
      expect(reported(kmsCall('CreateGrant', table, 'backup.amazonaws.com', grantTo(adminRole)))).toBe(false);
      expect(reported(kmsCall('CreateGrant', table, undefined, grantTo(adminRole)))).toBe(true);
      expect(reported(kmsCall('CreateGrant', table, cloudFormation, grantTo(adminRole)))).toBe(true);
      expect(
        reported(kmsCall('CreateGrant', foreignKey, 'dynamodb.amazonaws.com', grantTo(adminRole, 'other'))),
      ).toBe(true);
    });

    it('F1: deletion, replication and a moved primary are reported whoever calls, CloudFormation included', () => {
      const key = stackKey(synth.stack.keys.platform);
      for (const eventName of ['ScheduleKeyDeletion', 'ReplicateKey', 'UpdatePrimaryRegion']) {
        expect(reported(kmsCall(eventName, key, cloudFormation)), eventName).toBe(true);
        expect(reported(kmsCall(eventName, key)), eventName).toBe(true);
      }
      // Not KMS's, not this account's, not watched: not reported.
      const other = kmsCall('PutKeyPolicy', key);
      expect(reported({ ...other, account: '444455556666' })).toBe(false);
      expect(reported(kmsCall('Sign', key))).toBe(false);
      expect(reported(kmsCall('EnableKey', key))).toBe(false);
    });

    it('F1: every stack key is exempt from the routine filter', () => {
      const keyIds = ofType('AWS::KMS::Key').map(([id]) => id);
      for (const id of keyIds) {
        expect(reported(kmsCall('PutKeyPolicy', keyArnOf(id, account), cloudFormation)), id).toBe(false);
      }
    });

    it('F1: the runbook names every expected source of a reported call', () => {
      const operating = readFileSync('docs/operating.md', 'utf8');
      for (const source of Object.values(expectedKeyEventSources).flat()) {
        expect(operating).toContain(source);
      }
      expect(operating).toMatch(/review R53/);
    });
  });

  describe('review R57', () => {
    const account = '111122223333';
    const types = () => Object.fromEntries(Object.entries(synth.resources).map(([id, r]) => [id, r.Type]));
    const deployed = (built = synth) =>
      built.stack.keyGuard.watches.map((rule) => {
        const id = built.stack.getLogicalId(rule.node.defaultChild as CfnElement);
        return resolveTokens(built.resources[id]!.Properties.EventPattern, account, types()) as Json;
      });
    const reported = (event: Json) => deployed().some((pattern) => matchesPattern(pattern, event));
    const grant = (
      tableName: string | undefined,
      sessionIssuer: string,
      invokedBy = 'dynamodb.amazonaws.com',
    ) => ({
      version: '0',
      source: 'aws.kms',
      'detail-type': 'AWS API Call via CloudTrail',
      account,
      region: 'cn-north-1',
      resources: [],
      detail: {
        userIdentity: {
          type: 'AssumedRole',
          arn: `arn:aws-cn:sts::${account}:assumed-role/SomeOperator/alice`,
          sessionContext: { sessionIssuer: { type: 'Role', arn: sessionIssuer, accountId: account } },
          invokedBy,
        },
        eventSource: 'kms.amazonaws.com',
        eventName: 'CreateGrant',
        sourceIPAddress: invokedBy,
        requestParameters: {
          keyId: keyArnOf(idOf(synth.stack.keys.table), account),
          granteePrincipal: 'dynamodb.cn-north-1.amazonaws.com.cn',
          operations: ['Decrypt', 'Encrypt', 'GenerateDataKey', 'CreateGrant', 'RetireGrant'],
          ...(tableName !== undefined && {
            constraints: {
              encryptionContextSubset: {
                'aws:dynamodb:tableName': tableName,
                'aws:dynamodb:subscriberId': account,
              },
            },
          }),
        },
        resources: [
          { accountId: account, type: 'AWS::KMS::Key', ARN: keyArnOf(idOf(synth.stack.keys.table), account) },
        ],
      },
    });
    const operator = `arn:aws-cn:iam::${account}:role/SomeOperator`;

    it('F3: no key ARN is listed, so each pattern stays under EventBridge’s 2,048 characters however many rotations', () => {
      // Deployed: the longest values each token can take (account, Region, generated names).
      for (const pattern of deployed()) {
        const text = JSON.stringify(pattern);
        expect(text).not.toMatch(/:kms:/);
        const longest = text
          .replaceAll('cn-north-1', 'cn-northwest-1')
          .replace(/"(Elicence[A-Za-z0-9]*)"/g, (_match, id: string) => `"${id}${'X'.repeat(64)}"`);
        expect(longest.length, text).toBeLessThan(2048);
      }
      // Ten more generations of every signing key: the same patterns.
      const rotated = synthesize({
        platformKeys: ['11', '10'],
        retiredPlatformKeys: ['9', '8', '7', '6', '5', '4', '3', '2', '1'],
      });
      expect(Object.keys(rotated.template.findResources('AWS::KMS::Key')).length).toBe(
        ofType('AWS::KMS::Key').length + 10,
      );
      expect(deployed(rotated).map((p) => JSON.stringify(p).length)).toEqual(
        deployed().map((p) => JSON.stringify(p).length),
      );
    });

    it('F4: DynamoDB’s grant for a table outside the stack (a restored copy) on a stack key is reported', () => {
      expect(reported(grant('restored-copy-of-service-table', operator))).toBe(true);
      expect(reported(grant(undefined, operator))).toBe(true);
      for (const table of [synth.stack.data, synth.stack.auditTrail, synth.stack.batchJobs]) {
        expect(reported(grant(idOf(table.table), operator)), idOf(table.table)).toBe(false);
      }
      // AWS Backup's grant with another role than the stack's backups role is reported too.
      const backups = roleArnOf(idOf(synth.stack.backups.role), account);
      expect(reported(grant(undefined, backups, 'backup.amazonaws.com'))).toBe(false);
      expect(reported(grant(undefined, operator, 'backup.amazonaws.com'))).toBe(true);
    });
  });

  describe('SMS spend alarm (Low)', () => {
    it('alarms on the month-to-date SMS spend, to the alarm topic, at a threshold the props set', () => {
      const alarm = {
        Namespace: 'AWS/SNS',
        MetricName: 'SMSMonthToDateSpentUSD',
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: idOf(synth.stack.alarmNotifications.topic) }],
      };
      synth.alarms.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...alarm,
        Threshold: defaultSmsSpendAlarmUsd,
      });
      synthesize({ smsSpendAlarmUsd: 400 }).alarms.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...alarm,
        AlarmActions: Match.anyValue(),
        Threshold: 400,
      });
      expect(() => synthesize({ smsSpendAlarmUsd: 0 })).toThrow(/smsSpendAlarmUsd/);
    });
  });
});
