import type { BatchSigners } from '../../shared/licence/batch-signer.js';
import type { BatchSlotStore } from '../../shared/licence/batch-slots.js';
import type { BatchStore } from '../../shared/licence/batch-store.js';
import type { Adapter } from 'oidc-provider';
import type { KmsConnection } from '../../shared/adapters/kms/index.js';
import type { LambdaConnection } from '../../shared/adapters/lambda/index.js';
import type { ListSigner } from '../../shared/licence/list-signer.js';
import type { TableConnection } from '../../shared/adapters/dynamo/index.js';
import type { ProviderReads } from '../../shared/sso/client-auth-throttle.js';
import type { AuditTrail, LicenceAuditPages } from '../../shared/audit/audit-trail.js';
import type { TrailCursors } from '../../shared/supervision/trail-cursors.js';
import type { AuditChainStore } from '../../shared/supervision/audit-chain-store.js';
import type { Clock } from '../../shared/clock.js';
import type { Config } from '../../shared/config.js';
import type { EnvelopeSealer } from '../../shared/crypto/envelope-sealer.js';
import type { KeyManager } from '../../shared/crypto/key-manager.js';
import type { Mac } from '../../shared/crypto/mac.js';
import type { KeyObjectSigner, RsaKeyObjectSigner, Signer } from '../../shared/crypto/signer.js';
import type { AccessTokenLookup } from '../../shared/http/authenticate.js';
import type { DpopProofLedger } from '../../shared/http/dpop.js';
import type { AccountStore } from '../../shared/identity/account-store.js';
import type { EntityStore } from '../../shared/identity/entity-store.js';
import type { IdentityDirectory } from '../../shared/identity/identity-directory.js';
import type { LoginAttemptStore } from '../../shared/identity/login-throttle.js';
import type { PasskeyStore } from '../../shared/identity/passkeys.js';
import type { PasswordHasher } from '../../shared/identity/password-hasher.js';
import type { PiiCipher } from '../../shared/identity/pii-cipher.js';
import type { CarrierStore, RegistryStore } from '../../shared/identity/registry.js';
import type { PlatformConsents, SignInRevocation } from '../../shared/identity/sign-in-revocation.js';
import type { SmsCodeStore } from '../../shared/identity/sms-code-store.js';
import type { SmsJobQueue } from '../../shared/identity/sms-jobs.js';
import type { SmsSender } from '../../shared/identity/sms-sender.js';
import type { ScanLoginStore } from '../../shared/identity/scan-login.js';
import type { SpilledInteractionStore } from '../../shared/sso/interaction-cookies.js';
import type { IssuerStore } from '../../shared/issuers/issuer-store.js';
import type { IdempotencyStore } from '../../shared/licence/idempotency-store.js';
import type { LicenceStore } from '../../shared/licence/licence-store.js';
import type { PendingWorkIndex, SecurityNoticeOutbox } from '../../shared/pending-work/pending-work.js';
import type { PdfSignatureCache } from '../../shared/licence/pdf-signature-cache.js';
import type { StatusListStore } from '../../shared/licence/status-list-store.js';
import type { TrustListStore } from '../../shared/licence/trust-list-store.js';
import type { PeerStore } from '../../shared/issuers/peer-store.js';
import type { ClientSecrets } from '../../shared/clients/client-secrets.js';
import type { ClientStore } from '../../shared/clients/client-store.js';
import type { UsageRecord } from '../../shared/licence/usage-record.js';
import type { AssetSource } from '../../shared/web/assets.js';
import type { RelayedAddresses } from '../../shared/web/kit/relayed-address.js';
import type { CookieSealer } from '../../shared/web/kit/sealed-cookie.js';
import type { SessionRegistry } from '../../shared/web/session-registry.js';
import type { ClientNames, SharingGrants } from '../../shared/sharing/authorizations.js';
import type { NoticeQueue, NoticeSender } from '../../shared/sharing/withdrawal-notices.js';
import type { StatisticsStore } from '../../shared/supervision/statistics.js';
import type { AlertPublisher, AlertStore } from '../../shared/supervision/alert-rules.js';
import type { AuditStream } from '../../shared/supervision/process-events.js';

/*
 * The composition's types, apart from the code that builds them: `factories.ts` reads them, and
 * `dependencies.ts` reads them and the factories, so the composition root has no import cycle.
 */

/**
 * The connections a container's adapters share: one client each for the table and for KMS, built on first
 * use. Only the adapters' builders (`shared/adapters/{dynamo,kms}/index.ts`) read them, and outside the
 * functions the local launcher (which guards and closes them) and tests arranging data: no handler or use
 * case does. A function names them in its composition so that its adapters share one client each.
 */
