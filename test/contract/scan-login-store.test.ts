import { DynamoScanLoginStore } from '../../shared/adapters/dynamo/scan-login-store.js';
import { InMemoryScanLoginStore } from '../support/in-memory-scan-login.js';
import { scanLoginStoreContract } from './scan-login-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

scanLoginStoreContract('InMemoryScanLoginStore', async () => ({
  store: new InMemoryScanLoginStore(),
  cleanup: nothingToClean,
}));

scanLoginStoreContract('DynamoScanLoginStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoScanLoginStore(doc, tableName), cleanup: nothingToClean };
});
