import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getItem, isConditionalCheckFailed, type Item } from './conditional.js';
import type { AttemptCounter, LoginAttemptStore } from '../../identity/login-throttle.js';
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

  async replace(
    key: string,
    expected: AttemptCounter | undefined,
    next: AttemptCounter,
    expiresAt: number,
    nowSeconds: number,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...itemKey(key), ...next, expiresAt },
          ...(expected === undefined
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
              }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async forgiveOne(key: string, nowSeconds: number): Promise<void> {
    // The usual case, a counter this attempt made and nothing else added to: it goes, in one call.
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: itemKey(key),
          ConditionExpression: 'failures <= :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );
      return;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKey(key),
          UpdateExpression: 'SET failures = failures - :one',
          ConditionExpression: 'attribute_exists(pk) AND failures > :zero AND expiresAt > :now',
          ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':now': nowSeconds },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
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
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: itemKey(key),
            UpdateExpression: 'SET failures = failures + :one, lastFailureAt = :now, expiresAt = :expires',
            ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now',
            ExpressionAttributeValues: { ':one': 1, ':now': nowSeconds, ':expires': expiresAt },
          }),
        );
        return;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
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
}
