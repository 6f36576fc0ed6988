import * as z from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z.url({ protocol: /^https?$/ }).optional();

/**
 * Every setting the service reads from its environment. Defaults are those of the local runtime, so a
 * newcomer needs none of them; the CDK stack sets what differs in AWS.
 */
const schema = z.object({
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
  TABLE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)')
    .default('elicence'),
  PLATFORM_KEY_ID: z.string().min(1).default('alias/elicence-platform'),
  PLATFORM_PREVIOUS_KEY_IDS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    ),
  LOOKUP_MAC_KEY_ID: z.string().min(1).default('alias/elicence-lookup-mac'),
  PII_KEY_ID: z.string().min(1).default('alias/elicence-pii'),
  WEB_KEY_ID: z.string().min(1).default('alias/elicence-web'),
  ISSUER_KEY_POLICY: z.string().optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
  WEB_ASSETS_DIR: z.string().min(1).default('web-assets'),
  // Where text messages go: the outbox file under DATA_DIR (the local runtime). Amazon SNS comes with its adapter.
  SMS_SENDER: z.enum(['outbox']).default('outbox'),
  // How long a scan-to-login code lives (API.md: at most 120 s); tests shorten it to see expiry.
  SCAN_LOGIN_SECONDS: z.coerce.number().int().min(1).max(120).default(120),
  // How long the scan-to-login waiting page holds its request open for the wallet's answer (a long poll);
  // kept under the OpenID function's 10 s timeout.
  SCAN_LOGIN_WAIT_SECONDS: z.coerce.number().int().min(0).max(8).default(6),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL']).default('INFO'),
});

export interface Config {
  readonly port: number;
  readonly dataDir: string;
  /** Public base URL; the OpenID issuer identifier and the audience of our API's access tokens. */
  readonly issuerUrl: string;
  readonly region: string;
  readonly dynamodbEndpoint: string | undefined;
  readonly kmsEndpoint: string | undefined;
  readonly tableName: string;
  readonly platformKeyId: string;
  /**
   * Platform keys that signed before the current one: still published (JWKS) and trusted for what they
   * signed until it has all expired, never used to sign. Empty unless a rotation is under way.
   */
  readonly platformPreviousKeyIds: readonly string[];
  readonly lookupMacKeyId: string;
  /** Symmetric KMS key (`ENCRYPT_DECRYPT`) that encrypts recoverable personal data (ID numbers). */
  readonly piiKeyId: string;
  /**
   * HMAC key (`GENERATE_VERIFY_MAC`) of the web pages: seals their session cookies and derives the secrets
   * of the service's own page clients (wallet, demo platform). Kept apart from the lookup key, from which
   * every other client's secret derives, so a page function cannot mint an operator's or issuer's secret.
   */
  readonly webKeyId: string;
  /** Key policy attached to issuer keys created at onboarding (set by the CDK stack). */
  readonly issuerKeyPolicy: string | undefined;
  readonly accessTokenTtlSeconds: number;
  /** Where the browser assets were built (beside the `web` function's code in Lambda). */
  readonly webAssetsDir: string;
  /** Where text messages go: `outbox`, the file `DATA_DIR/outbox/sms.jsonl`. */
  readonly smsSender: 'outbox';
  /** Seconds a scan-to-login code lives (`SCAN_LOGIN_SECONDS`, 1 to 120, default 120). */
  readonly scanLoginSeconds: number;
  /** Seconds the waiting page waits for the wallet's answer before showing itself again (0 to 8, default 6). */
  readonly scanLoginWaitSeconds: number;
  readonly logLevel: string;
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
  return {
    port: e.PORT,
    dataDir: e.DATA_DIR,
    issuerUrl: (e.ISSUER_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    region: e.AWS_REGION,
    dynamodbEndpoint: e.AWS_ENDPOINT_URL_DYNAMODB ?? e.AWS_ENDPOINT_URL,
    kmsEndpoint: e.AWS_ENDPOINT_URL_KMS ?? e.AWS_ENDPOINT_URL,
    tableName: e.TABLE_NAME,
    platformKeyId: e.PLATFORM_KEY_ID,
    platformPreviousKeyIds: e.PLATFORM_PREVIOUS_KEY_IDS,
    lookupMacKeyId: e.LOOKUP_MAC_KEY_ID,
    piiKeyId: e.PII_KEY_ID,
    webKeyId: e.WEB_KEY_ID,
    issuerKeyPolicy: e.ISSUER_KEY_POLICY,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    webAssetsDir: e.WEB_ASSETS_DIR,
    smsSender: e.SMS_SENDER,
    scanLoginSeconds: e.SCAN_LOGIN_SECONDS,
    scanLoginWaitSeconds: e.SCAN_LOGIN_WAIT_SECONDS,
    logLevel: e.LOG_LEVEL,
  };
}
