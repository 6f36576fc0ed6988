import * as z from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z.url({ protocol: /^https?$/ }).optional();
/** A comma-separated list of KMS key ids (earlier key generations), blanks dropped; unset: none. */
const keyIdList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
  );
/** A registry's endpoint: https, or http to this machine only (a test's fake); ID numbers go there. */
const registryUrl = z
  .url({ protocol: /^https?$/ })
  .refine((url) => isHttpsOrLoopback(new URL(url)), 'must be an https URL (http only to localhost)')
  .optional();

/** Whether a URL is https, or plain http to the loopback interface (where nothing crosses a network). */
export function isHttpsOrLoopback(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/**
 * The UTC day holder commitments were released (security review L2): entries dated on or after it must
 * carry one unless `AUDIT_HOLDER_COMMITMENTS_SINCE` says a later day (M2b: unset must not mean "never").
 */
/**
 * The day each writer of the audit trail got shards of its own (security review R31 M1,
 * shared/audit/audit-writers.ts): chains of that day on are held to their writer's actions.
 */
export const auditAttributionReleased = '2026-12-08';

export const holderCommitmentsReleased = '2026-12-06';

/**
 * What one counter clerk (经办人) may do at the counter (当面核验, `/counter/accounts/…`,
 * shared/identity/counter-proof.ts) in a China-time day (Asia/Shanghai, from 00:00), counted on success:
 * accounts found (`lookups`) and proofs saved (`proofs`). Past either, `429 counter_daily_cap` until the
 * next day's start (`Retry-After`), the refusal audited, and the stack's `Operations/CounterClerkCapAlarm`
 * pages the on-call (review R30 L1). A busy service hall's clerk proves a few dozen people a day; the
 * console finds an account once to show it, and again to show its form after a code is sent or a proof is
 * refused, so a day of 100 proofs makes about 200 to 300 lookups. A clerk past these numbers is serving
 * far more people than a counter does, or looking people up without them: supervision should know that
 * day, not at the next review of the trail.
 */
export const counterClerkDailyCaps = { lookups: 300, proofs: 100 } as const;

/**
 * Every setting the service reads from its environment. Defaults are those of the local runtime, so a
 * newcomer needs none of them; the CDK stack sets what differs in AWS.
 */
const schema = z
  .object({
    PORT: port.default(3000),
    DATA_DIR: z.string().min(1).default('.data'),
    ISSUER_URL: optionalUrl,
    AWS_REGION: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as cn-north-1')
      .default('cn-north-1'),
    AWS_ENDPOINT_URL: optionalUrl,
    AWS_ENDPOINT_URL_DYNAMODB: optionalUrl,
    AWS_ENDPOINT_URL_KMS: optionalUrl,
    AWS_ENDPOINT_URL_LAMBDA: optionalUrl,
    // The function that signs the trust list and status lists (functions/list-signer.ts), by name or ARN
    // with its live alias (`<name>:live`, all the grant names): the public list functions invoke it when the
    // stored token is stale. The stack sets its name.
    LIST_SIGNER_FUNCTION: z
      .string()
      .regex(/^[A-Za-z0-9_:.-]{1,170}$/, 'must be a Lambda function name or ARN')
      .default('list-signer:live'),
    TABLE_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)')
      .default('elicence'),
    /** The audit table (the audit trail alone, with its own stream); `<TABLE_NAME>-audit` when unset. */
    AUDIT_TABLE_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)')
      .optional(),
    /** The batch table (bulk issuance jobs alone, with its own stream); `<TABLE_NAME>-batches` when unset. */
    BATCH_TABLE_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)')
      .optional(),
    PLATFORM_KEY_ID: z.string().min(1).default('alias/elicence-platform'),
    PLATFORM_PREVIOUS_KEY_IDS: keyIdList,
    // The audit-checkpoint key (docs/supervision.md): signs checkpoints only. Its earlier generations stay
    // listed for ever (GET /supervision/audit/keys), since a checkpoint must verify as long as the trail is kept.
    AUDIT_KEY_ID: z.string().min(1).default('alias/elicence-audit'),
    AUDIT_PREVIOUS_KEY_IDS: keyIdList,
    // The presentation key (docs/credentials.md): signs presentations and the holder's printable-licence
    // signatures, never an ID token; published in the trust list, never in the JWKS.
    PRESENTATION_KEY_ID: z.string().min(1).default('alias/elicence-presentation'),
    PRESENTATION_PREVIOUS_KEY_IDS: keyIdList,
    // The notice key (docs/integrating.md): signs withdrawal notices (Security Event Tokens), never an ID
    // token; published at /.well-known/notices-jwks.json, never in the OpenID JWKS (review R31 L1).
    NOTICE_KEY_ID: z.string().min(1).default('alias/elicence-notice'),
    NOTICE_PREVIOUS_KEY_IDS: keyIdList,
    PLATFORM_RSA_KEY_ID: z.string().min(1).default('alias/elicence-platform-rsa'),
    PLATFORM_RSA_PREVIOUS_KEY_IDS: keyIdList,
    LOOKUP_MAC_KEY_ID: z.string().min(1).default('alias/elicence-lookup-mac'),
    PII_KEY_ID: z.string().min(1).default('alias/elicence-pii'),
    WEB_KEY_ID: z.string().min(1).default('alias/elicence-web'),
    INTERACTION_KEY_ID: z.string().min(1).default('alias/elicence-interaction-mac'),
    CLIENT_SECRET_KEY_ID: z.string().min(1).default('alias/elicence-client-secret'),
    CURSOR_KEY_ID: z.string().min(1).default('alias/elicence-cursor-mac'),
    ISSUER_KEY_POLICY: z.string().optional(),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
    CLIENT_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    WEB_ASSETS_DIR: z.string().min(1).default('web-assets'),
    // Where text messages go: the outbox file under DATA_DIR (the local runtime), Amazon SNS, or Tencent
    // Cloud SMS (the AWS China regions, where SNS sends no SMS: docs/operating.md).
    SMS_SENDER: z.enum(['outbox', 'sns', 'tencent']).default('outbox'),
    AWS_ENDPOINT_URL_SNS: optionalUrl,
    SMS_SENDER_ID: z
      .string()
      .regex(/^[A-Za-z0-9]{1,11}$/, 'must be 1 to 11 letters or digits (an SNS sender id)')
      .optional(),
    // Tencent Cloud SMS (SMS_SENDER=tencent): the account's application, approved signature and template,
    // the API region and address, and the Secrets Manager secret holding the API key pair (never the key
    // itself in the environment).
    TENCENT_SMS_SDK_APP_ID: z
      .string()
      .regex(/^\d{6,12}$/, 'must be the SMS application id (SdkAppId, digits such as 1400000000)')
      .optional(),
    TENCENT_SMS_SIGN_NAME: z
      .string()
      .regex(/^[^【】\s]{2,20}$/, 'must be the approved signature without 【】 (2 to 20 characters)')
      .optional(),
    TENCENT_SMS_TEMPLATE_ID: z
      .string()
      .regex(/^\d{1,12}$/, 'must be the approved template id (digits)')
      .optional(),
    // The security notices' own approved template (shared/identity/security-notices.ts): optional, since
    // the carrier approves it apart from the code's; unset, a notice is not sent (logged, not retried).
    TENCENT_SMS_NOTICE_TEMPLATE_ID: z
      .string()
      .regex(/^\d{1,12}$/, 'must be the approved template id (digits)')
      .optional(),
    // The notice to the phone a change of phone replaced: its own approved template, optional likewise.
    TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID: z
      .string()
      .regex(/^\d{1,12}$/, 'must be the approved template id (digits)')
      .optional(),
    TENCENT_SMS_REGION: z
      .string()
      .regex(/^[a-z]{2}-[a-z]+$/, 'must be a Tencent Cloud region such as ap-guangzhou')
      .default('ap-guangzhou'),
    TENCENT_SMS_ENDPOINT: z
      .url({ protocol: /^https?$/ })
      .refine((url) => isHttpsOrLoopback(new URL(url)), 'must be an https URL (http only to localhost)')
      .default('https://sms.tencentcloudapi.com'),
    TENCENT_SMS_SECRET_ARN: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/,
        'must be a Secrets Manager secret ARN',
      )
      .optional(),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: optionalUrl,
    // Where the population and carrier registries are: the table the seed fills, or HTTP services.
    REGISTRIES: z.enum(['local', 'http']).default('local'),
    POPULATION_REGISTRY_URL: registryUrl,
    POPULATION_REGISTRY_TOKEN: z.string().min(1).optional(),
    CARRIER_REGISTRY_URL: registryUrl,
    CARRIER_REGISTRY_TOKEN: z.string().min(1).optional(),
    REGISTRY_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(3000),
    // How long a scan-to-login code lives (API.md: at most 120 s); tests shorten it to see expiry.
    SCAN_LOGIN_SECONDS: z.coerce.number().int().min(1).max(120).default(120),
    // How long the scan-to-login waiting page holds its request open for the wallet's answer (a long poll);
    // kept under the OpenID function's 10 s timeout.
    SCAN_LOGIN_WAIT_SECONDS: z.coerce.number().int().min(0).max(8).default(6),
    // How long a /verify container keeps an issuer record (docs/verifier.md): a withdrawal or key rotation
    // made in another container counts within this time; 0 reads the record on every verification.
    ISSUER_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(30),
    // The administrative division (GB/T 2260) this platform serves, e.g. 110000 (Beijing): a peer platform's
    // trust list never adds an issuer within it (docs/peers.md); the local seed names its demo issuer after it.
    PLATFORM_REGION: z
      .string()
      .regex(/^\d{6}$/, 'must be a six-digit administrative division code (GB/T 2260) such as 110000')
      .default('110000'),
    // Peer platforms (跨地区互认, docs/peers.md): a peer's copy older than PEER_STALE_SECONDS is served marked
    // stale; older than PEER_MAX_AGE_SECONDS its issuers are no longer trusted (fail closed).
    PEER_STALE_SECONDS: z.coerce.number().int().min(1).max(2_592_000).default(86_400),
    PEER_MAX_AGE_SECONDS: z.coerce.number().int().min(60).max(7_776_000).default(604_800),
    PEER_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5000),
    // Bulk issuance (docs/batch-issuance.md): how long, and for how many credentials, one batch key signs.
    BATCH_KEY_SECONDS: z.coerce.number().int().min(60).max(86_400).default(86_400),
    BATCH_KEY_CREDENTIALS: z.coerce.number().int().min(1).max(1_000_000).default(1_000_000),
    // Bulk issuance jobs one issuer may have pending or running at once (shared/licence/batch-slots.ts):
    // the queue is shared, so one agency's backlog must not stop every other's imports. A job that dies
    // (the dead-letter queue) holds its slot at most BATCH_OPEN_JOB_HOLD_SECONDS.
    BATCH_MAX_OPEN_JOBS_PER_ISSUER: z.coerce.number().int().min(1).max(1000).default(3),
    BATCH_OPEN_JOB_HOLD_SECONDS: z.coerce.number().int().min(300).max(604_800).default(21_600),
    // At most one on-demand audit checkpoint per this many seconds, across containers (docs/supervision.md);
    // 0 lifts the limit (tests that sign several in a row).
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    // The reconciler finishes a licence change's pending work once it is this old (shared/licence/
    // pending-work.ts): the request had its chance by then. 0 (tests) takes everything at once.
    PENDING_WORK_AGE_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    // The UTC day from which every audit entry carries a holder commitment (docs/supervision.md, security
    // review L2, M2b): one dated on or after it without one is not genuine. By default the day commitments
    // were released; an operator whose stack still ran older code after that day sets the day after the
    // release ran everywhere (in AWS `-c auditHolderCommitmentsSince=YYYY-MM-DD`).
    AUDIT_HOLDER_COMMITMENTS_SINCE: z.iso.date().default(holderCommitmentsReleased),
    // The UTC day from which every chain is held to its writer's actions by its shard (security review
    // R31 M1, shared/audit/audit-writers.ts). By default the day writers' shards were released; a stack
    // that ran older code after that day sets the day after the release ran everywhere (in AWS
    // `-c auditAttributionSince=YYYY-MM-DD`).
    AUDIT_ATTRIBUTION_SINCE: z.iso.date().default(auditAttributionReleased),
    // Only while the audit trail is moved into the audit table (docs/supervision.md): the instant of the
    // deployment that created it. Entries dated (and chained) before it reaching the audit table's stream
    // are copies of history, not counted again. Unset (the default, and after the move): nothing is skipped.
    SUPERVISION_HISTORY_BEFORE: z.iso.datetime({ offset: true }).optional(),
    LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL']).default('INFO'),
    // The issuer console's old sign-in with the agency's shared OAuth client secret (docs/console.md):
    // only while a deployment moves its clerks to their own sign-ins. Off unless exactly `true`.
    CONSOLE_CLIENT_SECRET_SIGN_IN: z.enum(['true', 'false']).default('false'),
    // Supervision alerts (docs/supervision-statistics-and-alerts.md): each rule's threshold and window.
    ALERT_SCAN_FAILURES_WINDOW_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
    ALERT_SCAN_FAILURES_PER_LICENCE: z.coerce.number().int().min(1).max(100_000).default(5),
    ALERT_SCAN_FAILURES_PER_VERIFIER: z.coerce.number().int().min(1).max(100_000).default(20),
    ALERT_SCAN_FAILURES_ANONYMOUS: z.coerce.number().int().min(1).max(1_000_000).default(200),
    ALERT_BULK_STATUS_WINDOW_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
    ALERT_BULK_STATUS_CHANGES: z.coerce.number().int().min(1).max(100_000).default(20),
    // The same by China-time day: an issuer keeping under the hourly threshold all day (19 an hour is 456
    // a day) still raises one. 200 a day is 8 an hour round the clock; a large issuer's routine
    // revocations may need more (docs/supervision-statistics-and-alerts.md).
    ALERT_BULK_STATUS_CHANGES_PER_DAY: z.coerce.number().int().min(1).max(1_000_000).default(200),
    ALERT_ISSUANCE_FACTOR: z.coerce.number().min(1).max(1000).default(3),
    ALERT_ISSUANCE_MINIMUM: z.coerce.number().int().min(1).max(1_000_000).default(50),
    // Verifications of one licence on record, any verdict: a flood of anonymous checks of a printed QR
    // code buries the holder's usage record. 100 in 10 min is one every 6 s for 10 min; a counter clerk
    // checks a licence a handful of times, a hotel chain a few dozen a day.
    ALERT_VERIFICATIONS_WINDOW_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
    ALERT_VERIFICATIONS_PER_LICENCE: z.coerce.number().int().min(1).max(1_000_000).default(100),
    // The bulk-export rule: licences (CSV rows) one issuer exports within the window.
    ALERT_EXPORT_WINDOW_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
    ALERT_EXPORT_ROWS: z.coerce.number().int().min(1).max(10_000_000).default(20_000),
    // The same by China-time day (rule bulk-export-daily, R36 L1): a steady pace under the window's.
    ALERT_EXPORT_ROWS_PER_DAY: z.coerce.number().int().min(1).max(100_000_000).default(100_000),
    // At most this many alerts of one rule are published per clock hour (the rest are stored and listed):
    // forged scans must not be able to flood the alarm topic.
    ALERT_PUBLISH_PER_RULE_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(20),
    // Withdrawal notices to platforms (shared/sharing/withdrawal-notices.ts): the wait after a failed
    // attempt, doubled after each (up to 6 h), how many attempts before giving up, and how long one may take.
    NOTICE_RETRY_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    NOTICE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(12),
    NOTICE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5000),
    // The local runtime's delivery round (AWS: the stack's schedule, every minute); 0: only on demand.
    NOTICE_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    // Where alerts are announced: the outbox file DATA_DIR/outbox/alerts.jsonl (local), or the SNS topic.
    ALERT_PUBLISHER: z.enum(['outbox', 'sns']).default('outbox'),
    ALERT_TOPIC_ARN: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN')
      .optional(),
  })
  .superRefine((env, context) => {
    // The audit trail must have a table of its own: in the service table it would be read whole by the
    // stream consumer (supervision-events) and written by every function that writes the table.
    if (env.AUDIT_TABLE_NAME !== undefined && env.AUDIT_TABLE_NAME === env.TABLE_NAME) {
      context.addIssue({
        code: 'custom',
        path: ['AUDIT_TABLE_NAME'],
        message:
          'must differ from TABLE_NAME: the audit trail has a table of its own (unset: <TABLE_NAME>-audit)',
      });
    }
    // Bulk issuance jobs too: the batch pipe reads their table's stream whole, so that stream must carry
    // nothing but jobs (not the service table's sessions and tokens, nor the audit trail). The names as
    // resolved, defaults included, so that no pair of settings makes two tables one.
    const batchTable = env.BATCH_TABLE_NAME ?? `${env.TABLE_NAME}-batches`;
    const auditTable = env.AUDIT_TABLE_NAME ?? `${env.TABLE_NAME}-audit`;
    if (batchTable === env.TABLE_NAME || batchTable === auditTable) {
      context.addIssue({
        code: 'custom',
        path: [env.BATCH_TABLE_NAME === undefined ? 'AUDIT_TABLE_NAME' : 'BATCH_TABLE_NAME'],
        message:
          env.BATCH_TABLE_NAME === undefined
            ? `must differ from the batch table's name (${batchTable}, from TABLE_NAME): bulk issuance jobs have a table of their own`
            : 'must differ from TABLE_NAME and AUDIT_TABLE_NAME: bulk issuance jobs have a table of their own (unset: <TABLE_NAME>-batches)',
      });
    }
  });

