import dynalite from 'dynalite';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { HttpResponse } from '@smithy/types';
import { assertStoreOpens, ignoreAbortedRequests } from './dynalite-store.mjs';
import {
  bodyBytes,
  inProcessTransport,
  pathAndQuery,
  type InProcessTransport,
} from './in-process-transport.js';

/** A running local DynamoDB. */
export interface LocalDynamo {
  /** `http://host:port`, for the SDK's `endpoint`. */
  endpoint: string;
  /**
   * An SDK request handler that reaches this DynamoDB in process, without the loopback socket (the local
   * runtime's own clients use it): a message to its worker thread and one back, or with `thread: 'main'`
   * `in-process-transport.ts`. Counted, tapped and answered alike.
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
  /**
   * Resolves with the reason if this DynamoDB stops on its own (its worker thread died): every request
   * fails from then on, so its owner must stop too rather than run on half-alive (security review L4).
   * Never settles while it runs, nor after {@link close}.
   */
  failed: Promise<Error>;
}

/** A successful write request, as the SDK sent it (DynamoDB JSON), and what was answered (if JSON). */
export interface WriteRequest {
  operation: 'PutItem' | 'BatchWriteItem' | 'TransactWriteItems';
  input: Record<string, unknown>;
  /** The answer: a BatchWriteItem's `UnprocessedItems` were not written. */
  output?: Record<string, unknown>;
}
export type WriteListener = (write: WriteRequest) => void;

/**
 * Hands a write that dynalite already applied to every listener. A listener that throws is logged and
 * the others still run: the write happened, so the request it belongs to must still be answered with its
 * result (failing it would tell the client a stored write did not happen, and a retry would repeat it),
 * and the exception must not escape into the worker's message handler or the server's `finish` event.
 */
function notifyWrite(listeners: ReadonlySet<WriteListener>, write: WriteRequest): void {
  for (const listener of listeners) {
    try {
      listener(write);
    } catch (error) {
      console.error(`The embedded DynamoDB's write listener failed on a ${write.operation}:`, error);
    }
  }
}

/** The header the local runtime puts on a stream consumer's requests (counted by {@link LocalDynamo.streamStats}). */
export const streamConsumerHeader = 'x-local-stream-consumer';

/**
 * How long {@link LocalDynamo.close} waits for the server to stop on its own. Node's server closes only
 * once every request in progress is done, and a client holding one half sent would keep it open for Node's
 * five-minute request timeout: past this, the connections are cut (the worker terminated, in worker mode).
 */
export const closeTimeoutMs = 3_000;

