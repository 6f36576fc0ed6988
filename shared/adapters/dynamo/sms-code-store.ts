import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './conditional.js';
import type { SmsCodeStore, StoredSmsCode } from '../../identity/sms-code-store.js';
import { keys } from './keys.js';

/**
 * {@link SmsCodeStore} on the single table: one item per pending code (`sms-code#<digest>`) holding the
 * code's keyed hash, its tries and its expiry (the table's TTL in AWS; every condition checks it too,
 * since dynalite never deletes).
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
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.smsCode(key), ...code, tries: 0 },
          // Not over a later request's code (a code stored with no request time counts as earlier).
          ConditionExpression: 'attribute_not_exists(requestedAt) OR requestedAt <= :requestedAt',
          ExpressionAttributeValues: { ':requestedAt': code.requestedAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async countTry(key: string, maxTries: number, nowSeconds: number): Promise<StoredSmsCode | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.smsCode(key),
          UpdateExpression: 'SET tries = tries + :one',
          ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now AND tries < :max',
          ExpressionAttributeValues: { ':one': 1, ':now': nowSeconds, ':max': maxTries },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return (
        Attributes && {
          codeMac: String(Attributes.codeMac),
          tries: Number(Attributes.tries),
          expiresAt: Number(Attributes.expiresAt),
        }
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async consume(key: string, codeMac: string, nowSeconds: number): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.smsCode(key),
          ConditionExpression: 'codeMac = :mac AND expiresAt > :now',
          ExpressionAttributeValues: { ':mac': codeMac, ':now': nowSeconds },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
