import { leadingKeys as partitions } from '../shared/adapters/dynamo/keys.js';
import { indexAttributes, type Projection } from '../shared/adapters/dynamo/projections.js';
import type { IndexName } from '../shared/adapters/dynamo/table.js';
import type { FunctionName } from './routes.js';
import { auditWriters, type AuditWriterName } from '../shared/audit/audit-writers.js';
import { carriedGroups } from '../shared/pending-work/pending-work.js';

/**
 * The item-level DynamoDB actions a function may be granted (the document client's commands). A
 * TransactWriteItems needs no action of its own: IAM checks each of its operations as `PutItem`,
 * `UpdateItem`, `DeleteItem` or `ConditionCheckItem` on that operation's key.
 */
export type ItemAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem';

/**
 * `Query` on an index for some attribute names only: IAM `dynamodb:Attributes` (every name the request
 * names must be one of these) with `dynamodb:Select` `SPECIFIC_ATTRIBUTES` (`infra/constructs/table.ts`).
 * The index's partitions are not bounded (see {@link TableGrant.queries}); these names are, so that a
 * function reachable without a token cannot read a licence's holder or credential, or a session's payload,
 * through an overloaded index. Built with {@link restricted} from `shared/adapters/dynamo/projections.ts`,
 * whose lists the adapters send as their `ProjectionExpression`.
 */
export interface RestrictedQuery {
  index: IndexName;
  /** The table's and the index's keys and the projection's attributes ({@link indexAttributes}). */
  attributes: readonly string[];
}

/** An index a function queries: every attribute it projects (the name alone), or some ({@link RestrictedQuery}). */
export type IndexQuery = IndexName | RestrictedQuery;

/**
 * `Query` on `index` for the attributes of `projections` only (their union, and the keys).
 *
 * @example
 * ```ts
 * queries: [restricted('gsi1', 'issuerById')] // { index: 'gsi1', attributes: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'creditCode'] }
 * ```
 */
export function restricted(index: IndexName, ...projections: Projection[]): RestrictedQuery {
  return {
    index,
    attributes: [...new Set(projections.flatMap((projection) => indexAttributes(index, projection)))],
  };
}

/** The index an {@link IndexQuery} is on. */
export const indexOf = (query: IndexQuery): IndexName => (typeof query === 'string' ? query : query.index);

export interface TableGrant {
  /**
   * Per action, the partition keys it may name: IAM `StringLike` patterns over the key prefixes of
   * `shared/adapters/dynamo/keys.ts` (built there, from the prefixes the adapters write), enforced by
   * `dynamodb:LeadingKeys` (every key of a batch must match).
   */
  items: Partial<Record<ItemAction, readonly string[]>>;
  /**
   * Indexes the function queries. `Query` is granted on these indexes only, never on the base table, and
   * without a key condition: IAM's `dynamodb:LeadingKeys` is documented for the table's partition key, so
   * an index query is bounded by the index (and what it projects), not by its key. Both indexes are
   * overloaded and project every attribute: an index named alone may read every item of it, a
   * {@link RestrictedQuery} only the attribute names it lists (docs/security.md).
   */
  queries?: readonly IndexQuery[];
  /**
   * `Query` on the base table, on the partition keys these patterns match (`dynamodb:LeadingKeys`, which
   * IAM applies to a base-table query's partition key): the audit chains' day partitions and registry.
   */
  partitionQueries?: readonly string[];
}

/**
 * The alias every function is invoked through, by another function as by API Gateway, the schedules, the
 * stream and the queue: CodeDeploy moves it to a new version gradually (infra/constructs/gradual-deploys.ts),
 * so `$LATEST` is never what serves. An `invokes` grant names `<function arn>:live` and nothing else.
 */
export const invokeQualifier = 'live';

/**
 * What one function may touch, as its code uses it. The CDK stack turns this into the function's role
 * policies and environment; the local runtime refuses, as IAM would, any call outside it
 * (`infra/local/grant-guard.ts`), so the test suite proves each grant is enough for what the tests do.
 */
export interface FunctionGrants {
  /** The service table (`TABLE_NAME`): everything but the audit trail and bulk issuance jobs. */
  table?: TableGrant;
  /**
   * The audit table (`AUDIT_TABLE_NAME`): the audit trail alone (entries `audit#`, the chains' registry
   * `audit-chain#`, the checkpoints `audit-checkpoint*`), with the same keys and indexes.
   */
  auditTable?: TableGrant;
  /**
   * The batch table (`BATCH_TABLE_NAME`): bulk issuance jobs alone (a job `batch#`, its items in chunks
   * `batch-items#`), with the same keys. Its stream is read by the batch pipe's own role, never a
   * function's; the licences a job issues are in the service table.
   */
  batchTable?: TableGrant;
  /**
   * Reads the audit table's stream (`dynamodb:GetRecords` and what finding it takes): the event source
   * mapping in front of the function reads it with the function's role. A stream can only be granted
   * whole, so this is the only stream a function is granted: the batch table's is read by the batch
   * pipe's own role alone, and the service table (sessions, tokens, accounts) has none.
   */
  auditStream?: true;
  /**
   * The platform key: `sign` signs with it and publishes its public key; `publicKey` only reads the
   * public key, to verify what it signed.
   */
  platformKey?: 'sign' | 'publicKey';
  /**
   * Reads the public keys of platform keys being retired, while a rotation is under way: the JWKS keeps
   * publishing them and verification keeps trusting them, so that what they signed still verifies.
   */
  previousPlatformKeys?: true;
  /**
   * The presentation key, which signs presentations (亮证) and the holder's printable-licence signatures
   * and never an ID token: `sign` signs with it; `publicKey` reads its public key and those of the
   * generations being retired, to publish them in the trust list or verify what they signed. Never in the
   * OpenID JWKS (docs/security.md).
   */
  presentationKey?: 'sign' | 'publicKey';
  /**
   * The notice key, which signs withdrawal notices (Security Event Tokens posted to the platforms' events
   * endpoints) and never an ID token: `sign` signs with it; `publicKey` reads its public key and those of
   * the generations being retired, to publish them at `/.well-known/notices-jwks.json`. Never in the
   * OpenID JWKS (review R31 L1, docs/security.md).
   */
  noticeKey?: 'sign' | 'publicKey';
  /**
   * The platform's RSA key, which signs RS256 ID tokens (and logout tokens) for the platforms registered
   * for RS256 and nothing else: signs with it and publishes it in the JWKS, the RSA keys being retired
   * included (their public keys only) while a rotation is under way.
   */
  platformRsaKey?: 'sign';
  /**
   * The audit-checkpoint key: signs checkpoints with it and publishes its public key, with every earlier
   * generation's (public keys only, kept for ever: a checkpoint must verify as long as the trail is kept).
   * `publicKey`: only reads the public keys of every generation, to verify checkpoints.
   */
  auditKey?: true | 'publicKey';
  /** Computes HMACs with the lookup key. */
  lookupMac?: true;
  /** Computes HMACs with the web key: page sessions and page clients' secrets. */
  webMac?: true;
  /**
   * Computes HMACs with the interaction key: the OpenID provider's own secrets of sign-ins under way (the
   * seal of their cookies, the scan-to-login cookie's MAC; also the codes' read hints). Only the provider
   * holds it: whoever can derive
   * them can forge a sign-in's result.
   */
  interactionMac?: true;
  /**
   * Computes HMACs with the client-secret key: registered clients' secrets (their authentication, and the
   * secret shown once at registration or rotation). Only the OpenID provider and the operators' API hold
   * it: whoever can compute with it can authenticate as any client, an operator's (scope `admin`) among
   * them, so it is never a key the internet-facing APIs hold (the lookup key, which they do hold, derives
   * only the secrets of clients registered before this key, until they are rotated).
   */
  clientSecretMac?: true;
  /**
   * Computes HMACs with the cursor key: the audit trail's listings' cursors (shared/supervision/trail-cursors.ts),
   * sealed so that only those the service answered are taken back (security review R14 L2). A key of its
   * own: it can forge a cursor and nothing else.
   */
  cursorMac?: true;
  /**
   * The PII key: `encrypt` seals ID numbers at registration, `decrypt` opens them for the `id_number`
   * claim. Never both: whoever registers cannot read back, and the reader cannot forge.
   */
  pii?: 'encrypt' | 'decrypt';
  /**
   * Data keys of the PII key for a batch's items (holders' ID numbers) while they wait: `seal` generates
   * one per chunk at submission, `open` decrypts it when the job runs, both only under the batch-items
   * encryption context (so neither can open an account's ID number, nor the ID-number readers a batch).
   */
  batchItems?: 'seal' | 'open';
  /**
   * Data keys of the PII key for a requested SMS code's phone and ID number while its job waits
   * (shared/identity/sms-jobs.ts): `seal` generates one per job on the request path, `open` decrypts it in
   * the sender, both only under the `sms-job` encryption context.
   */
  smsJobs?: 'seal' | 'open';
  /** Creates issuer keys at onboarding, or signs with them. */
  issuerKeys?: 'provision' | 'sign';
  /**
   * Sends text messages, through the stack's SMS provider (infra/constructs/sms-provider.ts): with SNS,
   * `sns:Publish` straight to phone numbers (never to a topic); with Tencent Cloud SMS (the China regions),
   * `secretsmanager:GetSecretValue` on the provider's key-pair secret alone and `kms:Decrypt` of it alone,
   * and no `sns:Publish`. Locally the grant guard refuses the outbox to a function without it.
   */
  sms?: true;
  /**
   * Functions it may invoke (Lambda `InvokeFunction`, synchronously), through their {@link invokeQualifier}
   * alias only: IAM on `<arn>:live` in AWS, the local grant guard's refusal otherwise (of `$LATEST` and any
   * other alias too). Only the list functions invoke one, the list signer.
   */
  invokes?: readonly FunctionName[];
  /**
   * Publishes supervision alerts: `sns:Publish` to the stack's alarm topic (and nothing else) in AWS, its
   * ARN given as `ALERT_TOPIC_ARN`; locally the outbox file.
   */
  alerts?: true;
}

