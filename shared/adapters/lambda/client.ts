import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  HttpHandlerOptions,
  HttpRequest as WireRequest,
  HttpResponse,
  RequestHandler,
} from '@smithy/types';

/*
 * `@aws-sdk/client-lambda` is not among the installed packages, so this is Lambda's `Invoke` on the SDK's
 * own transport pieces (the SigV4 signer, the Node HTTP handler, the default credential chain): the same
 * REST-JSON request `InvokeCommand` sends (`POST /2015-03-31/functions/{name}/invocations`,
 * `X-Amz-Invocation-Type`) and the same answer (`X-Amz-Function-Error`, `{ Type, Message }` errors).
 * Once the package is added, `LambdaInvokeClient.invoke` becomes one `InvokeCommand` and nothing else
 * changes: the port (`ListSigner`) and its adapter (`./list-signer.ts`) read only {@link InvokeResult}.
 */

export interface LambdaClientOptions {
  region: string;
  /** For example the local runtime's emulator; omitted in AWS (the regional endpoint). */
  endpoint?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Per attempt: the caller is a function behind a route, with seconds to answer. Default 3,000 ms. */
  requestTimeoutMs?: number;
}

/** What one `RequestResponse` invocation answered. */
export interface InvokeResult {
  /** Lambda's own status: 200 when the function ran (even if it failed: see `functionError`). */
  statusCode: number;
  /** `Unhandled` (the function threw, timed out or ran out of memory); absent when it returned. */
  functionError?: string;
  /** The function's return value (or Lambda's error document), as bytes. */
  payload: Uint8Array;
}

/** Lambda refused the call itself (not found, throttled, access denied): its `x-amzn-ErrorType`. */
export class LambdaServiceError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

/** Checks a call before it is sent: the local grant guard (`infra/local/grant-guard.ts`) refuses here. */
export type InvokeCheck = (functionName: string) => void;

/**
 * Lambda's regional endpoint: `.amazonaws.com.cn` in the China partition, where this service runs.
 *
 * @example
 * ```ts
 * lambdaEndpoint('cn-north-1'); // 'https://lambda.cn-north-1.amazonaws.com.cn'
 * ```
 */
export function lambdaEndpoint(region: string): string {
  return `https://lambda.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** A throttled or failing Lambda service (not the function) is tried once more after this. */
const RETRY_DELAY_MS = 100;

/**
 * Invokes Lambda functions synchronously (`RequestResponse`), SigV4-signed with the function role's
 * credentials. A 429 or 5xx from Lambda itself is tried once more; a timeout is not (the caller's own
 * time is short). `config.requestHandler` is the SDK's request handler, replaceable as any SDK client's
 * (the local runtime hands the request to its emulator in process).
 *
 * @example
 * ```ts
 * const lambda = new LambdaInvokeClient({ region: 'cn-north-1' });
 * const { payload } = await lambda.invoke('list-signer', new TextEncoder().encode('{"kind":"trust-list"}'));
 * ```
 */
export class LambdaInvokeClient {
  readonly config: { requestHandler: RequestHandler<WireRequest, HttpResponse, HttpHandlerOptions> };
  /** Run before each call, in order; one that throws stops it. */
  readonly checks: InvokeCheck[] = [];
  private readonly signer: SignatureV4;
  private readonly endpoint: URL;

  constructor(options: LambdaClientOptions) {
    this.endpoint = new URL(options.endpoint ?? lambdaEndpoint(options.region));
    this.signer = new SignatureV4({
      service: 'lambda',
      region: options.region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Sha256,
    });
    const node = new NodeHttpHandler({
      connectionTimeout: 1_000,
      requestTimeout: options.requestTimeoutMs ?? 3_000,
    });
    this.config = {
      // What `invoke` hands it is the signer's copy of an `HttpRequest` (the class the Node handler types).
      requestHandler: node as unknown as RequestHandler<WireRequest, HttpResponse, HttpHandlerOptions>,
    };
  }

  /** Invokes `functionName` (name or ARN) with `payload`, waiting for its answer. */
  async invoke(functionName: string, payload: Uint8Array): Promise<InvokeResult> {
    for (const check of this.checks) check(functionName);
    for (let attempt = 1; ; attempt += 1) {
      const request = await this.signer.sign(
        new HttpRequest({
          method: 'POST',
          protocol: this.endpoint.protocol,
          hostname: this.endpoint.hostname,
          ...(this.endpoint.port && { port: Number(this.endpoint.port) }),
          path: `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`,
          headers: {
            host: this.endpoint.host,
            'content-type': 'application/json',
            'content-length': String(payload.byteLength),
            'x-amz-invocation-type': 'RequestResponse',
            'x-amz-log-type': 'None',
          },
          body: payload,
        }),
      );
      const { response } = await this.config.requestHandler.handle(request);
      const body = await bytesOf(response.body);
      const header = (name: string) => response.headers[name] ?? response.headers[name.toLowerCase()];
      if (response.statusCode >= 200 && response.statusCode < 300) {
        const functionError = header('X-Amz-Function-Error');
        return { statusCode: response.statusCode, ...(functionError && { functionError }), payload: body };
      }
      if (attempt < 2 && (response.statusCode === 429 || response.statusCode >= 500)) {
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
        continue;
      }
      throw serviceError(response.statusCode, header('x-amzn-ErrorType'), body);
    }
  }

  /** Closes its connections. */
  destroy(): void {
    this.config.requestHandler.destroy?.();
  }
}

function serviceError(
  statusCode: number,
  errorType: string | undefined,
  body: Uint8Array,
): LambdaServiceError {
  let document: { Type?: unknown; Message?: unknown; message?: unknown } = {};
  try {
    document = JSON.parse(Buffer.from(body).toString('utf8')) as typeof document;
  } catch {
    // Not JSON: the status says enough.
  }
  const name = (errorType ?? '').split(':')[0] || `Lambda${statusCode}`;
  const message = document.Message ?? document.message;
  return new LambdaServiceError(
    name,
    typeof message === 'string' ? message : `HTTP ${statusCode}`,
    statusCode,
  );
}

/** The bytes of a response body: a stream (the Node handler), or bytes or text (an in-process one). */
async function bytesOf(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
