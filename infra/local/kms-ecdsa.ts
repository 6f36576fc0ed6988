import { createECDH, randomBytes } from 'node:crypto';

/*
 * ECDSA P-256 over a caller-supplied digest, which KMS offers (MessageType DIGEST) and Node does not:
 * `crypto.sign(null, …)` hashes its input again with SHA-256. Scalar multiplication of the generator is
 * delegated to OpenSSL through ECDH key derivation; the rest is modular arithmetic on bigints. This is an
 * emulator's signer, not a constant-time implementation.
 */

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

interface Affine {
  x: bigint;
  y: bigint;
}

/** Jacobian coordinates; `z === 0n` is the point at infinity. */
interface Jacobian {
  x: bigint;
  y: bigint;
  z: bigint;
}

const INFINITY: Jacobian = { x: 1n, y: 1n, z: 0n };

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/**
 * `a`⁻¹ mod `m` by Lehmer's extended Euclid (Knuth, TAOCP vol. 2, 4.5.2, Algorithm L): the quotients are
 * found on the leading 48 bits of the remainders in floating point, where they are exact (every value
 * below 2⁵³), and applied to the full bigints a batch at a time; where the leading bits cannot decide a
 * quotient, one full-precision step. Same result as the textbook algorithm (test/unit/local/kms-ecdsa),
 * in a third of the time: one bigint division per step was the emulator's Sign cost (issue 16).
 */
export function invert(value: bigint, m: bigint): bigint {
  // Invariants: a ≡ sa·value and b ≡ sb·value (mod m), with a ≥ b ≥ 0.
  let a = m;
  let b = mod(value, m);
  let sa = 0n;
  let sb = 1n;
  while (b !== 0n) {
    // Shifted so that the leading part of `a` has at most 48 bits (a hex digit's worth fewer, at least).
    const shift = BigInt(Math.max(0, a.toString(16).length * 4 - leadingBits));
    let ah = Number(a >> shift);
    let bh = Number(b >> shift);
    let [A, B, C, D] = [1, 0, 0, 1];
    // The quotient of the true remainders lies between these two; where they agree, it is known.
    while (bh + C !== 0 && bh + D !== 0) {
      const q = Math.floor((ah + A) / (bh + C));
      if (q !== Math.floor((ah + B) / (bh + D))) break;
      [A, C] = [C, A - q * C];
      [B, D] = [D, B - q * D];
      [ah, bh] = [bh, ah - q * bh];
    }
    if (B === 0) {
      const q = a / b;
      [a, b] = [b, a - q * b];
      [sa, sb] = [sb, sa - q * sb];
    } else {
      const [bigA, bigB, bigC, bigD] = [BigInt(A), BigInt(B), BigInt(C), BigInt(D)];
      [a, b] = [bigA * a + bigB * b, bigC * a + bigD * b];
      [sa, sb] = [bigA * sa + bigB * sb, bigC * sa + bigD * sb];
    }
  }
  if (a !== 1n) throw new RangeError('not invertible');
  return mod(sa, m);
}
const leadingBits = 48;

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

export function bigIntToBytes(value: bigint, length = 32): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

/**
 * OpenSSL computes k·G; the uncompressed point is `04‖x‖y`. One ECDH object serves every call (each sets
 * its own scalar and reads the point back in the same synchronous turn): building one per call cost as
 * much as the multiplication.
 */
const generatorMultiplier = createECDH('prime256v1');
function multiplyGenerator(k: bigint): Affine {
  generatorMultiplier.setPrivateKey(bigIntToBytes(k));
  const point = generatorMultiplier.getPublicKey();
  return { x: bytesToBigInt(point.subarray(1, 33)), y: bytesToBigInt(point.subarray(33, 65)) };
}

function double(p: Jacobian): Jacobian {
  if (p.z === 0n || p.y === 0n) return INFINITY;
  // dbl-2001-b, valid because a = -3 on P-256.
  const delta = mod(p.z * p.z, P);
  const gamma = mod(p.y * p.y, P);
  const beta = mod(p.x * gamma, P);
  const alpha = mod(3n * (p.x - delta) * (p.x + delta), P);
  const x = mod(alpha * alpha - 8n * beta, P);
  const z = mod((p.y + p.z) * (p.y + p.z) - gamma - delta, P);
  const y = mod(alpha * (4n * beta - x) - 8n * gamma * gamma, P);
  return { x, y, z };
}

function add(p: Jacobian, q: Jacobian): Jacobian {
  if (p.z === 0n) return q;
  if (q.z === 0n) return p;
  const pz2 = mod(p.z * p.z, P);
  const qz2 = mod(q.z * q.z, P);
  const u1 = mod(p.x * qz2, P);
  const u2 = mod(q.x * pz2, P);
  const s1 = mod(p.y * qz2 * q.z, P);
  const s2 = mod(q.y * pz2 * p.z, P);
  if (u1 === u2) return s1 === s2 ? double(p) : INFINITY;
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  const h2 = mod(h * h, P);
  const h3 = mod(h2 * h, P);
  const x = mod(r * r - h3 - 2n * u1 * h2, P);
  const y = mod(r * (u1 * h2 - x) - s1 * h3, P);
  const z = mod(h * p.z * q.z, P);
  return { x, y, z };
}

function multiply(point: Affine, k: bigint): Jacobian {
  let result = INFINITY;
  let addend: Jacobian = { ...point, z: 1n };
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = double(addend);
  }
  return result;
}

function toAffineX(p: Jacobian): bigint | undefined {
  if (p.z === 0n) return undefined;
  const zInv = invert(p.z, P);
  return mod(p.x * zInv * zInv, P);
}

function isOnCurve({ x, y }: Affine): boolean {
  return x < P && y < P && mod(y * y - (x * x * x - 3n * x + B), P) === 0n;
}

/** Signs a 32-byte digest with private scalar `d`; returns `r` and `s` in [1, n-1]. */
export function signDigest(d: bigint, digest: Uint8Array): { r: bigint; s: bigint } {
  const z = bytesToBigInt(digest);
  for (;;) {
    const k = bytesToBigInt(randomBytes(32));
    if (k === 0n || k >= N) continue;
    const r = mod(multiplyGenerator(k).x, N);
    if (r === 0n) continue;
    const s = mod(invert(k, N) * (z + r * d), N);
    if (s === 0n) continue;
    return { r, s };
  }
}

/** Verifies (`r`, `s`) over a 32-byte digest against public point `q`. */
export function verifyDigest(q: Affine, digest: Uint8Array, r: bigint, s: bigint): boolean {
  if (r <= 0n || r >= N || s <= 0n || s >= N || !isOnCurve(q)) return false;
  const z = bytesToBigInt(digest);
  const w = invert(s, N);
  const u1 = mod(z * w, N);
  const u2 = mod(r * w, N);
  const p1: Jacobian = u1 === 0n ? INFINITY : { ...multiplyGenerator(u1), z: 1n };
  const x = toAffineX(add(p1, multiply(q, u2)));
  return x !== undefined && mod(x, N) === r;
}
