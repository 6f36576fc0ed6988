import { presentationJwksKid } from '../../packages/verifier/src/presentation-format.js';

/**
 * The keys of a JWKS without the short-kid entries under which it also lists each platform key for
 * presentations (shared/sso/presentation-kids.ts): the keys as JOSE names them, each once.
 */
export function thumbprintKeys<K extends { kid?: string }>(keys: readonly K[]): K[] {
  const short = new Set(keys.flatMap((key) => (key.kid ? [presentationJwksKid(key.kid)] : [])));
  return keys.filter((key) => !(key.kid && short.has(key.kid) && key.kid.length < 43));
}