/** The writes whose requests the tap reads (no other request body is buffered). */
const tappedWrites = new Set(['PutItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface LocalDynamoOptions {
  /** Data root (e.g. `.data`); tables persist in LevelDB under `<dataDir>/dynamo`. */
  dataDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1: the emulator has no authentication and must not listen publicly. */
  host?: string;
  /**
   * Where dynalite and LevelDB run: `worker` (the default) in a worker thread of their own, off the main
   * thread that runs the service; `main` in the caller's thread, where a test can reach dynalite's own
   * modules (test/integration/storage/dynalite-iterators.test.ts counts LevelDB iterators on them).
   */
  thread?: 'worker' | 'main';
}

/**
 * Runs dynalite in this process with LevelDB persistence and tables that become ACTIVE at once, in a
 * worker thread of its own by default (`./dynamo-worker.mjs`; docs/local-runtime.md, "A thread of its
 * own"). dynalite has no TTL or PartiQL and needs table names of 3+ characters; TransactWriteItems is
 * added by `patches/dynalite+4.0.0.patch` (docs/local-runtime.md).
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
  if (options.thread === 'main') return startInThisThread(path, host, options.port ?? 0);
  return startInWorker(path, host, options.port ?? 0);
}

/** dynalite in the caller's thread (`thread: 'main'`). */
async function startInThisThread(path: string, host: string, listenPort: number): Promise<LocalDynamo> {
  await assertStoreOpens(path);

  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  ignoreAbortedRequests(server);
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
      notifyWrite(listeners, {
        operation: operation as WriteRequest['operation'],
        input,
        ...(output ? { output } : {}),
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, host, () => {
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
    // dynalite in this thread cannot die apart from it: a crash of it takes the process down.
    failed: new Promise<Error>(() => undefined),
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
        const cut = setTimeout(() => {
          console.warn(
            `The embedded DynamoDB did not close within ${closeTimeoutMs / 1000} s (a client holds a request open): its connections are cut`,
          );
          server.closeAllConnections();
        }, closeTimeoutMs);
        server.close((error) => {
          clearTimeout(cut);
          if (error) reject(error);
          else resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** The operations dynalite serves, and `unknown`: the slots of the worker's socket counts. */
const operations = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'UntagResource',
  'ListTagsOfResource',
  'UpdateItem',
  'UpdateTable',
  'TransactWriteItems',
  'unknown',
];

/** The worker's answer to a transport request: `[id, status, headers, body, reason]`, status 0 if it threw. */
type WorkerAnswer = [number, number, Record<string, string> | null, string | Uint8Array | null, string];
type WorkerEvent =
  | { type: 'ready'; port: number }
  | { type: 'failed'; message: string; cause: string }
  | { type: 'write'; id: number; operation: WriteRequest['operation']; input: string; output: string }
  | { type: 'closed'; error?: string };

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * dynalite in a worker thread (`./dynamo-worker.mjs`). Under single sign-on load, dynalite's JavaScript
 * and LevelDB's synchronous calls (`db_get` waits on LevelDB's mutex while its own threads compact) took
 * a fifth of the service's main thread; there, they run beside it on another core.
 *
 * - The runtime's clients reach it by {@link LocalDynamo.transport}: the SDK's signed request goes to
 *   the worker as a message and its answer comes back the same way (strings, cheap to copy).
 * - The counts are kept where they are sure to be settled when a client has its answer: the transport's
 *   requests here, as they are sent; the socket's in the worker, in shared memory, before it answers.
 * - A write's listeners run here: for the transport, before the client has the answer; for the socket,
 *   the worker holds the answer until they have run (only while a listener is registered).
 * - If the worker dies, every request waiting on it and every later one fails with the reason, which is
 *   also logged: nothing hangs, and nothing is answered without the store.
 */
async function startInWorker(path: string, host: string, listenPort: number): Promise<LocalDynamo> {
  const countsBuffer = new SharedArrayBuffer(2 * operations.length * Int32Array.BYTES_PER_ELEMENT);
  const socketCounts = new Int32Array(countsBuffer);
  const control = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  // A plain entry and no inherited flags: tsx's or vitest's loader is not needed there (see the file).
  const worker = new Worker(new URL('./dynamo-worker.mjs', import.meta.url), {
    execArgv: [],
    // Its garbage is short-lived request data: a smaller young generation keeps the RSS it adds low.
    resourceLimits: { maxYoungGenerationSizeMb: 8 },
    workerData: {
      path,
      host,
      port: listenPort,
      operations,
      counts: countsBuffer,
      control: control.buffer,
      streamConsumerHeader,
    },
  });

  let calls = new Map<string, number>();
  let streamCalls = new Map<string, number>();
  const listeners = new Set<WriteListener>();
  const deliver = (operation: WriteRequest['operation'], input: string, output: string) => {
    const request = parseJson(input);
    if (!request) return;
    const answer = parseJson(output);
    notifyWrite(listeners, { operation, input: request, ...(answer ? { output: answer } : {}) });
  };

  const pending = new Map<
    number,
    {
      resolve: (response: HttpResponse) => void;
      reject: (error: Error) => void;
      tap?: string;
      input?: string;
    }
  >();
  let nextId = 0;
  let stopped: Error | undefined;
  let closing: Promise<void> | undefined;
  let onClosed: ((error?: string) => void) | undefined;
  let started!: { resolve: (port: number) => void; reject: (error: Error) => void };
  const ready = new Promise<number>((resolve, reject) => (started = { resolve, reject }));

  let failed!: (error: Error) => void;
  const failure = new Promise<Error>((resolve) => (failed = resolve));
  /** The worker is gone: nothing waits for it any more. */
  const stop = (error: Error) => {
    if (stopped) return;
    stopped = error;
    if (!closing) failed(error);
    started.reject(error);
    for (const request of pending.values()) request.reject(error);
    pending.clear();
  };
  worker.on('error', (error) => {
    const failure = new Error(`The embedded DynamoDB stopped: ${error.message}`, { cause: error });
    console.error(failure);
    stop(failure);
  });
  worker.on('exit', (code) => {
    if (!closing) console.error(`The embedded DynamoDB's worker exited (code ${code})`);
    stop(
      new Error(
        `The embedded DynamoDB is ${closing ? 'closed' : `not running (its worker exited, code ${code})`}`,
      ),
    );
    onClosed?.();
  });
  worker.on('message', (message: WorkerAnswer | WorkerEvent) => {
    if (Array.isArray(message)) {
      const [id, status, headers, body, reason] = message;
      const request = pending.get(id);
      if (!request) return;
      pending.delete(id);
      if (status === 0) {
        request.reject(new Error(`The embedded DynamoDB failed the request: ${reason}`));
        return;
      }
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body ?? []);
      // As over a socket, the write's listeners (the stream tap) run before the client reads the answer.
      if (request.tap && status === 200 && listeners.size > 0) {
        deliver(request.tap as WriteRequest['operation'], request.input!, bytes.toString('utf8'));
      }
      request.resolve({
        statusCode: status,
        ...(reason ? { reason } : {}),
        headers: headers ?? {},
        body: bytes,
      });
    } else if (message.type === 'write') {
      try {
        if (listeners.size > 0) deliver(message.operation, message.input, message.output);
      } finally {
        worker.postMessage({ type: 'written', id: message.id });
      }
    } else if (message.type === 'ready') {
      started.resolve(message.port);
    } else if (message.type === 'failed') {
      started.reject(new Error(message.message, { cause: message.cause }));
    } else if (message.type === 'closed') {
      onClosed?.(message.error);
    }
  });

  let port: number;
  try {
    port = await ready;
  } catch (error) {
    closing = Promise.resolve(); // stopped on purpose: not reported as a crash
    await worker.terminate();
    throw error;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;

  const transport: InProcessTransport = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request, options = {}) {
      if (options.abortSignal?.aborted) {
        throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
      }
      if (stopped) throw stopped;
      // The DynamoDB protocol's bodies are JSON text: as a string, the copy to the worker is cheapest.
      const body =
        typeof request.body === 'string' ? request.body : (await bodyBytes(request.body)).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        const key = name.toLowerCase();
        headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
      }
      const target = headers['x-amz-target'];
      const operation = target === undefined ? 'unknown' : target.slice(target.indexOf('.') + 1);
      const counts = headers[streamConsumerHeader] ? streamCalls : calls;
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      nextId += 1;
      const id = nextId;
      const response = await new Promise<HttpResponse>((resolve, reject) => {
        const tapped = tappedWrites.has(operation);
        pending.set(id, { resolve, reject, ...(tapped ? { tap: operation, input: body } : {}) });
        worker.postMessage([id, request.method, pathAndQuery(request), headers, body]);
      });
      return { response };
    },
  };

  const merged = (counts: Map<string, number>, offset: number) => {
    const all = new Map(counts);
    operations.forEach((name, index) => {
      const n = Atomics.load(socketCounts, offset + index);
      if (n > 0) all.set(name, (all.get(name) ?? 0) + n);
    });
    return Object.fromEntries(all);
  };

  return {
    endpoint: `http://${urlHost}:${port}`,
    transport,
    failed: failure,
    stats: () => merged(calls, 0),
    streamStats: () => merged(streamCalls, operations.length),
    resetStats() {
      calls = new Map();
      streamCalls = new Map();
      for (let i = 0; i < socketCounts.length; i++) Atomics.store(socketCounts, i, 0);
    },
    onWrite(listener) {
      listeners.add(listener);
      Atomics.store(control, 0, listeners.size);
      return () => {
        listeners.delete(listener);
        Atomics.store(control, 0, listeners.size);
      };
    },
    close() {
      closing ??= (async () => {
        if (stopped) return;
        const closed = new Promise<{ error?: string }>((resolve) => {
          onClosed = (error) => resolve(error ? { error } : {});
          worker.postMessage({ type: 'close' });
        });
        // Bounded: a worker that never answers (a client holding a request open keeps dynalite's server,
        // and so its store, from closing) must not hold up `npm start`'s shutdown or a test's teardown.
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), closeTimeoutMs);
        });
        const outcome = await Promise.race([closed, timedOut]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          console.warn(
            `The embedded DynamoDB did not close within ${closeTimeoutMs / 1000} s (a client holds a request open, or its worker is stuck): its worker is terminated`,
          );
        }
        await worker.terminate();
        if (outcome !== 'timeout' && outcome.error) {
          throw new Error(`Closing the embedded DynamoDB: ${outcome.error}`);
        }
      })();
      return closing;
    },
  };
}
