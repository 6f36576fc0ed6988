import { createHash, randomBytes } from 'node:crypto';
import {
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { systemClock, type Clock } from '../../clock.js';
import { isConditionalCheckFailed, putNew } from './conditional.js';
import {
  entryCursor,
  listPlace,
  pageStart,
  positionOfCursor,
  recordOnceSeconds,
  type AuditEntry,
  type AuditPageRequest,
  type AuditTrail,
  type LicenceAuditPage,
  type LicenceAuditPages,
  type RecordOnce,
} from '../../audit/audit-trail.js';
import { chainIdPattern, link, type ChainLink } from '../../supervision/audit-chain.js';
import {
  AuditActionRefusedError,
  auditShards,
  auditWriters,
  shardOfWriter,
  writerOfAction,
  writesAction,
  type AuditWriter,
} from '../../audit/audit-writers.js';
import { indexKeys, keys, prefixes } from './keys.js';

export { auditShards, shardOfWriter };

/** Entries written together in one TransactWriteItems (DynamoDB takes up to 100; a group stays small). */
const BATCH_WRITES = 25;

const base32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A writer id: 12 lowercase base32 characters (60 random bits), new for every trail instance. */
export function newWriterId(): string {
  const bytes = randomBytes(12);
  return Array.from(bytes, (byte) => base32[byte & 31]).join('');
}

/** The chain a trail instance is appending to: its id and head, kept in memory (appending reads nothing). */
interface OpenChain {
  id: string;
  day: string;
  writer: string;
  shard: number;
  /** The last entry written; `undefined` until the first is. */
  head?: { seq: number; hash: string };
}

interface Waiting {
  entry: AuditEntry;
  once?: RecordOnce | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

type Stored = Record<string, unknown> & { pk: string; sk: string };

/**
 * The UTC day of the chain an entry goes on: the later of its `at`'s and `today` (the day it is written,
 * by the writer's clock), and for an entry written once after the fact ({@link RecordOnce}) of the day
 * its completer wrote it. A checkpoint signed after a day ended names that day's chains and their heads for
 * good (`checkTrail`'s closing rule): so no writer appends to a chain of a day that has ended, nor opens
 * one on it. An entry stamped just before midnight and written just after (or a pending entry finished
 * later) goes on a chain of the day it is written, keeping its `at`.
 */
function chainDay({ entry, once }: Pick<Waiting, 'entry' | 'once'>, today: string): string {
  const day = entry.at.slice(0, 10);
  const written = once?.writtenAt.slice(0, 10) ?? '';
  return [day, written, today].reduce((later, one) => (one > later ? one : later));
}

/** A chained entry as stored: its key (day, writer's shard, position) and its licence's and holder's index keys. */
function chainedItem(chain: OpenChain, linked: AuditEntry & ChainLink): Stored {
  const key = keys.auditChained(chain.day, chain.shard, chain.writer, linked.seq);
  const position = indexKeys.auditChainedPosition(linked.at, chain.writer, linked.seq);
  return {
    ...key,
    ...(linked.licenceId ? { gsi1pk: indexKeys.auditLicence(linked.licenceId), gsi1sk: position } : {}),
    // The usage record (用证记录) of the licence's holder: `DynamoUsageRecord` reads it, newest first.
    ...(linked.holderKey ? { gsi2pk: indexKeys.auditHolder(linked.holderKey), gsi2sk: position } : {}),
    // The same record by kind (gsi3 of the audit table): a page of shares is one query, however many
    // verifications are newer. Index keys only, outside the entry: the chain's hash never covers them.
    ...(linked.holderKey
      ? { gsi3pk: indexKeys.auditHolderAction(linked.holderKey, linked.action), gsi3sk: position }
      : {}),
    ...linked,
  };
}

/**
 * The place ({@link listPlace}) of an item of the audit table in its licence's list (gsi1), from what it
 * stores rather than its index key, so that an entry taken off the list still has one: a chained entry's
 * {@link chainedItem} gives it, an entry older than the chains its own sort key (`<at>#<id>`, its index
 * key too). `null` for an entry about no licence.
 *
 * @example
 * ```ts
 * const positions = items.map(licenceListPlace); // beside items.map(entryOf)
 * ```
 */
export function licenceListPlace(item: Record<string, unknown>): string | null {
  if (typeof item.licenceId !== 'string') return null;
  const writer = typeof item.chain === 'string' ? chainIdPattern.exec(item.chain)?.[2] : undefined;
  return listPlace(
    writer !== undefined
      ? indexKeys.auditChainedPosition(String(item.at), writer, Number(item.seq))
      : String(item.sk),
  );
}

/**
 * An item read back as the entry it stores: the table's key attributes dropped (the index keys, gsi3's
 * too, are never part of the entry, so never of what its chain hashes). The holder index it was read
 * through (gsi2, the usage record; with {@link entryReadBy}, gsi3, the record of one kind) must file it under
 * the `holderKey` it stores (gsi3: and its `action`), or under nobody when it stores none. When they
 * disagree (one of them rewritten), the entry comes back filed as the index files it (else with the key
 * it stores) and without its `holderSalt`: neither proves itself, and no commitment matches an entry
 * without its salt, so `holderAttribution` finds it a `mismatch` (an entry written before commitments has
 * none to match, and stays `uncommitted`).
 *
 * @example
 * ```ts
 * const entries = items.map(entryOf); // read through gsi1 or gsi2
 * const shares = items.map((item) => entryReadBy(item, 'gsi3'));
 * ```
 */
export function entryOf(item: Record<string, unknown>): AuditEntry & Partial<ChainLink> {
  return entryReadBy(item, 'gsi2');
}

/** {@link entryOf} of an item read through `readBy`, the holder index it must be filed in as it stores. */
export function entryReadBy(
  item: Record<string, unknown>,
  readBy: 'gsi2' | 'gsi3',
): AuditEntry & Partial<ChainLink> {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk, gsi2sk: _d, gsi3pk, gsi3sk: _f, ...entry } = item;
  const holderKey = typeof entry.holderKey === 'string' ? entry.holderKey : undefined;
  const [indexKey, stored] =
    readBy === 'gsi3'
      ? [
          gsi3pk,
          holderKey === undefined ? undefined : indexKeys.auditHolderAction(holderKey, String(entry.action)),
        ]
      : [gsi2pk, holderKey === undefined ? undefined : indexKeys.auditHolder(holderKey)];
  if (indexKey !== stored) {
    const { holderSalt: _salt, holderKey: _key, ...rest } = entry;
    const filed = holderOfIndexKey(indexKey) ?? holderKey;
    return { ...rest, ...(filed !== undefined ? { holderKey: filed } : {}) } as unknown as AuditEntry &
      Partial<ChainLink>;
  }
  return entry as unknown as AuditEntry & Partial<ChainLink>;
}

/** The holder an index key files an entry under: `audit-holder#<key>` (gsi2), `audit-holder-action#<key>#<action>` (gsi3). */
function holderOfIndexKey(indexKey: unknown): string | undefined {
  if (typeof indexKey !== 'string') return undefined;
  if (indexKey.startsWith(prefixes.auditHolder)) return indexKey.slice(prefixes.auditHolder.length);
  if (!indexKey.startsWith(prefixes.auditHolderAction)) return undefined;
  const rest = indexKey.slice(prefixes.auditHolderAction.length);
  // Actions hold no `#`: the holder is everything before the last one.
  return rest.includes('#') ? rest.slice(0, rest.lastIndexOf('#')) : undefined;
}

/**
 * {@link AuditTrail} on the audit table (`AUDIT_TABLE_NAME`), every entry on a hash chain (shared/supervision/audit-chain.ts).
 * Each instance (one per Lambda container, one per function locally) appends to a chain of its own,
 * `<YYYY-MM-DD>.<writer>`, started on its first entry of a UTC day and registered before that entry is
 * written (`audit-chain#<day>`, so that checkpoints find it; a chain registered whose entry failed is an
 * empty chain, which checkpoints skip). An entry goes on a chain of the later of its `at`'s day and the
 * day it is written (`clock`): a chain of a day that has ended is never appended to, so the day's closing
 * checkpoint signs its chains' final heads (R24 H1). It keeps the chain's head in memory: appending reads
 * nothing. Entries are stored under the day's partition and the writer's shard
 * (`audit#<day>#<shard>`, sort key `chain#<writer>#<seq>`), indexed by licence (gsi1) and holder (gsi2) in
 * time order.
 *
 * Writes of a chain go one at a time, each entry by a conditional put (its chain's registration first, for
 * the first); {@link GroupCommitAuditTrail} writes the entries recorded while none is in flight together
 * instead. An entry recorded with a key ({@link RecordOnce}: a licence change's pending entry) is written
 * alone, in one transaction with its key's mark (`audit-once#<key>`, kept {@link recordOnceSeconds} by the
 * table's TTL): under a key already marked nothing is written and the chain goes on from the same head,
 * so a repeated write neither duplicates nor forks. Each `record` resolves only once its entry is written. No gap: when a write fails or its outcome is unknown, its entries' records reject
 * and the chain is closed; later entries start a new chain, so no entry is ever numbered after one that
 * may be missing. (A group is one transaction: written whole or not at all, never with a gap.)
 *
 * @example
 * ```ts
 * const audit = new DynamoAuditTrail(doc, tableName, clock);
 * await audit.record(entry); // written, chained, with the entries recorded alongside it
 * ```
 */
export class DynamoAuditTrail implements AuditTrail {
  private chain: OpenChain | undefined;
  private waiting: Waiting[] = [];
  private busy = false;
  /** Whether entries recorded together are written in one TransactWriteItems ({@link GroupCommitAuditTrail}). */
  protected readonly batches: boolean = false;

  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    protected readonly tableName: string,
    /** The wall clock: which UTC day it is when an entry is written ({@link chainDay}). */
    private readonly clock: Clock = systemClock,
    private readonly writerId: () => string = newWriterId,
    /**
     * The function writing (shared/audit/audit-writers.ts): its chains go in its own shards only (the
     * shards its grant names, R31 M1), and an action outside its set is refused, not written. None (the
     * operator's trail, tests): any shard, any action.
     */
    private readonly writer?: { name: string } & AuditWriter,
  ) {}

  record(entry: AuditEntry, once?: RecordOnce): Promise<void> {
    if (this.writer && !writesAction(this.writer, entry.action)) {
      return Promise.reject(new AuditActionRefusedError(this.writer.name, entry.action));
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ entry, once, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.busy || this.waiting.length === 0) return;
    this.busy = true;
    setImmediate(() => void this.flush());
  }

  /** The chain the entries of `day` go on: the open one, or a new one (a new day, or the last closed). */
  /**
   * The chain the entries of `day` go on, in `shards`: the open one, or a new one (a new day, the last
   * closed, or the open one in a shard other than these).
   */
  private chainFor(day: string, shards: readonly number[] | undefined): OpenChain {
    if (this.chain?.day === day && (!shards || shards.includes(this.chain.shard))) return this.chain;
    const writer = this.newWriter(shards);
    this.chain = { id: `${day}.${writer}`, day, writer, shard: shardOfWriter(writer) };
    return this.chain;
  }

  /**
   * The shards an entry's chain may be in: the writer's; for a trail of no writer (the operator's:
   * seeding, tests, tools), those of the first writer that writes the entry's action, so that what it
   * writes is attributed as that writer's would be (an action no writer writes: any shard).
   */
  private shardsOf(entry: AuditEntry): readonly number[] | undefined {
    if (this.writer) return this.writer.shards;
    const name = writerOfAction(entry.action);
    return name === undefined ? undefined : auditWriters[name].shards;
  }

  /** A writer id whose shard ({@link shardOfWriter}) is one of this writer's: drawn until it is. */
  private newWriter(shards: readonly number[] | undefined): string {
    for (;;) {
      const writer = this.writerId();
      if (!shards || shards.includes(shardOfWriter(writer))) return writer;
    }
  }

  private async flush(): Promise<void> {
    // The day now, once for the group: a chain of an ended day is never appended to (chainFor then starts
    // one of today), and a write begun before midnight that lands after it is within the closing margin.
    const today = new Date(this.clock.now()).toISOString().slice(0, 10);
    const day = chainDay(this.waiting[0]!, today);
    const shards = this.shardsOf(this.waiting[0]!.entry);
    const chain = this.chainFor(day, shards);
    const registers = chain.head === undefined;
    // One day's entries, in the order recorded; an entry written once goes alone (its own transaction).
    const room = this.batches && !this.waiting[0]!.once ? BATCH_WRITES : 1;
    const group: Waiting[] = [];
    while (
      group.length < room &&
      this.waiting[0] !== undefined &&
      chainDay(this.waiting[0], today) === day &&
      this.shardsOf(this.waiting[0].entry) === shards &&
      (group.length === 0 || !this.waiting[0].once)
    ) {
      group.push(this.waiting.shift()!);
    }
    let head = chain.head;
    const items = group.map(({ entry }) => {
      const linked = link(entry, chain.id, head);
      head = linked;
      return chainedItem(chain, linked);
    });
    try {
      const registration = {
        ...keys.auditChainRegistry(day, chain.id),
        chain: chain.id,
        shard: chain.shard,
        startedAt: group[0]!.entry.at,
      };
      // The registration lands before any entry of the chain: an entry is never on a chain the checkpoints
      // cannot find (a conditional put; already there, from an attempt whose answer was lost, is fine).
      if (registers) await putRegistration(this.doc, this.tableName, registration);
      const once = group[0]!.once;
      let appended = true;
      if (once) {
        // Written before under its key: nothing is written now, and the chain's head stays where it was.
        appended = await putOnce(this.doc, this.tableName, items[0]!, once);
        group[0]!.resolve();
      } else if (items.length === 1) {
        await putNew(this.doc, this.tableName, items[0]!);
        group[0]!.resolve();
      } else {
        await this.writeBatch(items, group);
      }
      if (appended) chain.head = head && { seq: head.seq, hash: head.hash };
    } catch (error) {
      // Closed: nothing is ever numbered after entries that may be missing.
      if (this.chain === chain) this.chain = undefined;
      for (const waiting of group) waiting.reject(error);
    } finally {
      this.busy = false;
      this.schedule();
    }
  }

  /**
   * Writes `items` in one TransactWriteItems of conditional puts (each on condition that it is new),
   * settling each entry once all are written. Never a BatchWriteItem: IAM cannot tell its delete requests
   * from its puts, so a writer granted it for group commits could delete entries (cut a chain's tail
   * before the checkpoint, review R31 M1); a transaction's puts are checked as PutItem, and a put on
   * condition of a new key can overwrite nothing. All or nothing: a group is never written in part, so a
   * chain has no gap. Its idempotency token (the chain and the group's first position) makes a retry of a
   * transaction whose answer was lost a no-op rather than a failed condition.
   */
  private async writeBatch(items: Stored[], group: Waiting[]): Promise<void> {
    const first = items[0]!;
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: items.map((item) => ({
          Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
        })),
        ClientRequestToken: createHash('sha256')
          .update(`${first.pk}\u0000${first.sk}`)
          .digest('base64url')
          .slice(0, 36),
      }),
    );
    for (const waiting of group) waiting.resolve();
  }
}

