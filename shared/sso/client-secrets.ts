import type { Mac } from '../crypto/mac.js';

const label = 'elicence/oauth-client-secret/v1\0';

/**
 * Client secrets that are never stored: each is the HMAC (a KMS key that never leaves KMS) of its client
 * id, recomputed when the provider loads the client. A copy of the table therefore yields no usable
 * secret, and the secret shown once at registration is reproducible only by the service.
 *
 * Results are cached for the life of the container: client authentication must not cost a KMS call
 * per token request.
 *
 * @example
 * ```ts
 * const secrets = new ClientSecrets(new KmsMac(kms, 'alias/elicence-lookup-mac'));
 * const secret = await secrets.secretFor('cl_3f9a…');
 * ```
 */
export class ClientSecrets {
  readonly #cache = new Map<string, Promise<string>>();

  constructor(private readonly mac: Mac) {}

  secretFor(clientId: string): Promise<string> {
    let secret = this.#cache.get(clientId);
    if (!secret) {
      secret = this.mac
        .mac(new TextEncoder().encode(label + clientId))
        .then((bytes) => Buffer.from(bytes).toString('base64url'));
      secret.catch(() => this.#cache.delete(clientId));
      this.#cache.set(clientId, secret);
    }
    return secret;
  }
}
