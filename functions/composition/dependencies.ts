import type { RelayedAddresses } from '../../shared/web/kit/relayed-address.js';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Adapter } from 'oidc-provider';
import { systemClock, type Clock } from '../../shared/clock.js';
import { loadConfig, type Config } from '../../shared/config.js';
import type { KmsSigner } from '../../shared/adapters/kms/signer.js';
import type { KeyManager } from '../../shared/crypto/key-manager.js';
import type { Mac } from '../../shared/crypto/mac.js';
import type { AccessTokenLookup } from '../../shared/http/authenticate.js';
import type { AuditTrail } from '../../shared/audit/audit-trail.js';
import type { AccountStore } from '../../shared/identity/account-store.js';
import type { DynamoRegistry } from '../../shared/adapters/dynamo/registry.js';
import type { EntityStore } from '../../shared/identity/entity-store.js';
import type { LoginAttemptStore } from '../../shared/identity/login-throttle.js';
import type { PasswordHasher } from '../../shared/identity/password-hasher.js';
import type { PiiCipher } from '../../shared/identity/pii-cipher.js';
import type { IdempotencyStore } from '../../shared/licence/idempotency-store.js';
import type { LicenceStore } from '../../shared/licence/licence-store.js';
import type { IssuerStore } from '../../shared/issuers/issuer-store.js';
import type { StatusListStore } from '../../shared/licence/status-list-store.js';
import type { TrustListStore } from '../../shared/licence/trust-list-store.js';
import { logger } from '../../shared/logger.js';
import type { ClientSecrets } from '../../shared/sso/client-secrets.js';
import type { ClientStore } from '../../shared/sso/client-store.js';
import type { IdentityDirectory } from '../../shared/identity/identity-directory.js';
import type { AssetSource } from '../../shared/web/assets.js';
import type { CookieSealer } from '../../shared/web/kit/sealed-cookie.js';
import type { SessionRegistry } from '../../shared/adapters/dynamo/session-registry.js';
import * as factories from './factories.js';

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
  /** A visitor's address vouched for by a page function calling the token endpoint for them. */
  relayedAddresses: RelayedAddresses;
}

type Given = 'config' | 'clock';
/** What a factory reads from the container: the dependencies `K`, and always the configuration and clock. */
export type Needs<K extends keyof Dependencies = never> = Pick<Dependencies, K | Given>;
type Buildable = Exclude<keyof Dependencies, Given>;

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

/** Every dependency, each from its factory: for the local runtime's operator, tests and benchmarks. */
export function buildDependencies(config: Config, clock: Clock = systemClock): Dependencies {
  // The page functions' variant of `secrets` is not a dependency of its own.
  const { pageClientSecrets: _pageVariant, ...every } = factories;
  return container(config, clock, every);
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
