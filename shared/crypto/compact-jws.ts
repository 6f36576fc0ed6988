import { lowS } from './der.js';
import type { Signer } from './signer.js';

const encoder = new TextEncoder();
const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/**
 * Signs a compact JWS (RFC 7515) with a {@link Signer}: one signature, in whatever keystore holds the key.
 * The header always carries `alg` (pinned to the signer's) and `kid`; `typ` is the caller's.
 *
 * @example
 * ```ts
 * const jws = await signCompactJws({ typ: 'statuslist+jwt' }, { sub: uri, iat }, issuerSigner);
 * ```
 */
export async function signCompactJws(
  header: { typ: string } & Record<string, unknown>,
  payload: Record<string, unknown>,
  signer: Signer,
): Promise<string> {
  const protectedHeader = { ...header, alg: signer.alg, kid: await signer.kid() };
  const signingInput = `${base64url(encoder.encode(JSON.stringify(protectedHeader)))}.${base64url(encoder.encode(JSON.stringify(payload)))}`;
  const signature = await signer.sign(encoder.encode(signingInput));
  return `${signingInput}.${base64url(signature)}`;
}

/**
 * An ES256 compact JWS with its signature in low-S form (`der.ts`, {@link lowS}): the same header,
 * payload and validity, but the one encoding verifiers accept. Signatures made before every signer
 * normalised them are high-S half the time; reading a stored credential through this serves it in its
 * one accepted form, with no KMS call. Anything that is not a three-part ES256 JWS with a 64-byte
 * signature is returned unchanged.
 *
 * @example
 * ```ts
 * const credential = lowSCompactJws(item.credential);
 * ```
 */
export function lowSCompactJws(jws: string): string {
  const parts = jws.split('.');
  if (parts.length !== 3 || !isEs256Header(parts[0] ?? '')) return jws;
  const dot = jws.lastIndexOf('.');
  const signature = Buffer.from(jws.slice(dot + 1), 'base64url');
  if (signature.length !== 64) return jws;
  const low = lowS(signature);
  return low === signature ? jws : `${jws.slice(0, dot + 1)}${base64url(low)}`;
}

function isEs256Header(encoded: string): boolean {
  try {
    return (JSON.parse(Buffer.from(encoded, 'base64url').toString()) as { alg?: unknown }).alg === 'ES256';
  } catch {
    return false;
  }
}
