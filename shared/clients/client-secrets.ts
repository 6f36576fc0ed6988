import type { Mac } from '../crypto/mac.js';
import { InternalError } from '../errors.js';
import { logger } from '../logger.js';

const label = 'elicence/oauth-client-secret/v1\0';

/**
 * The marker, on a client's record (`secret_key`), of a secret derived from the client-secret key. A
 * record without it is a client registered before that key existed, whose secret is still the MAC under
 * the lookup key until an operator rotates it (`POST /admin/clients/{id}/secret`).
 */
export const clientSecretKeyMarker = 'client-secret';

/**
 * What a client's record says of its secret: which key it derives from (`secret_key`, absent for the
 * lookup key of clients registered before the client-secret key) and, after a rotation on that key, its
 * version (`secret_version`, absent for 1). Stored with the client's metadata; never a secret.
 */
export interface ClientSecretMarkers {
  secret_key?: unknown;
  secret_version?: unknown;
}

/**
 * The markers of a secret on the client-secret key, at `version` (1 for a client registered on it).
 *
 * @example
 * ```ts
 * await clients.save({ ...metadata, ...onClientSecretKey() }); // { secret_key: 'client-secret' }
 * ```
 */
export function onClientSecretKey(version = 1): { secret_key: string; secret_version?: number } {
  return { secret_key: clientSecretKeyMarker, ...(version > 1 ? { secret_version: version } : {}) };
}

/**
 * The markers of a stored client record (its metadata as saved), nothing else of it.
 *
 * @example
 * ```ts
 * const markers = secretMarkersOf((await clients.find(clientId)) ?? {}); // {} for a legacy client
 * ```
 */
export function secretMarkersOf(record: Readonly<Record<string, unknown>>): ClientSecretMarkers {
  return {
    ...(record.secret_key !== undefined && { secret_key: record.secret_key }),
    ...(record.secret_version !== undefined && { secret_version: record.secret_version }),
  };
}

/**
 * The version of the client-secret key's secret a record names, or `undefined` for a legacy record (no
 * marker: the lookup key). A marker this code does not know fails closed: no secret is derived for it.
 */
export function secretVersionOf(markers: ClientSecretMarkers): number | undefined {
  if (!knownSecretMarkers(markers)) {
    throw new InternalError('A client record names a secret key this service does not know');
  }
  if (markers.secret_key === undefined) return undefined;
  return (markers.secret_version as number | undefined) ?? 1;
}

/**
 * Whether this code knows the secret a record's markers name: none (a legacy record), or the
 * client-secret key at a whole version from 1. Anything else (a marker written by a newer or older
 * release, or by hand) derives no secret.
 *
 * @example
 * ```ts
 * knownSecretMarkers({ secret_key: 'client-secret', secret_version: 2 }); // true
 * knownSecretMarkers({ secret_key: 'lookup-v2' }); // false
 * ```
 */
export function knownSecretMarkers(markers: ClientSecretMarkers): boolean {
  if (markers.secret_key === undefined) return true;
  const version = markers.secret_version ?? 1;
  return (
    markers.secret_key === clientSecretKeyMarker &&
    typeof version === 'number' &&
    Number.isSafeInteger(version) &&
    version >= 1
  );
}

/**
 * Client secrets that are never stored: each is the HMAC (a KMS key that never leaves KMS) of its client
 * id, recomputed when the provider loads the client. A copy of the table therefore yields no usable
 * secret, and the secret shown once at registration is reproducible only by the service.
 *
 * The key is the client-secret key, which only the OpenID provider (authenticating clients) and the
 * operators' API (showing a secret once) hold: a function holding only the lookup key (the holder,
 * issuer and account APIs) cannot compute any client's secret. Clients registered before that key
 * (their record without `secret_key`) keep their lookup-key secret until rotated onto it.
 *
 * Results are cached for the life of the container: client authentication must not cost a KMS call
 * per token request.
 *
 * @example
 * ```ts
 * const secrets = new ClientSecrets({ clientSecret: new KmsMac(kms, 'alias/elicence-client-secret') });
 * const secret = await secrets.secretFor('cl_3f9a…', { secret_key: 'client-secret' });
 * ```
 */
export class ClientSecrets {
  readonly #cache = new Map<string, Promise<string>>();

  /**
   * @param keys.clientSecret derives every registered client's secret.
   * @param keys.lookup derives the secrets of clients registered before the client-secret key (no
   *   marker on their record); absent, such a secret is refused (a function that only registers clients).
   * @param keys.pageClients the service's own page clients, whose secrets derive from the web key instead,
   *   so that the page functions, which hold only that key, can authenticate as themselves and as no one
   *   else.
   */
  constructor(
    private readonly keys: {
      clientSecret: Mac;
      lookup?: Mac;
      pageClients?: { ids: readonly string[]; mac: Mac };
    },
  ) {}

  /** Whether `clientId` is one of the service's page clients, whose secret derives from the web key. */
  isPageClient(clientId: string): boolean {
    return this.keys.pageClients?.ids.includes(clientId) ?? false;
  }

  /**
   * The secret of `clientId`, from the key its record names (`stored`: the record, or its markers; a
   * page client's are ignored).
   */
  secretFor(clientId: string, stored: ClientSecretMarkers = {}): Promise<string> {
    const page = this.isPageClient(clientId);
    if (!page && !knownSecretMarkers(stored)) {
      // Fails closed (no secret, so the client cannot authenticate), but tells the operator why: a record
      // written by another release or by hand, which POST /admin/clients/{id}/secret also refuses (409).
      logger.error('client record names an unknown secret key: the client cannot authenticate', {
        clientId,
        secretKey: String(stored.secret_key),
        secretVersion: String(stored.secret_version),
      });
    }
    const version = page ? undefined : secretVersionOf(stored);
    const cacheKey = `${page ? 'page' : (version ?? 'lookup')}\0${clientId}`;
    let secret = this.#cache.get(cacheKey);
    if (!secret) {
      const mac = page ? this.keys.pageClients!.mac : version ? this.keys.clientSecret : this.keys.lookup;
      // A version after the first is a rotation: the same key, another message.
      const message = label + clientId + (version && version > 1 ? `\0${version}` : '');
      secret = mac
        ? mac.mac(new TextEncoder().encode(message)).then((bytes) => Buffer.from(bytes).toString('base64url'))
        : Promise.reject(
            new InternalError('This function derives no secret of a client registered before its own key'),
          );
      secret.catch(() => this.#cache.delete(cacheKey));
      this.#cache.set(cacheKey, secret);
    }
    return secret;
  }
}
