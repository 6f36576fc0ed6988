import { DynamoSmsCodeStore } from '../../shared/adapters/dynamo/sms-code-store.js';
import { InMemorySmsCodeStore } from '../support/in-memory-sms.js';
import { smsCodeStoreContract } from './sms-code-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

smsCodeStoreContract('InMemorySmsCodeStore', async () => ({
  store: new InMemorySmsCodeStore(),
  cleanup: nothingToClean,
}));

smsCodeStoreContract('DynamoSmsCodeStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoSmsCodeStore(doc, tableName), cleanup: nothingToClean };
});
