import { randomBytes } from 'node:crypto';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, isTransactionConflict, writeAllOrNothing } from './conditional.js';
import type { SmsCodeStore, StoredSmsCode } from '../../identity/sms-code-store.js';
import { keys } from './keys.js';

/**
 * {@link SmsCodeStore} on the single table: one item per pending code (`sms-code#<digest>`) holding the
 * code's keyed hash, its expiry (the table's TTL in AWS; every read and condition checks it too, since
 * dynalite never deletes), when it was requested and a random id of its own; and, apart, one counter of
 * tries per stored code (`sms-try#<digest>#<code id>`, expiring with the code).
 *
 * Why apart: the request functions (`oidc`, `accounts`) check codes, so they count tries. Were the tries
 * on the code's item, their role would need `UpdateItem` on `sms-code#`, and an update can as well set a
 * hash of its own choosing (or create a code): a stolen request role would pass anybody's SMS proof. With
 * the counter apart they only read and delete codes (functions/grants.ts); `sms-codes`, which texts, alone
 * writes them. A counter is keyed by its code's id, so a replacing code (even one of the same second, a
 * job run again) starts at no tries, and an old code's counter never touches a new one.
 *
 * Using a code deletes its item, and with it its request time, which is what keeps a job of an earlier
 * request, run late, from storing a code over a later one: so using it also records that time on a marker
 * (`sms-used#<digest>`: the request time and an expiry, no code), in the same transaction, and `put` is
 * refused, in one transaction with its own condition, when the marker is not earlier than its request
 * (a used code's own request included: review R19 L3), unless the marker is implausible
 * ({@link implausibleMarker}, review R19 L1). Why a
 * marker rather than a used code kept with its hash cleared: clearing is an update of `sms-code#`, which
 * would give the request roles `UpdateItem` there again; writing the marker lets them at most keep a code
 * from being stored (as deleting one already does), never plant one (review R17 L1).
 */
/** The clock difference between two functions' instances a marker is allowed (seconds). */
const markerSkewSeconds = 60;

/**
 * A marker `put` ignores, as if absent (review R19 L1): the request roles write markers, so a stolen one
 * could write `{ requestedAt: 9e9 }` and keep every code of the key from being stored for good. A marker
 * `consume` writes holds the used code's request time and expiry, numbers, the request before the expiry,
 * and that expiry (its store's time plus the code's lifetime) no later than the expiry of any code stored
 * after it (`:latestExpiry`, the new code's, plus {@link markerSkewSeconds}). Anything else is not one.
 * A condition has no arithmetic (no `requestedAt + ttl`), hence these bounds: a marker honoured has
 * `requestedAt < expiresAt <= latestExpiry`, so a forged one blocks only the codes of requests made before
 * its `requestedAt`, at most a code's lifetime and a minute after it was written.
 */
const implausibleMarker =
  'NOT attribute_type(requestedAt, :number) OR NOT attribute_type(expiresAt, :number) OR requestedAt >= expiresAt OR expiresAt > :latestExpiry';