/**
 * When a key's mark may go (epoch seconds, the table's TTL attribute): {@link recordOnceSeconds} after the
 * write it marks.
 *
 * @example
 * ```ts
 * onceExpiresAt({ key: 'lic_1#2#0', writtenAt: '2026-12-06T00:00:00.000Z' }); // 1799539200 (35 days on)
 * ```
 */
export function onceExpiresAt(once: RecordOnce): number {
  return Math.floor(Date.parse(once.writtenAt) / 1000) + recordOnceSeconds;
}

/**
 * Writes a chained entry and its key's mark (`audit-once#<key>`) in one TransactWriteItems, each on
 * condition that it is new: false (and nothing written) when the mark is there, i.e. an earlier write
 * under the key landed, even one whose answer was lost. Only the entry's own put failing is an error.
 */
async function putOnce(
  doc: DynamoDBDocumentClient,
  tableName: string,
  item: Stored,
  once: RecordOnce,
): Promise<boolean> {
  const isNew = 'attribute_not_exists(pk)';
  try {
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: item, ConditionExpression: isNew } },
          {
            Put: {
              TableName: tableName,
              // Where the entry is, for whoever traces a key: never read by the service. Deleted by the
              // table's TTL once no completer can still come with the same key (recordOnceSeconds).
              Item: {
                ...keys.auditOnce(once.key),
                chain: item.chain,
                seq: item.seq,
                writtenAt: once.writtenAt,
                expiresAt: onceExpiresAt(once),
              },
              ConditionExpression: isNew,
            },
          },
        ],
      }),
    );
    return true;
  } catch (error) {
    const reasons = (error as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons;
    if (
      (error as Error)?.name === 'TransactionCanceledException' &&
      reasons?.[1]?.Code === 'ConditionalCheckFailed' &&
      reasons[0]?.Code !== 'ConditionalCheckFailed'
    ) {
      return false;
    }
    throw error;
  }
}

