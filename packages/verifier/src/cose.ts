/**
 * COSE_Sign1 (RFC 9052 §4.2) with ES256 only: the structure, the bytes that are signed, and a strict
 * reader. The signature is ECDSA P-256 with SHA-256 over the `Sig_structure`, in the same 64-byte
 * `r‖s` form as JOSE (RFC 9053 §2.1), so the same keys and the same {@link Es256Verifier} serve both.
 *
 * @packageDocumentation
 */
import { CborTag, decodeCbor, decodeCborSharing, encodeCbor, type CborValue } from './cbor.js';
import { FormatError } from './errors.js';

/** The CBOR tag of a COSE_Sign1 message. */
export const coseSign1Tag = 18;
/** COSE header labels (RFC 9052 §3.1) and the `typ` label of RFC 9596. */
export const CoseHeader = { alg: 1, kid: 4, typ: 16 } as const;
/** The COSE algorithm identifier of ES256 (RFC 9053 §2.1). */
export const coseEs256 = -7;

export interface CoseSign1 {
  /** The protected header exactly as received: it is signed as these bytes. */
  protectedBytes: Uint8Array;
  /** Its decoded labels. */
  protectedHeader: Map<number | string, CborValue>;
  payload: Uint8Array;
  signature: Uint8Array;
}

const invalid = (message: string) => new FormatError('invalid_cose', message);

/**
 * The bytes an ES256 COSE_Sign1 signature covers: `["Signature1", protected, h'', payload]`.
 *
 * @example
 * ```ts
 * const signature = await signer.sign(coseSigStructure(protectedBytes, payload));
 * ```
 */
export function coseSigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  // Written directly rather than through encodeCbor: one allocation on the verifier's hot path, no
  // intermediate heads or arrays. The bytes are those of encodeCbor(['Signature1', protectedBytes, h'',
  // payload]) (a test holds them equal).
  const out = new Uint8Array(
    sigStructurePrefix.length +
      byteStringHeadLength(protectedBytes.length) +
      protectedBytes.length +
      1 +
      byteStringHeadLength(payload.length) +
      payload.length,
  );
  out.set(sigStructurePrefix, 0);
  let o = writeByteStringHead(out, sigStructurePrefix.length, protectedBytes.length);
  out.set(protectedBytes, o);
  o += protectedBytes.length;
  out[o++] = 0x40; // h'': no external additional data
  o = writeByteStringHead(out, o, payload.length);
  out.set(payload, o);
  return out;
}

/** `84` (array of 4) and the text "Signature1": the start of every Sig_structure. */
const sigStructurePrefix = encodeCbor([
  'Signature1',
  new Uint8Array(0),
  new Uint8Array(0),
  new Uint8Array(0),
]).subarray(0, 12);

function byteStringHeadLength(length: number): number {
  return length < 24 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

/** Writes the shortest head of a byte string of `length` bytes at `o`; answers the offset after it. */
function writeByteStringHead(out: Uint8Array, o: number, length: number): number {
  if (length < 24) {
    out[o] = 0x40 | length;
    return o + 1;
  }
  if (length < 0x100) {
    out[o] = 0x58;
    out[o + 1] = length;
    return o + 2;
  }
  if (length < 0x10000) {
    out[o] = 0x59;
    out[o + 1] = length >> 8;
    out[o + 2] = length & 0xff;
    return o + 3;
  }
  out[o] = 0x5a;
  out[o + 1] = (length >>> 24) & 0xff;
  out[o + 2] = (length >>> 16) & 0xff;
  out[o + 3] = (length >>> 8) & 0xff;
  out[o + 4] = length & 0xff;
  return o + 5;
}

/**
 * A tagged COSE_Sign1 message with an empty unprotected header: everything that matters is signed.
 *
 * @example
 * ```ts
 * const bytes = encodeCoseSign1(protectedBytes, payload, signature);
 * ```
 */
export function encodeCoseSign1(
  protectedBytes: Uint8Array,
  payload: Uint8Array,
  signature: Uint8Array,
): Uint8Array {
  return encodeCbor(new CborTag(coseSign1Tag, [protectedBytes, new Map(), payload, signature]));
}

/**
 * Reads a tagged COSE_Sign1 message, strictly: tag 18, four members, a protected header that is a
 * non-empty map, an empty unprotected header (anything unsigned there could be changed without breaking
 * the signature), an attached payload and a 64-byte signature. Throws {@link FormatError}. With `share`,
 * the byte strings are views of `bytes` rather than copies (for a caller that owns `bytes` and keeps it).
 *
 * @example
 * ```ts
 * const { protectedHeader, payload } = decodeCoseSign1(bytes);
 * ```
 */
export function decodeCoseSign1(bytes: Uint8Array, share = false): CoseSign1 {
  const message = share ? decodeCborSharing(bytes) : decodeCbor(bytes);
  if (!(message instanceof CborTag) || message.tag !== coseSign1Tag) throw invalid('Not a tagged COSE_Sign1');
  const parts = message.value;
  if (!Array.isArray(parts) || parts.length !== 4) throw invalid('COSE_Sign1 must have four members');
  const [protectedBytes, unprotectedHeader, payload, signature] = parts;
  if (!(protectedBytes instanceof Uint8Array) || protectedBytes.length === 0) {
    throw invalid('The protected header must be a non-empty byte string');
  }
  if (!(unprotectedHeader instanceof Map) || unprotectedHeader.size !== 0) {
    throw invalid('The unprotected header must be empty');
  }
  if (!(payload instanceof Uint8Array)) throw invalid('The payload must be attached');
  if (!(signature instanceof Uint8Array) || signature.length !== 64) {
    throw invalid('An ES256 signature is 64 bytes');
  }
  const protectedHeader = share ? decodeCborSharing(protectedBytes) : decodeCbor(protectedBytes);
  if (!(protectedHeader instanceof Map)) throw invalid('The protected header must be a map');
  return { protectedBytes, protectedHeader, payload, signature };
}
