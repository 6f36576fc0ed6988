import { BatchSigners } from '../../shared/licence/batch-signer.js';
import { PdfSignatureCache } from '../../shared/licence/pdf-signature-cache.js';
import { join } from 'node:path';
import { OutboxSmsSender } from '../../shared/adapters/outbox/sms-outbox.js';
import type { SmsSender } from '../../shared/identity/sms-sender.js';
import { securityNoticeOutbox } from '../../shared/identity/security-notices.js';
import type { CarrierStore, RegistryStore } from '../../shared/identity/registry.js';
import {
  httpCarrierRegistry,
  httpNoticeSender,
  httpPopulationRegistry,
} from '../../shared/adapters/http/index.js';
import { snsAlertPublisher, snsSmsSender } from '../../shared/adapters/sns/index.js';
import { OutboxAlertPublisher } from '../../shared/adapters/outbox/alert-outbox.js';
import type { AlertPublisher } from '../../shared/supervision/alert-rules.js';
import {
  connectCoalescingTable,
  connectTable,
  dynamoAccessTokens,
  dynamoDpopProofs,
  dynamoAccountStore,
  dynamoAuditTrail,
  dynamoAuditChainStore,
  dynamoCarrierRegistry,
  dynamoClientStore,
  dynamoEntityStore,
  dynamoGroupCommitAuditTrail,
  dynamoIdempotencyStore,
  dynamoIssuerStore,
  dynamoLicenceStore,
  dynamoPendingAudit,
  dynamoOperatorAudit,
  dynamoAccountAudit,
  dynamoProviderAudit,
  dynamoPendingWork,
  dynamoLoginAttemptStore,
  dynamoOidcAdapter,
  dynamoProviderReads,
  dynamoPasskeyStore,
  dynamoRegistryStore,
  dynamoScanLoginStore,
  dynamoSpilledInteractionStore,
  dynamoSessionRegistry,
  dynamoSignInRevocation,
  dynamoSharingGrants,
  dynamoClientNames,
  dynamoStatisticsStore,
  dynamoAlertStore,
  dynamoAuditStream,
  dynamoSmsCodeStore,
  dynamoSmsJobQueue,
  dynamoStatusListStore,
  dynamoTrustListStore,
  dynamoPeerStore,
  dynamoNoticeQueue,
  dynamoBatchStore,
  dynamoBatchSlotStore,
  dynamoUsageRecord,
  dynamoLicenceAuditPages,
} from '../../shared/adapters/dynamo/index.js';
import {
  connectKms,
  kmsEnvelopeSealer,
  kmsKeyManager,
  kmsMac,
  kmsPiiCipher,
  kmsSigner,
  kmsRsaSigner,
} from '../../shared/adapters/kms/index.js';
import { connectLambda, lambdaListSigner } from '../../shared/adapters/lambda/index.js';
import { ScryptPasswordHasher } from '../../shared/adapters/scrypt/password-hasher.js';
import type { KeyManager } from '../../shared/crypto/key-manager.js';
import { keyedFingerprint } from '../../shared/crypto/keyed-fingerprint.js';
import {
  trailCursors as trailCursorCodec,
  type TrailCursors,
} from '../../shared/supervision/trail-cursors.js';
import type { Mac } from '../../shared/crypto/mac.js';
import type { Signer } from '../../shared/crypto/signer.js';
import { consoleClientId, pageClientIds } from '../../shared/identifiers/client-ids.js';
import {
  AccountsDirectory,
  type AccountsDirectoryDependencies,
} from '../../shared/identity/accounts-directory.js';
import type { IdentityDirectory } from '../../shared/identity/identity-directory.js';
import type { PasswordHasher } from '../../shared/identity/password-hasher.js';
import { builtInClientIds } from '../../shared/clients/built-in-clients.js';
import { ClientSecrets } from '../../shared/clients/client-secrets.js';
import { derivedSecret, pairwiseSalt } from '../../shared/sso/derived-secrets.js';
import { pairwiseSubjects, sectorOf } from '../../shared/sso/pairwise.js';
import { AesGcmPayloadSealer } from '../../shared/sso/sealed-payloads.js';
import { DirectoryAssets, type AssetSource } from '../../shared/web/assets.js';
import { RelayedAddresses } from '../../shared/web/kit/relayed-address.js';
import { servedOverHttps } from '../../shared/web/kit/cookies.js';
import { parseAccountId } from '../../shared/identifiers/account-id.js';
import { CookieSealer } from '../../shared/web/kit/sealed-cookie.js';
import type { PlatformConsents } from '../../shared/identity/sign-in-revocation.js';
import { withdrawEveryAuthorization } from '../../shared/sharing/authorizations.js';
import type { Needs } from './needs.js';
import { auditWriters, type AuditWriterName } from '../../shared/audit/audit-writers.js';

