import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BatchSlotStore, OpenBatches } from '../../licence/batch-slots.js';
import { getItem, putVersioned } from './conditional.js';
import { keys } from './keys.js';

/**
 * {@link BatchSlotStore} on the batch table: one item per issuer (`batch-slots#<issuerId>`) holding its
 * open jobs as a map, replaced under optimistic concurrency (`version`). Its partition is not `batch#`,
 * so its writes never start a job (the batch pipe keeps only inserts of `batch#` items).
 *
 * @example
 * ```ts
 * const slots = new DynamoBatchSlotStore(doc, config.batchTableName);
 * ```
 */
export class DynamoBatchSlotStore implements BatchSlotStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(issuerId: string): Promise<OpenBatches> {
    const item = await getItem<ReturnType<typeof keys.batchSlots> & OpenBatches & Record<string, unknown>>(
      this.doc,
      this.tableName,
      keys.batchSlots(issuerId),
      0,
    );
    return item ? { open: { ...item.open }, version: item.version } : { open: {}, version: 0 };
  }

  async save(issuerId: string, open: Record<string, number>, expectedVersion: number): Promise<void> {
    await putVersioned(this.doc, this.tableName, { ...keys.batchSlots(issuerId), open }, expectedVersion, {
      conflict: { code: 'batch_slots_changed', message: 'The issuer’s open batches changed since read' },
    });
  }
}
