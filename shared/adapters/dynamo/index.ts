import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Adapter } from 'oidc-provider';
import type { AuditTrail, LicenceAuditPages } from '../../audit/audit-trail.js';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config.js';
import type { AccessTokenLookup } from '../../http/authenticate.js';
import type { AccountStore } from '../../identity/account-store.js';
import type { EntityStore } from '../../identity/entity-store.js';
import type { LoginAttemptStore } from '../../identity/login-throttle.js';
import type { CarrierStore, RegistryStore } from '../../identity/registry.js';
import type { Mac } from '../../crypto/mac.js';
import type { ScanLoginStore } from '../../identity/scan-login.js';
import type { SpilledInteractionStore } from '../../sso/interaction-cookies.js';
import type { SmsCodeStore } from '../../identity/sms-code-store.js';
import type { SignInRevocation } from '../../identity/sign-in-revocation.js';
import type { IssuerStore } from '../../issuers/issuer-store.js';
import type { IdempotencyStore } from '../../licence/idempotency-store.js';
import type { LicenceStore } from '../../licence/licence-store.js';
import type { StatusListStore } from '../../licence/status-list-store.js';
import type { TrustListStore } from '../../licence/trust-list-store.js';
import type { PeerStore } from '../../issuers/peer-store.js';
import type { BatchStore } from '../../licence/batch-store.js';
import { DynamoBatchStore } from './batch-store.js';
import { DynamoSmsJobQueue } from './sms-job-queue.js';
import type { SmsJobQueue } from '../../identity/sms-jobs.js';
import type { BatchSlotStore } from '../../licence/batch-slots.js';
import { DynamoBatchSlotStore } from './batch-slots.js';
import type { ClientStore } from '../../clients/client-store.js';
import type { UsageRecord } from '../../licence/usage-record.js';
import type { PayloadSealer } from '../../sso/sealed-payloads.js';
import type { ProviderReads } from '../../sso/client-auth-throttle.js';
import { keys } from './keys.js';
import type { SessionRegistry } from '../../web/session-registry.js';
import type { DpopProofLedger } from '../../http/dpop.js';
import { DynamoAccountStore } from './account-store.js';
import { DynamoAuditTrail, DynamoLicenceAuditPages, GroupCommitAuditTrail } from './audit-trail.js';
import type { AuditWriter } from '../../audit/audit-writers.js';
import { DynamoAuditChainStore } from './audit-chain-store.js';
import type { AuditChainStore } from '../../supervision/audit-chain-store.js';
import { coalesceReads } from './coalescing-reads.js';
import { DynamoUsageRecord } from './usage-record.js';
import { DynamoCarrierRegistry } from './carrier-registry.js';
import { createDocumentClient } from './client.js';
import { DynamoClientStore } from './client-store.js';
import { DynamoEntityStore } from './entity-store.js';
import { DynamoIdempotencyStore } from './idempotency-store.js';
import { DynamoIssuerStore } from './issuer-store.js';
import { DynamoLicenceStore } from './licence-store.js';
import { DynamoPendingWork } from './pending-work.js';
import type { PendingWorkIndex } from '../../pending-work/pending-work.js';
import { DynamoLoginAttemptStore } from './login-attempt-store.js';
import {
  createDynamoAdapter,
  findBearerToken,
  readAheadCodeExchange,
  withRequestReads,
} from './oidc-adapter.js';
import { DynamoRegistry } from './registry.js';
import { DynamoScanLoginStore } from './scan-login-store.js';
import { DynamoSpilledInteractionStore } from './spilled-interaction-store.js';
import { DynamoSessionRegistry } from './session-registry.js';
import { DynamoDpopProofLedger } from './dpop-proof-ledger.js';
import { DynamoSmsCodeStore } from './sms-code-store.js';
import { endSignInsOf } from './oidc-adapter.js';
import { DynamoStatusListStore } from './status-list-store.js';
import { DynamoTrustListStore } from './trust-list-store.js';
import { DynamoPeerStore } from './peer-store.js';
import { DynamoNoticeQueue } from './notice-queue.js';
import type { NoticeQueue } from '../../sharing/withdrawal-notices.js';
import { DynamoPasskeyStore } from './passkey-store.js';
import type { PasskeyStore } from '../../identity/passkeys.js';
import type { ClientNames, SharingGrants } from '../../sharing/authorizations.js';
import { DynamoClientNames, DynamoSharingGrants } from './sharing-grants.js';
import type { StatisticsStore } from '../../supervision/statistics.js';
import type { AlertStore } from '../../supervision/alert-rules.js';
import { DynamoStatisticsStore } from './statistics-store.js';
import { DynamoAlertStore } from './alert-store.js';
import type { AuditStream } from '../../supervision/process-events.js';
import { auditEntriesOf } from './stream-records.js';

