import type { KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Adapter } from 'oidc-provider';
import { systemClock, type Clock } from './clock.js';
import { loadConfig, type Config } from './config.js';
import { createKmsClient } from './crypto/kms-client.js';
import { KmsKeyManager } from './crypto/kms-key-manager.js';
import { keyedFingerprint } from './crypto/keyed-fingerprint.js';
import { KmsMac } from './crypto/kms-mac.js';
import { KmsSigner } from './crypto/kms-signer.js';
import type { KeyManager } from './crypto/key-manager.js';
import type { Mac } from './crypto/mac.js';
import type { AccessTokenLookup } from './http/authenticate.js';
import { DynamoAuditTrail } from './audit/dynamo-audit-trail.js';
import type { AuditTrail } from './audit/audit-trail.js';
import type { AccountStore } from './identity/account-store.js';
import { AccountsDirectory, type AccountsDirectoryDependencies } from './identity/accounts-directory.js';
import { DynamoAccountStore } from './identity/dynamo-account-store.js';
import { DynamoEntityStore } from './identity/dynamo-entity-store.js';
import { DynamoLoginAttemptStore } from './identity/dynamo-login-attempt-store.js';
import { DynamoRegistry } from './identity/dynamo-registry.js';
import type { EntityStore } from './identity/entity-store.js';
import { KmsPiiCipher } from './identity/kms-pii-cipher.js';
import type { LoginAttemptStore } from './identity/login-throttle.js';
import type { PasswordHasher } from './identity/password-hasher.js';
import type { PiiCipher } from './identity/pii-cipher.js';
import { ScryptPasswordHasher } from './identity/scrypt-password-hasher.js';
import { DynamoIdempotencyStore } from './licence/dynamo-idempotency-store.js';
import { DynamoLicenceStore } from './licence/dynamo-licence-store.js';
import type { IdempotencyStore } from './licence/idempotency-store.js';
import type { LicenceStore } from './licence/licence-store.js';
import { DynamoIssuerStore } from './issuers/dynamo-issuer-store.js';
import type { IssuerStore } from './issuers/issuer-store.js';
import { DynamoStatusListStore } from './licence/status-list-dynamo-store.js';
import type { StatusListStore } from './licence/status-list-store.js';
import { DynamoTrustListStore } from './licence/trust-list-dynamo-store.js';
import type { TrustListStore } from './licence/trust-list-store.js';
import { logger } from './logger.js';
import { ClientSecrets } from './sso/client-secrets.js';
import type { ClientStore } from './sso/client-store.js';
import { createDynamoAdapter, findAccessToken } from './sso/dynamo-adapter.js';
import type { IdentityDirectory } from './sso/identity-directory.js';
import { DynamoClientStore } from './sso/dynamo-client-store.js';
import { pageClientIds } from './sso/built-in-clients.js';
import { derivedSecret } from './sso/derived-secrets.js';
import { DirectoryAssets, type AssetSource } from './web/assets.js';
import { CookieSealer } from './web/sealed-cookie.js';
import { DynamoSessionRegistry, type SessionRegistry } from './web/session-registry.js';
import { createDocumentClient } from './storage/dynamo-client.js';

/**
 * Everything a function needs, built once per container (cold start) from the configuration. Building
 * makes no network call; clients connect on first use.
 */
export interface Dependencies {
  config: Config;
  clock: Clock;
  kms: KMSClient;
  doc: DynamoDBDocumentClient;
  adapter: new (model: string) => Adapter;
  platformSigner: KmsSigner;
  /** Keys of a platform-key rotation under way: published and trusted, never signing. */
  platformPreviousSigners: KmsSigner[];
  lookupMac: Mac;
  /** MACs with the web key: page cookies and the page clients' secrets. */
  webMac: Mac;
  secrets: ClientSecrets;
  keys: KeyManager;
  signerFor(keyId: string): KmsSigner;
  issuers: IssuerStore;
  statusLists: StatusListStore;
  trustList: TrustListStore;
  registry: DynamoRegistry;
  licences: LicenceStore;
  idempotency: IdempotencyStore;
  audit: AuditTrail;
  clients: ClientStore;
  accessTokens: AccessTokenLookup;
  /** Keyed fingerprints of idempotent request bodies. */
  fingerprint(text: string): Promise<string>;
  /** People's accounts (by ID-number lookup key and by opaque id). */
  accounts: AccountStore;
  /** Entity accounts, agent appointments and the representation index. */
  entities: EntityStore;
  /** Login throttle counters. */
  loginAttempts: LoginAttemptStore;
  passwords: PasswordHasher;
  /** Encrypts recoverable personal data (ID numbers) under the PII key. */
  pii: PiiCipher;
  /** What the OpenID provider asks of the accounts domain (people, passwords, acting rights). */
  directory: IdentityDirectory;
  /** The browser files the pages load. */
  webAssets: AssetSource;
  /** Seals the web pages' session cookies (a key derived from the web key, never stored). */
  cookieSealer: CookieSealer;
  /** Which page sessions are still open (the console's), so that signing out ends every copy. */
  webSessions: SessionRegistry;
}

