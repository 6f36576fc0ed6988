import { ConflictError } from '../../shared/errors.js';
import type { BatchSlotStore, OpenBatches } from '../../shared/licence/batch-slots.js';

/** {@link BatchSlotStore} in memory: each issuer's open jobs, replaced under a version as the table does. */
export class InMemoryBatchSlotStore implements BatchSlotStore {
  readonly issuers = new Map<string, OpenBatches>();

  async read(issuerId: string): Promise<OpenBatches> {
    const stored = this.issuers.get(issuerId);
    return stored ? structuredClone(stored) : { open: {}, version: 0 };
  }

  async save(issuerId: string, open: Record<string, number>, expectedVersion: number): Promise<void> {
    if ((this.issuers.get(issuerId)?.version ?? 0) !== expectedVersion) {
      throw new ConflictError('The issuer’s open batches changed since read', 'batch_slots_changed');
    }
    this.issuers.set(issuerId, { open: structuredClone(open), version: expectedVersion + 1 });
  }
}
