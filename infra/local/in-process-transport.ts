import type {
  HttpHandlerOptions,
  HttpRequest,
  HttpResponse,
  RequestHandler,
  RequestHandlerMetadata,
} from '@smithy/types';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { Readable } from 'node:stream';

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

/**
 * The answer a server's `request` listeners write: the part of `http.ServerResponse` they use (status,
 * headers, `write`, `end`, `finish`), kept in memory and handed to the SDK as the HTTP response.
 */
class LocalResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  readonly #headers = new Map<string, string>();
  readonly #chunks: Buffer[] = [];
  readonly #done: (response: HttpResponse) => void;

  constructor(done: (response: HttpResponse) => void) {
    super();
    this.#done = done;
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    if (this.headersSent) throw new Error(`Cannot set header ${name} after the headers are sent`);
    this.#headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.#headers.get(name.toLowerCase());
  }

  hasHeader(name: string): boolean {
    return this.#headers.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    this.#headers.delete(name.toLowerCase());
  }

  writeHead(
    statusCode: number,
    message?: string | Record<string, number | string | readonly string[]>,
    headers?: Record<string, number | string | readonly string[]>,
  ): this {
    this.statusCode = statusCode;
    if (typeof message === 'string') this.statusMessage = message;
    else headers = message;
    for (const [name, value] of Object.entries(headers ?? {})) this.setHeader(name, value);
    this.headersSent = true;
    return this;
  }

  write(
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | (() => void),
    callback?: () => void,
  ): boolean {
    this.#keep(chunk, typeof encoding === 'string' ? encoding : undefined);
    this.headersSent = true;
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) process.nextTick(done);
    return true;
  }

  end(
    chunk?: string | Uint8Array | (() => void),
    encoding?: BufferEncoding | (() => void),
    callback?: () => void,
  ): this {
    if (this.writableEnded) return this;
    if (typeof chunk === 'function') callback = chunk;
    else if (chunk !== undefined && chunk !== null)
      this.#keep(chunk, typeof encoding === 'string' ? encoding : undefined);
    if (typeof encoding === 'function') callback = encoding;
    this.headersSent = true;
    this.writableEnded = true;
    const body = Buffer.concat(this.#chunks);
    // As over a socket: the server's `finish` listeners (the stream tap) run before the client reads.
    process.nextTick(() => {
      this.emit('finish');
      callback?.();
      this.emit('close');
      this.#done({
        statusCode: this.statusCode,
        ...(this.statusMessage ? { reason: this.statusMessage } : {}),
        headers: Object.fromEntries(this.#headers),
        body,
      });
    });
    return this;
  }

  #keep(chunk: string | Uint8Array, encoding: BufferEncoding | undefined): void {
    this.#chunks.push(
      typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : Buffer.from(chunk),
    );
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
      const response = await new Promise<HttpResponse>((resolve, reject) => {
        const incoming = new LocalRequest(request.method, pathAndQuery(request), headers, body);
        try {
          server.emit('request', incoming, new LocalResponse(resolve));
        } catch (error) {
          reject(error as Error);
        }
      });
      return { response };
    },
  };
}
