/**
 * Compact JWS (RFC 7515 §7.1) as a verifier reads it: three base64url parts, a JSON header and payload,
 * and the exact bytes the signature covers. Portable: no `Buffer`, no Node API.
 *
 * @packageDocumentation
 */
import { base64urlDecode } from './base64url.js';
import type { VerifierCodec } from './crypto.js';
import { FormatError } from './errors.js';

export interface CompactJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** ASCII of `<header>.<payload>`: what the signature covers. */
  signingInput: Uint8Array;
  signature: Uint8Array;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const textEncoder = new TextEncoder();

/** Plain JavaScript, for any platform. */
export const portableCodec: VerifierCodec = {
  base64url: base64urlDecode,
  ascii: (text) => textEncoder.encode(text),
};

function jsonObject(part: string, what: string, codec: VerifierCodec): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(textDecoder.decode(codec.base64url(part)));
  } catch (error) {
    if (error instanceof FormatError) throw error;
    throw new FormatError('invalid_jws', `The ${what} is not UTF-8 JSON`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FormatError('invalid_jws', `The ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Splits and decodes a compact JWS without verifying it. Throws {@link FormatError} (`invalid_jws`,
 * `invalid_base64url`); the signature must then be checked over `signingInput` before anything in the
 * payload is believed.
 *
 * @example
 * ```ts
 * const { header, payload, signingInput, signature } = readCompactJws(credential);
 * ```
 */
export function readCompactJws(text: string, codec: VerifierCodec = portableCodec): CompactJws {
  const first = text.indexOf('.');
  const second = text.indexOf('.', first + 1);
  if (first < 0 || second < 0 || text.indexOf('.', second + 1) >= 0) {
    throw new FormatError('invalid_jws', 'A compact JWS has three parts');
  }
  const header = jsonObject(text.slice(0, first), 'header', codec);
  const payload = jsonObject(text.slice(first + 1, second), 'payload', codec);
  const signature = codec.base64url(text.slice(second + 1));
  // Both parts decoded as base64url, so the signing input is ASCII.
  return { header, payload, signingInput: codec.ascii(text.slice(0, second)), signature };
}