/*
 * One factory per dependency (of `Dependencies`, and named after it), each a top-level binding that names
 * exactly what it reads, so that a function's bundle holds the adapters it composes and no others
 * (esbuild drops unused bindings). `buildDependencies` uses them all. The adapters are built through their
 * areas' builders (`shared/adapters/*\/index.ts`), which return ports: nothing here names an SDK type.
 */
export const kms = (c: Needs) => connectKms(c.config);
export const doc = (c: Needs) => connectTable(c.config);
/** `doc` whose GetItems issued together go as one BatchGetItem (`POST /verify`: the token and the licence). */
export const coalescingDoc = (c: Needs) => connectCoalescingTable(c.config);
/** The provider's storage; authorization requests are sealed with a key derived from the web key. */
export const adapter = (c: Needs<'doc' | 'webMac'>) =>
  dynamoOidcAdapter(
    c.doc,
    c.clock,
    new AesGcmPayloadSealer(() => derivedSecret(c.webMac, 'oidc-payload/v1')),
    c.config.clientCacheSeconds,
  );
export const platformSigner = (c: Needs<'kms'>) => kmsSigner(c.kms, c.config.platformKeyId);
export const platformPreviousSigners = (c: Needs<'kms'>) =>
  c.config.platformPreviousKeyIds.map((keyId) => kmsSigner(c.kms, keyId));
export const platformRsaSigner = (c: Needs<'kms'>) => kmsRsaSigner(c.kms, c.config.platformRsaKeyId);
export const platformRsaPreviousSigners = (c: Needs<'kms'>) =>
  c.config.platformRsaPreviousKeyIds.map((keyId) => kmsRsaSigner(c.kms, keyId));
export const auditSigner = (c: Needs<'kms'>) => kmsSigner(c.kms, c.config.auditKeyId);
export const auditPreviousSigners = (c: Needs<'kms'>) =>
  c.config.auditPreviousKeyIds.map((keyId) => kmsSigner(c.kms, keyId));
/** Presentations and the holder's printable-licence signatures: never the key ID tokens are signed with. */
export const presentationSigner = (c: Needs<'kms'>) => kmsSigner(c.kms, c.config.presentationKeyId);
export const presentationPreviousSigners = (c: Needs<'kms'>) =>
  c.config.presentationPreviousKeyIds.map((keyId) => kmsSigner(c.kms, keyId));
/** Withdrawal notices (Security Event Tokens): never the key ID tokens are signed with (review R31 L1). */
export const noticeSigner = (c: Needs<'kms'>) => kmsSigner(c.kms, c.config.noticeKeyId);
export const noticePreviousSigners = (c: Needs<'kms'>) =>
  c.config.noticePreviousKeyIds.map((keyId) => kmsSigner(c.kms, keyId));
export const lookupMac = (c: Needs<'kms'>): Mac => kmsMac(c.kms, c.config.lookupMacKeyId);
export const webMac = (c: Needs<'kms'>): Mac => kmsMac(c.kms, c.config.webKeyId);
export const interactionMac = (c: Needs<'kms'>): Mac => kmsMac(c.kms, c.config.interactionKeyId);
/**
 * MACs with the client-secret key: registered clients' secrets, and nothing else. Only the OpenID provider
 * (authenticating clients) and the operators' API (showing a secret once) hold it.
 */
