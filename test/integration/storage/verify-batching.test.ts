import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/lib-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DynamoLicenceAuditPages,
  GroupCommitAuditTrail,
} from '../../../shared/adapters/dynamo/audit-trail.js';
import { coalesceReads } from '../../../shared/adapters/dynamo/coalescing-reads.js';
import { createDynamoClient, documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import { getItem } from '../../../shared/adapters/dynamo/conditional.js';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import { recordIssuerReads } from '../../../shared/licence/issuer-reads.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { licenceAuditEntries } from '../../support/audit-entries.js';
import { startTestTable, type TestTable } from '../../support/dynamo-table.js';
import { unlinked } from '../../contract/audit-trail.contract.js';

/**
 * Issue 16: the two batching mechanisms of `POST /verify` on the real DynamoDB protocol (dynalite): reads
 * issued together go as one BatchGetItem, each caller answered as a GetItem would have; audit entries
 * recorded together go as one TransactWriteItems of conditional puts (never a BatchWriteItem, R31 M1), each `record` settled only once its own entry is written.
 */
let data: TestTable;
const made: DynamoDBDocumentClient[] = [];

beforeAll(async () => {
  data = await startTestTable('batching');
});
afterAll(async () => {
  for (const doc of made) doc.destroy();
  await data?.close();
});

/** A licence's entries as stored, read page by page through the bounded listing. */
const trailOf = (doc: DynamoDBDocumentClient, licenceId: string) =>
  licenceAuditEntries(new DynamoLicenceAuditPages(doc, data.tableName), licenceId);

type Tamper = (
  command: string,
  input: Record<string, unknown>,
) => 'fail' | Record<string, unknown> | undefined;

/**
 * A client of its own, counting its commands by name; `tamper` may fail a command or rewrite its input
 * (to leave part of a batch unprocessed, as DynamoDB does under throttling).
 */
function client(options: { coalescing?: boolean } = {}) {
  const doc = documentClientFor(
    createDynamoClient({
      region: 'local',
      endpoint: data.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  made.push(doc);
  const calls: string[] = [];
  const state: { tamper?: Tamper } = {};
  const middleware: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next, context) => async (args) => {
      const name = String(context.commandName).replace(/Command$/, '');
      calls.push(name);
      const tampered = state.tamper?.(name, args.input as Record<string, unknown>);
      if (tampered === 'fail') throw new Error(`${name} failed`);
      if (tampered) {
        const output = await next({ ...args, input: tampered.input as ServiceInputTypes });
        return {
          ...output,
          output: { ...output.output, ...(tampered.output as object) } as ServiceOutputTypes,
        };
      }
      return next(args);
    };
  doc.middlewareStack.add(middleware, { step: 'initialize', name: 'countAndTamper' } as const);
  return { doc: options.coalescing ? coalesceReads(doc) : doc, calls, state };
}

describe('coalesceReads', () => {
  const keys = Array.from({ length: 3 }, (_, i) => ({ pk: `item#${randomUUID()}`, sk: `s${i}` }));
  beforeAll(async () => {
    for (const [i, key] of keys.entries()) {
      await data.doc.send(new PutCommand({ TableName: data.tableName, Item: { ...key, n: i } }));
    }
  });
  const get = (doc: DynamoDBDocumentClient, key: { pk: string; sk: string }) =>
    getItem(doc, data.tableName, key, 0);

  it('answers reads issued together from one BatchGetItem, each as a GetItem would (absent, twice, found)', async () => {
    const { doc, calls } = client({ coalescing: true });
    const missing = { pk: `item#${randomUUID()}`, sk: 'none' };
    const answers = await Promise.all([
      get(doc, keys[0]!),
      get(doc, keys[1]!),
      get(doc, keys[0]!),
      get(doc, missing),
      // Deeper in a chain of promises, still within the same turn.
      Promise.resolve()
        .then(() => undefined)
        .then(() => get(doc, keys[2]!)),
    ]);
    expect(calls).toEqual(['BatchGetItem']);
    const plain = client();
    expect(answers).toEqual(
      await Promise.all([keys[0]!, keys[1]!, keys[0]!, missing, keys[2]!].map((key) => get(plain.doc, key))),
    );
    expect(answers.map((item) => item?.n)).toEqual([0, 1, 0, undefined, 2]);
    // Two readers of one key get two objects: one changing its answer changes nothing for the other.
    expect(answers[2]).not.toBe(answers[0]);
  });

  it('sends a lone read as a GetItem, and reads of later turns apart', async () => {
    const { doc, calls } = client({ coalescing: true });
    expect((await get(doc, keys[1]!))?.n).toBe(1);
    expect((await get(doc, keys[2]!))?.n).toBe(2);
    expect(calls).toEqual(['GetItem', 'GetItem']);
  });

  it('keeps consistent and eventually consistent reads apart, and lets other reads through as they are', async () => {
    const { doc, calls } = client({ coalescing: true });
    await Promise.all([
      getItem(doc, data.tableName, keys[0]!, 0, { consistentRead: false }),
      getItem(doc, data.tableName, keys[1]!, 0, { consistentRead: false }),
      get(doc, keys[2]!),
      doc.send(new GetCommand({ TableName: data.tableName, Key: keys[0]!, ProjectionExpression: 'n' })),
    ]);
    expect(calls.sort()).toEqual(['BatchGetItem', 'GetItem', 'GetItem']);
  });

  it('splits more than 100 keys into batches of 100', async () => {
    const { doc, calls } = client({ coalescing: true });
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) => get(doc, { pk: `item#none-${i}`, sk: 'x' })),
    );
    expect(answers.every((item) => item === undefined)).toBe(true);
    expect(calls).toEqual(['BatchGetItem', 'BatchGetItem']);
  });

  it('asks again for the keys DynamoDB left unprocessed', async () => {
    const { doc, calls, state } = client({ coalescing: true });
    let first = true;
    state.tamper = (name, input) => {
      if (name !== 'BatchGetItem' || !first) return undefined;
      first = false;
      // The server gets the first key only; the others come back unprocessed.
      const request = (input.RequestItems as Record<string, { Keys: unknown[] }>)[data.tableName]!;
      return {
        input: { RequestItems: { [data.tableName]: { ...request, Keys: request.Keys.slice(0, 1) } } },
        output: { UnprocessedKeys: { [data.tableName]: { ...request, Keys: request.Keys.slice(1) } } },
      };
    };
    const answers = await Promise.all(keys.map((key) => get(doc, key)));
    expect(answers.map((item) => item?.n)).toEqual([0, 1, 2]);
    expect(calls).toEqual(['BatchGetItem', 'BatchGetItem']);
  });

  it('fails every read of a batch that fails', async () => {
    const { doc, state } = client({ coalescing: true });
    state.tamper = (name) => (name === 'BatchGetItem' ? 'fail' : undefined);
    const reads = keys.map((key) => get(doc, key));
    for (const read of reads) await expect(read).rejects.toThrow('BatchGetItem failed');
  });
});