/**
 * The alert rules' thresholds (shared/supervision/alert-rules.ts), each from its variable: a rule fires
 * when its count in its window reaches the threshold.
 */
export interface AlertThresholds {
  /** Window of the two scan-failure rules (`ALERT_SCAN_FAILURES_WINDOW_SECONDS`, default 600). */
  readonly scanFailuresWindowSeconds: number;
  /** `invalid_signature`/`malformed` verifications of one licence (`ALERT_SCAN_FAILURES_PER_LICENCE`, 5). */
  readonly scanFailuresPerLicence: number;
  /** The same by one verifier client (`ALERT_SCAN_FAILURES_PER_VERIFIER`, 20). */
  readonly scanFailuresPerVerifier: number;
  /** The same by every anonymous scanner together (`ALERT_SCAN_FAILURES_ANONYMOUS`, 200). */
  readonly scanFailuresAnonymous: number;
  /** Window of the bulk rule (`ALERT_BULK_STATUS_WINDOW_SECONDS`, default 3600). */
  readonly bulkStatusWindowSeconds: number;
  /** Revocations and suspensions by one issuer in that window (`ALERT_BULK_STATUS_CHANGES`, 20). */
  readonly bulkStatusChanges: number;
  /** The same by China-time day (`ALERT_BULK_STATUS_CHANGES_PER_DAY`, 200): rule `bulk-status-change-daily`. */
  readonly bulkStatusChangesPerDay: number;
  /** Issued today above this many times the trailing 7-day daily mean (`ALERT_ISSUANCE_FACTOR`, 3)… */
  readonly issuanceFactor: number;
  /** …and at least this many (`ALERT_ISSUANCE_MINIMUM`, 50). */
  readonly issuanceMinimum: number;
  /** Window of the verification-flood rule (`ALERT_VERIFICATIONS_WINDOW_SECONDS`, default 600). */
  readonly verificationsWindowSeconds: number;
  /** Verifications of one licence on record in it, any verdict (`ALERT_VERIFICATIONS_PER_LICENCE`, 100). */
  readonly verificationsPerLicence: number;
  /** Window of the bulk-export rule (`ALERT_EXPORT_WINDOW_SECONDS`, default 3600). */
  readonly exportWindowSeconds: number;
  /** Licences one issuer exports to CSV in it (`ALERT_EXPORT_ROWS`, 20,000: four full exports). */
  readonly exportRows: number;
  /** The same by China-time day (`ALERT_EXPORT_ROWS_PER_DAY`, 100,000): rule `bulk-export-daily`. */
  readonly exportRowsPerDay: number;
  /** Alerts of one rule published per clock hour at most (`ALERT_PUBLISH_PER_RULE_PER_HOUR`, 20). */
  readonly publishPerRulePerHour: number;
}

