import {
  BatchWriteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTableInput, ensureTable } from '../../shared/adapters/dynamo/create-table.js';
import type { TableDeclaration } from '../../shared/adapters/dynamo/table.js';

/** What {@link migrateLocalTable} did to one table. Counts only: never an item. */
export interface LocalTableMigration {
  tableName: string;
  /** The indexes the table was rebuilt for (empty when a restore was resumed on a table that had them). */
  addedIndexes: string[];
  /** Items in the dump, and in the rebuilt table once it was verified. */
  items: number;
  /** Whether this run finished a restore an earlier, interrupted run began (its dump found at start). */
  resumed: boolean;
}

/** BatchWriteItem takes at most 25 puts. */
const BATCH = 25;
/** Attempts at a batch's unprocessed items before the restore gives up (the dump stays for the next start). */
const WRITE_ATTEMPTS = 10;

/**
 * A dump's name: `<table>-<UTC timestamp>.jsonl` once complete (written, fsynced, renamed), with `.partial`
 * while it is written. Only a complete dump is ever restored, and the table is deleted only after one exists.
 */
const stamp = (at: Date) => at.toISOString().replace(/[-:.]/g, '');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const dumpPattern = (tableName: string) => new RegExp(`^${escape(tableName)}-\\d{8}T\\d{9}Z\\.jsonl$`);
const partialPattern = (tableName: string) =>
  new RegExp(`^${escape(tableName)}-\\d{8}T\\d{9}Z\\.jsonl\\.partial$`);

/** DynamoDB JSON as JSON text: binary values as base64 (as on the wire), everything else as it is. */
function toJson(value: AttributeValue): unknown {
  if (value.B) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS) return { BS: value.BS.map((one) => Buffer.from(one).toString('base64')) };
  if (value.M) return { M: Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, toJson(v)])) };
  if (value.L) return { L: value.L.map(toJson) };
  return value;
}

function fromJson(value: Record<string, unknown>): AttributeValue {
  if (typeof value.B === 'string') return { B: Buffer.from(value.B, 'base64') };
  if (Array.isArray(value.BS)) return { BS: (value.BS as string[]).map((one) => Buffer.from(one, 'base64')) };
  if (value.M && typeof value.M === 'object') {
    const map = value.M as Record<string, Record<string, unknown>>;
    return { M: Object.fromEntries(Object.entries(map).map(([k, v]) => [k, fromJson(v)])) };
  }
  if (Array.isArray(value.L)) return { L: (value.L as Array<Record<string, unknown>>).map(fromJson) };
  return value as unknown as AttributeValue;
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

/**
 * The declared indexes an existing table lacks, when that is all that differs (its key schema and the
 * indexes it has are as declared): what a rebuild mends. Anything else is left to `ensureTable`, which
 * refuses the table with the differences named, since a rebuild would not be a migration of ours then.
 */
function missingIndexes(
  tableName: string,
  description: TableDescription,
  declaration: TableDeclaration,
): string[] {
  const expected = createTableInput(tableName, declaration);
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
  if (!same(description.KeySchema, expected.KeySchema)) return [];
  const missing: string[] = [];
  for (const index of expected.GlobalSecondaryIndexes ?? []) {
    const found = description.GlobalSecondaryIndexes?.find((gsi) => gsi.IndexName === index.IndexName);
    if (!found) missing.push(index.IndexName!);
    else if (!same(found.KeySchema, index.KeySchema)) return [];
  }
  return missing;
}

/** Makes a rename or an unlink in `dir` durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Every item of the table, one DynamoDB JSON object a line, fsynced, then renamed complete. */
async function dump(client: DynamoDBClient, tableName: string, file: string): Promise<number> {
  const partial = `${file}.partial`;
  const handle = await open(partial, 'wx', 0o600);
  let items = 0;
  try {
    let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey }),
      );
      const lines = (page.Items ?? []).map(
        (item) =>
          `${JSON.stringify(Object.fromEntries(Object.entries(item).map(([k, v]) => [k, toJson(v)])))}\n`,
      );
      if (lines.length > 0) await handle.write(lines.join(''));
      items += lines.length;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, file);
  await syncDir(join(file, '..'));
  return items;
}

/** Puts a batch, sending its unprocessed items again (backing off) until none are left. */
async function putBatch(
  client: DynamoDBClient,
  tableName: string,
  items: Array<Record<string, AttributeValue>>,
) {
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 1; requests.length > 0; attempt++) {
    if (attempt > WRITE_ATTEMPTS) {
      throw new Error(`${requests.length} items of table ${tableName} stayed unprocessed`);
    }
    if (attempt > 1) await sleep(Math.min(20 * 2 ** attempt, 1_000));
    const { UnprocessedItems } = await client.send(
      new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }),
    );
    requests = (UnprocessedItems?.[tableName] ?? []).flatMap((request) =>
      request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : [],
    );
  }
}

