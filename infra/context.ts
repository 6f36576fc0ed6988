import type { App } from 'aws-cdk-lib';
import type { ElicenceStackProps } from './stack.js';
import { isIssuerUrl, platformRegionPattern } from './stack-settings.js';

/**
 * Every key of the project's own context (`cdk.json`, `-c`), which {@link stackPropsFromContext} reads. A
 * key spelled like one of them (a plain camelCase word) but not among them is refused: `-c issuerURL=…` or
 * `"alarmemail"` would otherwise be ignored in silence. CDK's own keys (feature flags `@aws-cdk/…`,
 * `aws:cdk:…`, lookups `availability-zones:…`, `acknowledged-issue-numbers`) carry an `@`, a `:` or a `-`
 * and are left to CDK.
 */
export const contextKeys = [
  'auditKeys',
  'platformKeys',
  'platformRsaKeys',
  'presentationKeys',
  'noticeKeys',
  'retiredPlatformKeys',
  'retiredPlatformRsaKeys',
  'retiredPresentationKeys',
  'retiredNoticeKeys',
  'singleRegionKeys',
  'drRegion',
  'issuerUrl',
  'platformRegion',
  'logLevel',
  'throttle',
  'alarmEmail',
  'alertEmail',
  'reservedConcurrency',
  'accountConcurrencyLimit',
  'smsSpendAlarmUsd',
  'smsProvider',
  'tencentSms',
  'auditHolderCommitmentsSince',
  'auditAttributionSince',
  'supervisionHistoryBefore',
  'skipCanary',
] as const;

/**
 * The settings a later plain `npx cdk deploy Elicence` (a rollback, a key rotation: the runbooks') must
 * find again: each lives in `cdk.json`, committed, and {@link refuseCommandLineOnlySettings} refuses one
 * given with `-c` at a value `cdk.json` does not hold (SRE review R31 M3). The key generations are not here:
 * `-c platformKeys=…` stays an override for one command (docs/operating.md), and `skipCanary` and
 * `supervisionHistoryBefore` are for one deployment by design.
 */
export const committedContextKeys = [
  'issuerUrl',
  'platformRegion',
  'logLevel',
  'throttle',
  'alarmEmail',
  'alertEmail',
  'reservedConcurrency',
  'accountConcurrencyLimit',
  'smsSpendAlarmUsd',
  'smsProvider',
  'tencentSms',
  'drRegion',
  'auditHolderCommitmentsSince',
  'auditAttributionSince',
] as const satisfies ReadonlyArray<(typeof contextKeys)[number]>;

/** A project key by its shape: a plain camelCase word (CDK's own carry `@`, `:` or `-`). */
const projectKeyShape = /^[a-z][A-Za-z0-9]*$/;

/** The log levels a stack may set (`logLevel`); `SILENT` and `CRITICAL` would hide the errors alarms count. */
export const stackLogLevels = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/**
 * The stack's deployment choices, read from the CDK context: `cdk.json`'s `context` (committed with the
 * code) and, over it, `-c name=value` on the command line.
 *
 * `auditKeys`, `platformKeys`, `platformRsaKeys`, `presentationKeys` and `noticeKeys` are required: the audit key generations must never shrink (a deployment that lists fewer
 * would repoint `alias/elicence-audit` at an older key and drop the newer one's public key from
 * `GET /supervision/audit/keys`; security review M3), so they live in `cdk.json` (`"auditKeys": "2,1"`
 * after a rotation) and a synthesis without them is refused rather than falling back to `1`. The platform
 * keys' generations likewise: a deployment that forgot generation 2 would move the alias back to 1.
 *
 * Every other setting is checked here as the functions would check it at start (`issuerUrl` an https
 * origin, `platformRegion` six digits, `logLevel`, `throttle`), and a key of the project's shape that is
 * none of {@link contextKeys} is refused, naming it (SRE review R31 H2).
 *
 * @example
 * ```ts
 * const app = new App({
 *   context: {
 *     auditKeys: '2,1',
 *     platformKeys: '2,1',
 *     platformRsaKeys: '1',
 *     presentationKeys: '1',
 *     noticeKeys: '1',
 *   },
 * });
 * new ElicenceStack(app, 'Elicence', { description: '…', ...stackPropsFromContext(app) });
 * ```
 */