export const clientSecretMac = (c: Needs<'kms'>): Mac => kmsMac(c.kms, c.config.clientSecretKeyId);
/**
 * The audit trail's listings' cursors (`GET /supervision/audit`, `GET /admin/audit`), sealed under a key
 * derived once per container from the cursor key, which only those listings' functions hold.
 */
export const trailCursors = (c: Needs<'kms'>): TrailCursors =>
  trailCursorCodec(kmsMac(c.kms, c.config.cursorKeyId));
/**
 * Every client's secret (the OpenID provider's): registered clients' from the client-secret key, those
 * registered before it from the lookup key (until rotated), the page clients' from the web key.
 */
export const secrets = (c: Needs<'clientSecretMac' | 'lookupMac' | 'webMac'>) =>
  new ClientSecrets({
    clientSecret: c.clientSecretMac,
    lookup: c.lookupMac,
    pageClients: { ids: pageClientIds, mac: c.webMac },
  });
/** A key this function does not hold: the secrets it would derive are refused here rather than by KMS. */
const refused: Mac = {
  mac: () => Promise.reject(new Error('This function does not derive that client’s secret')),
};
/**
 * The operators' API's client secrets: those it registers or rotates, on the client-secret key. It holds
 * no lookup key, so a client registered before that key is rotated rather than shown.
 */
export const registrationSecrets = (c: Needs<'clientSecretMac'>) =>
  new ClientSecrets({ clientSecret: c.clientSecretMac, pageClients: { ids: pageClientIds, mac: refused } });
/**
 * The page functions' client secrets: their own clients' only, derived from the web key. They hold no
 * lookup key, so asking for any other client's secret is refused here rather than by KMS.
 */
export const pageClientSecrets = (c: Needs<'webMac'>) =>
  new ClientSecrets({
    clientSecret: refused,
    lookup: refused,
    pageClients: { ids: pageClientIds, mac: c.webMac },
  });
export const keys = (c: Needs<'kms'>): KeyManager => kmsKeyManager(c.kms, c.config.issuerKeyPolicy);
export const signerFor =
  (c: Needs<'kms'>) =>
  (keyId: string): Signer =>
    kmsSigner(c.kms, keyId);
export const issuers = (c: Needs<'doc'>) => dynamoIssuerStore(c.doc);
export const statusLists = (c: Needs<'doc'>) => dynamoStatusListStore(c.doc, c.clock);
export const trustList = (c: Needs<'doc'>) => dynamoTrustListStore(c.doc);
export const lambda = (c: Needs) => connectLambda(c.config);
export const listSigner = (c: Needs<'lambda'>) => lambdaListSigner(c.lambda, c.config.listSignerFunction);
export const peers = (c: Needs<'doc'>) => dynamoPeerStore(c.doc);
export const batches = (c: Needs<'doc'>) => dynamoBatchStore(c.doc);
/** Each issuer's open bulk jobs: the per-issuer cap (shared/licence/batch-slots.ts). */
export const batchSlots = (c: Needs<'doc'>) => dynamoBatchSlotStore(c.doc);
/** Seals a batch's items (holders' ID numbers among them) while they wait: data keys of the PII key. */
export const batchItemsSealer = (c: Needs<'kms'>) => kmsEnvelopeSealer(c.kms, c.config.piiKeyId);
/**
 * Seals and opens an SMS job's phone and ID number: data keys of the PII key under the `sms-job` context
 * alone (the request functions seal, the `sms-codes` function opens; shared/identity/sms-jobs.ts).
 */
export const smsJobSealer = (c: Needs<'kms'>) => kmsEnvelopeSealer(c.kms, c.config.piiKeyId);
/** Requested SMS codes waiting for the `sms-codes` function, in the batch table. */
export const smsJobs = (c: Needs<'doc'>) => dynamoSmsJobQueue(c.doc);
/**
 * Security notices owed by completed changes (a passkey enrolled, a password reset, …), recorded as jobs of
 * the SMS queue for the `sms-codes` function (shared/identity/security-notices.ts).
 */
export const securityNotices = (c: Needs<'smsJobs'>) =>
  securityNoticeOutbox({ smsJobs: c.smsJobs, clock: c.clock });
