import { TransactionCanceledException, type CancellationReason } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { getItem, writeIf, type Item } from './conditional.js';
import type {
  AttemptCounter,
  ClaimOutcome,
  CounterClaim,
  CounterForgiveness,
  LoginAttemptStore,
} from '../../identity/login-throttle.js';
import { keys } from './keys.js';
import { takeRequestRead } from './oidc-adapter.js';

const itemKey = keys.loginAttempts;

/**
 * {@link LoginAttemptStore} on the single table: one small item per counter
 * (`login-attempts#<kind>#<key>`, e.g. `login-attempts#pair#<lookupKey>.<source digest>`; no raw ID number
 * and no address in clear), expiring through the
 * table's TTL attribute in AWS and through the `expiresAt` check on every read locally.
 */
export class DynamoLoginAttemptStore implements LoginAttemptStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(key: string, nowSeconds: number): Promise<AttemptCounter | undefined> {
    // Read ahead with the code at the token endpoint (oidc-adapter.ts, readAheadCodeExchange), in that
    // request only; expired counters came back as absent.
    const ahead = takeRequestRead(this.tableName, itemKey(key)) as { item: Item | undefined } | undefined;
    const item = ahead ? ahead.item : await getItem(this.doc, this.tableName, itemKey(key), nowSeconds);
    return item && { failures: Number(item.failures), lastFailureAt: Number(item.lastFailureAt) };
  }

  /**
   * One TransactWriteItems of conditional Puts (the conditions of {@link replace}), each returning the item
   * it found when its condition fails (`ALL_OLD`), which DynamoDB reports in the cancellation reasons, in
   * the order of the claims. A reason `TransactionConflict` (another transaction on the item) is a claim
   * lost to a concurrent attempt: reported as not claimed, with nothing learnt. Any other failure throws.
   */
  async claimAll(claims: readonly CounterClaim[], nowSeconds: number): Promise<ClaimOutcome> {
    if (claims.length === 0) return { claimed: true };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: claims.map((claim) => ({
            Put: {
              TableName: this.tableName,
              Item: { ...itemKey(claim.key), ...claim.next, expiresAt: claim.expiresAt },
              ...claimCondition(claim.expected, nowSeconds),
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          })),
        }),
      );
      return { claimed: true };
    } catch (error) {
      const reasons = cancellationReasons(error, claims.length);
      const current = new Map<number, AttemptCounter | undefined>();
      reasons.forEach((reason, i) => {
        if (reason.Code === 'ConditionalCheckFailed') current.set(i, liveCounter(reason.Item, nowSeconds));
      });
      return { claimed: false, current };
    }
  }

  /**
   * One TransactWriteItems: a counter to clear is deleted; a counter believed to hold one failure or
   * less is deleted if it still does, one with more gets one back if it is live (what {@link forgiveOne}
   * does in two calls). A wrong belief fails that operation's condition and cancels the transaction, whose
   * reasons bring the counter as it is: the next round acts on that (nothing for a counter gone or
   * expired). Past three rounds, each counter is forgiven on its own, as before.
   */
  async forgiveAll(entries: readonly CounterForgiveness[], nowSeconds: number): Promise<void> {
    let pending = entries.map((entry) => ({ ...entry, failures: entry.failures ?? 1 }));
    for (let round = 0; round < 3 && pending.length > 0; round++) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: pending.map(({ key, clear, failures }) =>
              clear
                ? { Delete: { TableName: this.tableName, Key: itemKey(key) } }
                : failures <= 1
                  ? {
                      Delete: {
                        TableName: this.tableName,
                        Key: itemKey(key),
                        ConditionExpression: 'failures <= :one',
                        ExpressionAttributeValues: { ':one': 1 },
                        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                      },
                    }
                  : {
                      Update: {
                        TableName: this.tableName,
                        Key: itemKey(key),
                        UpdateExpression: 'SET failures = failures - :one',
                        ConditionExpression: 'failures > :one AND expiresAt > :now',
                        ExpressionAttributeValues: { ':one': 1, ':now': nowSeconds },
                        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                      },
                    },
            ),
          }),
        );
        return;
      } catch (error) {
        const reasons = cancellationReasons(error, pending.length);
        pending = pending.flatMap((entry, i) => {
          const reason = reasons[i]!;
          if (reason.Code !== 'ConditionalCheckFailed') return [entry];
          const found = reason.Item ? storedCounter(reason.Item) : undefined;
          // Gone, or expired with more than one failure: nothing to take back (as forgiveOne).
          if (!found || (found.failures > 1 && found.expiresAt <= nowSeconds)) return [];
          return [{ ...entry, failures: found.failures }];
        });
      }
    }
    await Promise.all(
      pending.map(({ key, clear }) => (clear ? this.clear(key) : this.forgiveOne(key, nowSeconds))),
    );
  }

  async replace(
    key: string,
    expected: AttemptCounter | undefined,
    next: AttemptCounter,
    expiresAt: number,
    nowSeconds: number,
  ): Promise<boolean> {
    return writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: { ...itemKey(key), ...next, expiresAt },
        ...claimCondition(expected, nowSeconds),
      }),
    );
  }

  async forgiveOne(key: string, nowSeconds: number): Promise<void> {
    // The usual case, a counter this attempt made and nothing else added to: it goes, in one call.
    const deleted = await writeIf(
      this.doc,
      new DeleteCommand({
        TableName: this.tableName,
        Key: itemKey(key),
        ConditionExpression: 'failures <= :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    if (deleted) return;
    // Otherwise one less, if there is still a live counter above zero (none left is nothing to forgive).
    await writeIf(
      this.doc,
      new UpdateCommand({
        TableName: this.tableName,
        Key: itemKey(key),
        UpdateExpression: 'SET failures = failures - :one',
        ConditionExpression: 'attribute_exists(pk) AND failures > :zero AND expiresAt > :now',
        ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':now': nowSeconds },
      }),
    );
  }

  async clear(key: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: itemKey(key) }));
  }

  /**
   * One UpdateItem adds to a live counter (atomic however many run at once); an absent or expired one is
   * started by a conditional put instead, and whichever of two starters loses adds to the winner's.
   */
  async countFailure(key: string, nowSeconds: number, expiresAt: number): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const added = await writeIf(
        this.doc,
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKey(key),
          UpdateExpression: 'SET failures = failures + :one, lastFailureAt = :now, expiresAt = :expires',
          ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now',
          ExpressionAttributeValues: { ':one': 1, ':now': nowSeconds, ':expires': expiresAt },
        }),
      );
      if (added) return;
      const started = await this.replace(
        key,
        undefined,
        { failures: 1, lastFailureAt: nowSeconds },
        expiresAt,
        nowSeconds,
      );
      if (started) return;
    }
    throw new Error('The failure counter is contended beyond three rounds');
  }

  /** One UpdateItem with no condition: `ADD` is atomic and starts an absent counter at `amount`. */
  async addFailures(key: string, amount: number, nowSeconds: number, expiresAt: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: itemKey(key),
        UpdateExpression:
          'ADD failures :amount SET lastFailureAt = if_not_exists(lastFailureAt, :now), expiresAt = if_not_exists(expiresAt, :expires)',
        ExpressionAttributeValues: { ':amount': amount, ':now': nowSeconds, ':expires': expiresAt },
      }),
    );
  }
}

