// Plain JavaScript, with its types in ./stand-in-response.d.mts: the embedded DynamoDB's worker thread
// (./dynamo-worker.mjs) imports it without the TypeScript loader, and ./in-process-transport.ts too.
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import process from 'node:process';

/**
 * The answer a server's `request` listeners (dynalite, the KMS emulator) write when no socket is there:
 * the part of `http.ServerResponse` they use (status, headers, `write`, `end`, `finish`), kept in memory
 * and handed to `deliver` once ended.
 */
export class StandInResponse extends EventEmitter {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  writableEnded = false;
  /** @type {Map<string, string>} */
  #headers = new Map();
  /** @type {(string | Buffer)[]} */
  #chunks = [];
  #deliver;
  #text;

  /**
   * @param {(answer: { statusCode: number, statusMessage: string, headers: Record<string, string>, body: Buffer | string }) => void} deliver
   * @param {{ text?: boolean }} [options]
   */
  constructor(deliver, options = {}) {
    super();
    this.#deliver = deliver;
    this.#text = options.text === true;
  }

  setHeader(name, value) {
    if (this.headersSent) throw new Error(`Cannot set header ${name} after the headers are sent`);
    this.#headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
    return this;
  }

  getHeader(name) {
    return this.#headers.get(name.toLowerCase());
  }

  hasHeader(name) {
    return this.#headers.has(name.toLowerCase());
  }

  removeHeader(name) {
    this.#headers.delete(name.toLowerCase());
  }

  writeHead(statusCode, message, headers) {
    this.statusCode = statusCode;
    if (typeof message === 'string') this.statusMessage = message;
    else headers = message;
    for (const [name, value] of Object.entries(headers ?? {})) this.setHeader(name, value);
    this.headersSent = true;
    return this;
  }

  write(chunk, encoding, callback) {
    this.#keep(chunk, typeof encoding === 'string' ? encoding : undefined);
    this.headersSent = true;
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) process.nextTick(done);
    return true;
  }

  end(chunk, encoding, callback) {
    if (this.writableEnded) return this;
    if (typeof chunk === 'function') callback = chunk;
    else this.#keep(chunk, typeof encoding === 'string' ? encoding : undefined);
    if (typeof encoding === 'function') callback = encoding;
    this.headersSent = true;
    this.writableEnded = true;
    const body =
      this.#text && this.#chunks.every((c) => typeof c === 'string')
        ? this.#chunks.join('')
        : Buffer.concat(this.#chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
    // As over a socket: the server's `finish` listeners (the stream tap) run before the client reads.
    process.nextTick(() => {
      this.emit('finish');
      callback?.();
      this.emit('close');
      this.#deliver({
        statusCode: this.statusCode,
        statusMessage: this.statusMessage,
        headers: Object.fromEntries(this.#headers),
        body,
      });
    });
    return this;
  }

  /** Strings stay strings where they are UTF-8 (the `text` body); bytes are copied, as a socket would have sent them. */
  #keep(chunk, encoding) {
    if (chunk === undefined || chunk === null) return;
    if (typeof chunk !== 'string') this.#chunks.push(Buffer.from(chunk));
    else if (encoding === undefined || /^utf-?8$/i.test(encoding)) this.#chunks.push(chunk);
    else this.#chunks.push(Buffer.from(chunk, encoding));
  }
}
