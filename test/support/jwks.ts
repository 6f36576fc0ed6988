import { presentationJwksKid } from '../../packages/verifier/src/presentation-format.js';

/**
 * The keys of a JWKS without short-kid entries (the 8-byte presentation kid), each key once as JOSE names
 * it. The JWKS listed each platform key under that short kid too until presentations had a key of their
 * own (review R7 M1); it no longer does, so this now keeps every key, and guards against its return.
 */
export function thumbprintKeys<K extends { kid?: string }>(keys: readonly K[]): K[] {
  const short = new Set(keys.flatMap((key) => (key.kid ? [presentationJwksKid(key.kid)] : [])));
  return keys.filter((key) => !(key.kid && short.has(key.kid) && key.kid.length < 43));
}