export interface Connections {
  /** The table, through one DynamoDB document client. */
  doc: TableConnection;
  /** KMS, through one client. */
  kms: KmsConnection;
  /** Lambda, for invoking the functions off the public path (the list signer). */
  lambda: LambdaConnection;
}

/**
 * Everything a function needs, built once per container (cold start) from the configuration. Building
 * makes no network call; clients connect on first use. Apart from the {@link Connections}, each is a port.
 */
export interface Dependencies extends Connections {
  config: Config;
  clock: Clock;
  /** The OpenID provider's storage (oidc-provider's own port), one instance per model. */
  adapter: new (model: string) => Adapter;
  platformSigner: KeyObjectSigner;
  /** Keys of a platform-key rotation under way: published and trusted, never signing. */
  platformPreviousSigners: KeyObjectSigner[];
  /** The RSA platform key: RS256 ID tokens only. */
  platformRsaSigner: RsaKeyObjectSigner;
  /** RSA keys of a rotation under way: published, never signing. */
  platformRsaPreviousSigners: RsaKeyObjectSigner[];
  /** The audit-checkpoint key: signs checkpoints, nothing else. */
  auditSigner: KeyObjectSigner;
  /** Every earlier audit key: published for ever, never signing. */
  auditPreviousSigners: KeyObjectSigner[];
  /** The presentation key: presentations and the holder's printable-licence signatures, never ID tokens. */
  presentationSigner: KeyObjectSigner;
  /** Presentation keys of a rotation under way: published in the trust list and trusted, never signing. */
  presentationPreviousSigners: KeyObjectSigner[];
  /** The notice key: withdrawal notices (Security Event Tokens), never ID tokens. */
  noticeSigner: KeyObjectSigner;
  /** Notice keys of a rotation under way: published in the notices JWKS, never signing. */
  noticePreviousSigners: KeyObjectSigner[];
  lookupMac: Mac;
  /** MACs with the web key: page cookies and the page clients' secrets. */
  webMac: Mac;
  /** MACs with the OpenID provider's own key: the sign-ins under way (their cookies, scan-to-login). */
  interactionMac: Mac;
  /** MACs with the client-secret key: registered clients' secrets only (oidc and admin hold it). */
  clientSecretMac: Mac;
  secrets: ClientSecrets;
  keys: KeyManager;
  signerFor(keyId: string): Signer;
  issuers: IssuerStore;
  statusLists: StatusListStore;
  trustList: TrustListStore;
  /** Signs the trust list and status lists off the public path (the `list-signer` function). */
  listSigner: ListSigner;
  /** Peer platforms (跨地区互认) with the last good copy of their trust lists. */
  peers: PeerStore;
  /**
   * The population and entity registries: the local stand-in, which the seed fills; with
   * `REGISTRIES=http`, people are found through the population service instead (entities stay local).
   */
  registry: RegistryStore;
  /**
   * The carriers' real-name check (三要素核验): the local stand-in the seed fills (its own table items),
   * or the carrier service over HTTP with `REGISTRIES=http` (the seed's writes then stay on the table).
   */
  carrier: CarrierStore;
  licences: LicenceStore;
  pendingWork: PendingWorkIndex;
  /** Withdrawals' audit entries saved until written: a partition apart from licences' pointers. */
  pendingAudit: PendingWorkIndex;
  /** Operators' changes (of issuers, clients, peers), their audit entries saved until written: a partition of their own. */
  operatorAudit: PendingWorkIndex;
  /**
   * The accounts function's changes (an account registered, proven in person or closed, an entity's agent
   * appointed or withdrawn), their audit entries saved until written: a partition of their own.
   */
  accountAudit: PendingWorkIndex;
  /**
   * The OpenID provider's changes (an account taken over or its password reset by a phone code), their
   * audit entries saved until written: a partition of their own.
   */
  providerAudit: PendingWorkIndex;
  idempotency: IdempotencyStore;
  audit: AuditTrail;
  /** A licence's audit entries a page at a time: what the API answers (never the whole trail). */
  auditPages: LicenceAuditPages;
  /** Seals and opens the cursors of the trail's listings (only those the service answered are taken). */
  trailCursors: TrailCursors;
  /** The usage record (用证记录): the audit entries of a holder, newest first. */
  usage: UsageRecord;
  /** The audit trail's chains as supervision reads them, and the signed checkpoints. */
  auditChains: AuditChainStore;
  clients: ClientStore;
  /** The client registry, read only (client names), without the provider's sealing key. */
  clientReader: Pick<ClientStore, 'find'>;
  accessTokens: AccessTokenLookup;
  /** The DPoP proofs our API accepted, each marked once (RFC 9449 replay check). */
  dpopProofs: DpopProofLedger;
  /** Keyed fingerprints of idempotent request bodies. */
  fingerprint(text: string): Promise<string>;
  /** People's accounts (by ID-number lookup key and by opaque id). */
  accounts: AccountStore;
  /** Entity accounts, agent appointments and the representation index. */
  entities: EntityStore;
  /** A clerk's reference: their pairwise subject at the issuer console (shared/licence/issuer-actor.ts). */
  clerkReference(personId: string): Promise<string>;
  /** Login throttle counters. */
  loginAttempts: LoginAttemptStore;
  /** Reads made together for one request to the OpenID provider (the code exchange's, in one round trip). */
  providerReads: ProviderReads;
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
  /** Sends text messages (one-time codes): the outbox file locally, Amazon SNS in AWS. */
  sms: SmsSender;
  /** Scan-to-login codes (扫码登录), stored by the hash of the code. */
  scanLogins: ScanLoginStore;
  /** Sign-ins under way too large for their cookies, sealed (shared/sso/interaction-cookies.ts). */
  spilledInteractions: SpilledInteractionStore;
  /** People's passkeys and the challenges of their WebAuthn ceremonies. */
  passkeys: PasskeyStore;
  /** Pending SMS codes (keyed hashes only). */
  smsCodes: SmsCodeStore;
  /** Requested SMS codes waiting for the `sms-codes` function (shared/identity/sms-jobs.ts). */
  smsJobs: SmsJobQueue;
  /** Seals an SMS job's phone and ID number (the `sms-job` context of the PII key). */
  smsJobSealer: EnvelopeSealer;
  /**
   * Where a completed change's owed security notice is recorded for the `sms-codes` function (a job of the
   * SMS queue: shared/identity/security-notices.ts), before its pointer goes.
   */
  securityNotices: SecurityNoticeOutbox;
  /** Ends every sign-in of a person (the real owner taking an account back). */
  signIns: SignInRevocation;
  /** The provider's grants that share licences with platforms (授权用证). */
  sharingGrants: SharingGrants;
  /** A person's consents to platforms withdrawn, each platform told (closing an account, a takeover). */
  platformConsents: PlatformConsents;
  /** The registered platforms' names. */
  clientNames: ClientNames;
  /** Withdrawal notices waiting for delivery to the platforms (shared/sharing/withdrawal-notices.ts). */
  notices: NoticeQueue;
  /** Posts a notice to a platform's events endpoint, refusing private addresses (SSRF guard). */
  noticeSender: NoticeSender;
  /**
   * The pairwise `sub` a platform knows an account by (the entity's when the person acted for one),
   * computed as the provider computes it: the same salt, derived from the lookup key once per container.
   */
  platformSubject(accountId: string, clientId: string): Promise<string>;
  /** Supervision counters per China-time day, issuer and licence type (电子监察). */
  statistics: StatisticsStore;
  /** The alert rules' window counters and the alerts they raised. */
  alerts: AlertStore;
  /** Announces alerts: the outbox file locally, the stack's SNS alarm topic in AWS. */
  alertPublisher: AlertPublisher;
  /** Reads audit entries out of the table's stream records. */
  auditStream: AuditStream;
  /** Bulk issuance jobs and their items (shared/licence/batches.ts). */
  batches: BatchStore;
  /** Each issuer's open bulk jobs: the per-issuer cap (shared/licence/batch-slots.ts). */
  batchSlots: BatchSlotStore;
  /** Seals a batch's items until they are issued (a data key of the PII key per chunk). */
  batchItemsSealer: EnvelopeSealer;
  /** This container's certified batch keys (shared/licence/batch-signer.ts): one KMS signature per key. */
  batchSigners: BatchSigners;
  /** This container's printable-licence signatures (shared/licence/pdf-signature-cache.ts). */
  pdfSignatures: PdfSignatureCache;
}

type Given = 'config' | 'clock';
/** What a factory reads from the container: the dependencies `K`, and always the configuration and clock. */
export type Needs<K extends keyof Dependencies = never> = Pick<Dependencies, K | Given>;
/** Every dependency a factory builds (the configuration and clock are given). */
export type Buildable = Exclude<keyof Dependencies, Given>;

/** A factory for each of `K`, each able to read every dependency of `K` (so a missing one fails to compile). */
export type Factories<K extends Buildable> = {
  [P in K]: (container: Needs<NoInfer<K>>) => Dependencies[P];
};
