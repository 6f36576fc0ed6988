import { LambdaClient } from '@aws-sdk/client-lambda';
import { resolveOncePerCommand } from '../resolve-once.js';
import { awsClientSettings } from '../aws-timeouts.js';

/** How to reach Lambda: AWS itself by region, or the local runtime's emulator through `endpoint`. */
export interface LambdaClientOptions {
  region: string;
  /** For example the local runtime's emulator; omitted in AWS (the regional endpoint). */
  endpoint?: string;
  /** Per attempt: the caller is a function behind a route, with seconds to answer. Default 3,000 ms. */
  requestTimeoutMs?: number;
}

/**
 * Builds the one Lambda client a container should share, for synchronous invocations of the service's
 * own functions: two attempts (a throttled or failing Lambda service is tried once more; the caller's own
 * time is short), a 1 s connection timeout and a 3 s request timeout unless told.
 *
 * @example
 * ```ts
 * const lambda = createLambdaClient({ region: 'cn-north-1' });
 * const answer = await lambda.send(new InvokeCommand({ FunctionName: 'elicence-list-signer', Payload }));
 * ```
 */
export function createLambdaClient(options: LambdaClientOptions): LambdaClient {
  const client = new LambdaClient(
    awsClientSettings({
      region: options.region,
      endpoint: options.endpoint,
      maxAttempts: 2,
      requestTimeoutMs: options.requestTimeoutMs ?? 3_000,
    }),
  );
  // As for KMS and DynamoDB (kms/client.ts): the SDK's no-op logger's middleware walks every input and
  // output through sensitive-data filters for nothing.
  client.middlewareStack.remove('loggerMiddleware');
  return resolveOncePerCommand(client);
}
