import type { Adapter, ClientMetadata } from 'oidc-provider';
import type { ClientStore } from '../../clients/client-store.js';

/** {@link ClientStore} through the provider's own storage adapter, so the provider finds what we save. */
export class DynamoClientStore implements ClientStore {
  readonly #clients: Adapter;

  constructor(AdapterClass: new (model: string) => Adapter) {
    this.#clients = new AdapterClass('Client');
  }

  async save(metadata: ClientMetadata & { client_id: string }): Promise<void> {
    const { client_secret: _secret, ...stored } = metadata;
    await this.#clients.upsert(metadata.client_id, stored, 0);
  }

  async delete(clientId: string): Promise<void> {
    await this.#clients.destroy(clientId);
  }

  async find(clientId: string): Promise<ClientMetadata | undefined> {
    const found = await this.#clients.find(clientId);
    if (!found) return undefined;
    const { client_secret: _secret, ...stored } = found as ClientMetadata;
    return stored as ClientMetadata;
  }
}