export interface Config {
  readonly port: number;
  readonly dataDir: string;
  /** Public base URL; the OpenID issuer identifier and the audience of our API's access tokens. */
  readonly issuerUrl: string;
  /** `AWS_REGION`, `cn-north-1` when unset: the region of DynamoDB and KMS the clients are given. */
  readonly region: string;
  /**
   * Whether `AWS_REGION` was set (Lambda always sets it): the operator scripts refuse to reach AWS without
   * it rather than take the default, for they read neither `AWS_DEFAULT_REGION` nor a profile's region as
   * the AWS CLI does (R49 F3).
   */
  readonly regionGiven: boolean;
  readonly dynamodbEndpoint: string | undefined;
  readonly kmsEndpoint: string | undefined;
  /**
   * Lambda's endpoint (`AWS_ENDPOINT_URL_LAMBDA` only, never `AWS_ENDPOINT_URL`): unset, the local runtime
   * serves the Invoke API in process, and in AWS the regional endpoint is used.
   */
  readonly lambdaEndpoint: string | undefined;
  /** The list signer's function name or ARN, with its alias (`LIST_SIGNER_FUNCTION`, default `list-signer:live`). */
  readonly listSignerFunction: string;
  readonly tableName: string;
  /**
   * The audit table: the audit trail's entries, its chains' registry and its checkpoints, and nothing
   * else, so that its stream (what the supervision consumer reads) carries only audit data.
   */
  readonly auditTableName: string;
  /**
   * The batch table: bulk issuance jobs and their items (`batch#`, `batch-items#`), and nothing else, so
   * that its stream (what the batch pipe reads) carries only jobs. The licences they issue are in the
   * service table.
   */
  readonly batchTableName: string;
  readonly platformKeyId: string;
  /**
   * Platform keys that signed before the current one: still published (JWKS) and trusted for what they
   * signed until it has all expired, never used to sign. Empty unless a rotation is under way.
   */
  readonly platformPreviousKeyIds: readonly string[];
  /**
   * The platform's RSA_2048 key: signs the ID tokens of platforms registered with
   * `idTokenSignedResponseAlg: "RS256"`, nothing else.
   */
  readonly platformRsaKeyId: string;
  /** RSA platform keys being retired, as {@link platformPreviousKeyIds} for the ES256 key. */
  readonly platformRsaPreviousKeyIds: readonly string[];
  /**
   * The audit-checkpoint key (ECC_NIST_P256): signs audit checkpoints and nothing else, apart from the
   * platform key so that the ID tokens' rotation never touches what must verify for years.
   */
  readonly auditKeyId: string;
  /**
   * Every audit key that signed before the current one: published for ever (`GET /supervision/audit/keys`),
   * never signing. Never shortened: a checkpoint must verify as long as the audit trail is kept.
   */
  readonly auditPreviousKeyIds: readonly string[];
  /**
   * The presentation key (ECC_NIST_P256): signs presentations (亮证) and the holder's printable-licence
   * signatures, and nothing else. Apart from the platform key so that the holder API (`me`), which signs
   * these, cannot sign an ID token; its public keys are published in the trust list (`presentationKeys`),
   * never in the OpenID JWKS, where a relying party would accept it for ID tokens.
   */
  readonly presentationKeyId: string;
  /**
   * Presentation keys being retired: still published in the trust list until what they signed has
   * expired (presentations live 10 minutes at most), never signing. Empty unless a rotation is under way.
   */
  readonly presentationPreviousKeyIds: readonly string[];
  /**
   * The notice key (ECC_NIST_P256): signs the withdrawal notices (Security Event Tokens) posted to the
   * platforms' events endpoints, and nothing else. Apart from the platform key so that the `notices`
   * function cannot sign an ID token (review R31 L1); its public keys are published at
   * `/.well-known/notices-jwks.json`, never in the OpenID JWKS, where a relying party would accept it for
   * ID tokens.
   */
  readonly noticeKeyId: string;
  /**
   * Notice keys being retired: still published at `/.well-known/notices-jwks.json` while a rotation is under
   * way (a notice is signed afresh at each attempt, so only those in flight need them), never signing.
   */
  readonly noticePreviousKeyIds: readonly string[];
  readonly lookupMacKeyId: string;
  /** Symmetric KMS key (`ENCRYPT_DECRYPT`) that encrypts recoverable personal data (ID numbers). */
  readonly piiKeyId: string;
  /**
   * HMAC key (`GENERATE_VERIFY_MAC`) of the web pages: seals their session cookies and derives the secrets
   * of the service's own page clients (wallet, demo platform). Kept apart from the lookup key, from which
   * every other client's secret derives, so a page function cannot mint an operator's or issuer's secret.
   */
  readonly webKeyId: string;
  /**
   * HMAC key (`GENERATE_VERIFY_MAC`) of the OpenID provider alone: derives the key that seals the sign-ins
   * under way into their cookies, the MAC of the scan-to-login cookie and the seal of authorization
   * codes' read hints. Kept apart from the lookup key,
   * which other functions hold, because whoever derives it can forge a sign-in's result.
   */
  readonly interactionKeyId: string;
  /**
   * HMAC key (`GENERATE_VERIFY_MAC`) from which registered clients' secrets derive, and nothing else: held
   * by the OpenID provider and the operators' API alone, so that no function holding the lookup key can
   * compute a client's secret (an operator's among them). Never rotated: every secret would change.
   */
  readonly clientSecretKeyId: string;
  /**
   * HMAC key (`GENERATE_VERIFY_MAC`) of the audit trail's listings' cursors alone (shared/supervision/trail-cursors.ts):
   * a key derived from it once per container seals each cursor answered, so that only those are taken
   * back. A key of its own, not one of the MAC keys above: whoever holds one of those can do more than
   * forge a cursor (a client's secret, a page session), and the listings' functions should not.
   */
  readonly cursorKeyId: string;
  /** Key policy attached to issuer keys created at onboarding (set by the CDK stack). */
  readonly issuerKeyPolicy: string | undefined;
  readonly accessTokenTtlSeconds: number;
  /**
   * How long a container keeps a platform's registration once read (`CLIENT_CACHE_SECONDS`, 0 to 300,
   * default 30; 0 reads it every time): a deleted or changed client takes effect in the other containers
   * within this time, at once in the one that changed it (docs/architecture.md, "Caches").
   */
  readonly clientCacheSeconds: number;
  /** Where the browser assets were built (beside the `web` function's code in Lambda). */
  readonly webAssetsDir: string;
  /**
   * Where text messages go: `outbox`, the file `DATA_DIR/outbox/sms.jsonl`; `sns`, Amazon SNS; or
   * `tencent`, Tencent Cloud SMS ({@link tencentSms}).
   */
  readonly smsSender: 'outbox' | 'sns' | 'tencent';
  /** Tencent Cloud SMS, when `SMS_SENDER=tencent` (every `TENCENT_SMS_*` setting is then required). */
  readonly tencentSms: TencentSmsConfig | undefined;
  /** Secrets Manager's endpoint (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, a test's fake); unset in AWS. */
  readonly secretsManagerEndpoint: string | undefined;
  readonly snsEndpoint: string | undefined;
  /** The SNS sender id (`AWS.SNS.SMS.SenderID`), where the destination supports one. */
  readonly smsSenderId: string | undefined;
  /** The registries the service asks: `local` (the seeded table) or over HTTP (see docs/operating.md). */
  readonly registries: RegistriesConfig;
  /** Seconds a scan-to-login code lives (`SCAN_LOGIN_SECONDS`, 1 to 120, default 120). */
  readonly scanLoginSeconds: number;
  /** Seconds the waiting page waits for the wallet's answer before showing itself again (0 to 8, default 6). */
  readonly scanLoginWaitSeconds: number;
  /**
   * Seconds a `/verify` container keeps an issuer record before reading it again (`ISSUER_CACHE_SECONDS`,
   * 0 to 60, default 30): the longest a withdrawal or key rotation made elsewhere takes to count there.
   */
  readonly issuerCacheSeconds: number;
  /**
   * A batch key's limits (docs/batch-issuance.md): it signs credentials for at most `seconds`
   * (`BATCH_KEY_SECONDS`, default 86,400: a day) and at most `credentials` of them
   * (`BATCH_KEY_CREDENTIALS`, default 1,000,000), then is forgotten and a new one certified. Since review
   * R36 (M1) a day and a million, not an hour and 100,000: every key stays in the trust list for as long as
   * what it signed may be valid, so fewer keys keep the list and the issuer record within their items.
   */
  readonly batchKey: { readonly seconds: number; readonly credentials: number };
  /**
   * Per issuer, bulk issuance jobs pending or running at once (`BATCH_MAX_OPEN_JOBS_PER_ISSUER`, default 3),
   * and how long an unfinished job holds its slot at most (`BATCH_OPEN_JOB_HOLD_SECONDS`, default 6 h).
   */
  readonly batchLimits: { readonly maxOpenJobs: number; readonly holdSeconds: number };
  /**
   * Seconds between two on-demand audit checkpoints, platform-wide (`AUDIT_CHECKPOINT_INTERVAL_SECONDS`,
   * 0 to 3600, default 60; 0 lifts the limit): each signs through KMS and reads every chain of its days.
   * The daily scheduled checkpoint is not counted (docs/supervision.md).
   */
  readonly auditCheckpointIntervalSeconds: number;
  /**
   * How old a licence change's pending work (audit entry, status list) must be before the reconciler
   * finishes it (`PENDING_WORK_AGE_SECONDS`, 0 to 3600, default 60): younger, its own request may still be
   * finishing it (docs/operating.md, "Pending work").
   */
  readonly pendingWorkAgeSeconds: number;
  /**
   * The UTC day (`AUDIT_HOLDER_COMMITMENTS_SINCE`, `YYYY-MM-DD`, by default {@link holderCommitmentsReleased})
   * from which every audit entry carries its holder commitment, so that an entry of that day or later
   * without one (its commitment stripped to pass as old) fails closed in the usage record and is reported
   * to supervisors (docs/supervision.md). A stack that ran older code after the release day sets a later
   * day: the day after the release ran everywhere.
   */
  readonly auditHolderCommitmentsSince: string;
  /**
   * The UTC day (`AUDIT_ATTRIBUTION_SINCE`, `YYYY-MM-DD`, by default {@link auditAttributionReleased}) from which a chain's entries are held to the actions of the function
   * whose shard it is in: one outside them is a fault of the daily check (R31 M1). A stack that ran older
   * code after the release day sets a later day: the day after the release ran everywhere.
   */
  readonly auditAttributionSince: string;
  /**
   * The cut-over of a move of the audit trail (`SUPERVISION_HISTORY_BEFORE`, an ISO instant, unset by
   * default): supervision-events skips entries dated and chained before it as copies of history, for 7
   * days after the instant only (then it is ignored, with a warning per batch).
   */
  readonly supervisionHistoryBefore: string | undefined;
  readonly logLevel: string;
  /**
   * Whether `/console` still offers the sign-in with an agency's OAuth client id and secret (every clerk
   * one secret, actions traced to the client only): for deployments migrating to clerks' own sign-ins.
   */
  readonly consoleClientSecretSignIn: boolean;
  /** The administrative division this platform serves (`PLATFORM_REGION`, six digits, default 110000). */
  readonly platformRegion: string;
  /** Peer platforms' copies (docs/peers.md): when one is stale, when it is dropped, how long a fetch may take. */
  readonly peers: {
    readonly staleSeconds: number;
    readonly maxAgeSeconds: number;
    readonly fetchTimeoutMs: number;
  };
  readonly alertThresholds: AlertThresholds;
  /**
   * Withdrawal notices (docs/integrating.md): the retries' first wait (`NOTICE_RETRY_SECONDS`, default 60,
   * doubled after each failure up to 6 h), attempts before giving up (`NOTICE_MAX_ATTEMPTS`, 12), one
   * attempt's time limit (`NOTICE_TIMEOUT_MS`, 5000), and the local runtime's delivery round
   * (`NOTICE_INTERVAL_SECONDS`, 60; 0 for on demand only; in AWS a schedule runs it every minute).
   */
  readonly notices: {
    readonly retrySeconds: number;
    readonly maxAttempts: number;
    readonly timeoutMs: number;
    readonly intervalSeconds: number;
  };
  /** Where alerts are announced: `outbox` (`DATA_DIR/outbox/alerts.jsonl`) or `sns` (the alarm topic). */
  readonly alertPublisher: 'outbox' | 'sns';
  /** The SNS topic alerts are published to (`ALERT_TOPIC_ARN`, the stack's alarm topic). */
  readonly alertTopicArn: string | undefined;
}

