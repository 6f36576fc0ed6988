import type { ClientMetadata } from 'oidc-provider';
import { walletClientId } from '../identifiers/client-ids.js';
import { clientMetadata, registerClientInput } from './register-client.js';

/** The ids of the clients {@link builtInClient} answers (no metadata built, for a cheap check). */
export const builtInClientIds: readonly string[] = [walletClientId];

/**
 * Clients that are part of the service rather than registered: the provider finds them in code, so a
 * fresh deployment signs people into the wallet with nothing to register by hand. Their secrets are
 * derived like every other client's (`ClientSecrets`).
 *
 * The wallet is first-party (no consent page) and asks for `licences` (the holder API) and, when a person
 * signs in to act for an enterprise, `entity`.
 */
export function builtInClient(
  clientId: string,
  issuerUrl: string,
): (ClientMetadata & { client_id: string }) | undefined {
  if (!builtInClientIds.includes(clientId)) return undefined;
  return clientMetadata(
    walletClientId,
    registerClientInput.parse({
      name: '电子证照钱包 · E-licence wallet',
      redirectUris: [`${issuerUrl}/wallet/callback`],
      postLogoutRedirectUris: [`${issuerUrl}/wallet`],
      scopes: ['openid', 'profile', 'licences', 'entity'],
      firstParty: true,
    }),
  );
}
