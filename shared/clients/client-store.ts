import type { ClientMetadata } from 'oidc-provider';

/**
 * Where OAuth clients are registered: the same records the OpenID provider loads. Contract: `save`
 * stores the metadata without any `client_secret` (secrets are derived, see `ClientSecrets`);
 * `delete` removes a client and is a no-op for an unknown id; `find` answers what `save` stored (never a
 * secret), or `undefined` for an unknown or deleted client.
 */
export interface ClientStore {
  save(metadata: ClientMetadata & { client_id: string }): Promise<void>;
  delete(clientId: string): Promise<void>;
  find(clientId: string): Promise<ClientMetadata | undefined>;
}
