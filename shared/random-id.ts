import { randomBytes } from 'node:crypto';

/**
 * An unguessable identifier with a readable prefix, e.g. `iss_Xk3…`: 96 random bits in base64url.
 *
 * @example
 * ```ts
 * randomId('cl'); // 'cl_4Zq0bS0e6jyU2KQ1'
 * ```
 */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
