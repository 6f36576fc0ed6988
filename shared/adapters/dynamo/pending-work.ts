import { createHash, randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { PendingWorkIndex } from '../../licence/pending-work.js';
import { isConditionalCheckFailed } from './conditional.js';
import { keys, prefixes } from './keys.js';

/**
 * Partitions of the pointers: every issuance writes one and removes it, so one partition would cap the
 * service's issuance near DynamoDB's 1,000 writes/s per partition; a licence's shard is fixed by its id.
 */
export const pendingWorkShards = 8;

/**
 * How long a claim holds: longer than any function that completes pending work runs (the issuers' API
 * 10 s, bulk issuance's per licence), so that a lapsed claim is one whose holder is gone.
 */
export const claimSeconds = 60;

/** The shard of a licence's pointer: a stable function of its id. */
export function shardOfLicence(licenceId: string): number {
  return createHash('sha256').update(licenceId).digest()[0]! % pendingWorkShards;
}

const pointerKey = (licenceId: string) => keys.pendingWork(shardOfLicence(licenceId), licenceId);

/**
 * {@link PendingWorkIndex} on the service table: one item per licence with work outstanding,
 * `pending-work#<shard>` / `<licenceId>`, holding when it was marked (`since`) and its claim (`claim`,
 * `claimedUntil`, epoch milliseconds). `mark` and `claim` are one UpdateItem each, `remove` a conditional
 * DeleteItem; the reconciler reads the shards with a query each.
 *
 * @example
 * ```ts
 * const pending = new DynamoPendingWork(doc, tableName);
 * const claim = await pending.mark(licenceId, now);
 * ```
 */
export class DynamoPendingWork implements PendingWorkIndex {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async mark(licenceId: string, now: Date): Promise<string> {
    const claim = randomUUID();
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: pointerKey(licenceId),
        UpdateExpression: 'SET since = :since, #claim = :claim, claimedUntil = :until',
        ExpressionAttributeNames: { '#claim': 'claim' },
        ExpressionAttributeValues: {
          ':since': now.toISOString(),
          ':claim': claim,
          ':until': now.getTime() + claimSeconds * 1000,
        },
      }),
    );
    return claim;
  }

  async claim(licenceId: string, now: Date): Promise<string | undefined> {
    const claim = randomUUID();
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pointerKey(licenceId),
          UpdateExpression: 'SET #claim = :claim, claimedUntil = :until',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(#claim) OR claimedUntil < :now)',
          ExpressionAttributeNames: { '#claim': 'claim' },
          ExpressionAttributeValues: {
            ':claim': claim,
            ':until': now.getTime() + claimSeconds * 1000,
            ':now': now.getTime(),
          },
        }),
      );
      return claim;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async release(licenceId: string, claim: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: pointerKey(licenceId),
          UpdateExpression: 'REMOVE #claim, claimedUntil',
          ConditionExpression: '#claim = :claim',
          ExpressionAttributeNames: { '#claim': 'claim' },
          ExpressionAttributeValues: { ':claim': claim },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async remove(licenceId: string, claim: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: pointerKey(licenceId),
          ConditionExpression: '#claim = :claim',
          ExpressionAttributeNames: { '#claim': 'claim' },
          ExpressionAttributeValues: { ':claim': claim },
        }),
      );
    } catch (error) {
      // Marked again meanwhile (another change of the licence): the pointer is that change's now.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async olderThan(before: Date, limit: number): Promise<Array<{ licenceId: string; since: string }>> {
    const found: Array<{ licenceId: string; since: string }> = [];
    for (let shard = 0; shard < pendingWorkShards && found.length < limit; shard += 1) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            FilterExpression: 'since < :before',
            ProjectionExpression: 'sk, since',
            ExpressionAttributeValues: {
              ':pk': `${prefixes.pendingWork}${shard}`,
              ':before': before.toISOString(),
            },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          found.push({ licenceId: String(item.sk), since: String(item.since) });
        }
        start = page.LastEvaluatedKey;
      } while (start && found.length < limit);
    }
    return found.slice(0, limit);
  }
}
