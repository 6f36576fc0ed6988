/**
 * Base64url without padding (RFC 4648 §5), strict and portable (no `Buffer`, no `atob`).
 *
 * Strict means canonical: a text whose last character carries non-zero unused bits is refused. Otherwise
 * two texts would decode to the same bytes, and a one-character change in a signature would still verify.
 *
 * @packageDocumentation
 */
import { FormatError } from './errors.js';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Character code → value, -1 for anything outside the alphabet (codes ≥ 128 are checked apart). */
const values = new Int8Array(128).fill(-1);
for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;

const invalidCharacter = () => new FormatError('invalid_base64url', 'Not a base64url character');

/**
 * Decodes canonical unpadded base64url. Throws {@link FormatError} `invalid_base64url` otherwise.
 *
 * Four characters at a time with one range check and one sign check per group: this sits on the
 * verifier's hot path (a credential is some 800 characters), so it avoids a call per character.
 *
 * @example
 * ```ts
 * base64urlDecode('aGk'); // Uint8Array [0x68, 0x69]
 * base64urlDecode('aGl'); // throws: unused bits set
 * ```
 */
export function base64urlDecode(text: string): Uint8Array {
  const length = text.length;
  const rest = length % 4;
  if (rest === 1) throw new FormatError('invalid_base64url', 'Impossible base64url length');
  const out = new Uint8Array((length * 3) >> 2);
  const whole = length - rest;
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    if ((a | b | c | d) > 127) throw invalidCharacter();
    const va = values[a] as number;
    const vb = values[b] as number;
    const vc = values[c] as number;
    const vd = values[d] as number;
    if ((va | vb | vc | vd) < 0) throw invalidCharacter();
    const n = (va << 18) | (vb << 12) | (vc << 6) | vd;
    out[o] = n >> 16;
    out[o + 1] = (n >> 8) & 0xff;
    out[o + 2] = n & 0xff;
    o += 3;
  }
  if (rest > 0) {
    const a = text.charCodeAt(whole);
    const b = text.charCodeAt(whole + 1);
    const c = rest === 3 ? text.charCodeAt(whole + 2) : 65; // 'A'
    if ((a | b | c) > 127) throw invalidCharacter();
    const va = values[a] as number;
    const vb = values[b] as number;
    const vc = values[c] as number;
    if ((va | vb | vc) < 0) throw invalidCharacter();
    const n = (va << 12) | (vb << 6) | vc;
    if (rest === 2) {
      // Two characters carry one byte and four unused bits, which must be zero (canonical form).
      if (n & 0x3ff) throw new FormatError('invalid_base64url', 'Non-zero unused bits');
      out[o] = n >> 10;
    } else {
      if (n & 0x03) throw new FormatError('invalid_base64url', 'Non-zero unused bits');
      out[o] = n >> 10;
      out[o + 1] = (n >> 2) & 0xff;
    }
  }
  return out;
}

/**
 * Encodes bytes as unpadded base64url.
 *
 * @example
 * ```ts
 * base64urlEncode(Uint8Array.of(0x68, 0x69)); // 'aGk'
 * ```
 */
export function base64urlEncode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] ?? 0;
    out += alphabet[n >> 2]! + alphabet[(n & 3) << 4]!;
  } else if (rest === 2) {
    const n = ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
    out += alphabet[n >> 10]! + alphabet[(n >> 4) & 63]! + alphabet[(n & 15) << 2]!;
  }
  return out;
}
