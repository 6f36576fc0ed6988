/**
 * Base45 (RFC 9285): bytes as text in the 45 characters of the QR code's alphanumeric mode, which packs
 * 11 bits per 2 characters (5.5 bits a character) where byte mode spends 8. Two bytes become three
 * characters, so base45 text is 1.5× the bytes but costs 8.25 bits a byte in the symbol; base64 in byte
 * mode costs 10.7.
 *
 * @packageDocumentation
 */
import { FormatError } from './errors.js';

export const base45Alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
const values = new Int8Array(128).fill(-1);
for (let i = 0; i < base45Alphabet.length; i++) values[base45Alphabet.charCodeAt(i)] = i;

/**
 * Encodes bytes as base45.
 *
 * @example
 * ```ts
 * base45Encode(new TextEncoder().encode('AB')); // 'BB8' (RFC 9285 §4.3)
 * ```
 */
export function base45Encode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 1 < bytes.length; i += 2) {
    let n = ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
    const c = n % 45;
    n = (n - c) / 45;
    const d = n % 45;
    const e = (n - d) / 45;
    out += base45Alphabet[c]! + base45Alphabet[d]! + base45Alphabet[e]!;
  }
  if (i < bytes.length) {
    const n = bytes[i] ?? 0;
    out += base45Alphabet[n % 45]! + base45Alphabet[Math.floor(n / 45)]!;
  }
  return out;
}

/**
 * Decodes base45 as RFC 9285 §4.2 requires: any character outside the alphabet, a dangling single
 * character, or a group worth more than its bytes can hold (a triple above 65535, a pair above 255) is
 * refused with {@link FormatError} `invalid_base45`. Each text then has exactly one decoding and each
 * byte string exactly one encoding.
 *
 * Decodes from `start` on, so that a caller need not cut a prefix off first (`EL1:`): the groups are
 * counted from `start` in error messages. With `room`, the bytes come after that many zero bytes, for
 * the caller to write a header in front of them without copying (the presentation reader's Sig_structure).
 *
 * @example
 * ```ts
 * new TextDecoder().decode(base45Decode('QED8WEX0')); // 'ietf!'
 * base45Decode('EL1:BB8', 4); // the bytes of 'AB'
 * ```
 */
export function base45Decode(text: string, start = 0, room = 0): Uint8Array {
  const end = text.length;
  const length = end - start;
  if (length % 3 === 1) throw new FormatError('invalid_base45', 'Impossible base45 length');
  const out = new Uint8Array(room + Math.floor(length / 3) * 2 + (length % 3 === 2 ? 1 : 0));
  let o = room;
  let i = start;
  // Inlined lookups, one range check per group: presentations are verified on a hot path too.
  for (; i + 2 < end; i += 3) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    if ((a | b | c) > 127) throw invalidCharacter(i - start);
    const va = values[a] as number;
    const vb = values[b] as number;
    const vc = values[c] as number;
    if ((va | vb | vc) < 0) throw invalidCharacter(i - start);
    const n = va + vb * 45 + vc * 2025;
    if (n > 0xffff) throw new FormatError('invalid_base45', `Group at ${i - start} exceeds two bytes`);
    out[o] = n >> 8;
    out[o + 1] = n & 0xff;
    o += 2;
  }
  if (i < end) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    if ((a | b) > 127) throw invalidCharacter(i - start);
    const va = values[a] as number;
    const vb = values[b] as number;
    if ((va | vb) < 0) throw invalidCharacter(i - start);
    const n = va + vb * 45;
    if (n > 0xff) throw new FormatError('invalid_base45', `Group at ${i - start} exceeds one byte`);
    out[o] = n;
  }
  return out;
}

function invalidCharacter(group: number): FormatError {
  return new FormatError('invalid_base45', `Not a base45 character in the group at ${group}`);
}
