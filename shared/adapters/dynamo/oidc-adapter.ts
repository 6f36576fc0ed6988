import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';
// What `Provider.ctx` reads, without `Provider`: the functions that only read clients or tokens through
// this adapter (licences, verify, me, …) would otherwise bundle and load oidc-provider, koa and mime-db at
// every cold start (docs/benchmarks.md). The pinned version's file; test/unit/sso checks it is the same.
import providerContext from 'oidc-provider/lib/helpers/als.js';

import { AsyncSlot } from '../../async-context.js';
import { epochSeconds, type Clock } from '../../clock.js';
import { ConflictError } from '../../errors.js';
import {
  isConditionalCheckFailed,
  isTransactionConditionFailed,
  writeIf,
  type ItemKey,
} from './conditional.js';
import { logger } from '../../logger.js';
import { isExpired } from './table.js';
import type { PayloadSealer } from '../../sso/sealed-payloads.js';
import { parseAccountId } from '../../identifiers/account-id.js';
import { sameSessionId, uidOfSessionId } from '../../sso/session-ids.js';
import type { CodeReadHints } from '../../sso/code-ids.js';
import type { InteractionCookieJar } from '../../sso/interaction-cookies.js';
import { traceOfDelete, traceOfPut } from '../../sso/traced-grant.js';
import { canonicalJson } from '../../canonical-json.js';
import { grantEndedBy } from '../../identity/person-account.js';
import { indexKeys, keys, prefixes, sortKeys } from './keys.js';
import { writeWithTrace } from './pending-work.js';
import { projectionOf } from './projections.js';
import type { Trace } from '../../pending-work/pending-work.js';

/** What the adapter needs: the table, the time, and the key that seals authorization requests. */
export interface DynamoAdapterDeps {
  doc: DynamoDBDocumentClient;
  tableName: string;
  clock: Clock;
  /**
   * Seals the payloads of {@link SEALED_MODELS}. A composition that stores none of them (the operators'
   * API saves clients only) may leave it out: writing such a model without it then fails, never in clear.
   */
  sealer?: PayloadSealer;
  /**
   * How long this container keeps a client's stored metadata once read (`CLIENT_CACHE_SECONDS`); 0 or
   * unset reads the table every time. A client saved or deleted through this container is forgotten at
   * once; one changed by another container (the operators' API) is read again within this many seconds.
   */
  clientCacheSeconds?: number;
}

/**
 * Models whose id is a bearer credential: stored under the SHA-256 of the id, with `jti` stripped from the
 * payload, so that reading the table yields no usable token. Each is only ever looked up by its id.
 *
 * DeviceCode is deliberately not here: the provider finds it by user code and then saves it under its `jti`
 * (and copies that `jti` into the Interaction), so the raw id must be recoverable from the item. Session
 * likewise is found by uid and re-saved.
 */
const HASHED_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'BackchannelAuthenticationRequest',
  'RegistrationAccessToken',
  'InitialAccessToken',
  'PushedAuthorizationRequest',
  'PreAuthorizedCode',
]);

/**
 * Models that hold an authorization request as the platform sent it: its parameters (`login_hint`, which
 * platforms fill with the person's ID number, `id_token_hint`, whose ID token may carry `id_number`), the
 * pushed request object. Their payloads are sealed at rest (AES-256-GCM, bound to the item's key): the
 * login page still prefills the hint it was given, read back through the provider, but the table never
 * holds the number. `consumed` stays outside the seal, since `consume` is a conditional update of that one
 * attribute. The Interaction (the login prompt's details) is not here: it never reaches the table as a
 * model, and is sealed in the browser's cookie instead, or, too large for one, sealed the same way (bound
 * to the browser) under `interaction-state#<uid>` (shared/sso/interaction-cookies.ts, {@link interactionJar}).
 */
const SEALED_MODELS: ReadonlySet<string> = new Set([
  'PushedAuthorizationRequest',
  'BackchannelAuthenticationRequest',
  'DeviceCode',
]);

/**
 * The opaque access tokens, of both kinds, share one partition (`oidc#Bearer#<hash>`) and say their model
 * in the item: a resource server that accepts either kind finds a token with one read, not one per kind.
 * The provider itself asks for one model at a time, and gets nothing for a token of the other.
 */
const BEARER_MODELS: ReadonlySet<string> = new Set(['AccessToken', 'ClientCredentials']);
const BEARER_PARTITION = 'Bearer';

/** Models that belong to a grant and die with it (the same set as the provider's memory adapter). */
const GRANT_MODELS: ReadonlySet<string> = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/**
 * Models indexed by the person they belong to (gsi2, `oidc-account#<personId>`), so that every sign-in of a
 * person can be ended at once ({@link endSignInsOf}); their own gsi2 is otherwise unused.
 */
const ACCOUNT_MODELS: ReadonlySet<string> = new Set(['Grant', 'Session']);

/** The person an account id names (an entity session's acting person), or nothing for a malformed id. */
function personOf(accountId: unknown): string | undefined {
  if (typeof accountId !== 'string' || accountId.length === 0) return undefined;
  try {
    return parseAccountId(accountId).personId;
  } catch {
    return undefined;
  }
}

/** DynamoDB rejects partition keys over 2048 bytes; such an id cannot have been stored. */
const MAX_KEY_BYTES = 1024;
const BATCH_SIZE = 25;
const BATCH_ATTEMPTS = 8;

/** The opaque-token models a resource server accepts as bearer access tokens. */
export type AccessTokenModel = 'AccessToken' | 'ClientCredentials';

/**
 * When the sign-in behind a code or token was made (epoch seconds): a code's or a refresh token's
 * `authTime`, an access token's `auth_time` (provider.ts `extraTokenClaims`, which a refresh keeps), as
 * an attribute of its item beside the payload, so that the reconciler can end those of a sign-in before a
 * reset through gsi2 without reading a token (review R63 F1, {@link ofSignInsBefore}).
 */
function signInTimeOf(payload: AdapterPayload): { authTime?: number } {
  const held = payload as { authTime?: unknown; extra?: { auth_time?: unknown } };
  const time = typeof held.authTime === 'number' ? held.authTime : held.extra?.auth_time;
  return typeof time === 'number' && Number.isFinite(time) ? { authTime: time } : {};
}

