import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoCarrierRegistry } from '../../shared/adapters/dynamo/carrier-registry.js';
import { fakeMac } from '../support/in-memory.js';
import { InMemoryCarrierRegistry } from '../support/in-memory-carrier.js';
import { carrierRegistryContract } from './carrier-registry.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

carrierRegistryContract('InMemoryCarrierRegistry', async () => {
  const carrier = new InMemoryCarrierRegistry();
  return {
    carrier,
    putSubscriber: (subscriber) => carrier.putSubscriber(subscriber),
    storedText: async () => '',
    cleanup: nothingToClean,
  };
});

carrierRegistryContract('DynamoCarrierRegistry on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  const carrier = new DynamoCarrierRegistry(doc, tableName, fakeMac);
  return {
    carrier,
    putSubscriber: (subscriber) => carrier.putSubscriber(subscriber),
    storedText: async () => JSON.stringify((await doc.send(new ScanCommand({ TableName: tableName }))).Items),
    cleanup: nothingToClean,
  };
});
