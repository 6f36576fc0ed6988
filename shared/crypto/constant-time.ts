import { timingSafeEqual } from 'node:crypto';

/**
 * Whether two secrets (strings as UTF-8, or bytes) are equal, in time independent of where they differ;
 * a difference in length answers at once, which reveals only the length.
 *
 * @example
 * ```ts
 * constantTimeEqual(record.bindingHash, digest(binding)); // true or false
 * ```
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const left = typeof a === 'string' ? Buffer.from(a) : a;
  const right = typeof b === 'string' ? Buffer.from(b) : b;
  return left.length === right.length && timingSafeEqual(left, right);
}