interface OidcItem extends ItemKey {
  /** The provider's payload; for a sealed model `{ sealed, consumed? }`. */
  payload: AdapterPayload;
  /** The model of an item in a shared partition ({@link BEARER_MODELS}). */
  model?: string;
  expiresAt?: number;
  gsi1pk?: string;
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * The id part of a model's key: the hash of a bearer credential; for a session whose id names its uid
 * (`shared/sso/session-ids.ts`) the uid, so that one item is found by id and by uid alike.
 */
function storageKey(model: string, id: string): string {
  if (HASHED_MODELS.has(model)) return sha256(id);
  return (model === 'Session' && uidOfSessionId(id)) || id;
}

function fits(value: string): boolean {
  return Buffer.byteLength(value) <= MAX_KEY_BYTES;
}

/**
 * The primary key of an OIDC model's item: `oidc#<Model>#<id, or its hash for bearer models>`, and
 * `oidc#Bearer#<hash>` for both kinds of access token.
 */
export function oidcItemKey(model: string, id: string): ItemKey {
  return keys.oidc(BEARER_MODELS.has(model) ? BEARER_PARTITION : model, storageKey(model, id));
}

/**
 * Where an access token was stored before the kinds shared a partition (`oidc#<Model>#<hash>`): read only
 * when the new key holds nothing, so that tokens issued before the change keep working for the rest of
 * their life (ACCESS_TOKEN_TTL_SECONDS at most); after that the fallback finds nothing and can go.
 */
function legacyBearerKey(model: string, id: string): ItemKey | undefined {
  return BEARER_MODELS.has(model) ? keys.oidc(model, storageKey(model, id)) : undefined;
}

interface CachedClient {
  item: OidcItem;
  /** Milliseconds since the epoch, on the adapter's clock. */
  until: number;
}

/** Client metadata read per container (one document client per container), see `clientCacheSeconds`. */
const clientCaches = new WeakMap<object, Map<string, CachedClient>>();
/**
 * Every client cache of this process, so that a change forgets the client in all of them: in Lambda that
 * is the one container's; in the local runtime, where every function's container shares the process, a
 * withdrawal counts at once everywhere (as the issuer cache does), not after `clientCacheSeconds`.
 */
const processClientCaches = new Set<WeakRef<Map<string, CachedClient>>>();
/** Counts the client changes of this process, so that a read in flight across one is not cached. */
let clientChanges = 0;

function clientCache(deps: DynamoAdapterDeps): Map<string, CachedClient> | undefined {
  if (!deps.clientCacheSeconds || deps.clientCacheSeconds <= 0) return undefined;
  let cache = clientCaches.get(deps.doc);
  if (!cache) {
    cache = new Map();
    clientCaches.set(deps.doc, cache);
    processClientCaches.add(new WeakRef(cache));
  }
  return cache;
}

/**
 * A stored client, from this container's cache while fresh. Only a client found is kept (a client registered
 * a moment ago works at once); a copy is handed out, so no caller can change what the next one reads.
 */
async function getClient(deps: DynamoAdapterDeps, id: string): Promise<OidcItem | undefined> {
  const cache = clientCache(deps);
  const now = deps.clock.now();
  const cached = cache?.get(id);
  if (cached && cached.until > now) return structuredClone(cached.item);
  const readSince = clientChanges;
  const item = await getLive(deps, oidcItemKey('Client', id));
  if (cache) {
    // A change of this process while the read was in flight: the record may predate it, so it is not kept.
    if (item && readSince === clientChanges)
      cache.set(id, { item: structuredClone(item), until: now + deps.clientCacheSeconds! * 1000 });
    else cache.delete(id);
  }
  return item;
}

/** Whether this container keeps `id`'s registration, fresh: reading it then costs no call. */
function clientKnown(deps: DynamoAdapterDeps, id: string): boolean {
  const cached = clientCache(deps)?.get(id);
  return cached !== undefined && cached.until > deps.clock.now();
}

/**
 * Keeps a client's registration read some other way (a batch) as {@link getClient} keeps what it reads:
 * not when this process changed a client since the read began (`readSince`, a count of the changes).
 */
function keepClient(deps: DynamoAdapterDeps, id: string, item: OidcItem, readSince: number): void {
  const cache = clientCache(deps);
  if (!cache) return;
  if (readSince !== clientChanges) {
    cache.delete(id);
    return;
  }
  cache.set(id, { item: structuredClone(item), until: deps.clock.now() + deps.clientCacheSeconds! * 1000 });
}

/**
 * What this container last read or wrote of each session (its payload without the times, and when the item
 * expires), so that the provider's re-save of a session it did not change, at the end of every request
 * that carries the cookie, need not be written: see {@link DynamoAdapter.upsert}. Never used to answer a
 * read. Bounded: past {@link SESSION_MEMO_LIMIT} entries the oldest go.
 */
const sessionMemos = new WeakMap<object, Map<string, { content: string; expiresAt?: number }>>();
const SESSION_MEMO_LIMIT = 1000;

/** A session's payload without the times every save changes (`iat`, `exp`), in a stable form. */
function sessionContent(payload: AdapterPayload): string {
  const { exp: _exp, iat: _iat, ...content } = payload;
  return canonicalJson(content);
}

function sessionMemo(deps: DynamoAdapterDeps): Map<string, { content: string; expiresAt?: number }> {
  let memo = sessionMemos.get(deps.doc);
  if (!memo) {
    memo = new Map();
    sessionMemos.set(deps.doc, memo);
  }
  return memo;
}

function rememberSession(deps: DynamoAdapterDeps, key: string, payload: AdapterPayload, expiresAt?: number) {
  const memo = sessionMemo(deps);
  memo.delete(key);
  if (memo.size >= SESSION_MEMO_LIMIT) memo.delete(memo.keys().next().value!);
  memo.set(key, { content: sessionContent(payload), ...(expiresAt !== undefined && { expiresAt }) });
}

/**
 * A session re-saved unchanged is written again only once a tenth of its lifetime has passed since it was
 * last written: it stays alive while used (its expiry slides by at least 90% of the lifetime), and single
 * sign-on does not cost a write per authorization.
 */
const SESSION_RESAVE_FRACTION = 0.1;

/** Forgets a client this process changed, so that every container of it reads the change next. */
function forgetClient(_deps: Pick<DynamoAdapterDeps, 'doc'>, id: string): void {
  clientChanges += 1;
  for (const ref of processClientCaches) {
    const cache = ref.deref();
    if (cache) cache.delete(id);
    else processClientCaches.delete(ref);
  }
}

/**
 * Changes some members of a stored client's metadata (`payload`), and only those: one UpdateItem, on
 * condition that the client is there (false, nothing written, when it is not). Never a read-modify-write
 * of the whole record, which would undo whatever another writer saved between the read and the write (an
 * operator's change of `events_uri` and a rotation's `secret_version`). With `trace`, the update and the
 * pointer that carries its audit entry are one transaction (`writeWithTrace`, `pending-issuer-audit#`:
 * an operator's change); another write of the client under way at that moment is `ConflictError`
 * `client_changed` (nothing written: ask again). Forgets the client in this process's caches, as a save
 * does.
 */
export async function updateClientMembers(
  deps: Pick<DynamoAdapterDeps, 'doc' | 'tableName'>,
  id: string,
  change: { set?: Readonly<Record<string, unknown>>; remove?: readonly string[] },
  trace?: Trace,
): Promise<boolean> {
  const set = Object.entries(change.set ?? {}).filter(([, value]) => value !== undefined);
  const remove = (change.remove ?? []).filter((name) => !set.some(([member]) => member === name));
  if (set.length + remove.length === 0) throw new Error('updateClientMembers: nothing to change');
  const names: Record<string, string> = { '#payload': 'payload' };
  const values: Record<string, unknown> = {};
  const sets = set.map(([member, value], i) => {
    names[`#s${i}`] = member;
    // JSON data, as `upsert` stores a payload.
    values[`:s${i}`] = JSON.parse(JSON.stringify(value)) as unknown;
    return `#payload.#s${i} = :s${i}`;
  });
  const removes = remove.map((member, i) => {
    names[`#r${i}`] = member;
    return `#payload.#r${i}`;
  });
  const update = {
    TableName: deps.tableName,
    Key: oidcItemKey('Client', id),
    UpdateExpression: [
      sets.length > 0 ? `SET ${sets.join(', ')}` : '',
      removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
    ]
      .join(' ')
      .trim(),
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeNames: names,
    ...(sets.length > 0 && { ExpressionAttributeValues: values }),
  };
  let updated: boolean;
  if (trace) {
    const outcome = await writeWithTrace(deps.doc, deps.tableName, { Update: update }, trace, 'operators');
    if (outcome === 'contended') {
      throw new ConflictError('The client changed meanwhile; try again', 'client_changed');
    }
    updated = outcome === 'written';
  } else {
    updated = await writeIf(deps.doc, new UpdateCommand(update));
  }
  forgetClient(deps, id);
  return updated;
}

/**
 * Registers a client (an operator's registration) as the provider's `upsert` stores one (its metadata as
 * the payload, JSON data), only where no client has the id, in one transaction with the put of the
 * pointer that carries its audit entry (`writeWithTrace`, `pending-issuer-audit#`: an operator's change).
 * An id taken is `ConflictError` `client_exists`; a write under way of the same item at that moment
 * `client_changed` (nothing written either way). Forgets the client in this process's caches, as a save
 * does.
 */
export async function putNewClient(
  deps: Pick<DynamoAdapterDeps, 'doc' | 'tableName'>,
  id: string,
  metadata: Readonly<Record<string, unknown>>,
  trace: Trace,
): Promise<void> {
  const key = oidcItemKey('Client', id);
  if (!fits(id)) throw new Error('Client id is too long to store');
  const put = {
    TableName: deps.tableName,
    Item: { ...key, payload: JSON.parse(JSON.stringify(metadata)) as AdapterPayload },
    ConditionExpression: 'attribute_not_exists(pk)',
  };
  const outcome = await writeWithTrace(deps.doc, deps.tableName, { Put: put }, trace, 'operators');
  forgetClient(deps, id);
  if (outcome === 'refused') throw new ConflictError(`Client ${id} is already registered`, 'client_exists');
  if (outcome === 'contended')
    throw new ConflictError('The client changed meanwhile; try again', 'client_changed');
}

async function getLive(deps: DynamoAdapterDeps, key: ItemKey): Promise<OidcItem | undefined> {
  const { Item } = await deps.doc.send(
    new GetCommand({ TableName: deps.tableName, Key: key, ConsistentRead: true }),
  );
  const item = Item as OidcItem | undefined;
  return item && !isExpired(item, epochSeconds(deps.clock)) ? item : undefined;
}

/** The provider's payload of an item: opened when sealed (a payload stored before sealing reads as is). */
async function payloadOf(deps: DynamoAdapterDeps, model: string, item: OidcItem): Promise<AdapterPayload> {
  const { sealed, consumed } = item.payload as { sealed?: unknown; consumed?: unknown };
  if (!SEALED_MODELS.has(model) || typeof sealed !== 'string') return item.payload;
  if (!deps.sealer) throw new Error(`${model} is sealed and this adapter has no key to open it`);
  const opened = (await deps.sealer.open(item.pk, sealed)) as AdapterPayload;
  return consumed === undefined ? opened : { ...opened, consumed: consumed as number };
}

/** The live item of a model by id: clients through the cache, access tokens under their shared key. */
async function findItem(deps: DynamoAdapterDeps, model: string, id: string): Promise<OidcItem | undefined> {
  if (model === 'Client') return getClient(deps, id);
  const item = await getLive(deps, oidcItemKey(model, id));
  const legacy = legacyBearerKey(model, id);
  if (!legacy) return item;
  // The other kind of token (or one stored before the shared key) is not this model's.
  if (item) return item.model === model ? item : undefined;
  return getLive(deps, legacy);
}

/** Reads a model by id; for bearer models the `jti` the provider expects is put back from the id. */
async function findModel(
  deps: DynamoAdapterDeps,
  model: string,
  id: string,
): Promise<AdapterPayload | undefined> {
  if (!fits(id)) return undefined;
  const read = READ_AHEAD_MODELS.has(model) ? takeRead(deps, oidcItemKey(model, id)) : undefined;
  const item = read ? read.item : await findItem(deps, model, id);
  if (!item) return undefined;
  if (model === 'Session') {
    // The item of a session is keyed by its uid: only the current id (the cookie) opens it.
    const stored = item.payload.jti;
    if (typeof stored !== 'string' || !sameSessionId(stored, id)) return undefined;
    rememberSession(deps, item.pk, item.payload, item.expiresAt);
  }
  const payload = await payloadOf(deps, model, item);
  return HASHED_MODELS.has(model) ? { ...payload, jti: id } : payload;
}

/** Models whose reads by id may be answered by what was read ahead for the request (see below). */
const READ_AHEAD_MODELS: ReadonlySet<string> = new Set(['Grant', 'AuthorizationCode']);

/**
 * Reads made together for the request under way: when the token endpoint exchanges an authorization
 * code, the client-authentication counter, the code and the session, grant and account the provider
 * reads next to check it (`checkSessionBinding`, then `validateGrant`, then the account lookup) come in
 * one round trip, one BatchGetItem, instead of one GetItem each. Each entry answers once, within that
 * request only, and only the read it stands for: it is the same consistent read made a few milliseconds
 * earlier in the same request, never a cache across requests (a grant revoked after it is refused by the
 * next request, as before).
 *
 * The request is the scope {@link withRequestReads} opens (the `oidc` function opens one per invocation,
 * around its client-authentication throttle and the provider), else the provider's koa context
 * (`Provider.ctx`).
 */
const requestReads = new WeakMap<object, Map<string, { item: OidcItem | undefined }>>();

/** One request's reads, and its writes held until it ends (see {@link withRequestReads}). */
interface RequestScope {
  reads: Map<string, { item: OidcItem | undefined }>;
  /** Puts held for one BatchWriteItem at the end of the request, by key (the last put of a key wins). */
  writes: Map<string, PendingWrite>;
  /**
   * Sessions whose id `resume` renews (by key: the old id), not deleted but put again under the same key
   * on condition that they still hold the old id, with the request's grant and code (review R67-2).
   */
  renewals: Map<string, { deps: DynamoAdapterDeps; id: string }>;
  /**
   * Where the provider's interactions live in this request: in the browser's cookies, sealed
   * ({@link InteractionCookieJar}), when the `oidc` function passes its jar; nowhere otherwise.
   */
  interactions?: InteractionCookieJar;
  /** Once the request's writes are flushed nothing more is held: a late put is written at once. */
  closed: boolean;
}

interface PendingWrite {
  deps: DynamoAdapterDeps;
  item: Record<string, unknown> & ItemKey;
  /** Its condition: a session read from the store is put only while it is still there (review R66-1). */
  condition?: PutCondition;
  /** What the adapter does once the item is written (remember a session, say). */
  written(): void;
}

/** The condition of a put, as the put (or a transaction's Put) takes it. */
interface PutCondition {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

const requestScope = new AsyncSlot<RequestScope>('oidc request scope');

/**
 * Runs one request with reads of its own: what is read ahead in it answers reads of it only, and is
 * dropped when it ends. Puts it holds (the provider's `resume`, see {@link heldPut}) are written, as one
 * BatchWriteItem, before this resolves: if they cannot be written it rejects, so the answer that names
 * them (the redirect with the code) is never sent. With `interactions` (the browser's sealed interaction
 * cookies, shared/sso/interaction-cookies.ts) the provider's interactions are kept there for the request,
 * not as the model's items: read from the cookies, saved to them (one too large for its cookie sealed
 * under `interaction-state#<uid>`, which the jar reads and writes), and their end marked in the table once.
 *
 * @example
 * ```ts
 * const jar = interactionCookies.jar(event.cookies ?? [], () => epochSeconds(clock));
 * const answer = await withRequestReads(() => throttleClientAuthentication(event, serve, deps, routes), {
 *   interactions: jar,
 * });
 * // answer.cookies: add jar.setCookies()
 * ```
 */
export function withRequestReads<T>(
  run: () => Promise<T>,
  options: { interactions?: InteractionCookieJar } = {},
): Promise<T> {
  const scope: RequestScope = {
    reads: new Map(),
    writes: new Map(),
    renewals: new Map(),
    ...(options.interactions && { interactions: options.interactions }),
    closed: false,
  };
  return requestScope.run(scope, async () => {
    let answer: T;
    try {
      answer = await run();
    } catch (error) {
      // No answer to hold back: what the request held is not written (nothing will name it).
      scope.closed = true;
      scope.writes.clear();
      scope.renewals.clear();
      throw error;
    }
    await flushHeldWrites(scope);
    scope.closed = true;
    return answer;
  });
}

/**
 * Models whose puts the provider's `resume` (the end of a sign-in) makes one after another, none read
 * back in the request: the grant, the code, the session. Held and written together as one BatchWriteItem
 * when the request ends, before its answer leaves (two round trips fewer per sign-in); one transaction
 * instead when the session's put is conditional (review R66-1; its id renewed, review R67-2).
 */
const HELD_MODELS: ReadonlySet<string> = new Set(['Grant', 'AuthorizationCode', 'Session']);

/**
 * The browser's interactions, when the request under way keeps them in cookies; `null` for an
 * `Interaction` outside such a request (never in the table: see {@link DynamoAdapter.find}).
 */
function interactionJar(model: string): InteractionCookieJar | null | undefined {
  if (model !== 'Interaction') return undefined;
  const scope = requestScope.getStore();
  return scope && !scope.closed && scope.interactions ? scope.interactions : null;
}

/** An interaction outside a request with the browser's cookies: there is nowhere it may be kept. */
function noInteractionJar(): Error {
  return new Error("an interaction is kept only in the browser's cookie, within the oidc function's request");
}

/** The provider's Interaction ttl (shared/sso/provider.ts), for a save or a mark that names none. */
const INTERACTION_SECONDS = 3600;
/** The model under whose key a used interaction is marked (`oidc#InteractionUsed#<uid>`). */
const USED_INTERACTION = 'InteractionUsed';

/**
 * How long the mark of a used interaction is kept past the interaction's own expiry: containers' clocks
 * may differ a little, and the mark must outlive every cookie it refuses.
 */
const USED_INTERACTION_MARGIN_SECONDS = 300;

/** The renewal of the session under `key` that this request's `resume` holds, taken (see `destroy`). */
function takeRenewal(deps: DynamoAdapterDeps, key: ItemKey): { id: string } | undefined {
  const renewals = requestScope.getStore()?.renewals;
  const renewal = renewals?.get(readKey(deps.tableName, key));
  if (renewal) renewals!.delete(readKey(deps.tableName, key));
  return renewal;
}

/** Whether a put of `model` is held for the end of the request under way. */
function heldPut(model: string): RequestScope | undefined {
  const scope = requestScope.getStore();
  if (!scope || scope.closed || !HELD_MODELS.has(model)) return undefined;
  const ctx = requestContext() as { oidc?: { route?: string } } | undefined;
  return ctx?.oidc?.route === 'resume' ? scope : undefined;
}

/**
 * Writes what the request under way holds, before any other call of the adapter in it: every read, delete
 * and conditional write then sees the table as if each put had been made when the provider asked.
 */
async function flushHeld(): Promise<void> {
  const scope = requestScope.getStore();
  if (scope && (scope.writes.size > 0 || scope.renewals.size > 0)) await flushHeldWrites(scope);
}

async function flushHeldWrites(scope: RequestScope): Promise<void> {
  const held = [...scope.writes.values()];
  scope.writes.clear();
  // One batch per table (in practice there is one).
  const byTable = new Map<string, PendingWrite[]>();
  for (const write of held)
    byTable.set(write.deps.tableName, [...(byTable.get(write.deps.tableName) ?? []), write]);
  for (const writes of byTable.values()) {
    const { deps } = writes[0]!;
    const conditional = writes.some((write) => write.condition);
    try {
      if (writes.length === 1) {
        await deps.doc.send(
          new PutCommand({
            TableName: deps.tableName,
            Item: writes[0]!.item,
            ...writes[0]!.condition,
          }),
        );
      } else if (conditional) {
        // A batch takes no condition: one transaction instead, the same one call (review R66-1).
        await deps.doc.send(
          new TransactWriteCommand({
            TransactItems: writes.map(({ item, condition }) => ({
              Put: { TableName: deps.tableName, Item: item, ...condition },
            })),
          }),
        );
      } else {
        await batchWrite(
          deps,
          writes.map(({ item }) => ({ PutRequest: { Item: item } })),
        );
      }
    } catch (error) {
      // The session was ended meanwhile (the reconciler, a logout): nothing of this request is written.
      if (!isConditionalCheckFailed(error) && !isTransactionConditionFailed(error)) throw error;
      sessionEndedMeanwhile(writes);
      continue;
    }
    for (const write of writes) write.written();
  }
  // A renewal no save followed (the provider always saves the renewed session at once): the old id ended.
  const renewed = [...scope.renewals.values()];
  scope.renewals.clear();
  for (const { deps, id } of renewed) await endSessionId(deps, id);
}

/**
 * Deletes the session whose id (naming its uid) is `id`: keyed by uid, only while this id is its current
 * id (never one renewed since).
 */
async function endSessionId(deps: DynamoAdapterDeps, id: string): Promise<void> {
  const key = oidcItemKey('Session', id);
  try {
    await deps.doc.send(
      new DeleteCommand({
        TableName: deps.tableName,
        Key: key,
        ConditionExpression: '#payload.#jti = :id',
        ExpressionAttributeNames: { '#payload': 'payload', '#jti': 'jti' },
        ExpressionAttributeValues: { ':id': id },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    // Not this id's any more, or gone (ended meanwhile): a save renewing its id (the provider's
    // `resetIdentifier` at logout destroys the old id, then saves) must not bring it back (review R66-1):
    // remembered as read, so that save is conditional on the item being there.
    rememberSession(deps, key.pk, {});
  }
}

/**
 * A session the request read was deleted before its save (review R66-1): it is not written back, and the
 * request is not failed; the next request finds no session and signs in again.
 */
function sessionEndedMeanwhile(writes: Array<Pick<PendingWrite, 'deps' | 'item'>>): void {
  for (const { deps, item } of writes)
    if (item.pk.startsWith(`${prefixes.oidc}Session#`)) sessionMemo(deps).delete(item.pk);
  logger.info('session ended while a request used it: not saved again');
}

function requestContext(): object | undefined {
  return providerContext.getStore();
}

/** The reads of the request under way, made on first use; undefined outside any request. */
function currentReads(): Map<string, { item: OidcItem | undefined }> | undefined {
  const scoped = requestScope.getStore();
  if (scoped) return scoped.reads;
  const ctx = requestContext();
  if (!ctx) return undefined;
  let reads = requestReads.get(ctx);
  if (!reads) {
    reads = new Map();
    requestReads.set(ctx, reads);
  }
  return reads;
}

function readKey(tableName: string, key: ItemKey): string {
  return `${tableName}\u0000${key.pk}\u0000${key.sk}`;
}

/**
 * The item read ahead for this request under `key`, once (`{ item: undefined }`: read, and absent or
 * expired); undefined when nothing was read ahead for it, and always outside a request.
 *
 * @example
 * ```ts
 * const read = takeRequestRead(tableName, keys.accountById(id));
 * const item = read ? read.item : await getItem(doc, tableName, keys.accountById(id), 0);
 * ```
 */
export function takeRequestRead(tableName: string, key: ItemKey): { item: object | undefined } | undefined {
  const ctx = requestContext();
  const reads = requestScope.getStore()?.reads ?? (ctx && requestReads.get(ctx));
  const read = reads?.get(readKey(tableName, key));
  if (read) reads!.delete(readKey(tableName, key));
  return read;
}

function takeRead(deps: DynamoAdapterDeps, key: ItemKey): { item: OidcItem | undefined } | undefined {
  return takeRequestRead(deps.tableName, key) as { item: OidcItem | undefined } | undefined;
}

/**
 * After a code is found, reads its session (by uid, see {@link DynamoAdapter.findByUid}), its grant and
 * its person's account in one BatchGetItem, kept for the provider's next three reads in this request; those
 * already read ahead with the code ({@link readAheadCodeExchange}, a code whose value named them) are not
 * read again. Only at the token endpoint's code exchange, and only for a code bound to a session:
 * elsewhere the provider reads as it always did.
 */
async function readAheadForCode(deps: DynamoAdapterDeps, payload: AdapterPayload): Promise<void> {
  const ctx = requestContext() as { oidc?: { route?: string } } | undefined;
  if (!ctx || ctx.oidc?.route !== 'token') return;
  const wanted = codeReads(payload);
  if (wanted.length === 0) return;
  const reads = currentReads()!;
  await readAhead(
    deps,
    reads,
    wanted.filter((key) => !reads.has(readKey(deps.tableName, key))),
  );
}

/** What the provider reads after a session-bound code: its session, grant and person's account. */
function codeReads(code: {
  sessionUid?: unknown;
  grantId?: unknown;
  accountId?: unknown;
  expiresWithSession?: unknown;
}): ItemKey[] {
  const { sessionUid, grantId, expiresWithSession } = code;
  if (!expiresWithSession || typeof sessionUid !== 'string' || typeof grantId !== 'string') return [];
  if (!fits(sessionUid) || sessionUid.includes('.') || !fits(grantId)) return [];
  // The person's account too (an entity account's acting person), which the provider's account lookup
  // reads next (shared/sso/find-account.ts, through the account store's findById).
  const person = personOf(code.accountId);
  return [
    keys.oidc('Session', sessionUid),
    oidcItemKey('Grant', grantId),
    ...(person && fits(person) ? [keys.accountById(person)] : []),
  ];
}

/**
 * Before the token endpoint authenticates the client of a code exchange: one BatchGetItem reads `also`
 * (the client-authentication throttle's counter, which the throttle then takes from this request's reads),
 * the code, and the session, grant and account the code's value names (`hints`, opened by
 * shared/sso/code-ids.ts), all kept for this request's reads. The names in the value are hints only:
 * each entry answers nothing but the read of its own key, and the provider reads by what the stored code
 * says, so a code value naming someone else's session finds no code and reads nothing that answers
 * anyone (a value whose hints are wrong costs the reads the stored code needs afterwards, as a code
 * without hints does). Outside a request scope it reads nothing (each read is then made where needed).
 *
 * @example
 * ```ts
 * await withRequestReads(async () => {
 *   await readAheadCodeExchange(deps, code, codeIds.hintsOf(code), [keys.loginAttempts(counter)]);
 *   return serve(event); // the counter, the code, its session, grant and account: no further read
 * });
 * ```
 */
export async function readAheadCodeExchange(
  deps: DynamoAdapterDeps,
  code: string,
  hints: CodeReadHints | undefined,
  also: readonly ItemKey[],
): Promise<void> {
  const reads = requestScope.getStore()?.reads;
  if (!reads) return;
  const wanted = [...also];
  if (code.length > 0 && fits(code)) {
    wanted.push(oidcItemKey('AuthorizationCode', code));
    const named = (value: string | undefined): value is string =>
      value !== undefined && fits(value) && !value.includes('.');
    if (named(hints?.sessionUid)) wanted.push(keys.oidc('Session', hints.sessionUid));
    if (named(hints?.grantId)) wanted.push(oidcItemKey('Grant', hints.grantId));
    if (named(hints?.personId)) wanted.push(keys.accountById(hints.personId));
  }
  await readAhead(deps, reads, wanted);
}

/**
 * At the authorization endpoint, once the session is found by its cookie: the grant of the client asking
 * (by the request's `client_id`) and the session's account, which the provider reads next (`loadGrant`,
 * the account lookup), in one BatchGetItem. Nothing when either is unknown: one item gains no call.
 */
async function readAheadForSession(deps: DynamoAdapterDeps, payload: AdapterPayload): Promise<void> {
  const ctx = requestContext() as { oidc?: { route?: string }; query?: Record<string, unknown> } | undefined;
  if (!ctx || ctx.oidc?.route !== 'authorization') return;
  const clientId = ctx.query?.client_id;
  const authorizations = payload.authorizations as Record<string, { grantId?: unknown }> | undefined;
  const grantId =
    typeof clientId === 'string' && authorizations && Object.hasOwn(authorizations, clientId)
      ? authorizations[clientId]?.grantId
      : undefined;
  const person = personOf(payload.accountId);
  if (typeof grantId !== 'string' || !fits(grantId) || !person || !fits(person)) return;
  await readAhead(deps, currentReads()!, [oidcItemKey('Grant', grantId), keys.accountById(person)]);
}

/**
 * Reads `keysWanted` in one BatchGetItem, consistently, retrying the keys DynamoDB leaves unprocessed: by
 * `readKey`, each key read (its live item, or undefined for none or expired); a key still unprocessed
 * after the retries is not in the answer.
 */
async function batchRead(
  deps: DynamoAdapterDeps,
  keysWanted: readonly ItemKey[],
): Promise<Map<string, OidcItem | undefined>> {
  // DynamoDB refuses a batch naming a key twice.
  const wanted = [...new Map(keysWanted.map((key) => [readKey(deps.tableName, key), key])).values()];
  const answer = new Map<string, OidcItem | undefined>();
  if (wanted.length === 0) return answer;
  let requests: ItemKey[] = wanted;
  const found: OidcItem[] = [];
  for (let attempt = 0; requests.length > 0; attempt += 1) {
    if (attempt === BATCH_ATTEMPTS) break;
    if (attempt > 0) await sleep(Math.min(50 * 2 ** attempt, 2_000) * Math.random());
    const { Responses, UnprocessedKeys } = await deps.doc.send(
      new BatchGetCommand({ RequestItems: { [deps.tableName]: { Keys: requests, ConsistentRead: true } } }),
    );
    found.push(...((Responses?.[deps.tableName] ?? []) as OidcItem[]));
    requests = (UnprocessedKeys?.[deps.tableName]?.Keys ?? []) as ItemKey[];
  }
  const now = epochSeconds(deps.clock);
  for (const key of wanted) {
    if (requests.some((left) => left.pk === key.pk && left.sk === key.sk)) continue;
    const item = found.find((candidate) => candidate.pk === key.pk && candidate.sk === key.sk);
    answer.set(readKey(deps.tableName, key), item && !isExpired(item, now) ? item : undefined);
  }
  return answer;
}

/** Reads `wanted` in one BatchGetItem ({@link batchRead}) and keeps them in `reads`. */
async function readAhead(
  deps: DynamoAdapterDeps,
  reads: Map<string, { item: OidcItem | undefined }>,
  keysWanted: ItemKey[],
): Promise<void> {
  // Keys left unprocessed after retries are simply not read ahead: the provider then reads them itself.
  for (const [key, item] of await batchRead(deps, keysWanted)) reads.set(key, { item });
}

/**
 * Deletes `keys`, each by its own DeleteItem, {@link BATCH_SIZE} at a time in parallel. Never a
 * BatchWriteItem: IAM cannot tell a BatchWriteItem's delete requests from its puts, so a role granted it
 * to delete a grant's tokens could store a forged access token under the same keys (review R31 H1). The
 * functions that end sign-ins or withdraw shares (`me`, `accounts`) hold DeleteItem alone on those
 * partitions. Off the sign-in paths (a grant revoked, a person's sign-ins ended), so the calls it adds
 * are on no path whose round trips are pinned.
 */
async function batchDelete(deps: DynamoAdapterDeps, keys: ItemKey[]): Promise<void> {
  for (let start = 0; start < keys.length; start += BATCH_SIZE) {
    await Promise.all(
      keys
        .slice(start, start + BATCH_SIZE)
        .map((Key) => deps.doc.send(new DeleteCommand({ TableName: deps.tableName, Key }))),
    );
  }
}

type WriteRequest = { PutRequest: { Item: Record<string, unknown> } };

/** BatchWriteItem in chunks of 25, retrying what DynamoDB leaves unprocessed; throws if some stays so. */
async function batchWrite(deps: DynamoAdapterDeps, all: WriteRequest[]): Promise<void> {
  for (let start = 0; start < all.length; start += BATCH_SIZE) {
    let requests = all.slice(start, start + BATCH_SIZE);
    for (let attempt = 0; requests.length > 0; attempt += 1) {
      if (attempt === BATCH_ATTEMPTS) throw new Error('BatchWrite left items unprocessed after retries');
      if (attempt > 0) await sleep(Math.min(50 * 2 ** attempt, 2_000) * Math.random());
      const { UnprocessedItems } = await deps.doc.send(
        new BatchWriteCommand({ RequestItems: { [deps.tableName]: requests } }),
      );
      requests = (UnprocessedItems?.[deps.tableName] ?? []) as typeof requests;
    }
  }
}

/**
 * oidc-provider's storage on the single table, one adapter instance per model. Every state change is one
 * write of one item; secondary lookups go through the overloaded GSIs (see `shared/adapters/dynamo/table.ts`).
 */
class DynamoAdapter implements Adapter {
  constructor(
    private readonly deps: DynamoAdapterDeps,
    private readonly model: string,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = storageKey(this.model, id);
    if (!fits(key)) throw new Error(`${this.model} id is too long to store`);
    // Payloads are JSON data: the round trip drops undefined and turns anything exotic into what JSON would.
    const stored = JSON.parse(JSON.stringify(payload)) as AdapterPayload;
    if (HASHED_MODELS.has(this.model)) delete stored.jti;
    const jar = interactionJar(this.model);
    if (jar === null) throw noInteractionJar();
    if (jar) {
      // Kept in the browser, sealed: no table call; one too large for its cookie in the table, sealed the
      // same way, the cookie pointing at it (shared/sso/interaction-cookies.ts).
      const seconds = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : INTERACTION_SECONDS;
      await jar.write(id, stored, epochSeconds(this.deps.clock) + seconds);
      return;
    }

    const { uid, userCode, grantId, accountId } = payload;
    const person = ACCOUNT_MODELS.has(this.model) ? personOf(accountId) : undefined;
    const itemKey = oidcItemKey(this.model, id);
    let sealedOrNot: AdapterPayload = stored;
    if (SEALED_MODELS.has(this.model)) {
      if (!this.deps.sealer) throw new Error(`${this.model} must be sealed and this adapter has no key`);
      const { consumed, ...rest } = stored;
      sealedOrNot = {
        sealed: await this.deps.sealer.seal(itemKey.pk, rest),
        ...(consumed === undefined ? {} : { consumed }),
      } as AdapterPayload;
    }
    const expiresAt =
      typeof expiresIn === 'number' && expiresIn > 0 ? epochSeconds(this.deps.clock) + expiresIn : undefined;
    // The session `resume` renews (see `destroy`): put only while it still holds the old id (review R67-2).
    const renewal = this.model === 'Session' ? takeRenewal(this.deps, itemKey) : undefined;
    if (
      this.model === 'Session' &&
      !renewal &&
      this.unchangedSession(itemKey.pk, stored, expiresAt, expiresIn)
    )
      return;
    const item = {
      ...itemKey,
      ...(BEARER_MODELS.has(this.model) && { model: this.model }),
      payload: sealedOrNot,
      ...(expiresAt !== undefined && { expiresAt }),
      // A session whose id names its uid is found by uid under its own key; older ones through gsi1.
      ...(this.model === 'Session' &&
        uid &&
        !uidOfSessionId(id) && { gsi1pk: indexKeys.oidcUid(uid), gsi1sk: sortKeys.oidc }),
      ...(this.model === 'DeviceCode' &&
        userCode && { gsi1pk: indexKeys.oidcUserCode(userCode), gsi1sk: sortKeys.oidc }),
      ...(GRANT_MODELS.has(this.model) &&
        grantId && {
          gsi2pk: indexKeys.oidcGrant(grantId),
          gsi2sk: indexKeys.oidcGrantMember(this.model, key),
          ...signInTimeOf(stored),
        }),
      ...(person && {
        gsi2pk: indexKeys.oidcAccount(person),
        gsi2sk: indexKeys.oidcGrantMember(this.model, key),
      }),
    };
    const written = () => {
      if (this.model === 'Session') rememberSession(this.deps, itemKey.pk, stored, expiresAt);
    };
    // A session this container read (or wrote) is saved only while it is still there: one deleted
    // meanwhile (the reconciler ending the sign-ins of a reset) is never written back by a request that
    // loaded it before (review R66-1). A brand-new session (never read) is put as it is.
    const condition: PutCondition | undefined = renewal
      ? {
          ConditionExpression: '#payload.#jti = :renewed',
          ExpressionAttributeNames: { '#payload': 'payload', '#jti': 'jti' },
          ExpressionAttributeValues: { ':renewed': renewal.id },
        }
      : this.model === 'Session' && sessionMemo(this.deps).has(itemKey.pk)
        ? { ConditionExpression: 'attribute_exists(pk)' }
        : undefined;
    // A save whose change leaves a trace (a consent to share: shared/sso/traced-grant.ts): the put and the
    // pointer that carries its audit entry, one transaction, never held.
    const trace = traceOfPut(this.model, id);
    if (trace) {
      await flushHeld();
      const outcome = await writeWithTrace(
        this.deps.doc,
        this.deps.tableName,
        { Put: { TableName: this.deps.tableName, Item: item } },
        trace,
        'provider',
      );
      if (outcome !== 'written') {
        throw new ConflictError(`${this.model} was being written meanwhile`);
      }
      written();
      return;
    }
    const scope = heldPut(this.model);
    if (scope) {
      scope.writes.set(readKey(this.deps.tableName, itemKey), {
        deps: this.deps,
        item,
        ...(condition && { condition }),
        written,
      });
      return;
    }
    await flushHeld();
    try {
      await this.deps.doc.send(new PutCommand({ TableName: this.deps.tableName, Item: item, ...condition }));
    } catch (error) {
      if (!condition || !isConditionalCheckFailed(error)) throw error;
      sessionEndedMeanwhile([{ deps: this.deps, item }]);
      return;
    }
    if (this.model === 'Client') forgetClient(this.deps, id);
    written();
  }

  /** Whether this save of a session changes nothing this container has just read or written but the times. */
  private unchangedSession(
    pk: string,
    payload: AdapterPayload,
    expiresAt: number | undefined,
    expiresIn: number | undefined,
  ): boolean {
    const last = sessionMemo(this.deps).get(pk);
    if (!last || last.expiresAt === undefined || expiresAt === undefined || expiresIn === undefined) {
      return false;
    }
    return (
      last.content === sessionContent(payload) &&
      expiresAt - last.expiresAt < expiresIn * SESSION_RESAVE_FRACTION
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    await flushHeld();
    const jar = interactionJar(this.model);
    // Only the browser's own sealed cookie (or the seal it points at): never the model's item in the
    // table, which (one stored before interactions moved to cookies, or put there by anyone) would open
    // in any browser, whatever its binding. Fail closed: not found (the provider's SessionNotFound, 4xx),
    // with no table call.
    if (jar === null) return undefined;
    if (jar) return (await jar.read(id)) as AdapterPayload | undefined;
    const payload = await findModel(this.deps, this.model, id);
    if (payload && this.model === 'AuthorizationCode') await readAheadForCode(this.deps, payload);
    if (payload && this.model === 'Session') await readAheadForSession(this.deps, payload);
    return payload;
  }

  /**
   * Ends an interaction kept in the browser's cookie, once: the provider destroys it when it resumes
   * the sign-in (before it makes the code), and a sealed cookie cannot be taken back from the browser,
   * so the end is marked in the table (`oidc#InteractionUsed#<uid>`, a conditional put, kept until every
   * cookie it could refuse has expired). Of two resumes of one cookie at once, or a resume replayed with
   * a copy of the cookie, only the first marks it; the others fail here, before any code is made.
   */
  private async endInBrowser(jar: InteractionCookieJar, id: string): Promise<void> {
    if (!fits(id)) return;
    const kept = await jar.read(id);
    const now = epochSeconds(this.deps.clock);
    const exp = typeof kept?.exp === 'number' && kept.exp > now ? kept.exp : now + INTERACTION_SECONDS;
    try {
      await this.deps.doc.send(
        new PutCommand({
          TableName: this.deps.tableName,
          Item: { ...keys.oidc(USED_INTERACTION, id), expiresAt: exp + USED_INTERACTION_MARGIN_SECONDS },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        // Used already: the cookie can never resume again, so the browser may as well drop it.
        await jar.clear(id);
        throw new ConflictError('the sign-in was already resumed', 'already_consumed', { cause: error });
      }
      // Not marked (throttled, the network): no code is made, and the cookie stays, so that the person
      // can resume again (a reload) instead of starting over from the platform.
      throw error;
    }
    // Cleared only once marked: until then the interaction is not used, and its cookie still counts (and
    // so does what the table keeps of a large one: cleared with it).
    await jar.clear(id);
  }

  /** One read for a session whose id names its uid (stored under the uid); older sessions through gsi1. */
  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    await flushHeld();
    if (this.model === 'Session' && fits(uid) && !uid.includes('.')) {
      const read = takeRead(this.deps, keys.oidc('Session', uid));
      const item = read ? read.item : await getLive(this.deps, keys.oidc('Session', uid));
      if (item && item.payload.uid === uid) return payloadOf(this.deps, this.model, item);
    }
    return this.findByGsi1(indexKeys.oidcUid(uid));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    await flushHeld();
    return this.findByGsi1(indexKeys.oidcUserCode(userCode));
  }

  /**
   * Marks the item consumed, once. The provider checks `consumed` after `find` and then calls this, so two
   * concurrent redemptions of one code or refresh token can both pass that check; the condition here lets
   * only the first through, and the loser gets the provider's own `invalid_grant` (or `invalid_request_uri`
   * for PAR) instead of a second set of tokens.
   */
  async consume(id: string): Promise<void> {
    await flushHeld();
    try {
      await this.deps.doc.send(
        new UpdateCommand({
          TableName: this.deps.tableName,
          Key: oidcItemKey(this.model, id),
          UpdateExpression: 'SET #payload.#consumed = :now',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#payload.#consumed)',
          ExpressionAttributeNames: { '#payload': 'payload', '#consumed': 'consumed' },
          ExpressionAttributeValues: { ':now': epochSeconds(this.deps.clock) },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new ConflictError(`${this.model} was already used or revoked`, 'already_consumed', {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * The traced deletion of {@link destroy}. A transaction cancelled by another write of its items at that
   * moment (`contended`: two requests ending the grant at once, as two token requests with the same
   * rotated refresh token; review R37 L1) is resolved here rather than thrown uncoded: the item read again
   * (strongly consistent), gone meanwhile is the other end's (`ended_already`, traced by it); still there,
   * the transaction is sent once more (nothing of the first was written). Contended again, a ConflictError
   * `end_contended`: nothing written, the item stays (for the caller to answer without a 500). The read
   * and the second attempt happen on a contention alone, never on a request's normal path.
   */
  private async endWithTrace(id: string, trace: Trace): Promise<void> {
    const key = oidcItemKey(this.model, id);
    const end = () =>
      writeWithTrace(
        this.deps.doc,
        this.deps.tableName,
        { Delete: { TableName: this.deps.tableName, Key: key, ConditionExpression: 'attribute_exists(pk)' } },
        trace,
        'provider',
      );
    let outcome = await end();
    if (outcome === 'contended') {
      const { Item } = await this.deps.doc.send(
        new GetCommand({
          TableName: this.deps.tableName,
          Key: key,
          ConsistentRead: true,
          ProjectionExpression: 'pk',
        }),
      );
      outcome = Item ? await end() : 'refused';
    }
    if (outcome === 'refused') throw new ConflictError(`${this.model} was gone already`, 'ended_already');
    if (outcome === 'contended') {
      throw new ConflictError(`${this.model} was being ended by another request`, 'end_contended');
    }
  }

  async destroy(id: string): Promise<void> {
    if (!fits(storageKey(this.model, id))) return;
    if (this.model === 'Session' && uidOfSessionId(id)) {
      // At `resume` the provider renews the session's id: it destroys the old id, then saves the session
      // under the new one, the same key (the uid). Not deleted here, nor the request's held grant and code
      // written first: the renewed session's put is held with them, on condition that the item still
      // holds the old id, one transaction (review R67-2). A session ended meanwhile (the reconciler) gets
      // none of them written: no code that redeems, no refresh token that outlives its clean-up.
      const scope = heldPut(this.model);
      if (scope) {
        const key = oidcItemKey(this.model, id);
        sessionMemo(this.deps).delete(key.pk);
        scope.renewals.set(readKey(this.deps.tableName, key), { deps: this.deps, id });
        return;
      }
    }
    await flushHeld();
    const jar = interactionJar(this.model);
    if (jar === null) throw noInteractionJar();
    if (jar) return this.endInBrowser(jar, id);
    if (this.model === 'Client') forgetClient(this.deps, id);
    if (this.model === 'Session') sessionMemo(this.deps).delete(oidcItemKey(this.model, id).pk);
    // A deletion whose end leaves a trace (a grant the provider ends itself: shared/sso/traced-grant.ts):
    // the delete, on condition that the item is there, and the pointer that carries its audit entry, one
    // transaction. Gone already (another end took it, with its own trace): `ended_already`, nothing written.
    const trace = traceOfDelete(this.model, id);
    if (trace) return this.endWithTrace(id, trace);
    if (this.model === 'Session' && uidOfSessionId(id)) return endSessionId(this.deps, id);
    const legacy = legacyBearerKey(this.model, id);
    await Promise.all(
      [oidcItemKey(this.model, id), ...(legacy ? [legacy] : [])].map((Key) =>
        this.deps.doc.send(new DeleteCommand({ TableName: this.deps.tableName, Key })),
      ),
    );
  }

  /** Deletes every token and code of the grant, whatever this adapter's model, as the memory adapter does. */
  async revokeByGrantId(grantId: string): Promise<void> {
    await flushHeld();
    await batchDelete(this.deps, await gsi2Members(this.deps, indexKeys.oidcGrant(grantId)));
  }

  /**
   * GSI reads are eventually consistent: each candidate is re-read by key, so a stale index entry (an item
   * since destroyed, expired or re-keyed) is never returned.
   */
  private async findByGsi1(gsi1pk: string): Promise<AdapterPayload | undefined> {
    if (!fits(gsi1pk)) return undefined;
    const { Items } = await this.deps.doc.send(
      new QueryCommand({
        TableName: this.deps.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk = :sk',
        ExpressionAttributeValues: { ':pk': gsi1pk, ':sk': sortKeys.oidc },
        ProjectionExpression: 'pk',
      }),
    );
    const prefix = `${prefixes.oidc}${this.model}#`;
    for (const { pk } of (Items ?? []) as Array<Pick<ItemKey, 'pk'>>) {
      if (!pk.startsWith(prefix)) continue;
      const item = await getLive(this.deps, { pk, sk: sortKeys.oidc });
      if (item && item.gsi1pk === gsi1pk) return payloadOf(this.deps, this.model, item);
    }
    return undefined;
  }
}

/** The keys of every item in a gsi2 partition. */
async function gsi2Members(deps: DynamoAdapterDeps, gsi2pk: string): Promise<ItemKey[]> {
  const found: ItemKey[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new QueryCommand({
        TableName: deps.tableName,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: { ':pk': gsi2pk },
        // The keys alone, asked for as such: all the reconciler may ask the index for (review R54-3,
        // projections.ts `keys`).
        Select: 'SPECIFIC_ATTRIBUTES',
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey: startKey,
      }),
    );
    found.push(...((page.Items ?? []) as ItemKey[]).map(({ pk, sk }) => ({ pk, sk })));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return found;
}

/**
 * Ends every sign-in of a person at once: each of their grants (personal, and acting for an entity) with
 * every code, refresh and access token of it, and each of their provider sessions but `keepSession` (the
 * session id, as the session cookie holds it). Found through gsi2 (`oidc-account#<personId>`); the index
 * is eventually consistent, so a grant saved a moment ago may be missed: callers change what the sign-in
 * rests on (the password, the account's state) first. With `signedInBefore` (the reconciler finishing a
 * reset's owed clean-up), only what came before that second ({@link madeBefore}); a grant it spares (made
 * after the mark) keeps only the codes and tokens of sign-ins of that second or later, by the sign-in
 * behind each ({@link ofSignInsBefore}, review R63 F1). The sessions end first (review R65 F1); with
 * `signedInBefore`, passes until one ends nothing new, else it throws ({@link endSignInsPass}, review R65
 * F2).
 *
 * @example
 * ```ts
 * await endSignInsOf(deps, account.id, { keepSession: details.session.cookie });
 * ```
 */
export async function endSignInsOf(
  deps: DynamoAdapterDeps,
  personId: string,
  options: { keepSession?: string; signedInBefore?: number; grantsEndedBy?: { at: string } } = {},
): Promise<void> {
  if (!fits(personId)) return;
  // Without a bound every grant ends with the whole of it (a token under a grant gone is refused), so one
  // pass. With one (the reconciler), passes until one ends nothing new (review R65 F2).
  const passes = options.signedInBefore === undefined ? 1 : SIGN_IN_SWEEP_PASSES;
  const done = new Set<string>();
  for (let pass = 1; pass <= passes; pass += 1) {
    if (!(await endSignInsPass(deps, personId, options, done))) return;
  }
  if (passes > 1)
    // Fail closed: the caller's mark stays (and the reconciler's pointer), so the next run sweeps again.
    throw new Error(`ending the sign-ins of ${personId}: still more to end after ${passes} passes`);
}

/**
 * How many passes {@link endSignInsOf} makes with a bound before it gives up (throws). Each rotation or
 * exchange needs the item it replaces, which the next pass deletes, so the chain ends within two passes
 * but against an intruder racing every pass.
 */
const SIGN_IN_SWEEP_PASSES = 5;

/**
 * One pass of {@link endSignInsOf}: the sessions first (review R65 F1: a session ended mints no new grant
 * or token; swept after the grants, a grant made from it meanwhile was never swept), then each grant's
 * codes and tokens, then the grants. Skips, and adds to, `done` (the keys deleted by earlier passes, `pk
 * sk`), but for a session or grant listed again and live when read by key (written back after its delete,
 * review R66-1), deleted again; answers whether it deleted any key not deleted before or written back since.
 *
 * Review R65 F2: a refresh token rotated (or a code redeemed) between a grant's listing and its delete
 * left its successor, of the same sign-in, under a grant spared. A later pass lists the person's grants
 * and their members again and finds it, until a pass finds nothing new; the caller's mark stays until then
 * (the reconciler takes it off after). What this does not cover: gsi2 is eventually consistent, so an item
 * written within the index's lag before the last pass may be missing from it, and, the mark then taken
 * off, outlive the clean-up; each pass reads what the index shows, nothing more.
 */
async function endSignInsPass(
  deps: DynamoAdapterDeps,
  personId: string,
  options: { keepSession?: string; signedInBefore?: number; grantsEndedBy?: { at: string } },
  done: Set<string>,
): Promise<boolean> {
  const keyOf = (key: ItemKey) => `${key.pk} ${key.sk}`;
  const fresh = (keys: ItemKey[]) => keys.filter((key) => !done.has(keyOf(key)));
  // A session or grant deleted by an earlier pass that the index lists again: a stale entry, or the item
  // written back (a request in flight saving what it loaded before the delete, review R66-1; a grant is
  // re-saved unconditionally). Read by key, consistent: one live again is deleted again, and counts as new
  // (so the passes do not stop on it). Not a grant's codes and tokens (review R67-3): none is ever written
  // again under its key (each save of one is of a new random id; `consume` updates only an item still
  // there), and the reconciler may not read them (its grant has no GetItem on a token, review R63 F1).
  const listing = async (keys: ItemKey[]) => {
    const again = keys.filter((key) => done.has(keyOf(key)));
    const live = await Promise.all(again.map((key) => getLive(deps, key)));
    again.forEach((key, index) => {
      if (live[index]) done.delete(keyOf(key));
    });
    return fresh(keys);
  };
  const listed = await listing(await gsi2Members(deps, indexKeys.oidcAccount(personId)));
  const members =
    options.signedInBefore === undefined
      ? listed
      : await madeBefore(deps, listed, options.signedInBefore, options.grantsEndedBy);
  const grantPrefix = `${prefixes.oidc}Grant#`;
  const kept = options.keepSession === undefined ? undefined : oidcItemKey('Session', options.keepSession).pk;
  const ended = new Set(members.map((member) => member.pk));
  let endedAny = false;
  const end = async (keys: ItemKey[]) => {
    const todo = fresh(keys);
    await batchDelete(deps, todo);
    for (const key of todo) done.add(keyOf(key));
    if (todo.length > 0) endedAny = true;
  };
  // Sessions first (review R65 F1).
  await end(members.filter((member) => !member.pk.startsWith(grantPrefix) && member.pk !== kept));
  for (const member of listed) {
    if (!member.pk.startsWith(grantPrefix)) continue;
    const grantId = member.pk.slice(grantPrefix.length);
    if (ended.has(member.pk)) await end(await gsi2Members(deps, indexKeys.oidcGrant(grantId)));
    // A grant spared (made after the mark) keeps only the codes and tokens of sign-ins it spares too
    // (review R63 F1).
    else if (options.signedInBefore !== undefined)
      await end(await ofSignInsBefore(deps, grantId, options.signedInBefore));
  }
  await end(members.filter((member) => member.pk.startsWith(grantPrefix) && member.pk !== kept));
  return endedAny;
}

/**
 * Of a person's sessions and grants (`members`), those made before `second` (epoch seconds): a session by
 * its sign-in (`loginTs`), a grant by its making (`iat`), each read again by key (gone or expired: left
 * out); one of unknown time counts as before (as the reset's mark counts it, review R44). Given the mark
 * (`grantsEndedBy`), a grant by `grantEndedBy` instead, the provider's own rule (review R58 L1).
 */
async function madeBefore(
  deps: DynamoAdapterDeps,
  members: ItemKey[],
  second: number,
  grantsEndedBy?: { at: string },
): Promise<ItemKey[]> {
  const sessionPrefix = `${prefixes.oidc}Session#`;
  const kept = await Promise.all(
    members.map(async (member) => {
      const item = await getLive(deps, member);
      if (!item) return undefined;
      const payload = item.payload as { loginTs?: unknown; iat?: unknown; madeAt?: unknown };
      const session = member.pk.startsWith(sessionPrefix);
      if (!session && grantsEndedBy) {
        const moment = {
          ...(typeof payload.iat === 'number' && { iat: payload.iat }),
          ...(typeof payload.madeAt === 'number' && { madeAt: payload.madeAt }),
        };
        return grantEndedBy(moment, grantsEndedBy) ? member : undefined;
      }
      const time = session ? payload.loginTs : payload.iat;
      return typeof time === 'number' && time >= second ? undefined : member;
    }),
  );
  return kept.filter((member) => member !== undefined);
}

/**
 * Of a grant's codes and tokens, those of a sign-in made before `second` (epoch seconds): by the sign-in
 * behind each (its item's `authTime`, {@link signInTimeOf}: a code's or a refresh token's, an access
 * token's `auth_time`, which a refresh keeps), not by its own making. Found through gsi2
 * (`oidc-grant#<grantId>`) with that time alone (projections.ts `grantMemberTimes`), no token read; one
 * without it (stored before it was kept) counts as before, as the provider refuses it once the account
 * has a mark (`signInEndedBy`, a sign-in of unknown time). Review R63 F1: a session of a reset's own
 * second, which the reconciler ends, could get a grant made after the mark, which it spares, and a
 * refresh token of that grant, which then outlived the session and the reset.
 */
async function ofSignInsBefore(deps: DynamoAdapterDeps, grantId: string, second: number): Promise<ItemKey[]> {
  const found: ItemKey[] = [];
  // The keys too: a projection names its own attributes only (projections.ts `indexAttributes`).
  const times = projectionOf('grantMemberTimes');
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new QueryCommand({
        TableName: deps.tableName,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: { ':pk': indexKeys.oidcGrant(grantId) },
        ...times,
        ProjectionExpression: `pk, sk, ${times.ProjectionExpression}`,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of (page.Items ?? []) as Array<ItemKey & { authTime?: unknown }>) {
      if (typeof item.authTime === 'number' && item.authTime >= second) continue;
      found.push({ pk: item.pk, sk: item.sk });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return found;
}

/**
 * The live grants a person made (personally, or acting for an entity), each with its id, found through
 * gsi2 (`oidc-account#<personId>`) and read again by key, so a grant since revoked or expired is never
 * returned (one saved a moment ago may still be missing from the eventually consistent index).
 *
 * @example
 * ```ts
 * const grants = await grantsOfPerson(deps, personId); // [{ id, payload: { clientId, accountId, rar, … } }]
 * ```
 */
export async function grantsOfPerson(
  deps: DynamoAdapterDeps,
  personId: string,
): Promise<Array<{ id: string; payload: AdapterPayload }>> {
  if (!fits(personId)) return [];
  const grantPrefix = `${prefixes.oidc}Grant#`;
  const members = (await gsi2Members(deps, indexKeys.oidcAccount(personId))).filter((member) =>
    member.pk.startsWith(grantPrefix),
  );
  const found = await Promise.all(
    members.map(async (member) => {
      const item = await getLive(deps, member);
      return item && personOf(item.payload.accountId) === personId
        ? { id: member.pk.slice(grantPrefix.length), payload: item.payload }
        : undefined;
    }),
  );
  return found.filter((grant) => grant !== undefined);
}

/**
 * The class to pass as oidc-provider's `adapter`: the provider instantiates it once per model name.
 *
 * @example
 * ```ts
 * const provider = new Provider(issuer, { adapter: createDynamoAdapter({ doc, tableName, clock: systemClock }) });
 * ```
 */
export function createDynamoAdapter(deps: DynamoAdapterDeps): AdapterConstructor {
  return class extends DynamoAdapter {
    constructor(model: string) {
      super(deps, model);
    }
  };
}

/**
 * Validates an opaque bearer access token the way a resource server must, without the provider or KMS:
 * looks it up by hash under each accepted model and returns its payload (with `jti`), or undefined when
 * unknown or expired. Scope, audience and binding checks remain the caller's.
 *
 * @example
 * ```ts
 * const token = await findAccessToken(deps, bearer);
 * if (!token?.scope?.split(' ').includes('licence:read')) throw new UnauthenticatedError('Invalid token', 'invalid_token');
 * ```
 */
export async function findAccessToken(
  deps: DynamoAdapterDeps,
  token: string,
  models: readonly AccessTokenModel[] = ['AccessToken', 'ClientCredentials'],
): Promise<AdapterPayload | undefined> {
  if (token.length === 0 || !fits(token)) return undefined;
  const now = epochSeconds(deps.clock);
  const live = (payload: AdapterPayload | undefined) =>
    payload !== undefined && (payload.exp === undefined || payload.exp > now) ? payload : undefined;
  // One read finds a token of either kind (they share a key); its item says which kind it is.
  const item = await getLive(deps, keys.oidc(BEARER_PARTITION, sha256(token)));
  if (item) {
    if (!models.includes(item.model as AccessTokenModel)) return undefined;
    return live({ ...(await payloadOf(deps, item.model!, item)), jti: token });
  }
  // Tokens issued before the shared key, read under their own model's key (see `legacyBearerKey`).
  const found = await Promise.all(
    models.map(async (model) => {
      const legacy = await getLive(deps, legacyBearerKey(model, token)!);
      return legacy && { ...(await payloadOf(deps, model, legacy)), jti: token };
    }),
  );
  return found.map(live).find((payload) => payload !== undefined);
}

/**
 * Whether a client is still stored (built-in clients, which the provider finds in code, are the caller's
 * to allow). A resource server asks this of every token it accepts: deleting a client then ends the tokens
 * it holds, which no search of the tokens (stored by hash, by grant) could do as cheaply: at once in the
 * container that deleted it, and in the others within `clientCacheSeconds`.
 *
 * @example
 * ```ts
 * if (!(await clientStillRegistered(deps, record.clientId))) throw new UnauthenticatedError('…', 'invalid_token');
 * ```
 */
export async function clientStillRegistered(deps: DynamoAdapterDeps, clientId: string): Promise<boolean> {
  if (clientId.length === 0 || !fits(clientId)) return false;
  return (await getClient(deps, clientId)) !== undefined;
}

/** A bearer token a resource server accepts, as {@link findBearerToken} finds it. */
export interface BearerToken {
  /** The provider's payload, with `jti`. */
  payload: AdapterPayload;
  /**
   * For a token that ends with the session it was issued in (`expiresWithSession`): whether that session
   * and the token's grant still hold it ({@link sessionBindingHolds}), read on the first call (one
   * BatchGetItem of the session and the grant, none when they were read with the client) and answered
   * from that read after. Asked once the token is otherwise accepted, so that a refusal for audience or
   * scope costs no read of it.
   */
  stillBound?: () => Promise<boolean>;
}

/**
 * A bearer token of our API, for a resource server: found by hash ({@link findAccessToken}), live, its
 * client still registered ({@link clientStillRegistered}; `builtInClientIds` always are), and, for a token
 * bound to its session, the means to check that binding ({@link BearerToken.stillBound}), as
 * oidc-provider checks it for its own endpoints (`checkSessionBinding`, and the grant userinfo loads). The
 * fewest round trips: the token's read, then, when the client's registration is not kept in this
 * container, that one read; for a session-bound token, the session and grant are read in the same
 * BatchGetItem as the client, or alone when the client is kept. Undefined for a token not found, or of a
 * client no longer registered.
 *
 * @example
 * ```ts
 * const found = await findBearerToken(deps, bearer, builtInClientIds);
 * if (found?.stillBound && !(await found.stillBound())) throw new UnauthenticatedError('…', 'invalid_token');
 * ```
 */
export async function findBearerToken(
  deps: DynamoAdapterDeps,
  token: string,
  builtInClientIds: readonly string[],
): Promise<BearerToken | undefined> {
  const payload = await findAccessToken(deps, token);
  const clientId = payload?.clientId;
  if (typeof clientId !== 'string' || clientId.length === 0 || !fits(clientId)) return undefined;
  const builtIn = builtInClientIds.includes(clientId);
  if (!payload!.expiresWithSession) {
    return builtIn || (await clientStillRegistered(deps, clientId)) ? { payload: payload! } : undefined;
  }
  const binding = bindingKeys(payload!);
  const now = () => epochSeconds(deps.clock);
  /** The session and grant as read, checked against the token. */
  const holds = (read: Map<string, OidcItem | undefined>) =>
    binding !== undefined &&
    sessionBindingHolds(
      payload!,
      read.get(readKey(deps.tableName, binding.session)),
      read.get(readKey(deps.tableName, binding.grant)),
      now(),
    );
  const readBinding = async (also: readonly ItemKey[]) => {
    const wanted = [...also, ...(binding ? [binding.session, binding.grant] : [])];
    const read = await batchRead(deps, wanted);
    // Fail closed, and say why: a key DynamoDB would not read is no answer about the session.
    if (wanted.some((key) => !read.has(readKey(deps.tableName, key)))) {
      throw new Error('the session of an access token could not be read (throttled)');
    }
    return read;
  };
  if (builtIn || clientKnown(deps, clientId)) {
    let bound: Promise<boolean> | undefined;
    const stillBound = () => (bound ??= binding ? readBinding([]).then(holds) : Promise.resolve(false));
    return builtIn || (await clientStillRegistered(deps, clientId))
      ? { payload: payload!, stillBound }
      : undefined;
  }
  // The client's registration is read anyway: the session and grant come with it, in one round trip.
  const clientKey = oidcItemKey('Client', clientId);
  const readSince = clientChanges;
  const read = await readBinding([clientKey]);
  const client = read.get(readKey(deps.tableName, clientKey));
  if (!client) return undefined;
  keepClient(deps, clientId, client, readSince);
  const bound = holds(read);
  return { payload: payload!, stillBound: () => Promise.resolve(bound) };
}

/** The keys of what a session-bound token rests on: its session (by uid) and its grant; none when malformed. */
function bindingKeys(token: AdapterPayload): { session: ItemKey; grant: ItemKey } | undefined {
  const { sessionUid, grantId } = token;
  if (typeof sessionUid !== 'string' || sessionUid.length === 0 || sessionUid.includes('.')) return undefined;
  if (!fits(sessionUid) || typeof grantId !== 'string' || grantId.length === 0 || !fits(grantId)) {
    return undefined;
  }
  return { session: keys.oidc('Session', sessionUid), grant: oidcItemKey('Grant', grantId) };
}

/**
 * Whether a session-bound token's session and grant, as read, still hold it: the session (stored under
 * its uid, shared/sso/session-ids.ts) is live, is the token's, is signed in as the token's account and
 * holds the token's grant for the token's client, as oidc-provider's `checkSessionBinding` asks; and the
 * grant is live, of that client and account, as userinfo's `loadAccessTokenGrant` asks. A logout (the
 * session destroyed), an entity switch (the session ended), a revoked grant (its item deleted by key,
 * whatever the eventually consistent index found of its tokens) each end the token here. A session stored
 * under the provider's own id form (before ids named their uid) is not found under its uid: its tokens
 * are refused (fail closed) until the next sign-in renews its id.
 */
function sessionBindingHolds(
  token: AdapterPayload,
  session: OidcItem | undefined,
  grant: OidcItem | undefined,
  nowSeconds: number,
): boolean {
  if (!session || !grant) return false;
  const live = (payload: AdapterPayload) => typeof payload.exp !== 'number' || payload.exp > nowSeconds;
  const stored = session.payload;
  const authorizations = stored.authorizations as Record<string, { grantId?: unknown }> | undefined;
  const clientId = token.clientId as string;
  const held =
    authorizations && Object.hasOwn(authorizations, clientId) ? authorizations[clientId]?.grantId : undefined;
  return (
    live(stored) &&
    stored.uid === token.sessionUid &&
    stored.accountId === token.accountId &&
    held === token.grantId &&
    live(grant.payload) &&
    grant.payload.clientId === clientId &&
    grant.payload.accountId === token.accountId
  );
}
