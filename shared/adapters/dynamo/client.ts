import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  DynamoDBDocumentClientCommand,
  type TranslateConfig,
} from '@aws-sdk/lib-dynamodb';
import { awsClientSettings, requestTimeoutFor } from '../aws-timeouts.js';
import { onStackChange, signOncePerClient } from '../resolve-once.js';

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

/** The SDK's own default: DynamoDB rarely throttles an on-demand table, and a function's time is short. */
export const DEFAULT_DYNAMO_MAX_ATTEMPTS = 3;

/** Low-level client, for table administration (see `ensureTable`). */
export function createDynamoClient(options: DynamoClientOptions): DynamoDBClient {
  const client = new DynamoDBClient({
    ...awsClientSettings({
      region: options.region,
      endpoint: options.endpoint,
      maxAttempts: options.maxAttempts ?? DEFAULT_DYNAMO_MAX_ATTEMPTS,
      requestTimeoutMs: options.requestTimeoutMs ?? requestTimeoutFor(options.endpoint),
    }),
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

/** What `CachingDocumentClient` reaches of a document command (members the SDK declares protected). */
interface DocumentCommandInternals {
  addMarshallingMiddleware(configuration: unknown): void;
  clientCommand: {
    middlewareStack: DynamoDBDocumentClient['middlewareStack'];
    resolveMiddleware(stack: unknown, configuration: unknown, options: undefined): Chain;
  };
  middlewareStack: DynamoDBDocumentClient['middlewareStack'];
}

/** A resolved middleware chain: takes a low-level command, answers its output (and HTTP response). */
type Chain = (command: unknown) => Promise<{ output: unknown }>;

/**
 * A document client that resolves each command class's middleware chain once (see `../resolve-once.ts`
 * for why: a third of the SDK's CPU per call) and again after any change to the client's stack, and whose
 * wrapped client builds its request signer once (`signOncePerClient`).
 *
 * A document command marshals its input in a middleware of its own low-level command, which it creates
 * per instance; the chain resolved for the first `GetCommand` therefore serves every later one, because
 * that middleware reads only the class's key nodes and the input passed down the chain. Calls with
 * options or a callback, and other commands, go through the SDK's own `send` unchanged. Middleware added
 * to one command's own stack (none is, here) would be ignored after its class's first call.
 *
 * @example
 * ```ts
 * const doc = new CachingDocumentClient(new DynamoDBClient({ region: 'cn-north-1' }), {});
 * await doc.send(new GetCommand({ TableName: 'elicence', Key: { pk, sk } }));
 * ```
 */
export class CachingDocumentClient extends DynamoDBDocumentClient {
  readonly #chains = new Map<unknown, Chain>();

  constructor(client: DynamoDBClient, translateConfig: TranslateConfig) {
    super(client, translateConfig);
    onStackChange(this.middlewareStack, () => this.#chains.clear());
    // The wrapped client's signer built once, not per request (../resolve-once.ts).
    signOncePerClient(client);
  }

  /**
   * The SDK's own cache must stay off on the shared configuration: a document command's chain replays
   * the first command of its class (lib-dynamodb refuses the setting at construction for that reason), so
   * a call with options reaching the SDK's cached path would answer another call's request. Checked per
   * call because the configuration object is the wrapped client's, which anyone holding it could change.
   */
  #sdkCacheOff(): void {
    if (this.config.cacheMiddleware === true) {
      throw new Error('CachingDocumentClient: cacheMiddleware must stay off on the wrapped DynamoDB client');
    }
  }

  // The SDK's overloads (promise, callback, options) are kept by handing anything but `send(command)` on;
  // `any` as in the SDK's own implementation signature, which the overloads narrow.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override send(command: any, optionsOrCallback?: any, callback?: any): any {
    this.#sdkCacheOff();
    if (
      optionsOrCallback !== undefined ||
      callback !== undefined ||
      !(command instanceof DynamoDBDocumentClientCommand)
    ) {
      return super.send(command, optionsOrCallback, callback);
    }
    const internals = command as unknown as DocumentCommandInternals;
    let chain = this.#chains.get(command.constructor);
    if (chain === undefined) {
      internals.addMarshallingMiddleware(this.config);
      const stack = this.middlewareStack.concat(internals.middlewareStack);
      chain = internals.clientCommand.resolveMiddleware(stack, this.config, undefined);
      this.#chains.set(command.constructor, chain);
    }
    return chain(internals.clientCommand).then((result) => result.output);
  }

  override destroy(): void {
    this.#chains.clear();
    super.destroy();
  }
}

/**
 * Wraps a low-level client with the project's marshalling rules: `undefined` values are dropped (optional
 * fields simply do not appear in the item) and class instances are rejected rather than silently turned
 * into maps, so only plain data reaches the table. The document client shares, and on `destroy()` closes,
 * the wrapped client's connections, and resolves each command's middleware once (`CachingDocumentClient`).
 */
export function documentClientFor(client: DynamoDBClient): DynamoDBDocumentClient {
  return new CachingDocumentClient(client, {
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
