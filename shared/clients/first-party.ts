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
