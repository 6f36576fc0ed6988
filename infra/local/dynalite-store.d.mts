import type { Server } from 'node:http';

/**
 * Opens and closes the embedded DynamoDB's LevelDB store once before dynalite does, so that a store
 * locked by another process is a clear startup error rather than a throw inside dynalite's handler.
 *
 * @example
 * ```ts
 * await assertStoreOpens(join(dataDir, 'dynamo')); // throws "Cannot open the local DynamoDB store at …"
 * ```
 */
export function assertStoreOpens(path: string): Promise<void>;

/**
 * Keeps a client that goes away mid-request from stopping dynalite's thread: dynalite rethrows a request's
 * `aborted` error, uncaught. Call it once dynalite has made its server (its handler attached).
 *
 * @example
 * ```ts
 * const server = dynalite({ path });
 * ignoreAbortedRequests(server);
 * ```
 */
export function ignoreAbortedRequests(server: Server): void;
