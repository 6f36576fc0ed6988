import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsRequestTimeouts, requestTimeoutFor } from '../aws-timeouts.js';

/** Where the table lives: AWS by region, or a local endpoint (dynalite, LocalStack). */
export interface DynamoClientOptions {
  region: string;
  /** E.g. `http://127.0.0.1:8000`; omitted for AWS. */
  endpoint?: string;
  /** SDK attempts per request, retries included (SDK default 3). */
  maxAttempts?: number;
  /** Static credentials, for local endpoints; omitted to use the SDK's default provider chain. */
  credentials?: DynamoDBClientConfig['credentials'];
  /** Per attempt (default {@link requestTimeoutFor}): a table that does not answer in it is retried. */
  requestTimeoutMs?: number;
}

/** Low-level client, for table administration (see `ensureTable`). */
export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const client = new DynamoDBClient({
    region: options.region,
    requestHandler: awsRequestTimeouts(options.requestTimeoutMs ?? requestTimeoutFor(options.endpoint)),
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
    ...(options.credentials !== undefined && { credentials: options.credentials }),
  });
  withoutSdkLogging(client);
  return client;
}

/**
 * Removes the SDK's logger middleware, which on every call copies the output and walks input and output
 * through their schemas' sensitive-data filters for the client's logger: the SDK's no-op logger here (no
 * `logger` is configured), so nothing was ever logged, and the work was per call (issue 16's profiles).
 *
 * @example
 * ```ts
 * withoutSdkLogging(new DynamoDBClient({ region: 'cn-north-1' }));
 * ```
 */
export function withoutSdkLogging(client: { middlewareStack: { remove(name: string): boolean } }): void {
  client.middlewareStack.remove('loggerMiddleware');
}

/**
 * Wraps a low-level client with the project's marshalling rules: `undefined` values are dropped (optional
 * fields simply do not appear in the item) and class instances are rejected rather than silently turned
 * into maps, so only plain data reaches the table. The document client shares, and on `destroy()` closes,
 * the wrapped client's connections.
 */
export function documentClientFor(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/**
 * The document client every data module uses.
 *
 * @example
 * ```ts
 * const doc = createDocumentClient({ region: 'cn-north-1' });
 * const local = createDocumentClient({
 *   region: 'local',
 *   endpoint: 'http://127.0.0.1:8000',
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
 * });
 * ```
 */
export function createDocumentClient(options: DynamoClientOptions): DynamoDBDocumentClient {
  return documentClientFor(createDynamoClient(options));
}
