import { DynamoLicenceStore } from '../../shared/adapters/dynamo/licence-store.js';
import { InMemoryLicenceStore } from '../support/in-memory-licence.js';
import { licenceStoreContract } from './licence-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

licenceStoreContract('InMemoryLicenceStore', async () => ({
  store: new InMemoryLicenceStore(),
  cleanup: nothingToClean,
}));

licenceStoreContract('DynamoLicenceStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoLicenceStore(doc, tableName), cleanup: nothingToClean };
});
