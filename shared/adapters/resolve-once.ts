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

/*
 * The SDK also builds a new request signer on every call: its `config.signer` (`@aws-sdk/core`,
 * `resolveAwsSdkSigV4Config`) spreads the client's whole configuration (about 50 keys) into the options
 * of a fresh `SignatureV4` each time it is asked, and the SigV4 auth scheme asks once per request (issue
 * 16's profiles listed it among the SDK's largest self-time items; measured, 2-4 µs of a call's 150-250,
 * docs/benchmarks.md). `signOncePerClient` keeps
 * the signer each distinct request needs for the client's life. Why it signs exactly as before:
 *
 * - the signer holds the client's credentials *provider*, not keys: it asks it on every signature, so
 *   keys that expire are refreshed and the next request carries the new ones, as before;
 * - the SDK's sign call (`AwsSdkSigV4Signer.sign`) passes the request's signing date, region and service
 *   explicitly; the signer's own are fallbacks, and the SDK fixes them at the client's first call anyway
 *   (`config.signingRegion ||= ...`);
 * - the signer keeps no state between signatures (its signing-key cache is module-wide, keyed by day,
 *   region, service and keys);
 * - the memo is per client and per auth scheme (name, signing service and region, which endpoint rules
 *   may vary per request), and starts over when `config.credentials` is replaced (a test does that), as
 *   the SDK reads them when it builds a signer. A failed build is not kept.
 *
 * The SDK's other per-call copies of the configuration (`{ ...config, ...context }` in the schema
 * serializer and deserializer, `{ ...config }` in the endpoint middleware, `@smithy/core`) are left: a
 * copy-free version of the first two (the context chained to the configuration, tried on this branch in
 * 62ab64a and reverted) was no clear gain in paired runs, and in separate processes slower
 * (docs/benchmarks.md, "The request signer built once").
 */

/** What of an SDK client `signOncePerClient` touches: the provider of its request signer. */
interface SigningClient {
  config: object;
}

/** The SDK's signer provider, as its SigV4 auth scheme calls it: with the endpoint's first auth scheme. */
type SignerProvider = (authScheme?: {
  name?: string;
  signingName?: string;
  signingRegion?: string;
}) => Promise<unknown>;

/** Configurations whose signer is already memoized (two document clients may share one low-level client). */
const memoized = new WeakSet<object>();

/**
 * Makes an SDK client build its SigV4 request signer once per auth scheme (and credentials provider)
 * instead of on every request. Returns the client.
 *
 * @example
 * ```ts
 * const sns = signOncePerClient(new SNSClient({ region: 'cn-north-1' }));
 * ```
 */
export function signOncePerClient<C extends SigningClient>(client: C): C {
  const config = client.config as { signer?: SignerProvider; credentials?: unknown };
  const build = config.signer;
  if (typeof build !== 'function' || memoized.has(config)) return client;
  memoized.add(config);
  const signers = new Map<string, Promise<unknown>>();
  let credentials = config.credentials;
  config.signer = (authScheme) => {
    if (config.credentials !== credentials) {
      signers.clear();
      credentials = config.credentials;
    }
    const key = `${authScheme?.name}|${authScheme?.signingName}|${authScheme?.signingRegion}`;
    let signer = signers.get(key);
    if (signer === undefined) {
      // Promise.resolve: a signer provider given in the client's settings may answer without a promise.
      signer = Promise.resolve(build(authScheme));
      signers.set(key, signer);
      signer.catch(() => {
        if (signers.get(key) === signer) signers.delete(key);
      });
    }
    return signer;
  };
  return client;
}

/** What of a low-level SDK client `resolveOncePerCommand` touches. */
interface LowLevelClient {
  config: { cacheMiddleware?: boolean };
  /** Typed loosely: each client's stack is generic over its own service's inputs and outputs. */
  middlewareStack: object;
}

/**
 * Makes a low-level SDK client (KMS, Lambda, ...) resolve its middleware once per command class, as the
 * SDK's `cacheMiddleware: true` does, and resolve it again after any change to its stack; and build its
 * request signer once ({@link signOncePerClient}).
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
  return signOncePerClient(client);
}
