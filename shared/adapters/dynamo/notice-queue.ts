import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NoticeQueue, PendingNotice, WithdrawalNotice } from '../../sharing/withdrawal-notices.js';
import { writeAllOrNothing } from './conditional.js';
import { fixedPartitions, keys } from './keys.js';

/** How long an abandoned notice stays for the operators to read (TTL), in seconds: 30 days. */
const abandonedKeptSeconds = 30 * 86_400;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The item of a notice queued at `now` (epoch ms), due at once: for {@link DynamoNoticeQueue.enqueue}, and
 * for the write that withdraws grants and queues their notice together (`sharing-grants.ts`).
 */
export function noticeItem(notice: WithdrawalNotice, now: number): Record<string, unknown> {
  const pending: PendingNotice = { ...notice, attempts: 0, dueAt: now };
  return { ...keys.notice(iso(now), notice.id), ...pending };
}

/** A stored notice's members, without its key (JSON-safe values). */
function toPending(item: Record<string, unknown>): PendingNotice {
  const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...rest } = item;
  return rest as unknown as PendingNotice;
}

/**
 * {@link NoticeQueue} on the single table: one `notices` partition sorted by when each notice is due
 * (`<due at>#<id>`), so that the due ones are one query (`sk <= now`); a retry moves the item to its new
 * due time (a transaction: the old key deleted only if still there, the new one put), and an abandoned
 * one to `abandoned#<id>`, which sorts after every time and expires after 30 days.
 *
 * @example
 * ```ts
 * const notices = new DynamoNoticeQueue(doc, config.tableName);
 * ```
 */
export class DynamoNoticeQueue implements NoticeQueue {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async enqueue(notice: WithdrawalNotice, now: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: noticeItem(notice, now),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async due(now: number, limit: number): Promise<PendingNotice[]> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk <= :now',
        // `~` sorts after every digit and `#`: every notice due within this millisecond.
        ExpressionAttributeValues: { ':pk': fixedPartitions.notices, ':now': `${iso(now)}~` },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return Items.map(toPending);
  }

  async delivered(notice: PendingNotice): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.notice(iso(notice.dueAt), notice.id) }),
    );
  }

  async retry(notice: PendingNotice, dueAt: number, error: string): Promise<void> {
    const next: PendingNotice = { ...notice, attempts: notice.attempts + 1, dueAt, lastError: error };
    await this.move(notice, { ...keys.notice(iso(dueAt), notice.id), ...next });
  }

  async abandon(notice: PendingNotice, error: string): Promise<void> {
    const kept = { ...notice, lastError: error };
    // Counted from its last due time: the delivery that gave up on it ran then or soon after.
    const expiresAt = Math.floor(notice.dueAt / 1000) + abandonedKeptSeconds;
    await this.move(notice, { ...keys.abandonedNotice(notice.id), ...kept, expiresAt });
  }

  /** Replaces the notice's item by `item`, unless another delivery already moved it on (then a no-op). */
  private async move(notice: PendingNotice, item: Record<string, unknown>): Promise<void> {
    await writeAllOrNothing(this.doc, [
      {
        Delete: {
          TableName: this.tableName,
          Key: keys.notice(iso(notice.dueAt), notice.id),
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
      { Put: { TableName: this.tableName, Item: item } },
    ]);
  }
}
