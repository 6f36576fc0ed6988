import { InternalError } from '../errors.js';

const SEQUENCE = 0x30;
const INTEGER = 0x02;
/** The largest coordinate we convert: P-521 (66 bytes); its DER body still fits a one-byte long-form length. */
const MAX_PART_LENGTH = 66;

function malformed(message: string): InternalError {
  return new InternalError(`Malformed ECDSA signature: ${message}`, 'invalid_signature_encoding');
}

function checkPartLength(partLength: number): void {
  if (!Number.isInteger(partLength) || partLength < 1 || partLength > MAX_PART_LENGTH) {
    throw malformed(`unsupported part length ${partLength}`);
  }
}

/** Reads a DER length at `offset`; strict DER: short form below 128, minimal one-byte long form above. */
function readLength(der: Uint8Array, offset: number): { length: number; next: number } {
  const first = der[offset];
  if (first === undefined) throw malformed('truncated length');
  if (first < 0x80) return { length: first, next: offset + 1 };
  if (first !== 0x81) throw malformed('unsupported length form');
  const length = der[offset + 1];
  if (length === undefined) throw malformed('truncated length');
  if (length < 0x80) throw malformed('non-minimal length');
  return { length, next: offset + 2 };
}

/** Reads one positive INTEGER and writes it right-aligned into `out[at, at + partLength)`. */
function readInteger(
  der: Uint8Array,
  offset: number,
  out: Uint8Array,
  at: number,
  partLength: number,
): number {
  if (der[offset] !== INTEGER) throw malformed('expected INTEGER');
  const { length, next } = readLength(der, offset + 1);
  const end = next + length;
  if (length === 0) throw malformed('empty INTEGER');
  if (end > der.length) throw malformed('INTEGER overruns the signature');
  let value = der.subarray(next, end);
  if ((value[0] ?? 0) & 0x80) throw malformed('negative INTEGER');
  if (value[0] === 0 && value.length > 1) {
    // A leading zero is only allowed (and then required) to keep a high bit from reading as a sign.
    if (((value[1] ?? 0) & 0x80) === 0) throw malformed('non-minimal INTEGER');
    value = value.subarray(1);
  }
  if (value.length > partLength) throw malformed('INTEGER longer than the curve allows');
  if (value.every((byte) => byte === 0)) throw malformed('zero INTEGER');
  out.set(value, at + partLength - value.length);
  return end;
}

/**
 * Converts an ASN.1 DER ECDSA signature (`SEQUENCE { r INTEGER, s INTEGER }`, what KMS and OpenSSL
 * return) into the JOSE form of RFC 7518 §3.4: `r‖s`, each left-padded to `partLength` bytes.
 *
 * Strict DER: anything else (other tags, lengths that disagree, trailing bytes, negative, zero,
 * over-long or non-minimal integers) throws an `InternalError` `invalid_signature_encoding`.
 *
 * @param partLength bytes per coordinate: 32 for P-256 (ES256), 48 for P-384, 66 for P-521.
 * @example
 * ```ts
 * const jose = derToJose(kmsSignature); // 64 bytes for ES256
 * ```
 */
export function derToJose(der: Uint8Array, partLength = 32): Uint8Array {
  checkPartLength(partLength);
  if (der[0] !== SEQUENCE) throw malformed('expected SEQUENCE');
  const { length, next } = readLength(der, 1);
  if (next + length !== der.length) throw malformed('SEQUENCE length does not match the signature length');
  const out = new Uint8Array(partLength * 2);
  const afterR = readInteger(der, next, out, 0, partLength);
  const afterS = readInteger(der, afterR, out, partLength, partLength);
  if (afterS !== der.length) throw malformed('trailing bytes inside SEQUENCE');
  return out;
}

function encodeLength(length: number): number[] {
  return length < 0x80 ? [length] : [0x81, length];
}

function encodeInteger(part: Uint8Array): number[] {
  let start = 0;
  while (start < part.length - 1 && part[start] === 0) start++;
  const value = Array.from(part.subarray(start));
  if (value.every((byte) => byte === 0)) throw malformed('zero coordinate');
  if ((value[0] ?? 0) & 0x80) value.unshift(0);
  return [INTEGER, ...encodeLength(value.length), ...value];
}

/**
 * Converts a JOSE `r‖s` signature (RFC 7518 §3.4) into strict ASN.1 DER, the inverse of {@link derToJose}.
 *
 * @example
 * ```ts
 * crypto.verify('sha256', data, { key, dsaEncoding: 'der' }, joseToDer(jwsSignature));
 * ```
 */
export function joseToDer(jose: Uint8Array, partLength = 32): Uint8Array {
  checkPartLength(partLength);
  if (jose.length !== partLength * 2) throw malformed(`expected ${partLength * 2} bytes, got ${jose.length}`);
  const body = [...encodeInteger(jose.subarray(0, partLength)), ...encodeInteger(jose.subarray(partLength))];
  return Uint8Array.from([SEQUENCE, ...encodeLength(body.length), ...body]);
}

/** The order n of the P-256 group (FIPS 186-4 D.1.2.3). */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * The low-S form of a JOSE ES256 signature (`r‖s`, 64 bytes): `s` replaced by `n - s` when it is above
 * n/2. ECDSA accepts both `(r, s)` and `(r, n - s)`, so without this every signature would have a second
 * valid encoding (a credential or presentation with two spellings, a different hash, a "new" token that
 * is the same). KMS, like OpenSSL, returns either half at random; every signer passes its signatures
 * through here, and the verifier (`packages/verifier/src/crypto.ts`) refuses the high half.
 *
 * @example
 * ```ts
 * const jose = lowS(derToJose(kmsSignature)); // s ≤ n/2
 * ```
 */
export function lowS(jose: Uint8Array): Uint8Array {
  if (jose.length !== 64) throw malformed(`expected 64 bytes, got ${jose.length}`);
  let s = 0n;
  for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(jose[i] ?? 0);
  if (s <= P256_ORDER >> 1n) return jose;
  const out = Uint8Array.from(jose);
  let flipped = P256_ORDER - s;
  for (let i = 63; i >= 32; i--) {
    out[i] = Number(flipped & 0xffn);
    flipped >>= 8n;
  }
  return out;
}
