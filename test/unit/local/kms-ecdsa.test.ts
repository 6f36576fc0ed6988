import { createHash, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bigIntToBytes,
  bytesToBigInt,
  invert,
  signDigest,
  verifyDigest,
} from '../../../infra/local/kms-ecdsa.js';
import { derToJose, joseToDer } from '../../../shared/crypto/der.js';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;

/** The textbook extended Euclid, one bigint division per step: the reference the emulator's must equal. */
function referenceInverse(value: bigint, m: bigint): bigint {
  let [oldR, r] = [((value % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError('not invertible');
  return ((oldS % m) + m) % m;
}

const randomBelow = (m: bigint) => (bytesToBigInt(randomBytes(40)) % (m - 1n)) + 1n;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();

function p256Key() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const d = bytesToBigInt(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  const q = {
    x: bytesToBigInt(Buffer.from(jwk.x!, 'base64url')),
    y: bytesToBigInt(Buffer.from(jwk.y!, 'base64url')),
  };
  return { privateKey, publicKey, d, q };
}

describe("the KMS emulator's ECDSA over a caller's digest (Sign with MessageType DIGEST)", () => {
  it('inverts modulo the group order and the field prime as the textbook algorithm does', () => {
    const edges = [1n, 2n, 3n, 2n ** 48n - 1n, 2n ** 48n, 2n ** 52n + 1n, 2n ** 200n];
    for (const m of [N, P]) {
      const values = [...edges, m - 1n, m - 2n, (m - 1n) / 2n, m + 5n, -7n];
      for (let i = 0; i < 2_000; i++) values.push(randomBelow(m));
      for (const value of values) {
        const inverse = invert(value, m);
        expect(inverse).toBe(referenceInverse(value, m));
        expect((((value % m) + m) * inverse) % m).toBe(1n);
      }
      expect(() => invert(0n, m)).toThrow(RangeError);
      expect(() => invert(m, m)).toThrow(RangeError);
    }
  });

  it("signs digests that Node's ECDSA verifies, DER-encoded, with both low and high s as KMS emits them", () => {
    const key = p256Key();
    let high = 0;
    for (let i = 0; i < 300; i++) {
      const message = randomBytes(1 + (i % 64));
      const { r, s } = signDigest(key.d, sha256(message));
      expect(r > 0n && r < N && s > 0n && s < N).toBe(true);
      if (s > N / 2n) high += 1;
      const der = joseToDer(Buffer.concat([bigIntToBytes(r), bigIntToBytes(s)]));
      expect(verify('sha256', message, key.publicKey, der)).toBe(true);
      expect(verifyDigest(key.q, sha256(message), r, s)).toBe(true);
      // Another message's digest is not signed by it.
      expect(verify('sha256', Buffer.concat([message, Buffer.of(0)]), key.publicKey, der)).toBe(false);
    }
    // KMS does not normalise s: about half the signatures have s > n/2 (300 draws: never 0 or 300).
    expect(high).toBeGreaterThan(90);
    expect(high).toBeLessThan(210);
  });

  it('draws a fresh nonce per signature: the same digest signs differently each time', () => {
    const key = p256Key();
    const digest = sha256(Buffer.from('the same digest'));
    const rs = new Set(Array.from({ length: 20 }, () => signDigest(key.d, digest).r));
    expect(rs.size).toBe(20);
  });

  it("verifies Node's signatures over the digest and refuses altered ones", () => {
    const key = p256Key();
    for (let i = 0; i < 50; i++) {
      const message = randomBytes(32);
      const jose = derToJose(sign('sha256', message, key.privateKey));
      const r = bytesToBigInt(jose.subarray(0, 32));
      const s = bytesToBigInt(jose.subarray(32));
      expect(verifyDigest(key.q, sha256(message), r, s)).toBe(true);
      expect(verifyDigest(key.q, sha256(message), r, N - s)).toBe(true);
      expect(verifyDigest(key.q, sha256(message), r, (s % (N - 1n)) + 1n)).toBe(false);
      expect(verifyDigest(key.q, sha256(randomBytes(32)), r, s)).toBe(false);
    }
  });
});
