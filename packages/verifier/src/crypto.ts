/**
 * The one cryptographic operation a verifier needs, ES256 verification, as a port: browsers and Node
 * give it through WebCrypto ({@link webCryptoEs256}); Node's `node:crypto` is faster and synchronous
 * (`packages/verifier/src/node.ts`). The verifier imports each trusted key once and keeps it.
 *
 * @packageDocumentation
 */

/** An EC P-256 public key as JWK: the only kind of key the verifier accepts. */
export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid?: string;
  alg?: 'ES256';
  use?: 'sig';
}

type MaybePromise<T> = T | Promise<T>;

/**
 * ES256 verification (ECDSA P-256 with SHA-256 over `data`, the signature in the 64-byte `r‖s` form of
 * JOSE and COSE). `importKey` may refuse a key by throwing; `verify` answers false for any signature
 * that does not verify, including one of the wrong length or a high-S one ({@link isLowS}), and should
 * not throw. The verifier refuses high-S signatures itself too, whatever implementation it is given.
 */
export interface Es256Verifier<Key = unknown> {
  importKey(jwk: PublicJwk): MaybePromise<Key>;
  verify(key: Key, signature: Uint8Array, data: Uint8Array): MaybePromise<boolean>;
}

/**
 * Byte conversions on the verifier's hot path. The portable defaults are plain JavaScript; Node's
 * `Buffer` does the same several times faster (`nodeCodec` in `./node.ts`). Both must be strict: the
 * base64url decoder refuses anything but canonical unpadded base64url with {@link FormatError}.
 */
export interface VerifierCodec {
  base64url(text: string): Uint8Array;
  /** The bytes of text known to be ASCII (a JWS signing input). */
  ascii(text: string): Uint8Array;
}

/** ⌊n/2⌋ of the P-256 group order, big-endian: the largest `s` of a canonical (low-S) signature. */
const halfOrder = Uint8Array.from([
  0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0x73,
  0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
]);

/**
 * Whether a 64-byte `r‖s` signature is in low-S form (`s ≤ n/2`). ECDSA also accepts `(r, n − s)` for
 * every valid `(r, s)`: refusing the high half leaves each credential and presentation exactly one valid
 * encoding (our signers always emit the low one). A byte comparison, no big integers: it runs on every
 * verification.
 *
 * @example
 * ```ts
 * if (!isLowS(signature)) return false;
 * ```
 */
export function isLowS(signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  for (let i = 0; i < 32; i++) {
    const byte = signature[32 + i] as number;
    const limit = halfOrder[i] as number;
    if (byte !== limit) return byte < limit;
  }
  return true;
}

/** The public members of a P-256 JWK, checked for shape: 32-byte coordinates in base64url. */
export function p256Members(jwk: PublicJwk): { kty: 'EC'; crv: 'P-256'; x: string; y: string } {
  const coordinate = /^[A-Za-z0-9_-]{43}$/;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !coordinate.test(jwk.x) || !coordinate.test(jwk.y)) {
    throw new TypeError('Not an EC P-256 public key');
  }
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

/**
 * {@link Es256Verifier} on WebCrypto (`crypto.subtle`): browsers, Deno, Node 20+. Slower than the Node
 * implementation because every call crosses into a promise-based API.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ crypto: webCryptoEs256(), trust, status });
 * ```
 */
export function webCryptoEs256(subtle: SubtleCrypto = globalThis.crypto.subtle): Es256Verifier<CryptoKey> {
  const algorithm = { name: 'ECDSA', hash: 'SHA-256' };
  return {
    importKey: (jwk) =>
      subtle.importKey('jwk', p256Members(jwk), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']),
    verify: async (key, signature, data) => {
      // WebCrypto accepts (r, n − s) as readily as (r, s): only the canonical half is ours.
      if (!isLowS(signature)) return false;
      try {
        return await subtle.verify(algorithm, key, signature as BufferSource, data as BufferSource);
      } catch {
        return false;
      }
    },
  };
}
