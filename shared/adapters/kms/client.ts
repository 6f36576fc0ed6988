import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { resolveOncePerCommand } from '../resolve-once.js';
import { awsClientSettings, requestTimeoutFor } from '../aws-timeouts.js';

/** How to reach KMS: AWS itself by region, or an emulator / LocalStack through `endpoint`. */
export interface KmsClientOptions {
  region: string;
  /** For example the local emulator's `http://127.0.0.1:4599`; omitted in AWS. */
  endpoint?: string;
  /** Attempts per call, the first included (default 5); throttling is retried with backoff. */
  maxAttempts?: number;
  /** Static credentials (locally); omitted, the SDK's default provider chain applies (the Lambda role). */
  credentials?: KMSClientConfig['credentials'];
  /** Per attempt (default {@link requestTimeoutFor}): a KMS that does not answer in it is retried. */
  requestTimeoutMs?: number;
}

/** Default attempts: KMS throttles per account and region, and bursts of signatures should ride it out. */
export const DEFAULT_KMS_MAX_ATTEMPTS = 5;

/**
 * Builds the one KMS client a container should share: the SDK's standard retry strategy (exponential
 * backoff with jitter, a longer base delay for `ThrottlingException`), `maxAttempts` 5 unless told.
 *
 * @example
 * ```ts
 * const kms = createKmsClient({ region: 'cn-north-1' });
 * const signer = new KmsSigner(kms, 'alias/platform-signing');
 * ```
 */
export function createKmsClient(options: KmsClientOptions): KMSClient {
  const client = new KMSClient({
    ...awsClientSettings({
      region: options.region,
      endpoint: options.endpoint,
      maxAttempts: options.maxAttempts ?? DEFAULT_KMS_MAX_ATTEMPTS,
      requestTimeoutMs: options.requestTimeoutMs ?? requestTimeoutFor(options.endpoint),
    }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  // The SDK's logger middleware walks every input and output through sensitive-data filters for the
  // client's logger, the SDK's no-op one (none is configured): removed, as for DynamoDB (dynamo/client.ts).
  client.middlewareStack.remove('loggerMiddleware');
  // Each command class's middleware chain resolved once, not on every signature (../resolve-once.ts).
  return resolveOncePerCommand(client);
}
