import { DynamoSpilledInteractionStore } from '../../shared/adapters/dynamo/spilled-interaction-store.js';
import { InMemorySpilledInteractions } from '../support/in-memory-spilled-interactions.js';
import { spilledInteractionStoreContract } from './spilled-interaction-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

spilledInteractionStoreContract('InMemorySpilledInteractions', async () => ({
  store: new InMemorySpilledInteractions(),
  cleanup: nothingToClean,
}));

spilledInteractionStoreContract('DynamoSpilledInteractionStore on dynalite', async () => ({
  store: await dynamo
    .newTable()
    .then(({ doc, tableName }) => new DynamoSpilledInteractionStore(doc, tableName)),
  cleanup: nothingToClean,
}));