/** Tencent Cloud SMS (docs/operating.md, "SMS in AWS China regions"). */
export interface TencentSmsConfig {
  /** `TENCENT_SMS_SDK_APP_ID`: the SMS application (应用) id. */
  readonly sdkAppId: string;
  /** `TENCENT_SMS_SIGN_NAME`: the approved signature (签名), without 【】. */
  readonly signName: string;
  /** `TENCENT_SMS_TEMPLATE_ID`: the approved template (模板) of the one-time code. */
  readonly templateId: string;
  /**
   * `TENCENT_SMS_NOTICE_TEMPLATE_ID`: the approved template of the security notice (a passkey enrolled, a
   * password reset, …), once approved; without it no notice is sent.
   */
  readonly noticeTemplateId?: string;
  /**
   * `TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID`: the approved template of the notice to the phone a
   * change of the account's phone replaced, once approved; without it that notice is not sent.
   */
  readonly previousPhoneNoticeTemplateId?: string;
  /** `TENCENT_SMS_REGION`, default `ap-guangzhou`. */
  readonly region: string;
  /** `TENCENT_SMS_ENDPOINT`, default `https://sms.tencentcloudapi.com`. */
  readonly endpoint: string;
  /** `TENCENT_SMS_SECRET_ARN`: the secret holding `{ "secretId", "secretKey" }`. */
  readonly secretArn: string;
}