/** One per container: the printable licences' signatures, reused while their bytes and key hold. */
export const pdfSignatures = (c: Needs) => new PdfSignatureCache(c.clock);
export const batchSigners = (c: Needs<'issuers' | 'signerFor'>) =>
  new BatchSigners({
    issuers: c.issuers,
    signerFor: c.signerFor,
    clock: c.clock,
    issuerUrl: c.config.issuerUrl,
    limits: c.config.batchKey,
  });
/**
 * The registries the seed fills, in the table; with `REGISTRIES=http`, people are found through the
 * population service (entities and the seed's writes stay on the table, which nothing then reads for people).
 */
export const registry = (c: Needs<'doc'>): RegistryStore => {
  const local = dynamoRegistryStore(c.doc);
  const registries = c.config.registries;
  if (registries.kind === 'local') return local;
  const population = httpPopulationRegistry(registries.population, registries.timeoutMs);
  return {
    findPerson: (lookupKey, idNumber) => population.findPerson(lookupKey, idNumber),
    findEntity: (creditCode) => local.findEntity(creditCode),
    entitiesRepresentedBy: (lookupKey) => local.entitiesRepresentedBy(lookupKey),
    putPerson: (person) => local.putPerson(person),
    putEntity: (entity, expected) => local.putEntity(entity, expected),
    changeRepresentative: (from, to, trace) => local.changeRepresentative(from, to, trace),
  };
};
/**
 * The carriers' check: the table the seed fills (phones keyed by the lookup MAC), or with
 * `REGISTRIES=http` the carrier service (the seed's writes then stay on the table, which nothing reads).
 */
export const carrier = (c: Needs<'doc' | 'lookupMac'>): CarrierStore => {
  const local = dynamoCarrierRegistry(c.doc, c.lookupMac);
  const registries = c.config.registries;
  if (registries.kind === 'local') return local;
  const service = httpCarrierRegistry(registries.carrier, registries.timeoutMs);
  return {
    confirms: (query) => service.confirms(query),
    putSubscriber: (subscriber) => local.putSubscriber(subscriber),
  };
};
export const licences = (c: Needs<'doc'>) => dynamoLicenceStore(c.doc);
/** Pointers to work licences' changes left to finish (shared/pending-work/pending-work.ts). */
export const pendingWork = (c: Needs<'doc'>) => dynamoPendingWork(c.doc);
/**
 * Withdrawals' audit entries saved until written, apart from licences' pointers, so that `me` is granted
 * these alone (review M1).
 */
export const pendingAudit = (c: Needs<'doc'>) => dynamoPendingAudit(c.doc);
/**
 * Operators' changes (of issuers, clients, peers), their audit entries saved until written: a partition apart from both
 * above, so that `admin` is granted these alone, and no other function can plant an operator's entry.
 */
export const operatorAudit = (c: Needs<'doc'>) => dynamoOperatorAudit(c.doc);
/**
 * The accounts function's changes (an account registered, proven in person or closed, an entity's agent
 * appointed or withdrawn), their audit entries saved until written: a partition of their own, so that
 * `accounts` is granted these alone.
 */
export const accountAudit = (c: Needs<'doc'>) => dynamoAccountAudit(c.doc);
/**
 * The OpenID provider's changes (an account taken over or its password reset by a phone code), their
 * audit entries saved until written: a partition of their own, so that `oidc` is granted these alone.
 */
export const providerAudit = (c: Needs<'doc'>) => dynamoProviderAudit(c.doc);
export const idempotency = (c: Needs<'doc'>) => dynamoIdempotencyStore(c.doc, c.clock);
export const audit = (c: Needs<'doc'>) => dynamoAuditTrail(c.doc, c.clock);
/**
 * The audit trail of the function `name`: its chains in its own shards, its actions alone
 * (shared/audit/audit-writers.ts, R31 M1). Each function writing the trail composes this, never `audit`
 * (the operator's, any shard).
 */
export const auditOf = (name: AuditWriterName) => (c: Needs<'doc'>) =>
  dynamoAuditTrail(c.doc, c.clock, { name, ...auditWriters[name] });
