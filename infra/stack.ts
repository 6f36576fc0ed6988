import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, Validations, type App, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { functionNames, routes, type FunctionName } from '../functions/routes.js';
import { AlarmNotifications } from './constructs/alarm-notifications.js';
import { ServiceApi } from './constructs/http-api.js';
import { IssuerKeyProvisioning } from './constructs/issuer-keys.js';
import { ServiceKeys } from './constructs/keys.js';
import { ServiceFunction } from './constructs/service-function.js';
import { ServiceTable, type TableAccess } from './constructs/table.js';

/** The repository root: function entries and the lock file are found from here. */
const rootDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * What one function is and what its code uses. Environment and permissions are derived from it, so a
 * function gets a variable or a permission only for what it does.
 */
interface FunctionSpec {
  description: string;
  memorySize: number;
  timeout: Duration;
  /** Reads its configuration (`dependencies()`, `shared/config.ts`): gets ISSUER_URL and LOG_LEVEL. */
  config?: true;
  /** Table access, as the adapters it calls use it (gets TABLE_NAME). */
  table?: TableAccess;
  /**
   * Uses the platform key (gets PLATFORM_KEY_ID): `sign` signs with it and publishes its public key;
   * `publicKey` only reads the public key, to verify what it signed.
   */
  platformKey?: 'sign' | 'publicKey';
  /** Computes HMACs with the lookup key (gets LOOKUP_MAC_KEY_ID). */
  lookupMac?: true;
  /** Computes HMACs with the web key (gets WEB_KEY_ID): page sessions and page clients' secrets. */
  webMac?: true;
  /**
   * Uses the PII key (gets PII_KEY_ID): `encrypt` seals ID numbers at registration, `decrypt` opens them
   * for the `id_number` claim. Never both: whoever registers cannot read back, and the reader cannot forge.
   */
  pii?: 'encrypt' | 'decrypt';
  /** Creates issuer keys at onboarding (gets ISSUER_KEY_POLICY), or signs with them. */
  issuerKeys?: 'provision' | 'sign';
  /** Serves the browser assets, built by `infra/web-assets.ts` into its bundle's `web-assets/` folder. */
  webAssets?: true;
  /** Further settings of its own. */
  environment?: Record<string, string>;
}

const item = {
  get: 'dynamodb:GetItem',
  put: 'dynamodb:PutItem',
  update: 'dynamodb:UpdateItem',
  delete: 'dynamodb:DeleteItem',
  batchWrite: 'dynamodb:BatchWriteItem',
} as const;

/**
 * Every function of the route table. A `Record` over its names: a function added there must be described
 * here before the stack compiles. Each entry says what the code does today; keep them in step.
 */
