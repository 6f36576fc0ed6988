// Plain JavaScript, with its types in ./dynalite-store.d.mts: the embedded DynamoDB's worker thread
// (./dynamo-worker.mjs) imports it without the TypeScript loader, and ./dynamo.ts (`thread: 'main'`) too.
import { createRequire } from 'node:module';

/**
 * Opens and closes the store once before dynalite does. dynalite opens LevelDB lazily and, if the
 * directory is locked (another `npm start` on the same `.data`), the first request throws inside its
 * handler and takes its thread down; checking here turns that into a clear startup error.
 *
 * @param {string} path
 * @returns {Promise<void>}
 */
export async function assertStoreOpens(path) {
  // dynalite's own `level`, the one that will open the store.
  const requireFromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite'));
  const { Level } = requireFromDynalite('level');
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
 * Keeps a client that goes away mid-request from stopping dynalite's thread. Node then destroys the
 * request with an `aborted` error, and dynalite's handler rethrows every request error (`req.on('error',
 * err => { throw err })`), uncaught: the worker (or, with `thread: 'main'`, the process) would die. A
 * listener added after dynalite's own replaces its rethrow with nothing: that request is simply never
 * answered, as its client is gone.
 *
 * @param {import('node:http').Server} server dynalite's server, its handler already attached
 * @returns {void}
 */
export function ignoreAbortedRequests(server) {
  server.on('request', (request) => {
    request.removeAllListeners('error');
    request.on('error', () => undefined);
  });
}
