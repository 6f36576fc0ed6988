/**
 * Reading a fetched answer no further than a bound: a hostile or broken endpoint (or anyone who can answer
 * the store's requests) may send gigabytes, and a body read whole before its size is checked is held in
 * memory whole. The package's own, as it imports nothing of the service.
 *
 * @packageDocumentation
 */

import { concatBytes } from './concat-bytes.js';

/** Why a body could not be had: larger than the bound, or the connection failed while it was read. */
export class BodyReadError extends Error {
  constructor(
    readonly code: 'too_large' | 'unreachable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BodyReadError';
  }
}

const utf8 = new TextDecoder('utf-8');

/**
 * The body of `response` as text (UTF-8, as `response.text()` reads it), read as a stream and given up as
 * soon as it passes `maxBytes`: a `Content-Length` above it is refused before a byte is read, and a body
 * without one (chunked) is cancelled at the chunk that crosses it, so no more than `maxBytes` plus one
 * chunk is ever held. A `fetch` whose responses carry no stream (some app runtimes) is read whole after
 * the `Content-Length` check, and refused past the bound all the same. Throws {@link BodyReadError}.
 *
 * @example
 * ```ts
 * const text = await readBoundedText(await fetch(url), 1024 * 1024);
 * ```
 */
export async function readBoundedText(response: Response, maxBytes: number): Promise<string> {
  const declared = response.headers.get('content-length')?.trim();
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyReadError('too_large', `${declared} bytes announced, more than ${maxBytes}`);
  }
  const body = response.body;
  if (!body) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw new BodyReadError('unreachable', `the answer broke off: ${String(error)}`, { cause: error });
    }
    if (bytes.length > maxBytes) throw new BodyReadError('too_large', `more than ${maxBytes} bytes`);
    return utf8.decode(bytes);
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw new BodyReadError('unreachable', `the answer broke off: ${String(error)}`, { cause: error });
    }
    if (chunk.done) break;
    length += chunk.value.length;
    if (length > maxBytes) {
      // Stops the transfer: the connection is closed, nothing more is read.
      await reader.cancel().catch(() => undefined);
      throw new BodyReadError('too_large', `more than ${maxBytes} bytes`);
    }
    chunks.push(chunk.value);
  }
  return utf8.decode(concatBytes(chunks, length));
}
