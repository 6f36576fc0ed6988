import {
  DeleteTableCommand,
  DescribeTableCommand,
  ScanCommand as RawScanCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startLocalDynamo, type LocalDynamo } from '../../../infra/local/dynamo.js';
import { migrateLocalTable } from '../../../infra/local/migrate-table.js';
import { startLocalRuntime } from '../../../infra/local/runtime.js';
import { DynamoAuditTrail, entryOf } from '../../../shared/adapters/dynamo/audit-trail.js';
import { createDynamoClient, documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import { ensureTable } from '../../../shared/adapters/dynamo/create-table.js';
import { keys } from '../../../shared/adapters/dynamo/keys.js';
import { auditTable } from '../../../shared/adapters/dynamo/table.js';
import { DynamoUsageRecord } from '../../../shared/adapters/dynamo/usage-record.js';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import { loadConfig } from '../../../shared/config.js';
import { checkTrail } from '../../../shared/supervision/audit-chain.js';

/**
 * The audit table as a version before the usage record's own index wrote it (copied here, as it was: gsi1
 * and gsi2 only), so that the test keeps meaning the old shape whatever the declaration becomes.
 */
const auditTableBeforeGsi3 = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  globalSecondaryIndexes: [
    { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
};

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const clientOf = (endpoint: string) => createDynamoClient({ region: 'cn-north-1', endpoint, credentials });

const person = `hk-person-${randomUUID()}`;
const at = (second: number) => new Date(Date.UTC(2026, 10, 5, 8, 0, second)).toISOString();
const entry = (second: number, action = 'licence.verified'): AuditEntry => ({
  at: at(second),
  actor: action === 'licence.shared' ? 'cl_platform' : 'anonymous',
  action,
  licenceId: `lic-${second}`,
  licenceType: 'driving-licence',
  holderKey: person,
});

const scanAll = async (doc: DynamoDBDocumentClient, tableName: string) => {
  const items: Array<Record<string, unknown>> = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
};
const indexNames = async (client: DynamoDBClient, tableName: string) =>
  (
    (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.GlobalSecondaryIndexes ??
    []
  )
    .map((index) => index.IndexName)
    .sort();

/**
 * An audit table of the old shape in `dataDir`: a holder's usage entries (2 shares among 30 verifications)
 * as the old version wrote them (no gsi3 key), an item with a binary and a number set (every type kept).
 */
async function oldAuditTable(
  dynamo: LocalDynamo,
  tableName: string,
): Promise<Array<Record<string, unknown>>> {
  const client = clientOf(dynamo.endpoint);
  const doc = documentClientFor(client);
  try {
    await ensureTable(client, tableName, auditTableBeforeGsi3);
    const trail = new DynamoAuditTrail(doc, tableName);
    for (let second = 0; second < 32; second++) {
      await trail.record(
        entry(second, second === 3 || second === 20 ? 'licence.shared' : 'licence.verified'),
      );
    }
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: 'odd#1', sk: 'odd', bytes: new Uint8Array([0, 1, 254, 255]), numbers: new Set([1, 2.5]) },
      }),
    );
    const items = await scanAll(doc, tableName);
    for (const item of items.filter((one) => 'gsi3pk' in one)) {
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: item.pk, sk: item.sk },
          UpdateExpression: 'REMOVE gsi3pk, gsi3sk',
        }),
      );
    }
    const before = await scanAll(doc, tableName);
    expect(before.some((item) => 'gsi3pk' in item)).toBe(false);
    expect(before.length).toBeGreaterThan(32);
    return before;
  } finally {
    doc.destroy();
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
async function newDataDir(): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'elicence-migrate-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  return dataDir;
}

