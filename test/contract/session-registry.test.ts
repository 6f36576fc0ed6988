import { DynamoSessionRegistry } from '../../shared/adapters/dynamo/session-registry.js';
import { InMemorySessionRegistry } from '../support/in-memory.js';
import { sessionRegistryContract } from './session-registry.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

sessionRegistryContract('InMemorySessionRegistry', async () => ({
  sessions: new InMemorySessionRegistry(),
  cleanup: nothingToClean,
}));

sessionRegistryContract('DynamoSessionRegistry on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { sessions: new DynamoSessionRegistry(doc, tableName), cleanup: nothingToClean };
});
