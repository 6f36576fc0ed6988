import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SpilledInteractionStore } from '../../sso/interaction-cookies.js';
import { getItem, type Item } from './conditional.js';
import { keys } from './keys.js';

/**
 * {@link SpilledInteractionStore} in the service's table: one item per interaction too large for its
 * cookie (`interaction-state#<uid>`), holding the seal as the jar made it and, as its TTL attribute, the
 * interaction's own expiry. A save replaces the item (the provider saves an interaction again at each
 * step); reads are consistent, since the next request of the same browser reads what this one wrote.
 *
 * @example
 * ```ts
 * const store = new DynamoSpilledInteractionStore(doc, 'elicence');
 * await store.put(uid, sealed, nowSeconds + 3600);
 * ```
 */
export class DynamoSpilledInteractionStore implements SpilledInteractionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(uid: string, sealed: string, expiresAt: number): Promise<void> {
    const item: Item = { ...keys.interactionState(uid), sealed, expiresAt };
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async get(uid: string, nowSeconds: number): Promise<string | undefined> {
    // Expired but not yet removed by TTL (which may take days) is absent.
    const item = await getItem(this.doc, this.tableName, keys.interactionState(uid), nowSeconds);
    return typeof item?.sealed === 'string' ? item.sealed : undefined;
  }

  async delete(uid: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.interactionState(uid) }));
  }
}
