/**
 * The platform keys under the `kid` presentations name them by. A presentation's COSE `kid` is 8 bytes
 * of the key's RFC 7638 thumbprint (the QR code stays at version 12; the whole thumbprint would not), and a
 * COSE library looks a key up as the JWK whose `kid` is the base64url of those bytes. So the JWKS lists
 * each ES256 platform key twice: under its thumbprint (JOSE: ID tokens, the trust list) and under that
 * short form (COSE: presentations). Same key, same public members; see docs/verifier.md.
 *
 * @packageDocumentation
 */
import { presentationJwksKid } from '../../packages/verifier/src/presentation-format.js';
import type { HttpResult } from '../http/types.js';

interface Jwk {
  kty?: unknown;
  crv?: unknown;
  kid?: unknown;
  [member: string]: unknown;
}

/**
 * The JWKS answer with each P-256 key also under its presentation kid (after all the others, so a
 * library that takes the first key of an algorithm still takes the provider's current signing key).
 * Anything that is not a JSON JWKS passes unchanged.
 *
 * @example
 * ```ts
 * return withPresentationKids(await serve(request)); // for GET /.well-known/jwks.json
 * ```
 */
export function withPresentationKids(result: HttpResult): HttpResult {
  if (result.statusCode !== 200 || result.isBase64Encoded || typeof result.body !== 'string') return result;
  let jwks: { keys?: unknown };
  try {
    jwks = JSON.parse(result.body) as { keys?: unknown };
  } catch {
    return result;
  }
  if (!Array.isArray(jwks.keys)) return result;
  const keys = jwks.keys as Jwk[];
  const kids = new Set(keys.map((key) => key.kid));
  const short = keys.flatMap((key) => {
    if (key.kty !== 'EC' || key.crv !== 'P-256' || typeof key.kid !== 'string') return [];
    const kid = presentationJwksKid(key.kid);
    return kids.has(kid) ? [] : [{ ...key, kid }];
  });
  if (short.length === 0) return result;
  const headers = Object.fromEntries(
    Object.entries(result.headers ?? {}).filter(([name]) => !/^(content-length|etag)$/i.test(name)),
  );
  return { ...result, headers, body: JSON.stringify({ ...jwks, keys: [...keys, ...short] }) };
}
