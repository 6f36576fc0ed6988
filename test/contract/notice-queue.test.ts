import { DynamoNoticeQueue } from '../../shared/adapters/dynamo/notice-queue.js';
import { InMemoryNoticeQueue } from '../support/in-memory-sharing.js';
import { noticeQueueContract } from './notice-queue.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

noticeQueueContract('InMemoryNoticeQueue', async () => ({
  store: new InMemoryNoticeQueue(),
  cleanup: nothingToClean,
}));

noticeQueueContract('DynamoNoticeQueue on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { store: new DynamoNoticeQueue(doc, tableName), cleanup: nothingToClean };
});
