import { AesGcmSealer } from '../crypto/aes-gcm-sealer.js';

/**
 * Seals what the OpenID provider stores of an authorization request (its parameters, `login_hint` and
 * `id_token_hint` included) with AES-256-GCM, bound to the item it belongs to (the additional data), so
 * that the table holds no ID number a platform put in a request and no payload opens under another key.
 */
export interface PayloadSealer {
  seal(boundTo: string, payload: unknown): Promise<string>;
  /** The payload sealed for `boundTo`; throws when it was not (altered, moved, or another key). */
  open(boundTo: string, sealed: string): Promise<unknown>;
}

/**
 * {@link PayloadSealer} on the service's one sealing mechanism ({@link AesGcmSealer}), with a key derived
 * from the web key, cached per container.
 *
 * @example
 * ```ts
 * const sealer = new AesGcmPayloadSealer(() => derivedSecret(webMac, 'oidc-payload/v1'));
 * const sealed = await sealer.seal('oidc#Interaction#abc', { params: { login_hint: '…' } });
 * ```
 */
export { AesGcmSealer as AesGcmPayloadSealer };