type Given = 'config' | 'clock';
/** What a factory reads from the container: the dependencies `K`, and always the configuration and clock. */
export type Needs<K extends keyof Dependencies = never> = Pick<Dependencies, K | Given>;
type Buildable = Exclude<keyof Dependencies, Given>;

/*
 * One factory per dependency, each a top-level binding that names exactly what it reads, so that a
 * function's bundle holds the adapters it composes and no others (esbuild drops unused bindings).
 */
export const kms = (c: Needs) => createKmsClient({ region: c.config.region, endpoint: c.config.kmsEndpoint });
export const doc = (c: Needs) =>
  createDocumentClient({ region: c.config.region, endpoint: c.config.dynamodbEndpoint });
export const adapter = (c: Needs<'doc'>) =>
  createDynamoAdapter({ doc: c.doc, tableName: c.config.tableName, clock: c.clock });
export const platformSigner = (c: Needs<'kms'>) => new KmsSigner(c.kms, c.config.platformKeyId);
export const platformPreviousSigners = (c: Needs<'kms'>) =>
  c.config.platformPreviousKeyIds.map((keyId) => new KmsSigner(c.kms, keyId));
export const lookupMac = (c: Needs<'kms'>): Mac => new KmsMac(c.kms, c.config.lookupMacKeyId);
export const webMac = (c: Needs<'kms'>): Mac => new KmsMac(c.kms, c.config.webKeyId);
export const secrets = (c: Needs<'lookupMac' | 'webMac'>) =>
  new ClientSecrets(c.lookupMac, { ids: pageClientIds, mac: c.webMac });
/**
 * The page functions' client secrets: their own clients' only, derived from the web key. They hold no
 * lookup key, so asking for any other client's secret is refused here rather than by KMS.
 */
export const pageClientSecrets = (c: Needs<'webMac'>) =>
  new ClientSecrets(
    {
      mac: () => Promise.reject(new Error('A page function derives only its own clients’ secrets')),
    },
    { ids: pageClientIds, mac: c.webMac },
  );
export const keys = (c: Needs<'kms'>): KeyManager => new KmsKeyManager(c.kms, c.config.issuerKeyPolicy);
export const signerFor =
  (c: Needs<'kms'>) =>
  (keyId: string): KmsSigner =>
    new KmsSigner(c.kms, keyId);
export const issuers = (c: Needs<'doc'>): IssuerStore => new DynamoIssuerStore(c.doc, c.config.tableName);
export const statusLists = (c: Needs<'doc'>): StatusListStore =>
  new DynamoStatusListStore(c.doc, c.config.tableName);
export const trustList = (c: Needs<'doc'>): TrustListStore =>
  new DynamoTrustListStore(c.doc, c.config.tableName);
export const registry = (c: Needs<'doc'>) => new DynamoRegistry(c.doc, c.config.tableName);
export const licences = (c: Needs<'doc'>): LicenceStore => new DynamoLicenceStore(c.doc, c.config.tableName);
export const idempotency = (c: Needs<'doc'>): IdempotencyStore =>
  new DynamoIdempotencyStore(c.doc, c.config.tableName, c.clock);
export const audit = (c: Needs<'doc'>): AuditTrail => new DynamoAuditTrail(c.doc, c.config.tableName);
export const clients = (c: Needs<'adapter'>): ClientStore => new DynamoClientStore(c.adapter);
export const fingerprint = (c: Needs<'lookupMac'>) => keyedFingerprint(c.lookupMac, 'idempotency/v1');
export const accessTokens =
  (c: Needs<'doc'>): AccessTokenLookup =>
  async (token) => {
    const record = await findAccessToken(
      { doc: c.doc, tableName: c.config.tableName, clock: c.clock },
      token,
    );
    return record?.clientId ? { ...record, clientId: record.clientId } : undefined;
  };
