/**
 * The IETF Token Status List (draft-ietf-oauth-status-list, "TSL"): the byte array, its compressed JSON form
 * `{ bits, lst }`, and reading and writing single statuses. Pure and portable (Node and browsers): the
 * compression itself is a {@link Compression} given by the caller, see `status-list-zlib.ts` (Node) and
 * `status-list-streams.ts` (Compression Streams, browsers and Node).
 *
 * Layout (draft §4.1): with `bits` per status, entry `i` sits in byte `floor(i * bits / 8)` at bit offset
 * `(i * bits) % 8`, counted from the least significant bit. With our 2 bits: byte `floor(i / 4)`, bits
 * `(i % 4) * 2`.
 *
 * @packageDocumentation
 */
import { base64urlDecode, base64urlEncode } from './base64url.js';
import { isObject } from './guard.js';

/** The Status Types of draft §7.1 that we use. 0x03 is application specific and unused here. */
export const StatusType = { VALID: 0, INVALID: 1, SUSPENDED: 2 } as const;
/** A status we write: 0 valid, 1 invalid (our "revoked"), 2 suspended. */
export type StatusValue = (typeof StatusType)[keyof typeof StatusType];

/**
 * The entry that records a licence status: revoked is INVALID, suspended SUSPENDED, valid VALID. Expiry
 * has no entry: a verifier reads it from the credential's `exp`, which the draft makes take precedence.
 *
 * @example
 * ```ts
 * await statusLists.setStatus(licence.statusList.listId, licence.statusList.idx, statusValueFor('revoked'));
 * ```
 */
export function statusValueFor(status: 'valid' | 'suspended' | 'revoked'): StatusValue {
  return status === 'revoked'
    ? StatusType.INVALID
    : status === 'suspended'
      ? StatusType.SUSPENDED
      : StatusType.VALID;
}

/** Bits per status the draft allows. */
export type StatusBits = 1 | 2 | 4 | 8;
/** Our lists use 2 bits per entry: valid, revoked and suspended need three values. */
export const STATUS_BITS = 2 satisfies StatusBits;

/**
 * Largest decompressed list a decoder accepts unless told otherwise: 4 MiB, i.e. 16,777,216 statuses of
 * 2 bits. Far above our lists (32 KiB) and small enough that a hostile `lst` cannot exhaust a verifier.
 */
export const DEFAULT_MAX_STATUS_LIST_BYTES = 4 * 1024 * 1024;

/** The `status_list` claim of a Status List Token (draft §4.2). */
export interface StatusList {
  bits: StatusBits;
  /** base64url (no padding) of the ZLIB-wrapped DEFLATE of the byte array. */
  lst: string;
}

/** A status list decoded for reading: {@link readStatus}`(bytes, idx, bits)`. */
export interface DecodedStatusList {
  bits: StatusBits;
  bytes: Uint8Array;
}

/**
 * DEFLATE with the ZLIB data format (RFC 1950/1951), as the draft requires. `inflate` must refuse, by
 * throwing, any output larger than `maxOutputLength` without producing it first.
 */
export interface Compression {
  deflate(bytes: Uint8Array): Promise<Uint8Array>;
  inflate(compressed: Uint8Array, maxOutputLength: number): Promise<Uint8Array>;
}

export type StatusListErrorCode = 'malformed_status_list' | 'status_list_too_large' | 'index_out_of_range';

/**
 * Why a status list could not be read. Decoding throws nothing else, whatever the input; a verifier turns
 * any of these into "no statement about the status can be made" (draft §8.3).
 */
export class StatusListError extends Error {
  constructor(
    readonly code: StatusListErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StatusListError';
  }
}

const isBits = (value: unknown): value is StatusBits =>
  value === 1 || value === 2 || value === 4 || value === 8;

/** The `status_list` claim, with any further members (`aggregation_uri`) allowed and ignored. */
function readStatusListClaim(value: unknown): StatusList | undefined {
  if (!isObject(value)) return undefined;
  const { bits, lst } = value;
  return isBits(bits) && typeof lst === 'string' && /^[A-Za-z0-9_-]*$/.test(lst) ? { bits, lst } : undefined;
}

function assertBits(bits: number): asserts bits is StatusBits {
  if (!isBits(bits)) {
    throw new RangeError(`bits must be 1, 2, 4 or 8, not ${bits}`);
  }
}

/**
 * The number of bytes a list of `size` statuses takes uncompressed.
 *
 * @example
 * ```ts
 * statusListByteLength(131_072); // 32_768
 * ```
 */
export function statusListByteLength(size: number, bits: StatusBits = STATUS_BITS): number {
  assertBits(bits);
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`size must be a count, not ${size}`);
  return Math.ceil((size * bits) / 8);
}

/**
 * A new all-VALID byte array for `size` statuses.
 *
 * @example
 * ```ts
 * const bytes = createStatusBytes(131_072);
 * writeStatus(bytes, 7, StatusType.INVALID);
 * ```
 */