describe('GroupCommitAuditTrail', () => {
  let licenceId: string;
  beforeEach(() => {
    licenceId = `1.2.156.3005.2.003.11110000000013223T.${randomUUID()}`;
  });
  const entry = (i: number): AuditEntry => ({
    at: new Date(Date.UTC(2026, 2, 1, 9, 30, 0, i)).toISOString(),
    actor: i % 2 ? 'anonymous' : 'cl_verifier',
    action: 'licence.verified',
    licenceId,
    issuerId: 'iss_1',
    verdict: 'valid',
    reason: 'ok',
    requestId: `req-${i}`,
  });

  it('writes the entries recorded together in TransactWriteItems of 25, each record settled once written, fields as given', async () => {
    const { doc, calls } = client();
    const trail = new GroupCommitAuditTrail(doc, data.tableName);
    const entries = Array.from({ length: 30 }, (_, i) => entry(i));
    await Promise.all(entries.map((e) => trail.record(e)));
    // The chain's registration first (its own conditional put), then the first 25, then the 5 recorded
    // while that write was in flight.
    expect(calls).toEqual(['PutItem', 'TransactWriteItems', 'TransactWriteItems']);
    calls.length = 0;
    const stored = await trailOf(doc, licenceId);
    expect(unlinked(stored)).toEqual(entries);
    expect(stored.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
  });

  it('writes a lone entry with the conditional put (a chain’s first after its registration)', async () => {
    const { doc, calls } = client();
    const trail = new GroupCommitAuditTrail(doc, data.tableName);
    await trail.record(entry(0));
    expect(calls).toEqual(['PutItem', 'PutItem']);
    calls.length = 0;
    await trail.record(entry(1));
    expect(calls).toEqual(['PutItem']);
    expect(unlinked(await trailOf(doc, licenceId))).toEqual([entry(0), entry(1)]);
  });

  it('writes a group whole or not at all: a failed transaction settles none of it, and the chain goes on anew', async () => {
    const { doc, calls, state } = client();
    const trail = new GroupCommitAuditTrail(doc, data.tableName);
    await trail.record(entry(0));
    let first = true;
    state.tamper = (name) => {
      if (name !== 'TransactWriteItems' || !first) return undefined;
      first = false;
      return 'fail';
    };
    calls.length = 0;
    const group = [1, 2, 3].map((i) => trail.record(entry(i)));
    for (const record of group) await expect(record).rejects.toThrow('TransactWriteItems failed');
    expect(calls).toEqual(['TransactWriteItems']);
    await trail.record(entry(4));
    // Entry 0 on the first chain; none of the failed group; entry 4 on a new chain, from its first seq.
    const stored = await trailOf(doc, licenceId);
    expect(unlinked(stored)).toEqual([entry(0), entry(4)]);
    expect(stored.map((e) => e.seq)).toEqual([1, 1]);
  });

  it('fails every record of a batch that cannot be written: no caller is told an entry is durable', async () => {
    const { doc, state } = client();
    const trail = new GroupCommitAuditTrail(doc, data.tableName);
    state.tamper = (name) => (name === 'TransactWriteItems' || name === 'PutItem' ? 'fail' : undefined);
    const records = [0, 1, 2].map((i) => trail.record(entry(i)));
    // The chain's registration is written first, and fails: so do the entries waiting on it.
    for (const record of records) await expect(record).rejects.toThrow('PutItem failed');
    // A new chain (the first was closed) fails the same way.
    await expect(trail.record(entry(3))).rejects.toThrow('PutItem failed');
    state.tamper = undefined;
    expect(await trailOf(doc, licenceId)).toEqual([]);
  });
});

describe('recordIssuerReads on the licences function’s trail (privacy review L4)', () => {
  it('writes a search’s 100 reads in 4 TransactWriteItems, each filed under its licence’s holder', async () => {
    const { doc, calls } = client();
    const trail = new GroupCommitAuditTrail(doc, data.tableName);
    const licences = Array.from(
      { length: 100 },
      (_, i) =>
        ({
          id: `1.2.156.3005.2.003.11110000000013223T.${randomUUID()}`,
          type: 'driving-licence',
          holder: { lookupKey: `hk_${i % 3}` },
        }) as unknown as LicenceRecord,
    );
    const by = { issuerId: 'iss_1', clientId: 'elicence-console', clerk: 'ref_1', requestId: 'req-1' };
    await recordIssuerReads(licences, by, { audit: trail, clock: { now: () => Date.UTC(2026, 11, 6) } });
    // The chain's registration, then 25 at a time: not 100 conditional puts on the search's path.
    expect(calls).toEqual(['PutItem', ...Array<string>(4).fill('TransactWriteItems')]);
    const stored = await trailOf(doc, licences[7]!.id);
    expect(unlinked(stored)).toEqual([
      {
        at: '2026-12-06T00:00:00.000Z',
        actor: 'elicence-console',
        clerk: 'ref_1',
        action: 'licence.issuer_read',
        issuerId: 'iss_1',
        licenceId: licences[7]!.id,
        licenceType: 'driving-licence',
        holderKey: 'hk_1',
        requestId: 'req-1',
      },
    ]);
  });
});
