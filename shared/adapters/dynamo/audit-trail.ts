import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomId } from '../../random-id.js';
import { putNew } from './conditional.js';
import type { AuditEntry, AuditTrail } from '../../audit/audit-trail.js';
import { queryAll } from './query-all.js';
import { indexKeys, keys } from './keys.js';

/**
 * Partitions per day. Every verification writes an entry, so one partition a day would cap the service
 * near DynamoDB's 1,000 writes/s per partition; entries spread over this many, chosen at random.
 */
export const auditShards = 16;

/** An entry as stored: its own key (day, random shard, random id) and its licence's index keys. */
function auditItem(entry: AuditEntry) {
  const key = keys.audit(entry.at, randomInt(auditShards), randomId('audit'));
  return {
    ...key,
    ...(entry.licenceId ? { gsi1pk: indexKeys.auditLicence(entry.licenceId), gsi1sk: key.sk } : {}),
    // The usage record (用证记录) of the licence's holder: `DynamoUsageRecord` reads it, newest first.
    ...(entry.holderKey ? { gsi2pk: indexKeys.auditHolder(entry.holderKey), gsi2sk: key.sk } : {}),
    ...entry,
  };
}

/**
 * {@link AuditTrail} on the single table: entries partitioned by day and shard
 * (`audit#YYYY-MM-DD#<shard>`, read in time order by merging the shards), indexed by licence (gsi1)
 * for one licence's story, and by holder (gsi2, entries carrying `holderKey`) for their usage record.
 */
export class DynamoAuditTrail implements AuditTrail {
  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    protected readonly tableName: string,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await putNew(this.doc, this.tableName, auditItem(entry));
  }

  async forLicence(licenceId: string): Promise<AuditEntry[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': indexKeys.auditLicence(licenceId) },
    });
    const entries = items.map(
      ({ pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, ...entry }) =>
        entry as unknown as AuditEntry,
    );
    return entries;
  }
}

/** DynamoDB's limit of writes per BatchWriteItem. */
const BATCH_WRITES = 25;
/** Attempts at items DynamoDB left unprocessed (throttling) before their entries fail. */
const BATCH_ATTEMPTS = 6;

interface Waiting {
  item: ReturnType<typeof auditItem>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * {@link DynamoAuditTrail} with group commit, for `POST /verify`: the entries recorded within one turn of
 * the event loop (concurrent verifications of one process) are written together, in one BatchWriteItem
 * of up to 25 (items left unprocessed are written again), and each `record` resolves only once its own
 * entry is written, or rejects, so that a caller awaiting it never releases an answer whose entry is not
 * durable. A lone entry is the conditional put of {@link DynamoAuditTrail} (Lambda runs one invocation
 * per container at a time: its batch is that one entry). A batch cannot be conditional: its entries'
 * keys hold 96 random bits (`randomId`) under the day and shard, so no entry overwrites another.
 *
 * @example
 * ```ts
 * const audit = new GroupCommitAuditTrail(doc, tableName);
 * await audit.record(entry); // written, with the entries recorded alongside it
 * ```
 */
export class GroupCommitAuditTrail extends DynamoAuditTrail {
  private waiting: Waiting[] = [];

  override record(entry: AuditEntry): Promise<void> {
    const item = auditItem(entry);
    return new Promise<void>((resolve, reject) => {
      if (this.waiting.push({ item, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const group = this.waiting;
    this.waiting = [];
    for (let start = 0; start < group.length; start += BATCH_WRITES) {
      const batch = group.slice(start, start + BATCH_WRITES);
      if (batch.length === 1) {
        const [one] = batch as [Waiting];
        putNew(this.doc, this.tableName, one.item).then(one.resolve, one.reject);
      } else {
        void this.write(batch);
      }
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    const byKey = new Map(batch.map((waiting) => [`${waiting.item.pk}\u0000${waiting.item.sk}`, waiting]));
    try {
      let requests = batch.map(({ item }) => ({ PutRequest: { Item: item } }));
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt === BATCH_ATTEMPTS)
          throw new Error('BatchWriteItem left audit entries unprocessed after retries');
        if (attempt > 0) await sleep(Math.min(25 * 2 ** attempt, 1_000) * Math.random());
        const { UnprocessedItems } = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        const left = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
        const leftKeys = new Set(
          left.map(({ PutRequest }) => `${PutRequest.Item.pk}\u0000${PutRequest.Item.sk}`),
        );
        // Written: released now, not held back by the entries still to retry.
        for (const [id, waiting] of byKey) {
          if (leftKeys.has(id)) continue;
          byKey.delete(id);
          waiting.resolve();
        }
        requests = left;
      }
    } catch (error) {
      for (const waiting of byKey.values()) waiting.reject(error);
    }
  }
}