/*
 * The composition root's way in to the DynamoDB adapters: one connection per container, and one builder
 * per port, each returning the port. The composition names no SDK type and builds no SDK client; each
 * builder is a binding of its own, so a function's bundle holds the adapters it composes and no others.
 */

/**
 * The service's tables as the Dynamo adapters of one container share them: the one document client (one
 * pool of connections), carrying the tables' names: the service table, the audit table that holds the
 * audit trail alone (its stream is what supervision reads, so it carries nothing else), and the batch
 * table that holds bulk issuance jobs alone (its stream is what the batch pipe reads). The composition
 * passes it to the builders below and looks no further; the local launcher (`infra/`) guards and closes
 * the client, and tests arrange data through it.
 */
export type TableConnection = DynamoDBDocumentClient & {
  readonly tableName: string;
  readonly auditTableName: string;
  readonly batchTableName: string;
};

/**
 * Connects to the configured table (AWS by region, or a local endpoint). Makes no network call: the client
 * connects on first use.
 *
 * @example
 * ```ts
 * const table = connectTable(loadConfig());
 * const licences = dynamoLicenceStore(table);
 * ```
 */
export function connectTable(
  config: Pick<Config, 'region' | 'dynamodbEndpoint' | 'tableName' | 'auditTableName' | 'batchTableName'>,
): TableConnection {
  const client = createDocumentClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  return Object.assign(client, {
    tableName: config.tableName,
    auditTableName: config.auditTableName,
    batchTableName: config.batchTableName,
  });
}

/**
 * {@link connectTable}, with the GetItems issued within one turn of the event loop sent as one
 * BatchGetItem (see `coalesceReads`): for a function whose reads of different stores start together.
 *
 * @example
 * ```ts
 * const table = connectCoalescingTable(loadConfig()); // the role needs dynamodb:BatchGetItem too
 * ```
 */
export function connectCoalescingTable(
  config: Pick<Config, 'region' | 'dynamodbEndpoint' | 'tableName' | 'auditTableName' | 'batchTableName'>,
): TableConnection {
  return coalesceReads(connectTable(config));
}

export const dynamoIssuerStore = (table: TableConnection): IssuerStore =>
  new DynamoIssuerStore(table, table.tableName);
export const dynamoStatusListStore = (table: TableConnection, clock?: Clock): StatusListStore =>
  new DynamoStatusListStore(table, table.tableName, clock);
export const dynamoTrustListStore = (table: TableConnection): TrustListStore =>
  new DynamoTrustListStore(table, table.tableName);
export const dynamoPeerStore = (table: TableConnection): PeerStore =>
  new DynamoPeerStore(table, table.tableName);
/** The withdrawal notices waiting for delivery (shared/sharing/withdrawal-notices.ts). */
export const dynamoNoticeQueue = (table: TableConnection): NoticeQueue =>
  new DynamoNoticeQueue(table, table.tableName);
/** Bulk issuance jobs and their items, in the batch table (the licences they issue are in the service table). */
export const dynamoBatchStore = (table: TableConnection): BatchStore =>
  new DynamoBatchStore(table, table.batchTableName);
/** Requested SMS codes waiting for their sender, in the batch table beside the bulk jobs. */
export const dynamoSmsJobQueue = (table: TableConnection): SmsJobQueue =>
  new DynamoSmsJobQueue(table, table.batchTableName);
/** Each issuer's open bulk jobs (the per-issuer cap), in the batch table beside the jobs. */
export const dynamoBatchSlotStore = (table: TableConnection): BatchSlotStore =>
  new DynamoBatchSlotStore(table, table.batchTableName);
export const dynamoRegistryStore = (table: TableConnection): RegistryStore =>
  new DynamoRegistry(table, table.tableName);
