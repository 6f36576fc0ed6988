import { RelayedAddresses } from '../../shared/web/kit/relayed-address.js';
import type { AuditTrail } from '../../shared/audit/audit-trail.js';
import { DynamoAuditTrail } from '../../shared/adapters/dynamo/audit-trail.js';
import type { KeyManager } from '../../shared/crypto/key-manager.js';
import { keyedFingerprint } from '../../shared/crypto/keyed-fingerprint.js';
import { createKmsClient } from '../../shared/adapters/kms/client.js';
import { KmsKeyManager } from '../../shared/adapters/kms/key-manager.js';
import { KmsMac } from '../../shared/adapters/kms/mac.js';
import { KmsSigner } from '../../shared/adapters/kms/signer.js';
import type { Mac } from '../../shared/crypto/mac.js';
import type { Needs } from './dependencies.js';
import type { AccessTokenLookup } from '../../shared/http/authenticate.js';
import type { AccountStore } from '../../shared/identity/account-store.js';
import {
  AccountsDirectory,
  type AccountsDirectoryDependencies,
} from '../../shared/identity/accounts-directory.js';
import { DynamoAccountStore } from '../../shared/adapters/dynamo/account-store.js';
import { DynamoEntityStore } from '../../shared/adapters/dynamo/entity-store.js';
import { DynamoLoginAttemptStore } from '../../shared/adapters/dynamo/login-attempt-store.js';
import { DynamoRegistry } from '../../shared/adapters/dynamo/registry.js';
import type { EntityStore } from '../../shared/identity/entity-store.js';
import { KmsPiiCipher } from '../../shared/adapters/kms/pii-cipher.js';
import type { LoginAttemptStore } from '../../shared/identity/login-throttle.js';
import type { PasswordHasher } from '../../shared/identity/password-hasher.js';
import type { PiiCipher } from '../../shared/identity/pii-cipher.js';
import { ScryptPasswordHasher } from '../../shared/adapters/scrypt/password-hasher.js';
import { DynamoIssuerStore } from '../../shared/adapters/dynamo/issuer-store.js';
import type { IssuerStore } from '../../shared/issuers/issuer-store.js';
import { DynamoIdempotencyStore } from '../../shared/adapters/dynamo/idempotency-store.js';
import { DynamoLicenceStore } from '../../shared/adapters/dynamo/licence-store.js';
import type { IdempotencyStore } from '../../shared/licence/idempotency-store.js';
import type { LicenceStore } from '../../shared/licence/licence-store.js';
import { DynamoStatusListStore } from '../../shared/adapters/dynamo/status-list-store.js';
import type { StatusListStore } from '../../shared/licence/status-list-store.js';
import { DynamoTrustListStore } from '../../shared/adapters/dynamo/trust-list-store.js';
import type { TrustListStore } from '../../shared/licence/trust-list-store.js';
import { pageClientIds } from '../../shared/identifiers/client-ids.js';
import { builtInClientIds } from '../../shared/sso/built-in-clients.js';
import { ClientSecrets } from '../../shared/sso/client-secrets.js';
import type { ClientStore } from '../../shared/sso/client-store.js';
import { derivedSecret } from '../../shared/sso/derived-secrets.js';
import {
  clientStillRegistered,
  createDynamoAdapter,
  findAccessToken,
} from '../../shared/adapters/dynamo/oidc-adapter.js';
import { DynamoClientStore } from '../../shared/adapters/dynamo/client-store.js';
import { AesGcmPayloadSealer } from '../../shared/sso/sealed-payloads.js';
import type { IdentityDirectory } from '../../shared/identity/identity-directory.js';
import { createDocumentClient } from '../../shared/adapters/dynamo/client.js';
import { DirectoryAssets, type AssetSource } from '../../shared/web/assets.js';
import { CookieSealer } from '../../shared/web/kit/sealed-cookie.js';
import {
  DynamoSessionRegistry,
  type SessionRegistry,
} from '../../shared/adapters/dynamo/session-registry.js';

/*
 * One factory per dependency (of `Dependencies`, and named after it), each a top-level binding that names
 * exactly what it reads, so that a function's bundle holds the adapters it composes and no others
 * (esbuild drops unused bindings). `buildDependencies` uses them all.
 */
export const kms = (c: Needs) => createKmsClient({ region: c.config.region, endpoint: c.config.kmsEndpoint });
export const doc = (c: Needs) =>
  createDocumentClient({ region: c.config.region, endpoint: c.config.dynamodbEndpoint });
/** The provider's storage; authorization requests are sealed with a key derived from the web key. */
export const adapter = (c: Needs<'doc' | 'webMac'>) =>
  createDynamoAdapter({
    doc: c.doc,
    tableName: c.config.tableName,
    clock: c.clock,
    sealer: new AesGcmPayloadSealer(() => derivedSecret(c.webMac, 'oidc-payload/v1')),
  });
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
/**
 * Bearer tokens of our API: found by hash, and only while their client is still registered, so that
 * deleting a client (an issuer withdrawn) ends its tokens on their next request, without finding them.
 */
export const accessTokens =
  (c: Needs<'doc'>): AccessTokenLookup =>
  async (token) => {
    const deps = { doc: c.doc, tableName: c.config.tableName, clock: c.clock };
    const record = await findAccessToken(deps, token);
    if (!record?.clientId) return undefined;
    const registered =
      builtInClientIds.includes(record.clientId) || (await clientStillRegistered(deps, record.clientId));
    return registered ? { ...record, clientId: record.clientId } : undefined;
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
export const relayedAddresses = (c: Needs<'cookieSealer'>) => new RelayedAddresses(c.cookieSealer, c.clock);
export const webSessions = (c: Needs<'doc'>): SessionRegistry =>
  new DynamoSessionRegistry(c.doc, c.config.tableName);