export function stackPropsFromContext(app: App): Partial<ElicenceStackProps> {
  const context = (name: string): unknown => app.node.tryGetContext(name);
  // A typo must fail here, naming the key, rather than be ignored (SRE review R31 H2).
  const unknown = Object.keys(app.node.getAllContext() as Record<string, unknown>).filter(
    (key) => projectKeyShape.test(key) && !(contextKeys as readonly string[]).includes(key),
  );
  if (unknown.length > 0) {
    throw new Error(
      `${unknown.join(', ')}: no such setting in the CDK context (cdk.json or -c); the known ones are ${contextKeys.join(', ')} (docs/operating.md, "Deploy")`,
    );
  }
  const alarmEmail = context('alarmEmail');
  const alertEmail = context('alertEmail');
  const platformKeys = context('platformKeys');
  const platformRsaKeys = context('platformRsaKeys');
  const presentationKeys = context('presentationKeys');
  const noticeKeys = context('noticeKeys');
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
  // Objects given with -c arrive as JSON text, from cdk.json as objects: read both, naming the key.
  const json = (name: string, value: unknown): unknown => {
    if (typeof value !== 'string') return value ?? undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw new Error(`${name}: not JSON (${JSON.stringify(value)}); give an object, as in cdk.json`);
    }
  };
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
  // And the notice key's (review R31 L1), for the same reason.
  for (const [name, value] of [
    ['platformKeys', platformKeys],
    ['platformRsaKeys', platformRsaKeys],
    ['presentationKeys', presentationKeys],
    ['noticeKeys', noticeKeys],
  ] as const) {
    if (missing(value)) {
      const kind = { presentationKeys: 'presentation', noticeKeys: 'notice' }[name as string] ?? 'platform';
      throw new Error(
        `${name}: no ${kind} key generations in the CDK context: cdk.json carries them ("${name}": "1", ` +
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
  // The public base URL on a custom domain (every credential's `iss`, every RP's configuration).
  const issuerUrl = context('issuerUrl');
  if (!missing(issuerUrl) && (typeof issuerUrl !== 'string' || !isIssuerUrl(issuerUrl))) {
    throw new Error(
      `issuerUrl: an https origin such as https://id.example.gov.cn (lower case, no path, no trailing slash), got ${JSON.stringify(issuerUrl)}`,
    );
  }
  const platformRegion = context('platformRegion');
  if (!missing(platformRegion) && !platformRegionPattern.test(String(platformRegion))) {
    throw new Error(
      `platformRegion: a six-digit administrative division code (GB/T 2260) such as 440000, got ${JSON.stringify(platformRegion)}`,
    );
  }
  const logLevel = context('logLevel');
  if (!missing(logLevel) && !(stackLogLevels as readonly unknown[]).includes(logLevel)) {
    throw new Error(`logLevel: one of ${stackLogLevels.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }
  const throttle = json('throttle', context('throttle'));
  if (
    throttle !== undefined &&
    (typeof throttle !== 'object' ||
      throttle === null ||
      Object.keys(throttle).sort().join() !== 'burstLimit,rateLimit' ||
      !Object.values(throttle).every((value) => Number.isInteger(value) && (value as number) >= 1))
  ) {
    throw new Error(
      `throttle: {"rateLimit": <requests per second>, "burstLimit": <requests>}, whole numbers from 1, got ${JSON.stringify(throttle)}`,
    );
  }
  const accountConcurrencyLimit = context('accountConcurrencyLimit');
  return {
    // cdk.json's `"alarmEmail": "ops@example.gov.cn"`: who is told of alarms (never -c alone: M3).
    ...(typeof alarmEmail === 'string' && alarmEmail ? { alarmEmail } : {}),
    // cdk.json's `"alertEmail"`: who is told of supervision alerts (not the pager).
    ...(typeof alertEmail === 'string' && alertEmail ? { alertEmail } : {}),
    // cdk.json's `"platformKeys": "2,1"` while platform key generation 2 replaces 1: the signing one first.
    platformKeys: items(platformKeys),
    // cdk.json's `"platformRsaKeys"` likewise for the RSA key that signs RS256 ID tokens.
    platformRsaKeys: items(platformRsaKeys),
    // cdk.json's `"presentationKeys"` likewise for the key that signs presentations (never ID tokens).
    presentationKeys: items(presentationKeys),
    // cdk.json's `"noticeKeys"` likewise for the key that signs withdrawal notices (never ID tokens).
    noticeKeys: items(noticeKeys),
    // cdk.json's `"retiredPlatformKeys": "1"` once generation 2 alone is in use: generation 1 stays in the
    // stack, disabled (a generation below the highest must be listed or retired; docs/operating.md).
    ...Object.fromEntries(
      (
        [
          'retiredPlatformKeys',
          'retiredPlatformRsaKeys',
          'retiredPresentationKeys',
          'retiredNoticeKeys',
          'singleRegionKeys',
        ] as const
      )
        .map((name) => [name, list(name)] as const)
        .filter(([, value]) => value !== undefined),
    ),
    // cdk.json's `"drRegion": "cn-northwest-1"`: backups copied there, and the ElicenceDr stack (infra/app.ts).
    ...(!missing(drRegion) && { drRegion: String(drRegion) }),
    // `"reservedConcurrency": { "oidc": 200 }` in cdk.json (-c gives it as JSON text).
    ...(reservedConcurrency !== undefined && {
      reservedConcurrency: json(
        'reservedConcurrency',
        reservedConcurrency,
      ) as ElicenceStackProps['reservedConcurrency'],
    }),
    // cdk.json's `"accountConcurrencyLimit": 1000`: the account's concurrent executions in this region, which
    // the reserved ones must leave 100 of (`aws lambda get-account-settings`).
    ...(!missing(accountConcurrencyLimit) && { accountConcurrencyLimit: Number(accountConcurrencyLimit) }),
    // cdk.json's `"issuerUrl": "https://id.example.gov.cn"`: the custom domain, from the first deployment on.
    ...(!missing(issuerUrl) && { issuerUrl: String(issuerUrl) }),
    // cdk.json's `"platformRegion": "440000"`: the division this platform serves (docs/peers.md).
    ...(!missing(platformRegion) && { platformRegion: String(platformRegion) }),
    // cdk.json's `"logLevel": "INFO"`: the functions' log level (the lines alarms count print at any level).
    ...(!missing(logLevel) && { logLevel: logLevel as ElicenceStackProps['logLevel'] }),
    // cdk.json's `"throttle": { "rateLimit": 200, "burstLimit": 400 }`: the default route throttle, each
    // route's own bucket (the stage's `DefaultRouteSettings`), for the routes without a lower one.
    ...(throttle !== undefined && { throttle: throttle as ElicenceStackProps['throttle'] }),
    // cdk.json's `"smsSpendAlarmUsd": 400`: the month-to-date SMS spend that raises the alarm.
    ...(smsSpendAlarmUsd !== undefined && { smsSpendAlarmUsd: Number(smsSpendAlarmUsd) }),
    // cdk.json's `"smsProvider": "tencent"` and `"tencentSms": {"sdkAppId":…,"signName":…,"templateId":…}`:
    // text messages through Tencent Cloud SMS (docs/operating.md, "SMS in AWS China regions").
    ...(smsProvider !== undefined && { smsProvider }),
    ...(tencentSms !== undefined && {
      tencentSms: json('tencentSms', tencentSms) as ElicenceStackProps['tencentSms'],
    }),
    // `-c auditHolderCommitmentsSince=2027-01-05`: audit entries from that day on must commit to their holder.
    ...(auditHolderCommitmentsSince !== undefined && {
      auditHolderCommitmentsSince: String(auditHolderCommitmentsSince),
    }),
    // `"auditAttributionSince": "2027-01-05"` in cdk.json: chains from that day on are held to their writer's actions.
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

/** A context value as a deployment means it: JSON text read, numbers and booleans as their text. */
function canonical(value: unknown): string {
  let read = value;
  if (typeof value === 'string' && /^\s*[{[]/.test(value)) {
    try {
      read = JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  if (read === undefined || read === null || (typeof read === 'string' && read.trim() === '')) return '';
  if (typeof read !== 'object') return String(read).trim();
  const sorted = (item: unknown): unknown =>
    Array.isArray(item)
      ? item.map(sorted)
      : typeof item === 'object' && item !== null
        ? Object.fromEntries(
            Object.entries(item)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([key, inner]) => [key, sorted(inner)]),
          )
        : item;
  return JSON.stringify(sorted(read));
}

/**
 * Refuses a setting of {@link committedContextKeys} given with `-c` at a value that `committed` (the
 * context of the repository's `cdk.json`) does not hold (SRE review R31 M3): the next plain
 * `npx cdk deploy Elicence`, which the runbooks use for a rollback or a key rotation, would drop it in
 * silence: the alarm email unsubscribed, the custom domain gone from every URL, Tencent SMS refused mid-incident
 * in `cn-*`. Put it in `cdk.json` and commit it; `-c` with the committed value is accepted.
 *
 * @example
 * ```ts
 * refuseCommandLineOnlySettings(app, JSON.parse(readFileSync('cdk.json', 'utf8')).context);
 * ```
 */
export function refuseCommandLineOnlySettings(app: App, committed: Record<string, unknown> = {}): void {
  const differing = committedContextKeys.filter(
    (key) => canonical(app.node.tryGetContext(key)) !== canonical(committed[key]),
  );
  if (differing.length > 0) {
    throw new Error(
      `${differing.join(', ')}: given with -c but not so in cdk.json: the next plain \`npx cdk deploy Elicence\` ` +
        `(a rollback, a key rotation) would drop ${differing.length > 1 ? 'them' : 'it'} in silence. ` +
        `Set ${differing.length > 1 ? 'them' : 'it'} in cdk.json's context and commit (docs/operating.md, "Deploy")`,
    );
  }
}
