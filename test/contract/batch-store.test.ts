import { DynamoBatchStore } from '../../shared/adapters/dynamo/batch-store.js';
import { InMemoryBatchStore } from '../support/in-memory-batches.js';
import { batchStoreContract } from './batch-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

batchStoreContract('InMemoryBatchStore', async () => ({
  store: new InMemoryBatchStore(),
  cleanup: nothingToClean,
}));

batchStoreContract('DynamoBatchStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoBatchStore(doc, tableName), cleanup: nothingToClean };
});
