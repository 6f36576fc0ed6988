import { createHash } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getItem, putNew } from './conditional.js';
import { keys } from './keys.js';
import type { SessionRegistry } from '../../web/session-registry.js';

const keyOf = (sessionId: string) =>
  keys.webSession(createHash('sha256').update(sessionId).digest('base64url'));

/**
 * {@link SessionRegistry} in the service's table: one item per open session, carrying the TTL attribute
 * (and checked against it on read, since DynamoDB deletes late and dynalite never).
 *
 * @example
 * ```ts
 * const sessions = new DynamoSessionRegistry(doc, 'elicence');
 * await sessions.open(sid, token.expiresAt);
 * if (!(await sessions.isOpen(sid, now))) signedOut();
 * ```
 */
export class DynamoSessionRegistry implements SessionRegistry {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async open(sessionId: string, expiresAt: number): Promise<void> {
    await putNew(this.doc, this.tableName, { ...keyOf(sessionId), expiresAt });
  }

  async isOpen(sessionId: string, nowSeconds: number): Promise<boolean> {
    return (await getItem(this.doc, this.tableName, keyOf(sessionId), nowSeconds)) !== undefined;
  }

  async close(sessionId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keyOf(sessionId) }));
  }
}