/** Where the population and carrier registries are. */
export type RegistriesConfig =
  | { readonly kind: 'local' }
  | {
      readonly kind: 'http';
      readonly population: RegistryEndpoint;
      readonly carrier: RegistryEndpoint;
      readonly timeoutMs: number;
    };

export interface RegistryEndpoint {
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>`; never logged. */
  readonly token: string | undefined;
}

export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(readonly issues: ReadonlyArray<{ variable: string; message: string }>) {
    super(`Invalid configuration: ${issues.map((i) => `${i.variable} ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once. This is the only reader of `process.env` in the service.
 *
 * @example
 * ```ts
 * const config = loadConfig(); // throws ConfigError naming each bad variable
 * ```
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0]), message: issue.message })),
    );
  }
  const e = parsed.data;
  if (e.REGISTRIES === 'http') {
    const missing = (['POPULATION_REGISTRY_URL', 'CARRIER_REGISTRY_URL'] as const).filter((name) => !e[name]);
    if (missing.length > 0) {
      throw new ConfigError(
        missing.map((variable) => ({ variable, message: 'is required when REGISTRIES=http' })),
      );
    }
  }
  if (e.SMS_SENDER === 'tencent') {
    const missing = (
      [
        'TENCENT_SMS_SDK_APP_ID',
        'TENCENT_SMS_SIGN_NAME',
        'TENCENT_SMS_TEMPLATE_ID',
        'TENCENT_SMS_SECRET_ARN',
      ] as const
    ).filter((name) => !e[name]);
    if (missing.length > 0) {
      throw new ConfigError(
        missing.map((variable) => ({ variable, message: 'is required when SMS_SENDER=tencent' })),
      );
    }
  }
  if (e.ALERT_PUBLISHER === 'sns' && !e.ALERT_TOPIC_ARN) {
    throw new ConfigError([{ variable: 'ALERT_TOPIC_ARN', message: 'is required when ALERT_PUBLISHER=sns' }]);
  }
  return {
    port: e.PORT,
    dataDir: e.DATA_DIR,
    issuerUrl: (e.ISSUER_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    region: e.AWS_REGION,
    regionGiven: env.AWS_REGION !== undefined && env.AWS_REGION !== '',
    dynamodbEndpoint: e.AWS_ENDPOINT_URL_DYNAMODB ?? e.AWS_ENDPOINT_URL,
    kmsEndpoint: e.AWS_ENDPOINT_URL_KMS ?? e.AWS_ENDPOINT_URL,
    // Not AWS_ENDPOINT_URL: LocalStack has no list signer, and the local runtime serves it in process.
    lambdaEndpoint: e.AWS_ENDPOINT_URL_LAMBDA,
    listSignerFunction: e.LIST_SIGNER_FUNCTION,
    tableName: e.TABLE_NAME,
    auditTableName: e.AUDIT_TABLE_NAME ?? `${e.TABLE_NAME}-audit`,
    batchTableName: e.BATCH_TABLE_NAME ?? `${e.TABLE_NAME}-batches`,
    platformKeyId: e.PLATFORM_KEY_ID,
    platformPreviousKeyIds: e.PLATFORM_PREVIOUS_KEY_IDS,
    platformRsaKeyId: e.PLATFORM_RSA_KEY_ID,
    platformRsaPreviousKeyIds: e.PLATFORM_RSA_PREVIOUS_KEY_IDS,
    auditKeyId: e.AUDIT_KEY_ID,
    auditPreviousKeyIds: e.AUDIT_PREVIOUS_KEY_IDS,
    presentationKeyId: e.PRESENTATION_KEY_ID,
    presentationPreviousKeyIds: e.PRESENTATION_PREVIOUS_KEY_IDS,
    noticeKeyId: e.NOTICE_KEY_ID,
    noticePreviousKeyIds: e.NOTICE_PREVIOUS_KEY_IDS,
    lookupMacKeyId: e.LOOKUP_MAC_KEY_ID,
    piiKeyId: e.PII_KEY_ID,
    webKeyId: e.WEB_KEY_ID,
    interactionKeyId: e.INTERACTION_KEY_ID,
    clientSecretKeyId: e.CLIENT_SECRET_KEY_ID,
    cursorKeyId: e.CURSOR_KEY_ID,
    issuerKeyPolicy: e.ISSUER_KEY_POLICY,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    clientCacheSeconds: e.CLIENT_CACHE_SECONDS,
    webAssetsDir: e.WEB_ASSETS_DIR,
    smsSender: e.SMS_SENDER,
    tencentSms:
      e.SMS_SENDER === 'tencent'
        ? {
            sdkAppId: e.TENCENT_SMS_SDK_APP_ID ?? '',
            signName: e.TENCENT_SMS_SIGN_NAME ?? '',
            templateId: e.TENCENT_SMS_TEMPLATE_ID ?? '',
            ...(e.TENCENT_SMS_NOTICE_TEMPLATE_ID !== undefined && {
              noticeTemplateId: e.TENCENT_SMS_NOTICE_TEMPLATE_ID,
            }),
            ...(e.TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID !== undefined && {
              previousPhoneNoticeTemplateId: e.TENCENT_SMS_PREVIOUS_PHONE_NOTICE_TEMPLATE_ID,
            }),
            region: e.TENCENT_SMS_REGION,
            endpoint: e.TENCENT_SMS_ENDPOINT,
            secretArn: e.TENCENT_SMS_SECRET_ARN ?? '',
          }
        : undefined,
    secretsManagerEndpoint: e.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? e.AWS_ENDPOINT_URL,
    scanLoginSeconds: e.SCAN_LOGIN_SECONDS,
    scanLoginWaitSeconds: e.SCAN_LOGIN_WAIT_SECONDS,
    issuerCacheSeconds: e.ISSUER_CACHE_SECONDS,
    batchKey: { seconds: e.BATCH_KEY_SECONDS, credentials: e.BATCH_KEY_CREDENTIALS },
    batchLimits: {
      maxOpenJobs: e.BATCH_MAX_OPEN_JOBS_PER_ISSUER,
      holdSeconds: e.BATCH_OPEN_JOB_HOLD_SECONDS,
    },
    auditCheckpointIntervalSeconds: e.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
    pendingWorkAgeSeconds: e.PENDING_WORK_AGE_SECONDS,
    auditHolderCommitmentsSince: e.AUDIT_HOLDER_COMMITMENTS_SINCE,
    auditAttributionSince: e.AUDIT_ATTRIBUTION_SINCE,
    supervisionHistoryBefore: e.SUPERVISION_HISTORY_BEFORE,
    snsEndpoint: e.AWS_ENDPOINT_URL_SNS ?? e.AWS_ENDPOINT_URL,
    smsSenderId: e.SMS_SENDER_ID,
    registries:
      e.REGISTRIES === 'http'
        ? {
            kind: 'http',
            population: { url: e.POPULATION_REGISTRY_URL ?? '', token: e.POPULATION_REGISTRY_TOKEN },
            carrier: { url: e.CARRIER_REGISTRY_URL ?? '', token: e.CARRIER_REGISTRY_TOKEN },
            timeoutMs: e.REGISTRY_TIMEOUT_MS,
          }
        : { kind: 'local' },
    logLevel: e.LOG_LEVEL,
    consoleClientSecretSignIn: e.CONSOLE_CLIENT_SECRET_SIGN_IN === 'true',
    platformRegion: e.PLATFORM_REGION,
    notices: {
      retrySeconds: e.NOTICE_RETRY_SECONDS,
      maxAttempts: e.NOTICE_MAX_ATTEMPTS,
      timeoutMs: e.NOTICE_TIMEOUT_MS,
      intervalSeconds: e.NOTICE_INTERVAL_SECONDS,
    },
    peers: {
      staleSeconds: e.PEER_STALE_SECONDS,
      maxAgeSeconds: Math.max(e.PEER_MAX_AGE_SECONDS, e.PEER_STALE_SECONDS),
      fetchTimeoutMs: e.PEER_FETCH_TIMEOUT_MS,
    },
    alertThresholds: {
      scanFailuresWindowSeconds: e.ALERT_SCAN_FAILURES_WINDOW_SECONDS,
      scanFailuresPerLicence: e.ALERT_SCAN_FAILURES_PER_LICENCE,
      scanFailuresPerVerifier: e.ALERT_SCAN_FAILURES_PER_VERIFIER,
      scanFailuresAnonymous: e.ALERT_SCAN_FAILURES_ANONYMOUS,
      bulkStatusWindowSeconds: e.ALERT_BULK_STATUS_WINDOW_SECONDS,
      bulkStatusChanges: e.ALERT_BULK_STATUS_CHANGES,
      bulkStatusChangesPerDay: e.ALERT_BULK_STATUS_CHANGES_PER_DAY,
      issuanceFactor: e.ALERT_ISSUANCE_FACTOR,
      issuanceMinimum: e.ALERT_ISSUANCE_MINIMUM,
      verificationsWindowSeconds: e.ALERT_VERIFICATIONS_WINDOW_SECONDS,
      verificationsPerLicence: e.ALERT_VERIFICATIONS_PER_LICENCE,
      exportWindowSeconds: e.ALERT_EXPORT_WINDOW_SECONDS,
      exportRows: e.ALERT_EXPORT_ROWS,
      exportRowsPerDay: e.ALERT_EXPORT_ROWS_PER_DAY,
      publishPerRulePerHour: e.ALERT_PUBLISH_PER_RULE_PER_HOUR,
    },
    alertPublisher: e.ALERT_PUBLISHER,
    alertTopicArn: e.ALERT_TOPIC_ARN,
  };
}