export class DynamoSmsCodeStore implements SmsCodeStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(
    key: string,
    code: { codeMac: string; expiresAt: number; requestedAt: number },
  ): Promise<boolean> {
    // Not over a later request's code, stored (a code stored with no request time counts as earlier; one
    // of the same request is replaced) or used (one of the same request too: its proof is done).
    const notLater = {
      ConditionExpression: 'attribute_not_exists(requestedAt) OR requestedAt <= :requestedAt',
      ExpressionAttributeValues: { ':requestedAt': code.requestedAt },
    };
    const notLaterUsed = {
      ConditionExpression: `attribute_not_exists(requestedAt) OR requestedAt < :requestedAt OR ${implausibleMarker}`,
      ExpressionAttributeValues: {
        ':requestedAt': code.requestedAt,
        ':number': 'N',
        ':latestExpiry': code.expiresAt + markerSkewSeconds,
      },
    };
    const outcome = await writeAllOrNothing(this.doc, [
      { ConditionCheck: { TableName: this.tableName, Key: keys.smsUsed(key), ...notLaterUsed } },
      {
        Put: {
          TableName: this.tableName,
          Item: { ...keys.smsCode(key), ...code, codeId: randomBytes(16).toString('base64url') },
          ...notLater,
        },
      },
    ]);
    return outcome.written;
  }

  /**
   * Two calls: the code read (strongly consistent, so a code just stored is seen), then its try counted on
   * its counter, atomically and only below the maximum (concurrent guesses get no more than `maxTries`
   * between them). A code replaced between the two is counted under its old id and its old hash returned:
   * that try can only fail (`consume` is conditioned on the hash), as it would have a moment earlier.
   */
  async countTry(
    key: string,
    maxTries: number,
    nowSeconds: number,
    whenNone?: { expiresAt: number },
  ): Promise<StoredSmsCode | undefined> {
    const { Item: code } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.smsCode(key), ConsistentRead: true }),
    );
    if (!code || !(Number(code.expiresAt) > nowSeconds)) return this.countNone(key, maxTries, whenNone);
    // A code stored before the tries moved out carries its tries so far (and no id): they still count.
    const earlierTries = Number(code.tries ?? 0);
    const left = maxTries - earlierTries;
    if (left <= 0) return this.countNone(key, maxTries, whenNone);
    const codeId = typeof code.codeId === 'string' ? code.codeId : `stored-${String(code.requestedAt ?? 0)}`;
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.smsTry(key, codeId),
          UpdateExpression: 'ADD tries :one SET expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(tries) OR tries < :left',
          ExpressionAttributeValues: { ':one': 1, ':left': left, ':expiresAt': Number(code.expiresAt) },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return {
        codeMac: String(code.codeMac),
        tries: earlierTries + Number(Attributes?.tries),
        expiresAt: Number(code.expiresAt),
        requestedAt: Number(code.requestedAt ?? 0),
      };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /**
   * The try of a check with no code to count on, when the caller asks for one (`whenNone`): the same
   * conditional update as a code's try, on the placeholder counter `sms-try#<digest>#none` (a code's id is
   * random base64url, never `none`), so that such a check costs what a wrong guess at a live code does
   * (review R18 H1). Its outcome is not used: it returns nothing whatever it counted.
   */
  private async countNone(
    key: string,
    maxTries: number,
    whenNone: { expiresAt: number } | undefined,
  ): Promise<undefined> {
    if (!whenNone) return undefined;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.smsTry(key, 'none'),
          UpdateExpression: 'ADD tries :one SET expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(tries) OR tries < :left',
          ExpressionAttributeValues: { ':one': 1, ':left': maxTries, ':expiresAt': whenNone.expiresAt },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    return undefined;
  }

  /**
   * One transaction: the code deleted, if it is still the one counted (its hash and request time) and
   * live, and its request time recorded on the marker for `put`. The marker's write needs no condition:
   * codes are used in the order they were requested, since `put` never stores one earlier than the marker.
   * It lives as long as the code would have: a job of an earlier request is dropped before that.
   */
  async consume(key: string, code: Omit<StoredSmsCode, 'tries'>, nowSeconds: number): Promise<boolean> {
    try {
      const outcome = await writeAllOrNothing(this.doc, [
        {
          Delete: {
            TableName: this.tableName,
            Key: keys.smsCode(key),
            ConditionExpression:
              'codeMac = :mac AND expiresAt > :now AND (requestedAt = :requestedAt OR attribute_not_exists(requestedAt))',
            ExpressionAttributeValues: {
              ':mac': code.codeMac,
              ':now': nowSeconds,
              ':requestedAt': code.requestedAt,
            },
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: { ...keys.smsUsed(key), requestedAt: code.requestedAt, expiresAt: code.expiresAt },
          },
        },
      ]);
      return outcome.written;
    } catch (error) {
      // A parallel use of the same code holds the item: it is the one that uses it (fail closed).
      if (isTransactionConflict(error)) return false;
      throw error;
    }
  }
}
