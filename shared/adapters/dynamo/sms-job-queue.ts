import { DeleteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SmsJob, SmsJobQueue } from '../../identity/sms-jobs.js';
import { isConditionalCheckFailed, putNew, writeIf } from './conditional.js';
import { keys } from './keys.js';

/**
 * {@link SmsJobQueue} on the batch table (`BATCH_TABLE_NAME`): one item per job (`sms-job#<id>`, its
 * expiry the table's TTL). Its insert is the message: the table's stream, through the SMS pipe, puts
 * `{ "smsJob": <id> }` on the SMS queue (infra/constructs/batch-queue.ts); locally the runtime's queue tap
 * does the same (infra/local/queues.ts). Nothing else in the request functions talks to a queue. A run
 * claims its job by update (`claimedUntil`, epoch seconds), and marks it sent by another (`sentAt`), which
 * the stream's pipe ignores (inserts only).
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
    return Item && jobOf(Item);
  }

  async claim(id: string, nowSeconds: number, leaseSeconds: number): Promise<SmsJob | 'absent' | 'claimed'> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.smsJob(id),
          UpdateExpression: 'SET claimedUntil = :until',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(claimedUntil) OR claimedUntil <= :now)',
          ExpressionAttributeValues: { ':until': nowSeconds + leaseSeconds, ':now': nowSeconds },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return jobOf(Attributes!);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return (await this.find(id)) ? 'claimed' : 'absent';
    }
  }

  async release(id: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.smsJob(id),
          UpdateExpression: 'REMOVE claimedUntil',
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async markSent(id: string, nowSeconds: number): Promise<boolean> {
    return writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.smsJob(id),
        UpdateExpression: 'SET sentAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(sentAt)',
        ExpressionAttributeValues: { ':now': nowSeconds },
      }),
    );
  }

  async remove(id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.smsJob(id) }));
  }
}

function jobOf(item: Record<string, unknown>): SmsJob {
  return {
    id: String(item.id),
    purpose: item.purpose as SmsJob['purpose'],
    lookupKey: String(item.lookupKey),
    sealed: String(item.sealed),
    expiresAt: Number(item.expiresAt),
    ...(item.sentAt !== undefined && { sentAt: Number(item.sentAt) }),
    ...(item.notice !== undefined && { notice: item.notice as SmsJob['notice'] }),
  };
}
