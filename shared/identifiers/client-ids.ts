/**
 * The ids of the clients the service plays itself. They are fixed names, not secrets: the page functions
 * sign in through the provider as these clients, and their secrets derive from the web key.
 */

/** The wallet pages' client id: a platform of the service itself, present wherever the service runs. */
export const walletClientId = 'elicence-wallet';

/**
 * The issuer console's client id: counter clerks (经办人) sign in through the unified identity as this
 * first-party client, acting for their agency (docs/console.md).
 */
export const consoleClientId = 'elicence-console';

/** The demo platform's client id (registered by the local seed only). */
export const demoPlatformClientId = 'demo-platform';

/** Clients played by the service's own page functions: their secrets derive from the web key. */
export const pageClientIds: readonly string[] = [walletClientId, consoleClientId, demoPlatformClientId];

/**
 * The names of the service's own clients in both languages. A registered client's name is shown as it
 * was registered (its own words, in its own language); the service's own speak the page's language.
 */
export const ownClientNames: Readonly<Record<string, { readonly zh: string; readonly en: string }>> = {
  [walletClientId]: { zh: '电子证照钱包', en: 'E-licence wallet' },
  [consoleClientId]: { zh: '发证机关控制台', en: 'Issuer console' },
  [demoPlatformClientId]: { zh: '示范政务服务平台', en: 'Demo government platform' },
};

/**
 * The name a page shows for a client: the service's own in the page's language (`t`), any other as
 * registered, else its id.
 *
 * @example
 * ```ts
 * clientDisplayName('demo-platform', 'Demo government platform', t); // '示范政务服务平台' on a Chinese page
 * clientDisplayName('cl_8Hk2mQ0xV3', '交管业务平台', t); // '交管业务平台' on either
 * ```
 */
export function clientDisplayName(
  clientId: string,
  registeredName: string | undefined,
  t: (zh: string, en: string) => string,
): string {
  const own = Object.hasOwn(ownClientNames, clientId) ? ownClientNames[clientId] : undefined;
  return own ? t(own.zh, own.en) : (registeredName ?? clientId);
}
