import type { ClientMetadata } from 'oidc-provider';
import { consoleClientId, walletClientId } from '../identifiers/client-ids.js';
import { clientMetadata, registerClientInput } from './register-client.js';

/** The ids of the clients {@link builtInClient} answers (no metadata built, for a cheap check). */
export const builtInClientIds: readonly string[] = [walletClientId, consoleClientId];

/**
 * The level a clerk signs in to the issuer console at (`urn:elicence:loa:3`): real-name plus proof that
 * the person is the one the number names (an SMS code to the phone the carrier confirms, a passkey, or a
 * scan from a level-3 wallet: a second factor beside the password). A clerk's appointment is keyed by an
 * ID number, so at level 2 anyone who knows a clerk's number and name could register it and sign licences
 * as that clerk; the representative who appoints clerks needs level 3 for the same reason.
 */
export const clerkAcr = 'urn:elicence:loa:3';

/**
 * Clients that are part of the service rather than registered: the provider finds them in code, so a
 * fresh deployment signs people into the wallet and clerks into the console with nothing to register by
 * hand. Their secrets are derived like every other client's (`ClientSecrets`).
 *
 * The wallet is first-party (no consent page) and asks for `licences` (the holder API) and, when a person
 * signs in to act for an enterprise, `entity`. The issuer console is first-party too and asks for
 * `entity` (a clerk acts for the agency) and `licences:issue`, a scope no registered client may have for
 * people: the issuer API accepts it on a person's token only from this client, and only while the person
 * is an appointed clerk of an active issuer (shared/licence/issuer-actor.ts). Every sign-in reaches
 * {@link clerkAcr} (`min_acr`: a lower session is stepped up).
 */
export function builtInClient(
  clientId: string,
  issuerUrl: string,
): (ClientMetadata & { client_id: string }) | undefined {
  if (clientId === walletClientId) {
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
  if (clientId === consoleClientId) {
    const metadata = clientMetadata(
      consoleClientId,
      registerClientInput.parse({
        name: '发证机关控制台 · Issuer console',
        redirectUris: [`${issuerUrl}/console/callback`],
        postLogoutRedirectUris: [`${issuerUrl}/console?m=signed-out`],
        scopes: ['openid', 'entity'],
        firstParty: true,
        minAcr: clerkAcr,
      }),
    );
    // Not registrable (register-client.ts), so added here: the one client that asks it for people.
    return { ...metadata, scope: `${String(metadata.scope)} licences:issue` };
  }
  return undefined;
}
