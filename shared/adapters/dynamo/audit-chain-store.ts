import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { InvalidInputError, UnprocessableError } from '../../errors.js';
import type {
  AuditChainStore,
  AuditPage,
  HeadsPage,
  NewCheckpoint,
  OnDemandClaim,
  RegisteredChain,
  StoredCheckpoint,
} from '../../supervision/audit-chain-store.js';
import type { ChainHead } from '../../supervision/audit-chain.js';
import { chainIdPattern } from '../../supervision/audit-chain.js';
import { daysFrom } from '../../supervision/checkpoints.js';
import { listPlace } from '../../audit/audit-trail.js';
import { auditShards, entryOf, licenceListPlace, shardOfWriter } from './audit-trail.js';
import { isConditionalCheckFailed, putNew } from './conditional.js';
import { fixedPartitions, indexKeys, keys, prefixes, sortPrefixes } from './keys.js';
import { queryAll } from './query-all.js';

/**
 * Most UTF-8 bytes of heads (as JSON) in one stored page: DynamoDB refuses items over 400 KB, and this
 * leaves room for the keys and attribute names with a wide margin (about 2,100 to 2,400 heads a page).
 */
export const headsPageBytes = 256 * 1024;

/**
 * `heads` cut into pages of at most {@link headsPageBytes} bytes of JSON each, in order (at least one
 * page, empty when there are no heads).
 *
 * @example
 * ```ts
 * headsPages(heads3000).map((page) => page.length); // [2148, 852] for heads of seq 12345
 * ```
 */
export function headsPages(heads: readonly ChainHead[]): ChainHead[][] {
  const pages: ChainHead[][] = [[]];
  let bytes = 2;
  for (const { chain, seq, hash } of heads) {
    const head = { chain, seq, hash };
    const size = Buffer.byteLength(JSON.stringify(head)) + 1;
    if (bytes + size > headsPageBytes && pages.at(-1)!.length > 0) {
      pages.push([]);
      bytes = 2;
    }
    pages.at(-1)!.push(head);
    bytes += size;
  }
  return pages;
}

/** A stored page of heads as {@link headsPages} wrote it: anything else was not written by us. */
const storedHeadsPage = z.object({
  heads: z.string().transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  }),
  pages: z.number().int().positive(),
});
const storedHeads = z.array(z.strictObject({ chain: z.string(), seq: z.number().int(), hash: z.string() }));

/**
 * The heads of a stored page, or `checkpoint_heads_corrupt` (422) when the item is not what this store
 * wrote (its table edited by hand or tampered with): a data-integrity fault answered as such rather than
 * a bare 500, and one the verifier counts as a bad checkpoint (fail closed), as an altered page already is.
 */
function headsOfStored(item: Record<string, unknown>, id: string, page: number): HeadsPage {
  const parsed = storedHeadsPage.safeParse(item);
  const heads = parsed.success ? storedHeads.safeParse(parsed.data.heads) : undefined;
  if (!parsed.success || !heads?.success) {
    throw new UnprocessableError(
      `Page ${page} of the heads of checkpoint ${id} is not as written (corrupt or tampered with)`,
      'checkpoint_heads_corrupt',
    );
  }
  return {
    items: heads.data,
    ...(page + 1 < parsed.data.pages ? { cursor: String(page + 1) } : {}),
  };
}

/**
 * Queries one page of {@link DynamoAuditChainStore.entries} makes at most. Each reads at most the room
 * left on the page, so an unfiltered page reads at most `limit` entries; filtered by issuer (DynamoDB
 * filters after reading), a page reads at most this many times `limit`, then answers what it found (even
 * nothing) with a cursor, rather than every entry of 31 days in one request (SRE review M7).
 */
export const maxReadsPerPage = 32;

/** Where a page of {@link DynamoAuditChainStore.entries} stopped: a day, a shard, the last sort key read. */
interface Position {
  d: string;
  s: number;
  k?: string;
}

const encodeCursor = (position: Position) => Buffer.from(JSON.stringify(position)).toString('base64url');