/** {@link auditOf} with group commit (`verify`, `licences`): concurrent entries written together, each awaited. */
export const groupCommitAuditOf = (name: AuditWriterName) => (c: Needs<'doc'>) =>
  dynamoGroupCommitAuditTrail(c.doc, c.clock, { name, ...auditWriters[name] });
export const clients = (c: Needs<'adapter' | 'doc'>) => dynamoClientStore(c.adapter, c.doc);
export const usage = (c: Needs<'doc'>) => dynamoUsageRecord(c.doc);
export const auditPages = (c: Needs<'doc'>) => dynamoLicenceAuditPages(c.doc);
export const auditChains = (c: Needs<'doc'>) => dynamoAuditChainStore(c.doc);
/**
 * A clerk's reference: the person's pairwise subject at the issuer console, computed as the provider
 * computes it (the same salt, derived from the lookup key once per container), so that the API's audit
 * entries and the console's (the `act.sub` of its ID token) name a clerk alike.
 */
export const clerkReference = (c: Needs<'lookupMac'>) => {
  let subjects: Promise<ReturnType<typeof pairwiseSubjects>> | undefined;
  return async (personId: string): Promise<string> => {
    subjects ??= pairwiseSalt(c.lookupMac).then(pairwiseSubjects);
    subjects.catch(() => (subjects = undefined));
    return (await subjects)(personId, sectorOf({ clientId: consoleClientId }));
  };
};
/**
 * The pairwise `sub` a platform knows an account by: as the provider computes it (`shared/sso/provider.ts`
 * `pairwiseIdentifier`), the entity's own when the person acted for one, in the client's sector.
 */
export const platformSubject = (c: Needs<'lookupMac' | 'clientReader'>) => {
  let subjects: Promise<ReturnType<typeof pairwiseSubjects>> | undefined;
  return async (accountId: string, clientId: string): Promise<string> => {
    subjects ??= pairwiseSalt(c.lookupMac).then(pairwiseSubjects);
    subjects.catch(() => (subjects = undefined));
    const subject = parseAccountId(accountId);
    const uri = (await c.clientReader.find(clientId))?.sector_identifier_uri;
    const sector = sectorOf({
      clientId,
      sectorIdentifierUri: uri,
      sectorIdentifier: uri ? new URL(uri).host : undefined,
    });
    return (await subjects)(subject.kind === 'entity' ? subject.entityId : subject.personId, sector);
  };
};
export const notices = (c: Needs<'doc'>) => dynamoNoticeQueue(c.doc);
/** Loopback and plain http only where the issuer itself is (the local runtime's http on localhost). */
export const noticeSender = (c: Needs) =>
  httpNoticeSender({
    allowLoopback: !servedOverHttps(c.config.issuerUrl),
    timeoutMs: c.config.notices.timeoutMs,
  });
/** Clients are stored unsealed: reading them needs the table only, not the web key that seals sessions. */
export const clientReader = (c: Needs<'doc'>) => dynamoClientStore(dynamoOidcAdapter(c.doc, c.clock), c.doc);
export const fingerprint = (c: Needs<'lookupMac'>) => keyedFingerprint(c.lookupMac, 'idempotency/v1');
/**
 * Bearer tokens of our API: found by hash, and only while their client is still registered, so that
 * deleting a client (an issuer withdrawn) ends its tokens on their next request, without finding them.
 */
export const accessTokens = (c: Needs<'doc'>) =>
  dynamoAccessTokens(c.doc, c.clock, builtInClientIds, c.config.clientCacheSeconds);
/**
 * The DPoP proofs our API accepted, each once (shared/http/authenticate.ts): composed by every function
 * that authenticates access tokens, with them.
 */
