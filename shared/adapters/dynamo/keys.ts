import { licenceIdRoot } from '../../../packages/verifier/src/licence-id.js';
import type { ThrottleKind } from '../../identity/login-throttle.js';
import type { ItemKey } from './conditional.js';

/*
 * The single table's keys, spelled once: the adapters build every key they write or query from here, and
 * `functions/grants.ts` builds every IAM `dynamodb:LeadingKeys` pattern from the same constants, so that
 * renaming a prefix changes what is written and what is granted together. The strings are the stored
 * data's contract: changing one orphans every item written under it (`test/unit/adapters/dynamo-keys.test.ts`
 * pins them).
 *
 * Access patterns (`#` separates parts; `gsi1` and `gsi2` are the overloaded indexes of `./table.ts`). The
 * audit trail's rows (`audit#`, `audit-licence#`, `audit-holder#`, `audit-chain#`, `audit-checkpoint*`)
 * are in the audit table (`AUDIT_TABLE_NAME`, same keys and indexes), bulk issuance jobs (`batch#`,
 * `batch-items#`) and SMS code jobs (`sms-job#`) in the batch table (`BATCH_TABLE_NAME`, same keys), every
 * other row in the service table:
 *
 * | pattern                                  | index  | partition key                 | sort key            |
 * | ---------------------------------------- | ------ | ----------------------------- | ------------------- |
 * | OIDC model by id (tokens by id hash)     | table  | `oidc#<Model>#<id>`           | `oidc`              |
 * | access token of either kind, by id hash  | table  | `oidc#Bearer#<sha256>` (the item names its model) | `oidc` |
 * | OIDC Session by id `<uid>.<random>` or by uid | table | `oidc#Session#<uid>`     | `oidc`              |
 * | OIDC interaction resumed once (its mark; the interaction itself is in a cookie) | table | `oidc#InteractionUsed#<uid>` | `oidc` |
 * | OIDC interaction too large for its cookie (TTL, the interaction's expiry): its seal, the cookie pointing at it | table | `interaction-state#<uid>` | `interaction-state` |
 * | OIDC Session of the provider's own id form, by uid | gsi1 | `oidc-uid#<uid>`     | `oidc`              |
 * | OIDC DeviceCode by user code             | gsi1   | `oidc-user-code#<userCode>`   | `oidc`              |
 * | OIDC tokens and codes by grant id        | gsi2   | `oidc-grant#<grantId>`        | `<Model>#<id>`      |
 * | issuer by credit code (uniqueness claim) | table  | `issuer#<creditCode>`         | `issuer`            |
 * | issuer by id                             | gsi1   | `issuer-id#<id>`              | `issuer`            |
 * | all issuers (trust list)                 | gsi2   | `issuers`                     | `<creditCode>`      |
 * | licence by id                            | table  | `licence#<id>`                | `licence`           |
 * | licences of a holder, newest first       | gsi1   | `holder#<lookupKey>`          | `licence#<issuedAt>#<id>` |
 * | licences of an issuer, newest first      | gsi2   | `issuer-licences#<issuerId>`  | `<issuedAt>#<id>`   |
 * | issuance by Idempotency-Key (24 h TTL)   | table  | `idempotency#<issuerId>#<key>`| `idempotency`       |
 * | audit entries of a day (16 shards)       | table  | `audit#<YYYY-MM-DD>#<0-15>`   | `<at>#<random>`     |
 * | audit entries of a licence               | gsi1   | `audit-licence#<licenceId>`   | `<at>#<random>`     |
 * | usage record (用证记录): audit entries of a holder, newest first | gsi2 | `audit-holder#<lookupKey>` | `<at>#<random>` |
 * | usage record of one kind: a holder's entries of one action, newest first (audit table only) | gsi3 | `audit-holder-action#<lookupKey>#<action>` | as gsi2 |
 * | whether every usage entry is in gsi3 (the backfill's mark, one item) | table | `audit-usage-index` | `audit-usage-index` |
 * | chained audit entry (a writer's chain, shard fixed by the writer) | table | `audit#<YYYY-MM-DD>#<0-15>` | `chain#<writer>#<seq, 10 digits>` |
 * | chained audit entries of a licence / a holder | gsi1 / gsi2 | as above              | `<at>#<writer>_<seq, 10 digits>` |
 * | audit chains started on a day (registry) | table  | `audit-chain#<YYYY-MM-DD>`    | `<chain id>`        |
 * | an audit entry written once under its key (a licence change's pending entry; a carried one: a withdrawal's, an operator's or an account's change) | table | `audit-once#<licenceId>#<version>#<index>`, `audit-once#<the carried pointer's id>` (`audit-once#authorization-withdrawn#<grantId>#<withdrawalId>`, …) | `audit-once` |
 * | signed audit checkpoints, newest last    | table  | `audit-checkpoint`            | `<iat>#<random>`    |
 * | a checkpoint's chain heads, in pages     | table  | `audit-checkpoint-heads#<checkpoint id>` | `<page, 5 digits>` |
 * | the on-demand checkpoint limit (one item) | table | `audit-checkpoint-limit`      | `audit-checkpoint-limit` |
 * | status-list serial counter of an issuer  | table  | `status-list-counter#<issuerId>` | `status-list-counter` |
 * | status list (bitmap, revision, token)    | table  | `status-list#<issuerId>.<n>`  | `status-list`       |
 * | signed trust list (cache)                | table  | `trust-list`                  | `trust-list`        |
 * | peer platforms (跨地区互认), all of them  | table  | `peers`                       | `<peer id>`         |
 * | withdrawal notices due, soonest first    | table  | `notices`                     | `<due at ISO>#<id>` |
 * | withdrawal notices given up on (TTL)     | table  | `notices`                     | `abandoned#<id>`    |
 * | registry person by lookup key (HMAC)     | table  | `registry-person#<lookupKey>` | `person`            |
 * | registry entity by credit code           | table  | `registry-entity#<creditCode>`| `entity`            |
 * | registry entities by representative      | gsi1   | `registry-representative#<lookupKey>` | `<creditCode>` |
 * | person account by ID-number lookup key (uniqueness claim) | table | `account#<lookupKey>` | `person`   |
 * | person account by opaque id (the account itself) | table | `account#<id>`        | `account`           |
 * | person account by opaque id (legacy, items not yet moved) | gsi1 | `account-id#<id>` | `person`        |
 * | entity account by credit code (uniqueness claim) | table | `entity-account#<creditCode>` | `entity`     |
 * | entity account by opaque id              | gsi1   | `entity-account-id#<id>`      | `entity`            |
 * | agent appointments of an entity, one per person | table | `entity-agents#<creditCode>` | `person#<lookupKey>` |
 * | agent appointments naming a person       | gsi1   | `agent-person#<lookupKey>`    | `<creditCode>`      |
 * | agent appointments of an entity          | gsi2   | `entity-agents#<creditCode>`  | `<lookupKey>`       |
 * | login throttle counter (TTL)             | table  | `login-attempts#<kind>#<key>`: kind `pair`, `account`, `source`, `registration`, `client` or `appointment` (a representative's lookup key, or `counter-clerk.<clerk reference>` for a counter clerk: counter-proof.ts); addresses as keyed digests | `login-attempts` |
 * | open page session (TTL), by SHA-256 of its id | table | `web-session#<sha256>`   | `web-session`       |
 * | scan-to-login code (TTL), one per sign-in, by SHA-256 of its codes' slot | table | `scan-login#<sha256>` | `scan-login` |
 * | DPoP proof accepted by our API (TTL, its `iat` window), by SHA-256 of its key's thumbprint and `jti` | table | `dpop-proof#<sha256>` | `dpop-proof` |
 * | passkey by credential id                 | table  | `passkey#<credentialId>`      | `passkey`           |
 * | passkeys of an account, oldest first     | gsi1   | `passkeys-of#<accountId>`     | `<createdAt>#<credentialId>` |
 * | passkey ceremony challenge (TTL, single use) | table | `passkey-challenge#<challenge>` | `passkey-challenge` |
 * | pending SMS code (TTL), by keyed digest of purpose, person and phone | table | `sms-code#<digest>` | `sms-code` |
 * | security notices texted to an account in its day (TTL; shared/identity/security-notices.ts) | table | `login-attempts#sms-notice#<accountId>` | `login-attempts` |
 * | tries of one SMS code (TTL, the code's expiry): the code's digest and its own id, or `none` for checks with no code (TTL 5 minutes) | table | `sms-try#<digest>#<code id>`, `sms-try#<digest>#none` | `sms-try` |
 * | request time of the last SMS code used (TTL, that code's expiry), by the code's digest | table | `sms-used#<digest>` | `sms-used` |
 * | SMS code job (TTL, batch table): a requested code waiting for its sender | table | `sms-job#<id>` | `sms-job` |
 * | SMS send limits (TTL), per phone or source digest | table | `login-attempts#sms-send#<phone|source>#<digest>#<interval|day>` | `login-attempts` |
 * | A counter clerk's successes of a China-time day (TTL, two days): accounts found, proofs saved (counter-proof.ts, `counterClerkDailyCaps`) | table | `login-attempts#counter-day#<lookups|proofs>#<clerk reference>#<YYYY-MM-DD>` | `login-attempts` |
 * | SMS code checks a day per person and phone (TTL): codes not accepted per purpose; the digest the code's (purpose, lookup key, phone) | table | `login-attempts#sms-check#<step-up|reset|register|counter>#<code digest>#day` | `login-attempts` |
 * | Wrong guesses at live SMS codes a UTC day per purpose and person, any phone (TTL; the sender texts no new code past the cap) | table | `login-attempts#sms-check#person#<step-up|reset|register|counter>#<lookup key>#<day number>` | `login-attempts` |
 * | OIDC Grant and Session by person (to end them all) | gsi2 | `oidc-account#<personId>` | `<Model>#<id>` |
 * | carrier subscriber by person and phone (local 三要素) | table | `registry-carrier#<lookupKey>#<phoneKey>`: both keyed digests | `subscriber` |
 * | supervision counter of a China-time day, issuer, type and shard (0-7) | table | `stats#<day>#<issuerId>#<type>#<shard>` | `stats` |
 * | supervision counters of a month, by shard | gsi1 | `stats-month#<YYYY-MM>#<shard>` | `<day>#<issuerId>#<type>` |
 * | an audit entry counted into them (30 days from the entry, TTL) | table | `stats-counted#<entry id>` | `stats` |
 * | alert rule counter of a subject and window (TTL) | table | `alert-window#<rule>#<subject>#<window start>` | `alert-window` |
 * | supervision alert, by rule, subject and window (created once) | table | `alert#<rule>#<subject>#<window start>` | `alert` |
 * | supervision alerts of a month (UTC), in time order | gsi1 | `alerts#<YYYY-MM>`    | `<at>#<alert id>`   |
 * | licence with work outstanding (audit entry, status list), by shard (0-7) of its id | table | `pending-work#<shard>` | `<licenceId>` |
 * | audit entry carried until written (a person's withdrawal), by shard (0-7) of its grant's group, apart from licences' (`me` is granted this alone) | table | `pending-audit#<shard>` | `authorization-withdrawn#<grant id asked>#<withdrawal id>` |
 * | audit entry carried until written (an operator's change: of an issuer, a key rotated or withdrawn, the issuer withdrawn; a client changed; a peer registered or removed), by shard (0-7) of its group, apart from both (`admin` is granted this alone) | table | `pending-issuer-audit#<shard>` | `issuer-changed#<issuer id>#<issuer version written>`, `client-changed#<client id>#<change id>`, `peer-changed#<peer id>#registered\|removed` |
 * | audit entry carried until written (the `accounts` function's changes: an account registered, an entity's agent appointed or withdrawn), one shard, apart from every other (`accounts` is granted this alone) | table | `pending-account-audit#0` | `account-registered#<account id>`, `agent-changed#<agent id>#<appointment version written>` |
 */

