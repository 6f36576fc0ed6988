/**
 * A strict, deterministic subset of CBOR (RFC 8949), just what COSE and CWT need here. Written for this
 * project rather than taken from a general library (cbor-x, cborg) because a verifier reads hostile
 * bytes: a small decoder that knows only the few forms we write is easier to bound and to review than a
 * general one that supports extensions, indefinite lengths, big numbers and tags we never use.
 *
 * The subset:
 * - unsigned and negative integers within ±(2^53 − 1), always in their shortest form;
 * - byte strings, UTF-8 text strings (checked), arrays, maps (integer or text keys, no duplicates);
 * - `false`, `true`, `null`; non-integral finite numbers as float64 (integral ones must be integers);
 * - tags, as {@link CborTag}, for the caller to accept or refuse.
 *
 * Encoding is deterministic (RFC 8949 §4.2.1): shortest heads, definite lengths, map keys sorted by their
 * encoded bytes. Decoding refuses anything else (indefinite lengths, non-shortest heads, unsorted or
 * duplicate keys, trailing bytes, undefined, simple values, half and single floats), so each value has
 * exactly one encoding and a changed byte cannot leave the value unchanged. Nesting is bounded
 * ({@link maxCborDepth}) and no length is trusted beyond the bytes actually present.
 *
 * @packageDocumentation
 */
import { FormatError } from './errors.js';

/** A tagged item (major type 6). */
export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

export type CborKey = number | string;
export type CborValue =
  number | string | boolean | null | Uint8Array | CborValue[] | Map<CborKey, CborValue> | CborTag;

/** What {@link encodeCbor} accepts: CBOR values, plus plain objects (text keys) for JSON-like data. */
export type CborInput =
  CborValue | CborInput[] | Map<CborKey, CborInput> | { readonly [key: string]: CborInput | undefined };

/** Deepest nesting the decoder follows: COSE_Sign1 → claims → fields → one more level is 4. */
export const maxCborDepth = 16;

const invalid = (message: string) => new FormatError('invalid_cbor', message);

class Writer {
  private buffer = new Uint8Array(256);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buffer[this.length++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buffer.set(b, this.length);
    this.length += b.length;
  }

  head(major: number, n: number): void {
    const m = major << 5;
    if (n < 24) this.byte(m | n);
    else if (n < 0x100) {
      this.byte(m | 24);
      this.byte(n);
    } else if (n < 0x10000) {
      this.byte(m | 25);
      this.byte(n >> 8);
      this.byte(n & 0xff);
    } else if (n < 0x100000000) {
      this.byte(m | 26);
      this.uint32(n);
    } else {
      this.byte(m | 27);
      this.uint32(Math.floor(n / 0x100000000));
      this.uint32(n % 0x100000000);
    }
  }

  private uint32(n: number): void {
    this.byte((n >>> 24) & 0xff);
    this.byte((n >>> 16) & 0xff);
    this.byte((n >>> 8) & 0xff);
    this.byte(n & 0xff);
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

const textEncoder = new TextEncoder();

function write(w: Writer, value: CborInput | undefined, depth: number): void {
  if (depth > maxCborDepth) throw new RangeError('CBOR nesting too deep');
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) {
      if (value >= 0) w.head(0, value);
      else w.head(1, -1 - value);
    } else if (Number.isFinite(value) && !Number.isInteger(value)) {
      const f = new Uint8Array(9);
      f[0] = 0xfb;
      new DataView(f.buffer).setFloat64(1, value);
      w.bytes(f);
    } else {
      throw new RangeError(`CBOR subset: ${value} is neither a safe integer nor a finite fraction`);
    }
  } else if (typeof value === 'string') {
    const bytes = textEncoder.encode(value);
    w.head(3, bytes.length);
    w.bytes(bytes);
  } else if (value instanceof Uint8Array) {
    w.head(2, value.length);
    w.bytes(value);
  } else if (value === false) w.byte(0xf4);
  else if (value === true) w.byte(0xf5);
  else if (value === null) w.byte(0xf6);
  else if (Array.isArray(value)) {
    w.head(4, value.length);
    for (const item of value) write(w, item, depth + 1);
  } else if (value instanceof CborTag) {
    w.head(6, value.tag);
    write(w, value.value, depth + 1);
  } else if (value instanceof Map || typeof value === 'object') {
    const entries: Array<[CborKey, CborInput | undefined]> =
      value instanceof Map ? [...value.entries()] : Object.entries(value);
    const encoded = entries
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => {
        if (typeof k === 'number' && !Number.isSafeInteger(k)) throw new RangeError('CBOR map key');
        return { key: encodeCbor(k), value: v };
      })
      .sort((a, b) => compareBytes(a.key, b.key));
    w.head(5, encoded.length);
    for (const entry of encoded) {
      w.bytes(entry.key);
      write(w, entry.value, depth + 1);
    }
  } else {
    throw new RangeError(`CBOR subset: cannot encode ${typeof value}`);
  }
}

