/**
 * The ids of the clients the service plays itself. They are fixed names, not secrets: the page functions
 * sign in through the provider as these clients, and their secrets derive from the web key.
 */

/** The wallet pages' client id: a platform of the service itself, present wherever the service runs. */
export const walletClientId = 'elicence-wallet';

/** The demo platform's client id (registered by the local seed only). */
export const demoPlatformClientId = 'demo-platform';

/** Clients played by the service's own page functions: their secrets derive from the web key. */
export const pageClientIds: readonly string[] = [walletClientId, demoPlatformClientId];
