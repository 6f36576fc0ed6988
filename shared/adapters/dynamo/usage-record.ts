import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '../../audit/audit-trail.js';
import {
  actionsOf,
  positionOf,
  usageCursor,
  type UsagePage,
  type UsagePageRequest,
  type UsageRecord,
} from '../../licence/usage-record.js';
import { entryOf, entryReadBy } from './audit-trail.js';
import { indexKeys, keys } from './keys.js';

/** How much one page filtered by action may read: entries per query, and queries per holder. */
export interface UsageReadBounds {
  /** Entries a filtered query reads (DynamoDB's `Limit`, before the filter); 200 by default. */
  itemsPerRead: number;
  /** Queries per holder partition for one page; 5 by default (so at most 1,000 entries read per holder). */
  readsPerPage: number;
}

const defaultBounds: UsageReadBounds = { itemsPerRead: 200, readsPerPage: 5 };

/** What one holder's partition gave for a page: its matching items, and how far down it was read. */
interface PartitionRead {
  matches: Record<string, unknown>[];
  /** The position (`gsi2sk`) of the last entry read, when entries below it were not read; else undefined. */
  frontier?: string;
}

/**
 * {@link UsageRecord} on the audit table: the audit entries that carry a `holderKey` are indexed in gsi2
 * under `audit-holder#<holderKey>`, sorted by their own sort key (`<at>#<id>`, see `DynamoAuditTrail`).
 * A page queries each holder's partition backwards from the cursor and merges them: a person reads their
 * own record and, acting for an entity, the entity's, so two partitions at most.
 *
 * Unfiltered, one query of `limit + 1` entries per partition. Filtered by action, the same on gsi3, where
 * every usage entry is also indexed under its holder and action (`audit-holder-action#<key>#<action>`,
 * same sort key): one query per partition (per holder and action: a kind gathering several actions, as a
 * counter's proof, reads one partition for each), exact however many entries of other kinds are newer.
 *
 * gsi3 holds every entry only once the backfill (scripts/backfill-usage-index.ts) has indexed those
 * written before it existed and left its mark (`audit-usage-index`); the adapter reads the mark (one
 * GetItem) for each filtered page until it finds it, then remembers it. Until then a filtered page reads
 * gsi2 with a filter expression, bounded (DynamoDB applies the filter after reading, so a partition buried
 * under thousands of anonymous verifications may hold few matches per read): each partition is read in
 * queries of `itemsPerRead` until it gave
 * `limit + 1` matches, ran out, or `readsPerPage` queries were made. The page then answers only what lies
 * above the deepest point every unfinished partition was read to (the frontier): more than `limit` such
 * matches, the first `limit` and a cursor after the last; otherwise all of them and a cursor at the
 * frontier, so that the next page goes on reading where this one stopped (a page may be short, even
 * empty, with a cursor), and no matching entry is skipped or answered twice.
 */
