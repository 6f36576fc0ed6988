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
