import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as WorkerThreads from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startLocalDynamo, type LocalDynamo } from '../../../infra/local/dynamo.js';
import { startLocalRuntime } from '../../../infra/local/runtime.js';
import { loadConfig } from '../../../shared/config.js';
import { documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import { ensureTable } from '../../../shared/adapters/dynamo/create-table.js';

/**
 * The embedded DynamoDB runs in a worker thread (`infra/local/dynamo-worker.mjs`). If that thread dies,
 * the runtime's requests must fail, at once and with the reason, never wait for an answer that cannot
 * come; and the death must be logged.
 */

/** Every worker `startLocalDynamo` starts, to make one crash from outside. */
const workers = vi.hoisted(() => [] as Worker[]);
vi.mock('node:worker_threads', async (importOriginal) => {
  const actual = await importOriginal<typeof WorkerThreads>();
  class Recorded extends actual.Worker {
    constructor(...args: ConstructorParameters<typeof actual.Worker>) {
      super(...args);
      workers.push(this);
    }
  }
  return { ...actual, Worker: Recorded };
});

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const tableName = 'crashing';
let dataDir: string;
let dynamo: LocalDynamo;
let doc: DynamoDBDocumentClient;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'elicence-worker-'));
  dynamo = await startLocalDynamo({ dataDir });
  const client = new DynamoDBClient({
    region: 'local',
    endpoint: dynamo.endpoint,
    credentials,
    requestHandler: dynamo.transport,
    maxAttempts: 1,
  });
  await ensureTable(client, tableName);
  doc = documentClientFor(client);
});
afterEach(async () => {
  doc.destroy();
  await dynamo.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** An uncaught exception inside the worker: it cannot read a message that is not one. */
function crash(): void {
  workers.at(-1)!.postMessage(null);
}

describe('the embedded DynamoDB in its worker thread', () => {
  it('answers through the transport and reads the same store over its port', async () => {
    await doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'a', sk: 'b', v: 1 } }));
    const overSocket = documentClientFor(
      new DynamoDBClient({ region: 'local', endpoint: dynamo.endpoint, credentials }),
    );
    try {
      const { Item } = await overSocket.send(
        new GetCommand({ TableName: tableName, Key: { pk: 'a', sk: 'b' } }),
      );
      expect(Item).toEqual({ pk: 'a', sk: 'b', v: 1 });
    } finally {
      overSocket.destroy();
    }
    expect(dynamo.stats()).toMatchObject({ PutItem: 1, GetItem: 1 });
  });

  it('answers a write through the transport even when a write listener throws (security review L5)', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const seen: string[] = [];
    const removeThrowing = dynamo.onWrite(() => {
      throw new Error('the tap broke');
    });
    const removeSeeing = dynamo.onWrite((write) => seen.push(write.operation));
    try {
      const put = doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'l5', sk: 'x', v: 5 } }));
      let timer: NodeJS.Timeout | undefined;
      const leftWaiting = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the PutItem was left waiting')), 5_000);
      });
      // The write happened, so it is answered with its result; the listener's error is logged.
      await expect(
        Promise.race([put, leftWaiting]).finally(() => clearTimeout(timer)),
      ).resolves.toBeDefined();
      expect(seen).toEqual(['PutItem']);
      expect(logged.mock.calls.flat().map(String).join('\n')).toMatch(/write listener failed on a PutItem/);
      const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: 'l5', sk: 'x' } }));
      expect(Item).toEqual({ pk: 'l5', sk: 'x', v: 5 });
    } finally {
      removeThrowing();
      removeSeeing();
      logged.mockRestore();
    }
  });

  it('fails the requests waiting on a worker that died, and every later one, and says so', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      crash();
      // Sent after the crash, to a thread that will never answer: rejected, not left waiting.
      const waiting = doc.send(new GetCommand({ TableName: tableName, Key: { pk: 'a', sk: 'b' } }));
      await expect(waiting).rejects.toThrow(/embedded DynamoDB (stopped|is not running)/);
      await expect(
        doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'a', sk: 'c' } })),
      ).rejects.toThrow(/embedded DynamoDB/);
      expect(logged.mock.calls.flat().map(String).join('\n')).toMatch(/embedded DynamoDB/);
    } finally {
      logged.mockRestore();
    }
  });
});

describe('the local runtime when its embedded DynamoDB dies (security review L4)', () => {
  it('says why and closes itself: no /healthz 200 while every table call fails', async () => {
    const runtimeDir = await mkdtemp(join(tmpdir(), 'elicence-runtime-'));
    const runtime = await startLocalRuntime(
      loadConfig({ PORT: '0', DATA_DIR: runtimeDir, LOG_LEVEL: 'SILENT' }),
    );
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect((await fetch(`${runtime.baseUrl}/healthz`)).status).toBe(200);
      crash();
      let timer: NodeJS.Timeout | undefined;
      const stillRunning = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the runtime ran on without its DynamoDB')), 10_000);
      });
      const reason = await Promise.race([runtime.stopped, stillRunning]).finally(() => clearTimeout(timer));
      expect(reason.message).toMatch(/local runtime stopped: The embedded DynamoDB/);
      expect(logged.mock.calls.flat().map(String).join('\n')).toMatch(/local runtime stopped/);
      await expect(fetch(`${runtime.baseUrl}/healthz`)).rejects.toThrow();
    } finally {
      logged.mockRestore();
      await runtime.close();
      await rm(runtimeDir, { recursive: true, force: true });
    }
  });
});