/** The condition of a claim: the counter is absent or expired, or exactly as `expected` and live. */
function claimCondition(expected: AttemptCounter | undefined, nowSeconds: number) {
  return expected === undefined
    ? {
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
        ExpressionAttributeValues: { ':now': nowSeconds },
      }
    : {
        ConditionExpression: 'failures = :failures AND lastFailureAt = :last AND expiresAt > :now',
        ExpressionAttributeValues: {
          ':failures': expected.failures,
          ':last': expected.lastFailureAt,
          ':now': nowSeconds,
        },
      };
}

/**
 * The reasons of a cancelled transaction of `count` operations, one per operation in order; any other
 * error (or reasons other than a failed condition or a conflict with another transaction) is rethrown:
 * the throttle fails closed.
 */
function cancellationReasons(error: unknown, count: number): CancellationReason[] {
  if (!(
    error instanceof TransactionCanceledException || (error as Error)?.name === 'TransactionCanceledException'
  ))
    throw error;
  const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
  const expected = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);
  if (reasons.length !== count || reasons.some((reason) => !expected.has(reason.Code ?? ''))) throw error;
  return reasons;
}

/** A counter as the cancellation reasons carry it (DynamoDB JSON: the document client leaves it so). */
function storedCounter(item: Record<string, unknown>): (AttemptCounter & { expiresAt: number }) | undefined {
  const number = (name: string) => Number((item[name] as { N?: string } | undefined)?.N ?? Number.NaN);
  const counter = {
    failures: number('failures'),
    lastFailureAt: number('lastFailureAt'),
    expiresAt: number('expiresAt'),
  };
  return Object.values(counter).some(Number.isNaN) ? undefined : counter;
}

/** The live counter a reason carries: none when absent or past its expiry (as {@link getItem} reads it). */
function liveCounter(
  item: Record<string, unknown> | undefined,
  nowSeconds: number,
): AttemptCounter | undefined {
  const counter = item && storedCounter(item);
  return counter && counter.expiresAt > nowSeconds
    ? { failures: counter.failures, lastFailureAt: counter.lastFailureAt }
    : undefined;
}