/** Bytewise lexicographic order, the order of deterministic map keys. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** {@link compareBytes} of `bytes[aStart, aEnd)` and `bytes[bStart, bEnd)`. */
function compareRanges(
  bytes: Uint8Array,
  aStart: number,
  aEnd: number,
  bStart: number,
  bEnd: number,
): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const d = (bytes[aStart + i] as number) - (bytes[bStart + i] as number);
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/**
 * Encodes deterministically (RFC 8949 §4.2.1). Plain objects become maps with text keys; `undefined`
 * members are left out. Throws `RangeError` for what the subset cannot carry.
 *
 * @example
 * ```ts
 * encodeCbor(new Map([[1, -7]])); // Uint8Array [0xa1, 0x01, 0x26]
 * ```
 */
export function encodeCbor(value: CborInput): Uint8Array {
  const w = new Writer();
  write(w, value, 0);
  return w.result();
}

const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Reader {
  offset = 0;
  /**
   * @param share byte strings as views of `data` rather than copies: for callers that own `bytes` and
   *   never change it (the presentation reader decodes its own base45 output).
   */
  constructor(
    readonly data: Uint8Array,
    readonly share = false,
  ) {}

  /** The next byte, consumed. */
  byte(): number {
    if (this.offset >= this.data.length) throw invalid('Unexpected end of CBOR data');
    return this.data[this.offset++] ?? 0;
  }

  take(n: number): Uint8Array {
    if (n > this.data.length - this.offset) throw invalid('CBOR length beyond the data');
    const out = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** The argument of a head, refusing non-shortest forms and the indefinite marker. */
  argument(info: number): number {
    if (info < 24) return info;
    let n: number;
    let min: number;
    if (info === 24) {
      n = this.byte();
      min = 24;
    } else if (info === 25) {
      n = (this.byte() << 8) | this.byte();
      min = 0x100;
    } else if (info === 26) {
      n = ((this.byte() << 24) >>> 0) + (this.byte() << 16) + (this.byte() << 8) + this.byte();
      min = 0x10000;
    } else if (info === 27) {
      const hi = ((this.byte() << 24) >>> 0) + (this.byte() << 16) + (this.byte() << 8) + this.byte();
      const lo = ((this.byte() << 24) >>> 0) + (this.byte() << 16) + (this.byte() << 8) + this.byte();
      if (hi >= 0x200000) throw invalid('CBOR integer beyond 2^53');
      n = hi * 0x100000000 + lo;
      min = 0x100000000;
    } else {
      throw invalid(info === 31 ? 'Indefinite lengths are not allowed' : 'Reserved CBOR head');
    }
    if (n < min) throw invalid('CBOR head not in its shortest form');
    return n;
  }
}

function decodeText(bytes: Uint8Array): string {
  try {
    return textDecoder.decode(bytes);
  } catch {
    throw invalid('CBOR text is not UTF-8');
  }
}

function read(r: Reader, depth: number): CborValue {
  if (depth > maxCborDepth) throw invalid('CBOR nesting too deep');
  const initial = r.byte();
  const major = initial >> 5;
  const info = initial & 0x1f;
  switch (major) {
    case 0:
      return r.argument(info);
    case 1:
      return -1 - r.argument(info);
    case 2: {
      const bytes = r.take(r.argument(info));
      return r.share ? bytes : bytes.slice();
    }
    case 3:
      return decodeText(r.take(r.argument(info)));
    case 4: {
      const n = r.argument(info);
      // Every item takes at least one byte: a count beyond what is left is a lie, refused before allocating.
      if (n > r.data.length - r.offset) throw invalid('CBOR array longer than the data');
      const items: CborValue[] = [];
      for (let i = 0; i < n; i++) items.push(read(r, depth + 1));
      return items;
    }
    case 5: {
      const n = r.argument(info);
      if (n * 2 > r.data.length - r.offset) throw invalid('CBOR map longer than the data');
      const map = new Map<CborKey, CborValue>();
      // The previous key's encoding as offsets into the data: compared in place, no view per key.
      let previousStart = -1;
      let previousEnd = -1;
      for (let i = 0; i < n; i++) {
        const start = r.offset;
        const key = read(r, depth + 1);
        if (typeof key !== 'number' && typeof key !== 'string') throw invalid('CBOR map key of wrong type');
        if (previousStart >= 0 && compareRanges(r.data, previousStart, previousEnd, start, r.offset) >= 0) {
          throw invalid('CBOR map keys unsorted or duplicated');
        }
        previousStart = start;
        previousEnd = r.offset;
        map.set(key, read(r, depth + 1));
      }
      return map;
    }
    case 6:
      return new CborTag(r.argument(info), read(r, depth + 1));
    default: {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      if (info === 27) {
        const value = new DataView(r.take(8).slice().buffer).getFloat64(0);
        if (!Number.isFinite(value) || Number.isSafeInteger(value) || Number.isInteger(value)) {
          throw invalid('CBOR float must be a finite fraction (integers are encoded as integers)');
        }
        return value;
      }
      throw invalid('CBOR simple value or float width outside the subset');
    }
  }
}

/**
 * Decodes exactly one item that fills `bytes`, refusing anything outside the subset with
 * {@link FormatError} `invalid_cbor`. Never throws anything else.
 *
 * @example
 * ```ts
 * decodeCbor(Uint8Array.of(0xa1, 0x01, 0x26)); // Map { 1 => -7 }
 * ```
 */
export function decodeCbor(bytes: Uint8Array): CborValue {
  return decodeCborItem(bytes, false);
}

/**
 * {@link decodeCbor} with byte strings as views of `bytes` (no copies): for a caller that owns `bytes`
 * and keeps it unchanged as long as the result lives. Not part of the package's API.
 *
 * @example
 * ```ts
 * const message = decodeCborSharing(base45Decode(text)); // the decoded buffer is ours alone
 * ```
 */
export function decodeCborSharing(bytes: Uint8Array): CborValue {
  return decodeCborItem(bytes, true);
}

function decodeCborItem(bytes: Uint8Array, share: boolean): CborValue {
  const r = new Reader(bytes, share);
  let value: CborValue;
  try {
    value = read(r, 0);
  } catch (error) {
    if (error instanceof FormatError) throw error;
    throw invalid('Unreadable CBOR');
  }
  if (r.offset !== bytes.length) throw invalid('Trailing bytes after the CBOR item');
  return value;
}

/**
 * Reads the subset item by item, for a caller that knows the layout it expects and wants no intermediate
 * maps or arrays (the presentation reader's fast path). Each method reads exactly one thing and throws
 * {@link FormatError} on anything else; what it does accept it reads by the same rules as
 * {@link decodeCbor} (shortest heads, UTF-8, bounds, nesting), so a layout read through it is a value
 * `decodeCbor` would give too. Byte strings are views of the data.
 *
 * @example
 * ```ts
 * const c = new CborCursor(bytes);
 * c.expect(0x82);
 * const [list, idx] = [c.uint(), c.uint()];
 * c.end();
 * ```
 */
export class CborCursor extends Reader {
  /** @param offset where to start reading: the bytes before it are not the item's. */
  constructor(bytes: Uint8Array, offset = 0) {
    super(bytes, true);
    this.offset = offset;
  }

  /** The argument of the next head, which must be of major type `major`. */
  head(major: number): number {
    const initial = this.byte();
    if (initial >> 5 !== major) throw invalid('Unexpected CBOR type');
    return this.argument(initial & 0x1f);
  }

  /** The next byte, which must be `byte` (a known head or key in its only encoding). */
  expect(byte: number): void {
    if (this.byte() !== byte) throw invalid('Unexpected CBOR item');
  }

  /** An unsigned integer (at most 2^53 − 1). */
  uint(): number {
    return this.head(0);
  }

  text(): string {
    return decodeText(this.take(this.head(3)));
  }

  bytes(): Uint8Array {
    return this.take(this.head(2));
  }

  /** Any one item, as {@link decodeCbor} reads it at this nesting `depth`. */
  item(depth: number): CborValue {
    return read(this, depth);
  }

  /** Refuses trailing bytes. */
  end(): void {
    if (this.offset !== this.data.length) throw invalid('Trailing bytes after the CBOR item');
  }
}

/**
 * A decoded map with text keys as a plain object, recursively (as JSON would have it); other values as
 * they are. Throws {@link FormatError} for maps with integer keys, byte strings or tags inside.
 *
 * @example
 * ```ts
 * cborToJson(decodeCbor(encodeCbor({ a: [1, 'b'] }))); // { a: [1, 'b'] }
 * ```
 */
export function cborToJson(value: CborValue): unknown {
  if (value instanceof Map) {
    const entries: Array<[string, unknown]> = [];
    for (const [key, item] of value) {
      if (typeof key !== 'string') throw invalid('Expected text keys');
      entries.push([key, cborToJson(item)]);
    }
    // fromEntries defines own properties, so a key "__proto__" stays data and touches no prototype.
    return Object.fromEntries(entries);
  }
  if (Array.isArray(value)) return value.map(cborToJson);
  if (value instanceof Uint8Array || value instanceof CborTag) throw invalid('Expected JSON-like data');
  return value;
}
