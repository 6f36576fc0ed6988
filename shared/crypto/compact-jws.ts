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
