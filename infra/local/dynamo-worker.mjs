// The embedded DynamoDB's worker thread (started by `startLocalDynamo` in ./dynamo.ts): dynalite and its
// LevelDB store run here, off the service's main thread. Plain JavaScript on purpose: a worker does not
// inherit the loader that runs the TypeScript around it (tsx under `npm start` and the bench, vite-node
// under vitest), and this file needs none, so it starts the same way under all three.
//
// It answers two ways: over its TCP port (the AWS CLI, tests' own clients), and over `parentPort` for the
// runtime's own clients (the in-process transport: `[id, method, url, headers, body]` in,
// `[id, status, headers, body]` or `[id, 0, null, null, message]` out).
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import { assertStoreOpens, ignoreAbortedRequests } from './dynalite-store.mjs';
import { StandInResponse } from './stand-in-response.mjs';

/** @type {{ path: string, host: string, port: number, operations: string[], counts: SharedArrayBuffer, control: SharedArrayBuffer, streamConsumerHeader: string }} */
const {
  path,
  host,
  port,
  operations,
  counts: countsBuffer,
  control: controlBuffer,
  streamConsumerHeader,
} = workerData;
/** Socket requests by operation: `[index]` for the request path, `[operations.length + index]` for consumers. */
const counts = new Int32Array(countsBuffer);
/** `[0]`: how many write listeners the main thread has (0: socket writes are not tapped). */
const control = new Int32Array(controlBuffer);
const operationIndex = new Map(operations.map((name, index) => [name, index]));
const tappedWrites = new Set(['PutItem', 'BatchWriteItem', 'TransactWriteItems']);

/**
 * The part of `http.IncomingMessage` dynalite reads; its body is emitted right after the handler attaches,
 * in the same turn (not the in-process transport's stream, which flows a tick later): what dynalite's
 * listeners throw then fails that one request instead of the thread.
 */
class MessageRequest extends EventEmitter {
  httpVersion = '1.1';
  constructor(method, url, headers) {
    super();
    this.method = method;
    this.url = url;
    this.headers = headers;
  }
}

/** Posts a transport request's answer to the main thread (a string body as it is; bytes in a buffer of their own, not a pool's). */
function answerWith(id) {
  return ({ statusCode, statusMessage, headers, body }) =>
    parentPort.postMessage([
      id,
      statusCode,
      headers,
      typeof body === 'string' ? body : new Uint8Array(body),
      statusMessage,
    ]);
}

function count(headers, operation) {
  const index = operationIndex.get(operation) ?? operationIndex.get('unknown');
  Atomics.add(counts, headers[streamConsumerHeader] ? operations.length + index : index, 1);
}

function operationOf(headers) {
  const target = headers['x-amz-target'];
  return typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : 'unknown';
}

let server;
/** Socket writes whose answer waits until the main thread's write listeners have seen them. */
const heldAnswers = new Map();
let writeIds = 0;

/**
 * A socket request: counted, and a successful write shown to the main thread's listeners (the local
 * stream tap) before its answer goes out, as when dynalite ran on the main thread: a client that wrote
 * and then drains the stream finds its write delivered.
 */
function onSocketRequest(request, response) {
  const operation = operationOf(request.headers);
  count(request.headers, operation);
  if (Atomics.load(control, 0) === 0 || !tappedWrites.has(operation)) return;
  // dynalite reads the body with 'data' listeners too, attached in this same turn: both see every chunk.
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  const answered = [];
  const write = response.write.bind(response);
  const end = response.end.bind(response);
  const keep = (chunk) => {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) answered.push(Buffer.from(chunk));
  };
  response.write = (chunk, ...rest) => {
    keep(chunk);
    return write(chunk, ...rest);
  };
  response.end = (chunk, ...rest) => {
    if (typeof chunk !== 'function') keep(chunk);
    if (response.statusCode !== 200) return end(chunk, ...rest);
    const id = (writeIds += 1);
    heldAnswers.set(id, () => end(chunk, ...rest));
    parentPort.postMessage({
      type: 'write',
      id,
      operation,
      input: Buffer.concat(chunks).toString('utf8'),
      output: Buffer.concat(answered).toString('utf8'),
    });
    return response;
  };
}

async function start() {
  await assertStoreOpens(path);
  server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const [handler] = server.listeners('request');
  ignoreAbortedRequests(server);
  server.prependListener('request', onSocketRequest);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  parentPort.on('message', (message) => {
    if (Array.isArray(message)) {
      const [id, method, url, headers, body] = message;
      const request = new MessageRequest(method, url, headers);
      try {
        handler(request, new StandInResponse(answerWith(id), { text: true }));
        if (body.length > 0)
          request.emit('data', typeof body === 'string' ? Buffer.from(body) : Buffer.from(body));
        request.emit('end');
      } catch (error) {
        parentPort.postMessage([id, 0, null, null, String(error?.stack ?? error)]);
      }
    } else if (message.type === 'written') {
      const answer = heldAnswers.get(message.id);
      heldAnswers.delete(message.id);
      answer?.();
    } else if (message.type === 'close') {
      for (const answer of heldAnswers.values()) answer();
      heldAnswers.clear();
      server.close((error) =>
        parentPort.postMessage({ type: 'closed', error: error ? String(error) : undefined }),
      );
      server.closeIdleConnections();
    }
  });
  parentPort.postMessage({ type: 'ready', port: server.address().port });
}

start().catch((error) => {
  parentPort.postMessage({ type: 'failed', message: error.message, cause: String(error.cause ?? '') });
});