describe('a local data folder from before an index was declared (infra/local/migrate-table.ts)', () => {
  it('npm start on it rebuilds the audit table with gsi3, keeping every entry, and the backfill indexes them', async () => {
    const dataDir = await newDataDir();
    const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'SILENT' });
    const dynamo = await startLocalDynamo({ dataDir });
    const before = await oldAuditTable(dynamo, config.auditTableName);
    await dynamo.close();

    const printed: string[] = [];
    const log = console.log;
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      if (String(args[0]).includes('local table')) printed.push(String(args[0]));
      else log(...args);
    });
    const runtime = await startLocalRuntime(config);
    cleanups.push(() => runtime.close());
    expect(printed).toEqual([
      `Rebuilt local table ${config.auditTableName} with index gsi3: ${before.length} items kept`,
    ]);
    expect(printed.join('')).not.toContain('hk-');

    const client = clientOf(runtime.config.dynamodbEndpoint!);
    const doc = documentClientFor(client);
    cleanups.push(async () => doc.destroy());
    expect(await indexNames(client, config.auditTableName)).toEqual(['gsi1', 'gsi2', 'gsi3']);
    const after = await scanAll(doc, config.auditTableName);
    for (const old of before) {
      const item = after.find((one) => one.pk === old.pk && one.sk === old.sk);
      expect(item, `${String(old.pk)} ${String(old.sk)}`).toBeDefined();
      // Only the backfill's index keys are added: the entries as hashed are the same.
      const { gsi3pk, gsi3sk, ...rest } = item!;
      expect(rest).toEqual(old);
      if (old.gsi2pk !== undefined) expect([gsi3pk, gsi3sk]).toEqual([expect.any(String), old.gsi2sk]);
    }
    const entries = after.filter((item) => String(item.pk).startsWith('audit#')).map(entryOf);
    expect(checkTrail(entries).faults).toEqual([]);
    // The backfill ran (its mark), so a page of one kind is read from gsi3: both shares on the first page.
    const mark = await doc.send(
      new GetCommand({ TableName: config.auditTableName, Key: keys.auditUsageIndex() }),
    );
    expect(mark.Item).toBeDefined();
    const usage = new DynamoUsageRecord(doc, config.auditTableName, { itemsPerRead: 5, readsPerPage: 1 });
    const page = await usage.forHolders([person], { limit: 5, action: 'licence.shared' });
    expect(page.items.map((one) => one.at)).toEqual([at(20), at(3)]);
    expect(page.cursor).toBeUndefined();
    expect(await readdir(join(dataDir, 'migrations'))).toEqual([]);
    expect((await fetch(`${runtime.baseUrl}/healthz`)).status).toBe(200);
  });

  it('finishes a rebuild that died after the table was deleted, from its dump, and drops a cut-short dump', async () => {
    const dataDir = await newDataDir();
    const dynamo = await startLocalDynamo({ dataDir });
    cleanups.push(() => dynamo.close());
    const client = clientOf(dynamo.endpoint);
    const doc = documentClientFor(client);
    cleanups.push(async () => doc.destroy());
    const before = await oldAuditTable(dynamo, 'audit');
    // What the first run left on disk when it died: its complete dump (DynamoDB JSON, a line an item), and
    // the table gone; and another run's dump cut short, which must not be restored.
    const raw = (await client.send(new RawScanCommand({ TableName: 'audit', ConsistentRead: true }))).Items!;
    const lines = raw.map((item) => {
      const { bytes, ...rest } = item;
      return JSON.stringify(
        bytes?.B ? { ...rest, bytes: { B: Buffer.from(bytes.B).toString('base64') } } : item,
      );
    });
    await mkdir(join(dataDir, 'migrations'));
    await writeFile(join(dataDir, 'migrations', 'audit-20261205T101010123Z.jsonl'), `${lines.join('\n')}\n`);
    await writeFile(join(dataDir, 'migrations', 'audit-20261205T090000000Z.jsonl.partial'), lines[0]!);
    await client.send(new DeleteTableCommand({ TableName: 'audit' }));

    const printed: string[] = [];
    const run = await migrateLocalTable(client, 'audit', auditTable, {
      dataDir,
      log: (line) => printed.push(line),
    });
    expect(run).toEqual({ tableName: 'audit', addedIndexes: [], items: before.length, resumed: true });
    expect(printed).toEqual([`Finished rebuilding local table audit: ${before.length} items kept`]);
    expect(await indexNames(client, 'audit')).toEqual(['gsi1', 'gsi2', 'gsi3']);
    const after = await scanAll(doc, 'audit');
    expect(after).toHaveLength(before.length);
    for (const old of before) expect(after).toContainEqual(old);
    expect(await readdir(join(dataDir, 'migrations'))).toEqual([]);
    // Nothing left to do: a second start does nothing and says nothing.
    expect(
      await migrateLocalTable(client, 'audit', auditTable, { dataDir, log: (line) => printed.push(line) }),
    ).toBe(undefined);
    expect(printed).toHaveLength(1);
  });

  it('finishes a restore cut short on the rebuilt table, and starts over from an old table still there', async () => {
    const dataDir = await newDataDir();
    const dynamo = await startLocalDynamo({ dataDir });
    cleanups.push(() => dynamo.close());
    const client = clientOf(dynamo.endpoint);
    const doc = documentClientFor(client);
    cleanups.push(async () => doc.destroy());
    const before = await oldAuditTable(dynamo, 'audit');
    const raw = (await client.send(new RawScanCommand({ TableName: 'audit', ConsistentRead: true }))).Items!;
    const plain = raw.filter((item) => !item.bytes);
    const dumpFile = join(dataDir, 'migrations', 'audit-20261205T101010123Z.jsonl');
    await mkdir(join(dataDir, 'migrations'));

    // Died before deleting the old table, then an older version served on it: the table is the data.
    await writeFile(dumpFile, `${plain.map((item) => JSON.stringify(item)).join('\n')}\n`);
    const later = { pk: 'odd#2', sk: 'written after the dump' };
    await doc.send(new PutCommand({ TableName: 'audit', Item: later }));
    const fresh = await migrateLocalTable(client, 'audit', auditTable, { dataDir, log: () => undefined });
    expect(fresh).toEqual({
      tableName: 'audit',
      addedIndexes: ['gsi3'],
      items: before.length + 1,
      resumed: false,
    });
    expect(await scanAll(doc, 'audit')).toContainEqual(later);

    // Died while putting the items back into the rebuilt table: the rest are put, the count checked.
    await writeFile(dumpFile, `${plain.map((item) => JSON.stringify(item)).join('\n')}\n`);
    for (const item of plain.slice(0, 10)) {
      await doc.send(new DeleteCommand({ TableName: 'audit', Key: { pk: item.pk!.S, sk: item.sk!.S } }));
    }
    await doc.send(new DeleteCommand({ TableName: 'audit', Key: { pk: 'odd#1', sk: 'odd' } }));
    await doc.send(new DeleteCommand({ TableName: 'audit', Key: later }));
    const resumed = await migrateLocalTable(client, 'audit', auditTable, { dataDir, log: () => undefined });
    expect(resumed).toEqual({ tableName: 'audit', addedIndexes: [], items: plain.length, resumed: true });
    const after = await scanAll(doc, 'audit');
    expect(after).toHaveLength(plain.length);
    for (const old of before.filter((item) => item.pk !== 'odd#1')) expect(after).toContainEqual(old);
    expect(await readdir(join(dataDir, 'migrations'))).toEqual([]);
  });

  it('rebuilds a table whose first dump died cut short, and leaves a current table alone', async () => {
    const dataDir = await newDataDir();
    const dynamo = await startLocalDynamo({ dataDir });
    cleanups.push(() => dynamo.close());
    const client = clientOf(dynamo.endpoint);
    const doc = documentClientFor(client);
    cleanups.push(async () => doc.destroy());
    const before = await oldAuditTable(dynamo, 'audit');
    await mkdir(join(dataDir, 'migrations'));
    await writeFile(join(dataDir, 'migrations', 'audit-20261205T090000000Z.jsonl.partial'), '{"pk":');
    const run = await migrateLocalTable(client, 'audit', auditTable, {
      dataDir,
      now: () => new Date('2026-12-05T10:00:00Z'),
      log: () => undefined,
    });
    expect(run).toEqual({ tableName: 'audit', addedIndexes: ['gsi3'], items: before.length, resumed: false });
    const after = await scanAll(doc, 'audit');
    expect(after).toHaveLength(before.length);
    for (const old of before) expect(after).toContainEqual(old);
    expect(await readdir(join(dataDir, 'migrations'))).toEqual([]);
    expect(await migrateLocalTable(client, 'audit', auditTable, { dataDir, log: () => undefined })).toBe(
      undefined,
    );
    // The service table's declaration has no gsi3: nothing to migrate there.
    await ensureTable(client, 'service', auditTableBeforeGsi3);
    expect(
      await migrateLocalTable(client, 'service', auditTableBeforeGsi3, { dataDir, log: () => undefined }),
    ).toBe(undefined);
  });
});
