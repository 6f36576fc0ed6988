import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';

import { table, type TableDeclaration } from './table.js';

const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 2_000;
const ACTIVE_TIMEOUT_MS = 5 * 60_000;

function keySchema(partitionKey: string, sortKey: string): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey, KeyType: 'HASH' },
    { AttributeName: sortKey, KeyType: 'RANGE' },
  ];
}

/**
 * The CreateTable request for the single table, derived only from the {@link table} declaration: string
 * keys, on-demand billing, every GSI projecting all attributes. TTL is a separate table setting (the CDK
 * stack enables it on `expiresAt`; dynalite has none), so it is not part of this input.
 *
 * @example
 * ```ts
 * await client.send(new CreateTableCommand(createTableInput('elicence-local')));
 * ```
 */
export function createTableInput(
  tableName: string,
  declaration: TableDeclaration = table,
): CreateTableCommandInput {
  const keyAttributes = [
    declaration.partitionKey,
    declaration.sortKey,
    ...declaration.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: keySchema(declaration.partitionKey, declaration.sortKey),
    GlobalSecondaryIndexes: declaration.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

function isActive(description: TableDescription | undefined): description is TableDescription {
  return (
    description?.TableStatus === 'ACTIVE' &&
    (description.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE')
  );
}

function sameKeys(actual: KeySchemaElement[] | undefined, expected: KeySchemaElement[]): boolean {
  return JSON.stringify(actual ?? []) === JSON.stringify(expected);
}

/** Fails loudly when an existing table was created from another declaration than {@link table}. */
function assertMatchesDeclaration(
  tableName: string,
  description: TableDescription,
  declaration: TableDeclaration,
): void {
  const expected = createTableInput(tableName, declaration);
  const problems: string[] = [];
  if (!sameKeys(description.KeySchema, expected.KeySchema ?? [])) problems.push('key schema differs');
  for (const index of expected.GlobalSecondaryIndexes ?? []) {
    const found = description.GlobalSecondaryIndexes?.find((gsi) => gsi.IndexName === index.IndexName);
    // DynamoDB adds a missing index by a deployment (infra/); dynalite cannot add one to a table at all.
    if (!found) problems.push(`index ${index.IndexName} is missing`);
    else if (!sameKeys(found.KeySchema, index.KeySchema ?? [])) {
      problems.push(`index ${index.IndexName} key schema differs`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `Table ${tableName} does not match shared/adapters/dynamo/table.ts: ${problems.join('; ')}`,
    );
  }
}

/**
 * Creates the table unless it exists, then waits until it and its indexes are ACTIVE. Idempotent and safe
 * when several processes race: whoever loses the CreateTable race gets `ResourceInUseException` and just
 * waits. Throws if an existing table does not match the declaration (`declaration`: the table's, or the
 * audit table's with its extra index).
 *
 * @example
 * ```ts
 * await ensureTable(new DynamoDBClient({ endpoint }), 'elicence-local');
 * ```
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  declaration: TableDeclaration = table,
): Promise<void> {
  let description = await describe(client, tableName);
  if (!description) {
    try {
      description = (await client.send(new CreateTableCommand(createTableInput(tableName, declaration))))
        .TableDescription;
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (let pollMs = FIRST_POLL_MS; !isActive(description); pollMs = Math.min(pollMs * 2, MAX_POLL_MS)) {
    if (Date.now() > deadline) throw new Error(`Table ${tableName} did not become ACTIVE in time`);
    await sleep(pollMs);
    description = await describe(client, tableName);
  }
  assertMatchesDeclaration(tableName, description, declaration);
}
