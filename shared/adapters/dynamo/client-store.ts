import type { Adapter, ClientMetadata } from 'oidc-provider';
import type { ClientChange, ClientStore } from '../../clients/client-store.js';
import type { Trace } from '../../pending-work/pending-work.js';
import { putNewClient, updateClientMembers, type DynamoAdapterDeps } from './oidc-adapter.js';

/**
 * {@link ClientStore} through the provider's own storage adapter, so the provider finds what we save; an
 * `update` is one transaction of an UpdateItem of the members changed, on the same item, and the put of
 * the pointer that carries its audit entry (`updateClientMembers`); a `register` the same of a
 * conditional put of the record as the adapter stores it (`putNewClient`).
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

  register(metadata: ClientMetadata & { client_id: string }, trace: Trace): Promise<void> {
    const { client_secret: _secret, ...stored } = metadata;
    return putNewClient(this.table, metadata.client_id, stored, trace);
  }

  update(clientId: string, change: ClientChange, trace: Trace): Promise<boolean> {
    return updateClientMembers(this.table, clientId, change, trace);
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