/** The position `cursor` carries, refused (`invalid_cursor`) unless made by this listing for a day of `from`..`to`. */
function decodeCursor(cursor: string, range: { from: string; to: string }): Position {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    if (
      /^\d{4}-\d{2}-\d{2}$/.test(value.d) &&
      Number.isInteger(value.s) &&
      value.s >= 0 &&
      value.s < auditShards &&
      // A cursor of another range would read days nobody asked for (and past the 31-day cap).
      value.d >= range.from &&
      value.d <= range.to &&
      (value.k === undefined || (typeof value.k === 'string' && value.k.length <= 200)) &&
      encodeCursor(value) === cursor
    ) {
      return value;
    }
  } catch {
    // refused below
  }
  const message = 'not a cursor of this listing';
  throw new InvalidInputError(`Invalid request: cursor: ${message}`, 'invalid_cursor', {
    errors: [{ path: 'cursor', message }],
  });
}

/**
 * Items read as a page's entries, each with its place in its licence's list, whether the item's own
 * index keys file it there (its licence's list, at that place), and the shard of the day partition it was
 * read from (R31 M1).
 */
function pageOf(
  items: Record<string, unknown>[],
): Pick<AuditPage, 'items' | 'positions' | 'listed' | 'shards' | 'unfiled'> {
  const positions = items.map(licenceListPlace);
  return {
    items: items.map(entryOf),
    positions,
    listed: items.map((item, i) =>
      typeof item.licenceId !== 'string'
        ? null
        : item.gsi1pk === indexKeys.auditLicence(item.licenceId) &&
          typeof item.gsi1sk === 'string' &&
          listPlace(item.gsi1sk) === positions[i],
    ),
    shards: items.map(shardOfItem),
    unfiled: items.map(unfiledIn),
  };
}

/**
 * Which of its holder's records a chained entry's own index keys leave it out of (`AuditPage.unfiled`):
 * the whole record (gsi2, `audit-holder#<key>`) or the record of its kind (gsi3,
 * `audit-holder-action#<key>#<action>`), each at the entry's place (`<at>#<writer>#<seq>`); `null` when it is
 * in both, for an entry about no holder, and for one older than the chains (none of the days a check reads).
 */
function unfiledIn(item: Record<string, unknown>): 'usage record' | 'usage record by kind' | null {
  const writer = typeof item.chain === 'string' ? chainIdPattern.exec(item.chain)?.[2] : undefined;
  if (typeof item.holderKey !== 'string' || writer === undefined) return null;
  const place = indexKeys.auditChainedPosition(String(item.at), writer, Number(item.seq));
  if (item.gsi2pk !== indexKeys.auditHolder(item.holderKey) || item.gsi2sk !== place) return 'usage record';
  if (
    item.gsi3pk !== indexKeys.auditHolderAction(item.holderKey, String(item.action)) ||
    item.gsi3sk !== place
  ) {
    return 'usage record by kind';
  }
  return null;
}

/** The shard of the day partition an item was read from (`audit#<day>#<shard>`). */
function shardOfItem(item: Record<string, unknown>): number | null {
  const shard = /#(\d+)$/.exec(String(item.pk))?.[1];
  return shard === undefined ? null : Number(shard);
}

/**
 * {@link AuditChainStore} on the audit table: the chain registry (`audit-chain#<day>`), the chains' entries
 * in the day partitions the trail writes (`audit#<day>#<shard>`; queried per partition, in sort-key order:
 * chained entries by writer and position, then none of them mixed with the unchained older ones, which
 * sort before), the checkpoints under `audit-checkpoint`, by time, and each one's heads in pages under
 * `audit-checkpoint-heads#<id>`.
 */
