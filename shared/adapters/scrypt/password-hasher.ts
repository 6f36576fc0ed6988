import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { InternalError } from '../../errors.js';
import type { PasswordHasher } from '../../identity/password-hasher.js';

/** scrypt cost: N = 2^logN, block size r, parallelism p. */
export interface ScryptParameters {
  logN: number;
  r: number;
  p: number;
}

/**
 * The default: N = 2^15, r = 8, p = 1 (OWASP's minimum for scrypt), about 32 MiB and, on a Lambda or a
 * laptop core, 50–250 ms per hash.
 */
export const defaultScryptParameters: ScryptParameters = { logN: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/**
 * What a stored hash may ask for. Wider than what we write, so that parameters can be raised, but
 * bounded so that a tampered record cannot make one check allocate gigabytes or run for minutes.
 */
const LIMITS = { logN: [14, 20], r: [1, 16], p: [1, 4], hashBytes: [16, 64], saltBytes: [16, 64] } as const;
const encodedPattern = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export class InvalidPasswordHashError extends InternalError {
  constructor(message: string) {
    super(message, 'invalid_password_hash');
    this.name = 'InvalidPasswordHashError';
  }
}

interface Decoded extends ScryptParameters {
  salt: Buffer;
  hash: Buffer;
}

const within = (value: number, [min, max]: readonly [number, number]) => value >= min && value <= max;

function decode(encoded: string): Decoded {
  const match = encodedPattern.exec(encoded);
  if (!match) throw new InvalidPasswordHashError('The stored password hash is not a scrypt hash');
  const [, logN, r, p, salt, hash] = match;
  const decoded = {
    logN: Number(logN),
    r: Number(r),
    p: Number(p),
    salt: Buffer.from(salt ?? '', 'base64'),
    hash: Buffer.from(hash ?? '', 'base64'),
  };
  if (
    !within(decoded.logN, LIMITS.logN) ||
    !within(decoded.r, LIMITS.r) ||
    !within(decoded.p, LIMITS.p) ||
    !within(decoded.salt.length, LIMITS.saltBytes) ||
    !within(decoded.hash.length, LIMITS.hashBytes)
  ) {
    throw new InvalidPasswordHashError('The stored password hash has parameters out of bounds');
  }
  return decoded;
}

/** PHC-style string: `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`, base64 without padding. */
function encode(parameters: ScryptParameters, salt: Buffer, hash: Buffer): string {
  const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=${parameters.logN},r=${parameters.r},p=${parameters.p}$${b64(salt)}$${b64(hash)}`;
}

function derive(
  password: string,
  salt: Buffer,
  parameters: ScryptParameters,
  length: number,
): Promise<Buffer> {
  const N = 2 ** parameters.logN;
  const options: ScryptOptions = {
    N,
    r: parameters.r,
    p: parameters.p,
    // Node refuses anything above 32 MiB by default, and N = 2^15, r = 8 needs exactly 32 MiB plus a little.
    maxmem: 2 * 128 * N * parameters.r + 128 * parameters.r * parameters.p + 1024 * 1024,
  };
  // NFKC (SP 800-63B §5.1.1.2): the same password typed on another keyboard or input method still matches.
  const bytes = Buffer.from(password.normalize('NFKC'), 'utf8');
  return new Promise((resolve, reject) =>
    scrypt(bytes, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/**
 * {@link PasswordHasher} with Node's scrypt (asynchronous: it runs on the libuv pool and leaves the
 * event loop free), a random 16-byte salt per hash, and the parameters written into every hash.
 *
 * @example
 * ```ts
 * const hasher = new ScryptPasswordHasher();
 * const stored = await hasher.hash('correct horse battery');
 * await hasher.verify('correct horse battery', stored); // true
 * ```
 */
export class ScryptPasswordHasher implements PasswordHasher {
  readonly #dummy: string;

  constructor(readonly parameters: ScryptParameters = defaultScryptParameters) {
    if (
      !within(parameters.logN, LIMITS.logN) ||
      !within(parameters.r, LIMITS.r) ||
      !within(parameters.p, LIMITS.p)
    ) {
      throw new RangeError('scrypt parameters out of bounds');
    }
    // Random bytes in place of a hash: same parameters, so the same work, and no password matches it.
    this.#dummy = encode(parameters, randomBytes(SALT_BYTES), randomBytes(HASH_BYTES));
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    return encode(this.parameters, salt, await derive(password, salt, this.parameters, HASH_BYTES));
  }

  async verify(password: string, encoded: string): Promise<boolean> {
    const stored = decode(encoded);
    const computed = await derive(password, stored.salt, stored, stored.hash.length);
    return timingSafeEqual(computed, stored.hash);
  }

  needsRehash(encoded: string): boolean {
    const stored = decode(encoded);
    return (
      stored.logN < this.parameters.logN ||
      stored.r < this.parameters.r ||
      stored.p < this.parameters.p ||
      stored.hash.length < HASH_BYTES
    );
  }

  dummyHash(): string {
    return this.#dummy;
  }
}
