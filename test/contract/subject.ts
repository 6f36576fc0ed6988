import { afterAll, beforeAll } from 'vitest';
import { startTestDynamo, type TestDynamo } from '../support/dynamo-table.js';

/** What a contract suite runs against: the port's implementation, handles to observe it, and its cleanup. */
export type Make<T> = () => Promise<T & { cleanup(): Promise<void> }>;

/** No cleanup needed: a fake is dropped with its test, a contract table with its dynalite. */
export const nothingToClean = async (): Promise<void> => undefined;

/**
 * One dynalite for the test file (started before its tests, closed after), handing out a fresh table
 * per test.
 *
 * @example
 * ```ts
 * const dynamo = useDynamo();
 * licenceStoreContract('DynamoLicenceStore', async () => {
 *   const { doc, tableName } = await dynamo.newTable();
 *   return { store: new DynamoLicenceStore(doc, tableName), cleanup: nothingToClean };
 * });
 * ```
 */
export function useDynamo(): Pick<TestDynamo, 'newTable'> {
  let dynamo: TestDynamo | undefined;
  beforeAll(async () => {
    dynamo = await startTestDynamo();
  });
  afterAll(async () => {
    await dynamo?.close();
  });
  return {
    newTable: (declaration) => {
      if (!dynamo) throw new Error('useDynamo: the dynalite is not started yet (call newTable in a test)');
      return dynamo.newTable(declaration);
    },
  };
}

/** The error a promise rejects with (the test fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but it resolved');
}
