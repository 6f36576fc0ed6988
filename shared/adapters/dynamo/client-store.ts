import type { Adapter, ClientMetadata } from 'oidc-provider';
import type { ClientChange, ClientStore } from '../../clients/client-store.js';
import { updateClientMembers, type DynamoAdapterDeps } from './oidc-adapter.js';

/**
 * {@link ClientStore} through the provider's own storage adapter, so the provider finds what we save; an
 * `update` is one UpdateItem of the members changed, on the same item (`updateClientMembers`).
 */
export class DynamoClientStore implements ClientStore {
  readonly #clients: Adapter;

  constructor(
    AdapterClass: new (model: string) => Adapter,
    private readonly table: Pick<DynamoAdapterDeps, 'doc' | 'tableName'>,
  ) {
    this.#clients = new AdapterClass('Client');
  }

  async save(metadata: ClientMetadata & { client_id: string }): Promise<void> {
    const { client_secret: _secret, ...stored } = metadata;
    await this.#clients.upsert(metadata.client_id, stored, 0);
  }

  update(clientId: string, change: ClientChange): Promise<boolean> {
    return updateClientMembers(this.table, clientId, change);
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
