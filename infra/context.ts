import type { App } from 'aws-cdk-lib';
import type { ElicenceStackProps } from './stack.js';

/**
 * The stack's deployment choices, read from the CDK context: `cdk.json`'s `context` (committed with the
 * code) and, over it, `-c name=value` on the command line.
 *
 * `auditKeys`, `platformKeys`, `platformRsaKeys` and `presentationKeys` are required: the audit key generations must never shrink (a deployment that lists fewer
 * would repoint `alias/elicence-audit` at an older key and drop the newer one's public key from
 * `GET /supervision/audit/keys`; security review M3), so they live in `cdk.json` (`"auditKeys": "2,1"`
 * after a rotation) and a synthesis without them is refused rather than falling back to `1`. The platform
 * keys' generations likewise: a deployment that forgot generation 2 would move the alias back to 1.
 *
 * @example
 * ```ts
 * const app = new App({
 *   context: { auditKeys: '2,1', platformKeys: '2,1', platformRsaKeys: '1', presentationKeys: '1' },
 * });
 * new ElicenceStack(app, 'Elicence', { description: '…', ...stackPropsFromContext(app) });
 * ```
 */
export function stackPropsFromContext(app: App): Partial<ElicenceStackProps> {
  const context = (name: string): unknown => app.node.tryGetContext(name);
  const alarmEmail = context('alarmEmail');
  const alertEmail = context('alertEmail');
  const platformKeys = context('platformKeys');
  const platformRsaKeys = context('platformRsaKeys');
  const presentationKeys = context('presentationKeys');
  const auditHolderCommitmentsSince = context('auditHolderCommitmentsSince');
  const auditAttributionSince = context('auditAttributionSince');
  const auditKeys = context('auditKeys');
  const supervisionHistoryBefore = context('supervisionHistoryBefore');
  const missing = (value: unknown) => value === undefined || value === null || String(value).trim() === '';
  // Every list of the context is read one way: comma-separated, spaces around an item dropped (`"2, 1"`).
  const items = (value: unknown) =>
    String(value)
      .split(',')
      .map((item) => item.trim());
  if (missing(auditKeys)) {
    throw new Error(
      'auditKeys: no audit key generations in the CDK context: cdk.json carries them ("auditKeys": "1", ' +
        '"2,1" after a rotation; docs/operating.md); a deployment never falls back to generation 1',
    );
  }
  // The platform key generations likewise (infrastructure review 24, Medium): a plain `cdk deploy` after a
  // rotation given only with -c would move the alias back to generation 1 and drop generation 2.
  // And the presentation key's (review R7 M1): a deployment that forgot generation 2 would move its alias
  // back to 1 and drop generation 2 from the trust list while presentations it signed are still shown.
  for (const [name, value] of [
    ['platformKeys', platformKeys],
    ['platformRsaKeys', platformRsaKeys],
    ['presentationKeys', presentationKeys],
  ] as const) {
    if (missing(value)) {
      throw new Error(
        `${name}: no ${name === 'presentationKeys' ? 'presentation' : 'platform'} key generations in the CDK context: cdk.json carries them ("${name}": "1", ` +
          `"2,1" during a rotation, committed; docs/operating.md); a deployment never falls back to generation 1`,
      );
    }
  }
  // Retired key generations and keys deployed single-Region (review M1, H3): comma-separated lists.
  const list = (name: string) => {
    const value = context(name);
    return missing(value) ? undefined : items(value);
  };
  const drRegion = context('drRegion');
  const reservedConcurrency = context('reservedConcurrency');
  const smsSpendAlarmUsd = context('smsSpendAlarmUsd');
  const smsProvider = context('smsProvider');
  const tencentSms = context('tencentSms');
  const skipCanary = context('skipCanary');
  // A typo must not deploy all at once by surprise, nor a `false` be read as a wish to skip.
  if (skipCanary !== undefined && ![true, false, 'true', 'false'].includes(skipCanary as string | boolean)) {
    throw new Error(`skipCanary: true or false, got ${JSON.stringify(skipCanary)}`);
  }
  if (smsProvider !== undefined && smsProvider !== 'sns' && smsProvider !== 'tencent') {
    throw new Error(`smsProvider: "sns" or "tencent", got ${JSON.stringify(smsProvider)}`);
  }
  return {
    // `npx cdk deploy -c alarmEmail=ops@example.gov.cn`: who is told of alarms.
    ...(typeof alarmEmail === 'string' && alarmEmail ? { alarmEmail } : {}),
    // `-c alertEmail=supervision@example.gov.cn`: who is told of supervision alerts (not the pager).
    ...(typeof alertEmail === 'string' && alertEmail ? { alertEmail } : {}),
    // cdk.json's `"platformKeys": "2,1"` while platform key generation 2 replaces 1: the signing one first.
    platformKeys: items(platformKeys),
    // cdk.json's `"platformRsaKeys"` likewise for the RSA key that signs RS256 ID tokens.
    platformRsaKeys: items(platformRsaKeys),
    // cdk.json's `"presentationKeys"` likewise for the key that signs presentations (never ID tokens).
    presentationKeys: items(presentationKeys),
    // cdk.json's `"retiredPlatformKeys": "1"` once generation 2 alone is in use: generation 1 stays in the
    // stack, disabled (a generation below the highest must be listed or retired; docs/operating.md).
    ...Object.fromEntries(
      (
        [
          'retiredPlatformKeys',
          'retiredPlatformRsaKeys',
          'retiredPresentationKeys',
          'singleRegionKeys',
        ] as const
      )
        .map((name) => [name, list(name)] as const)
        .filter(([, value]) => value !== undefined),
    ),
    // cdk.json's `"drRegion": "cn-northwest-1"`: backups copied there, and the ElicenceDr stack (infra/app.ts).
    ...(!missing(drRegion) && { drRegion: String(drRegion) }),
    // `"reservedConcurrency": { "oidc": 200 }` in cdk.json, or `-c reservedConcurrency='{"oidc":200}'`.
    ...(reservedConcurrency !== undefined && {
      reservedConcurrency: (typeof reservedConcurrency === 'string'
        ? JSON.parse(reservedConcurrency)
        : reservedConcurrency) as ElicenceStackProps['reservedConcurrency'],
    }),
    // `-c smsSpendAlarmUsd=400`: the month-to-date SMS spend that raises the alarm.
    ...(smsSpendAlarmUsd !== undefined && { smsSpendAlarmUsd: Number(smsSpendAlarmUsd) }),
    // `-c smsProvider=tencent` and `-c tencentSms='{"sdkAppId":…,"signName":…,"templateId":…}'` (or an
    // object in cdk.json): text messages through Tencent Cloud SMS (docs/operating.md, "SMS in AWS China regions").
    ...(smsProvider !== undefined && { smsProvider }),
    ...(tencentSms !== undefined && {
      tencentSms: (typeof tencentSms === 'string'
        ? JSON.parse(tencentSms)
        : tencentSms) as ElicenceStackProps['tencentSms'],
    }),
    // `-c auditHolderCommitmentsSince=2027-01-05`: audit entries from that day on must commit to their holder.
    ...(auditHolderCommitmentsSince !== undefined && {
      auditHolderCommitmentsSince: String(auditHolderCommitmentsSince),
    }),
    // `-c auditAttributionSince=2027-01-05`: chains from that day on are held to their writer's actions.
    ...(auditAttributionSince !== undefined && {
      auditAttributionSince: String(auditAttributionSince),
    }),
    // `-c supervisionHistoryBefore=2026-12-06T09:30:00Z` only while moving the audit trail (docs/supervision.md).
    ...(supervisionHistoryBefore !== undefined && {
      supervisionHistoryBefore: String(supervisionHistoryBefore),
    }),
    // `-c skipCanary=true`, in an emergency only and never in cdk.json: every new version at once
    // (docs/operating.md, "How a deploy rolls out").
    ...((skipCanary === true || skipCanary === 'true') && { skipCanary: true }),
    // cdk.json's `"auditKeys": "2,1"` when audit key generation 2 takes over; every generation is kept for ever.
    auditKeys: items(auditKeys),
  };
}