/** The partition-key prefixes, of the table and of the indexes, each followed by the item's own part. */
export const prefixes = {
  oidc: 'oidc#',
  oidcUid: 'oidc-uid#',
  oidcUserCode: 'oidc-user-code#',
  oidcGrant: 'oidc-grant#',
  issuer: 'issuer#',
  issuerId: 'issuer-id#',
  licence: 'licence#',
  holder: 'holder#',
  issuerLicences: 'issuer-licences#',
  idempotency: 'idempotency#',
  audit: 'audit#',
  auditLicence: 'audit-licence#',
  auditHolder: 'audit-holder#',
  /** A holder's entries of one action (gsi3 of the audit table): `audit-holder-action#<lookupKey>#<action>`. */
  auditHolderAction: 'audit-holder-action#',
  auditChain: 'audit-chain#',
  /**
   * The mark of an audit entry written once under its own key (shared/pending-work/pending-work.ts), in the same
   * transaction as the entry: a second write under the key is refused whole, so never a second entry.
   */
  auditOnce: 'audit-once#',
  /** The heads a checkpoint signs the digest of, in pages (shared/supervision/checkpoints.ts). */
  auditCheckpointHeads: 'audit-checkpoint-heads#',
  statusListCounter: 'status-list-counter#',
  statusList: 'status-list#',
  registryPerson: 'registry-person#',
  registryEntity: 'registry-entity#',
  registryRepresentative: 'registry-representative#',
  account: 'account#',
  accountId: 'account-id#',
  entityAccount: 'entity-account#',
  entityAccountId: 'entity-account-id#',
  entityAgents: 'entity-agents#',
  agentPerson: 'agent-person#',
  loginAttempts: 'login-attempts#',
  webSession: 'web-session#',
  scanLogin: 'scan-login#',
  /**
   * The sealed state of a sign-in under way too large for its cookie (shared/sso/interaction-cookies.ts):
   * outside `oidc#`, so that a grant can name it alone (only the `oidc` function's, for these three calls).
   */
  interactionState: 'interaction-state#',
  /**
   * A DPoP proof our API accepted (shared/http/dpop.ts), kept for its `iat` window so that it is accepted
   * once: written by every function that authenticates access tokens, read by none (a conditional put).
   */
  dpopProof: 'dpop-proof#',
  passkey: 'passkey#',
  passkeysOf: 'passkeys-of#',
  passkeyChallenge: 'passkey-challenge#',
  smsCode: 'sms-code#',
  /**
   * The tries of one SMS code, apart from the code: the request functions count tries here and never
   * write a code (only `sms-codes` does), so no request role can plant a code's hash.
   */
  smsTry: 'sms-try#',
  /**
   * When the last used SMS code of a digest was requested: using a code deletes it, and this keeps a job
   * of an earlier request, run late, from storing a code after it (the request functions write it as they
   * use a code; `sms-codes` only checks it).
   */
  smsUsed: 'sms-used#',
  oidcAccount: 'oidc-account#',
  registryCarrier: 'registry-carrier#',
  statistics: 'stats#',
  statisticsMonth: 'stats-month#',
  /** An audit entry counted into the statistics (its id): a retried batch counts it once. */
  statisticsCounted: 'stats-counted#',
  alertWindow: 'alert-window#',
  alert: 'alert#',
  alertsMonth: 'alerts#',
  // Bulk issuance (shared/licence/batches.ts): a job, and its items in chunks of 100.
  batch: 'batch#',
  batchItems: 'batch-items#',
  // An issuer's unfinished bulk jobs (shared/licence/batch-slots.ts): the per-issuer cap on them.
  batchSlots: 'batch-slots#',
  // A requested SMS code waiting for the `sms-codes` consumer (shared/identity/sms-jobs.ts), batch table.
  smsJob: 'sms-job#',
  // A licence whose change is not yet complete (its audit entry, its status-list entry), by shard
  // (shared/pending-work/pending-work.ts): what the reconciler reads.
  pendingWork: 'pending-work#',
  // A withdrawal's audit entry carried until written, by shard: a partition apart from licences' pointers,
  // so that the person-facing `me`, which puts and finishes these, cannot touch a licence's (review M1).
  pendingAudit: 'pending-audit#',
  // An operator's change (of an issuer, and since of a client or a peer platform: named for its first
  // kind), its audit entry carried until written, by shard: a partition apart from licences' and
  // withdrawals', so that `admin`, which puts and finishes these, touches neither, and `me` can plant no
  // operator's entry here.
  pendingIssuerAudit: 'pending-issuer-audit#',
  // The `accounts` function's changes (an account registered, proven in person or closed, an entity's
  // agent appointed or withdrawn),
  // their audit entries carried until written, in one shard: a partition apart from every other, so that
  // `accounts`, which puts and finishes these, touches no other function's pending work.
  pendingAccountAudit: 'pending-account-audit#',
  // The OpenID provider's changes (an account taken over or its password reset by a phone code), their
  // audit entries carried until written, in one shard: a partition apart from every other, so that `oidc`,
  // which puts and finishes these, touches no other function's pending work, nor they its.
  pendingProviderAudit: 'pending-provider-audit#',
} as const;

