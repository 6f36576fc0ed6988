import { epochSeconds, type Clock } from '../../clock.js';
import {
  sharingGrantOf,
  type ClientNames,
  type SharingGrant,
  type SharingGrants,
  type StoredGrant,
} from '../../sharing/authorizations.js';
import { createDynamoAdapter, grantsOfPerson, type DynamoAdapterDeps } from './oidc-adapter.js';

/**
 * {@link SharingGrants} on the OpenID provider's own storage: a share is a provider Grant (`oidc#Grant#…`)
 * carrying `licence_access` details, listed per person through gsi2, and withdrawn as the provider revokes
 * a grant (`revokeByGrantId`: every code and token of it, then the grant itself).
 */
export class DynamoSharingGrants implements SharingGrants {
  readonly #deps: DynamoAdapterDeps;
  readonly #grants;

  constructor(deps: { doc: DynamoAdapterDeps['doc']; tableName: string; clock: Clock }) {
    this.#deps = deps;
    this.#grants = new (createDynamoAdapter(deps))('Grant');
  }

  async listOf(personId: string): Promise<SharingGrant[]> {
    const found = await grantsOfPerson(this.#deps, personId);
    return found.flatMap(({ id, payload }) => {
      const grant = sharingGrantOf(id, payload as StoredGrant, epochSeconds(this.#deps.clock));
      return grant ? [grant] : [];
    });
  }

  async find(grantId: string): Promise<SharingGrant | undefined> {
    const payload = await this.#grants.find(grantId);
    return payload
      ? sharingGrantOf(grantId, payload as StoredGrant, epochSeconds(this.#deps.clock))
      : undefined;
  }

  async revoke(grantId: string): Promise<void> {
    // Tokens first: were the grant deleted first and this fail half way, tokens would outlive it unseen.
    await this.#grants.revokeByGrantId(grantId);
    await this.#grants.destroy(grantId);
  }
}

/** The registered platforms' names (`client_name`), read from the provider's client records. */
export class DynamoClientNames implements ClientNames {
  readonly #clients;

  constructor(deps: { doc: DynamoAdapterDeps['doc']; tableName: string; clock: Clock }) {
    this.#clients = new (createDynamoAdapter(deps))('Client');
  }

  async nameOf(clientId: string): Promise<string | undefined> {
    const client = await this.#clients.find(clientId);
    return typeof client?.client_name === 'string' ? client.client_name : undefined;
  }
}
