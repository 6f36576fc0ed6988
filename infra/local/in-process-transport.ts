import type {
  HttpHandlerOptions,
  HttpRequest,
  HttpResponse,
  RequestHandler,
  RequestHandlerMetadata,
} from '@smithy/types';
import type { Server } from 'node:http';
import { Readable } from 'node:stream';
import { StandInResponse, type StandInAnswer } from './stand-in-response.mjs';

/**
 * The request a server's `request` listeners see: a readable body with the method, URL and lower-cased
 * headers of `http.IncomingMessage`, which is all the embedded DynamoDB and the KMS emulator read.
 */
class LocalRequest extends Readable {
  readonly httpVersion = '1.1';
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: Record<string, string>,
    body: Buffer,
  ) {
    super({ read() {} });
    if (body.length > 0) this.push(body);
    this.push(null);
  }
}

/** The bytes of an SDK request's body (a string, bytes or a stream). */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof Readable) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  throw new TypeError('in-process transport: unsupported request body');
}

/** The request's path and query string, as the server's `request.url` has them. */
export function pathAndQuery(request: HttpRequest): string {
  const query = Object.entries(request.query ?? {}).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((v: string | null) =>
      v === null ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(v)}`,
    ),
  );
  return `${request.path || '/'}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

/** An SDK request handler (`requestHandler` of a client's configuration). */
export type InProcessTransport = RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions>;

/**
 * An SDK request handler that hands each signed request to `server`'s `request` listeners in this
 * process instead of sending it over a loopback socket: the local runtime's own clients reach its
 * embedded DynamoDB and KMS emulator this way (`npm run bench`, issue 16: the loopback HTTP of seven
 * calls per single sign-on was a quarter of the service's CPU). Nothing else changes: the SDK still
 * builds, serialises and signs the request (and retries it), and the emulator still reads the same
 * method, path, headers and body bytes and answers in its wire protocol, which the SDK parses as it
 * would a socket's. The server keeps listening on its port for anything else (the AWS CLI, tests' own
 * clients).
 *
 * A listener that throws fails the call, where over a socket it would have crashed the server.
 *
 * @example
 * ```ts
 * const dynamo = await startLocalDynamo({ dataDir: '.data' });
 * const client = new DynamoDBClient({ endpoint: dynamo.endpoint, requestHandler: inProcessTransport(server) });
 * ```
 */
export function inProcessTransport(server: Server): InProcessTransport {
  const metadata: RequestHandlerMetadata = { handlerProtocol: 'http/1.1' };
  return {
    metadata,
    async handle(request, options = {}) {
      const { abortSignal } = options;
      if (abortSignal?.aborted) throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
      const body = await bodyBytes(request.body);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        const key = name.toLowerCase();
        headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
      }
      const answer = await new Promise<StandInAnswer>((resolve, reject) => {
        const incoming = new LocalRequest(request.method, pathAndQuery(request), headers, body);
        try {
          server.emit('request', incoming, new StandInResponse(resolve));
        } catch (error) {
          reject(error as Error);
        }
      });
      const response: HttpResponse = {
        statusCode: answer.statusCode,
        ...(answer.statusMessage ? { reason: answer.statusMessage } : {}),
        headers: answer.headers,
        body: answer.body,
      };
      return { response };
    },
  };
}