/** Partition keys that are whole values: one item (the trust list) or one index partition (every issuer). */
export const fixedPartitions = {
  trustList: 'trust-list',
  issuers: 'issuers',
  auditCheckpoints: 'audit-checkpoint',
  /** The one item that spaces on-demand checkpoints (shared/supervision/checkpoints.ts `claimOnDemand`). */
  auditCheckpointLimit: 'audit-checkpoint-limit',
  /** Every peer platform (few): one partition, read whole by a query. */
  peers: 'peers',
  /**
   * The withdrawal notices waiting for delivery (shared/sharing/withdrawal-notices.ts): few (a person's
   * withdrawal of a share is rare), one partition read by due time.
   */
  notices: 'notices',
  /**
   * The mark the usage-index backfill (scripts/backfill-usage-index.ts) leaves once every usage entry
   * carries its gsi3 key: until it is there, a page of one kind is read from gsi2 and filtered.
   */
  auditUsageIndex: 'audit-usage-index',
} as const;

/** The constant sort keys: each names its item's kind within a partition. */
export const sortKeys = {
  oidc: 'oidc',
  issuer: 'issuer',
  licence: 'licence',
  idempotency: 'idempotency',
  statusListCounter: 'status-list-counter',
  statusList: 'status-list',
  trustList: 'trust-list',
  person: 'person',
  /** The person account itself, under its opaque id (the `person` item is then its ID-number claim). */
  account: 'account',
  entity: 'entity',
  loginAttempts: 'login-attempts',
  webSession: 'web-session',
  scanLogin: 'scan-login',
  interactionState: 'interaction-state',
  dpopProof: 'dpop-proof',
  passkey: 'passkey',
  passkeyChallenge: 'passkey-challenge',
  smsCode: 'sms-code',
  smsTry: 'sms-try',
  smsUsed: 'sms-used',
  subscriber: 'subscriber',
  statistics: 'stats',
  alertWindow: 'alert-window',
  alert: 'alert',
  batch: 'batch',
  batchSlots: 'batch-slots',
  smsJob: 'sms-job',
  auditOnce: 'audit-once',
} as const;

