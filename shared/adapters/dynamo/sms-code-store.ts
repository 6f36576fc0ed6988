import { randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, writeIf } from './conditional.js';
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
 */
export class DynamoSmsCodeStore implements SmsCodeStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(
    key: string,
    code: { codeMac: string; expiresAt: number; requestedAt: number },
  ): Promise<boolean> {
    return writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.smsCode(key), ...code, codeId: randomBytes(16).toString('base64url') },
        // Not over a later request's code (a code stored with no request time counts as earlier).
        ConditionExpression: 'attribute_not_exists(requestedAt) OR requestedAt <= :requestedAt',
        ExpressionAttributeValues: { ':requestedAt': code.requestedAt },
      }),
    );
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

  async consume(key: string, codeMac: string, nowSeconds: number): Promise<boolean> {
    return writeIf(
      this.doc,
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.smsCode(key),
        ConditionExpression: 'codeMac = :mac AND expiresAt > :now',
        ExpressionAttributeValues: { ':mac': codeMac, ':now': nowSeconds },
      }),
    );
  }
}