/** The local carrier registry; `mac` (the lookup key) digests the phone numbers it keys by. */
export const dynamoCarrierRegistry = (table: TableConnection, mac: Mac): CarrierStore =>
  new DynamoCarrierRegistry(table, table.tableName, mac);
export const dynamoLicenceStore = (table: TableConnection): LicenceStore =>
  new DynamoLicenceStore(table, table.tableName);
export const dynamoPendingWork = (table: TableConnection): PendingWorkIndex =>
  new DynamoPendingWork(table, table.tableName);
/** Withdrawals' pending work (their audit entries): a partition apart from licences' (`pending-audit#`). */
export const dynamoPendingAudit = (table: TableConnection): PendingWorkIndex =>
  new DynamoPendingWork(table, table.tableName, 'withdrawals');
/**
 * Operators' changes (of issuers, clients, peers: their audit entries): a partition apart from both
 * (`pending-issuer-audit#`).
 */
export const dynamoOperatorAudit = (table: TableConnection): PendingWorkIndex =>
  new DynamoPendingWork(table, table.tableName, 'operators');
/**
 * The accounts function's changes (an account registered, proven in person or closed, an agent appointed
 * or withdrawn: their audit entries): a partition of their own (`pending-account-audit#`).
 */
export const dynamoAccountAudit = (table: TableConnection): PendingWorkIndex =>
  new DynamoPendingWork(table, table.tableName, 'accounts');
/**
 * The OpenID provider's changes (an account taken over or its password reset by a phone code: their audit
 * entries): a partition of their own (`pending-provider-audit#`).
 */
export const dynamoProviderAudit = (table: TableConnection): PendingWorkIndex =>
  new DynamoPendingWork(table, table.tableName, 'provider');
export const dynamoIdempotencyStore = (table: TableConnection, clock: Clock): IdempotencyStore =>
  new DynamoIdempotencyStore(table, table.tableName, clock);
// The audit trail, its chains and checkpoints, and the usage record (the holder's audit entries) are in
// the audit table.
// `clock` dates the chain an entry goes on (never one of a day that has ended).
export const dynamoAuditTrail = (
  table: TableConnection,
  clock: Clock,
  writer?: { name: string } & AuditWriter,
): AuditTrail => new DynamoAuditTrail(table, table.auditTableName, clock, undefined, writer);
/** The audit trail with group commit: concurrent entries in one TransactWriteItems of conditional puts, each awaited until written. */
export const dynamoGroupCommitAuditTrail = (
  table: TableConnection,
  clock: Clock,
  writer?: { name: string } & AuditWriter,
): AuditTrail => new GroupCommitAuditTrail(table, table.auditTableName, clock, undefined, writer);
/** A licence's audit entries a page at a time (what the API answers of them). */
export const dynamoLicenceAuditPages = (table: TableConnection): LicenceAuditPages =>
  new DynamoLicenceAuditPages(table, table.auditTableName);
/** What supervision reads of the audit chains, and its signed checkpoints. */
export const dynamoAuditChainStore = (table: TableConnection): AuditChainStore =>
  new DynamoAuditChainStore(table, table.auditTableName);
export const dynamoUsageRecord = (table: TableConnection): UsageRecord =>
  new DynamoUsageRecord(table, table.auditTableName);
export const dynamoAccountStore = (table: TableConnection): AccountStore =>
  new DynamoAccountStore(table, table.tableName);
export const dynamoEntityStore = (table: TableConnection): EntityStore =>
  new DynamoEntityStore(table, table.tableName);
export const dynamoLoginAttemptStore = (table: TableConnection): LoginAttemptStore =>
  new DynamoLoginAttemptStore(table, table.tableName);
export const dynamoPasskeyStore = (table: TableConnection): PasskeyStore =>
  new DynamoPasskeyStore(table, table.tableName);
export const dynamoSessionRegistry = (table: TableConnection): SessionRegistry =>
  new DynamoSessionRegistry(table, table.tableName);
/** The DPoP proofs our API accepted, each marked once (a conditional put), kept for its window. */
export const dynamoDpopProofs = (table: TableConnection): DpopProofLedger =>
  new DynamoDpopProofLedger(table, table.tableName);
export const dynamoScanLoginStore = (table: TableConnection): ScanLoginStore =>
  new DynamoScanLoginStore(table, table.tableName);
