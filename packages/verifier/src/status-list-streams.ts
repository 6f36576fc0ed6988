/**
 * {@link Compression} with the web platform's Compression Streams (`'deflate'` is the ZLIB format the draft
 * requires), for verifiers in a browser; Node 18+ has the same globals. Browsers choose their own
 * compression level, so the service writes lists with `status-list-zlib.ts` instead.
 *
 * @packageDocumentation
 */
import { StatusListError, type Compression } from './status-list.js';
import { concatBytes } from './concat-bytes.js';

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/**
 * Inflates chunk by chunk and cancels the stream as soon as the output passes `maxOutputLength`, so a zip
 * bomb never materialises. Throws {@link StatusListError}.
 *
 * @example
 * ```ts
 * const bytes = await inflateWithStreams(compressed, 1 << 20);
 * ```
 */
export async function inflateWithStreams(
  compressed: Uint8Array,
  maxOutputLength: number,
): Promise<Uint8Array> {
  const reader = streamOf(compressed)
    .pipeThrough(new DecompressionStream('deflate') as unknown as TransformStream<Uint8Array, Uint8Array>)
    .getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > maxOutputLength) {
        await reader.cancel().catch(() => undefined);
        throw new StatusListError(
          'status_list_too_large',
          `The status list inflates beyond ${maxOutputLength} bytes`,
        );
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof StatusListError) throw error;
    throw new StatusListError('malformed_status_list', 'The status list is not ZLIB/DEFLATE data', {
      cause: error,
    });
  }
  return concatBytes(chunks, length);
}

/** Compresses to the ZLIB format with the platform's default level. */
export async function deflateWithStreams(bytes: Uint8Array): Promise<Uint8Array> {
  const reader = streamOf(bytes)
    .pipeThrough(new CompressionStream('deflate') as unknown as TransformStream<Uint8Array, Uint8Array>)
    .getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  return concatBytes(chunks, length);
}

/**
 * @example
 * ```ts
 * const list = await decodeStatusList(payload.status_list, streamCompression, { maxBytes: 1 << 20 });
 * ```
 */
export const streamCompression: Compression = { deflate: deflateWithStreams, inflate: inflateWithStreams };
