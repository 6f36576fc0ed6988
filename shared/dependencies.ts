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
import { AccountsDirectory } from './identity/accounts-directory.js';
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

export function buildDependencies(config: Config, clock: Clock = systemClock): Dependencies {
  logger.setLogLevel(config.logLevel as Parameters<typeof logger.setLogLevel>[0]);
  const kms = createKmsClient({ region: config.region, endpoint: config.kmsEndpoint });
  const doc = createDocumentClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  const adapter = createDynamoAdapter({ doc, tableName: config.tableName, clock });
  const lookupMac = new KmsMac(kms, config.lookupMacKeyId);
  const webMac = new KmsMac(kms, config.webKeyId);
  const clientSecrets = new ClientSecrets(lookupMac, { ids: pageClientIds, mac: webMac });
  const built: Omit<Dependencies, 'directory'> = {
    config,
    clock,
    kms,
    doc,
    adapter,
    platformSigner: new KmsSigner(kms, config.platformKeyId),
    platformPreviousSigners: config.platformPreviousKeyIds.map((keyId) => new KmsSigner(kms, keyId)),
    lookupMac,
    secrets: clientSecrets,
    keys: new KmsKeyManager(kms, config.issuerKeyPolicy),
    signerFor: (keyId) => new KmsSigner(kms, keyId),
    issuers: new DynamoIssuerStore(doc, config.tableName),
    statusLists: new DynamoStatusListStore(doc, config.tableName),
    trustList: new DynamoTrustListStore(doc, config.tableName),
    registry: new DynamoRegistry(doc, config.tableName),
    licences: new DynamoLicenceStore(doc, config.tableName),
    idempotency: new DynamoIdempotencyStore(doc, config.tableName, clock),
    audit: new DynamoAuditTrail(doc, config.tableName),
    clients: new DynamoClientStore(adapter),
    fingerprint: keyedFingerprint(lookupMac, 'idempotency/v1'),
    accessTokens: async (token) => {
      const record = await findAccessToken({ doc, tableName: config.tableName, clock }, token);
      return record?.clientId ? { ...record, clientId: record.clientId } : undefined;
    },
    accounts: new DynamoAccountStore(doc, config.tableName),
    entities: new DynamoEntityStore(doc, config.tableName),
    loginAttempts: new DynamoLoginAttemptStore(doc, config.tableName),
    passwords: new ScryptPasswordHasher(),
    pii: new KmsPiiCipher(kms, config.piiKeyId),
    webAssets: new DirectoryAssets(config.webAssetsDir),
    cookieSealer: new CookieSealer(() => derivedSecret(webMac, 'web-session/v1')),
    webSessions: new DynamoSessionRegistry(doc, config.tableName),
  };
  return { ...built, directory: new AccountsDirectory(built) };
}

let current: Dependencies | undefined;
let provided: (() => Dependencies) | undefined;

/** The container's dependencies: those provided by a launcher, else built from the environment on first use. */
export function dependencies(): Dependencies {
  if (provided) return provided();
  current ??= buildDependencies(loadConfig());
  return current;
}

/**
 * Sets the dependencies handlers will use: one set, or a function choosing the set for each call (the
 * local runtime gives each function a container of its own, as Lambda does, with its own clients and
 * caches). `undefined` forgets them, so that the next use reads the environment again.
 */
export function provideDependencies(deps: Dependencies | (() => Dependencies) | undefined): void {
  provided = typeof deps === 'function' ? deps : deps && (() => deps);
  current = undefined;
}