/** Which key a KMS call is on: the service's own keys by name, any other key is an issuer's. */
export type KeyRole =
  | 'platform'
  | 'previousPlatform'
  | 'platformRsa'
  | 'previousPlatformRsa'
  | 'audit'
  | 'previousAudit'
  | 'presentation'
  | 'previousPresentation'
  | 'notice'
  | 'previousNotice'
  | 'lookupMac'
  | 'web'
  | 'interaction'
  | 'clientSecret'
  | 'cursor'
  | 'pii'
  | 'batchItems'
  | 'smsJobs'
  | 'issuer';

const sign = ['kms:Sign', 'kms:GetPublicKey'];

/**
 * The KMS actions `grants` allow on each key. Issuer-key provisioning is `kms:CreateKey` and tagging at
 * creation, naming the key, reading its public key and scheduling its deletion on rollback
 * (`infra/constructs/issuer-keys.ts` adds the tag conditions).
 */
export function kmsActions(grants: FunctionGrants): Partial<Record<KeyRole, readonly string[]>> {
  return {
    ...(grants.platformKey && {
      platform: grants.platformKey === 'sign' ? sign : ['kms:GetPublicKey'],
    }),
    ...(grants.previousPlatformKeys && { previousPlatform: ['kms:GetPublicKey'] }),
    ...(grants.platformRsaKey && { platformRsa: sign, previousPlatformRsa: ['kms:GetPublicKey'] }),
    ...(grants.auditKey && {
      audit: grants.auditKey === 'publicKey' ? ['kms:GetPublicKey'] : sign,
      previousAudit: ['kms:GetPublicKey'],
    }),
    // Signing needs the current generation alone; reading keys reads the retiring ones too.
    ...(grants.presentationKey === 'sign' && { presentation: sign }),
    ...(grants.presentationKey === 'publicKey' && {
      presentation: ['kms:GetPublicKey'],
      previousPresentation: ['kms:GetPublicKey'],
    }),
    ...(grants.noticeKey === 'sign' && { notice: sign }),
    ...(grants.noticeKey === 'publicKey' && {
      notice: ['kms:GetPublicKey'],
      previousNotice: ['kms:GetPublicKey'],
    }),
    ...(grants.lookupMac && { lookupMac: ['kms:GenerateMac'] }),
    ...(grants.webMac && { web: ['kms:GenerateMac'] }),
    ...(grants.interactionMac && { interaction: ['kms:GenerateMac'] }),
    ...(grants.clientSecretMac && { clientSecret: ['kms:GenerateMac'] }),
    ...(grants.cursorMac && { cursor: ['kms:GenerateMac'] }),
    ...(grants.pii && { pii: [grants.pii === 'encrypt' ? 'kms:Encrypt' : 'kms:Decrypt'] }),
    ...(grants.batchItems && {
      batchItems: [grants.batchItems === 'seal' ? 'kms:GenerateDataKey' : 'kms:Decrypt'],
    }),
    ...(grants.smsJobs && {
      smsJobs: [grants.smsJobs === 'seal' ? 'kms:GenerateDataKey' : 'kms:Decrypt'],
    }),
    ...(grants.issuerKeys && {
      issuer:
        grants.issuerKeys === 'sign'
          ? sign
          : [
              'kms:CreateKey',
              'kms:TagResource',
              'kms:CreateAlias',
              'kms:GetPublicKey',
              'kms:ScheduleKeyDeletion',
            ],
    }),
  };
}

/**
 * A token bound to its sign-in session is accepted only while that session holds it: its session (by uid)
 * and its grant are read in one BatchGetItem, with the client's registration when this container does not
 * keep it (shared/adapters/dynamo/oidc-adapter.ts `findBearerToken`). Every function that accepts bearer
 * tokens has it, with {@link accessTokens}.
 */
const sessionBoundTokens = [
  partitions.oidcModel('Client'),
  partitions.oidcModel('Session'),
  partitions.oidcModel('Grant'),
];

/**
 * Bearer tokens are looked up by the hash of the token, both kinds under one key (`oidc#Bearer#`; tokens
 * issued before that under their own model's key), and accepted only while their client is still
 * registered and, bound to a session, while that session and their grant hold them ({@link
 * sessionBoundTokens}; shared/adapters/dynamo/oidc-adapter.ts, functions/composition/factories.ts
 * `accessTokens`).
 */
const accessTokens = [
  partitions.oidcModel('Bearer'),
  partitions.oidcModel('AccessToken'),
  partitions.oidcModel('ClientCredentials'),
  ...sessionBoundTokens,
];

/**
 * A DPoP proof accepted by our API is marked used, once (a conditional put of `dpop-proof#<digest>`, kept
 * for the proof's `iat` window; shared/http/authenticate.ts, shared/adapters/dynamo/dpop-proof-ledger.ts),
 * so that a copied proof is refused. Every function that authenticates access tokens puts these, and
 * nothing reads them: a put whose condition fails is the answer.
 */
const dpopProofs = [partitions.dpopProof];

/**
 * The password sign-in's throttle counters per pair and per number (login-throttle.ts `loginThrottleKeys`),
 * which closing an account counts its password under as well; not the per-address one (close-account.ts).
 */
const closurePasswordCounters = [partitions.loginAttemptsOf('pair'), partitions.loginAttemptsOf('account')];
/**
 * Issuance's updates (its idempotency record, the issuer's serial counter) and a licence change's pending
 * work (shared/licence/pending-work.ts, its pointers' port shared/pending-work/): its pointer marked, claimed
 * and released (update), and the
 * licence's marker cleared (update); the pointer is removed by conditional delete ({@link pendingWork}).
 */
