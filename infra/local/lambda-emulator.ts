import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { functionNames, type FunctionName } from '../../functions/routes.js';
import { invokeQualifier } from '../../functions/grants.js';
import { functionTarget } from './function-target.js';
import { inProcessTransport, type InProcessTransport } from './in-process-transport.js';
import { invocation } from './invocation.js';
import { BodyTooLarge, readBody } from './read-body.js';

/** Lambda's limit on a synchronous invocation's payload. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** A function's handler, whatever its event. */
export type LambdaHandler = (event: unknown) => Promise<unknown>;

/**
 * A fault the emulator plays for every call until cleared: Lambda refusing the call (`throttled`, a 429
 * `TooManyRequestsException`, as when the function's concurrency is exhausted) or the function failing
 * (`unhandled`, as a crash or a timeout: a 200 with `X-Amz-Function-Error: Unhandled`).
 */
export type LambdaFault = 'throttled' | 'unhandled';

export interface LambdaEmulator {
  /** Base URL for the client's `endpoint` (`AWS_ENDPOINT_URL_LAMBDA`). */
  endpoint: string;
  /** Reaches the emulator in process, without the loopback socket (`./in-process-transport.ts`). */
  transport: InProcessTransport;
  /** Invocations per function since the start or the last {@link resetStats}, refused ones included. */
  stats(): Record<string, number>;
  resetStats(): void;
  /** Plays `fault` for every call from now on; `undefined` clears it. */
  setFault(fault: LambdaFault | undefined): void;
  close(): Promise<void>;
}

class InvokeFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const payload = JSON.stringify(body ?? null);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  });
  res.end(payload);
}

/**
 * Lambda's `Invoke` API in this process (`POST /2015-03-31/functions/{name}/invocations`, REST-JSON, as
 * `InvokeCommand` sends it), so that a function's Lambda client reaches another function as in AWS: the
 * named function's handler (`load`) runs inside its own invocation, so that its container is built from
 * its own composition and guarded by its own grants (`./grant-guard.ts`), as its role would be. The
 * caller's `invokes` grant is checked on the caller's side, by its client's guard. Signatures are not
 * checked. `RequestResponse` only (the only type the service uses); its answer is the handler's return
 * value as JSON, or `X-Amz-Function-Error: Unhandled` with `{ errorType, errorMessage }` when it throws.
 *
 * @example
 * ```ts
 * const lambda = await startLambdaEmulator({ load: importFunction });
 * container.lambda.config.requestHandler = lambda.transport;
 * ```
 */
export async function startLambdaEmulator(options: {
  load: (name: FunctionName) => Promise<LambdaHandler>;
  /** 0 (default) picks a free port. */
  port?: number;
}): Promise<LambdaEmulator> {
  const handlers = new Map<FunctionName, Promise<LambdaHandler>>();
  let calls = new Map<string, number>();
  let fault: LambdaFault | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = INVOKE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !path) {
      throw new InvokeFault('UnrecognizedClientException', 'Only Invoke is emulated.', 404);
    }
    // A name or an ARN (`…:function:<name>[:<qualifier>]`), or the qualifier as `?Qualifier=`. Every
    // function has its live alias and `$LATEST` here (one code for both); no other version or alias.
    const target = decodeURIComponent(path[1]!);
    const found = functionTarget(target, url.searchParams.get('Qualifier') ?? undefined);
    const name = found.name as FunctionName;
    if (!functionNames.includes(name) || ![invokeQualifier, '$LATEST'].includes(found.qualifier)) {
      throw new InvokeFault('ResourceNotFoundException', `Function not found: ${target}`, 404);
    }
    const type = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
    if (type !== 'RequestResponse') {
      throw new InvokeFault(
        'InvalidParameterValueException',
        `Invocation type ${String(type)} is not emulated.`,
        400,
      );
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_PAYLOAD_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        throw new InvokeFault('RequestTooLargeException', 'Request must be smaller than 6291456 bytes.', 413);
      }
      throw error;
    }
    calls.set(name, (calls.get(name) ?? 0) + 1);
    if (fault === 'throttled') throw new InvokeFault('TooManyRequestsException', 'Rate Exceeded.', 429);
    let event: unknown;
    try {
      event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      throw new InvokeFault('InvalidRequestContentException', 'Could not parse request body into json.', 400);
    }
    const headers = { 'x-amz-executed-version': '$LATEST' };
    try {
      if (fault === 'unhandled') throw new Error('Task timed out (a fault played by the emulator)');
      const result = await invocation.run({ functionName: name }, async () => {
        let handler = handlers.get(name);
        if (!handler) {
          handler = options.load(name);
          handlers.set(name, handler);
        }
        return (await handler)(event);
      });
      send(res, 200, result, headers);
    } catch (error) {
      const { name: errorType, message: errorMessage } =
        error instanceof Error ? error : new Error(String(error));
      send(res, 200, { errorType, errorMessage }, { ...headers, 'x-amz-function-error': 'Unhandled' });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return;
      const known = error instanceof InvokeFault;
      const type = known ? error.type : 'ServiceException';
      send(
        res,
        known ? error.status : 500,
        { Type: known ? 'User' : 'Service', Message: (error as Error).message },
        {
          'x-amzn-errortype': type,
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    transport: inProcessTransport(server),
    stats: () => Object.fromEntries(calls),
    resetStats() {
      calls = new Map();
    },
    setFault(next) {
      fault = next;
    },
    async close() {
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      server.closeAllConnections();
      await closed;
    },
  };
}