/** Writes every item of the dump back (puts: a second run writes the same items again). */
async function restore(client: DynamoDBClient, tableName: string, file: string): Promise<number> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let batch: Array<Record<string, AttributeValue>> = [];
  let items = 0;
  for await (const line of lines) {
    if (line === '') continue;
    const parsed = JSON.parse(line) as Record<string, Record<string, unknown>>;
    batch.push(Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, fromJson(v)])));
    items += 1;
    if (batch.length === BATCH) {
      await putBatch(client, tableName, batch);
      batch = [];
    }
  }
  if (batch.length > 0) await putBatch(client, tableName, batch);
  return items;
}

async function count(client: DynamoDBClient, tableName: string): Promise<number> {
  let total = 0;
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey }),
    );
    total += page.Count ?? 0;
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return total;
}

async function deleteTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  for (let pollMs = 10; await describe(client, tableName); pollMs = Math.min(pollMs * 2, 1_000)) {
    await sleep(pollMs);
  }
}

/**
 * Brings a local table (the embedded dynalite's, under `DATA_DIR/dynamo`) to its declaration when all it
 * lacks is an index the declaration gained since the table was created (the audit table's `gsi3`): dynalite
 * cannot add an index to a table, so the table is rebuilt, keeping every item. Local only: in AWS the
 * deployment adds an index to the table in place (docs/operating.md).
 *
 * The order keeps the data on disk at every step, so that a process that dies anywhere loses nothing:
 * 1. every item is written to `DATA_DIR/migrations/<table>-<timestamp>.jsonl.partial`, fsynced, and renamed
 *    to `….jsonl` (the directory fsynced): only then is the dump complete;
 * 2. the table is deleted and created from the declaration;
 * 3. the items are put back (BatchWriteItem, unprocessed ones sent again);
 * 4. the table's item count is checked against the dump's, and only then is the dump removed.
 *
 * A start that finds a complete dump and no table, or the table rebuilt, finishes that restore (puts write
 * the same items again); one that finds a dump and the old table still there (the run died before its
 * deletion) removes the dump and starts over from the table, which is at least as new; a `.partial` dump
 * was never followed by a deletion and is removed. A restore that fails (or whose count differs) throws with the dump left in place. Prints one
 * line of counts when it did something. Run it before anything taps the table's writes (the local
 * stream): the items put back are not new audit entries.
 *
 * @example
 * ```ts
 * await migrateLocalTable(admin, 'elicence-local-audit', auditTable, { dataDir: '.data' });
 * await ensureTable(admin, 'elicence-local-audit', auditTable);
 * ```
 */
export async function migrateLocalTable(
  client: DynamoDBClient,
  tableName: string,
  declaration: TableDeclaration,
  options: { dataDir: string; now?: () => Date; log?: (line: string) => void },
): Promise<LocalTableMigration | undefined> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = join(options.dataDir, 'migrations');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const names = await readdir(dir);
  // A dump cut short while the table was still whole: the table is the data.
  for (const name of names.filter((one) => partialPattern(tableName).test(one))) await rm(join(dir, name));
  const dumps = names.filter((one) => dumpPattern(tableName).test(one)).sort();
  if (dumps.length > 1) {
    throw new Error(
      `Table ${tableName} has ${dumps.length} unfinished migration dumps in ${dir} (${dumps.join(', ')}): ` +
        'keep the one to restore and move the others away',
    );
  }

  let description = await describe(client, tableName);
  if (description?.TableStatus === 'DELETING') {
    // A deletion under way, or cut short by the process dying (dynalite then keeps the table, its
    // indexes already dropped, as DELETING with part of its items): finished, never mistaken for data.
    await deleteTable(client, tableName);
    description = undefined;
  }
  const addedIndexes = description ? missingIndexes(tableName, description, declaration) : [];
  let file = dumps.length === 1 ? join(dir, dumps[0]!) : undefined;
  if (file && addedIndexes.length > 0) {
    // The old table is still there, so the run that dumped it died before deleting it: the table is the
    // data, at least as new as its dump (an older version may have served on it since). Dumped afresh.
    await rm(file);
    file = undefined;
  }
  const resumed = file !== undefined;
  if (!file) {
    if (addedIndexes.length === 0) return undefined;
    file = join(dir, `${tableName}-${stamp((options.now ?? (() => new Date()))())}.jsonl`);
    await dump(client, tableName, file);
    // The old table goes only once a complete dump of it is on disk.
    await deleteTable(client, tableName);
  }
  await ensureTable(client, tableName, declaration);
  const items = await restore(client, tableName, file);
  const found = await count(client, tableName);
  if (found !== items) {
    throw new Error(
      `Table ${tableName} holds ${found} items after its rebuild, its dump ${items}: the dump stays at ${file}`,
    );
  }
  await rm(file);
  await syncDir(dir);
  log(
    `${resumed ? 'Finished rebuilding' : 'Rebuilt'} local table ${tableName}` +
      `${addedIndexes.length > 0 ? ` with index ${addedIndexes.join(', ')}` : ''}: ${items} items kept`,
  );
  return { tableName, addedIndexes, items, resumed };
}