const functionSpecs: Record<FunctionName, FunctionSpec> = {
  health: { description: 'elicence health check', memorySize: 512, timeout: Duration.seconds(3) },
  catalogue: { description: 'elicence licence catalogue', memorySize: 512, timeout: Duration.seconds(5) },
  // The OpenID provider. Its storage adapter (shared/sso/dynamo-adapter.ts) gets, puts, updates (consume),
  // deletes, batch-deletes a grant's tokens, and queries gsi1 (sessions by uid, device codes by user code)
  // and gsi2 (tokens by grant). Its accounts directory (shared/identity/accounts-directory.ts) checks
  // passwords: login-attempt counters (get, conditional put, update to forgive one, delete on success),
  // the account (get; put when rehashing), scrypt; finds people and entity accounts by id (gsi1, then get),
  // and answers who may act for an entity: registry and appointment reads (get), entities by representative,
  // representation hints, licences by holder and issuers by id (gsi1); it creates entity accounts and
  // records representation hints (conditional put). It signs ID tokens with the platform key, derives
  // client secrets, cookie keys and lookup keys with the MAC key, and decrypts ID numbers for the
  // `id_number` claim with the PII key; the page clients' secrets come from the web key. oidc-provider is a heavy import, the cold start calls KMS twice,
  // and every login runs scrypt (N=2^15, r=8: 32 MiB, CPU-bound): more memory buys the CPU for all three.
  oidc: {
    description: 'elicence OpenID provider',
    memorySize: 1024,
    timeout: Duration.seconds(10),
    config: true,
    table: {
      items: [item.get, item.put, item.update, item.delete, item.batchWrite],
      queries: ['gsi1', 'gsi2'],
    },
    platformKey: 'sign',
    lookupMac: true,
    webMac: true,
    pii: 'decrypt',
    environment: { ACCESS_TOKEN_TTL_SECONDS: '600' },
  },
  // Operators' API. Reads access tokens (get), claims, saves and releases issuers and saves or deletes
  // clients (conditional put, delete), finds issuers by id to rotate their keys or withdraw them (gsi1,
  // then get), writes audit entries (conditional put), derives client secrets (MAC) and creates issuer
  // keys. It never signs with the platform key. Onboarding makes several calls in a row and undoes them
  // on failure.
  admin: {
    description: 'elicence operators API',
    memorySize: 512,
    timeout: Duration.seconds(15),
    config: true,
    table: { items: [item.get, item.put, item.delete], queries: ['gsi1'] },
    lookupMac: true,
    issuerKeys: 'provision',
  },
  // Issuing agencies' API. Access tokens, licences, idempotency records, status-list counters and lists,
  // audit entries (get, conditional put, update); issuers by id (gsi1), licences by holder (gsi1) and by
  // issuer (gsi2). Signs credentials with the issuer's key; holder lookup keys with the MAC key.
  licences: {
    description: 'elicence issuing agencies API',
    memorySize: 512,
    timeout: Duration.seconds(10),
    config: true,
    table: { items: [item.get, item.put, item.update], queries: ['gsi1', 'gsi2'] },
    lookupMac: true,
    issuerKeys: 'sign',
  },
  // Status List Tokens: reads the list and its issuer (get, gsi1), signs with the issuer's key when the
  // stored token is stale, and stores the new one (conditional put or update).
  'status-lists': {
    description: 'elicence status lists',
    memorySize: 512,
    timeout: Duration.seconds(5),
    config: true,
    table: { items: [item.get, item.put, item.update], queries: ['gsi1'] },
    issuerKeys: 'sign',
  },
  // The trust list: every issuer (gsi2), signed with the platform key when the stored one is stale, and
  // stored (get, conditional put).
  'trust-list': {
    description: 'elicence trust list',
    memorySize: 512,
    timeout: Duration.seconds(5),
    config: true,
    table: { items: [item.get, item.put], queries: ['gsi2'] },
    platformKey: 'sign',
  },
  // POST /verify (shared/verify/verify-scan.ts): an optional verifier's access token (get), the issuer by
  // id (gsi1, then get) or by credit code (get), the licence's live status (get), one audit entry
  // (conditional put). Signatures are checked locally: issuer keys come from the issuer records, and for
  // presentations the platform key's public key from KMS (GetPublicKey, once per container). It signs
  // nothing, with no key.
  verify: {
    description: 'elicence verification',
    memorySize: 512,
    timeout: Duration.seconds(5),
    config: true,
    table: { items: [item.get, item.put], queries: ['gsi1'] },
    platformKey: 'publicKey',
  },
  // The holder's API (shared/licence/holder-licences.ts): the access token (get), the person and the entity
  // acted for by id (gsi1, then get), whether the person may still act for it (registry, entity account and
  // appointment reads (get); licences by holder, issuers by id, representation hints (gsi1); the entity's
  // lookup key with the MAC key; an entity account or a representation hint recorded (conditional put)),
  // then the licences by holder (gsi1) and their issuers (gsi1, then get). Presentations
  // (POST /me/licences/{id}/presentations, shared/licence/presentation.ts) sign with the platform key.
  me: {
    description: 'elicence holder API',
    memorySize: 512,
    timeout: Duration.seconds(10),
    config: true,
    table: { items: [item.get, item.put], queries: ['gsi1'] },
    lookupMac: true,
    platformKey: 'sign',
  },
  // People's accounts. Registration (shared/identity/register-person.ts): the source's attempt counter (get,
  // conditional put), the ID number's lookup key (MAC),
  // the account and the population registry (get), scrypt, the ID number encrypted with the PII key, the
  // account (conditional put), an audit entry (conditional put). Entities and agents
  // (shared/identity/entities.ts): the access token (get), the person by id (gsi1, then get), who may act
  // for what (as the holder API: get; gsi1 for registry entities by representative, representation hints,
  // appointments by person, licences by holder and issuers by id), an entity's agents (gsi2, then get),
  // entity accounts, hints and appointments written (conditional put; a withdrawal is a versioned put),
  // audit entries (conditional put). scrypt like oidc's logins: the same memory for the same CPU.
  accounts: {
    description: 'elicence accounts and entities',
    memorySize: 1024,
    timeout: Duration.seconds(10),
    config: true,
    table: { items: [item.get, item.put], queries: ['gsi1', 'gsi2'] },
    lookupMac: true,
    pii: 'encrypt',
  },
  // The pages (shared/web). Landing page, verifier page, service worker and assets: no data, no key. The
  // verifier page verifies in the browser from the public trust and status lists.
  web: {
    description: 'elicence pages and browser assets',
    memorySize: 512,
    timeout: Duration.seconds(5),
    config: true,
    webAssets: true,
    environment: { WEB_ASSETS_DIR: '/var/task/web-assets' },
  },
  // The wallet, the demo platform and the issuer console are backends-for-frontends: OAuth clients of the
  // service's own public API over HTTPS, like any platform, with no table or signing permission. Each
  // derives from the web key (never the lookup key) the key sealing its session cookie and, for the wallet
  // and the demo platform, its own client secret.
  wallet: {
    description: 'elicence wallet pages',
    memorySize: 512,
    timeout: Duration.seconds(10),
    config: true,
    webMac: true,
  },
  'demo-platform': {
    description: 'elicence demo relying platform',
    memorySize: 512,
    timeout: Duration.seconds(10),
    config: true,
    webMac: true,
  },
  console: {
    description: 'elicence issuer console',
    memorySize: 512,
    timeout: Duration.seconds(10),
    config: true,
    webMac: true,
    // Its open sessions (shared/web/session-registry.ts): registered at sign-in (conditional put), read on
    // every page (get), deleted at sign-out.
    table: { items: [item.get, item.put, item.delete] },
  },
};

