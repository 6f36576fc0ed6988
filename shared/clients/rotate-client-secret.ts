import { ConflictError, NotFoundError } from '../errors.js';
import { logger } from '../logger.js';
import { saveClientChange, type ClientChangeDependencies } from './client-audit.js';
import {
  knownSecretMarkers,
  onClientSecretKey,
  secretMarkersOf,
  secretVersionOf,
  type ClientSecrets,
} from './client-secrets.js';
import type { RegisteredClient } from './register-client.js';

/** Who asks for a rotation: the operator's client, and the request (for the audit entry). */
export interface RotationContext {
  clientId: string;
  requestId?: string | undefined;
}

/**
 * Gives a registered client a new secret, derived from the client-secret key, and answers it (shown once).
 * A client registered before that key (its secret the lookup key's MAC, which the internet-facing
 * functions can compute) moves onto it; a client already on it gets the next version of its secret (a
 * secret that leaked). Its previous secret is refused from then on: at once in the container that
 * answered, in the others once their copy of the registration expires (`CLIENT_CACHE_SECONDS`).
 * Concurrent rotations of one client answer the same secret (the version is derived from what was read).
 * Only the secret's markers are written (`ClientStore.update`), so that a change of the client's other
 * members saved meanwhile is kept.
 *
 * Every rotation is recorded (`client.secret_rotated`: the operator's client, the client rotated, the new
 * version; never the secret) in the same write as the rotation (`saveClientChange`), and written before
 * the secret is answered: a rotation hands a working secret of any issuer's or operator's client to the
 * caller, and locks its holder out. When the entry cannot be written at once no secret is answered (the
 * record already names the new version, which nobody was shown: rotating again gives the next one); the
 * rotation stands, traced all the same: the reconciler writes its entry a minute later (it used to be
 * lost).
 *
 * @throws NotFoundError `client_not_found` for a client not registered (the service's own page clients
 *   are not: their secrets derive from the web key).
 * @throws ConflictError `client_has_no_secret` for a public or `private_key_jwt` client;
 *   `client_secret_fixed` for one of the service's page clients (the demo platform), whose secret the web
 *   key derives; `client_secret_key_unknown` for a record whose `secret_key`/`secret_version` this service
 *   does not know (written by another release or by hand): no secret is derived for it until an operator
 *   mends the record.
 *
 * @example
 * ```ts
 * const { clientSecret } = await rotateClientSecret('cl_8Hk2mQ0xV3', { clientId: 'cl_op' }, deps);
 * ```
 */
export async function rotateClientSecret(
  clientId: string,
  context: RotationContext,
  deps: ClientChangeDependencies & { secrets: ClientSecrets },
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
  const markers = secretMarkersOf(found);
  if (!knownSecretMarkers(markers)) {
    // Still fail closed (no secret derived from a marker not understood), but say what is wrong: this is
    // the operator's to mend, not a fault of the service.
    logger.error('client record names an unknown secret key: not rotated, and it cannot authenticate', {
      clientId,
      secretKey: String(markers.secret_key),
      secretVersion: String(markers.secret_version),
    });
    throw new ConflictError(
      `Client ${clientId}'s record names a secret key this service does not know (secret_key/secret_version): an operator must mend the record`,
      'client_secret_key_unknown',
    );
  }
  const current = secretVersionOf(markers);
  const version = current === undefined ? 1 : current + 1;
  const next = onClientSecretKey(version);
  // Its secret's markers alone: an operator's change saved meanwhile (`updateClient`) stays. With them
  // its trace (a client deleted meanwhile: 404, nothing written).
  await saveClientChange(
    clientId,
    { set: next, ...(next.secret_version === undefined && { remove: ['secret_version'] }) },
    {
      at: new Date(deps.clock.now()).toISOString(),
      actor: context.clientId,
      action: 'client.secret_rotated',
      targetClientId: clientId,
      secretVersion: version,
      ...(context.requestId !== undefined && { requestId: context.requestId }),
    },
    deps,
    // The new secret is answered only once its rotation's entry is written (fail closed).
    { discloses: true },
  );
  return { clientId, clientSecret: await deps.secrets.secretFor(clientId, next) };
}