export const dpopProofs = (c: Needs<'doc'>) => dynamoDpopProofs(c.doc);
export const accounts = (c: Needs<'doc'>) => dynamoAccountStore(c.doc);
export const entities = (c: Needs<'doc'>) => dynamoEntityStore(c.doc);
export const loginAttempts = (c: Needs<'doc'>) => dynamoLoginAttemptStore(c.doc);
export const providerReads = (c: Needs<'doc'>) => dynamoProviderReads(c.doc, c.clock);
export const passwords = (): PasswordHasher => new ScryptPasswordHasher();
export const pii = (c: Needs<'kms'>) => kmsPiiCipher(c.kms, c.config.piiKeyId);
export const directory = (c: AccountsDirectoryDependencies): IdentityDirectory => new AccountsDirectory(c);
export const webAssets = (c: Needs): AssetSource => new DirectoryAssets(c.config.webAssetsDir);
/**
 * A sender built on its first message: its module (and the Secrets Manager client it brings) is a chunk of
 * its own, out of what every cold start of the sign-in functions reads (docs/benchmarks.md, "Cold start").
 */
function onFirstSend(build: () => Promise<SmsSender>): SmsSender {
  let sender: Promise<SmsSender> | undefined;
  return {
    send: async (message) => {
      sender ??= build();
      return (await sender).send(message);
    },
  };
}

/**
 * Text messages: the outbox file (`SMS_SENDER=outbox`, locally), Amazon SNS (`sns`) or, in the AWS China
 * regions, Tencent Cloud SMS (`tencent`); the stack sets one of the last two (its `smsProvider`).
 */
export const sms = (c: Needs): SmsSender =>
  c.config.smsSender === 'sns'
    ? snsSmsSender(c.config)
    : c.config.smsSender === 'tencent'
      ? onFirstSend(() =>
          import('../../shared/adapters/tencent/index.js').then((tencent) =>
            tencent.tencentSmsSender(c.config, c.clock),
          ),
        )
      : new OutboxSmsSender(join(c.config.dataDir, 'outbox', 'sms.jsonl'), c.clock);
export const cookieSealer = (c: Needs<'webMac'>) =>
  new CookieSealer(() => derivedSecret(c.webMac, 'web-session/v1'));
export const relayedAddresses = (c: Needs<'cookieSealer'>) => new RelayedAddresses(c.cookieSealer, c.clock);
export const webSessions = (c: Needs<'doc'>) => dynamoSessionRegistry(c.doc);
export const scanLogins = (c: Needs<'doc'>) => dynamoScanLoginStore(c.doc);
export const spilledInteractions = (c: Needs<'doc'>) => dynamoSpilledInteractionStore(c.doc);
export const passkeys = (c: Needs<'doc'>) => dynamoPasskeyStore(c.doc);
export const smsCodes = (c: Needs<'doc'>) => dynamoSmsCodeStore(c.doc);
export const signIns = (c: Needs<'doc'>) => dynamoSignInRevocation(c.doc, c.clock);
export const sharingGrants = (c: Needs<'doc'>) => dynamoSharingGrants(c.doc, c.clock);
/** Every consent of a person to platforms withdrawn as the person would, each platform told (notices). */
export const platformConsents = (
  c: Needs<'sharingGrants' | 'clientReader' | 'platformSubject'>,
): PlatformConsents => ({
  withdrawAll: (personId, acting, options) =>
    withdrawEveryAuthorization(
      personId,
      {
        sharingGrants: c.sharingGrants,
        clientReader: c.clientReader,
        subjectAt: c.platformSubject,
        clock: c.clock,
      },
      acting,
      options,
    ),
});
export const clientNames = (c: Needs<'doc'>) => dynamoClientNames(c.doc, c.clock);
export const statistics = (c: Needs<'doc'>) => dynamoStatisticsStore(c.doc);
export const alerts = (c: Needs<'doc'>) => dynamoAlertStore(c.doc);
/** Alerts: the outbox file (`ALERT_PUBLISHER=outbox`, locally) or the alarm topic (`sns`, the stack). */
export const alertPublisher = (c: Needs): AlertPublisher =>
  c.config.alertPublisher === 'sns' && c.config.alertTopicArn
    ? snsAlertPublisher(c.config, c.config.alertTopicArn)
    : new OutboxAlertPublisher(join(c.config.dataDir, 'outbox', 'alerts.jsonl'));
export const auditStream = (c: Needs) => dynamoAuditStream(c.config.supervisionHistoryBefore);
