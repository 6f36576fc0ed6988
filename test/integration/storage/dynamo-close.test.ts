import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startLocalDynamo, type LocalDynamo } from '../../../infra/local/dynamo.js';
import { documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import { ensureTable } from '../../../shared/adapters/dynamo/create-table.js';

/**
 * `LocalDynamo.close()` waits for the embedded DynamoDB to stop serving, but a client holding a request
 * half sent keeps dynalite's server from closing (Node waits for every connection with a request in
 * progress, up to its five-minute request timeout). `close()` must not wait that long: `npm start`'s
 * shutdown and every test's teardown await it.
 */

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const tableName = 'closing';
let dataDir: string;
const started: LocalDynamo[] = [];
const sockets: Socket[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'elicence-close-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const dynamo of started.splice(0)) await dynamo.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function start(thread: 'worker' | 'main'): Promise<LocalDynamo> {
  const dynamo = await startLocalDynamo({ dataDir, thread });
  started.push(dynamo);
  return dynamo;
}

function clientOf(dynamo: LocalDynamo) {
  return documentClientFor(
    new DynamoDBClient({ region: 'local', endpoint: dynamo.endpoint, credentials, maxAttempts: 1 }),
  );
}

/**
 * Opens a connection to `dynamo`'s port and sends a GetItem's headers and only part of its body, then
 * waits until the server has taken the request (it is counted when dynalite's server sees it).
 */
async function holdRequestOpen(dynamo: LocalDynamo): Promise<Socket> {
  const { hostname, port } = new URL(dynamo.endpoint);
  const socket = connect(Number(port), hostname);
  sockets.push(socket);
  socket.on('error', () => undefined); // torn down by the close under test
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    [
      'POST / HTTP/1.1',
      `Host: ${hostname}:${port}`,
      'Content-Type: application/x-amz-json-1.0',
      'X-Amz-Target: DynamoDB_20120810.GetItem',
      'Content-Length: 200',
      '',
      '{"TableName":',
    ].join('\r\n'),
  );
  await vi.waitFor(() => expect(dynamo.stats().GetItem).toBe(1), { timeout: 5_000, interval: 20 });
  return socket;
}

/** A table with one item, and the counts reset. */
async function withItem(dynamo: LocalDynamo): Promise<void> {
  const client = new DynamoDBClient({
    region: 'local',
    endpoint: dynamo.endpoint,
    credentials,
    maxAttempts: 1,
  });
  await ensureTable(client, tableName);
  client.destroy();
  const doc = clientOf(dynamo);
  await doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'a', sk: 'b', v: 1 } }));
  doc.destroy();
  dynamo.resetStats();
}

async function readItem(dynamo: LocalDynamo): Promise<unknown> {
  const doc = clientOf(dynamo);
  try {
    const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: 'a', sk: 'b' } }));
    return Item;
  } finally {
    doc.destroy();
  }
}

describe.each(['worker', 'main'] as const)('LocalDynamo.close() (thread: %s)', (thread) => {
  it('stops within seconds when a client holds a request half sent, says so, and the store reopens', async () => {
    const dynamo = await start(thread);
    await withItem(dynamo);
    await holdRequestOpen(dynamo);

    const warn = vi.spyOn(console, 'warn');
    const begun = Date.now();
    await dynamo.close();
    expect(Date.now() - begun).toBeLessThan(10_000);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/embedded DynamoDB.*did not close within \d+ s/));
    started.splice(started.indexOf(dynamo), 1);

    // What was written is there, and the LevelDB lock was released: the directory opens again.
    const again = await start(thread);
    expect(await readItem(again)).toEqual({ pk: 'a', sk: 'b', v: 1 });
  }, 20_000);

  it('keeps serving when a client goes away mid-request (dynalite would rethrow its `aborted`)', async () => {
    const dynamo = await start(thread);
    await withItem(dynamo);
    const socket = await holdRequestOpen(dynamo);
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.destroy();
    await gone;
    // The server learns of the closed connection a moment later: give it that moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const notFailed = Symbol('running');
    expect(await Promise.race([dynamo.failed, Promise.resolve(notFailed)])).toBe(notFailed);
    expect(await readItem(dynamo)).toEqual({ pk: 'a', sk: 'b', v: 1 });
  });

  it('closes at once, without that message, when nothing holds it', async () => {
    const dynamo = await start(thread);
    const warn = vi.spyOn(console, 'warn');
    const begun = Date.now();
    await dynamo.close();
    started.splice(started.indexOf(dynamo), 1);
    expect(Date.now() - begun).toBeLessThan(2_000);
    expect(warn).not.toHaveBeenCalled();
  });
});
