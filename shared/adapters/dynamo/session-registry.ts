import { createHash } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getItem, putNew } from './conditional.js';
import { keys } from './keys.js';

/**
 * Which page sessions are still open, server-side. The session itself stays in the sealed cookie (the
 * token is never at rest in the table); the registry only says whether its id was signed out, so that a
 * copy of the cookie stops working the moment its owner signs out.
 *
 * Contract: `open` records an id until `expiresAt` (epoch seconds); `isOpen` is false once `close` ran
 * or `expiresAt` passed; ids are stored only as their SHA-256, so the table yields no usable session id.
 */
export interface SessionRegistry {
  open(sessionId: string, expiresAt: number): Promise<void>;
  isOpen(sessionId: string, nowSeconds: number): Promise<boolean>;
  close(sessionId: string): Promise<void>;
}

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
