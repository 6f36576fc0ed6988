import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PeerRecord, PeerStore } from '../../issuers/peer-store.js';
import { getItem, putVersioned } from './conditional.js';
import { fixedPartitions, keys } from './keys.js';
import { queryAll } from './query-all.js';

/** The record's own members, as stored (JSON-safe values; the key members are added on write). */
function toRecord(item: Record<string, unknown>): PeerRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as PeerRecord;
}

/**
 * {@link PeerStore} on the single table: one item per peer under the `peers` partition (few: one per
 * peer region), listed by one query, replaced under optimistic concurrency.
 *
 * @example
 * ```ts
 * const peers = new DynamoPeerStore(doc, config.tableName);
 * ```
 */
export class DynamoPeerStore implements PeerStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(id: string): Promise<PeerRecord | undefined> {
    const item = await getItem(this.doc, this.tableName, keys.peer(id), 0);
    return item && toRecord(item);
  }

  async list(): Promise<PeerRecord[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': fixedPartitions.peers },
      ConsistentRead: true,
    });
    return items.map(toRecord);
  }

  async save(peer: Omit<PeerRecord, 'version'>, expectedVersion: number): Promise<PeerRecord> {
    const written = await putVersioned(
      this.doc,
      this.tableName,
      { ...keys.peer(peer.id), ...peer },
      expectedVersion,
      { conflict: { code: 'peer_changed', message: `Peer ${peer.id} changed meanwhile` } },
    );
    return toRecord(written);
  }

  async remove(id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.peer(id) }));
  }
}