/** The spec of `name`, failing clearly when the route table gained a function this stack does not know. */
function specOf(name: FunctionName): FunctionSpec {
  const spec = functionSpecs[name] as FunctionSpec | undefined;
  if (!spec) throw new Error(`infra/stack.ts: no description of function "${name}" in functionSpecs`);
  return spec;
}

export interface ElicenceStackProps extends StackProps {
  /**
   * The public base URL, when a custom domain fronts the API. Default: the API's own endpoint
   * `https://<api id>.execute-api.<region>.<url suffix>`.
   */
  issuerUrl?: string;
  /** Log level of every function (Powertools and the service's `LOG_LEVEL`). Default `INFO`. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Stage-wide API throttling. Default 200 requests per second, bursts of 400. */
  throttle?: { rateLimit: number; burstLimit: number };
  /** An email address told of every alarm (it must confirm the subscription). */
  alarmEmail?: string;
}

/**
 * The whole service in one stack: its KMS keys, the single DynamoDB table (from `shared/storage/table.ts`),
 * one Lambda function per entry point, and the HTTP API whose routes are the route table
 * (`functions/routes.ts`), each function with only the environment and permissions its code uses.
 *
 * Environment-agnostic: nothing is looked up in an account at synthesis.
 */
export class ElicenceStack extends Stack {
  readonly keys: ServiceKeys;
  readonly data: ServiceTable;
  readonly http: ServiceApi;
  readonly issuerKeys: IssuerKeyProvisioning;
  readonly functions: Record<FunctionName, ServiceFunction>;
  readonly alarmNotifications: AlarmNotifications;

