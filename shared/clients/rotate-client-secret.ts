import { ConflictError, NotFoundError } from '../errors.js';
import { onClientSecretKey, secretMarkersOf, secretVersionOf, type ClientSecrets } from './client-secrets.js';
import type { ClientStore } from './client-store.js';
import type { RegisteredClient } from './register-client.js';

/**
 * Gives a registered client a new secret, derived from the client-secret key, and answers it (shown once).
 * A client registered before that key (its secret the lookup key's MAC, which the internet-facing
 * functions can compute) moves onto it; a client already on it gets the next version of its secret (a
 * secret that leaked). Its previous secret is refused from then on: at once in the container that
 * answered, in the others once their copy of the registration expires (`CLIENT_CACHE_SECONDS`).
 * Concurrent rotations of one client answer the same secret (the version is derived from what was read).
 *
 * @throws NotFoundError `client_not_found` for a client not registered (the service's own page clients
 *   are not: their secrets derive from the web key).
 * @throws ConflictError `client_has_no_secret` for a public or `private_key_jwt` client;
 *   `client_secret_fixed` for one of the service's page clients (the demo platform), whose secret the web
 *   key derives.
 *
 * @example
 * ```ts
 * const { clientSecret } = await rotateClientSecret('cl_8Hk2mQ0xV3', { clients, secrets });
 * ```
 */
export async function rotateClientSecret(
  clientId: string,
  deps: { clients: ClientStore; secrets: ClientSecrets },
): Promise<RegisteredClient & { clientSecret: string }> {
  const found = await deps.clients.find(clientId);
  if (!found) throw new NotFoundError(`No client ${clientId}`, 'client_not_found');
  if (deps.secrets.isPageClient(clientId)) {
    // Its secret is the web key's MAC whatever its record says: a new one here would not work.
    throw new ConflictError(
      `Client ${clientId} is one of the service's own pages: its secret derives from the web key (WEB_KEY_ID)`,
      'client_secret_fixed',
    );
  }
  const method = found.token_endpoint_auth_method ?? 'client_secret_basic';
  if (!method.startsWith('client_secret')) {
    throw new ConflictError(
      `Client ${clientId} authenticates with ${method}: it has no secret`,
      'client_has_no_secret',
    );
  }
  const current = secretVersionOf(secretMarkersOf(found));
  const markers = onClientSecretKey(current === undefined ? 1 : current + 1);
  const { secret_version: _previous, ...rest } = found;
  await deps.clients.save({ ...rest, client_id: clientId, ...markers });
  return { clientId, clientSecret: await deps.secrets.secretFor(clientId, markers) };
}