/** Sort-key prefixes: a holder's licences in gsi1 (so `begins_with` skips other items), an entity's agents. */
export const sortPrefixes = {
  holderLicence: 'licence#',
  agent: 'person#',
  /** Chained audit entries within a day's partition (`chain#<writer>#<seq>`). */
  auditChain: 'chain#',
} as const;

/** The primary key of each kind of item. */
export const keys = {
  /** `storedId` is the id as the OIDC adapter stores it (the SHA-256 of a bearer credential). */
  oidc: (model: string, storedId: string): ItemKey => ({
    pk: `${prefixes.oidc}${model}#${storedId}`,
    sk: sortKeys.oidc,
  }),
  issuer: (creditCode: string): ItemKey => ({ pk: `${prefixes.issuer}${creditCode}`, sk: sortKeys.issuer }),
  licence: (id: string): ItemKey => ({ pk: `${prefixes.licence}${id}`, sk: sortKeys.licence }),
  idempotency: (issuerId: string, idempotencyKey: string): ItemKey => ({
    pk: `${prefixes.idempotency}${issuerId}#${idempotencyKey}`,
    sk: sortKeys.idempotency,
  }),
  /** An audit entry at `at` (ISO 8601): partitioned by its day and `shard`, sorted by time. */
  audit: (at: string, shard: number, entryId: string): ItemKey => ({
    pk: `${prefixes.audit}${at.slice(0, 10)}#${shard}`,
    sk: `${at}#${entryId}`,
  }),
  /**
   * An entry of a writer's hash chain (shared/supervision/audit-chain.ts): under its day's partition and
   * the writer's shard, sorted by its position, so that a chain reads in order and its head is the last.
   */
  auditChained: (day: string, shard: number, writer: string, seq: number): ItemKey => ({
    pk: `${prefixes.audit}${day}#${shard}`,
    sk: `${sortPrefixes.auditChain}${writer}#${String(seq).padStart(10, '0')}`,
  }),
  /** A chain started on `day`, registered by its first entry's write so that checkpoints find it. */
  auditChainRegistry: (day: string, chain: string): ItemKey => ({
    pk: `${prefixes.auditChain}${day}`,
    sk: chain,
  }),
  /** The mark that the entry with key `key` (`<licenceId>#<version>#<index>`) is written. */
  auditOnce: (key: string): ItemKey => ({
    pk: `${prefixes.auditOnce}${key}`,
    sk: sortKeys.auditOnce,
  }),
  auditCheckpoint: (iat: string, id: string): ItemKey => ({
    pk: fixedPartitions.auditCheckpoints,
    sk: `${iat}#${id}`,
  }),
  /** The usage-index backfill's mark (one item): every usage entry written before carries its gsi3 key. */
  auditUsageIndex: (): ItemKey => ({
    pk: fixedPartitions.auditUsageIndex,
    sk: fixedPartitions.auditUsageIndex,
  }),
  /** The on-demand checkpoint limit: when the last on-demand checkpoint's interval ends. */
  auditCheckpointLimit: (): ItemKey => ({
    pk: fixedPartitions.auditCheckpointLimit,
    sk: fixedPartitions.auditCheckpointLimit,
  }),
  /** Page `page` (0, 1, …) of the chain heads of checkpoint `id` (`cp_<random>`). */
  auditCheckpointHeads: (id: string, page: number): ItemKey => ({
    pk: `${prefixes.auditCheckpointHeads}${id}`,
    sk: String(page).padStart(5, '0'),
  }),
  statusListCounter: (issuerId: string): ItemKey => ({
    pk: `${prefixes.statusListCounter}${issuerId}`,
    sk: sortKeys.statusListCounter,
  }),
  statusList: (listId: string): ItemKey => ({
    pk: `${prefixes.statusList}${listId}`,
    sk: sortKeys.statusList,
  }),
  trustList: (): ItemKey => ({ pk: fixedPartitions.trustList, sk: sortKeys.trustList }),
  /** A peer platform, with the last good copy of its trust list. */
  peer: (id: string): ItemKey => ({ pk: fixedPartitions.peers, sk: id }),
  /** A withdrawal notice due at `dueAt` (ISO 8601): the partition sorts by when each is due. */
  notice: (dueAt: string, id: string): ItemKey => ({ pk: fixedPartitions.notices, sk: `${dueAt}#${id}` }),
  /** A notice given up on: sorted after every due time (`a` > any digit), so never read as due. */
  abandonedNotice: (id: string): ItemKey => ({ pk: fixedPartitions.notices, sk: `abandoned#${id}` }),
  /** A batch job (bulk issuance): its progress and errors. Its insert starts its processing. */
  batch: (batchId: string): ItemKey => ({ pk: `${prefixes.batch}${batchId}`, sk: sortKeys.batch }),
  /**
   * Chunk `n` of a batch's items, under the hash of the request that wrote it: a second request with the
   * same key but another body never overwrites the chunks of the first.
   */
  batchChunk: (batchId: string, requestHash: string, n: number): ItemKey => ({
    pk: `${prefixes.batchItems}${batchId}`,
    sk: `${requestHash}#${String(n).padStart(4, '0')}`,
  }),
  /** An issuer's unfinished batch jobs, each with when it claimed its slot (the per-issuer cap). */
  batchSlots: (issuerId: string): ItemKey => ({
    pk: `${prefixes.batchSlots}${issuerId}`,
    sk: sortKeys.batchSlots,
  }),
  /** A requested SMS code's job: its insert is what the batch table's stream hands to the SMS pipe. */
  smsJob: (id: string): ItemKey => ({ pk: `${prefixes.smsJob}${id}`, sk: sortKeys.smsJob }),
  registryPerson: (lookupKey: string): ItemKey => ({
    pk: `${prefixes.registryPerson}${lookupKey}`,
    sk: sortKeys.person,
  }),
  registryEntity: (creditCode: string): ItemKey => ({
    pk: `${prefixes.registryEntity}${creditCode}`,
    sk: sortKeys.entity,
  }),
  /** The claim of an ID number (`lookupKey`): the account's id, or, as first stored, the whole account. */
  account: (lookupKey: string): ItemKey => ({ pk: `${prefixes.account}${lookupKey}`, sk: sortKeys.person }),
  /**
   * The person account itself, by its opaque id: one strongly consistent read for the provider's every
   * account lookup. Same prefix as the claim (so the same grants), told apart by the sort key.
   */
  accountById: (id: string): ItemKey => ({ pk: `${prefixes.account}${id}`, sk: sortKeys.account }),
  entityAccount: (creditCode: string): ItemKey => ({
    pk: `${prefixes.entityAccount}${creditCode}`,
    sk: sortKeys.entity,
  }),
  entityAgent: (creditCode: string, personLookupKey: string): ItemKey => ({
    pk: `${prefixes.entityAgents}${creditCode}`,
    sk: `${sortPrefixes.agent}${personLookupKey}`,
  }),
  /** `counter` is the login throttle's own `<kind>#<key>`. */
  loginAttempts: (counter: string): ItemKey => ({
    pk: `${prefixes.loginAttempts}${counter}`,
    sk: sortKeys.loginAttempts,
  }),
  /** `sessionDigest` is the SHA-256 of the session id: the table never holds a usable id. */
  webSession: (sessionDigest: string): ItemKey => ({
    pk: `${prefixes.webSession}${sessionDigest}`,
    sk: sortKeys.webSession,
  }),
  /**
   * `slotDigest` is the SHA-256 of a scan-to-login code's slot (its first 128 bits, naming its sign-in):
   * one item per sign-in, and the table never holds a usable code (the item keeps the code's SHA-256).
   */
  scanLogin: (slotDigest: string): ItemKey => ({
    pk: `${prefixes.scanLogin}${slotDigest}`,
    sk: sortKeys.scanLogin,
  }),
  /** The sealed state of the interaction `uid` (the provider's id of a sign-in under way), spilled. */
  interactionState: (uid: string): ItemKey => ({
    pk: `${prefixes.interactionState}${uid}`,
    sk: sortKeys.interactionState,
  }),
  /** `proofDigest` is the SHA-256 of a DPoP proof's key thumbprint and `jti`: the table holds no proof. */
  dpopProof: (proofDigest: string): ItemKey => ({
    pk: `${prefixes.dpopProof}${proofDigest}`,
    sk: sortKeys.dpopProof,
  }),
  passkey: (credentialId: string): ItemKey => ({
    pk: `${prefixes.passkey}${credentialId}`,
    sk: sortKeys.passkey,
  }),
  passkeyChallenge: (challenge: string): ItemKey => ({
    pk: `${prefixes.passkeyChallenge}${challenge}`,
    sk: sortKeys.passkeyChallenge,
  }),
  /** `codeDigest` is the keyed digest of the code's purpose, person and phone. */
  smsCode: (codeDigest: string): ItemKey => ({
    pk: `${prefixes.smsCode}${codeDigest}`,
    sk: sortKeys.smsCode,
  }),
  /** The tries counter of the code `codeId` (a random id each stored code gets) of `codeDigest`. */
  smsTry: (codeDigest: string, codeId: string): ItemKey => ({
    pk: `${prefixes.smsTry}${codeDigest}#${codeId}`,
    sk: sortKeys.smsTry,
  }),
  /** When the last used code of `codeDigest` was requested. */
  smsUsed: (codeDigest: string): ItemKey => ({
    pk: `${prefixes.smsUsed}${codeDigest}`,
    sk: sortKeys.smsUsed,
  }),
  /** `phoneKey` is the keyed digest of the number (`phoneLookupKey`): the table never holds a phone. */
  registryCarrier: (lookupKey: string, phoneKey: string): ItemKey => ({
    pk: `${prefixes.registryCarrier}${lookupKey}#${phoneKey}`,
    sk: sortKeys.subscriber,
  }),
  /** One shard of the supervision counter of a China-time `day`, an issuer and a licence type. */
  statistics: (day: string, issuerId: string, licenceType: string, shard: number): ItemKey => ({
    pk: `${prefixes.statistics}${day}#${issuerId}#${licenceType}#${shard}`,
    sk: sortKeys.statistics,
  }),
  /** The mark that the audit entry `entryId` is counted (`shared/supervision/process-events.ts` `auditEntryId`). */
  statisticsCounted: (entryId: string): ItemKey => ({
    pk: `${prefixes.statisticsCounted}${entryId}`,
    sk: sortKeys.statistics,
  }),
  /** An alert rule's counter: `counter` is the rule's own `<rule>#<subject>#<window start>`. */
  alertWindow: (counter: string): ItemKey => ({
    pk: `${prefixes.alertWindow}${counter}`,
    sk: sortKeys.alertWindow,
  }),
  /** An alert, by its id (`<rule>#<subject>#<window start>`): one per rule, subject and window. */
  alert: (id: string): ItemKey => ({ pk: `${prefixes.alert}${id}`, sk: sortKeys.alert }),
  /** A licence's pending-work pointer: in shard `shard` of {@link pendingWorkShards}, sorted by its id. */
  pendingWork: (shard: number, id: string): ItemKey => ({
    pk: `${prefixes.pendingWork}${shard}`,
    sk: id,
  }),
  /**
   * A pointer carrying its own audit entry (a withdrawal's): in shard `shard` of {@link pendingWorkShards},
   * sorted by its id (the entry's key, `authorization-withdrawn#<grant>#<withdrawal>`).
   */
  pendingAudit: (shard: number, id: string): ItemKey => ({
    pk: `${prefixes.pendingAudit}${shard}`,
    sk: id,
  }),
  /**
   * A pointer carrying its own audit entry (an operator's change of an issuer): in shard `shard` of
   * {@link pendingWorkShards}, sorted by its id (the entry's key, `issuer-changed#<issuer id>#<version>`).
   */
  pendingIssuerAudit: (shard: number, id: string): ItemKey => ({
    pk: `${prefixes.pendingIssuerAudit}${shard}`,
    sk: id,
  }),
  /**
   * A pointer carrying its own audit entry (an account registered, an entity's agent appointed or
   * withdrawn, an account proven in person or closed: the `accounts` function's changes), in one shard
   * (`0`: they are rare), sorted by its id (`account-registered#<account id>`,
   * `agent-changed#<agent id>#<version>`, `in-person-proof#<account id>#<version>`,
   * `account-closed#<account id>`).
   */
  pendingAccountAudit: (shard: number, id: string): ItemKey => ({
    pk: `${prefixes.pendingAccountAudit}${shard}`,
    sk: id,
  }),
  /**
   * A pointer carrying its own audit entries (an account taken over or its password reset: the `oidc`
   * function's changes), in one shard (`0`: they are rare), sorted by its id
   * (`phone-proof#<account id>#<version>`).
   */
  pendingProviderAudit: (shard: number, id: string): ItemKey => ({
    pk: `${prefixes.pendingProviderAudit}${shard}`,
    sk: id,
  }),
} as const;

