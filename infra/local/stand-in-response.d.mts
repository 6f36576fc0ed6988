import { EventEmitter } from 'node:events';

type HeaderValue = number | string | readonly string[];

/** What a {@link StandInResponse} hands on once ended. */
export interface StandInAnswer {
  statusCode: number;
  /** `''` unless the listener set one. */
  statusMessage: string;
  /** Lower-cased names; several values joined with `, `. */
  headers: Record<string, string>;
  /** The chunks written, concatenated; with `text`, one string when every chunk was a (UTF-8) string. */
  body: Buffer | string;
}

export interface StandInResponseOptions {
  /**
   * Deliver the body as a string when every chunk was one (dynalite answers with one JSON string): the
   * worker thread posts it, and a string is cloned cheaply where a Buffer would be with its whole pool.
   */
  text?: boolean;
}

/**
 * The answer a server's `request` listeners (dynalite, the KMS emulator) write when no socket is there:
 * the part of `http.ServerResponse` they use (status, headers, `write`, `end`), kept in memory. `end`
 * emits `finish` (the stream tap listens), runs its callback and emits `close` on the next tick, then
 * calls `deliver`: as over a socket, `finish` listeners run before the client reads the answer.
 *
 * Used by the in-process transport (./in-process-transport.ts) and the embedded DynamoDB's worker
 * thread (./dynamo-worker.mjs).
 *
 * @example
 * ```ts
 * const answer = await new Promise<StandInAnswer>((resolve) =>
 *   server.emit('request', request, new StandInResponse(resolve)),
 * );
 * ```
 */
export class StandInResponse extends EventEmitter {
  constructor(deliver: (answer: StandInAnswer) => void, options?: StandInResponseOptions);
  statusCode: number;
  statusMessage: string;
  headersSent: boolean;
  writableEnded: boolean;
  /** Throws once the headers are sent, as `http.ServerResponse` does. */
  setHeader(name: string, value: HeaderValue): this;
  getHeader(name: string): string | undefined;
  hasHeader(name: string): boolean;
  removeHeader(name: string): void;
  writeHead(
    statusCode: number,
    message?: string | Record<string, HeaderValue>,
    headers?: Record<string, HeaderValue>,
  ): this;
  write(chunk: string | Uint8Array, encoding?: BufferEncoding | (() => void), callback?: () => void): boolean;
  end(
    chunk?: string | Uint8Array | (() => void),
    encoding?: BufferEncoding | (() => void),
    callback?: () => void,
  ): this;
}
