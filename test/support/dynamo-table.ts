import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startLocalDynamo, type LocalDynamoOptions } from '../../infra/local/dynamo.js';
import { ensureTable } from '../../shared/adapters/dynamo/create-table.js';
import type { TableDeclaration } from '../../shared/adapters/dynamo/table.js';
import { createDynamoClient, documentClientFor } from '../../shared/adapters/dynamo/client.js';

export interface TestTable {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** The dynalite's `http://host:port`, for clients of a test's own. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * The single table, created from its declaration in a dynalite of its own (LevelDB in a new temporary
 * folder): the real DynamoDB protocol for adapter tests, without the rest of the runtime. `thread: 'main'`
 * runs dynalite in the test's own thread, for a test that inspects its modules.
 */
export async function startTestTable(
  tableName: string,
  options: Pick<LocalDynamoOptions, 'thread'> = {},
): Promise<TestTable> {
  const dataDir = await mkdtemp(join(tmpdir(), `elicence-${tableName}-`));
  const dynamo = await startLocalDynamo({ dataDir, ...options });
  const client = createDynamoClient({
    region: 'local',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, tableName);
  const doc = documentClientFor(client);
  return {
    doc,
    tableName,
    endpoint: dynamo.endpoint,
    close: async () => {
      doc.destroy();
      await dynamo.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestDynamo {
  /** A new, empty table in this dynalite: one per test keeps tests apart, and costs a few milliseconds. */
  /** `declaration`: the audit table's for the usage record's index (gsi3); the table's by default. */
  newTable(declaration?: TableDeclaration): Promise<{ doc: DynamoDBDocumentClient; tableName: string }>;
  close(): Promise<void>;
  /** The dynalite's endpoint, for a script run against it (`AWS_ENDPOINT_URL_DYNAMODB`). */
  endpoint: string;
}

/**
 * One dynalite (LevelDB in a new temporary folder) for a test file, handing out fresh tables of the
 * service's declaration: what the contract suites run the DynamoDB adapters on.
 */
export async function startTestDynamo(): Promise<TestDynamo> {
  const dataDir = await mkdtemp(join(tmpdir(), 'elicence-contract-'));
  const dynamo = await startLocalDynamo({ dataDir });
  const client = createDynamoClient({
    region: 'local',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const doc = documentClientFor(client);
  let tables = 0;
  return {
    async newTable(declaration?: TableDeclaration) {
      tables += 1;
      const tableName = `contract-${tables}`;
      await ensureTable(client, tableName, declaration);
      return { doc, tableName };
    },
    endpoint: dynamo.endpoint,
    close: async () => {
      doc.destroy();
      await dynamo.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
