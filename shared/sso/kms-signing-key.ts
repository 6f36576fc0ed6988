import type { KeyObject } from 'node:crypto';
import { ExternalSigningKey } from 'oidc-provider';
import type { RsaKeyObjectSigner, Signer } from '../crypto/signer.js';

/**
 * The OpenID provider's view of the platform key: its public half, and signatures made in KMS.
 *
 * The platform's ES256 key, or its RS256 key for clients registered with `idTokenSignedResponseAlg:
 * "RS256"`. The provider asks for `keyObject()` synchronously, so the public key is fetched before the provider
 * is built and handed in. `sign` receives the JWS signing input and answers the 64-byte `r‖s`.
 *
 * @example
 * ```ts
 * const signer = new KmsSigner(kms, 'alias/elicence-platform');
 * const key = await kmsSigningKey(signer, await signer.publicKey());
 * new Provider(issuer, { jwks: { keys: [key] }, features: { externalSigningSupport: { enabled: true, ack } } });
 * ```
 */
export async function kmsSigningKey(
  signer: Signer | Omit<RsaKeyObjectSigner, 'publicKey'>,
  publicKey: KeyObject,
): Promise<ExternalSigningKey> {
  const kid = await signer.kid();
  return new (class KmsSigningKey extends ExternalSigningKey {
    override get kid(): string {
      return kid;
    }

    override get alg(): string {
      return signer.alg;
    }

    override keyObject(): KeyObject {
      return publicKey;
    }

    override async sign(data: Uint8Array): Promise<Uint8Array> {
      return signer.sign(data);
    }
  })();
}
