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
