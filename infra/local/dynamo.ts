import dynalite from 'dynalite';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { inProcessTransport, type InProcessTransport } from './in-process-transport.js';

/** A running local DynamoDB. */
export interface LocalDynamo {
  /** `http://host:port`, for the SDK's `endpoint`. */
  endpoint: string;
  /**
   * An SDK request handler that reaches this DynamoDB in process, without the loopback socket (the local
   * runtime's own clients use it; see `in-process-transport.ts`). Counted, tapped and answered alike.
   */
  transport: InProcessTransport;
  /**
   * DynamoDB operations served since the start or {@link resetStats}, by name (`Query`, `GetItem`, …),
   * each SDK retry counted: what `npm run bench` reports per flow. A fresh copy.
   */
  stats(): Record<string, number>;
  /**
   * The operations of stream consumers (requests marked with the {@link streamConsumerHeader}), by name:
   * off the request path, so kept apart from {@link stats}, which counts what requests wait for.
   */
  streamStats(): Record<string, number>;
  /** Sets every count of {@link stats} and {@link streamStats} back to zero. */
  resetStats(): void;
  /**
   * Calls `listener` with each write request dynalite answered with success (`PutItem`, `BatchWriteItem`,
   * `TransactWriteItems`; the request as sent, in DynamoDB JSON), once the answer is written: what the local stream tap
   * (`./streams.ts`) turns into stream records. Returns a function that removes the listener.
   */
  onWrite(listener: WriteListener): () => void;
  /** Stops serving and closes the LevelDB store, releasing its lock; the directory can then be reopened. */
  close(): Promise<void>;
}

/** A successful write request, as the SDK sent it (DynamoDB JSON), and what was answered (if JSON). */
export interface WriteRequest {
  operation: 'PutItem' | 'BatchWriteItem' | 'TransactWriteItems';
  input: Record<string, unknown>;
  /** The answer: a BatchWriteItem's `UnprocessedItems` were not written. */
  output?: Record<string, unknown>;
}
export type WriteListener = (write: WriteRequest) => void;

/** The header the local runtime puts on a stream consumer's requests (counted by {@link LocalDynamo.streamStats}). */
export const streamConsumerHeader = 'x-local-stream-consumer';

/** The writes whose requests the tap reads (no other request body is buffered). */
const tappedWrites = new Set(['PutItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface LocalDynamoOptions {
  /** Data root (e.g. `.data`); tables persist in LevelDB under `<dataDir>/dynamo`. */
  dataDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1: the emulator has no authentication and must not listen publicly. */
  host?: string;
}

interface LevelDb {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens and closes the store once before dynalite does. dynalite opens LevelDB lazily and, if the directory
 * is locked (another `npm start` on the same `.data`), the first request throws inside its HTTP handler and
 * takes the whole process down; checking here turns that into a clear startup error.
 */
async function assertStoreOpens(path: string): Promise<void> {
  const requireFromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = requireFromDynalite('level') as { Level: new (path: string) => LevelDb };
  const db = new Level(path);
  try {
    await db.open();
  } catch (error) {
    throw new Error(`Cannot open the local DynamoDB store at ${path}: is another process using it?`, {
      cause: error,
    });
  }
  await db.close();
}

/**
 * Runs dynalite in this process with LevelDB persistence and tables that become ACTIVE at once.
 * dynalite has no TTL or PartiQL and needs table names of 3+ characters; TransactWriteItems is added by
 * `patches/dynalite+4.0.0.patch` (docs/local-runtime.md).
 *
 * @example
 * ```ts
 * const dynamo = await startLocalDynamo({ dataDir: '.data' });
 * const doc = createDocumentClient({ region: 'local', endpoint: dynamo.endpoint, credentials });
 * // ...
 * await dynamo.close();
 * ```
 */
export async function startLocalDynamo(options: LocalDynamoOptions): Promise<LocalDynamo> {
  const path = join(options.dataDir, 'dynamo');
  const host = options.host ?? '127.0.0.1';
  await mkdir(path, { recursive: true });
  await assertStoreOpens(path);

  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  let calls = new Map<string, number>();
  let streamCalls = new Map<string, number>();
  // The operation is in the target header (`DynamoDB_20120810.Query`); counted before dynalite answers.
  const listeners = new Set<WriteListener>();
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    const target = request.headers['x-amz-target'];
    const operation = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : 'unknown';
    const counts = request.headers[streamConsumerHeader] ? streamCalls : calls;
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    if (listeners.size === 0 || !tappedWrites.has(operation)) return;
    // dynalite reads the body with 'data' listeners too, attached in this same turn: both see every chunk.
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The answer too: a BatchWriteItem may leave items unprocessed, which the tap must not deliver.
    const answered: Buffer[] = [];
    const write = response.write.bind(response) as (...args: unknown[]) => boolean;
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string' || chunk instanceof Uint8Array) answered.push(Buffer.from(chunk));
    };
    response.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return write(chunk, ...rest);
    }) as typeof response.write;
    response.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'function') keep(chunk);
      return end(chunk, ...rest);
    }) as typeof response.end;
    response.on('finish', () => {
      if (response.statusCode !== 200) return;
      let input: Record<string, unknown>;
      let output: Record<string, unknown> | undefined;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return;
      }
      try {
        output = JSON.parse(Buffer.concat(answered).toString('utf8')) as Record<string, unknown>;
      } catch {
        output = undefined;
      }
      for (const listener of listeners) {
        listener({ operation: operation as WriteRequest['operation'], input, ...(output ? { output } : {}) });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${urlHost}:${port}`,
    transport: inProcessTransport(server),
    stats: () => Object.fromEntries(calls),
    streamStats: () => Object.fromEntries(streamCalls),
    resetStats() {
      calls = new Map();
      streamCalls = new Map();
    },
    onWrite(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