export class DynamoAuditChainStore implements AuditChainStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The chains registered on `day`, each as the registration's key names it (its sort key, the chain id)
   * and in the shard that id's writer names (`shardOfWriter`), never as the item's attributes say: every
   * writer may put in the registry (IAM cannot bound it to its own chains), so one overwriting another's
   * registration with another `chain` or `shard` would have the closing checkpoint look for its head where
   * it is not, and leave the chain out (review R52). A registration whose key is not a chain of `day` holds
   * no entry anyone reads as a chain's: left out.
   */
  async chainsOf(day: string): Promise<RegisteredChain[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `${prefixes.auditChain}${day}` },
      // A checkpoint signs what the table holds now: every chain registered so far.
      ConsistentRead: true,
    });
    return items.flatMap((item) => {
      const [, chainDay, writer] = chainIdPattern.exec(String(item.sk)) ?? [];
      return chainDay === day && writer ? [{ chain: String(item.sk), shard: shardOfWriter(writer) }] : [];
    });
  }

  /**
   * The chain's last entry, in the shard its writer's id names (whatever `shard` says). A last entry whose
   * `seq` or `hash` is not one (rewritten) is an `UnprocessableError` `audit_chain_head_corrupt`: never a
   * head signed from it, nor the chain left out (fail closed, review R52).
   */
  async headOf({ chain }: RegisteredChain): Promise<ChainHead | undefined> {
    const [, day, writer] = chainIdPattern.exec(chain) ?? [];
    if (!day || !writer) return undefined;
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :chain)',
        ExpressionAttributeValues: {
          ':pk': keys.auditChained(day, shardOfWriter(writer), writer, 1).pk,
          ':chain': `${sortPrefixes.auditChain}${writer}#`,
        },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const head = Items?.[0];
    if (!head) return undefined;
    if (
      !Number.isSafeInteger(head.seq) ||
      (head.seq as number) < 1 ||
      typeof head.hash !== 'string' ||
      !/^[0-9a-f]{64}$/.test(head.hash)
    ) {
      throw new UnprocessableError(
        `audit chain ${chain}: its last entry holds no valid seq and hash (rewritten); no head is signed from it`,
        'audit_chain_head_corrupt',
      );
    }
    return { chain, seq: head.seq as number, hash: head.hash };
  }

  async entries(query: {
    from: string;
    to: string;
    issuerId?: string;
    limit: number;
    cursor?: string;
  }): Promise<AuditPage> {
    const start = query.cursor === undefined ? undefined : decodeCursor(query.cursor, query);
    const items: Record<string, unknown>[] = [];
    let reads = 0;
    for (const day of daysFrom(start?.d ?? query.from, query.to)) {
      for (let shard = start?.d === day ? start.s : 0; shard < auditShards; shard += 1) {
        let after = start?.d === day && start.s === shard ? start.k : undefined;
        const pk = `${prefixes.audit}${day}#${shard}`;
        for (;;) {
          const room = query.limit - items.length;
          const page = await this.doc.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk',
              ...(query.issuerId ? { FilterExpression: 'issuerId = :issuer' } : {}),
              ExpressionAttributeValues: {
                ':pk': pk,
                ...(query.issuerId ? { ':issuer': query.issuerId } : {}),
              },
              ...(after ? { ExclusiveStartKey: { pk, sk: after } } : {}),
              Limit: room,
            }),
          );
          reads += 1;
          items.push(...(page.Items ?? []));
          const last = page.LastEvaluatedKey?.sk as string | undefined;
          if (items.length < query.limit && reads >= maxReadsPerPage) {
            // Out of reads before the page filled (an issuer's few entries among a flood of others', or
            // many empty partitions): what was found, and a cursor where the reading stopped.
            const more = last !== undefined || shard < auditShards - 1 || day < query.to;
            return {
              ...pageOf(items),
              ...(more
                ? { cursor: encodeCursor(last ? { d: day, s: shard, k: last } : nextPartition(day, shard)) }
                : {}),
            };
          }
          if (items.length >= query.limit) {
            // Full: continue after the last item read (or the last evaluated, with a filter).
            const k = last ?? (items.at(-1)?.sk as string | undefined);
            const more = last !== undefined || shard < auditShards - 1 || day < query.to;
            return {
              ...pageOf(items),
              ...(more
                ? { cursor: encodeCursor(last ? { d: day, s: shard, k } : nextPartition(day, shard)) }
                : {}),
            };
          }
          if (!last) break;
          after = last;
        }
      }
    }
    return pageOf(items);
  }

  async saveCheckpoint({ id, at, jws }: NewCheckpoint, heads: readonly ChainHead[]): Promise<void> {
    const pages = headsPages(heads);
    // Every page before the checkpoint: a listed checkpoint never lacks heads it was signed with (a page
    // write failing leaves pages no checkpoint names, and no checkpoint).
    await Promise.all(
      pages.map((page, i) =>
        putNew(this.doc, this.tableName, {
          ...keys.auditCheckpointHeads(id, i),
          pages: pages.length,
          // One string, not a list of maps: its size is its byte length, which the paging counts.
          heads: JSON.stringify(page),
        }),
      ),
    );
    await putNew(this.doc, this.tableName, { ...keys.auditCheckpoint(at, id), at, jws });
  }

  async checkpointHeads(id: string, cursor?: string): Promise<HeadsPage> {
    const page = cursor === undefined ? 0 : headsPosition(cursor);
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.auditCheckpointHeads(id, page),
        // Written just before its checkpoint, which a reader may have listed a moment ago.
        ConsistentRead: true,
      }),
    );
    if (!Item) return { items: [] };
    return headsOfStored(Item, id, page);
  }

  /**
   * One conditional put of the limit item (`audit-checkpoint-limit`): the claim holds across containers
   * because DynamoDB applies the condition atomically. Refused, one consistent get reads the claim that
   * holds it (dynalite takes no `ReturnValuesOnConditionCheckFailure` on a single put). The item's TTL
   * removes it a day after it lapses; a lapsed one is claimed over anyway.
   */
  async claimOnDemand(now: number, until: number): Promise<OnDemandClaim> {
    const key = keys.auditCheckpointLimit();
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, until, expiresAt: Math.ceil(until / 1000) + 86_400 },
          ConditionExpression: 'attribute_not_exists(pk) OR #until <= :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    // Gone since (a TTL sweep): free now, but this call lost; the caller may retry at once.
    return { claimed: false, until: Item ? Number(Item.until) : now };
  }

  async checkpoints(limit: number, cursor?: string): Promise<{ items: StoredCheckpoint[]; cursor?: string }> {
    const before = cursor === undefined ? undefined : checkpointPosition(cursor);
    const { Items = [], LastEvaluatedKey } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: before ? 'pk = :pk AND sk < :before' : 'pk = :pk',
        ExpressionAttributeValues: {
          ':pk': fixedPartitions.auditCheckpoints,
          ...(before ? { ':before': before } : {}),
        },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const last = LastEvaluatedKey?.sk as string | undefined;
    return {
      items: Items.map((item) => ({ at: String(item.at), jws: String(item.jws) })),
      ...(last ? { cursor: Buffer.from(last).toString('base64url') } : {}),
    };
  }
}

/** The sort key a checkpoint cursor carries (`<at>#cp_<random>`); anything else is refused. */
function checkpointPosition(cursor: string): string {
  const decoded = /^[A-Za-z0-9_-]{1,200}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  if (/^\d{4}-\d{2}-\d{2}T[0-9:.]{8,12}Z#cp_[A-Za-z0-9_-]{16}$/.test(decoded)) return decoded;
  const message = 'not a cursor of this listing';
  throw new InvalidInputError(`Invalid request: cursor: ${message}`, 'invalid_cursor', {
    errors: [{ path: 'cursor', message }],
  });
}

/** The page number a heads cursor carries (1..99999); anything else is refused. */
function headsPosition(cursor: string): number {
  if (/^[1-9][0-9]{0,4}$/.test(cursor)) return Number(cursor);
  const message = 'not a cursor of this listing';
  throw new InvalidInputError(`Invalid request: cursor: ${message}`, 'invalid_cursor', {
    errors: [{ path: 'cursor', message }],
  });
}

/** The position at the start of the partition after `day`'s `shard`. */
function nextPartition(day: string, shard: number): Position {
  if (shard < auditShards - 1) return { d: day, s: shard + 1 };
  return { d: new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10), s: 0 };
}
