/**
 * The verifier for Node: everything of `./index.ts`, plus ES256 through `node:crypto` (synchronous,
 * close to the raw speed of `crypto.verify`) and ZLIB through `node:zlib` for status lists. Browser
 * bundles import `./index.ts` instead, which touches no Node API.
 *
 * @example
 * ```ts
 * import { createVerifier, nodeEs256, OfflineTrustStore, zlibCompression } from '@elicence/verifier/node';
 *
 * const store = new OfflineTrustStore({ baseUrl: 'https://elicence.example.gov.cn', crypto: nodeEs256, compression: zlibCompression });
 * await store.sync();
 * const verifier = createVerifier({ crypto: nodeEs256, trust: store, status: store });
 * const { verdict } = await verifier.verify(scannedText);
 * ```
 *
 * @packageDocumentation
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { isLowS, p256Members, type Es256Verifier, type VerifierCodec } from './crypto.js';
import { FormatError } from './errors.js';

import { createVerifier, type Verifier, type VerifierOptions } from './verifier.js';

export * from './index.js';
export { zlibCompression } from './status-list-zlib.js';

/**
 * {@link Es256Verifier} on `node:crypto`: keys become `KeyObject`s once, and each verification is one
 * synchronous `crypto.verify` with the signature in IEEE P1363 (`r‖s`) form, as JOSE and COSE carry it.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ crypto: nodeEs256, trust, status });
 * ```
 */
export const nodeEs256: Es256Verifier<KeyObject> = {
  importKey: (jwk) => createPublicKey({ key: p256Members(jwk), format: 'jwk' }),
  verify: (key, signature, data) => {
    // OpenSSL accepts (r, n − s) as readily as (r, s): only the canonical half is ours.
    if (!isLowS(signature)) return false;
    try {
      return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      return false;
    }
  },
};

/**
 * {@link VerifierCodec} on `Buffer`: several times faster than the portable code. `Buffer` skips what it
 * cannot read and accepts padding and non-canonical final bits, so each decoding is checked by encoding
 * it again: only canonical unpadded base64url comes back as the same text.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ crypto: nodeEs256, codec: nodeCodec, trust, status });
 * ```
 */
export const nodeCodec: VerifierCodec = {
  base64url(text) {
    const bytes = Buffer.from(text, 'base64url');
    if (bytes.toString('base64url') !== text) {
      throw new FormatError('invalid_base64url', 'Not canonical unpadded base64url');
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  },
  ascii: (text) => {
    const bytes = Buffer.from(text, 'latin1');
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  },
};

/**
 * A verifier with Node's fast primitives: `nodeEs256` and `nodeCodec`.
 *
 * @example
 * ```ts
 * const verifier = createNodeVerifier({ trust: store, status: store });
 * const { verdict } = await verifier.verify(scannedText);
 * ```
 */
export function createNodeVerifier(options: Omit<VerifierOptions, 'crypto' | 'codec'>): Verifier {
  return createVerifier({ ...options, crypto: nodeEs256, codec: nodeCodec });
}
