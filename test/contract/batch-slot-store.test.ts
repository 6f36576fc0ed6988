import { DynamoBatchSlotStore } from '../../shared/adapters/dynamo/batch-slots.js';
import { InMemoryBatchSlotStore } from '../support/in-memory-batch-slots.js';
import { batchSlotStoreContract } from './batch-slot-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

batchSlotStoreContract('InMemoryBatchSlotStore', async () => ({
  store: new InMemoryBatchSlotStore(),
  cleanup: nothingToClean,
}));

batchSlotStoreContract('DynamoBatchSlotStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoBatchSlotStore(doc, tableName), cleanup: nothingToClean };
});