/** The sealed states of sign-ins under way too large for their cookies (`interaction-state#<uid>`). */
export const dynamoSpilledInteractionStore = (table: TableConnection): SpilledInteractionStore =>
  new DynamoSpilledInteractionStore(table, table.tableName);
export const dynamoSmsCodeStore = (table: TableConnection): SmsCodeStore =>
  new DynamoSmsCodeStore(table, table.tableName);
/** Ends a person's sign-ins: the provider's sessions and grants of the person, and every token of them. */
export const dynamoSignInRevocation = (table: TableConnection, clock: Clock): SignInRevocation => ({
  endAll: (personId, options) =>
    endSignInsOf({ doc: table, tableName: table.tableName, clock }, personId, options),
});

/** The provider's grants that share licences with platforms (授权用证): listed, found, withdrawn. */
export const dynamoSharingGrants = (table: TableConnection, clock: Clock): SharingGrants =>
  new DynamoSharingGrants({ doc: table, tableName: table.tableName, clock });
/** The registered platforms' names. */
export const dynamoClientNames = (table: TableConnection, clock: Clock): ClientNames =>
  new DynamoClientNames({ doc: table, tableName: table.tableName, clock });

/**
 * The OpenID provider's storage (its `adapter` option, one instance per model). `sealer` seals the models
 * that hold authorization requests; a composition that stores none of them may leave it out.
 */
export const dynamoOidcAdapter = (
  table: TableConnection,
  clock: Clock,
  sealer?: PayloadSealer,
  clientCacheSeconds = 0,
): new (model: string) => Adapter =>
  createDynamoAdapter({
    doc: table,
    tableName: table.tableName,
    clock,
    clientCacheSeconds,
    ...(sealer && { sealer }),
  });

/**
 * Reads made together for one request to the provider ({@link ProviderReads}): the scope, and the code
 * exchange's read ahead (the client-authentication counter, the code, what its value names).
 */
export const dynamoProviderReads = (table: TableConnection, clock: Clock): ProviderReads => {
  const deps = { doc: table, tableName: table.tableName, clock };
  return {
    scope: withRequestReads,
    codeExchange: ({ counter, code, hints }) =>
      readAheadCodeExchange(deps, code, hints, [keys.loginAttempts(counter)]),
  };
};

/** {@link ClientStore} through the provider's storage adapter, so that the provider finds what is saved. */
export const dynamoClientStore = (
  adapter: new (model: string) => Adapter,
  table: TableConnection,
): ClientStore => new DynamoClientStore(adapter, { doc: table, tableName: table.tableName });

/**
 * Bearer tokens of the service's API: found by hash, and only while their client is still registered (the
 * built-in clients, which the provider finds in code, always are), so that deleting a client ends its
 * tokens on their next request without finding them. A token bound to its sign-in session comes with
 * `stillBound`, which reads that session and the token's grant ({@link findBearerToken}): `authenticate`
 * asks it once the token is otherwise accepted.
 *
 * @example
 * ```ts
 * const accessTokens = dynamoAccessTokens(table, systemClock, builtInClientIds);
 * const record = await accessTokens(bearer);
 * ```
 */
export const dynamoAccessTokens =
  (
    table: TableConnection,
    clock: Clock,
    builtInClientIds: readonly string[],
    clientCacheSeconds = 0,
  ): AccessTokenLookup =>
  async (token) => {
    const deps = { doc: table, tableName: table.tableName, clock, clientCacheSeconds };
    const found = await findBearerToken(deps, token, builtInClientIds);
    if (!found) return undefined;
    const { payload, stillBound } = found;
    return {
      ...payload,
      clientId: payload.clientId as string,
      expiresWithSession: payload.expiresWithSession === true,
      ...(stillBound && { stillBound }),
    };
  };
/** The supervision counters (statistics per day, issuer and type). */
export const dynamoStatisticsStore = (table: TableConnection): StatisticsStore =>
  new DynamoStatisticsStore(table, table.tableName);
/** The alert rules' counters and the alerts. */
export const dynamoAlertStore = (table: TableConnection): AlertStore =>
  new DynamoAlertStore(table, table.tableName);
/**
 * The supervision consumer's reading of the audit table's stream: the audit entries of its records
 * (supervision-events); `historyBefore`: see `auditEntriesOf`.
 */
export const dynamoAuditStream = (historyBefore?: string): AuditStream => ({
  entriesOf: (records) => auditEntriesOf(records, { historyBefore }),
});
