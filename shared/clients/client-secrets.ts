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

  /**
   * @param mac derives every registered client's secret.
   * @param pageClients the service's own page clients, whose secrets derive from the web key instead, so
   *   that the page functions, which hold only that key, can authenticate as themselves and as no one else.
   */
  constructor(
    private readonly mac: Mac,
    private readonly pageClients?: { ids: readonly string[]; mac: Mac },
  ) {}

  secretFor(clientId: string): Promise<string> {
    let secret = this.#cache.get(clientId);
    if (!secret) {
      const mac = this.pageClients?.ids.includes(clientId) ? this.pageClients.mac : this.mac;
      secret = mac
        .mac(new TextEncoder().encode(label + clientId))
        .then((bytes) => Buffer.from(bytes).toString('base64url'));
      secret.catch(() => this.#cache.delete(clientId));
      this.#cache.set(clientId, secret);
    }
    return secret;
  }
}
