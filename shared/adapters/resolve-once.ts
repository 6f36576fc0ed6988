/*
 * An AWS SDK v3 client resolves its whole middleware stack on every `send`: it concatenates the client's
 * and the command's stacks, sorts them by step, priority and relation, and composes a fresh handler
 * chain, before any byte is serialised. Issue 16's profiles put that at about a third of the SDK's CPU
 * per DynamoDB or KMS call (a single sign-on makes seven), which in Lambda is billed time on every
 * request. The SDK's own answer is `cacheMiddleware: true`: the chain is resolved once per command class
 * and reused. Two things keep it from being a one-line setting here:
 *
 * - a stack that changes after the first call would be ignored by the cached chains (the local grant
 *   guard and tests add middleware to a client they did not build), so every change drops the cache;
 * - `@aws-sdk/lib-dynamodb` refuses the setting, because its commands capture their own instance in the
 *   chain they resolve; `CachingDocumentClient` (dynamo/client.ts) caches the chain underneath them.
 *
 * A reused chain keeps its first call's context, and with it that call's command (and its input) for the
 * container's life, as the SDK's own cache does; nothing reads them again (each call's input travels down
 * the chain), and a container's memory is its own. Per-call values the SDK writes on the shared context
 * (the endpoint, the auth scheme, the signing region) are the same for every call of one client.
 */

/** The methods that change a middleware stack (`use` applies a plugin through `add`/`addRelativeTo`). */
const changes = ['add', 'addRelativeTo', 'use', 'remove', 'removeByTag'] as const;

/**
 * Calls `changed` before each change of `stack`, so that chains resolved from it can be dropped.
 *
 * @example
 * ```ts
 * const handlers = new Map();
 * onStackChange(client.middlewareStack, () => handlers.clear());
 * ```
 */
export function onStackChange(stack: object, changed: () => void): void {
  const methods = stack as unknown as Record<(typeof changes)[number], (...args: unknown[]) => unknown>;
  for (const name of changes) {
    const original = methods[name].bind(stack);
    methods[name] = (...args: unknown[]) => {
      changed();
      return original(...args);
    };
  }
}

/** What of a low-level SDK client `resolveOncePerCommand` touches. */
interface LowLevelClient {
  config: { cacheMiddleware?: boolean };
  /** Typed loosely: each client's stack is generic over its own service's inputs and outputs. */
  middlewareStack: object;
}

/**
 * Makes a low-level SDK client (KMS, Lambda, ...) resolve its middleware once per command class, as the
 * SDK's `cacheMiddleware: true` does, and resolve it again after any change to its stack.
 *
 * @example
 * ```ts
 * const kms = resolveOncePerCommand(new KMSClient({ region: 'cn-north-1' }));
 * ```
 */
export function resolveOncePerCommand<C extends LowLevelClient>(client: C): C {
  client.config.cacheMiddleware = true;
  onStackChange(client.middlewareStack, () => {
    // The SDK's own cache (smithy `Client.send`): a WeakMap from command class to resolved chain.
    (client as unknown as { handlers?: unknown }).handlers = undefined;
  });
  return client;
}
