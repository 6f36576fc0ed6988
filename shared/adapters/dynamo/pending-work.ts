import { createHash, randomUUID } from 'node:crypto';
import {
  DeleteCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { PendingWorkIndex } from '../../licence/pending-work.js';
import { writeIf } from './conditional.js';
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

/** The `claimedMark` of a claim on a pointer marked before marks were recorded (it has no `marked`). */
const noMark = 'none';

/** When a claim taken at `now` lapses (epoch milliseconds): each claim's lease runs from its own taking. */
const leaseEnd = (now: Date) => now.getTime() + claimSeconds * 1000;

/** The shard of a licence's pointer: a stable function of its id. */
export function shardOfLicence(licenceId: string): number {
  return createHash('sha256').update(licenceId).digest()[0]! % pendingWorkShards;
}

const pointerKey = (licenceId: string) => keys.pendingWork(shardOfLicence(licenceId), licenceId);

/** `claimedUntil` is past (or absent with the claim): whoever held the claim is gone. */
const unclaimed = 'attribute_not_exists(#claim) OR claimedUntil < :now';

/**
 * {@link PendingWorkIndex} on the service table: one item per licence with work outstanding,
 * `pending-work#<shard>` / `<licenceId>`, holding when it was last marked (`since`) and by which mark
 * (`marked`, new on every mark), and its claim (`claim`, `claimedUntil` in epoch milliseconds, and
 * `claimedMark`, the mark it was taken under). Each operation is one conditional UpdateItem or DeleteItem
 * ({@link DynamoPendingWork.write}; `mark` a second, unconditional, when the pointer is held); the reconciler
 * reads the shards with a query each.
 *
 * @example
 * ```ts
 * const pending = new DynamoPendingWork(doc, tableName);
 * const claim = await pending.mark(licenceId, now); // undefined: another completer holds it
 * ```
 */
export class DynamoPendingWork implements PendingWorkIndex {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async mark(licenceId: string, now: Date): Promise<string | undefined> {
    const claim = randomUUID();
    const values = { ':since': now.toISOString(), ':mark': randomUUID() };
    const taken = await this.write(licenceId, {
      update:
        'SET since = :since, marked = :mark, #claim = :claim, claimedUntil = :until, claimedMark = :mark',
      condition: unclaimed,
      values: { ...values, ':claim': claim, ':until': leaseEnd(now), ':now': now.getTime() },
    });
    if (taken) return claim;
    // Held by a live claim (security review R11): never taken over, or two completers would finish the
    // same work. Marked all the same, so that the holder's `remove` leaves the pointer for this change.
    await this.write(licenceId, { update: 'SET since = :since, marked = :mark', values });
    return undefined;
  }

  async claim(licenceId: string, now: Date): Promise<string | undefined> {
    const claim = randomUUID();
    const taken = await this.write(licenceId, {
      // A pointer marked before marks were recorded has none: `none` stands for it.
      update: 'SET #claim = :claim, claimedUntil = :until, claimedMark = if_not_exists(marked, :none)',
      condition: `attribute_exists(pk) AND (${unclaimed})`,
      values: { ':claim': claim, ':until': leaseEnd(now), ':now': now.getTime(), ':none': noMark },
    });
    return taken ? claim : undefined;
  }

  async release(licenceId: string, claim: string): Promise<void> {
    await this.write(licenceId, {
      update: 'REMOVE #claim, claimedUntil, claimedMark',
      condition: '#claim = :claim',
      values: { ':claim': claim },
    });
  }

  async remove(licenceId: string, claim: string): Promise<void> {
    const removed = await this.write(licenceId, {
      condition:
        '#claim = :claim AND (claimedMark = marked OR (attribute_not_exists(marked) AND claimedMark = :none))',
      values: { ':claim': claim, ':none': noMark },
    });
    // Marked again since the claim (a change whose work may not be saved yet): the pointer stays, free for
    // that change or the reconciler. Or the claim is no longer the caller's: then this changes nothing.
    if (!removed) await this.release(licenceId, claim);
  }

  /**
   * One conditional write of a licence's pointer: an UpdateItem with `update`, else a DeleteItem; true when
   * made, false when `condition` did not hold.
   */
  private write(
    licenceId: string,
    input: { update?: string; condition?: string; values: Record<string, unknown> },
  ): Promise<boolean> {
    const expressions = `${input.update ?? ''} ${input.condition ?? ''}`;
    const common = {
      TableName: this.tableName,
      Key: pointerKey(licenceId),
      ...(input.condition ? { ConditionExpression: input.condition } : {}),
      // DynamoDB refuses a name or a value the expressions do not use.
      ...(expressions.includes('#claim') ? { ExpressionAttributeNames: { '#claim': 'claim' } } : {}),
      ExpressionAttributeValues: input.values,
    };
    return writeIf(
      this.doc,
      input.update
        ? new UpdateCommand({ ...common, UpdateExpression: input.update })
        : new DeleteCommand(common),
    );
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
