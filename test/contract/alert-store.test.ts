import { DynamoAlertStore } from '../../shared/adapters/dynamo/alert-store.js';
import { InMemoryAlerts } from '../support/in-memory-supervision.js';
import { alertStoreContract } from './alert-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

alertStoreContract('InMemoryAlerts', async () => ({ store: new InMemoryAlerts(), cleanup: nothingToClean }));

alertStoreContract('DynamoAlertStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoAlertStore(doc, tableName), cleanup: nothingToClean };
});
