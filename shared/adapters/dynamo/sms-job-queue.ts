import { DeleteCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SmsJob, SmsJobQueue } from '../../identity/sms-jobs.js';
import { putNew } from './conditional.js';
import { keys } from './keys.js';

/**
 * {@link SmsJobQueue} on the batch table (`BATCH_TABLE_NAME`): one item per job (`sms-job#<id>`, its
 * expiry the table's TTL). Its insert is the message: the table's stream, through the SMS pipe, puts
 * `{ "smsJob": <id> }` on the SMS queue (infra/constructs/batch-queue.ts); locally the runtime's queue tap
 * does the same (infra/local/queues.ts). Nothing else in the request functions talks to a queue.
 *
 * @example
 * ```ts
 * const jobs = new DynamoSmsJobQueue(doc, config.batchTableName);
 * ```
 */
export class DynamoSmsJobQueue implements SmsJobQueue {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async enqueue(job: SmsJob): Promise<void> {
    // Only if absent: the stream's INSERT is what starts the job, a job is never rewritten.
    await putNew(this.doc, this.tableName, { ...keys.smsJob(job.id), ...job });
  }

  async find(id: string): Promise<SmsJob | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.smsJob(id), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      id: String(Item.id),
      purpose: Item.purpose as SmsJob['purpose'],
      lookupKey: String(Item.lookupKey),
      sealed: String(Item.sealed),
      expiresAt: Number(Item.expiresAt),
    };
  }

  async remove(id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.smsJob(id) }));
  }
}
