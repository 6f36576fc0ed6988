import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { QueryCommand, ScanCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

/**
 * The local runtime's embedded DynamoDB must close every LevelDB iterator it opens. dynalite 4 turns
 * `abstract-level` 3 iterators into streams and, when a stream ends or is cut short, closes the iterator
 * only if it has `return()`: those iterators have `close()` and no `return()`, so without
 * `patches/dynalite+4.0.0.patch` every Query and Scan leaves one open. An open LevelDB iterator holds a
 * snapshot, which keeps compaction from deleting the files it has replaced: the data folder and the
 * memory-mapped RSS of `npm start` grew without bound (issue 16: 2.1 GiB after 10,000 issuances).
 *
 * Open iterators are counted where `abstract-level` registers them (every iterator attaches itself to its
 * database as a resource and detaches when closed), on the very copy dynalite loads: in this thread, so
 * dynalite runs here (`thread: 'main'`) rather than in the worker the runtime gives it, from the same files.
 */

interface Resource {
  close(): Promise<void>;
}
interface AbstractLevelModule {
  AbstractLevel: { prototype: { attachResource(r: Resource): void; detachResource(r: Resource): void } };
  AbstractIterator: abstract new (...args: never[]) => Resource;
  AbstractKeyIterator: abstract new (...args: never[]) => Resource;
  AbstractValueIterator: abstract new (...args: never[]) => Resource;
}

/** `abstract-level` as resolved from dynalite → level → classic-level, i.e. the copy its store uses. */
function dynalitesAbstractLevel(): AbstractLevelModule {
  const fromHere = createRequire(import.meta.url);
  const fromDynalite = createRequire(fromHere.resolve('dynalite'));
  const fromLevel = createRequire(fromDynalite.resolve('level'));
  const fromClassic = createRequire(fromLevel.resolve('classic-level'));
  return fromClassic('abstract-level') as AbstractLevelModule;
}

const abstractLevel = dynalitesAbstractLevel();
const openIterators = new Set<Resource>();
/** Iterators seen opening: proves the count is hooked where dynalite's iterators register. */
let openedIterators = 0;
const proto = abstractLevel.AbstractLevel.prototype;
const originalAttach = proto.attachResource;
const originalDetach = proto.detachResource;

function isIterator(resource: object): boolean {
  return (
    resource instanceof abstractLevel.AbstractIterator ||
    resource instanceof abstractLevel.AbstractKeyIterator ||
    resource instanceof abstractLevel.AbstractValueIterator
  );
}

/**
 * Closing is asynchronous (the iterator's close runs after the response is written), so the count is read
 * once it has settled. Without the patch it never decreases: the assertion fails however long it waits.
 */
async function expectAllIteratorsClosed(openedBefore: number): Promise<void> {
  expect(openedIterators).toBeGreaterThan(openedBefore);
  await vi.waitFor(() => expect(openIterators.size).toBe(0), { timeout: 5_000, interval: 20 });
}

describe('the embedded DynamoDB closes its LevelDB iterators', () => {
  let table: TestTable;
  let doc: DynamoDBDocumentClient;
  const partitions = 5;
  const perPartition = 30;

  beforeAll(async () => {
    proto.attachResource = function (this: unknown, resource: Resource) {
      if (isIterator(resource)) {
        openIterators.add(resource);
        openedIterators += 1;
      }
      originalAttach.call(this, resource);
    };
    proto.detachResource = function (this: unknown, resource: Resource) {
      openIterators.delete(resource);
      originalDetach.call(this, resource);
    };
    table = await startTestTable('iterators', { thread: 'main' });
    doc = table.doc;
    for (let p = 0; p < partitions; p += 1) {
      await Promise.all(
        Array.from({ length: perPartition }, (_, i) =>
          doc.send(
            new PutCommand({
              TableName: table.tableName,
              Item: {
                pk: `P#${p}`,
                sk: `S#${String(i).padStart(3, '0')}`,
                gsi1pk: `G#${p}`,
                gsi1sk: `S#${String(i).padStart(3, '0')}`,
              },
            }),
          ),
        ),
      );
    }
  });

  afterAll(async () => {
    proto.attachResource = originalAttach;
    proto.detachResource = originalDetach;
    await table?.close();
  });

  it('after Queries read to the end, on the table and on an index', async () => {
    const before = openedIterators;
    for (let p = 0; p < partitions; p += 1) {
      const base = await doc.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `P#${p}` },
        }),
      );
      expect(base.Count).toBe(perPartition);
      const index = await doc.send(
        new QueryCommand({
          TableName: table.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': `G#${p}` },
        }),
      );
      expect(index.Count).toBe(perPartition);
    }
    await expectAllIteratorsClosed(before);
  });

  it('after Queries and Scans cut short by a Limit', async () => {
    const before = openedIterators;
    for (let p = 0; p < partitions; p += 1) {
      const limited = await doc.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `P#${p}` },
          Limit: 1,
        }),
      );
      expect(limited.Items).toHaveLength(1);
      expect(limited.LastEvaluatedKey).toBeDefined();
    }
    const scan = await doc.send(new ScanCommand({ TableName: table.tableName, Limit: 7 }));
    expect(scan.Items).toHaveLength(7);
    await expectAllIteratorsClosed(before);
  });

  it('after a Query that finds nothing', async () => {
    const before = openedIterators;
    const none = await doc.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'P#none' },
      }),
    );
    expect(none.Count).toBe(0);
    await expectAllIteratorsClosed(before);
  });

  it('after ListTables, whole and cut short by a Limit', async () => {
    const before = openedIterators;
    const all = await doc.send(new ListTablesCommand({}));
    expect(all.TableNames).toContain(table.tableName);
    const limited = await doc.send(new ListTablesCommand({ Limit: 1 }));
    expect(limited.TableNames).toHaveLength(1);
    await expectAllIteratorsClosed(before);
  });
});
