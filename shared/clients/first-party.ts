import { ForbiddenError } from '../errors.js';
import { walletClientId } from '../identifiers/client-ids.js';
import type { ClientStore } from './client-store.js';

/** What {@link isFirstPartyClient} reads: the registered clients (the wallet needs no read). */
export interface FirstPartyDependencies {
  clientReader: Pick<ClientStore, 'find'>;
}

/**
 * Whether a client is part of the service rather than a platform that signs people in: the wallet, or a
 * client registered with `first_party`. Such a client never meets the consent page, and it alone may use
 * the routes that act as the person on the account itself (appointing an enterprise's agents, making
 * presentations, passkeys, the usage record, withdrawing shares). A platform's consent covers reading
 * (a scope's claims, the person's licences), not these.
 *
 * @example
 * ```ts
 * if (!(await isFirstPartyClient(caller.clientId, deps))) await recordShares(…);
 * ```
 */
export async function isFirstPartyClient(clientId: string, deps: FirstPartyDependencies): Promise<boolean> {
  if (clientId === walletClientId) return true;
  return (await deps.clientReader.find(clientId))?.first_party === true;
}

/**
 * Refuses (403 `first_party_only`) a caller whose token was issued to a client that is not first-party
 * ({@link isFirstPartyClient}): `message` says where the person does this instead.
 *
 * @example
 * ```ts
 * await requireFirstParty(caller.clientId, deps, 'Agents are appointed in the wallet (我的证照) only');
 * ```
 */
export async function requireFirstParty(
  clientId: string,
  deps: FirstPartyDependencies,
  message: string,
): Promise<void> {
  if (!(await isFirstPartyClient(clientId, deps))) throw new ForbiddenError(message, 'first_party_only');
}

/** The scope of the holder API (`/me/licences…`): first-party clients only (privacy review R9 H1). */
export const holderScope = 'licences';

/**
 * A client's metadata as the provider may use it: a client registered with `licences` before only
 * first-party clients could be (register-client.ts) keeps its other scopes, and asking for `licences`
 * gets it `invalid_scope` at the authorization endpoint, as for any scope it was never registered for.
 * Its tokens that already carry the scope are refused by the holder routes (`requireFirstParty`), so it
 * fails closed twice; its grants stay (the sign-in's own scopes), listed and withdrawable in the wallet.
 *
 * @example
 * ```ts
 * withoutHolderScopeUnlessFirstParty({ client_id: 'cl_1', scope: 'openid licences' }); // scope 'openid'
 * ```
 */
export function withoutHolderScopeUnlessFirstParty<T extends { scope?: unknown; first_party?: unknown }>(
  client: T,
): T {
  if (client.first_party === true || typeof client.scope !== 'string') return client;
  const scopes = client.scope.split(' ');
  if (!scopes.includes(holderScope)) return client;
  return { ...client, scope: scopes.filter((scope) => scope !== holderScope).join(' ') };
}

/**
 * Refuses (403 `first_party_only`) a caller of the holder API's licence routes (`GET /me/licences`,
 * `GET /licences/{id}` with a person's token, `GET /me/licences/{id}/pdf` and `…/pdf.jws`) whose client is
 * not first-party: every licence the person holds is the service's own apps' to read. A platform reads
 * licences only through a share (授权用证, `GET /shared/licences`), per type, with a purpose and an
 * expiry the person approved and can withdraw (privacy review R9 H1).
 *
 * @example
 * ```ts
 * await requireHolderApp(caller.clientId, deps);
 * ```
 */
export function requireHolderApp(clientId: string, deps: FirstPartyDependencies): Promise<void> {
  return requireFirstParty(
    clientId,
    deps,
    'Licences are read in a first-party app (the wallet, 我的证照) only: a platform asks for them with authorization_details of type licence_access (docs/sharing.md)',
  );
}
