/**
 * The request handler settings of every AWS client the functions build: a hung dependency fails the call
 * in about a second, so the SDK retries it or the function answers 503 `temporarily_unavailable` with
 * `Retry-After`, well inside its own timeout, rather than waiting until Lambda kills it (a 504 with
 * nothing logged). `throwOnRequestTimeout` matters: without it the SDK's handler only logs a warning when
 * `requestTimeout` passes and keeps waiting (operator review M4).
 *
 * @example
 * ```ts
 * const kms = new KMSClient({ region: 'cn-north-1', requestHandler: awsRequestTimeouts(1_000) });
 * ```
 */
export function awsRequestTimeouts(requestTimeoutMs: number): {
  connectionTimeout: number;
  requestTimeout: number;
  throwOnRequestTimeout: true;
} {
  return { connectionTimeout: 1_000, requestTimeout: requestTimeoutMs, throwOnRequestTimeout: true };
}

/** Where and how an AWS client of the functions calls its service; see {@link awsClientSettings}. */
export interface AwsClientOptions {
  region: string;
  /** An emulator or LocalStack; omitted in AWS (the regional endpoint). */
  endpoint?: string | undefined;
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** Per attempt, passed to {@link awsRequestTimeouts}. */
  requestTimeoutMs: number;
}

/**
 * The settings the AWS clients the adapters build share: `maxAttempts` by the SDK's standard retry
 * strategy (exponential backoff with jitter; pinned so that `AWS_RETRY_MODE=adaptive` cannot make a
 * function wait on its client-side rate limiter), {@link awsRequestTimeouts} per attempt, and `endpoint`
 * only when one is given.
 *
 * @example
 * ```ts
 * const sns = new SNSClient(awsClientSettings({ region: 'cn-north-1', maxAttempts: 2, requestTimeoutMs: 3_000 }));
 * ```
 */
export function awsClientSettings(options: AwsClientOptions) {
  return {
    region: options.region,
    maxAttempts: options.maxAttempts,
    retryMode: 'standard',
    requestHandler: awsRequestTimeouts(options.requestTimeoutMs),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  };
}

/**
 * Per attempt, for DynamoDB and KMS: in AWS both answer in milliseconds (a 1 MB query page in a few
 * hundred), so a second is a hang; with DynamoDB's 3 attempts and KMS's 5 and the SDK's backoff between
 * them, a dependency that never answers fails a call in under 4 s (DynamoDB) or 7 s (KMS). At a local
 * endpoint (dynalite, the KMS emulator, LocalStack) the service shares the machine's cores with whatever
 * else runs there, a test suite included, and an answer can take seconds: 30 s.
 *
 * @example
 * ```ts
 * requestTimeoutFor(undefined); // 1_000, AWS
 * requestTimeoutFor('http://127.0.0.1:8000'); // 30_000
 * ```
 */
export function requestTimeoutFor(endpoint: string | undefined): number {
  return endpoint === undefined ? 1_000 : 30_000;
}
