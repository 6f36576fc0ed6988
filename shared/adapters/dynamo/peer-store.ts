import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../errors.js';
import type { PeerRecord, PeerStore } from '../../issuers/peer-store.js';
import type { Trace } from '../../pending-work/pending-work.js';
import { getItem, putVersioned, versionCondition } from './conditional.js';
import { fixedPartitions, keys } from './keys.js';
import { writeWithTrace } from './pending-work.js';
import { queryAll } from './query-all.js';

/** The record's own members, as stored (JSON-safe values; the key members are added on write). */
function toRecord(item: Record<string, unknown>): PeerRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as PeerRecord;
}

/**
 * {@link PeerStore} on the single table: one item per peer under the `peers` partition (few: one per
 * peer region), listed by one query, replaced under optimistic concurrency. A write with its trace is one
 * transaction of it and the pointer that carries its audit entry (`writeWithTrace`, pending-work.ts).
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

  async save(peer: Omit<PeerRecord, 'version'>, expectedVersion: number, trace?: Trace): Promise<PeerRecord> {
    const conflict = { code: 'peer_changed', message: `Peer ${peer.id} changed meanwhile` };
    const item = { ...keys.peer(peer.id), ...peer };
    if (!trace) {
      return toRecord(await putVersioned(this.doc, this.tableName, item, expectedVersion, { conflict }));
    }
    const written = { ...item, version: expectedVersion + 1 };
    const put = {
      Put: {
        TableName: this.tableName,
        Item: written,
        ...versionCondition(expectedVersion),
      },
    };
    if ((await writeWithTrace(this.doc, this.tableName, put, trace, 'operators')) !== 'written') {
      throw new ConflictError(conflict.message, conflict.code);
    }
    return toRecord(written);
  }

  async remove(id: string, trace?: Trace): Promise<boolean> {
    if (!trace) {
      const { Attributes } = await this.doc.send(
        new DeleteCommand({ TableName: this.tableName, Key: keys.peer(id), ReturnValues: 'ALL_OLD' }),
      );
      return Attributes !== undefined;
    }
    const removal = {
      Delete: { TableName: this.tableName, Key: keys.peer(id), ConditionExpression: 'attribute_exists(pk)' },
    };
    const outcome = await writeWithTrace(this.doc, this.tableName, removal, trace, 'operators');
    if (outcome === 'contended') throw new ConflictError(`Peer ${id} changed meanwhile`, 'peer_changed');
    return outcome === 'written';
  }
}
