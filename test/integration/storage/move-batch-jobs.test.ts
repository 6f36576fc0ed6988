import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoBatchStore } from '../../../shared/adapters/dynamo/batch-store.js';
import { moveBatchJobs } from '../../../shared/adapters/dynamo/move-batch-jobs.js';
import type { BatchChunk, BatchJob } from '../../../shared/licence/batch-store.js';
import { startTestDynamo, type TestDynamo } from '../../support/dynamo-table.js';

/**
 * A deployed stack wrote its bulk issuance jobs into the service table (whose stream the batch pipe read);
 * the move copies them into the batch table, chunks before jobs, so the batch store finds them there and a
 * retried submission still finds its job.
 */
describe('moving bulk issuance jobs into the batch table (scripts/move-batch-jobs.ts)', () => {
  let dynamo: TestDynamo;
  let doc: DynamoDBDocumentClient;
  let service: string;
  let batches: string;
  const session = { pk: 'oidc#Session#s1', sk: 'oidc', accountId: 'acc_1' };
  const licence = { pk: 'licence#lic_1', sk: 'licence', issuerId: 'iss_1' };
  const job = (id: string, status: BatchJob['status']): BatchJob => ({
    id,
    issuerId: 'iss_1',
    clientId: 'client_1',
    requestHash: 'h4sh',
    status,
    total: 150,
    issued: status === 'done' ? 150 : 0,
    failed: 0,
    errors: [],
    chunks: 2,
    nextChunk: status === 'done' ? 2 : 0,
    createdAt: '2026-12-01T00:00:00.000Z',
    version: 0,
  });
  const chunk = (batchId: string, n: number): BatchChunk => ({
    batchId,
    requestHash: 'h4sh',
    n,
    first: n * 100,
    sealedItems: `sealed-${batchId}-${n}`,
  });

  const scan = async (TableName: string) =>
    (await doc.send(new ScanCommand({ TableName, ConsistentRead: true }))).Items ?? [];

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    ({ doc, tableName: service } = await dynamo.newTable());
    ({ tableName: batches } = await dynamo.newTable());
    // As before the batch table: jobs and their chunks in the service table, beside everything else.
    const old = new DynamoBatchStore(doc, service);
    await old.create(job('bat_done', 'done'), [chunk('bat_done', 0), chunk('bat_done', 1)]);
    await old.create(job('bat_running', 'running'), [chunk('bat_running', 0), chunk('bat_running', 1)]);
    for (const Item of [session, licence]) await doc.send(new PutCommand({ TableName: service, Item }));
  });
  afterAll(async () => {
    await dynamo?.close();
  });

  it('copies the jobs and their chunks alone, chunks first, and the batch store finds them in the batch table', async () => {
    const written: string[] = [];
    doc.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { TableName?: string; Item?: { pk?: string } };
        if (input.TableName === batches && input.Item?.pk) written.push(input.Item.pk);
        return next(args);
      },
      { step: 'initialize', name: 'recordMovePuts' },
    );
    try {
      const moved = await moveBatchJobs(doc, { from: service, to: batches, deleteCopied: false });
      expect(moved).toEqual({ found: 6, copied: 6, present: 0, conflicts: [], deleted: 0 });
    } finally {
      doc.middlewareStack.remove('recordMovePuts');
    }
    // Every chunk before any job: a job inserted (what starts it through the stream) has its items.
    const firstJob = written.findIndex((pk) => pk.startsWith('batch#'));
    expect(written.slice(0, firstJob).every((pk) => pk.startsWith('batch-items#'))).toBe(true);
    expect(written.slice(firstJob).every((pk) => pk.startsWith('batch#'))).toBe(true);
    expect(firstJob).toBe(4);
    // Nothing but jobs in the batch table: not the session, not the licence a job issued.
    expect((await scan(batches)).every((item) => /^batch(-items)?#/.test(String(item.pk)))).toBe(true);
    const store = new DynamoBatchStore(doc, batches);
    expect(await store.find('bat_done')).toMatchObject({ status: 'done', issued: 150, version: 1 });
    expect(await store.find('bat_running')).toMatchObject({ status: 'running', nextChunk: 0 });
    expect(await store.chunk('bat_running', 'h4sh', 1)).toEqual(chunk('bat_running', 1));
  });

  it('runs again without copying twice, names a differing copy, and deletes only what is identical', async () => {
    // A retried submission after the deployment, before the move, wrote its job afresh in the batch table.
    const store = new DynamoBatchStore(doc, batches);
    const running = (await store.find('bat_running'))!;
    await store.saveJob({ ...running, nextChunk: 1 });
    const again = await moveBatchJobs(doc, { from: service, to: batches, deleteCopied: true });
    expect(again).toEqual({
      found: 6,
      copied: 0,
      present: 5,
      conflicts: [{ pk: 'batch#bat_running', sk: 'batch' }],
      deleted: 5,
    });
    // The differing one stays for a person to look at; the session and the licence were never jobs.
    expect((await scan(service)).map((item) => item.pk).sort()).toEqual(
      ['batch#bat_running', licence.pk, session.pk].sort(),
    );
  });

  it('keeps an original that changed between its comparison and its delete, and names it', async () => {
    // A job still written to the service table by a function of the old code while the move runs.
    const old = new DynamoBatchStore(doc, service);
    await old.create(job('bat_late', 'running'), [chunk('bat_late', 0)]);
    expect(await moveBatchJobs(doc, { from: service, to: batches, deleteCopied: false })).toMatchObject({
      copied: 2,
    });
    // The job advances after the move compared it with its copy, before it deletes it.
    let advanced = false;
    doc.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { TableName?: string; Key?: { pk?: string } };
        if (!advanced && input.TableName === service && input.Key?.pk === 'batch#bat_late') {
          advanced = true;
          const stored = (await old.find('bat_late'))!;
          await old.saveJob({ ...stored, nextChunk: 1 });
        }
        return next(args);
      },
      { step: 'initialize', name: 'advanceBeforeDelete' },
    );
    let moved;
    try {
      moved = await moveBatchJobs(doc, { from: service, to: batches, deleteCopied: true });
    } finally {
      doc.middlewareStack.remove('advanceBeforeDelete');
    }
    expect(advanced).toBe(true);
    expect(moved.conflicts).toContainEqual({ pk: 'batch#bat_late', sk: 'batch' });
    // Its chunk, unchanged, went; the job stays, with the change the move would otherwise have lost.
    expect(moved.deleted).toBe(1);
    const { Item } = await doc.send(
      new GetCommand({
        TableName: service,
        Key: { pk: 'batch#bat_late', sk: 'batch' },
        ConsistentRead: true,
      }),
    );
    expect(Item).toMatchObject({ nextChunk: 1, version: 2 });
  });
});
