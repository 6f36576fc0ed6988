import { constants, deflateSync, inflateSync } from 'node:zlib';
import { StatusListError, type Compression } from './status-list.js';

/**
 * ZLIB-wrapped DEFLATE at the highest level, as the draft recommends: status lists are written rarely and
 * fetched often, so the extra compression time is paid once for many downloads.
 *
 * @example
 * ```ts
 * const stored = deflateStatusBytes(bytes);
 * ```
 */
export function deflateStatusBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(deflateSync(bytes, { level: constants.Z_BEST_COMPRESSION }));
}

/**
 * Inflates ZLIB data, refusing output beyond `maxOutputLength`: zlib stops as soon as the bound is passed,
 * so a zip bomb costs at most that much memory. Throws {@link StatusListError} (`status_list_too_large` or
 * `malformed_status_list`).
 *
 * @example
 * ```ts
 * const bytes = inflateStatusBytes(item.bitmap, LIST_BYTES);
 * ```
 */
export function inflateStatusBytes(compressed: Uint8Array, maxOutputLength: number): Uint8Array {
  try {
    return new Uint8Array(inflateSync(compressed, { maxOutputLength }));
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new StatusListError(
        'status_list_too_large',
        `The status list inflates beyond ${maxOutputLength} bytes`,
        { cause: error },
      );
    }
    throw new StatusListError('malformed_status_list', 'The status list is not ZLIB/DEFLATE data', {
      cause: error,
    });
  }
}

/**
 * {@link Compression} with `node:zlib`: what the service itself uses.
 *
 * @example
 * ```ts
 * const list = await decodeStatusList(payload.status_list, zlibCompression);
 * ```
 */
export const zlibCompression: Compression = {
  deflate: async (bytes) => deflateStatusBytes(bytes),
  inflate: async (compressed, maxOutputLength) => inflateStatusBytes(compressed, maxOutputLength),
};