export function createStatusBytes(size: number, bits: StatusBits = STATUS_BITS): Uint8Array {
  return new Uint8Array(statusListByteLength(size, bits));
}

/** How many statuses `bytes` holds. */
export function statusCapacity(bytes: Uint8Array, bits: StatusBits = STATUS_BITS): number {
  assertBits(bits);
  return (bytes.length * 8) / bits;
}

function position(bytes: Uint8Array, idx: number, bits: StatusBits) {
  assertBits(bits);
  if (!Number.isSafeInteger(idx) || idx < 0 || idx >= statusCapacity(bytes, bits)) {
    throw new StatusListError(
      'index_out_of_range',
      `Index ${idx} is outside the status list (${statusCapacity(bytes, bits)} entries)`,
    );
  }
  const bit = idx * bits;
  return { byte: Math.floor(bit / 8), shift: bit % 8, mask: (1 << bits) - 1 };
}

/**
 * The status at `idx` (0 to 2^bits - 1). Throws {@link StatusListError} `index_out_of_range` outside the list.
 *
 * @example
 * ```ts
 * readStatus(Uint8Array.of(0xc9, 0x44, 0xf9), 1); // 2 (SUSPENDED), the draft's 2-bit example
 * ```
 */
export function readStatus(bytes: Uint8Array, idx: number, bits: StatusBits = STATUS_BITS): number {
  const { byte, shift, mask } = position(bytes, idx, bits);
  return ((bytes[byte] ?? 0) >> shift) & mask;
}

/**
 * Sets the status at `idx` in place, leaving every other entry as it was.
 *
 * @example
 * ```ts
 * writeStatus(bytes, 42, StatusType.SUSPENDED);
 * ```
 */
export function writeStatus(
  bytes: Uint8Array,
  idx: number,
  value: number,
  bits: StatusBits = STATUS_BITS,
): void {
  const { byte, shift, mask } = position(bytes, idx, bits);
  if (!Number.isInteger(value) || value < 0 || value > mask) {
    throw new RangeError(`A ${bits}-bit status is 0 to ${mask}, not ${value}`);
  }
  bytes[byte] = ((bytes[byte] ?? 0) & ~(mask << shift)) | (value << shift);
}

/**
 * The `status_list` claim for a byte array: compressed as the draft requires, then base64url.
 *
 * @example
 * ```ts
 * await encodeStatusList(Uint8Array.of(0xc9, 0x44, 0xf9), zlibCompression); // { bits: 2, lst: 'eNo76fITAAPfAgc' }
 * ```
 */
export async function encodeStatusList(
  bytes: Uint8Array,
  compression: Compression,
  bits: StatusBits = STATUS_BITS,
): Promise<StatusList> {
  assertBits(bits);
  return statusListFromCompressed(await compression.deflate(bytes), bits);
}

/** The `status_list` claim for bytes that are already compressed (as our store keeps them). */
export function statusListFromCompressed(compressed: Uint8Array, bits: StatusBits = STATUS_BITS): StatusList {
  assertBits(bits);
  return { bits, lst: base64urlEncode(compressed) };
}

/**
 * Reads a `status_list` claim as a verifier must: the shape is checked, the compressed size bounded before
 * base64url decoding, and decompression stopped at `maxBytes` (a zip bomb of a few KB would otherwise
 * inflate to gigabytes). Throws only {@link StatusListError}.
 *
 * @example
 * ```ts
 * const list = await decodeStatusList(payload.status_list, zlibCompression, { maxBytes: 1 << 20 });
 * const status = readStatus(list.bytes, credential.status.status_list.idx, list.bits);
 * ```
 */
export async function decodeStatusList(
  value: unknown,
  compression: Compression,
  options: { maxBytes?: number } = {},
): Promise<DecodedStatusList> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_STATUS_LIST_BYTES;
  const claim = readStatusListClaim(value);
  if (!claim) {
    throw new StatusListError(
      'malformed_status_list',
      'status_list must be { bits: 1 | 2 | 4 | 8, lst: base64url }',
    );
  }
  const { bits, lst } = claim;
  // DEFLATE never grows data by more than 5 bytes per 16 KiB stored block plus the 6-byte ZLIB frame, so
  // anything longer than this cannot inflate within the bound: refuse before decoding it at all.
  const maxCompressed = maxBytes + Math.ceil(maxBytes / 16_384) * 5 + 64;
  if (lst.length > Math.ceil((maxCompressed * 4) / 3)) {
    throw new StatusListError('status_list_too_large', `lst is longer than a ${maxBytes}-byte list can be`);
  }
  let compressed: Uint8Array;
  try {
    compressed = base64urlDecode(lst);
  } catch (error) {
    throw new StatusListError('malformed_status_list', 'lst is not base64url', { cause: error });
  }
  let bytes: Uint8Array;
  try {
    bytes = await compression.inflate(compressed, maxBytes);
  } catch (error) {
    if (error instanceof StatusListError) throw error;
    throw new StatusListError('malformed_status_list', 'lst is not ZLIB/DEFLATE data', { cause: error });
  }
  return { bits, bytes };
}
