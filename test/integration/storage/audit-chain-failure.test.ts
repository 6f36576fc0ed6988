import { randomUUID } from 'node:crypto';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/lib-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoAuditTrail,
  GroupCommitAuditTrail,
  entryOf,
} from '../../../shared/adapters/dynamo/audit-trail.js';
import { DynamoAuditChainStore } from '../../../shared/adapters/dynamo/audit-chain-store.js';
import { createDynamoClient, documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import { checkTrail } from '../../../shared/supervision/audit-chain.js';
import { startTestTable, type TestTable } from '../../support/dynamo-table.js';

/**
 * Issue 18: no gap in a chain. A write that fails, or whose outcome is unknown (written, but the answer
 * lost), closes the writer's chain and rejects its entries' records; the entries recorded after it go on
 * a new chain from seq 1, and every chain still verifies.
 */
let data: TestTable;
const made: DynamoDBDocumentClient[] = [];
beforeAll(async () => {
  data = await startTestTable('chainfail');
});
afterAll(async () => {
  for (const doc of made) doc.destroy();
  await data?.close();
});

/** A client whose audit writes fail before (`before`) or after (`after`: written, answer lost) reaching the table. */
function failingClient() {
  const doc = documentClientFor(
    createDynamoClient({
      region: 'local',
      endpoint: data.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  made.push(doc);
  const state: { fail?: 'before' | 'after' } = {};
  const middleware: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next, context) => async (args) => {
      const writes = /PutItem|TransactWriteItems/.test(String(context.commandName));
      if (writes && state.fail === 'before') throw new Error('the table is unavailable');
      const output = await next(args);
      if (writes && state.fail === 'after') throw new Error('the connection dropped after the write');
      return output;
    };
  doc.middlewareStack.add(middleware, { step: 'initialize', name: 'failAudit' } as const);
  return { doc, state };
}

async function chainedOf(licenceId: string) {
  const { Items = [] } = await data.doc.send(
    new ScanCommand({
      TableName: data.tableName,
      FilterExpression: 'licenceId = :id',
      ExpressionAttributeValues: { ':id': licenceId },
      ConsistentRead: true,
    }),
  );
  return Items;
}

const writtenOnTheDay = { now: () => Date.UTC(2026, 11, 5, 8) };

describe.each([
  ['GroupCommitAuditTrail', GroupCommitAuditTrail],
  ['DynamoAuditTrail', DynamoAuditTrail],
] as const)('%s: a failed write closes the chain', (_name, Trail) => {
  const entry = (licenceId: string, i: number): AuditEntry => ({
    at: new Date(Date.UTC(2026, 11, 5, 8, 0, 0, i)).toISOString(),
    actor: 'cl_verifier',
    action: 'licence.verified',
    licenceId,
    verdict: 'valid',
    requestId: `req-${i}`,
  });

  it.each(['before', 'after'] as const)(
    'failing %s the write: the records reject, later entries continue on a new chain with no gap',
    async (when) => {
      const licenceId = `lic-${randomUUID()}`;
      const { doc, state } = failingClient();
      // Written on the entries' day (the trail dates its chains by the later of `at` and its clock).
      const trail = new Trail(doc, data.tableName, writtenOnTheDay);
      await Promise.all([0, 1, 2].map((i) => trail.record(entry(licenceId, i))));
      state.fail = when;
      const failed = await Promise.allSettled([3, 4].map((i) => trail.record(entry(licenceId, i))));
      expect(failed.map((one) => one.status)).toEqual(['rejected', 'rejected']);
      state.fail = undefined;
      await Promise.all([5, 6, 7].map((i) => trail.record(entry(licenceId, i))));

      const items = await chainedOf(licenceId);
      const check = checkTrail(items.map(entryOf));
      expect(check.faults).toEqual([]);
      const chains = [...new Set(items.map((item) => String(item.chain)))];
      // The failed entries started no chain of their own unless a write of them reached the table.
      const byChain = (chain: string) =>
        items.filter((item) => item.chain === chain).map((item) => String(item.requestId));
      const first = chains.find((chain) => byChain(chain).includes('req-0'))!;
      const second = chains.find((chain) => byChain(chain).includes('req-5'))!;
      expect(second).not.toBe(first);
      expect(byChain(second).sort()).toEqual(['req-5', 'req-6', 'req-7']);
      if (when === 'before') {
        expect(byChain(first).sort()).toEqual(['req-0', 'req-1', 'req-2']);
      } else if (Trail === GroupCommitAuditTrail) {
        // Written in one batch though the answer was lost: on the closed chain, at its tail, still linked.
        expect(byChain(first).sort()).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4']);
      } else {
        // One at a time: req-3 written on the first chain (then closed); req-4's new chain was registered
        // first (its answer lost: closed again), so req-4 itself was never written.
        expect(byChain(first).sort()).toEqual(['req-0', 'req-1', 'req-2', 'req-3']);
        expect(chains.filter((c) => c !== first && c !== second).map(byChain)).toEqual([]);
      }
      // Both chains are registered for the checkpoints, each head read back from the table.
      const store = new DynamoAuditChainStore(data.doc, data.tableName);
      const registered = await store.chainsOf('2026-12-05');
      for (const chain of [first, second]) {
        const found = registered.find((one) => one.chain === chain);
        expect(found, chain).toBeDefined();
        const head = await store.headOf(found!);
        expect(head?.seq).toBe(items.filter((item) => item.chain === chain).length);
      }
    },
  );
});

/** A client on which a chain's registration never lands (refused alone, left unprocessed in a batch). */
function registrationRefusingClient() {
  const doc = documentClientFor(
    createDynamoClient({
      region: 'local',
      endpoint: data.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  made.push(doc);
  // Marshalled or not, depending on the step: the partition key either way.
  const isRegistration = (item: Record<string, unknown> | undefined) => {
    const pk = item?.pk as string | { S?: string } | undefined;
    return String(typeof pk === 'object' ? pk.S : pk).startsWith('audit-chain#');
  };
  const middleware: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next, context) => async (args) => {
      const input = args.input as {
        Item?: Record<string, unknown>;
        RequestItems?: Record<string, Array<{ PutRequest: { Item: Record<string, unknown> } }>>;
      };
      if (/PutItem/.test(String(context.commandName)) && isRegistration(input.Item)) {
        throw new Error('the registration was refused');
      }
      if (/BatchWriteItem/.test(String(context.commandName)) && input.RequestItems) {
        const [table, requests] = Object.entries(input.RequestItems)[0]!;
        const refused = requests.filter((request) => isRegistration(request.PutRequest.Item));
        if (refused.length > 0) {
          const rest = requests.filter((request) => !isRegistration(request.PutRequest.Item));
          const output = (
            rest.length > 0
              ? await next({ ...args, input: { ...input, RequestItems: { [table]: rest } } })
              : { output: {}, response: {} }
          ) as { output: { UnprocessedItems?: Record<string, unknown[]> } };
          output.output.UnprocessedItems = { [table]: refused };
          return output as never;
        }
      }
      return next(args);
    };
  doc.middlewareStack.add(middleware, { step: 'initialize', name: 'refuseRegistration' } as const);
  return doc;
}

describe.each([
  ['GroupCommitAuditTrail', GroupCommitAuditTrail],
  ['DynamoAuditTrail', DynamoAuditTrail],
] as const)('%s: a chain is registered before its first entry is written', (_name, Trail) => {
  it('writes no entry of a chain whose registration did not land (so every entry is checkpointed)', async () => {
    const licenceId = `lic-${randomUUID()}`;
    const trail = new Trail(registrationRefusingClient(), data.tableName);
    const entry: AuditEntry = {
      at: '2026-12-06T08:00:00.000Z',
      actor: 'cl_verifier',
      action: 'licence.verified',
      licenceId,
      verdict: 'valid',
    };
    await expect(trail.record(entry)).rejects.toThrow();
    // Writes that were sent alongside may still be landing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const written = await chainedOf(licenceId);
    const registered = await new DynamoAuditChainStore(data.doc, data.tableName).chainsOf('2026-12-06');
    const unregistered = written.filter(
      (item) => !registered.some((one) => one.chain === String(item.chain)),
    );
    expect(unregistered).toEqual([]);
  }, 60_000);
});