  constructor(scope: Construct, id: string, props: ElicenceStackProps = {}) {
    super(scope, id, props);
    const logLevel = props.logLevel ?? 'INFO';

    this.keys = new ServiceKeys(this, 'Keys');
    this.data = new ServiceTable(this, 'Data', { encryptionKey: this.keys.table });
    this.http = new ServiceApi(this, 'Http', {
      throttle: props.throttle ?? { rateLimit: 200, burstLimit: 400 },
      accessLogRetention: logs.RetentionDays.ONE_YEAR,
    });
    const { keys, data, http } = this;
    // The issuer URL is the API's endpoint attribute: functions depend on the API resource only, while the
    // routes depend on the functions, so there is no cycle (and no custom domain needed to break one).
    const issuerUrl = props.issuerUrl ?? http.endpoint;

    const functions = {} as Record<FunctionName, ServiceFunction>;
    for (const name of functionNames) {
      const spec = specOf(name);
      functions[name] = new ServiceFunction(this, name, {
        name,
        rootDir,
        description: spec.description,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        // Keys are given by ARN, so a function uses exactly the key its permissions name.
        environment: {
          ...(spec.config && { ISSUER_URL: issuerUrl, LOG_LEVEL: logLevel }),
          ...(spec.table && { TABLE_NAME: data.table.tableName }),
          ...(spec.platformKey && { PLATFORM_KEY_ID: keys.platform.keyArn }),
          ...(spec.lookupMac && { LOOKUP_MAC_KEY_ID: keys.lookupMac.keyArn }),
          ...(spec.webMac && { WEB_KEY_ID: keys.web.keyArn }),
          ...(spec.pii && { PII_KEY_ID: keys.pii.keyArn }),
          ...spec.environment,
        },
        logLevel,
        logRetention: logs.RetentionDays.SIX_MONTHS,
        callsKms: Boolean(spec.platformKey || spec.lookupMac || spec.webMac || spec.pii || spec.issuerKeys),
        webAssets: spec.webAssets ?? false,
      });
      const { role } = functions[name];
      if (spec.table) data.grant(role, spec.table);
      if (spec.platformKey === 'sign') keys.allowPlatformSigning(role);
      if (spec.platformKey === 'publicKey') keys.allowPlatformPublicKey(role);
      if (spec.lookupMac) keys.allowLookupMac(role);
      if (spec.webMac) keys.allowWebMac(role);
      if (spec.pii === 'encrypt') keys.allowPiiEncryption(role);
      if (spec.pii === 'decrypt') keys.allowPiiDecryption(role);
    }
    this.functions = functions;

    const withIssuerKeys = (use: FunctionSpec['issuerKeys']) =>
      functionNames.filter((name) => specOf(name).issuerKeys === use).map((name) => functions[name]);
    const [provisioner, ...others] = withIssuerKeys('provision');
    if (!provisioner || others.length > 0) {
      throw new Error('infra/stack.ts: exactly one function must provision issuer keys');
    }
    this.issuerKeys = new IssuerKeyProvisioning(this, 'IssuerKeys', {
      provisioner: provisioner.role,
      signers: withIssuerKeys('sign').map((fn) => fn.role),
    });
    provisioner.function.addEnvironment('ISSUER_KEY_POLICY', this.issuerKeys.keyPolicyJson);
    for (const fn of [provisioner, ...withIssuerKeys('sign')])
      fn.function.node.addDependency(this.issuerKeys);

    http.addRoutes(
      routes,
      Object.fromEntries(functionNames.map((name) => [name, functions[name].function])) as Record<
        FunctionName,
        ServiceFunction['function']
      >,
    );

    this.alarmNotifications = new AlarmNotifications(this, 'Alarms', { email: props.alarmEmail });
    this.alarmNotifications.notifyOn([
      ...http.alarms,
      ...functionNames.flatMap((name) => functions[name].alarms),
    ]);

    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic every alarm notifies (subscribe pagers or chat here)',
      value: this.alarmNotifications.topic.topicArn,
    });
    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the HTTP API', value: http.endpoint });
    new CfnOutput(this, 'IssuerUrl', { description: 'OpenID issuer identifier', value: issuerUrl });
  }
}

/**
 * Runs cdk-nag's AWS Solutions checks at synthesis: any finding not acknowledged (with its reason, next to
 * the construct it concerns) fails the synth.
 */
export function addComplianceChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
