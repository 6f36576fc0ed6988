import type { ClientMetadata } from 'oidc-provider';

/**
 * Where OAuth clients are registered: the same records the OpenID provider loads. Contract: `save`
 * stores the metadata without any `client_secret` (secrets are derived, see `ClientSecrets`);
 * `delete` removes a client and is a no-op for an unknown id.
 */
export interface ClientStore {
  save(metadata: ClientMetadata & { client_id: string }): Promise<void>;
  delete(clientId: string): Promise<void>;
}
