import { DynamoIdempotencyStore } from '../../shared/adapters/dynamo/idempotency-store.js';
import { TestClock } from '../support/in-memory-identity.js';
import { InMemoryIdempotencyStore } from '../support/in-memory-licence.js';
import { idempotencyStoreContract } from './idempotency-store.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

idempotencyStoreContract('InMemoryIdempotencyStore', async () => {
  const clock = new TestClock();
  return { store: new InMemoryIdempotencyStore(clock), clock, cleanup: nothingToClean };
});

idempotencyStoreContract('DynamoIdempotencyStore on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  const clock = new TestClock();
  return { store: new DynamoIdempotencyStore(doc, tableName, clock), clock, cleanup: nothingToClean };
});