const issuanceUpdates = [
  partitions.idempotency,
  partitions.statusListCounter,
  partitions.licence,
  partitions.pendingWork,
];
const pendingWork = [partitions.pendingWork];
/**
 * Withdrawals' audit entries saved as pending work (`pending-audit#`): a partition apart from licences'
 * pointers, so that `me`, granted these alone, can never touch a licence's pending work (review M1).
 */
const pendingAudit = [partitions.pendingAudit];
/**
 * Operators' changes (of issuers, clients, peers), their audit entries saved as pending work
 * (`pending-issuer-audit#`): a partition apart from the others, so that `admin`, granted these alone,
 * touches neither a licence's nor a person's withdrawal's pending work, and no other function can plant
 * an operator's entry.
 */
const operatorAudit = [partitions.pendingIssuerAudit];
/**
 * The accounts function's changes (an account registered, an entity's agent appointed or withdrawn), their
 * audit entries saved as pending work (`pending-account-audit#`): a partition apart from every other, so
 * that `accounts`, granted these alone, touches no other function's pending work, and no other function
 * can plant an entry of a registration or an appointment.
 */
const accountAudit = [partitions.pendingAccountAudit];
/**
 * The OpenID provider's changes (an account taken over or its password reset by a phone code), their
 * audit entries saved as pending work (`pending-provider-audit#`): a partition apart from every other, so
 * that `oidc`, granted these alone, touches no other function's pending work, and no other function can
 * plant an entry of a takeover or a reset.
 */
const providerAudit = [partitions.pendingProviderAudit];
/**
 * The day partitions a writer of the audit trail puts its chains in: its own shards' alone
 * (`audit#*#<shard>`, shared/audit/audit-writers.ts), with the chains' registry (`audit-chain#`). IAM
 * bounds the partition, never what an entry says: so an entry is known to be the function's whose shard
 * it is in, and one of an action that function never writes is flagged by the daily check and `npm run
 * audit:verify` (review R31 M1: the anonymous `verify` could put a `licence.revoked`).
 */
const chainWrites = (writer: AuditWriterName) => [
  ...auditWriters[writer].shards.map((shard) => partitions.auditShard(shard)),
  partitions.auditChain,
];
/**
 * The once-marks (`audit-once#`) each writer puts: those of its own changes' entries alone, never another
 * function's. A mark is what says "written already": one planted under another change's predictable key
 * (`audit-once#<licence id>#<next version>#0`, `audit-once#issuer-changed#<issuer>#<n>`) would have that
 * entry taken as written, its pending work removed, and nothing on the trail (review R26 for `oidc`,
 * review R52 for the others: `me` and `accounts` face the internet). Licences' marks are under the
 * licence id's root ({@link partitions.licenceOnce}), `batches`' those of issuances alone
 * ({@link partitions.licenceIssuedOnce}, review R57 F1); a carried change's under its group
 * (`carriedGroups` of shared/pending-work/pending-work.ts, the groups of the index the function's pointers
 * are in). The reconciler completes every index's pointers and licences' pending work: every group.
 */
const onceMarks = {
  admin: carriedGroups.operators.map((group) => partitions.onceOf(group)),
  licences: [partitions.licenceOnce],
  // Issuances alone (`audit-once#<licence id>#1#0`): `batches` changes no licence (review R57 F1).
  batches: [partitions.licenceIssuedOnce],
  me: carriedGroups.withdrawals.map((group) => partitions.onceOf(group)),
  accounts: carriedGroups.accounts.map((group) => partitions.onceOf(group)),
  'pending-work-reconciler': [
    partitions.licenceOnce,
    ...Object.values(carriedGroups).flatMap((groups) => groups.map((group) => partitions.onceOf(group))),
  ],
} as const satisfies Partial<Record<AuditWriterName, readonly string[]>>;
/**
 * The audit puts of a change's pending work: its chained entry (in the writer's shards, a chain's
 * registration `audit-chain#` first, {@link chainWrites}) and, in the same TransactWriteItems, its key's
 * mark (`audit-once#`, the writer's own: {@link onceMarks}), which makes a second write of the entry a
 * no-op (shared/adapters/dynamo/audit-trail.ts).
 */
const pendingAuditWrites = (writer: keyof typeof onceMarks) => [...chainWrites(writer), ...onceMarks[writer]];
const providerAuditWrites = [
  ...chainWrites('oidc'),
  partitions.phoneProofOnce,
  partitions.grantOnce,
  partitions.grantEndOnce,
];

/** What the provider stores under a grant and deletes with it (oidc-adapter.ts `GRANT_MODELS`). */
const grantMembers = [
  // Access tokens of either kind, keyed by their hash since issue 16 (older ones under their model).
  partitions.oidcModel('Bearer'),
  partitions.oidcModel('AccessToken'),
  partitions.oidcModel('AuthorizationCode'),
  partitions.oidcModel('RefreshToken'),
  partitions.oidcModel('DeviceCode'),
  partitions.oidcModel('BackchannelAuthenticationRequest'),
  partitions.oidcModel('PreAuthorizedCode'),
];

/**
 * Every function of the route table. A `Record` over its names: a function added there must be granted
 * here before anything compiles. Each entry says what the code does today; keep them in step (the local
 * runtime fails the tests of a function that outgrows its grants). Frozen, deep: the local grant guard
 * derives what each function may do once per grants object, so a grant changed at run time would be a
 * grant the guard never saw.
 */