/** The index keys (`gsi1pk`/`gsi1sk`, `gsi2pk`/`gsi2sk`, the audit table's `gsi3pk`/`gsi3sk`) the items carry and the queries ask for. */
export const indexKeys = {
  oidcUid: (uid: string) => `${prefixes.oidcUid}${uid}`,
  oidcUserCode: (userCode: string) => `${prefixes.oidcUserCode}${userCode}`,
  oidcGrant: (grantId: string) => `${prefixes.oidcGrant}${grantId}`,
  /** A person's grants and sessions (entity sessions too, by the acting person). */
  oidcAccount: (personId: string) => `${prefixes.oidcAccount}${personId}`,
  /** A grant's token or code within its grant's partition. */
  oidcGrantMember: (model: string, storedId: string) => `${model}#${storedId}`,
  issuerId: (id: string) => `${prefixes.issuerId}${id}`,
  holder: (lookupKey: string) => `${prefixes.holder}${lookupKey}`,
  holderLicence: (issuedAt: string, id: string) => `${sortPrefixes.holderLicence}${issuedAt}#${id}`,
  issuerLicences: (issuerId: string) => `${prefixes.issuerLicences}${issuerId}`,
  issuerLicence: (issuedAt: string, id: string) => `${issuedAt}#${id}`,
  auditLicence: (licenceId: string) => `${prefixes.auditLicence}${licenceId}`,
  /** A holder's usage record: the entries that carry their lookup key (shares, verifications, presentations). */
  auditHolder: (lookupKey: string) => `${prefixes.auditHolder}${lookupKey}`,
  /**
   * A holder's usage entries of one audit action (gsi3 of the audit table, sort key as gsi2's), so that a
   * page of one kind is one query, whatever the number of entries of other kinds.
   */
  auditHolderAction: (lookupKey: string, action: string) =>
    `${prefixes.auditHolderAction}${lookupKey}#${action}`,
  /** The index sort key of a chained entry: time first (the licence's story, the usage record), then its position. */
  auditChainedPosition: (at: string, writer: string, seq: number) =>
    `${at}#${writer}_${String(seq).padStart(10, '0')}`,
  registryRepresentative: (lookupKey: string) => `${prefixes.registryRepresentative}${lookupKey}`,
  accountId: (id: string) => `${prefixes.accountId}${id}`,
  entityAccountId: (id: string) => `${prefixes.entityAccountId}${id}`,
  agentPerson: (personLookupKey: string) => `${prefixes.agentPerson}${personLookupKey}`,
  entityAgents: (creditCode: string) => `${prefixes.entityAgents}${creditCode}`,
  passkeysOf: (accountId: string) => `${prefixes.passkeysOf}${accountId}`,
  passkeyOf: (createdAt: string, credentialId: string) => `${createdAt}#${credentialId}`,
  /** The supervision counters of a month (`YYYY-MM` of their China-time day), one partition per shard. */
  statisticsMonth: (month: string, shard: number) => `${prefixes.statisticsMonth}${month}#${shard}`,
  statisticsOf: (day: string, issuerId: string, licenceType: string) => `${day}#${issuerId}#${licenceType}`,
  /** The alerts raised in a month (`YYYY-MM` of `at`, UTC). */
  alertsMonth: (month: string) => `${prefixes.alertsMonth}${month}`,
  alertOf: (at: string, id: string) => `${at}#${id}`,
} as const;