export class DynamoUsageRecord implements UsageRecord {
  private readonly bounds: UsageReadBounds;
  /** The backfill's mark was found: gsi3 holds every usage entry, for good. */
  private indexed = false;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    bounds: Partial<UsageReadBounds> = {},
  ) {
    this.bounds = { ...defaultBounds, ...bounds };
  }

  async forHolders(holderKeys: readonly string[], page: UsagePageRequest): Promise<UsagePage> {
    const before = page.cursor === undefined ? undefined : positionOf(page.cursor);
    const actions = actionsOf(page);
    if (actions !== undefined && (await this.kindIndexed())) {
      return this.kindPage([...new Set(holderKeys)], actions, before, page.limit);
    }
    const reads = await Promise.all(
      [...new Set(holderKeys)].map((holderKey) => this.readPartition(holderKey, before, page)),
    );
    const frontiers = reads.flatMap((read) => (read.frontier === undefined ? [] : [read.frontier]));
    const frontier = frontiers.sort().at(-1);
    const settled = reads
      .flatMap((read) => read.matches)
      .filter((item) => frontier === undefined || String(item.gsi2sk) >= frontier)
      .sort((a, b) => (String(a.gsi2sk) < String(b.gsi2sk) ? 1 : -1));
    const items = settled.slice(0, page.limit);
    // More than a page settled: continue after its last entry; else where the reading stopped, if it did.
    const cursorAt = settled.length > page.limit ? String(items.at(-1)!.gsi2sk) : frontier;
    return {
      // As the trail reads them back: an entry whose index and stored holder disagree is not genuine.
      items: items.map((item) => entryOf(item) as AuditEntry),
      ...(cursorAt !== undefined ? { cursor: usageCursor(cursorAt) } : {}),
    };
  }

  /** Whether gsi3 holds every usage entry: the backfill's mark is there (remembered once found). */
  private async kindIndexed(): Promise<boolean> {
    if (this.indexed) return true;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.auditUsageIndex(), ProjectionExpression: 'pk' }),
    );
    this.indexed = Item !== undefined;
    return this.indexed;
  }

  /**
   * A page of some actions from gsi3: `limit + 1` entries per holder and action (one partition each: a kind
   * that gathers several actions reads each), merged, the newest `limit` answered.
   */
  private async kindPage(
    holderKeys: readonly string[],
    actions: readonly string[],
    before: string | undefined,
    limit: number,
  ): Promise<UsagePage> {
    const partitions = holderKeys.flatMap((holderKey) => actions.map((action) => ({ holderKey, action })));
    const reads = await Promise.all(
      partitions.map(async ({ holderKey, action }) => {
        const answer = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'gsi3',
            KeyConditionExpression: before ? 'gsi3pk = :pk AND gsi3sk < :before' : 'gsi3pk = :pk',
            ExpressionAttributeValues: {
              ':pk': indexKeys.auditHolderAction(holderKey, action),
              ...(before ? { ':before': before } : {}),
            },
            ScanIndexForward: false,
            Limit: limit + 1,
          }),
        );
        return answer.Items ?? [];
      }),
    );
    const merged = reads.flat().sort((a, b) => (String(a.gsi3sk) < String(b.gsi3sk) ? 1 : -1));
    const items = merged.slice(0, limit);
    return {
      // As the trail reads them back, through gsi3: filed there under another holder, it is not genuine.
      items: items.map((item) => entryReadBy(item, 'gsi3') as AuditEntry),
      ...(merged.length > limit ? { cursor: usageCursor(String(items.at(-1)!.gsi3sk)) } : {}),
    };
  }

  private async readPartition(
    holderKey: string,
    before: string | undefined,
    page: UsagePageRequest,
  ): Promise<PartitionRead> {
    const actions = actionsOf(page);
    const filtered = actions !== undefined;
    const matches: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    for (let read = 0; read < (filtered ? this.bounds.readsPerPage : 1); read++) {
      const answer = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'gsi2',
          KeyConditionExpression: before ? 'gsi2pk = :pk AND gsi2sk < :before' : 'gsi2pk = :pk',
          ...(filtered
            ? { FilterExpression: `#action IN (${actions.map((_, i) => `:action${i}`).join(', ')})` }
            : {}),
          ...(filtered ? { ExpressionAttributeNames: { '#action': 'action' } } : {}),
          ExpressionAttributeValues: {
            ':pk': indexKeys.auditHolder(holderKey),
            ...(before ? { ':before': before } : {}),
            ...Object.fromEntries((actions ?? []).map((action, i) => [`:action${i}`, action])),
          },
          ScanIndexForward: false,
          Limit: filtered ? Math.max(this.bounds.itemsPerRead, page.limit + 1) : page.limit + 1,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      matches.push(...(answer.Items ?? []));
      startKey = answer.LastEvaluatedKey;
      if (!startKey || matches.length > page.limit) break;
    }
    return { matches, ...(startKey ? { frontier: String(startKey.gsi2sk) } : {}) };
  }
}