export const accounts = (c: Needs<'doc'>): AccountStore => new DynamoAccountStore(c.doc, c.config.tableName);
export const entities = (c: Needs<'doc'>): EntityStore => new DynamoEntityStore(c.doc, c.config.tableName);
export const loginAttempts = (c: Needs<'doc'>): LoginAttemptStore =>
  new DynamoLoginAttemptStore(c.doc, c.config.tableName);
export const passwords = (): PasswordHasher => new ScryptPasswordHasher();
export const pii = (c: Needs<'kms'>): PiiCipher => new KmsPiiCipher(c.kms, c.config.piiKeyId);
export const directory = (c: AccountsDirectoryDependencies): IdentityDirectory => new AccountsDirectory(c);
export const webAssets = (c: Needs): AssetSource => new DirectoryAssets(c.config.webAssetsDir);
export const cookieSealer = (c: Needs<'webMac'>) =>
  new CookieSealer(() => derivedSecret(c.webMac, 'web-session/v1'));
export const webSessions = (c: Needs<'doc'>): SessionRegistry =>
  new DynamoSessionRegistry(c.doc, c.config.tableName);

/** A factory for each of `K`, each able to read every dependency of `K` (so a missing one fails to compile). */
export type Factories<K extends Buildable> = {
  [P in K]: (container: Needs<NoInfer<K>>) => Dependencies[P];
};

/**
 * A container that builds each dependency on first use, once, from its factory. Building makes no network
 * call; clients connect on first use.
 */
export function container<K extends Buildable>(
  config: Config,
  clock: Clock,
  factories: Factories<K>,
): Needs<K> {
  logger.setLogLevel(config.logLevel as Parameters<typeof logger.setLogLevel>[0]);
  const built = { config, clock } as Needs<K>;
  for (const [name, factory] of Object.entries(factories) as Array<[K, Factories<K>[K]]>) {
    Object.defineProperty(built, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = factory(built);
        Object.defineProperty(built, name, { value, enumerable: true });
        return value;
      },
    });
  }
  return built;
}

/** Every dependency: the local runtime's containers, and tests and benchmarks that use them all. */
export function buildDependencies(config: Config, clock: Clock = systemClock): Dependencies {
  return container(config, clock, {
    kms,
    doc,
    adapter,
    platformSigner,
    platformPreviousSigners,
    lookupMac,
    webMac,
    secrets,
    keys,
    signerFor,
    issuers,
    statusLists,
    trustList,
    registry,
    licences,
    idempotency,
    audit,
    clients,
    fingerprint,
    accessTokens,
    accounts,
    entities,
    loginAttempts,
    passwords,
    pii,
    directory,
    webAssets,
    cookieSealer,
    webSessions,
  });
}

/**
 * What a launcher that runs the handlers itself (the local runtime) gives them: the full set it uses as
 * the operator (bootstrap, seeding, tests), whose configuration and clock every function's own
 * composition is then built from, and a hook run once on each such container before its first use.
 */
export interface Launch {
  operator: Dependencies;
  prepare?(container: Partial<Dependencies>): void;
}

let launch: Launch | undefined;
let fromEnvironment: Dependencies | undefined;

/** Every dependency: the launcher's operator set, else one built from the environment. */
export function dependencies(): Dependencies {
  if (launch) return launch.operator;
  fromEnvironment ??= buildDependencies(loadConfig());
  return fromEnvironment;
}

/**
 * A function's own composition: what its handler uses, built once per container (a cold start) from the
 * environment, and only from `factories`, so that the bundle holds nothing else. Under a launcher, it is
 * built from the launcher's configuration instead, once per launch.
 *
 * @example
 * ```ts
 * const dependencies = composition({ doc, kms, licences, audit, accessTokens });
 * export const handler = apiHandler(async (event) => {
 *   const deps = dependencies();
 * });
 * ```
 */
export function composition<K extends Buildable>(factories: Factories<K>): () => Needs<K> {
  const launched = new WeakMap<Launch, Needs<K>>();
  let own: Needs<K> | undefined;
  return () => {
    if (!launch) {
      own ??= container(loadConfig(), systemClock, factories);
      return own;
    }
    let built = launched.get(launch);
    if (!built) {
      built = container(launch.operator.config, launch.operator.clock, factories);
      launch.prepare?.(built);
      launched.set(launch, built);
    }
    return built;
  };
}

/**
 * Hands the handlers a launcher's configuration (see {@link Launch}); `undefined` forgets it, so that the
 * next use reads the environment again.
 */
export function provideDependencies(provided: Launch | undefined): void {
  launch = provided;
  fromEnvironment = undefined;
}