type Prefixes = typeof prefixes;
type AnyUnder<P extends string> = `${P}*`;

/** IAM `StringLike` over every partition key that starts with `prefix`. */
const anyUnder = <P extends string>(prefix: P): AnyUnder<P> => `${prefix}*`;

/**
 * The IAM `dynamodb:LeadingKeys` patterns (`StringLike`) of the table's partitions, for
 * `functions/grants.ts`: each prefix's pattern matches every item of that kind, the fixed partitions match
 * themselves, and the narrower patterns name one OIDC model or one kind of login-throttle counter.
 *
 * @example
 * ```ts
 * const grant = { GetItem: [leadingKeys.licence, leadingKeys.oidcModel('AccessToken')] };
 * // { GetItem: ['licence#*', 'oidc#AccessToken#*'] }
 * ```
 */
export const leadingKeys = {
  ...(Object.fromEntries(Object.entries(prefixes).map(([name, prefix]) => [name, anyUnder(prefix)])) as {
    [K in keyof Prefixes]: AnyUnder<Prefixes[K]>;
  }),
  trustList: fixedPartitions.trustList,
  auditCheckpoints: fixedPartitions.auditCheckpoints,
  auditCheckpointLimit: fixedPartitions.auditCheckpointLimit,
  auditUsageIndex: fixedPartitions.auditUsageIndex,
  peers: fixedPartitions.peers,
  notices: fixedPartitions.notices,
  /**
   * The day partitions of one audit shard, e.g. `audit#*#3` (every day's `audit#<day>#3`): a writer of the
   * audit trail is granted its own shards alone (shared/audit/audit-writers.ts, review R31 M1).
   */
  auditShard: (shard: number) => `${prefixes.audit}*#${shard}` as const,
  /** One OIDC model's items, e.g. `oidc#AccessToken#*`. */
  oidcModel: <M extends string>(model: M) => anyUnder(`${prefixes.oidc}${model}#` as const),
  /** One kind of login-throttle counter, e.g. `login-attempts#registration#*`. */
  loginAttemptsOf: <K extends ThrottleKind>(kind: K) =>
    anyUnder(`${prefixes.loginAttempts}${kind}#` as const),
  /** The send limits of SMS codes (shared/identity/sms-codes.ts `admitSend`): `login-attempts#sms-send#*`. */
  smsSendLimits: anyUnder(`${prefixes.loginAttempts}sms-send#` as const),
  /**
   * A counter clerk's successes of a day, capped (shared/identity/counter-proof.ts `admitDay`):
   * `login-attempts#counter-day#*`.
   */
  counterClerkDays: anyUnder(`${prefixes.loginAttempts}counter-day#` as const),
  /**
   * The daily ceilings on SMS code checks per person (shared/identity/sms-codes.ts `checkSmsCode`):
   * `login-attempts#sms-check#*`.
   */
  smsCheckLimits: anyUnder(`${prefixes.loginAttempts}sms-check#` as const),
  /**
   * Of those, the person's wrong guesses at live codes (`checkSmsCode` writes them, the sender reads them):
   * `login-attempts#sms-check#person#*`.
   */
  smsPersonChecks: anyUnder(`${prefixes.loginAttempts}sms-check#person#` as const),
  /**
   * The security notices texted to an account in the day from its first (shared/identity/security-notices.ts
   * `securityNoticePolicy`): `login-attempts#sms-notice#<account id>`, and those texted to the phones its
   * changes replaced `login-attempts#sms-notice#previous#<account id>` (an account id starts `acc_`: the
   * two never meet), the `sms-codes` function's alone.
   */
  smsNoticeCounters: anyUnder(`${prefixes.loginAttempts}sms-notice#` as const),
  /**
   * The once-marks of the OpenID provider's own entries alone, a takeover's or a password reset's
   * (`audit-once#phone-proof#*`: the carried pointer's id, `phoneProofAuditPrefix` of
   * shared/pending-work/pending-work.ts, and `<id>#2`), so that the internet-facing `oidc` cannot plant the
   * mark of another function's entry (`audit-once#account-closed#<account>`, …), which would have that
   * entry taken as written and never written (review R26).
   */
  phoneProofOnce: anyUnder(`${prefixes.auditOnce}phone-proof#` as const),
  /**
   * The once-marks of the OpenID provider's other entries, a consent's to share licences
   * (`audit-once#authorization-granted#*`: `grantAuditPrefix` of shared/pending-work/pending-work.ts), for
   * the same reason.
   */
  grantOnce: anyUnder(`${prefixes.auditOnce}authorization-granted#` as const),
  /**
   * The once-marks of a grant's end by the OpenID provider itself (`audit-once#authorization-ended#*`:
   * `grantEndAuditPrefix` of shared/pending-work/pending-work.ts), for the same reason.
   */
  grantEndOnce: anyUnder(`${prefixes.auditOnce}authorization-ended#` as const),
  /**
   * The once-marks of one group of changes that carry their own entries (`audit-once#<group>*`, a group of
   * `carriedGroups` in shared/pending-work/pending-work.ts, e.g. `audit-once#account-closed#*`): each
   * writer is granted the marks of its own changes alone, so that none can plant the mark of another
   * function's entry, which would have that entry taken as written and never written (review R52, as
   * R26 did for `oidc`).
   */
  onceOf: <G extends string>(group: G) => anyUnder(`${prefixes.auditOnce}${group}` as const),
  /**
   * The once-marks of licences' changes (`audit-once#<licence id>#<version>#<n>`): a licence id starts
   * with the service's root (`1.2.156.3005.2.`, shared/identifiers/licence-id.ts), so
   * `audit-once#1.2.156.3005.2.*` names them and no group of another function's (review R52).
   */
  licenceOnce: anyUnder(`${prefixes.auditOnce}${licenceIdRoot}.` as const),
  /**
   * The once-marks of licences' issuance alone (`audit-once#<licence id>#1#0`: the entry of version 1, the
   * one a licence is created at, `pendingAudit` of shared/licence/pending-work.ts), for the `batches`
   * function, which issues and changes no licence: with {@link leadingKeys.licenceOnce} it could plant the
   * mark of a licence's next revocation, which the `licences` function would then take as written (review
   * R57 F1). IAM's `StringLike` takes `*` anywhere; a key ends `#1#0` only for an issuance, as a licence id
   * holds no `#`.
   */
  licenceIssuedOnce: `${prefixes.auditOnce}${licenceIdRoot}.*#1#0` as const,
} as const;
