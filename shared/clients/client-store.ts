import type { ClientMetadata } from 'oidc-provider';
import type { Trace } from '../pending-work/pending-work.js';

/**
 * Where OAuth clients are registered: the same records the OpenID provider loads. Contract: `save`
 * stores the metadata without any `client_secret` (secrets are derived, see `ClientSecrets`);
 * `delete` removes a client and is a no-op for an unknown id; `find` answers what `save` stored (never a
 * secret), or `undefined` for an unknown or deleted client; `update` changes only the members `change`
 * names (`set` to the values given, `remove` taken out) of a registered client, every other member staying
 * as stored, whatever another writer saved since the caller read it (an operator's change and a secret's
 * rotation at the same moment each keep the other's), and answers false, writing nothing, for an unknown
 * client.
 */
export interface ClientStore {
  save(metadata: ClientMetadata & { client_id: string }): Promise<void>;
  /**
   * A new client (an operator's registration), written with the pointer that carries its audit entry
   * (`trace`, in the index of operators' changes), all or nothing: no client is registered untraced. An id
   * already registered is `ConflictError` `client_exists`, nothing written (ids are random: never in use).
   */
  register(metadata: ClientMetadata & { client_id: string }, trace: Trace): Promise<void>;
  /**
   * Writes the change with the pointer that carries its audit entry (`trace`,
   * shared/pending-work/pending-work.ts, in the index of operators' changes), all or nothing: an
   * operator's change of a client is never made untraced. Another write of the client under way at that
   * moment may refuse it (`ConflictError` `client_changed`, nothing written: ask again).
   */
  update(clientId: string, change: ClientChange, trace: Trace): Promise<boolean>;
  delete(clientId: string): Promise<void>;
  find(clientId: string): Promise<ClientMetadata | undefined>;
}

/** A change of some members of a client record: never `client_id`, never a secret. */
export interface ClientChange {
  set?: Readonly<Record<string, unknown>>;
  remove?: readonly string[];
}