/** Puts a chain's registration unless it is there already (idempotent: the chain id is the writer's own). */
async function putRegistration(
  doc: DynamoDBDocumentClient,
  tableName: string,
  registration: Stored,
): Promise<void> {
  try {
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: registration,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
}

/**
 * {@link DynamoAuditTrail} with group commit, for `POST /verify`: the entries recorded while no write is in
 * flight (one turn of the event loop, or the time the last write took: concurrent verifications of one
 * process) are numbered in order and written together, in one TransactWriteItems of up to 25 conditional
 * puts (a chain's registration first, on its own; never a BatchWriteItem, R31 M1). A lone entry on an
 * open chain is one conditional put: the second of the two table calls a warm verification makes.
 *
 * @example
 * ```ts
 * const audit = new GroupCommitAuditTrail(doc, tableName);
 * ```
 */
export class GroupCommitAuditTrail extends DynamoAuditTrail {
  protected override readonly batches = true;
}

/**
 * {@link LicenceAuditPages} on the audit table: one query of `limit + 1` entries of the licence's index
 * (gsi1, oldest first) after the cursor's position, and one more from the cursor's position itself (the
 * entry it stands on, answered as `after.entry`, or `null` when it is no longer listed), so a request reads at most a page however flooded the
 * licence (DynamoDB's 1 MB a query may cut it shorter; the cursor then resumes after the last entry
 * answered).
 *
 * @example
 * ```ts
 * const first = await new DynamoLicenceAuditPages(doc, auditTable).licencePage(licenceId, { limit: 100 });
 * ```
 */
export class DynamoLicenceAuditPages implements LicenceAuditPages {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async licencePage(licenceId: string, page: AuditPageRequest): Promise<LicenceAuditPage> {
    const after = page.cursor === undefined ? undefined : positionOfCursor(page.cursor);
    // After a cursor, the query starts at the cursor's own place (inclusive) and reads one more: the entry
    // the cursor stands on comes first if it is still on the list (R14 L2: a sealed cursor proves the
    // service answered it, not that its entry was not taken off the list since). No second read.
    const { Items = [], LastEvaluatedKey } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: after ? 'gsi1pk = :pk AND gsi1sk >= :after' : 'gsi1pk = :pk',
        ExpressionAttributeValues: {
          ':pk': indexKeys.auditLicence(licenceId),
          ...(after ? { ':after': after } : {}),
        },
        Limit: page.limit + (after ? 2 : 1),
      }),
    );
    const anchor = after !== undefined && Items[0]?.gsi1sk === after ? Items[0] : undefined;
    const rest = anchor ? Items.slice(1) : Items;
    const items = rest.slice(0, page.limit);
    const more = rest.length > page.limit || (LastEvaluatedKey !== undefined && items.length > 0);
    return {
      items: items.map(entryOf),
      // Where each entry is on the list: its index key, which the cursor after it carries too.
      positions: items.map((item) => listPlace(String(item.gsi1sk))),
      ...(more ? { cursor: entryCursor(String(items.at(-1)!.gsi1sk)) } : {}),
      ...(after === undefined ? {} : { after: pageStart(after, anchor ? entryOf(anchor) : null) }),
    };
  }
}