export const functionGrants: Record<FunctionName, FunctionGrants> = deepFrozen({
  health: {},
  catalogue: {},
  // The OpenID provider. Its storage adapter (shared/adapters/dynamo/oidc-adapter.ts) owns every `oidc#` item: gets,
  // puts, updates (consume), deletes, deletes a grant's tokens (one DeleteItem each, in parallel), batch-puts the grant, code and session a
  // sign-in ends with (one BatchWriteItem before the answer), and queries gsi1 (sessions by uid,
  // device codes by user code) and gsi2 (tokens by grant). Its accounts directory
  // (shared/identity/accounts-directory.ts) checks passwords: login-attempt counters (get, conditional put,
  // update to forgive one, delete on success; a password's three counters are claimed in one
  // TransactWriteItems of conditional puts and forgiven in another of deletes and updates, which IAM
  // checks as PutItem, DeleteItem and UpdateItem on each counter's key; the same counters throttle failed client authentications at
  // the token, introspection, revocation and PAR endpoints), the account (get; put when rehashing), scrypt; finds people
  // and entity accounts by id (gsi1, then get), and answers who may act for an entity: registry and
  // appointment reads (get), entities by representative (gsi1); it creates entity accounts (conditional put).
  // Step-up and password reset by SMS (shared/identity/phone-proof.ts): registry people (get), pending
  // codes (put, update a try, conditional delete), send limits on the login-attempt counters, the account
  // (versioned put), and ending a person's sign-ins (gsi2 by person, then deletes of `oidc#` items);
  // a takeover by the real owner removes the squatted account's passkeys (gsi1, conditional delete); a
  // takeover and a password reset withdraw the account's consents to platforms as the wallet does, before
  // ending its sign-ins (grants by person (gsi2, get), their tokens
  // deleted, the grants' conditional deletes and each platform's withdrawal notice (put `notices`)
  // in one transaction, the pairwise subject from the lookup key's salt); a takeover and a password reset
  // save their audit entries with the account's versioned put, in one transaction with the put of its
  // pending work (`pending-provider-audit#`, {@link providerAudit}), which is then released on a failure
  // (update) and removed (conditional delete) once each entry is written once (its `audit-once#` mark
  // with it). A consent to share licences puts its grant the same way, in one transaction with its
  // pointer (`authorization-granted#<grant id>`), its mark `audit-once#authorization-granted#`; a grant it
  // ends itself (a refresh token used twice, a code replayed, a platform's revocation of a refresh token)
  // is deleted the same way, on condition that it exists, with its pointer
  // (`authorization-ended#<grant id>`), its mark `audit-once#authorization-ended#`.
  // It signs ID tokens with the platform key (and publishes those being retired), derives client secrets
  // with the client-secret key (those of clients registered before it, and the pairwise salt and lookup keys, with
  // the lookup key; its cookie keys with the interaction key), and decrypts ID numbers for the `id_number` claim with the PII key; the page clients'
  // secrets come from the web key. Scan-to-login (shared/sso/scan-login.ts): the sign-in page stores a code
  // (conditional put, one item per sign-in, a newer code replacing the older), the waiting page reads it and uses it up (get, conditional update). Passkey sign-in
  // (shared/sso/passkey-interaction.ts): sign-in challenges stored (put) and taken (delete), the passkey
  // read (get) and its counter moved (conditional update). One-time codes by SMS (step-up, reset): it counts
  // the send limits and leaves one job per request in the batch table (conditional put `sms-job#`, the
  // phone and ID number sealed with a data key of the PII key, `sms-job` context only); the `sms-codes`
  // function asks the carrier and texts the code after the answer, so this function neither asks the
  // carrier nor sends, and never creates or changes a code: it reads them (get), counts a try on the code's
  // own counter (conditional update `sms-try#`) and uses them up (conditional delete, with a put of the
  // used code's request time on `sms-used#` in the same transaction, so that no earlier job stores one).
  // A sign-in under way too large for its cookie (shared/sso/interaction-cookies.ts): its seal put under
  // `interaction-state#<uid>` (replaced at each step), read back by the request its cookie points from,
  // deleted when the sign-in ends; no other function touches that prefix, and this one nothing more of it.
  oidc: {
    table: {
      items: {
        GetItem: [
          partitions.oidc,
          partitions.loginAttempts,
          partitions.account,
          partitions.entityAccount,
          partitions.entityAgents,
          partitions.registryEntity,
          partitions.scanLogin,
          partitions.passkey,
          partitions.registryPerson,
          partitions.smsCode,
          partitions.interactionState,
        ],
        // The code exchange reads the client-authentication counter, the code, its session, grant and
        // account together (oidc-adapter.ts, readAheadCodeExchange and readAheadForCode).
        BatchGetItem: [partitions.oidc, partitions.account, partitions.loginAttempts],
        PutItem: [
          partitions.oidc,
          partitions.loginAttempts,
          partitions.account,
          partitions.entityAccount,
          partitions.scanLogin,
          partitions.passkeyChallenge,
          partitions.notices,
          partitions.smsUsed,
          partitions.interactionState,
          partitions.pendingProviderAudit,
        ],
        UpdateItem: [
          partitions.oidc,
          partitions.loginAttempts,
          partitions.scanLogin,
          partitions.passkey,
          partitions.smsTry,
          partitions.pendingProviderAudit,
        ],
        DeleteItem: [
          partitions.oidc,
          partitions.loginAttempts,
          partitions.passkeyChallenge,
          partitions.smsCode,
          partitions.passkey,
          partitions.interactionState,
          partitions.pendingProviderAudit,
        ],
        BatchWriteItem: [partitions.oidc],
      },
      queries: ['gsi1', 'gsi2'],
    },
    // A takeover's, a password reset's, a phone change's and a consent's entries, written once under their
    // keys, theirs alone ({@link providerAuditWrites}).
    auditTable: { items: { PutItem: providerAuditWrites } },
    platformKey: 'sign',
    previousPlatformKeys: true,
    platformRsaKey: 'sign',
    lookupMac: true,
    webMac: true,
    interactionMac: true,
    clientSecretMac: true,
    // A requested code's job, in the batch table, for the `sms-codes` function; and the security notice a
    // takeover, a reset or a proven phone owes (read first: written once).
    batchTable: { items: { GetItem: [partitions.smsJob], PutItem: [partitions.smsJob] } },
    pii: 'decrypt',
    smsJobs: 'seal',
  },
  // Operators' API. Reads access tokens, claims, saves and releases issuers and saves or deletes their
  // clients (conditional put, delete), changes a client's members (its events endpoint, its secret's
  // markers: a conditional update of those members alone), finds issuers by id to rotate their keys,
  // withdraw one of their keys or withdraw them (gsi1, then get), reads a licence's audit entries (gsi1),
  // writes audit entries (conditional put), derives client secrets (the client-secret key; rotates a
  // client onto it) and creates issuer keys. It never signs with the platform key. Onboarding makes
  // several calls in a row and undoes them on failure. An issuer's key rotated or withdrawn, or the issuer
  // withdrawn, an issuer activated at onboarding, a client registered or its members changed (its events
  // endpoint, its secret rotated), a peer registered or removed, is one transaction of that write (the
  // issuer's or the peer's versioned put, the client's conditional put or update, the peer's conditional
  // delete) and the put of its audit entry's pending work
  // (`pending-issuer-audit#`, {@link operatorAudit}), which is then released on a failure (update) and
  // removed (conditional delete) once the entry is written once (its `audit-once#` mark with it).
  admin: {
    table: {
      items: {
        GetItem: [...accessTokens, partitions.issuer, partitions.peers],
        BatchGetItem: sessionBoundTokens,
        PutItem: [
          ...dpopProofs,
          partitions.issuer,
          partitions.oidcModel('Client'),
          partitions.peers,
          partitions.pendingIssuerAudit,
        ],
        UpdateItem: [partitions.oidcModel('Client'), partitions.pendingIssuerAudit],
        DeleteItem: [
          partitions.issuer,
          partitions.oidcModel('Client'),
          partitions.peers,
          partitions.pendingIssuerAudit,
        ],
      },
      // Peers (docs/peers.md): every issuer (gsi2) and every peer (the `peers` partition) to keep ids and
      // credit codes apart.
      queries: ['gsi1', 'gsi2'],
      partitionQueries: [partitions.peers],
    },
    // Audit entries written (issuer changes' once: {@link pendingAuditWrites}), and a licence's read (gsi1).
    auditTable: { items: { PutItem: pendingAuditWrites('admin') }, queries: ['gsi1'] },
    // Client secrets on their own key (registration, rotation): never the lookup key, so a client
    // registered before that key is rotated (POST /admin/clients/{id}/secret), not shown.
    clientSecretMac: true,
    issuerKeys: 'provision',
    // GET /admin/audit's cursors, sealed.
    cursorMac: true,
  },
  // Issuing agencies' API. Access tokens, licences (get, conditional put), idempotency records (update),
  // status-list counters (update) and lists (get, versioned put), audit entries (conditional put); issuers
  // by id (gsi1, then get), licences by holder (gsi1) and by issuer (gsi2). Signs credentials with the
  // issuer's key; holder lookup keys with the MAC key. Seals a batch's items with a data key of the PII
  // key per chunk (POST /licences/batches; batch-items context only).
  // GET /licences/{id} for its holder (a person's token): who the reader is, as the holder API reads it
  // (shared/licence/holder-licences.ts: the person by id (gsi1, then get), the entity acted for and whether
  // they may still act for it (registry, entity account and appointment reads; an entity account created
  // (conditional put))).
  licences: {
    table: {
      items: {
        GetItem: [
          ...accessTokens,
          partitions.issuer,
          partitions.licence,
          partitions.statusList,
          partitions.account,
          partitions.entityAccount,
          partitions.entityAgents,
          partitions.registryEntity,
        ],
        BatchGetItem: sessionBoundTokens,
        PutItem: [...dpopProofs, partitions.licence, partitions.statusList, partitions.entityAccount],
        UpdateItem: issuanceUpdates,
        DeleteItem: pendingWork,
      },
      queries: ['gsi1', 'gsi2'],
    },
    // Issuers' reads of licences, in their holders' usage records: the entries of one search written
    // together (group commit, one TransactWriteItems of conditional puts; shared/licence/issuer-reads.ts;
    // never BatchWriteItem, whose deletes IAM cannot tell from its puts, R31 M1). A change's entries are
    // written once under their keys (a transaction's puts, {@link pendingAuditWrites}).
    auditTable: { items: { PutItem: pendingAuditWrites('licences') } },
    // Bulk issuance: a job and its pages of licences (POST and GET /licences/batches…), and the issuer's
    // open jobs (the per-issuer cap: versioned put).
    batchTable: {
      items: {
        GetItem: [partitions.batch, partitions.batchItems, partitions.batchSlots],
        PutItem: [partitions.batch, partitions.batchItems, partitions.batchSlots],
        // The chunks of a submission whose job could not be written (DynamoBatchStore.create).
        DeleteItem: [partitions.batchItems],
      },
    },
    lookupMac: true,
    // GET /licences/{id}/pdf.jws: the printable licence's detached signature, by the issuer's own key (the
    // platform key, which signs ID tokens, stays out of the issuers' function; docs/printable-licence.md).
    issuerKeys: 'sign',
    batchItems: 'seal',
  },
  // Status List Tokens: reads the list, its issuer's list count and the issuer (get, gsi1), to serve the
  // stored token while it is current; when it is not, `list-signer` signs and stores it. Writes nothing.
  'status-lists': {
    table: {
      items: {
        GetItem: [partitions.issuer, partitions.statusList, partitions.statusListCounter],
      },
      // Anonymous: an issuer's credit code by id, nothing else of the index.
      queries: [restricted('gsi1', 'issuerById')],
      // A peer issuer's lists are relayed from the peer (docs/peers.md): which peers are usable.
      partitionQueries: [partitions.peers],
    },
    // Anonymous, so it signs nothing: a stale list is signed by `list-signer` (no issuer key here).
    invokes: ['list-signer'],
  },
  // The trust list: every issuer (gsi2) and each active issuer's status-list count (get), to tell whether
  // the stored list (get) is still current; when it is not, `list-signer` signs and stores it. The platform
  // key's and the presentation keys' public halves only: they are part of the list's content.
  // GET /issuers/{id}: the issuer by id (gsi1, then get). GET /.well-known/notices-jwks.json: the notice
  // keys' public halves, with no table read.
  'trust-list': {
    table: {
      items: {
        GetItem: [partitions.trustList, partitions.statusListCounter, partitions.issuer],
      },
      // Anonymous: the issuers as listed (gsi2) and an issuer's credit code by id (gsi1), nothing else of
      // either index (no licence's holder, no session).
      queries: [restricted('gsi2', 'issuerListing'), restricted('gsi1', 'issuerById')],
      // The peers' accepted issuers are listed too (docs/peers.md).
      partitionQueries: [partitions.peers],
    },
    // Anonymous, so no kms:Sign: the platform key also signs every ID token (review R7, M1).
    platformKey: 'publicKey',
    presentationKey: 'publicKey',
    // GET /.well-known/notices-jwks.json: the notice keys' public keys (the retiring ones included).
    noticeKey: 'publicKey',
    invokes: ['list-signer'],
  },
  // The list signer (functions/list-signer.ts), reachable only by invocation from the two list functions
  // above: it computes what they serve, from the same reads (the issuers, their status-list counts, the
  // peers, a list's bits and counter), signs it, the trust list with the platform key and a status list
  // with its issuer's key, and stores the token (conditional put of the trust list; a status list's token
  // is a conditional update of its item, or a put of a list never written).
  'list-signer': {
    table: {
      items: {
        GetItem: [
          partitions.trustList,
          partitions.statusList,
          partitions.statusListCounter,
          partitions.issuer,
        ],
        PutItem: [partitions.trustList, partitions.statusList],
        UpdateItem: [partitions.statusList],
      },
      // The issuers as listed (gsi2) and an issuer by id (gsi1), nothing else of either index.
      queries: [restricted('gsi2', 'issuerListing'), restricted('gsi1', 'issuerById')],
      partitionQueries: [partitions.peers],
    },
    platformKey: 'sign',
    issuerKeys: 'sign',
    // The presentation keys' public keys (the retiring ones included), named in the list it signs.
    presentationKey: 'publicKey',
  },
  // POST /verify (shared/verification/verify-scan.ts): an optional verifier's access token (get; with a DPoP
  // proof, its mark put once, {@link dpopProofs}), the issuer by
  // id (gsi1, then get) or by credit code (get; kept per container for ISSUER_CACHE_SECONDS), the licence's
  // live status (get), one audit entry (conditional put; a chain's first entry with its chain's registration,
  // `audit-chain#`, shared/adapters/dynamo/audit-trail.ts). Reads issued together (the token and the
  // licence) go as one BatchGetItem on the same keys (shared/adapters/dynamo/coalescing-reads.ts); entries
  // of concurrent verifications as one TransactWriteItems of conditional puts (group commit; never
  // BatchWriteItem, which would let it delete entries, R31 M1). Signatures are checked locally:
  // issuer keys come from the issuer records, and for presentations the presentation keys' public keys from
  // KMS (GetPublicKey, once per container), the keys being retired included; for printable licences'
  // signatures the platform keys' too (those signed before the presentation key). It signs nothing.
  verify: {
    table: {
      items: {
        GetItem: [...accessTokens, partitions.issuer, partitions.licence],
        BatchGetItem: [...accessTokens, partitions.issuer, partitions.licence],
        PutItem: dpopProofs,
      },
      // Anonymous: an issuer's credit code by id, nothing else of the index.
      queries: [restricted('gsi1', 'issuerById')],
      // The peers and their accepted issuers, kept per container (docs/peers.md): never on the path of a
      // licence of ours once the container is warm.
      partitionQueries: [partitions.peers],
    },
    auditTable: { items: { PutItem: chainWrites('verify') } },
    platformKey: 'publicKey',
    previousPlatformKeys: true,
    presentationKey: 'publicKey',
  },
  // The holder's API (shared/licence/holder-licences.ts): the access token (get), the person and the entity
  // acted for by id (gsi1, then get), whether the person may still act for it (registry, entity account and
  // appointment reads (get); the entity's lookup key with the MAC key; an entity account created
  // (conditional put)),
  // then the licences by holder (gsi1) and their issuers (gsi1, then get). Presentations
  // (POST /me/licences/{id}/presentations, shared/licence/presentation.ts) read the licence (get), sign
  // with the presentation key and write an audit entry; the printable licence's signature is the
  // presentation key's too. Never the platform key: it signs ID tokens, and this internet-facing API must
  // not be able to mint one (review R7 M1).
  // Passkeys (shared/identity/passkeys.ts): an account's passkeys (gsi1), a passkey enrolled (conditional
  // put) or removed (conditional delete), each in one transaction with the put of its audit entry's pending
  // work (`pending-audit#`, as a withdrawal's, below), enrolment challenges stored (put) and taken
  // (delete); the password typed again to enrol or remove one, under the sign-in's throttle (its pair and
  // account counters: get, conditional put, update and delete), as closing the account does. An enrolment's
  // transaction also checks the account item (ConditionCheckItem, no write): still at the version the
  // enrolment checked, owing no clean-up of a takeover or reset (review R44 F2).
  // The usage record (GET /me/usage, shared/licence/usage.ts): the holder's audit entries (gsi2) and the
  // names of the clients in them (get `oidc#Client#`, granted with the access tokens).
  // Sharing (授权用证, shared/sharing/): a share is a provider grant, read by key (and listed per person
  // through gsi2); withdrawing it deletes its codes and tokens (one DeleteItem each, in parallel), then the grants (conditional
  // deletes), the platform's withdrawal notice (a put in the `notices` partition) and the withdrawal's
  // audit entry saved as pending work that carries it (a conditional put in a `pending-audit#` shard,
  // never `pending-work#`: licences' pointers are not `me`'s, review M1) in one transaction; that pending
  // work then claimed and released (update), the entry written once (its `audit-once#` mark with it) and
  // the pending work removed (conditional delete); a retry finds the grant's (query of its shard).
  // The platform's pairwise subject from the lookup key's salt. It never signs the notice: `notices` does.
  me: {
    table: {
      items: {
        GetItem: [
          ...accessTokens,
          partitions.account,
          partitions.entityAccount,
          partitions.entityAgents,
          partitions.registryEntity,
          partitions.issuer,
          partitions.licence,
          // Enrolling or removing a passkey: the password typed again, under the sign-in's counters.
          ...closurePasswordCounters,
          // The shares' grants too (oidc#Grant#, with the access tokens' partitions).
        ],
        BatchGetItem: sessionBoundTokens,
        PutItem: [
          ...dpopProofs,
          partitions.entityAccount,
          partitions.passkey,
          partitions.passkeyChallenge,
          partitions.notices,
          partitions.pendingAudit,
          ...closurePasswordCounters,
        ],
        UpdateItem: [...pendingAudit, ...closurePasswordCounters],
        ConditionCheckItem: [partitions.account],
        DeleteItem: [
          partitions.passkey,
          partitions.passkeyChallenge,
          partitions.oidcModel('Grant'),
          partitions.pendingAudit,
          ...closurePasswordCounters,
          // A withdrawn share's codes and tokens, each by its own delete: never BatchWriteItem, whose puts
          // IAM cannot tell from its deletes (a forged access token stored under these keys, R31 H1).
          ...grantMembers,
        ],
      },
      queries: ['gsi1', 'gsi2'],
      partitionQueries: pendingAudit,
    },
    // Presentations' audit entries written, and withdrawals' (once: `pendingAuditWrites`); the usage record
    // read (the holder's entries, gsi2; of one kind, gsi3, once the backfill's mark `audit-usage-index` is
    // there: get).
    auditTable: {
      items: { GetItem: [partitions.auditUsageIndex], PutItem: pendingAuditWrites('me') },
      queries: ['gsi2', 'gsi3'],
    },
    // The security notice a passkey enrolled or removed owes its holder: a job of the SMS queue (read first,
    // written once: shared/identity/security-notices.ts).
    batchTable: { items: { GetItem: [partitions.smsJob], PutItem: [partitions.smsJob] } },
    lookupMac: true,
    presentationKey: 'sign',
  },
  // People's accounts. Registration (shared/identity/register-person.ts): the source's registration counter (get,
  // conditional put), the ID number's lookup key (MAC), the account and the population registry (get),
  // scrypt, the ID number encrypted with the PII key, the account and its ID-number claim (conditional puts;
  // the claim in one transaction with the put of its audit entry's pending work, `pending-account-audit#`,
  // {@link accountAudit}; the account is deleted again when the claim is lost to a concurrent
  // registration). Entities and agents (shared/identity/entities.ts): the access token (get), the
  // person by id (gsi1, then get), who may act for what (as the holder API: get; gsi1 for registry entities
  // by representative and appointments by person), an entity's agents (gsi2, then get), entity accounts
  // and appointments written (conditional put; a withdrawal is a versioned put), an appointment and a
  // withdrawal each in one transaction with the put of its audit entry's pending work (as the
  // registration's), and so is the deletion of a closed account (below). That pending work is then released on a failure (update) and removed (conditional
  // delete) once its entry is written once (its `audit-once#` mark with it); other audit entries
  // (conditional put). A phone given at registration:
  // the local carrier registry (get, the phone digested with the MAC key), the phone encrypted with the PII
  // key; it asks for one-time codes by SMS (confirming a phone on the /register page, register-phone-code.ts):
  // one job per request in the batch table (conditional put `sms-job#`, the phone and ID number sealed with
  // a data key of the PII key, `sms-job` context only; the `sms-codes` function sends), pending codes
  // checked, never written (get; a try counted on the code's own counter, conditional update `sms-try#`;
  // conditional delete, with a put of its request time on `sms-used#`) and the send limits (get, conditional put, delete);
  // the person's daily ceiling on wrong codes (get, conditional put, update and delete to give a try back).
  // The account read and closed (shared/identity/close-account.ts): its passkeys (gsi1, conditional
  // delete), the appointments naming the person withdrawn (versioned put), every sign-in ended (gsi2 by
  // person and by grant, then deletes of the sessions, grants and what the grants hold, one DeleteItem each), the
  // account and its claim deleted (one transaction of conditional deletes, with the put of the pending
  // work that carries its `account.closed` entry, {@link accountAudit}); the password
  // typed again to close it, under the sign-in's throttle (its pair and account counters: get, conditional put, update and
  // delete). Closing withdraws the consents to platforms first, as the wallet does: the grants (get), each
  // platform's metadata (get `oidc#Client#`, granted with the access tokens), the grants' conditional
  // deletes and the platform's withdrawal notice (put `notices`) in one transaction, the pairwise subject
  // from the lookup key's salt. An appointment checked against the registry counts on the representative's own counter (get, put); a counter clerk's lookups and passwords typed at the counter on the clerk's (get, put, and update or delete to give one back: `counter-proof.ts`), and the clerk's successes of the day, capped (get, update: `login-attempts#counter-day#`). Registering a number whose closure failed part-way completes that closure (the same calls).
  accounts: {
    table: {
      items: {
        GetItem: [
          ...accessTokens,
          partitions.loginAttemptsOf('registration'),
          partitions.loginAttemptsOf('appointment'),
          ...closurePasswordCounters,
          partitions.account,
          partitions.registryPerson,
          partitions.registryEntity,
          partitions.registryCarrier,
          partitions.entityAccount,
          partitions.entityAgents,
          partitions.smsSendLimits,
          partitions.smsCheckLimits,
          partitions.smsCode,
          // A counter clerk's day, read against its cap (`counterClerkDailyCaps`, counter-proof.ts).
          partitions.counterClerkDays,
          // A counter clerk's issuer, by the agency's credit code (`/counter/accounts/…`, issuer-actor.ts).
          partitions.issuer,
          // The platforms' grants too, withdrawn at closing (oidc#Grant#, with the access tokens' partitions).
        ],
        BatchGetItem: sessionBoundTokens,
        PutItem: [
          ...dpopProofs,
          partitions.loginAttemptsOf('registration'),
          partitions.loginAttemptsOf('appointment'),
          ...closurePasswordCounters,
          partitions.account,
          partitions.entityAccount,
          partitions.entityAgents,
          partitions.smsSendLimits,
          partitions.smsCheckLimits,
          partitions.notices,
          partitions.smsUsed,
          partitions.pendingAccountAudit,
        ],
        UpdateItem: [
          partitions.smsTry,
          partitions.smsCheckLimits,
          ...closurePasswordCounters,
          // A counter clerk's counter given back when the lookup or the password matched (counter-proof.ts).
          partitions.loginAttemptsOf('appointment'),
          // One success added to the clerk's day (an atomic add: counter-proof.ts `countDay`).
          partitions.counterClerkDays,
          partitions.pendingAccountAudit,
        ],
        DeleteItem: [
          partitions.smsSendLimits,
          partitions.smsCheckLimits,
          partitions.smsCode,
          partitions.account,
          partitions.passkey,
          partitions.oidcModel('Grant'),
          ...closurePasswordCounters,
          partitions.loginAttemptsOf('appointment'),
          partitions.pendingAccountAudit,
          // A closed account's sign-ins ended: its sessions, and its grants' codes and tokens, each by its
          // own delete (never BatchWriteItem, which would let it put a forged token there too, R31 H1).
          ...grantMembers,
          partitions.oidcModel('Session'),
        ],
      },
      queries: ['gsi1', 'gsi2'],
    },
    // Registrations' and agents' entries written once under their keys ({@link pendingAuditWrites}).
    auditTable: { items: { PutItem: pendingAuditWrites('accounts') } },
    lookupMac: true,
    // A requested code's job; the security notice a proof at a counter owes (read first: written once).
    batchTable: { items: { GetItem: [partitions.smsJob], PutItem: [partitions.smsJob] } },
    pii: 'encrypt',
    smsJobs: 'seal',
  },
  // The pages (shared/web). Landing page, verifier page, service worker and assets: no data, no key. The
  // verifier page verifies in the browser from the public trust and status lists.
  web: {},
  // Supervision of the audit trail (shared/supervision/audit-chain*.ts, checkpoints.ts): the access token
  // (get); a licence's entries (gsi1), a day range's entries and each chain's head (queries of the day
  // partitions `audit#`), the chains registered on a day (query `audit-chain#`), the checkpoints (query,
  // conditional put `audit-checkpoint`), signed with the audit key (not the platform key: its own KMS key,
  // whose every generation it publishes at GET /supervision/audit/keys), and their heads in pages (get,
  // conditional put `audit-checkpoint-heads#`). Also run daily by a schedule. An on-demand checkpoint first
  // claims the one limit item (conditional put; get when refused, to name when to retry).
  audit: {
    table: { items: { GetItem: accessTokens, BatchGetItem: sessionBoundTokens, PutItem: dpopProofs } },
    auditTable: {
      items: {
        GetItem: [partitions.auditCheckpointHeads, partitions.auditCheckpointLimit],
        PutItem: [
          partitions.auditCheckpoints,
          partitions.auditCheckpointHeads,
          partitions.auditCheckpointLimit,
        ],
      },
      queries: ['gsi1'],
      partitionQueries: [partitions.audit, partitions.auditChain, partitions.auditCheckpoints],
    },
    auditKey: true,
    // GET /supervision/audit's cursors, sealed (R14 L2).
    cursorMac: true,
  },
  // The daily check of the audit trail (functions/audit-check.ts, shared/supervision/audit-chain-check.ts):
  // reads only. The checkpoints (query `audit-checkpoint*`) and their heads (get `audit-checkpoint-heads#`),
  // yesterday's and today's entries (queries of the day partitions `audit#`), verified with the audit keys'
  // public keys (never Sign: a checker that could sign could make a broken trail look intact).
  'audit-check': {
    auditTable: {
      items: { GetItem: [partitions.auditCheckpointHeads] },
      partitionQueries: [partitions.audit, partitions.auditCheckpoints],
    },
    auditKey: 'publicKey',
  },
  // The schedule refreshing the peer platforms (functions/peers.ts, docs/peers.md): every peer (query of
  // the `peers` partition, get, versioned put) and our issuers (gsi2) to keep ids and credit codes apart.
  // It fetches the peers' trust lists over HTTPS and verifies them with their pinned keys: no KMS key.
  peers: {
    table: {
      items: { GetItem: [partitions.peers], PutItem: [partitions.peers] },
      // Our issuers as listed, nothing else of the index.
      queries: [restricted('gsi2', 'issuerListing')],
      partitionQueries: [partitions.peers],
    },
  },
  // The wallet, the demo platform and the issuer console are backends-for-frontends: OAuth clients of the
  // service's own public API over HTTPS, like any platform, with no signing permission. Each derives from
  // the web key (never the lookup key) the key sealing its session cookie and, for the wallet and the
  // demo platform, its own client secret.
  // The wallet also confirms scan-to-login codes (/scan-login/{code}): it reads its own session's access
  // token (get) and the person behind it (gsi1, then get) to know their level, as the API would, and
  // reads and updates the code (get, conditional update); it writes nothing else.
  wallet: {
    webMac: true,
    table: {
      items: {
        GetItem: [...accessTokens, partitions.account, partitions.scanLogin],
        BatchGetItem: sessionBoundTokens,
        UpdateItem: [partitions.scanLogin],
      },
      // A person of the first layout by id (its lookup key), nothing else of the index (R31 L3).
      queries: [restricted('gsi1', 'accountById')],
    },
  },
  'demo-platform': { webMac: true },
  // The supervisor's API (电子监察, shared/supervision/): its access token (get), the counters of the days
  // asked for (gsi1, a month's counters per shard) and the alerts (gsi1, a month's alerts). Reads only,
  // but for the mark of a DPoP proof it accepts ({@link dpopProofs}, as every function taking tokens).
  supervision: {
    table: {
      items: { GetItem: accessTokens, BatchGetItem: sessionBoundTokens, PutItem: dpopProofs },
      // The counters and alerts as listed, nothing else of the index: no licence by holder, no entity's
      // accounts, no passkey (R31 L3).
      queries: [restricted('gsi1', 'statisticsCounters', 'alerts')],
    },
  },
  // The audit table stream's consumer (functions/supervision-events.ts): adds each batch's audit entries to the
  // counters (update, ADD), each with its entry's mark of being counted (conditional put, in the same
  // TransactWriteItems: a retried batch counts nothing twice), and the rules' window counters (update, ADD), reads an issuer's past days for
  // the issuance rule (gsi1), creates alerts (conditional put) and publishes them to the alarm topic; reads
  // a licence a failed scan claims to be (get), since only a licence on record counts; marks an alert
  // published (update) and, on a retried batch, reads whether it still is pending (get).
  'supervision-events': {
    table: {
      items: {
        GetItem: [partitions.licence, partitions.alert],
        UpdateItem: [partitions.statistics, partitions.alertWindow, partitions.alert],
        PutItem: [partitions.alert, partitions.statisticsCounted],
      },
      // The issuer's past days' issued counts, nothing else of the index.
      queries: [restricted('gsi1', 'issuedCounters')],
    },
    // The audit table's stream, and no other: the audit entries are all it needs of the writes.
    auditStream: true,
    alerts: true,
  },
  // Bulk issuance jobs (docs/batch-issuance.md), fed by the batch queue: reads a job and its chunks (get)
  // and stores their progress (put), in the batch table; issues each item as POST /licences does (issuer by id (gsi1, then get),
  // idempotency records and status-list counters (update), licences (get, conditional put), audit entries
  // (conditional put)); adds each certified batch key to its issuer (versioned put). Signs one batch-key
  // certificate per batch key with the issuer's key, and holder lookup keys with the MAC key; opens each
  // chunk's sealed items with a data key of the PII key (batch-items context only).
  batches: {
    table: {
      items: {
        GetItem: [partitions.issuer, partitions.licence],
        PutItem: [partitions.issuer, partitions.licence],
        // As POST /licences, each licence's pending work included.
        UpdateItem: issuanceUpdates,
        DeleteItem: pendingWork,
      },
      // Fed by the batch table's stream (through the pipe and queue): an issuer's credit code by id,
      // nothing else of the index.
      queries: [restricted('gsi1', 'issuerById')],
    },
    // Audit entries written, each licence's once under its key ({@link pendingAuditWrites}).
    auditTable: { items: { PutItem: pendingAuditWrites('batches') } },
    // The job and its chunks, in the batch table (the licences issued go to the service table, above); the
    // issuer's open jobs, whose slot a finished job gives back (versioned put).
    batchTable: {
      items: {
        GetItem: [partitions.batch, partitions.batchItems, partitions.batchSlots],
        PutItem: [partitions.batch, partitions.batchItems, partitions.batchSlots],
      },
    },
    lookupMac: true,
    issuerKeys: 'sign',
    batchItems: 'open',
  },
  // Requested SMS codes (shared/identity/sms-jobs.ts), fed by the SMS queue: claims a job (conditional
  // update, given back by update on a failure), reads it and removes it once done (get, delete), in the
  // batch table, opening its phone and ID number with a data key of the PII key
  // (`sms-job` context only); asks the local population and carrier registries (get, the phone digested
  // with the MAC key) and, for a reset, the account (get: the request path reads none, so it is here that a
  // reset with no account, or to a phone other than the proven one, is dropped); makes the code and stores its
  // keyed hash (conditional put, in a transaction with a condition check of the last used code's request
  // time `sms-used#`, so that a job run late stores no code after a later one was used) once the SMS
  // provider took the text, marking the job sent first (update), so that a job run again never texts twice.
  // Before the registries, the person's wrong guesses at live codes of the purpose today (get
  // `login-attempts#sms-check#person#`): past the cap no code is texted. The only function that sends SMS
  // codes, and the only one that writes them (the request functions read, count tries apart and delete).
  // It texts the security notices too (shared/identity/security-notices.ts): the account read (get) for
  // its notice phone, counted on the account's day (`login-attempts#sms-notice#`: get, conditional put,
  // given back by delete or update), the job marked done and kept until it expires, and the entry
  // `account.security_notice_sent` or `_failed` written (audit table put, the phone masked).
  'sms-codes': {
    table: {
      items: {
        GetItem: [
          partitions.account,
          partitions.registryPerson,
          partitions.registryCarrier,
          partitions.smsPersonChecks,
          partitions.smsNoticeCounters,
        ],
        // A security notice counted on its account's day (put), given back when not sent (delete, update).
        PutItem: [partitions.smsCode, partitions.smsNoticeCounters],
        UpdateItem: [partitions.smsNoticeCounters],
        DeleteItem: [partitions.smsNoticeCounters],
        ConditionCheckItem: [partitions.smsUsed],
      },
    },
    batchTable: {
      items: {
        GetItem: [partitions.smsJob],
        UpdateItem: [partitions.smsJob],
        DeleteItem: [partitions.smsJob],
      },
    },
    // A security notice's entry, sent or failed (the phone masked).
    auditTable: { items: { PutItem: chainWrites('sms-codes') } },
    lookupMac: true,
    smsJobs: 'open',
    sms: true,
  },
  // Withdrawal notices (functions/notices.ts, shared/sharing/withdrawal-notices.ts), on a schedule: the
  // due notices (query of the `notices` partition), each platform's metadata for its events endpoint (get
  // `oidc#Client#`), a delivered notice deleted, a failed one moved to its next due time or given up on (a
  // transaction of a conditional delete and a put). Signs each notice with the notice key, a key of its
  // own published at /.well-known/notices-jwks.json, and holds no right on the platform key, which signs
  // ID tokens (review R31 L1): reachable by no route, like the list signer. (The withdrawals' audit entries
  // their request could not write are the reconciler's, below.)
  notices: {
    table: {
      items: {
        GetItem: [partitions.oidcModel('Client')],
        PutItem: [partitions.notices],
        DeleteItem: [partitions.notices],
      },
      partitionQueries: [partitions.notices],
    },
    noticeKey: 'sign',
  },
  // The reconciler (functions/pending-work-reconciler.ts, every minute): the pending work changes left undone
  // (query of the `pending-work#`, `pending-audit#`, `pending-issuer-audit#`, `pending-account-audit#` and
  // `pending-provider-audit#` shards; claimed, released by update, removed by conditional delete):
  // each licence (get; its marker cleared by update), its status list (get, versioned put) and its audit
  // entries, or the audit entries a withdrawal's, an operator's change's, an account's change's or a
  // phone proof's pending work carries (in the query's answer), written once under their keys (a
  // transaction's conditional puts, {@link pendingAuditWrites}).
  // A takeover's or a reset's clean-up left owed (shared/identity/owed-cleanup.ts), found by the pointer
  // its save kept: the account (get, versioned put taking its mark off), the consents given before the
  // reset withdrawn as the provider withdraws them (grants by person, gsi2, get; their tokens deleted, the
  // grants' conditional deletes and each platform's notice put in one transaction; the pairwise subject
  // from the lookup key), the passkeys enrolled until it (gsi1, conditional delete), and the sessions and
  // grants signed in before it (gsi2 by person, get, deletes of `oidc#` items, never a put there), and
  // under a grant made after it, the codes and tokens of such a sign-in (gsi2 by grant with each one's
  // `authTime`, delete; no token read: review R63 F1).
  // No key: it signs nothing.
  'pending-work-reconciler': {
    table: {
      items: {
        GetItem: [
          partitions.licence,
          partitions.statusList,
          partitions.account,
          // A reset's owed clean-up: the person's sessions and grants read for their time, a platform's
          // registration for its notice.
          ...sessionBoundTokens,
        ],
        // A licence's versioned write: the revocation (or the status passed on) that finishes a re-issue an
        // attempt left unfinished (shared/licence/reissue-licence.ts `finishUnfinishedReissue`, review R38 M1).
        PutItem: [partitions.licence, partitions.statusList, partitions.account, partitions.notices],
        UpdateItem: [
          partitions.licence,
          partitions.pendingWork,
          partitions.pendingAudit,
          partitions.pendingIssuerAudit,
          partitions.pendingAccountAudit,
          partitions.pendingProviderAudit,
        ],
        DeleteItem: [
          ...pendingWork,
          ...pendingAudit,
          ...operatorAudit,
          ...accountAudit,
          ...providerAudit,
          // A reset's owed clean-up: the passkeys enrolled until it; the grants, with their codes and
          // tokens, and the sessions of before it, each by its own delete (never BatchWriteItem, R31 H1).
          partitions.passkey,
          partitions.oidcModel('Grant'),
          ...grantMembers,
          partitions.oidcModel('Session'),
        ],
      },
      // The indexes for keys and times alone, never a session's or token's payload (review R54-3): an
      // account of the first layout's lookup key and a passkey's id and time (gsi1), a person's sessions
      // and grants by their keys, each then read by key, and a grant's codes and tokens by their keys and
      // the time of the sign-in behind each (gsi2, `authTime`: review R63 F1).
      queries: [
        restricted('gsi1', 'accountById', 'passkeyEnrolments'),
        restricted('gsi2', 'keys', 'grantMemberTimes'),
      ],
      partitionQueries: [
        ...pendingWork,
        ...pendingAudit,
        ...operatorAudit,
        ...accountAudit,
        ...providerAudit,
      ],
    },
    auditTable: { items: { PutItem: pendingAuditWrites('pending-work-reconciler') } },
    // The security notices the pointers owe, as jobs of the SMS queue (read first: written once).
    batchTable: { items: { GetItem: [partitions.smsJob], PutItem: [partitions.smsJob] } },
    // The pairwise subject of a platform told of a withdrawal (its salt from the lookup key).
    lookupMac: true,
  },
  // The console's open sessions (shared/adapters/dynamo/session-registry.ts): registered at sign-in (conditional put),
  // read on every page (get), deleted at sign-out. A CSV export's audit entry (conditional put).
  console: {
    webMac: true,
    table: {
      items: {
        GetItem: [partitions.webSession],
        PutItem: [partitions.webSession],
        DeleteItem: [partitions.webSession],
      },
    },
    auditTable: { items: { PutItem: chainWrites('console') } },
  },
});

/** `value`, with every object and array in it frozen (in place). */
function deepFrozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFrozen(member);
  }
  return value;
}
