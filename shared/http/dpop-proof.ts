import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { AuthenticationError } from './api-handler.js';
import { dpopProofWindowSeconds, dpopSigningAlgs } from './dpop.js';

/** What a DPoP proof that holds says: its key's thumbprint (RFC 7638), its id and when it was made. */
export interface DpopProof {
  thumbprint: string;
  jti: string;
  iat: number;
}

/** What the proof must match: the request as the client sent it, and the access token it comes with. */
export interface DpopRequest {
  /** The request's method, as API Gateway hands it (`GET`, `POST`). */
  method: string;
  /** The URL the client called: the public base URL's origin and the request's path, no query. */
  url: string;
  /** The access token of the `Authorization: DPoP` header, which the proof's `ath` must hash. */
  accessToken: string;
  nowSeconds: number;
}

/**
 * A proof far larger than any a key's header and the few claims make is refused before it is parsed: an
 * RSA key is not among the algorithms, and an EC or Ed25519 proof is under 1 KB.
 */
const maxProofLength = 4096;
/** A `jti` longer than this is no random id (RFC 9449 §4.2 asks for enough entropy, not a document). */
const maxJtiLength = 256;
/** One compact JWS: a second `DPoP` header, which a gateway joins with a comma, is no proof (§4.3). */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const refused = (message: string) => new AuthenticationError('invalid_dpop_proof', 401, message, 'DPoP');

/** The URL a proof's `htu` names, without query and fragment (RFC 9449 §4.3 step 9), or undefined. */
function withoutQuery(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
}

/**
 * Checks a DPoP proof (RFC 9449 §4.3) against the request it came with, with no I/O: one compact JWT of
 * `typ` `dpop+jwt`, signed with one of {@link dpopSigningAlgs} by the public key in its own `jwk` header
 * (never a private one), made within {@link dpopProofWindowSeconds} of now (`iat`), for this method
 * (`htm`) and URL (`htu`, query and fragment ignored), with a `jti`, and for this access token (`ath`,
 * the base64url SHA-256 of it). Answers its key's thumbprint, which the caller compares with the token's
 * `jkt`, and its `jti`, which the caller marks used. Any failure is a 401 `invalid_dpop_proof`.
 *
 * @example
 * ```ts
 * const proof = await verifyDpopProof(header(event, 'dpop'), { method: 'GET', url, accessToken, nowSeconds });
 * if (proof.thumbprint !== record.jkt) throw …;
 * ```
 */
export async function verifyDpopProof(proof: string | undefined, request: DpopRequest): Promise<DpopProof> {
  // 1. One proof, of a sane size, in compact form.
  if (proof === undefined || proof.length === 0) {
    throw refused('A DPoP request needs a DPoP header with a proof (RFC 9449)');
  }
  if (proof.length > maxProofLength || !compactJws.test(proof)) {
    throw refused('The DPoP header must hold one DPoP proof, a compact JWT');
  }
  // 2. Its signature by the public key it carries, with an algorithm of ours, and its type.
  let payload: Record<string, unknown>;
  let thumbprint: string;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, {
      algorithms: [...dpopSigningAlgs],
      typ: 'dpop+jwt',
      currentDate: new Date(request.nowSeconds * 1000),
    });
    payload = verified.payload;
    // RFC 7638 over the key's required members only, as oidc-provider computed the token's `jkt`.
    thumbprint = await calculateJwkThumbprint(verified.protectedHeader.jwk as JWK, 'sha256');
  } catch {
    throw refused(
      `The DPoP proof must be a JWT of typ dpop+jwt signed (${dpopSigningAlgs.join(', ')}) by the public key in its jwk header`,
    );
  }
  // 3. Made now, once: `iat` within the window, a `jti`.
  const { iat, jti, htm, htu, ath } = payload;
  if (typeof iat !== 'number' || Math.abs(request.nowSeconds - iat) > dpopProofWindowSeconds) {
    throw refused(`The DPoP proof's iat must be within ${dpopProofWindowSeconds} seconds of now`);
  }
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > maxJtiLength) {
    throw refused('The DPoP proof needs a jti (a unique id)');
  }
  // 4. For this request: its method and URL.
  if (htm !== request.method) {
    throw refused(`The DPoP proof's htm must be this request's method, ${request.method}`);
  }
  const expected = withoutQuery(request.url);
  if (expected === undefined || withoutQuery(htu) !== expected) {
    throw refused(`The DPoP proof's htu must be this request's URL${expected ? `, ${expected}` : ''}`);
  }
  // 5. For this access token.
  if (ath !== createHash('sha256').update(request.accessToken).digest('base64url')) {
    throw refused("The DPoP proof's ath must be the base64url SHA-256 of the access token");
  }
  return { thumbprint, jti, iat };
}
