import dynalite from 'dynalite';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** A running local DynamoDB. */
export interface LocalDynamo {
  /** `http://host:port`, for the SDK's `endpoint`. */
  endpoint: string;
  /**
   * DynamoDB operations served since the start or {@link resetStats}, by name (`Query`, `GetItem`, …),
   * each SDK retry counted: what `npm run bench` reports per flow. A fresh copy.
   */
  stats(): Record<string, number>;
  /** Sets every count of {@link stats} back to zero. */
  resetStats(): void;
  /** Stops serving and closes the LevelDB store, releasing its lock; the directory can then be reopened. */
  close(): Promise<void>;
}

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
 * dynalite has no TransactWriteItems, TTL or PartiQL and needs table names of 3+ characters.
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
  // The operation is in the target header (`DynamoDB_20120810.Query`); counted before dynalite answers.
  server.prependListener('request', (request: IncomingMessage) => {
    const target = request.headers['x-amz-target'];
    const operation = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : 'unknown';
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
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
    stats: () => Object.fromEntries(calls),
    resetStats() {
      calls = new Map();
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
